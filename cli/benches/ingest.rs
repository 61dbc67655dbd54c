//! The ingest benchmark (issue 2 item 9). One run prints:
//! - durable acknowledged entries/s through HTTP, 64 concurrent connections,
//!   against the real `meent serve` (a separate process) on this machine;
//! - raw `verify_strict`/s on all cores of the same machine (measured on each
//!   batch just before it is posted);
//! - their ratio;
//! - the CPU time per entry of the server process and of the client, and the
//!   share of the machine left idle meanwhile (time of other work running at
//!   a lower priority, `nice`, counts as idle);
//! - `meent verify --data` records/s on a ledger of 100 000 records.
//!
//! Run: `cargo bench -p cli --bench ingest` (env: MEENT_BENCH_ENTRIES, MEENT_BENCH_CONNECTIONS,
//! MEENT_BENCH_RUNS). Medians of the runs are printed; the machine is shared and noisy.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use ledger::entry::{self, sign_entry, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::limits::PENDING_APPLICATIONS_MAX;
use ledger::time::Timestamp;
use rayon::prelude::*;
use serde_json::json;

#[path = "support/client.rs"]
mod client;
use client::cpu_of;

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
            .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0", "--rate-limit", "off"])
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
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
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
            sign_entry(
                Kind::MemberApply,
                &author,
                &key,
                &at,
                json!({"id": id, "name": "Bench Collective", "member_kind": "collective", "legal_form": "informal"}),
            )
            .unwrap()
        })
        .collect()
}

/// Submit all `bodies` with `connections` concurrent keep-alive HTTP/1.1
/// connections; entries/s of 201s (the minimal client of [`client::hammer`]).
fn ingest(url: &str, bodies: Vec<Vec<u8>>, connections: usize) -> f64 {
    let addr = url.trim_start_matches("http://").to_string();
    let requests: Vec<Vec<u8>> = bodies
        .into_iter()
        .map(|b| {
            let mut r = format!("POST /v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes();
            r.extend_from_slice(&b);
            r
        })
        .collect();
    let n = requests.len();
    client::hammer(&addr, Arc::new(requests), n, connections, 201)
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

/// The registrar admits every applicant of `applications`.
fn admit_all(url: &str, reg: &SigningKey, applications: &[VerifiedEntry], connections: usize) {
    let admits: Vec<VerifiedEntry> = applications
        .iter()
        .map(|e| {
            let member = e.author.member().expect("an application is a member's").to_string();
            signed(Kind::MemberAdmit, "bench-registrar", reg, json!({"member": member}))
        })
        .collect();
    post_all(url, &admits, connections);
}

fn signed(kind: Kind, author: &str, key: &SigningKey, body: serde_json::Value) -> VerifiedEntry {
    let at = Timestamp::from_instant(chrono::Utc::now());
    sign_entry(kind, &author.parse::<Author>().unwrap(), key, &at, body).unwrap()
}

/// Per run: server CPU µs per entry, client CPU µs per entry, idle share (%).
type CpuSamples = (Vec<f64>, Vec<f64>, Vec<f64>);

/// CPU seconds (user + system) used so far by this process.
fn own_cpu() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// The machine's CPU time so far from /proc/stat, in ticks: (busy, idle, steal);
/// time spent at a positive nice value (other work in the background) counts as idle.
fn machine_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let g = |i: usize| f.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    (g(0) + g(2) + g(5) + g(6), g(3) + g(4) + g(1), g(7))
}

fn post_all(url: &str, entries: &[VerifiedEntry], connections: usize) -> f64 {
    let bodies = entries.iter().map(|e| serde_json::to_vec(&e.json).unwrap()).collect();
    ingest(url, bodies, connections)
}

/// Fund members who contribute and vote: `n` admitted members in one fund, and
/// open proposals (with more counted members than voters, so they stay open).
struct Scene {
    voters: Vec<(String, SigningKey)>,
    proposals: Vec<String>,
}

fn scene(url: &str, reg: &SigningKey, voters: usize, silent: usize) -> Scene {
    let members: Vec<(String, SigningKey)> =
        (0..voters + silent).map(|i| (format!("lid-{i}"), SigningKey::from_bytes(&rand::random()))).collect();
    let applies: Vec<VerifiedEntry> = members
        .iter()
        .map(|(id, k)| {
            signed(
                Kind::MemberApply,
                id,
                k,
                json!({"id": id, "name": "Bench Collective", "member_kind": "collective", "legal_form": "informal"}),
            )
        })
        .collect();
    post_all(url, &applies, 16);
    let admits: Vec<VerifiedEntry> = members
        .iter()
        .map(|(id, _)| signed(Kind::MemberAdmit, "bench-registrar", reg, json!({"member": id})))
        .collect();
    post_all(url, &admits, 16);
    let (creator, ck) = &members[0];
    let charter = json!({"admission": "open", "treasurers": [creator, &members[1].0], "approvals_required": 1, "quorum": "0.5", "threshold": "0.5",
                         "voting_period_seconds": 86400, "max_request": "25000.00", "dissolution": "pro_rata_refund"});
    post_all(
        url,
        &[signed(
            Kind::FundCreate,
            creator,
            ck,
            json!({"id": "bench-fund", "name": "Bench Fund", "purpose": "benchmark", "charter": charter}),
        )],
        1,
    );
    let joins: Vec<VerifiedEntry> =
        members[1..].iter().map(|(id, k)| signed(Kind::FundJoin, id, k, json!({"fund": "bench-fund"}))).collect();
    post_all(url, &joins, 16);
    // The recipient is a silent member: a recipient may not vote on its own allocation.
    let recipient = &members[members.len() - 1].0;
    let proposals: Vec<VerifiedEntry> = (0..8)
        .map(|i| {
            let (id, k) = &members[i % members.len()];
            signed(Kind::Proposal, id, k, json!({"fund": "bench-fund", "proposal_kind": "allocation", "title": format!("Bench proposal {i}"),
                                                   "description": "benchmark", "amount": "100.00", "recipient": recipient}))
        })
        .collect();
    post_all(url, &proposals, 8);
    Scene {
        voters: members.into_iter().take(voters).collect(),
        proposals: proposals.iter().map(|p| p.id.to_hex()).collect(),
    }
}

fn contributions(s: &Scene, n: usize, tag: &str) -> Vec<VerifiedEntry> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let (id, k) = &s.voters[i % s.voters.len()];
            signed(
                Kind::Contribution,
                id,
                k,
                json!({"fund": "bench-fund", "amount": "25.00", "reference": format!("BENCH-{tag}-{i}")}),
            )
        })
        .collect()
}

