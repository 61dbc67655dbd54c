//! The README's tour is a test: every ```sh block of README.md runs, top to
//! bottom, as one bash script (`set -euo pipefail`) in a fresh directory, with
//! `meent` on the PATH being this build's binary and the server the tour starts
//! in the background. The README cannot drift from the binary again.
//!
//! The fresh directory holds only what the tour says it reads from a checkout
//! (`docs/tour/`, the pabulib file). The tour's port 8080 is replaced by a free
//! one so the test never meets another server.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The ```sh blocks of a Markdown text, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            Some(b) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```sh block in README.md");
    blocks
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn copy_into(dir: &Path, rel: &str) {
    let to = dir.join(rel);
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(repo().join(rel), &to).unwrap_or_else(|e| panic!("copy {rel}: {e}"));
}

/// SIGKILL to the process group `pgid` by the system call itself: procps-ng 4.0's
/// `kill -KILL -1234` reads `-1` as the target and kills every process there is.
fn kill_group(pgid: u32) {
    match i32::try_from(pgid) {
        Ok(pgid) if pgid > 1 => {
            // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        _ => {}
    }
}

/// Kills the script's whole process group (the background server too) when dropped.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 5, "the tour has {} sh blocks", blocks.len());
    let script = blocks.join("\n");
    for must in
        ["meent reconcile", "meent vote", "meent approve", "meent export --format hledger", "meent pb", "meent verify"]
    {
        assert!(script.contains(must), "the tour no longer shows {must:?}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    std::os::unix::fs::symlink(common::meent_bin(), bin.join("meent")).expect("symlink meent");
    let work = dir.path().join("tour");
    std::fs::create_dir(&work).expect("work dir");
    copy_into(&work, "docs/tour/2026-11.xml");
    copy_into(&work, "tests/data/pabulib/Netherlands_Assen_2024.pb");

    let port = free_port();
    let script = format!("set -euo pipefail\n{}", script.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env_remove("MEENT_SERVER")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().expect("bash");
    let _group = Group(child.id());
    let pgid = child.id();
    // A tour that hangs (a server that never listens) fails instead of blocking CI.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(300));
        kill_group(pgid);
    });
    let started = Instant::now();
    let out = child.wait_with_output().expect("run the tour");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let serve_log = std::fs::read_to_string(work.join("serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "the README tour failed ({:?}) after {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- serve.log\n{serve_log}",
        out.status.code(),
        started.elapsed()
    );
    // What the tour's comments promise.
    for (what, text) in [
        ("the typed amount echoed as signed", "amount: 150.00"),
        ("the pabulib outcome", "2 3 5 6 9 11 12 13 14"),
        ("an audit that passes", "ok: "),
        ("the payout waiting for gemeente-amsterdam", "may approve: gemeente-amsterdam"),
    ] {
        assert!(
            stdout.contains(text) || stderr.contains(text),
            "the tour did not show {what} ({text:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
}

#[test]
fn sh_blocks_are_found_in_order() {
    let md = "a\n```sh\none\n```\n```console\nnot\n```\n```sh\ntwo\nthree\n```\n";
    assert_eq!(sh_blocks(md), vec!["one\n".to_string(), "two\nthree\n".to_string()]);
}

/// The commands `meent serve --demo` prints run against it as printed, `ID`
/// being the id of the demo's open proposal (as `meent proposal list --open` shows it).
#[test]
fn the_demos_printed_commands_run() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    std::os::unix::fs::symlink(common::meent_bin(), bin.join("meent")).expect("symlink meent");
    let mut demo = Command::new(common::meent_bin());
    demo.args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut demo, 0);
    let mut child = demo.spawn().expect("meent serve --demo");
    let _group = Group(child.id());
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = Vec::new();
    let url = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("read") > 0, "the demo stopped:\n{}", banner.join(""));
        if line.starts_with("meent serving") {
            break line.split_whitespace().find(|w| w.starts_with("http://")).expect("url").to_string();
        }
        banner.push(line);
    };
    let commands: Vec<String> = banner
        .iter()
        // The commands are the indented lines (the first line is the banner).
        .filter_map(|l| l.strip_prefix("  meent "))
        .map(|c| format!("meent {}", c.split(" # ").next().unwrap_or(c).trim()))
        .collect();
    assert!(commands.len() >= 4, "the demo prints too few commands:\n{}", banner.join(""));
    for want in ["meent vote ", "meent payouts pending", "meent verify"] {
        assert!(commands.iter().any(|c| c.starts_with(want)), "the demo no longer prints {want:?}: {commands:?}");
    }
    let list =
        common::meent_ok(&["proposal", "list", "--open", "--fund", "warmtefonds-noord", "--json", "--server", &url]);
    let v: serde_json::Value = serde_json::from_str(&list).expect("json");
    let open = v["proposals"][0]["id"].as_str().expect("the demo has an open proposal").to_string();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for c in &commands {
        let c = c.replace(" ID ", &format!(" {} ", &open[..8]));
        let out = Command::new("bash").arg("-c").arg(&c).env("PATH", &path).output().expect("bash");
        assert!(
            out.status.success(),
            "the demo's printed command failed: {c}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}
