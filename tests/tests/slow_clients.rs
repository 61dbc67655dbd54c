//! Nobody can take the server down by holding connections open or by sending
//! much that is refused: the real server, thousands of silent and slow
//! connections, and the rate limits (issue 20; `api::net`, `api::rate_limit`).
//!
//! The tests of this file run one at a time (they measure latency and open
//! thousands of sockets).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ledger::entry::{Kind, VerifiedEntry};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh ledger in `dir`.
fn init(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    meent_ok(&["init", "--data", data.to_str().unwrap(), "--origin", "meent.test/slow-clients"]);
    data
}

/// `meent serve --data DATA --listen 127.0.0.1:0 EXTRA…`, once it listens.
fn start(data: &Path, extra: &[&str]) -> Server {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(meent_bin())
        .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn meent serve");
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read the server's first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("meent serve {extra:?} did not start: {line:?}"))
        .to_string();
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    Server { child, url, data: data.to_path_buf() }
}

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_string()
}

/// Read one HTTP/1.1 response (with a `content-length`) from `s`: its status
/// and body.
fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().expect("a content-length"))
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head[9..12].parse().expect("a status");
                return (status, String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
            }
        }
        let n = s.read(&mut chunk).expect("read a response");
        assert!(n > 0, "the connection closed before a whole response: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `GET /healthz` on a new connection: how long until the whole answer was in.
fn healthz(addr: &str) -> Duration {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect for /healthz");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let (status, body) = read_response(&mut s);
    assert_eq!(status, 200, "{body}");
    t.elapsed()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slow {
    /// Connects and sends nothing.
    Silent,
    /// Sends a request head one byte at a time, never ending it.
    Header,
    /// Sends a whole head, then a chunked body one chunk at a time, never ending it.
    Body,
    /// Made one request on a kept-alive connection and sends nothing since.
    Idle,
}

/// What a non-blocking look at a client socket shows.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Open,
    /// The server sent this and closed.
    Closed(Vec<u8>),
}

/// Read what is there without blocking; `Open` while the server keeps the
/// connection open and silent.
fn look(s: &TcpStream, got: &mut Vec<u8>) -> Seen {
    let mut chunk = [0u8; 1024];
    loop {
        match (&*s).read(&mut chunk) {
            Ok(0) => return Seen::Closed(std::mem::take(got)),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Seen::Open,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Seen::Closed(std::mem::take(got)),
        }
    }
}

/// A connection that starts being slow in the way `kind` says.
fn open_slow(addr: &str, kind: Slow) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    match kind {
        Slow::Header => s.write_all(b"G")?,
        Slow::Body => s.write_all(
            format!(
                "POST /v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"
            )
            .as_bytes(),
        )?,
        _ => {}
    }
    s.set_nonblocking(true)?;
    Ok(s)
}

const SLOW_CONNECTIONS: usize = 5000;
const HEADER_TIMEOUT_MS: u64 = 8000;
const BODY_TIMEOUT_MS: u64 = 8000;

