//! The ingest benchmark (issue 2 item 9). One run prints:
//! - durable acknowledged entries/s through HTTP, 64 concurrent connections,
//!   against the real `meent serve` (a separate process) on this machine;
//! - raw `verify_strict`/s on all cores of the same machine;
//! - their ratio;
//! - `meent verify --data` records/s on a ledger of 100 000 records.
//!
//! Run: `cargo bench -p cli --bench ingest` (env: MEENT_BENCH_ENTRIES, MEENT_BENCH_CONNECTIONS,
//! MEENT_BENCH_RUNS). Medians of the runs are printed; the machine is shared and noisy.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use ledger::entry::{self, sign_entry, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::time::Timestamp;
use rayon::prelude::*;
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn meent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meent"))
}

struct Server(Child, String);

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let mut child = meent()
            .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start meent serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("url").to_string();
        Server(child, url)
    }
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

/// `n` member applications, each from a fresh key, signed now (in parallel).
fn applications(n: usize, tag: &str) -> Vec<VerifiedEntry> {
    let at = Timestamp::from_instant(chrono::Utc::now());
    (0..n)
        .into_par_iter()
        .map(|i| {
            let id = format!("bench-{tag}-{i}");
            let key = SigningKey::from_bytes(&rand::random());
            let author: Author = id.parse().unwrap();
            sign_entry(Kind::MemberApply, &author, &key, &at, json!({"id": id, "name": "Bench Collective", "member_kind": "collective", "legal_form": "informal"})).unwrap()
        })
        .collect()
}

/// Submit all `bodies` with `connections` concurrent clients; entries/s of 201s.
fn ingest(url: &str, bodies: Vec<Vec<u8>>, connections: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let n = bodies.len();
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    rt.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (client, bodies, next, created, url) = (client.clone(), bodies.clone(), next.clone(), created.clone(), url.to_string());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let r = client.post(format!("{url}/v1/entries")).header("content-type", "application/json").body(bodies[i].clone()).send().await.expect("POST");
                    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
                    created.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(created.load(Ordering::Relaxed), n);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Raw `verify_strict`/s over all cores.
fn raw_verify(entries: &[VerifiedEntry]) -> f64 {
    let items: Vec<(ed25519_dalek::VerifyingKey, Vec<u8>, ed25519_dalek::Signature)> = entries
        .iter()
        .map(|e| {
            let sb = entry::signing_bytes(&e.json).unwrap();
            let sig: ledger::crypto::SignatureHex = e.json["sig"].as_str().unwrap().parse().unwrap();
            (*e.key.verifying_key(), sb, sig.0)
        })
        .collect();
    let start = Instant::now();
    let ok = items.par_iter().filter(|(k, m, s)| k.verify_strict(m, s).is_ok()).count();
    assert_eq!(ok, items.len());
    items.len() as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let entries = env_usize("MEENT_BENCH_ENTRIES", 20_000);
    let connections = env_usize("MEENT_BENCH_CONNECTIONS", 64);
    let runs = env_usize("MEENT_BENCH_RUNS", 3);
    let verify_records = env_usize("MEENT_BENCH_VERIFY_RECORDS", 100_000);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("meent ingest benchmark: {entries} entries x {runs} runs, {connections} connections, {cores} cores");

    let tmp = tempfile::tempdir().unwrap();
    let reg = SigningKey::from_bytes(&[1u8; 32]);
    let reg_pk = hex::encode(reg.verifying_key().to_bytes());
    let data = tmp.path().join("data");
    let st = meent().args(["init", "--data", data.to_str().unwrap(), "--origin", "meent.bench/ingest", "--registrar", &format!("bench-registrar={reg_pk}")]).stdout(Stdio::null()).status().unwrap();
    assert!(st.success());

    let mut ingest_rates = Vec::new();
    let mut verify_rates = Vec::new();
    let server = Server::start(&data);
    for run in 0..runs {
        let batch = applications(entries, &format!("r{run}"));
        verify_rates.push(raw_verify(&batch));
        let bodies: Vec<Vec<u8>> = batch.iter().map(|e| serde_json::to_vec(&e.json).unwrap()).collect();
        let rate = ingest(&server.1, bodies, connections);
        println!("  run {run}: ingest {rate:.0} entries/s (durable, 201), raw verify_strict {:.0}/s", verify_rates[run]);
        ingest_rates.push(rate);
    }
    // Fill up to the audit size through the same server.
    let have = 1 + runs * entries;
    if verify_records > have {
        let fill = applications(verify_records - have, "fill");
        let bodies: Vec<Vec<u8>> = fill.iter().map(|e| serde_json::to_vec(&e.json).unwrap()).collect();
        ingest(&server.1, bodies, connections);
    }
    server.stop();

    let mut audit_rates = Vec::new();
    let mut audited = 0u64;
    for _ in 0..runs {
        let start = Instant::now();
        let out = meent().args(["verify", "--data", data.to_str().unwrap(), "--json"]).output().unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        audited = v["size"].as_u64().unwrap();
        audit_rates.push(audited as f64 / secs);
    }
    let ingest_m = median(ingest_rates);
    let verify_m = median(verify_rates);
    let audit_m = median(audit_rates);
    println!();
    println!("ingest (durable, acknowledged, HTTP, {connections} connections): {ingest_m:.0} entries/s (median of {runs})");
    println!("raw verify_strict on {cores} cores:                           {verify_m:.0} signatures/s (median of {runs})");
    println!("ratio ingest / raw verify:                                  {:.2}", ingest_m / verify_m);
    println!("meent verify --data on {audited} records:                    {audit_m:.0} records/s (median of {runs})");
}
