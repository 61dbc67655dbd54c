//! A mixed read/write load gives no error (issue 20): writer threads submit
//! member applications and the registrar's admissions while reader threads
//! read every endpoint family (health, the log's records by position, by id
//! and by page, the checkpoint, inclusion and consistency proofs, tiles and
//! entry bundles, the register, funds, proposals, rounds, the public pages)
//! against the real `meent serve`. Every answer must be the one expected (2xx
//! for a read, 201 for a write); at the end every acknowledged entry is in the
//! log where it was acknowledged, and `meent verify --data` passes.
//!
//! `cargo test` runs it for 5 seconds. The 60-second run (docs/RELIABILITY.md):
//! `MEENT_LOAD_SECONDS=60 cargo test --release -p meent-tests --test load -- --nocapture`

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ledger::entry::Kind;
use rand::Rng;
use serde_json::json;

const WRITERS: usize = 3;
const READERS: usize = 6;

/// What the threads share: the acknowledged entries, the applications to
/// admit, the latencies and the errors.
#[derive(Default)]
struct Shared {
    /// Entry id (hex) → position, for every acknowledged entry.
    acked: Mutex<HashMap<String, u64>>,
    /// Acknowledged applications not yet admitted.
    to_admit: Mutex<Vec<String>>,
    /// The ids of the acknowledged entries, in no order (for `/v1/entries/id/{id}`).
    ids: Mutex<Vec<String>>,
    /// Members acknowledged (for `/v1/members/{id}`).
    members: Mutex<Vec<String>>,
    /// The largest tree size seen in an acknowledgement.
    size: AtomicU64,
    /// Latencies in microseconds, by family.
    latencies: Mutex<BTreeMap<&'static str, Vec<u64>>>,
    /// Every unexpected answer, described.
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn record(&self, family: &'static str, started: Instant) {
        let us = started.elapsed().as_micros() as u64;
        self.latencies.lock().unwrap().entry(family).or_default().push(us);
    }

