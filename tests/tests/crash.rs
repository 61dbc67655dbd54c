//! Crash safety: several concurrent clients submit entries while the server is
//! killed with SIGKILL at random moments; after each restart every entry that
//! was acknowledged (201, or 200 for a resubmission) must be in the log at the
//! position it was given, and at the end `meent verify --data` must pass.
//!
//! `cargo test` runs 10 cycles. The soak mode runs more:
//! `MEENT_CRASH_CYCLES=300 cargo test --release -p meent-tests --test crash -- --nocapture`

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ledger::entry::Kind;
use rand::Rng;
use serde_json::json;

const CLIENTS: usize = 6;

#[test]
fn acknowledged_entries_survive_sigkill() {
    let cycles: usize = std::env::var("MEENT_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (data, reg) = ledger_with_registrar(dir, "meent.test/crash");

    // id → seq, for every entry the server acknowledged.
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut rng = rand::thread_rng();
    let started = Instant::now();
    let mut refused_after_kill = 0usize;
    // Applications acknowledged (or perhaps written) and not yet admitted.
    let to_admit: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
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
            let to_admit = to_admit.clone();
            let reg = reg.clone();
            handles.push(std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                let mut n = 0usize;
                let mut failures = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    // The registrar admits each application next, so that few are ever
                    // pending (the register holds at most PENDING_APPLICATIONS_MAX);
                    // one whose fate a kill hid is tried again, by any client.
                    let admit = to_admit.lock().unwrap().pop();
                    let (e, applicant) = match &admit {
                        Some(id) => (sign(Kind::MemberAdmit, "registrar-een", &reg, json!({"member": id})), None),
                        None => {
                            let id = format!("c{cycle}-k{client}-n{n}");
                            n += 1;
                            let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
                            let body = apply_body(&id, "Crash Test Collective", "collective");
                            (sign(Kind::MemberApply, &id, &key, body), Some(id))
                        }
                    };
                    match submit(&http, &url, &e) {
                        Outcome::Acked(seq) => {
                            acked.lock().unwrap().insert(e.id.to_hex(), seq);
                            to_admit.lock().unwrap().extend(applicant);
                        }
                        Outcome::Lost => {
                            // Killed mid-request: it may or may not be in the log.
                            to_admit.lock().unwrap().extend(admit.or(applicant));
                            failures += 1;
                            if failures > 3 {
                                return failures;
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        // An admission whose answer a kill lost, or of an application
                        // that never made it to the log.
                        Outcome::Refused(409 | 404, v)
                            if admit.is_some()
                                && matches!(
                                    v["error"]["code"].as_str(),
                                    Some("already_decided" | "unknown_member")
                                ) => {}
                        Outcome::Refused(status, v) => panic!("unexpected status {status} for a valid entry: {v}"),
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

enum Outcome {
    /// Acknowledged (201, or 200 for a resubmission) at this position.
    Acked(u64),
    /// No answer: the server was killed meanwhile.
    Lost,
    /// Refused, with the status and the error body.
    Refused(u16, serde_json::Value),
}

fn submit(http: &reqwest::blocking::Client, url: &str, e: &ledger::entry::VerifiedEntry) -> Outcome {
    let body = serde_json::to_vec(&e.json).unwrap();
    match http.post(format!("{url}/v1/entries")).body(body).send() {
        Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 200 => match r.json::<serde_json::Value>() {
            Ok(v) => {
                assert_eq!(v["id"].as_str().unwrap(), e.id.to_hex());
                Outcome::Acked(v["seq"].as_u64().unwrap())
            }
            Err(_) => Outcome::Lost, // killed while sending the answer: not acknowledged
        },
        Ok(r) => {
            let status = r.status().as_u16();
            match r.json::<serde_json::Value>() {
                Ok(v) => Outcome::Refused(status, v),
                Err(_) => Outcome::Lost,
            }
        }
        Err(_) => Outcome::Lost,
    }
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
