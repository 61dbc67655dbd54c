//! One node holding a million records (issue 21): the release `meent serve`
//! on a fresh ledger (`--rate-limit off`) takes N entries through HTTP from
//! several concurrent keep-alive connections, then is stopped and restarted
//! on the same data directory. It prints:
//! - the latency of every acknowledged write (a 201: durable and covered by a
//!   signed checkpoint), p50/p99/max per window of 100 000 entries and overall;
//! - the server's resident memory (VmRSS, sampled every 50 ms) while it ingests;
//! - after a restart: the time until `/healthz` answers ok and until a fund
//!   read answers, the resident memory then and after a few reads, and the
//!   data directory's size on disk.
//!
//! The mix: about 90 % contributions into 4 funds by 2 000 members, 8 % votes
//! on open proposals, 2 % member applications (each from a new key).
//!
//! Run: `cargo bench -p cli --bench node` (env: MEENT_BENCH_NODE_ENTRIES,
//! default 1 000 000; MEENT_BENCH_NODE_CONNECTIONS, default 64;
//! MEENT_BENCH_NODE_MEMBERS, default 2 000; MEENT_BENCH_NODE_KEEP=DIR keeps
//! the data directory there; MEENT_BENCH_NODE_RESTART=DIR only restarts a
//! kept one).

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger::entry::{sign_entry, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::time::Timestamp;
use rayon::prelude::*;
use serde_json::json;

#[path = "support/client.rs"]
#[allow(dead_code)] // `hammer` and `cpu_of` are the ingest benchmark's.
mod client;

const WINDOW: usize = 100_000;
const FUNDS: usize = 4;
const PROPOSALS_PER_FUND: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn meent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meent"))
}

/// A free loopback port (so that a restarted server listens where we poll).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server process, stopped when dropped (also when the benchmark panics).
struct Server(Option<Child>);

impl Server {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}