    fn error(&self, what: String) {
        let mut errors = self.errors.lock().unwrap();
        if errors.len() < 1000 {
            errors.push(what);
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// One writer: applications, and the registrar's admission of each (so the
/// pending applications stay under their cap).
fn writer(url: String, reg: ed25519_dalek::SigningKey, shared: Arc<Shared>, stop: Arc<AtomicBool>, w: usize) {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let admit = shared.to_admit.lock().unwrap().pop();
        let (e, applicant, family) = match &admit {
            Some(id) => (sign(Kind::MemberAdmit, "registrar-een", &reg, json!({"member": id})), None, "POST admit"),
            None => {
                let id = format!("w{w}-n{n}");
                n += 1;
                let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
                (
                    sign(Kind::MemberApply, &id, &key, apply_body(&id, "Buurtcollectief Belasting", "collective")),
                    Some(id),
                    "POST apply",
                )
            }
        };
        let started = Instant::now();
        let sent = http.post(format!("{url}/v1/entries")).body(serde_json::to_vec(&e.json).unwrap()).send();
        let answer = sent.map_err(|e| e.to_string()).and_then(|r| {
            let status = r.status().as_u16();
            r.json::<serde_json::Value>().map(|v| (status, v)).map_err(|e| format!("{status}: {e}"))
        });
        shared.record(family, started);
        match answer {
            Ok((201, v)) => {
                let seq = v["seq"].as_u64().unwrap();
                shared.acked.lock().unwrap().insert(e.id.to_hex(), seq);
                shared.ids.lock().unwrap().push(e.id.to_hex());
                shared.size.fetch_max(v["tree_size"].as_u64().unwrap(), Ordering::Relaxed);
                if let Some(id) = applicant {
                    shared.members.lock().unwrap().push(id.clone());
                    shared.to_admit.lock().unwrap().push(id);
                }
            }
            Ok((status, v)) => shared.error(format!("{family}: {status} {v}")),
            Err(e) => shared.error(format!("{family}: {e}")),
        }
    }
}

/// A random read of one endpoint family: (family, path).
fn pick_read(rng: &mut impl Rng, shared: &Shared) -> (&'static str, String) {
    let size = shared.size.load(Ordering::Relaxed).max(1);
    let seq = rng.gen_range(0..size);
    let member = {
        let m = shared.members.lock().unwrap();
        (!m.is_empty()).then(|| m[rng.gen_range(0..m.len())].clone())
    };
    let id = {
        let ids = shared.ids.lock().unwrap();
        (!ids.is_empty()).then(|| ids[rng.gen_range(0..ids.len())].clone())
    };
    match rng.gen_range(0..16) {
        0 => ("healthz", "/healthz".into()),
        1 => ("entries page", format!("/v1/entries?from={}&limit=100", seq.saturating_sub(50))),
        2 => ("entry by seq", format!("/v1/entries/{seq}")),
        3 => match id {
            Some(id) => ("entry by id", format!("/v1/entries/id/{id}")),
            None => ("entry by seq", "/v1/entries/0".into()),
        },
        4 => ("checkpoint", "/v1/checkpoint".into()),
        5 => ("inclusion proof", format!("/v1/proofs/inclusion?seq={seq}&size={size}")),
        6 => (
            "consistency proof",
            format!("/v1/proofs/consistency?from={}&to={size}", rng.gen_range(1..size.max(2)).min(size)),
        ),
        7 => ("tiles", "/tiles/checkpoint".into()),
        8 => {
            let n = rng.gen_range(0..size.div_ceil(256));
            let width = (size - n * 256).min(256);
            let t = if width == 256 { format!("{n:03}") } else { format!("{n:03}.p/{width}") };
            let kind = if rng.gen_bool(0.5) { "0" } else { "entries" };
            ("tiles", format!("/tiles/tile/{kind}/{t}"))
        }
        9 => ("members", "/v1/members?limit=50".into()),
        10 => match member {
            Some(m) => ("member", format!("/v1/members/{m}")),
            None => ("members", "/v1/members".into()),
        },
        11 => ("funds", "/v1/funds".into()),
        12 => ("proposals", "/v1/proposals".into()),
        13 => ("rounds", "/v1/rounds".into()),
        14 => ("pages", "/nl".into()),
        _ => ("pages", "/en/log".into()),
    }
}

fn reader(url: String, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut rng = rand::thread_rng();
    while !stop.load(Ordering::Relaxed) {
        let (family, path) = pick_read(&mut rng, &shared);
        let started = Instant::now();
        let answer = http.get(format!("{url}{path}")).send().and_then(|r| {
            let status = r.status().as_u16();
            r.bytes().map(|b| (status, b))
        });
        shared.record(family, started);
        match answer {
            Ok((200, _)) => {}
            Ok((status, body)) => shared.error(format!("GET {path}: {status} {}", String::from_utf8_lossy(&body))),
            Err(e) => shared.error(format!("GET {path}: {e}")),
        }
    }
}

#[test]
fn a_mixed_read_write_load_gives_no_error() {
    let seconds: u64 = std::env::var("MEENT_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (data, reg) = ledger_with_registrar(dir, "meent.test/load");
    let mut server = Server::start(&data);
    let shared = Arc::new(Shared::default());
    shared.size.store(1, Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let (url, reg, shared, stop) = (server.url.clone(), reg.clone(), shared.clone(), stop.clone());
        threads.push(std::thread::spawn(move || writer(url, reg, shared, stop, w)));
    }
    for _ in 0..READERS {
        let (url, shared, stop) = (server.url.clone(), shared.clone(), stop.clone());
        threads.push(std::thread::spawn(move || reader(url, shared, stop)));
    }
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a load thread panicked");
    }
    let elapsed = started.elapsed().as_secs_f64();

    let latencies = std::mem::take(&mut *shared.latencies.lock().unwrap());
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    println!("load: {seconds} s, {WRITERS} writers, {READERS} readers");
    println!("{:<20} {:>8} {:>9} {:>9} {:>9}", "family", "requests", "p50 ms", "p99 ms", "max ms");
    for (family, mut l) in latencies {
        l.sort_unstable();
        println!(
            "{family:<20} {:>8} {:>9.2} {:>9.2} {:>9.2}",
            l.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            percentile(&l, 1.0)
        );
        if family.starts_with("POST") {
            writes.extend(l)
        } else {
            reads.extend(l)
        }
    }
    reads.sort_unstable();
    writes.sort_unstable();
    let errors = shared.errors.lock().unwrap().clone();
    println!(
        "reads: {} ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms; writes: {} ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms; errors: {}",
        reads.len(),
        reads.len() as f64 / elapsed,
        percentile(&reads, 0.5),
        percentile(&reads, 0.99),
        writes.len(),
        writes.len() as f64 / elapsed,
        percentile(&writes, 0.5),
        percentile(&writes, 0.99),
        errors.len()
    );
    assert!(errors.is_empty(), "{} errors under load, the first: {:#?}", errors.len(), &errors[..errors.len().min(10)]);
    let acked = shared.acked.lock().unwrap().clone();
    assert!(acked.len() as u64 >= seconds, "only {} entries acknowledged in {seconds} s", acked.len());
    assert!(reads.len() as u64 >= 10 * seconds, "only {} reads in {seconds} s", reads.len());

    // Every acknowledged entry is in the log where it was acknowledged.
    let http = reqwest::blocking::Client::new();
    let size = get(&http, &server.url, "/healthz").1["tree_size"].as_u64().unwrap();
    let mut by_id: HashMap<String, u64> = HashMap::new();
    let mut from = 0;
    while from < size {
        let (s, page) = get(&http, &server.url, &format!("/v1/entries?from={from}&limit=1000"));
        assert_eq!(s, 200, "{page}");
        for r in page["entries"].as_array().unwrap() {
            by_id.insert(r["id"].as_str().unwrap().to_string(), r["seq"].as_u64().unwrap());
        }
        from += page["entries"].as_array().unwrap().len() as u64;
    }
    for (id, seq) in &acked {
        assert_eq!(by_id.get(id), Some(seq), "acknowledged entry {id} (seq {seq})");
    }
    server.stop();
    let out = meent_ok(&["verify", "--data", data.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["ok"].as_bool(), v["size"].as_u64()), (Some(true), Some(size)), "{v}");
}
