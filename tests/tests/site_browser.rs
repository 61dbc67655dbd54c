//! The public site in a real headless Chromium (issue 17, "Done when"): the
//! demo server behind a test-only proxy, driven by `tests/browser/check.mjs`
//! (Playwright's `playwright-core` on the distribution's `/usr/bin/chromium`,
//! and axe-core). The script visits the site's pages in Dutch and English and
//! checks that each renders, that the verification badge turns green, that
//! axe-core finds no serious or critical violation, and that at 390 px the page
//! does not scroll sideways; then it makes the proxy flip one byte in proof,
//! record and checkpoint answers and checks that the badge turns red, naming
//! what failed.
//!
//! Needs `node`, `/usr/bin/chromium` (Debian `chromium`) and
//! `tests/browser/node_modules` (`npm ci --prefix tests/browser`); `.ci/run`
//! installs all three. Without them the test fails and says what is missing.
//! `MEENT_WRITE_SCREENSHOTS=1` writes the fund page's screenshots to
//! `docs/img/` (otherwise to a temporary directory).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The Content-Security-Policy of the site's pages.
const PAGES_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// SIGKILL to the process group `pgid` by the system call itself (never procps
/// `kill`, which reads `-1234` as `-1`).
fn kill_group(pgid: u32) {
    match i32::try_from(pgid) {
        Ok(pgid) if pgid > 1 => {
            // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        _ => {}
    }
}

/// Kills a process group when dropped.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// A process leading its own group: the group is killed, and the process
/// reaped, when dropped.
struct Leader(std::process::Child);

impl Drop for Leader {
    fn drop(&mut self) {
        kill_group(self.0.id());
        let _ = self.0.wait();
    }
}

/// `meent serve --demo` on a free port, in its own process group; its URL.
fn start_demo() -> (Leader, String) {
    let mut demo = Command::new(common::meent_bin());
    demo.args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut demo, 0);
    let mut child = demo.spawn().expect("meent serve --demo");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let demo = Leader(child);
    let mut banner = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("read") > 0, "the demo stopped:\n{banner}");
        if line.starts_with("meent serving") {
            break line.split_whitespace().find(|w| w.starts_with("http://")).expect("url").to_string();
        }
        banner.push_str(&line);
    };
    // Keep reading its output so that the demo never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (demo, url.trim_end_matches('/').to_string())
}

/// What the proxy does to the answers it passes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tamper {
    /// Nothing.
    None,
    /// One hex digit of the first hash of every inclusion proof.
    Proof,
    /// One hex digit of the `nonce` of every record but genesis (signed bytes).
    RecordSigned,
    /// One digit of the `received_at` of every record but genesis (leaf bytes only).
    RecordTime,
    /// One character of the checkpoint's root hash line.
    Checkpoint,
    /// One hex digit of the first hash of every consistency proof.
    Consistency,
    /// One character of the signature in the checkpoint's last cosignature line.
    Cosignature,
}

impl Tamper {
    fn parse(s: &str) -> Option<Tamper> {
        Some(match s {
            "none" => Tamper::None,
            "proof" => Tamper::Proof,
            "record-signed" => Tamper::RecordSigned,
            "record-time" => Tamper::RecordTime,
            "checkpoint" => Tamper::Checkpoint,
            "consistency" => Tamper::Consistency,
            "cosignature" => Tamper::Cosignature,
            _ => return None,
        })
    }
}

/// The test-only proxy: every request goes to the demo server, and the answer
/// comes back with one byte flipped as [`Tamper`] says. `GET /__proxy/tamper?m=…`
/// sets the mode; `/{nl,en}/__fixture` is a small page of the site's contract
/// (used when the server has no site pages); `/site/verify.js` is served from
/// the checkout when the server does not serve it.
struct Proxy {
    upstream: SocketAddr,
    mode: Mutex<Tamper>,
    fixture: Mutex<Option<(String, String)>>,
}

fn start_proxy(upstream: &str) -> (Arc<Proxy>, String) {
    let addr: SocketAddr = upstream.trim_start_matches("http://").parse().expect("demo address");
    let proxy = Arc::new(Proxy { upstream: addr, mode: Mutex::new(Tamper::None), fixture: Mutex::new(None) });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let p = proxy.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let p = p.clone();
            std::thread::spawn(move || {
                let _ = p.serve(conn);
            });
        }
    });
    (proxy, url)
}