#[test]
fn five_thousand_slow_connections_leave_healthz_answering_and_are_closed_after_their_timeouts() {
    let _one = one_at_a_time();
    let files = cli::cmd::serve::raise_open_files_limit().expect("the open-file limit");
    assert!(
        files >= SLOW_CONNECTIONS as u64 + 500,
        "this test holds {SLOW_CONNECTIONS} connections but may open only {files} files (raise the hard limit)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let header_ms = HEADER_TIMEOUT_MS.to_string();
    let body_ms = BODY_TIMEOUT_MS.to_string();
    let server = start(&data, &["--header-timeout-ms", &header_ms, "--body-timeout-ms", &body_ms]);
    let addr = addr(&server);

    // A few kept-alive connections that made one request and went quiet.
    let mut conns: Vec<(Slow, Instant, TcpStream)> = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
        assert_eq!(read_response(&mut s).0, 200);
        s.set_nonblocking(true).unwrap();
        conns.push((Slow::Idle, Instant::now(), s));
    }
    let opening = Instant::now();
    let slow = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for t in 0..8 {
            let (addr, slow) = (&addr, &slow);
            sc.spawn(move || {
                for i in (t..SLOW_CONNECTIONS).step_by(8) {
                    let kind = [Slow::Silent, Slow::Header, Slow::Body][i % 3];
                    let s = open_slow(addr, kind).unwrap_or_else(|e| panic!("connection {i}: {e}"));
                    slow.lock().unwrap().push((kind, Instant::now(), s));
                }
            });
        }
    });
    conns.extend(slow.into_inner().unwrap());
    let opened = opening.elapsed();
    assert!(
        opened < Duration::from_millis(HEADER_TIMEOUT_MS / 2),
        "opening {SLOW_CONNECTIONS} connections took {opened:?}: too slow to tell the timeouts apart"
    );
    let conns = Arc::new(conns);

    // Trickle: one more header byte, one more body chunk (a space) every 200 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (conns, stop) = (conns.clone(), stop.clone());
        std::thread::spawn(move || {
            let header = b"ET / HTTP/1.1\r\nX-Slow: ";
            let mut tick = 0usize;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                for (kind, _, s) in conns.iter() {
                    let _ = match kind {
                        Slow::Header => (&*s).write(&[*header.get(tick).unwrap_or(&b'a')]),
                        Slow::Body => (&*s).write(b"1\r\n \r\n"),
                        _ => Ok(0),
                    };
                }
                tick += 1;
            }
        })
    };

    // While all of them are held, /healthz answers at once.
    let mut got: Vec<Vec<u8>> = vec![Vec::new(); conns.len()];
    for (i, (kind, _, s)) in conns.iter().enumerate() {
        assert_eq!(look(s, &mut got[i]), Seen::Open, "a {kind:?} connection was closed early");
    }
    let mut waits: Vec<Duration> = (0..20)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            healthz(&addr)
        })
        .collect();
    waits.sort();
    let held = conns.iter().enumerate().filter(|(i, (_, _, s))| look(s, &mut got[*i]) == Seen::Open).count();
    assert_eq!(held, conns.len(), "every slow connection is still open while /healthz is asked");
    eprintln!(
        "{SLOW_CONNECTIONS} slow connections opened in {opened:?}; /healthz in {:?} (median) to {:?} (slowest of 20)",
        waits[10], waits[19]
    );
    assert!(waits[10] < Duration::from_millis(100), "/healthz took {waits:?}");
    assert!(waits[19] < Duration::from_millis(1000), "/healthz took {waits:?}");

    // Then the server closes each after its timeout: silent, slow-header and
    // idle ones after the header timeout, slow bodies after the body timeout
    // with a 408.
    let deadline =
        Instant::now() + Duration::from_millis(HEADER_TIMEOUT_MS.max(BODY_TIMEOUT_MS)) + Duration::from_secs(20);
    let mut closed: Vec<Option<(Duration, Vec<u8>)>> = vec![None; conns.len()];
    while closed.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, (_, since, s)) in conns.iter().enumerate() {
            if closed[i].is_none() {
                if let Seen::Closed(bytes) = look(s, &mut got[i]) {
                    closed[i] = Some((since.elapsed(), bytes));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    feeder.join().unwrap();
    for (i, (kind, _, _)) in conns.iter().enumerate() {
        let (after, bytes) = closed[i].clone().unwrap_or_else(|| panic!("a {kind:?} connection was never closed"));
        let timeout = Duration::from_millis(if *kind == Slow::Body { BODY_TIMEOUT_MS } else { HEADER_TIMEOUT_MS });
        assert!(after >= timeout - Duration::from_millis(100), "a {kind:?} connection closed after {after:?}");
        if *kind == Slow::Body {
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.starts_with("HTTP/1.1 408"), "a slow body is answered 408: {text:?}");
            assert!(text.contains(r#""code":"request_timeout""#), "{text}");
        }
    }
    // And the server is as it was.
    assert!(healthz(&addr) < Duration::from_secs(1));
}

#[test]
fn connections_over_the_cap_are_answered_503_and_closed_and_accept_goes_on() {
    let _one = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let server = start(&data, &["--connections-max", "50"]);
    let addr = addr(&server);
    let mut held: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        let mut s = TcpStream::connect(&addr).expect("accept never fails");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 503"), "{text:?}");
        let body: Value = serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        assert_eq!(body["error"]["detail"]["reason"], "connections", "{body}");
    }
    held.truncate(40);
    std::thread::sleep(Duration::from_millis(300));
    assert!(healthz(&addr) < Duration::from_secs(1));
}

#[test]
fn a_client_that_reads_no_response_is_closed_after_the_write_timeout() {
    let _one = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let server = start(&data, &["--write-timeout-ms", "1000"]);
    let addr = addr(&server);
    // 1000 pipelined requests for a 15 KB document: more than the socket
    // buffers hold, so the server's writes wait on this client, which reads
    // nothing for a while.
    let n = 1000;
    let mut s = TcpStream::connect(&addr).unwrap();
    let req = format!("GET /openapi.json HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    s.write_all(req.repeat(n).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(4000));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut all = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let ended = loop {
        match s.read(&mut chunk) {
            Ok(0) => break "closed",
            Ok(k) => all.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => break "still open",
            Err(_) => break "reset",
        }
    };
    let answered = all.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    assert_ne!(ended, "still open", "the server kept waiting on a client that read nothing");
    assert!(answered < n, "all {n} answered: the server never gave up ({ended})");
    assert!(healthz(&addr) < Duration::from_secs(1));
}

/// `n` member applications with fresh keys and ids.
fn applications(n: usize, tag: &str) -> Vec<VerifiedEntry> {
    (0..n)
        .map(|i| {
            let id = format!("kollektief-{tag}-{i}");
            let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
            sign(Kind::MemberApply, &id, &key, apply_body(&id, "Workshop Collective", "collective"))
        })
        .collect()
}

/// A client whose requests come as through a reverse proxy on the server's
/// host for a client at `address` (the server only sees loopback peers here;
/// a loopback peer spends the budget of the address its proxy names last in
/// `X-Forwarded-For`, and none without one).
fn behind_proxy(address: &str) -> reqwest::blocking::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", format!("203.0.113.250, {address}").parse().unwrap());
    reqwest::blocking::Client::builder().default_headers(headers).build().unwrap()
}

/// POST every entry (eight at a time); their statuses in order.
fn post_all(http: &reqwest::blocking::Client, url: &str, entries: &[VerifiedEntry]) -> Vec<u16> {
    let statuses = Mutex::new(vec![0u16; entries.len()]);
    std::thread::scope(|sc| {
        for t in 0..8 {
            let statuses = &statuses;
            sc.spawn(move || {
                for i in (t..entries.len()).step_by(8) {
                    let st = post(http, url, &entries[i]).0;
                    statuses.lock().unwrap()[i] = st;
                }
            });
        }
    });
    statuses.into_inner().unwrap()
}

/// A 429 with the error body and a `Retry-After` that agrees with it.
fn assert_rate_limited(r: reqwest::blocking::Response, limit: &str) {
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1);
    let body: Value = r.json().expect("a JSON error body");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(body["error"]["detail"]["limit"], limit, "{body}");
    assert_eq!(body["error"]["detail"]["retry_after_seconds"], retry, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("try again"), "{body}");
}

