//! The floor under ingest: what the server spends on a request that never
//! reaches the writer. Run after a release build:
//!
//! ```sh
//! cargo build --release -p cli && cargo run --release -p cli --example http_floor
//! ```
//!
//! It starts `meent serve` (`MEENT`, default `target/release/meent`) on a fresh
//! ledger and sends `N` (default 40 000) requests, three times, through 64
//! keep-alive connections with the ingest benchmark's minimal client
//! (`benches/support/client.rs`), printing
//! requests/s and the server's CPU time per request for:
//! - `GET /healthz`: HTTP alone (hyper, axum, the loopback TCP stack);
//! - `POST /v1/entries` of a member application whose signature has one
//!   flipped bit in `S`: the whole parse and a full `verify_strict` (which
//!   then fails), answered 401 without the writer, the store or a flush.
//!
//! The difference to the ingest benchmark's server CPU per entry is what the
//! durable path (writer, flusher, storage, snapshots, wake-ups) costs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

#[path = "../benches/support/client.rs"]
mod client;
use client::{cpu_of, hammer};

/// A member application with one bit of its signature's `S` flipped: it
/// parses, and `verify_strict` runs to the end and refuses it.
fn refused_post(addr: &str) -> Vec<u8> {
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let at = ledger::time::Timestamp::from_instant(chrono::Utc::now());
    let author = "floor-x".parse().expect("a member id");
    let body = serde_json::json!({"id": "floor-x", "name": "Floor Collective", "member_kind": "collective", "legal_form": "informal"});
    let e = ledger::entry::sign_entry(ledger::entry::Kind::MemberApply, &author, &key, &at, body).expect("signs");
    let mut j = e.json.clone();
    let sig = j["sig"].as_str().expect("a signature").to_string();
    // Hex digit 70 is in S's low bytes: S stays canonical, the check fails.
    let flipped = if &sig[70..71] == "0" { "1" } else { "0" };
    j["sig"] = serde_json::Value::String(format!("{}{flipped}{}", &sig[..70], &sig[71..]));
    let b = serde_json::to_vec(&j).expect("serialises");
    let mut r = format!(
        "POST /v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        b.len()
    )
    .into_bytes();
    r.extend_from_slice(&b);
    r
}

fn main() {
    let meent = std::env::var("MEENT").unwrap_or_else(|_| "target/release/meent".into());
    let n: usize = std::env::var("N").ok().and_then(|s| s.parse().ok()).unwrap_or(40_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("ledger");
    let st = Command::new(&meent)
        .args(["init", "--data", data.to_str().expect("utf-8"), "--origin", "meent.bench/floor"])
        .stdout(Stdio::null())
        .status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "`{meent} init` failed (build with `cargo build --release -p cli`, or set MEENT)"
    );
    let mut child = Command::new(&meent)
        .args(["serve", "--data", data.to_str().expect("utf-8"), "--listen", "127.0.0.1:0", "--rate-limit", "off"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start meent serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the address line");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("an address").to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let cases: [(&str, Vec<u8>, u16); 2] = [
        ("GET /healthz", format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(), 200),
        ("POST refused (bad signature)", refused_post(&addr), 401),
    ];
    println!("meent HTTP floor: {n} requests x 3, 64 connections");
    for (name, req, want) in cases {
        let req = Arc::new(vec![req]);
        for round in 0..3 {
            let c0 = cpu_of(child.id());
            let rate = hammer(&addr, req.clone(), n, 64, want);
            let cpu = (cpu_of(child.id()) - c0) / n as f64 * 1e6;
            println!("  {name:<30} run {round}: {rate:>8.0} requests/s, server CPU {cpu:5.1} us/request");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