/// One HTTP/1.x request head and body as read from a stream.
fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(None);
        }
        buf.push(byte[0]);
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
        .transpose()
        .ok()
        .flatten()
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

fn split_response(raw: &[u8]) -> (String, Vec<u8>) {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
    (String::from_utf8_lossy(&raw[..at]).to_string(), raw[at.min(raw.len())..].to_vec())
}

/// Flips the hex digit (or digit) at `at`: `0`↔`1`, any other to `0`.
fn flip(body: &mut [u8], at: usize) {
    body[at] = if body[at] == b'0' { b'1' } else { b'0' };
}

fn flip_after(body: &mut [u8], marker: &[u8], skip: usize) -> bool {
    match body.windows(marker.len()).position(|w| w == marker) {
        Some(i) if i + marker.len() + skip < body.len() => {
            flip(body, i + marker.len() + skip);
            true
        }
        _ => false,
    }
}

impl Proxy {
    fn serve(&self, mut conn: TcpStream) -> std::io::Result<()> {
        conn.set_read_timeout(Some(Duration::from_secs(30)))?;
        let Some((head, body)) = read_request(&mut conn)? else { return Ok(()) };
        let first = head.lines().next().unwrap_or_default().to_string();
        let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
        let path = target.split('?').next().unwrap_or("/").to_string();
        if let Some(q) = target.strip_prefix("/__proxy/tamper?m=") {
            let Some(m) = Tamper::parse(q) else {
                return reply(&mut conn, "400 Bad Request", "text/plain", b"mode", false);
            };
            *self.mode.lock().expect("mode") = m;
            return reply(&mut conn, "200 OK", "text/plain", b"ok", false);
        }
        if path == "/nl/__fixture" || path == "/en/__fixture" {
            let page = self.fixture.lock().expect("fixture").clone();
            let Some((nl, en)) = page else { return reply(&mut conn, "404 Not Found", "text/plain", b"", false) };
            let html = if path.starts_with("/nl") { nl } else { en };
            return reply(&mut conn, "200 OK", "text/html; charset=utf-8", html.as_bytes(), true);
        }
        let raw = self.forward(&head, &body)?;
        let (rhead, mut rbody) = split_response(&raw);
        let status_404 = rhead.starts_with("HTTP/1.0 404") || rhead.starts_with("HTTP/1.1 404");
        if path == "/site/verify.js" && status_404 {
            let js = std::fs::read(repo().join("site/assets/verify.js"))?;
            return reply(&mut conn, "200 OK", "text/javascript", &js, false);
        }
        let mode = *self.mode.lock().expect("mode");
        let record = path.strip_prefix("/v1/entries/").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n > 0));
        match mode {
            Tamper::Proof if path == "/v1/proofs/inclusion" => {
                flip_after(&mut rbody, b"\"proof\":[\"", 5);
            }
            Tamper::Consistency if path == "/v1/proofs/consistency" => {
                flip_after(&mut rbody, b"\"proof\":[\"", 5);
            }
            Tamper::RecordSigned if record => {
                flip_after(&mut rbody, b"\"nonce\":\"", 3);
            }
            Tamper::RecordTime if record => {
                // "received_at":"2026-12-06T21:…": the minute's last digit.
                flip_after(&mut rbody, b"\"received_at\":\"", 15);
            }
            Tamper::Checkpoint if path == "/v1/checkpoint" => {
                // The root line: after the second line feed.
                if let Some(i) = rbody.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).map(|(i, _)| i) {
                    let c = &mut rbody[i + 3];
                    *c = if *c == b'A' { b'B' } else { b'A' };
                }
            }
            Tamper::Cosignature if path == "/v1/checkpoint" => {
                // The last line is a witness's (they follow the operator's):
                // a base64 digit of its signature, 20 before the line's end.
                if let Some(at) = rbody.len().checked_sub(21) {
                    let c = &mut rbody[at];
                    *c = if *c == b'A' { b'B' } else { b'A' };
                }
            }
            _ => {}
        }
        // The head again, without its length and connection headers.
        let mut out = String::new();
        for (i, line) in rhead.trim_end().lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            if i > 0 && (lower.starts_with("content-length:") || lower.starts_with("connection:")) {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        // The pages' policy (api's CONTENT_SECURITY_POLICY) where the server
        // does not send one yet, so verify.js is always tested under it.
        let lower = rhead.to_ascii_lowercase();
        if lower.contains("content-type: text/html") && !lower.contains("content-security-policy:") {
            out.push_str(&format!("content-security-policy: {PAGES_CSP}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", rbody.len()));
        conn.write_all(out.as_bytes())?;
        conn.write_all(&rbody)
    }

    /// The request as HTTP/1.0 to the demo (no chunked answer, closed at its end).
    fn forward(&self, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut up = TcpStream::connect(self.upstream)?;
        up.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut out = String::new();
        for (i, line) in head.trim_end().lines().enumerate() {
            if i == 0 {
                let mut parts = line.split_whitespace();
                let (m, t) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
                out.push_str(&format!("{m} {t} HTTP/1.0\r\n"));
                continue;
            }
            let lower = line.to_ascii_lowercase();
            // No compressed answers: the proxy flips bytes of the plain body.
            if lower.starts_with("connection:")
                || lower.starts_with("accept-encoding:")
                || lower.starts_with("keep-alive:")
            {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        up.write_all(out.as_bytes())?;
        up.write_all(body)?;
        let mut raw = Vec::new();
        up.read_to_end(&mut raw)?;
        Ok(raw)
    }
}

fn reply(conn: &mut TcpStream, status: &str, ctype: &str, body: &[u8], page: bool) -> std::io::Result<()> {
    let csp = if page { format!("content-security-policy: {PAGES_CSP}\r\n") } else { String::new() };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\n{csp}content-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)
}

/// GET a JSON document from the demo.
fn get_json(http: &reqwest::blocking::Client, url: &str) -> serde_json::Value {
    let res = http.get(url).send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(res.status().is_success(), "GET {url}: {}", res.status());
    res.json().unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The fixture page (tests/browser/fixture.html) in both languages, showing
/// records 1 to 6 of the demo's log.
fn fixture(http: &reqwest::blocking::Client, demo: &str) -> (String, String) {
    let template = std::fs::read_to_string(repo().join("tests/browser/fixture.html")).expect("fixture.html");
    let genesis = get_json(http, &format!("{demo}/v1/entries/0"));
    let origin = genesis["entry"]["body"]["origin"].as_str().expect("origin").to_string();
    let mut page = template.replace("{{origin}}", &origin);
    for seq in 1..=6 {
        let rec = get_json(http, &format!("{demo}/v1/entries/{seq}"));
        page = page.replace(&format!("{{{{id{seq}}}}}"), rec["id"].as_str().expect("id"));
    }
    (page.replace("{{lang}}", "nl"), page.replace("{{lang}}", "en"))
}

/// The root of the demo's log at `size`, from the records' leaf hashes (hex):
/// an earlier checkpoint, for the browser's consistency check.
fn root_at(http: &reqwest::blocking::Client, demo: &str, size: u64) -> String {
    let page = get_json(http, &format!("{demo}/v1/entries?from=0&limit={size}"));
    let mut tree = ledger::merkle::MemoryTree::new();
    for rec in page["entries"].as_array().expect("entries").iter().take(usize::try_from(size).expect("size")) {
        let h = hex::decode(rec["leaf_hash"].as_str().expect("leaf_hash")).expect("hex");
        tree.push(h.try_into().expect("32 bytes"));
    }
    assert_eq!(tree.size(), size, "the demo has fewer than {size} records");
    hex::encode(tree.root())
}

/// Whether `meent serve` serves the site's pages: the server's crates depend on `site`.
fn serves_site() -> bool {
    ["api/Cargo.toml", "cli/Cargo.toml"].iter().any(|f| {
        std::fs::read_to_string(repo().join(f)).is_ok_and(|t| {
            t.lines().any(|l| l.trim_start().starts_with("site.workspace") || l.trim_start().starts_with("site ="))
        })
    })
}

/// `tests/browser/node_modules`, or `None` (with a NOTICE) where the browser tools
/// are not installed and this is not CI: `cargo test` on a fresh machine still
/// passes, while CI (`CI=true`, `.ci/run` installs them) must run these tests.
fn node_modules() -> Option<PathBuf> {
    let dir = repo().join("tests/browser/node_modules");
    let missing = if !(dir.join("playwright-core").is_dir() && dir.join("axe-core").is_dir()) {
        Some(
            "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` (.ci/run does) — \
             the site's browser tests need playwright-core and axe-core"
                .to_string(),
        )
    } else if !Path::new(CHROMIUM).exists() {
        Some(format!("{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; .ci/run does)"))
    } else {
        None
    };
    match missing {
        None => Some(dir),
        Some(why) if std::env::var_os("CI").is_some() => panic!("{why}"),
        Some(why) => {
            eprintln!("NOTICE: the browser test is skipped: {why}");
            None
        }
    }
}

#[test]
fn the_site_checks_itself_in_a_real_chromium() {
    let Some(_) = node_modules() else { return };
    let (_demo_group, demo) = start_demo();
    let (proxy, url) = start_proxy(&demo);
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    *proxy.fixture.lock().expect("fixture") = Some(fixture(&http, &demo));
    // The demo's two witnesses cosign its last checkpoint within seconds: the
    // badge names them, and a changed cosignature turns it red.
    let cosigned = |http: &reqwest::blocking::Client| {
        let note = http.get(format!("{demo}/v1/checkpoint")).send().and_then(|r| r.text()).unwrap_or_default();
        note.lines().filter(|l| l.starts_with('\u{2014}')).count() >= 3
    };
    let since = std::time::Instant::now();
    while !cosigned(&http) {
        assert!(since.elapsed() < Duration::from_secs(60), "the demo's witnesses never cosigned its checkpoint");
        std::thread::sleep(Duration::from_millis(200));
    }
    let size =
        get_json(&http, &format!("{demo}/v1/entries?from=0&limit=1000"))["entries"].as_array().expect("entries").len()
            as u64;
    let old_size = size.saturating_sub(5).max(3);
    let shots = match std::env::var("MEENT_WRITE_SCREENSHOTS").as_deref() {
        Ok("1") => repo().join("docs/img"),
        _ => std::env::temp_dir().join(format!("meent-site-shots-{}", std::process::id())),
    };
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    // Once the server serves the site (a crate of the server's depends on
    // `site`), its pages are crawled from `/`; before, the fixture page stands in.
    let (pages, shapes) = if serves_site() {
        let shapes = ["/L", "/L/log", "/L/funds/*", "/L/proposals/*", "/L/rounds/*", "/L/members/*", "/L/entries/*"];
        (serde_json::json!("crawl"), serde_json::json!(shapes))
    } else {
        (serde_json::json!(["/nl/__fixture", "/en/__fixture"]), serde_json::json!(["/L/__fixture"]))
    };
    let config = serde_json::json!({
        "base": url,
        "pages": pages,
        // The page shapes the crawl must reach, each in Dutch and English.
        "shapes": shapes,
        "chromium": CHROMIUM,
        "shots": shots,
        "old": { "size": old_size, "root_hex": root_at(&http, &demo, old_size) },
        // A power of two takes the other branch of RFC 9162 §2.1.4.2.
        "old_pow2": { "size": 32, "root_hex": root_at(&http, &demo, 32) },
    });
    let mut node = Command::new("node");
    node.arg(repo().join("tests/browser/check.mjs"))
        .arg(config.to_string())
        .current_dir(repo().join("tests/browser"))
        .stdin(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut node, 0);
    let child = node.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("node (is Node.js installed?)");
    let group = Group(child.id());
    let out = child.wait_with_output().expect("node");
    drop(group);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "the browser checks failed ({:?}):\n{stdout}\n{stderr}", out.status);
}

/// The vectors `tests/browser/unit.mjs` checks verify.js against, from the
/// ledger's own Merkle tree and canonicaliser.
fn unit_vectors() -> serde_json::Value {
    use ledger::merkle::{consistency_proof, inclusion_proof, leaf_hash, root, MemoryTree};
    let leaves: Vec<_> = (0u8..17).map(|i| leaf_hash(&[i, b'x'])).collect();
    let mut tree = MemoryTree::new();
    for l in &leaves {
        tree.push(*l);
    }
    let hexes = |v: Vec<[u8; 32]>| v.iter().map(hex::encode).collect::<Vec<_>>();
    let (mut inclusion, mut consistency) = (Vec::new(), Vec::new());
    for n in 1..=17u64 {
        let root_n = hex::encode(root(&tree, n).expect("root"));
        for i in 0..n {
            let proof = hexes(inclusion_proof(&tree, i, n).expect("inclusion proof"));
            inclusion.push(serde_json::json!({ "i": i, "n": n, "proof": proof, "root": root_n }));
        }
        for m in 1..=n {
            let proof = hexes(consistency_proof(&tree, m, n).expect("consistency proof"));
            let root_m = hex::encode(root(&tree, m).expect("root"));
            consistency.push(serde_json::json!({ "m": m, "n": n, "proof": proof, "root_m": root_m, "root_n": root_n }));
        }
    }
    let awkward = [
        r#"{"b":1,"a":[true,false,null],"":"empty key"}"#,
        r#"{"s":"\u0000\u0001\u0008\u0009\u000a\u000b\u000c\u000d\u001f \u007f / \\ \" é € 𝄞"}"#,
        r#"{"\u00e9":1,"z":2,"\ud834\udd1e":3,"\uffff":4,"A":5,"a":6}"#,
        r#"{"n":[0,-1,9007199254740991,-9007199254740991,12345]}"#,
        r#"{"amount":"1234.56","nested":{"y":{"b":"x","a":"y"},"x":[]}}"#,
    ];
    let jcs: Vec<_> = awkward
        .iter()
        .map(|text| {
            let value: serde_json::Value = serde_json::from_str(text).expect("vector json");
            serde_json::json!({ "json": text, "canonical": ledger::jcs::to_string(&value).expect("jcs") })
        })
        .collect();
    let leaves = hexes(leaves);
    let cosignatures = cosignature_vectors();
    serde_json::json!({ "leaves": leaves, "inclusion": inclusion, "consistency": consistency, "jcs": jcs, "cosignatures": cosignatures })
}

/// A checkpoint signed by its log and cosigned by a witness (ledger::witness),
/// the witness's vkey, the same note with one byte of the cosignature changed,
/// and another witness's vkey under the same name.
fn cosignature_vectors() -> serde_json::Value {
    use ed25519_dalek::SigningKey;
    use ledger::witness::{cosign, NamedKey};
    let vkey = |k: &SigningKey| NamedKey { name: "Zonnecollectief".into(), key: k.verifying_key() }.witness_vkey();
    // The witness's key: the first whose vkey's base64 holds a "+" (as real ones may).
    let witness = (2u8..).map(|i| SigningKey::from_bytes(&[i; 32])).find(|k| vkey(k).matches('+').count() > 2);
    let (log_key, witness, other) =
        (SigningKey::from_bytes(&[1; 32]), witness.expect("a key"), SigningKey::from_bytes(&[0; 32]));
    let cp = ledger::checkpoint::Checkpoint { origin: "example.org/meent".into(), size: 17, root: [7; 32] };
    let note = cp.sign(&log_key);
    let line = cosign(&cp.body_text(), "Zonnecollectief", &witness, 1_796_000_000);
    // One base64 digit of the signature (bytes 12..76 of the blob) changed.
    let (prefix, blob) = line.trim_end().rsplit_once(' ').expect("a signature line");
    let mut digits: Vec<char> = blob.chars().collect();
    digits[40] = if digits[40] == 'A' { 'B' } else { 'A' };
    let bad = format!("{prefix} {}\n", digits.into_iter().collect::<String>());
    serde_json::json!({
        "name": "Zonnecollectief",
        "vkey": vkey(&witness),
        "other_vkey": vkey(&other),
        "note": format!("{note}{line}"),
        "bad_note": format!("{note}{bad}"),
    })
}

/// verify.js's proof checks and canonical JSON agree with the ledger's
/// (Node.js only, no browser): every proof of trees up to 17 leaves verifies,
/// and fails with any one byte changed.
#[test]
fn verify_js_agrees_with_the_ledger_on_proofs_and_jcs() {
    let Some(_) = node_modules() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let vectors = dir.path().join("vectors.json");
    std::fs::write(&vectors, unit_vectors().to_string()).expect("write vectors");
    let out = Command::new("node")
        .arg(repo().join("tests/browser/unit.mjs"))
        .arg(repo().join("site/assets/verify.js"))
        .arg(&vectors)
        .output()
        .expect("node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "verify.js disagrees with the ledger:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