#[test]
fn refused_requests_past_the_budget_are_answered_429_unless_rate_limits_are_off() {
    let _one = one_at_a_time();
    let burst = ledger::limits::REFUSED_PER_ADDRESS_BURST as usize;
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let http = behind_proxy("198.51.100.7");
    {
        let mut server = start(&data, &[]);
        for i in 0..burst {
            assert_eq!(get(&http, &server.url, &format!("/v1/members/nobody-{i}")).0, 404, "refusal {i}");
        }
        let over = http.get(format!("{}/v1/members/nobody-else", server.url)).send().unwrap();
        assert_rate_limited(over, "refused_requests");
        // Every request from this address waits now, but /healthz.
        assert_rate_limited(http.get(format!("{}/v1/members", server.url)).send().unwrap(), "refused_requests");
        assert_eq!(get(&http, &server.url, "/healthz").0, 200);
        // Other addresses have their own budget; the host's own tools spend none.
        assert_eq!(get(&behind_proxy("198.51.100.8"), &server.url, "/v1/members/nobody").0, 404);
        let local = reqwest::blocking::Client::new();
        for i in 0..burst + 10 {
            assert_eq!(get(&local, &server.url, &format!("/v1/members/local-{i}")).0, 404, "local refusal {i}");
        }
        server.stop();
    }
    let server = start(&data, &["--rate-limit", "off"]);
    for i in 0..burst + 100 {
        assert_eq!(get(&http, &server.url, &format!("/v1/members/nobody-{i}")).0, 404, "refusal {i}");
    }
}

#[test]
fn member_apply_past_the_budget_is_answered_429_and_not_written_unless_rate_limits_are_off() {
    let _one = one_at_a_time();
    let burst = ledger::limits::APPLY_PER_ADDRESS_BURST as usize;
    let tmp = tempfile::tempdir().unwrap();
    let data = init(tmp.path());
    let http = behind_proxy("2001:db8:7:7::1");
    let size = |url: &str| get(&http, url, "/healthz").1["tree_size"].as_u64().unwrap();
    {
        let mut server = start(&data, &[]);
        // A workshop of fifty collectives, and many more.
        let statuses = post_all(&http, &server.url, &applications(burst, "a"));
        assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
        let before = size(&server.url);
        // The same /64 is the same budget.
        let more = &applications(1, "b")[0];
        let r = behind_proxy("2001:db8:7:7::2")
            .post(format!("{}/v1/entries", server.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&more.json).unwrap())
            .send()
            .unwrap();
        assert_rate_limited(r, "member.apply");
        assert_eq!(size(&server.url), before, "the refused application is not in the log");
        assert_eq!(get(&http, &server.url, "/v1/members/kollektief-b-0").0, 404);
        server.stop();
    }
    let server = start(&data, &["--rate-limit", "off"]);
    let statuses = post_all(&http, &server.url, &applications(burst + 50, "c"));
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}