fn votes(s: &Scene, n: usize) -> Vec<VerifiedEntry> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let (id, k) = &s.voters[i % s.voters.len()];
            let choice = ["yes", "no", "abstain"][i % 3];
            signed(
                Kind::Vote,
                id,
                k,
                json!({"proposal": s.proposals[(i / s.voters.len()) % s.proposals.len()], "choice": choice}),
            )
        })
        .collect()
}

/// Replay the whole log through `State::apply` alone (records parsed beforehand,
/// untimed): the domain's cost per record, by kind.
fn domain_cost(data: &std::path::Path) -> std::collections::BTreeMap<&'static str, (u64, f64)> {
    use ledger::store::Store;
    let store = ledger::store::sled_store::SledStore::open(&ledger::log::store_path(data)).expect("open the store");
    let records: Vec<ledger::record::Record> =
        store.records_from(0).map(|r| ledger::record::Record::from_leaf_bytes(&r.unwrap().1).unwrap()).collect();
    let mut state = ledger::state::State::new();
    let mut cost: std::collections::BTreeMap<&'static str, (u64, f64)> = Default::default();
    for r in &records {
        let t = Instant::now();
        state.apply(r.seq, &r.received_at, &r.entry).expect("replay");
        let c = cost.entry(r.entry.kind.as_str()).or_default();
        c.0 += 1;
        c.1 += t.elapsed().as_secs_f64();
    }
    cost
}

