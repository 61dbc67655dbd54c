//! Shared helpers for the end-to-end tests: run the real `meent` binary, start the
//! real server on 127.0.0.1:0 with a temporary data directory, sign entries.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger::entry::{sign_entry, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::time::Timestamp;
use serde_json::Value;

/// The meent binary (same code as `meent`, built for this package).
pub fn meent_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_meent-e2e"))
}

/// A clock that runs ahead of the system clock by an offset the test moves
/// forward: every `meent-e2e` process started on this thread while it is in
/// use (`TestClock::install`) reads the offset from its file
/// (`MEENT_E2E_CLOCK_FILE`, see tests/src/main.rs), and so does [`sign`].
/// A seven-day vote then closes at once after `advance(7 days)`.
#[derive(Clone)]
pub struct TestClock {
    path: std::sync::Arc<tempfile::TempPath>,
}

thread_local! {
    static CLOCK: std::cell::RefCell<Option<TestClock>> = const { std::cell::RefCell::new(None) };
}

impl TestClock {
    /// A clock at offset 0, used by every command and server this thread starts from now on.
    pub fn install() -> TestClock {
        let file = tempfile::NamedTempFile::new().expect("clock file");
        std::fs::write(file.path(), "0").expect("write the clock file");
        let c = TestClock { path: std::sync::Arc::new(file.into_temp_path()) };
        CLOCK.with(|k| *k.borrow_mut() = Some(c.clone()));
        c
    }
    /// The clock this thread uses, if one was installed.
    pub fn current() -> Option<TestClock> {
        CLOCK.with(|k| k.borrow().clone())
    }
    /// Seconds ahead of the system clock.
    pub fn offset_seconds(&self) -> i64 {
        std::fs::read_to_string(&*self.path).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
    }
    /// Move time forward (written atomically: a reader never sees half a number).
    pub fn advance(&self, by: Duration) {
        let next = self.offset_seconds() + by.as_secs() as i64;
        let tmp = self.path.with_extension("next");
        std::fs::write(&tmp, next.to_string()).expect("write the clock file");
        std::fs::rename(&tmp, &*self.path).expect("replace the clock file");
    }
    /// Now, by this clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::seconds(self.offset_seconds())
    }
    /// The file the processes read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `meent-e2e` with this thread's clock, if one is installed.
pub fn meent_command() -> Command {
    let mut c = Command::new(meent_bin());
    if let Some(clock) = TestClock::current() {
        c.env("MEENT_E2E_CLOCK_FILE", clock.path());
    }
    c
}

/// Now, by this thread's clock (the system clock if none is installed).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    TestClock::current().map(|c| c.now()).unwrap_or_else(chrono::Utc::now)
}

/// Run `meent ARGS…` to completion.
pub fn meent(args: &[&str]) -> Output {
    meent_command().args(args).stdin(Stdio::null()).output().expect("run meent")
}

/// Run and require success; return stdout.
pub fn meent_ok(args: &[&str]) -> String {
    let out = meent(args);
    assert!(
        out.status.success(),
        "meent {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A key file made by `meent keygen`, and its public key.
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let p = dir.join(format!("{name}.pem"));
    let pk = meent_ok(&["keygen", "--out", p.to_str().unwrap()]).trim().to_string();
    (p, pk)
}

/// A running server.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub data: PathBuf,
}

impl Server {
    /// Start `meent serve --data DIR --listen 127.0.0.1:0` and wait until it listens.
    pub fn start(data: &Path) -> Server {
        Self::start_with(data, &[])
    }

    /// As [`Server::start`], with more `meent serve` options.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        let mut child = meent_command()
            .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn meent serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut line).expect("read the server's first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Server { child, url, data: data.to_path_buf() }
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill only sends a signal to our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Sign an entry dated now.
pub fn sign(kind: Kind, author: &str, key: &SigningKey, body: Value) -> VerifiedEntry {
    let author: Author = author.parse().expect("author id");
    sign_entry(kind, &author, key, &Timestamp::from_instant(now()), body).expect("sign entry")
}

/// A new ledger in `dir/data` whose one registrar is `registrar-een`, with
/// `origin`: its data directory and the registrar's signing key.
pub fn ledger_with_registrar(dir: &Path, origin: &str) -> (PathBuf, SigningKey) {
    let data = dir.join("data");
    let (reg_path, reg_pk) = keygen(dir, "registrar");
    let registrar = format!("registrar-een={reg_pk}");
    meent_ok(&["init", "--data", data.to_str().unwrap(), "--origin", origin, "--registrar", &registrar]);
    (data, load_key(&reg_path))
}

/// `meent serve --demo` on a free port, killed when dropped: `.1` its URL.
pub struct Demo(pub std::process::Child, pub String);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the demo and wait until it serves.
pub fn demo() -> Demo {
    let mut child = meent_command()
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start meent serve --demo");
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let url = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the demo stopped before serving");
        if line.starts_with("meent serving") {
            break line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
        }
    };
    Demo(child, url)
}

/// Read a key file written by `meent keygen`.
pub fn load_key(p: &Path) -> SigningKey {
    ledger::crypto::read_key_file(p).expect("key file")
}

/// POST raw bytes to /v1/entries; (status, JSON body).
pub fn post_raw(http: &reqwest::blocking::Client, url: &str, body: Vec<u8>) -> (u16, Value) {
    let r = http
        .post(format!("{url}/v1/entries"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .expect("POST");
    let status = r.status().as_u16();
    let v: Value = r.json().unwrap_or(Value::Null);
    (status, v)
}

/// POST an entry.
pub fn post(http: &reqwest::blocking::Client, url: &str, e: &VerifiedEntry) -> (u16, Value) {
    post_raw(http, url, serde_json::to_vec(&e.json).unwrap())
}

/// GET JSON; (status, body).
pub fn get(http: &reqwest::blocking::Client, url: &str, path: &str) -> (u16, Value) {
    let r = http.get(format!("{url}{path}")).send().expect("GET");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// A member.apply body.
pub fn apply_body(id: &str, name: &str, kind: &str) -> Value {
    serde_json::json!({"id": id, "name": name, "member_kind": kind, "legal_form": "stichting"})
}
