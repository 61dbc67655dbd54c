//! Crash safety: several concurrent clients submit entries while the server is
//! killed with SIGKILL at random moments; after each restart every entry that
//! was acknowledged (201, or 200 for a resubmission) must be in the log at the
//! position it was given, and at the end `meent verify --data` must pass.
//!
//! CI runs 5 cycles. The soak mode runs more:
//! `MEENT_CRASH_CYCLES=300 cargo test --release -p meent-tests --test crash -- --nocapture`

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ledger::entry::Kind;
use rand::Rng;

const CLIENTS: usize = 6;

#[test]
fn acknowledged_entries_survive_sigkill() {
    let cycles: usize = std::env::var("MEENT_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/crash",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);

    // id → seq, for every entry the server acknowledged.
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut rng = rand::thread_rng();
    let started = Instant::now();
    let mut refused_after_kill = 0usize;
    for cycle in 0..cycles {
        let mut server = Server::start(&data);
        // Everything acknowledged before must be there, where it was.
        check_all_present(&server.url, &acked.lock().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for client in 0..CLIENTS {
            let url = server.url.clone();
            let acked = acked.clone();
            let stop = stop.clone();
            handles.push(std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                let mut n = 0usize;
                let mut failures = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("c{cycle}-k{client}-n{n}");
                    n += 1;
                    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
                    let e = sign(Kind::MemberApply, &id, &key, apply_body(&id, "Crash Test Collective", "collective"));
                    let body = serde_json::to_vec(&e.json).unwrap();
                    match http.post(format!("{url}/v1/entries")).body(body).send() {
                        Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 200 => {
                            let v: serde_json::Value = match r.json() {
                                Ok(v) => v,
                                Err(_) => continue, // killed while sending the body: not acknowledged
                            };
                            assert_eq!(v["id"].as_str().unwrap(), e.id.to_hex());
                            acked.lock().unwrap().insert(e.id.to_hex(), v["seq"].as_u64().unwrap());
                        }
                        Ok(r) => panic!("unexpected status {} for a valid entry", r.status()),
                        Err(_) => {
                            failures += 1;
                            if failures > 3 {
                                return failures;
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
                failures
            }));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(50..600)));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            refused_after_kill += h.join().expect("client thread");
        }
    }
    let mut server = Server::start(&data);
    let total = acked.lock().unwrap().len();
    check_all_present(&server.url, &acked.lock().unwrap());
    server.stop();
    let out = meent_ok(&["verify", "--data", data.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["size"].as_u64().unwrap() > total as u64, "log has {} records but {total} were acknowledged", v["size"]);
    assert!(total >= cycles, "too few acknowledged entries ({total}) to mean anything");
    println!(
        "crash: {cycles} SIGKILL cycles, {total} acknowledged entries all present, {} records verified, {refused_after_kill} client errors around kills, {:.1} s",
        v["size"],
        started.elapsed().as_secs_f64()
    );
}

fn check_all_present(url: &str, acked: &HashMap<String, u64>) {
    let http = reqwest::blocking::Client::new();
    let size = get(&http, url, "/healthz").1["tree_size"].as_u64().unwrap();
    // Read the whole log once and compare positions.
    let mut by_id: HashMap<String, u64> = HashMap::new();
    let mut from = 0u64;
    while from < size {
        let (s, page) = get(&http, url, &format!("/v1/entries?from={from}&limit=1000"));
        assert_eq!(s, 200);
        let entries = page["entries"].as_array().unwrap();
        for r in entries {
            let e = ledger::entry::VerifiedEntry::from_value(r["entry"].clone()).unwrap();
            by_id.insert(e.id.to_hex(), r["seq"].as_u64().unwrap());
        }
        from += entries.len() as u64;
    }
    for (id, seq) in acked {
        assert_eq!(by_id.get(id), Some(seq), "acknowledged entry {id} (seq {seq}) is missing after a crash");
    }
}