fn main() {
    let entries = env_usize("MEENT_BENCH_ENTRIES", 20_000);
    let connections = env_usize("MEENT_BENCH_CONNECTIONS", 64);
    let runs = env_usize("MEENT_BENCH_RUNS", 3);
    let verify_records = env_usize("MEENT_BENCH_VERIFY_RECORDS", 100_000);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "meent ingest benchmark: {entries} entries per kind x {runs} runs, {connections} connections, {cores} cores"
    );

    let tmp = tempfile::tempdir().unwrap();
    let reg = SigningKey::from_bytes(&[1u8; 32]);
    let reg_pk = hex::encode(reg.verifying_key().to_bytes());
    let data = tmp.path().join("data");
    let st = meent()
        .args([
            "init",
            "--data",
            data.to_str().unwrap(),
            "--origin",
            "meent.bench/ingest",
            "--registrar",
            &format!("bench-registrar={reg_pk}"),
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());

    let server = Server::start(&data);
    let sc = scene(&server.1, &reg, 64, 64);
    let mut rates: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    // Per kind: CPU µs per entry of the server process and of this (client) process.
    // And the share of the machine left idle meanwhile (a server that is not CPU-bound leaves some).
    let mut cpu: std::collections::BTreeMap<&str, CpuSamples> = Default::default();
    // Raw verify_strict is measured on each batch just before it is posted, so
    // that on a shared machine both sides of the ratio see the same moment.
    let mut verify_rates = Vec::new();
    let pid = server.0.id();
    let mut measured = |kind: &'static str, batch: Vec<VerifiedEntry>| -> (f64, f64) {
        let raw = raw_verify(&batch);
        let (s0, c0, m0) = (cpu_of(pid), own_cpu(), machine_ticks());
        let r = post_all(&server.1, &batch, connections);
        let (s1, c1, m1) = (cpu_of(pid), own_cpu(), machine_ticks());
        let (busy, idle, steal) = (m1.0 - m0.0, m1.1 - m0.1, m1.2 - m0.2);
        let idle_share = idle as f64 / (busy + idle + steal).max(1) as f64 * 100.0;
        let per = |a: f64, b: f64| (b - a) / batch.len() as f64 * 1e6;
        let e = cpu.entry(kind).or_default();
        e.0.push(per(s0, s1));
        e.1.push(per(c0, c1));
        e.2.push(idle_share);
        rates.entry(kind).or_default().push(r);
        (r, raw)
    };
    for run in 0..runs {
        // The register holds at most PENDING_APPLICATIONS_MAX pending applications:
        // they are posted in chunks of that many, each admitted (unmeasured) before the next.
        let (mut secs, mut raw_secs) = (0.0, 0.0);
        for chunk in applications(entries, &format!("r{run}")).chunks(PENDING_APPLICATIONS_MAX) {
            let (r, raw) = measured("member.apply", chunk.to_vec());
            secs += chunk.len() as f64 / r;
            raw_secs += chunk.len() as f64 / raw;
            admit_all(&server.1, &reg, chunk, connections);
        }
        let (r, raw_r) = (entries as f64 / secs, entries as f64 / raw_secs);
        let (c, raw_c) = measured("contribution", contributions(&sc, entries, &format!("r{run}")));
        let (v, raw_v) = measured("vote", votes(&sc, entries));
        verify_rates.extend([raw_r, raw_c, raw_v]);
        println!(
            "  run {run}: member.apply {r:.0}/s, contribution {c:.0}/s, vote {v:.0}/s (durable, 201); raw verify_strict {raw_r:.0}, {raw_c:.0}, {raw_v:.0}/s"
        );
    }
    let have = 1 + 3 * runs * entries;
    if verify_records > have {
        for chunk in applications(verify_records - have, "fill").chunks(PENDING_APPLICATIONS_MAX) {
            post_all(&server.1, chunk, connections);
            admit_all(&server.1, &reg, chunk, connections);
        }
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
    let domain = domain_cost(&data);
    let verify_m = median(verify_rates);
    println!();
    println!("raw verify_strict on {cores} cores: {verify_m:.0} signatures/s (median of {})", 3 * runs);
    println!(
        "{:<14} {:>10} {:>20} {:>16} {:>22} {:>17} {:>17} {:>13}",
        "kind",
        "ingest/s",
        "ratio to raw verify",
        "domain us/entry",
        "domain share of ingest",
        "server cpu us/e",
        "client cpu us/e",
        "machine idle"
    );
    for (kind, v) in rates {
        let (server_us, client_us, idle) =
            cpu.remove(kind).map(|(s, c, i)| (median(s), median(c), median(i))).unwrap_or_default();
        let m = median(v);
        let (n, secs) = domain.get(kind).copied().unwrap_or((0, 0.0));
        let us = if n > 0 { secs / n as f64 * 1e6 } else { 0.0 };
        println!(
            "{kind:<14} {m:>10.0} {:>20.2} {us:>16.2} {:>21.1}% {server_us:>17.1} {client_us:>17.1} {idle:>12.0}%",
            m / verify_m,
            us * 1e-6 * m * 100.0
        );
    }
    println!("meent verify --data on {audited} records: {:.0} records/s (median of {runs})", median(audit_rates));
}