fn start(data: &std::path::Path, port: u16) -> Server {
    Server(Some(
        meent()
            .args(["serve", "--data", data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
            .args(["--rate-limit", "off"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start meent serve"),
    ))
}

fn stop(mut child: Child) -> Duration {
    let t = Instant::now();
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    t.elapsed()
}

/// VmRSS of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// One GET over a fresh connection: the status and body, or `None` if the server does not answer.
fn get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let p = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = String::from_utf8_lossy(&buf[..p]).split_whitespace().nth(1)?.parse().ok()?;
    Some((status, buf[p + 4..].to_vec()))
}

/// Poll `path` until it answers 200; the time since `since`.
fn until_ok(port: u16, path: &str, since: Instant) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some((200, _)) = get(port, path) {
            return since.elapsed();
        }
        assert!(Instant::now() < deadline, "{path} did not answer 200 within 600 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signed(kind: Kind, author: &str, key: &SigningKey, body: serde_json::Value) -> VerifiedEntry {
    let at = Timestamp::from_instant(chrono::Utc::now());
    sign_entry(kind, &author.parse::<Author>().unwrap(), key, &at, body).unwrap()
}

fn request(port: u16, e: &VerifiedEntry) -> Vec<u8> {
    let b = serde_json::to_vec(&e.json).unwrap();
    let mut r = format!(
        "POST /v1/entries HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        b.len()
    )
    .into_bytes();
    r.extend_from_slice(&b);
    r
}

/// Send every request in order of index over `connections` keep-alive
/// connections; each answer must be 201. Returns each request's latency in µs
/// (by index); `answered` counts the answers as they come.
fn hammer(port: u16, requests: &[Vec<u8>], connections: usize, answered: &AtomicUsize) -> Vec<u32> {
    use tokio::io::AsyncWriteExt;
    let n = requests.len();
    let next = AtomicUsize::new(0);
    let latencies: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    rt.block_on(async {
        let conn = |_| async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut buf: Vec<u8> = Vec::with_capacity(4096);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                stream.write_all(&requests[i]).await.expect("write");
                let (status, head_end) = client::read_response(&mut stream, &mut buf).await;
                if status != 201 {
                    let body = String::from_utf8_lossy(&buf[head_end..]);
                    let req = String::from_utf8_lossy(&requests[i]);
                    panic!("request {i}: {status} {body}\n{req}");
                }
                latencies[i].store(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                answered.fetch_add(1, Ordering::Relaxed);
            }
        };
        futures_join_all((0..connections).map(conn).collect()).await;
    });
    latencies.into_iter().map(|l| l.into_inner().min(u32::MAX as u64) as u32).collect()
}

/// Await every future, polled together on the current thread (they borrow
/// from the caller, so they are not spawned).
async fn futures_join_all<F: std::future::Future<Output = ()>>(fs: Vec<F>) {
    let mut fs: Vec<std::pin::Pin<Box<F>>> = fs.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        fs.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if fs.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// p50, p99 and max of `v` (µs), in ms.
fn percentiles(v: &[u32]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_unstable();
    let at = |q: f64| s[((s.len() as f64 * q) as usize).min(s.len() - 1)] as f64 / 1000.0;
    (at(0.5), at(0.99), *s.last().unwrap() as f64 / 1000.0)
}

/// Bytes on disk (allocated blocks) and apparent bytes of the files under `dir`.
fn disk_usage(dir: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        if m.is_dir() {
            let (a, b) = disk_usage(&e.path());
            total = (total.0 + a, total.1 + b);
        } else {
            total = (total.0 + m.blocks() * 512, total.1 + m.len());
        }
    }
    total
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

/// Members, funds and open proposals (posted through HTTP, untimed).
struct Scene {
    members: Vec<(String, SigningKey)>,
    /// Per fund: its open proposals.
    proposals: Vec<Vec<String>>,
}

fn post(port: u16, entries: &[VerifiedEntry], connections: usize) {
    let requests: Vec<Vec<u8>> = entries.iter().map(|e| request(port, e)).collect();
    hammer(port, &requests, connections, &AtomicUsize::new(0));
}

/// Member `i` belongs to fund `i % FUNDS`; within a fund, every other member votes.
fn voter(i: usize) -> bool {
    (i / FUNDS) & 1 == 0
}

fn scene(port: u16, reg: &SigningKey, n: usize) -> Scene {
    let members: Vec<(String, SigningKey)> =
        (0..n).map(|i| (format!("lid-{i}"), SigningKey::from_bytes(&rand::random()))).collect();
    let apply = |(id, k): &(String, SigningKey)| {
        let body = json!({"id": id, "name": "Bench Collective", "member_kind": "collective", "legal_form": "informal"});
        signed(Kind::MemberApply, id, k, body)
    };
    post(port, &members.par_iter().map(apply).collect::<Vec<_>>(), 16);
    let admit =
        |(id, _): &(String, SigningKey)| signed(Kind::MemberAdmit, "bench-registrar", reg, json!({"member": id}));
    post(port, &members.par_iter().map(admit).collect::<Vec<_>>(), 16);
    let creates: Vec<VerifiedEntry> = (0..FUNDS)
        .map(|f| {
            let (creator, ck) = &members[f];
            let charter = json!({"admission": "open", "treasurers": [creator, &members[f + FUNDS].0], "approvals_required": 1, "quorum": "0.5",
                                 "threshold": "0.5", "voting_period_seconds": 86400 * 30, "max_request": "25000.00",
                                 "dissolution": "pro_rata_refund"});
            signed(
                Kind::FundCreate,
                creator,
                ck,
                json!({"id": format!("fund-{f}"), "name": format!("Fund {f}"), "purpose": "benchmark", "charter": charter}),
            )
        })
        .collect();
    post(port, &creates, 1);
    let joins: Vec<VerifiedEntry> = members[FUNDS..]
        .par_iter()
        .enumerate()
        .map(|(j, (id, k))| {
            let f = (j + FUNDS) % FUNDS;
            signed(Kind::FundJoin, id, k, json!({"fund": format!("fund-{f}")}))
        })
        .collect();
    post(port, &joins, 16);
    // Proposals stay open: half of the counted members never vote. The
    // recipient is one of those (a recipient may not vote on its own allocation).
    let mut proposals = vec![Vec::new(); FUNDS];
    for (f, props) in proposals.iter_mut().enumerate() {
        let recipient = &members[f + FUNDS].0;
        let entries: Vec<VerifiedEntry> = (0..PROPOSALS_PER_FUND)
            .map(|p| {
                let (id, k) = &members[f];
                signed(Kind::Proposal, id, k, json!({"fund": format!("fund-{f}"), "proposal_kind": "allocation",
                    "title": format!("Bench proposal {f}.{p}"), "description": "benchmark", "amount": "100.00", "recipient": recipient}))
            })
            .collect();
        post(port, &entries, 1);
        *props = entries.iter().map(|e| e.id.to_hex()).collect();
    }
    Scene { members, proposals }
}

/// Entry `i` of the measured stream: 90 % contributions, 8 % votes, 2 % applications.
fn entry(s: &Scene, i: usize) -> VerifiedEntry {
    let r = i % 50;
    let m = (i / 50).wrapping_mul(7919) % s.members.len();
    let (id, k) = &s.members[m];
    let f = m % FUNDS;
    if r < 4 {
        let v = (0..s.members.len()).map(|j| (m + j) % s.members.len()).find(|&j| voter(j)).unwrap();
        let (vid, vk) = &s.members[v];
        let choice = ["yes", "no", "abstain"][i % 3];
        let props = &s.proposals[v % FUNDS];
        signed(Kind::Vote, vid, vk, json!({"proposal": props[i % props.len()], "choice": choice}))
    } else if r == 4 {
        let id = format!("nieuw-{i}");
        let key = SigningKey::from_bytes(&rand::random());
        let body = json!({"id": id, "name": "New Collective", "member_kind": "collective", "legal_form": "informal"});
        signed(Kind::MemberApply, &id, &key, body)
    } else {
        let amount = format!("{}.{:02}", 5 + i % 200, i % 100);
        signed(
            Kind::Contribution,
            id,
            k,
            json!({"fund": format!("fund-{f}"), "amount": amount, "reference": format!("NODE-{i:07}")}),
        )
    }
}

fn main() {
    let n = env_usize("MEENT_BENCH_NODE_ENTRIES", 1_000_000);
    let connections = env_usize("MEENT_BENCH_NODE_CONNECTIONS", 64);
    let members = env_usize("MEENT_BENCH_NODE_MEMBERS", 2_000).max(4 * FUNDS);
    if let Some(dir) = std::env::var_os("MEENT_BENCH_NODE_RESTART") {
        // Only the restart, of a data directory kept by an earlier run.
        println!("meent node benchmark: restart of {}", dir.to_string_lossy());
        return restart(std::path::Path::new(&dir), free_port());
    }
    println!("meent node benchmark: {n} entries, {connections} connections, {members} members in {FUNDS} funds");
    let tmp = tempfile::tempdir().unwrap();
    let data = match std::env::var_os("MEENT_BENCH_NODE_KEEP") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().join("data"),
    };
    let reg = SigningKey::from_bytes(&[1u8; 32]);
    let reg_pk = hex::encode(reg.verifying_key().to_bytes());
    let st = meent()
        .args(["init", "--data", data.to_str().unwrap(), "--origin", "meent.bench/node"])
        .args(["--registrar", &format!("bench-registrar={reg_pk}")])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());

    let port = free_port();
    let mut server = start(&data, port);
    until_ok(port, "/healthz", Instant::now());
    let pid = server.id();
    let t = Instant::now();
    let sc = scene(port, &reg, members);
    println!(
        "  scene: {members} members, {FUNDS} funds, {} proposals in {:.1} s",
        FUNDS * PROPOSALS_PER_FUND,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let requests: Vec<Vec<u8>> = (0..n).into_par_iter().map(|i| request(port, &entry(&sc, i))).collect();
    println!("  signed {n} entries in {:.1} s (untimed)", t.elapsed().as_secs_f64());

    // Resident memory, sampled while ingesting: the maximum per window.
    let answered = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let windows = n.div_ceil(WINDOW).max(1);
    let rss_max = Arc::new(Mutex::new(vec![0u64; windows]));
    let sampler = {
        let (answered, done, rss_max) = (answered.clone(), done.clone(), rss_max.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let w = (answered.load(Ordering::Relaxed) / WINDOW).min(windows - 1);
                let r = rss(pid);
                let mut m = rss_max.lock().unwrap();
                m[w] = m[w].max(r);
                drop(m);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let rss_before = rss(pid);
    let t = Instant::now();
    let lat = hammer(port, &requests, connections, &answered);
    let secs = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    drop(requests);
    let rss_max = rss_max.lock().unwrap().clone();
    println!(
        "  ingested {n} entries in {secs:.1} s: {:.0} entries/s; VmRSS {:.0} MiB before",
        n as f64 / secs,
        mib(rss_before)
    );
    println!("  {:>20} {:>10} {:>10} {:>10} {:>14}", "entries", "p50 ms", "p99 ms", "max ms", "max VmRSS MiB");
    for (w, chunk) in lat.chunks(WINDOW).enumerate() {
        let (p50, p99, max) = percentiles(chunk);
        let range = format!("{}-{}", w * WINDOW, w * WINDOW + chunk.len());
        println!("  {range:>20} {p50:>10.1} {p99:>10.1} {max:>10.1} {:>14.0}", mib(rss_max[w]));
    }
    let (p50, p99, max) = percentiles(&lat);
    let peak = rss_max.iter().copied().max().unwrap_or(0);
    println!("  {:>20} {p50:>10.1} {p99:>10.1} {max:>10.1} {:>14.0}", "all", mib(peak));

    let stopped = stop(server.0.take().expect("running"));
    let (blocks, apparent) = disk_usage(&data);
    println!(
        "  stopped in {:.2} s; data directory {:.0} MiB on disk ({:.0} MiB apparent)",
        stopped.as_secs_f64(),
        mib(blocks),
        mib(apparent)
    );

    restart(&data, port);
}

/// Start a server on `data` (stopped) and time it until it answers.
fn restart(data: &std::path::Path, port: u16) {
    let t = Instant::now();
    let server = start(data, port);
    let pid = server.id();
    let healthy = until_ok(port, "/healthz", t);
    let fund = until_ok(port, "/v1/funds/fund-0", t);
    let rss_restarted = rss(pid);
    let size: u64 = {
        let (_, body) = get(port, "/healthz").unwrap();
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["tree_size"].as_u64().unwrap()
    };
    let t = Instant::now();
    for f in 0..FUNDS {
        assert_eq!(get(port, &format!("/v1/funds/fund-{f}")).map(|r| r.0), Some(200));
    }
    for seq in [1, size / 2, size - 1] {
        assert_eq!(get(port, &format!("/v1/entries?from={seq}&limit=10")).map(|r| r.0), Some(200));
        assert_eq!(get(port, &format!("/v1/proofs/inclusion?seq={seq}&size={size}")).map(|r| r.0), Some(200));
    }
    assert_eq!(get(port, "/v1/members?limit=100").map(|r| r.0), Some(200));
    let reads = t.elapsed();
    let rss_read = rss(pid);
    println!(
        "  restart ({size} records): /healthz ok after {:.2} s, a fund read after {:.2} s; VmRSS {:.0} MiB, {:.0} MiB after a few reads ({:.0} ms)",
        healthy.as_secs_f64(),
        fund.as_secs_f64(),
        mib(rss_restarted),
        mib(rss_read),
        reads.as_secs_f64() * 1000.0
    );
    drop(server);
}
