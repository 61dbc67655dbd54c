//! End to end: the log as C2SP tlog-tiles (docs/TILES.md). The server serves
//! tiles with the right caching headers; `meent tiles` writes a static copy
//! and updates it incrementally; `meent verify --tiles` audits the copy
//! served by a plain static file server (and the server's own tiles, and a
//! directory), and fails on a flipped byte naming the file it is in.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use common::*;
use ledger::entry::Kind;

/// `meent serve` without the per-address limits (one test client applies
/// hundreds of members).
fn start_server(data: &Path) -> Server {
    let mut child = meent_command()
        .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0", "--rate-limit", "off"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn meent serve");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_string();
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    Server { child, url, data: data.to_path_buf() }
}

/// `count` collectives apply, four at a time.
fn apply(url: &str, from: usize, count: usize) {
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                let http = reqwest::blocking::Client::new();
                for i in (from + t..from + count).step_by(4) {
                    let id = format!("collectief-{i}");
                    let key = ledger::crypto::generate_key();
                    let e = sign(Kind::MemberApply, &id, &key, apply_body(&id, "Collectief", "collective"));
                    let (status, body) = post(&http, url, &e);
                    assert_eq!(status, 201, "{body}");
                }
            });
        }
    });
}

/// A static file server over `dir` on 127.0.0.1: GET only, 200 or 404, one
/// request per connection. It serves until the test process ends.
fn static_server(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let dir = dir.clone();
            std::thread::spawn(move || serve_file(conn, &dir));
        }
    });
    url
}

/// Answer one GET with the file under `dir`, or 404.
fn serve_file(mut conn: std::net::TcpStream, dir: &Path) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
    let file = (!path.contains("..")).then(|| dir.join(&path)).filter(|p| p.is_file());
    let response = match file.and_then(|p| std::fs::read(p).ok()) {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend(body);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = conn.write_all(&response);
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap(), p.metadata().unwrap().modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn verify_fails(location: &str) -> String {
    let out = meent(&["verify", "--tiles", location]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tiles_are_served_copied_updated_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    let registrar = format!("kamer-van-commons={reg_pk}");
    meent_ok(&["init", "--data", data.to_str().unwrap(), "--origin", "meent.test/tiles", "--registrar", &registrar]);

    // The server serves the log of 300 records as tiles.
    let mut server = start_server(&data);
    apply(&server.url, 0, 299);
    let http = reqwest::blocking::Client::new();
    let fetch = |path: &str| {
        let r = http.get(format!("{}/tiles/{path}", server.url)).send().unwrap();
        let cache = r.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
        let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), cache, ctype, r.bytes().unwrap().to_vec())
    };
    let (status, cache, ctype, note) = fetch("checkpoint");
    assert_eq!(
        (status, cache.as_deref(), ctype.as_deref()),
        (200, Some("public, max-age=2"), Some("text/plain; charset=utf-8"))
    );
    let note = String::from_utf8(note).unwrap();
    assert!(note.starts_with("meent.test/tiles\n300\n"), "{note}");
    assert_eq!(http.get(format!("{}/v1/checkpoint", server.url)).send().unwrap().text().unwrap(), note);
    let (status, cache, ctype, full) = fetch("tile/0/000");
    assert_eq!(
        (status, cache.as_deref(), ctype.as_deref()),
        (200, Some("public, max-age=31536000, immutable"), Some("application/octet-stream"))
    );
    assert_eq!(full.len(), 8192);
    let (status, cache, _, partial) = fetch("tile/0/001.p/44");
    assert_eq!((status, cache.as_deref(), partial.len()), (200, Some("public, max-age=60"), 44 * 32));
    let (status, _, _, bundle) = fetch("tile/entries/001.p/44");
    assert_eq!(status, 200);
    let record_299 =
        http.get(format!("{}/v1/entries/299", server.url)).send().unwrap().json::<serde_json::Value>().unwrap();
    let leaf_299 = ledger::views::RecordView::leaf_bytes_of(&record_299).unwrap();
    assert!(bundle.ends_with(&leaf_299), "the bundle ends with record 299's leaf bytes");
    assert_eq!(&partial[43 * 32..], &ledger::merkle::leaf_hash(&leaf_299));
    for missing in ["tile/0/001.p/45", "tile/0/001", "tile/1/000", "tile/0/x000/001", "tile/0/1"] {
        assert_eq!(fetch(missing).0, 404, "{missing}");
    }
    assert_eq!(fetch("tile/1/000.p/1").0, 200);
    let served = format!("{}/tiles", server.url);
    let ok = meent_ok(&["verify", "--tiles", &served]);
    assert!(ok.contains("ok: 300 records of meent.test/tiles verified"), "{ok}");
    let trusted = dir.join("trusted.checkpoint");
    std::fs::write(&trusted, &note).unwrap();
    server.stop();

    // A static copy, written, then up to date.
    let out = dir.join("copy");
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let wrote = meent_ok(&["tiles", "--data", d, "--out", o]);
    assert!(wrote.contains("300 records") && wrote.contains("5 tiles and bundles written"), "{wrote}");
    assert!(meent_ok(&["tiles", "--data", d, "--out", o]).contains("up to date"));
    let first = files(&out);

    // The log grows; the copy is updated incrementally.
    let mut server = start_server(&data);
    apply(&server.url, 299, 300);
    server.stop();
    let wrote = meent_ok(&["tiles", "--data", d, "--out", o]);
    assert!(wrote.contains("600 records") && wrote.contains("(was 300)"), "{wrote}");
    let second = files(&out);
    let find = |set: &[(String, Vec<u8>, SystemTime)], name: &str| set.iter().find(|f| f.0 == name).cloned();
    assert_eq!(find(&second, "tile/0/000"), find(&first, "tile/0/000"), "a full tile is not written again");
    assert_eq!(find(&second, "tile/entries/000"), find(&first, "tile/entries/000"));
    assert!(find(&second, "tile/0/001.p/44").is_none(), "the partial tile its full tile replaces is gone");
    let names: Vec<&str> = second.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "checkpoint",
            "tile/0/000",
            "tile/0/001",
            "tile/0/002.p/88",
            "tile/1/000.p/1",
            "tile/1/000.p/2",
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002.p/88"
        ]
    );

    // The copy is what the server serves.
    let server = start_server(&data);
    let http = reqwest::blocking::Client::new();
    for (name, bytes, _) in &second {
        let served = http.get(format!("{}/tiles/{name}", server.url)).send().unwrap().bytes().unwrap();
        assert_eq!(&served[..], &bytes[..], "{name}");
    }
    drop(server);

    // Audited from a plain static file server, and from the directory.
    let url = static_server(out.clone());
    let ok = meent_ok(&["verify", "--tiles", &url, "--trusted", trusted.to_str().unwrap()]);
    assert!(
        ok.contains("ok: 600 records") && ok.contains("consistent with the trusted checkpoint of size 300"),
        "{ok}"
    );
    assert!(meent_ok(&["verify", "--tiles", o, "--json"]).contains("\"size\":600"));

    // One flipped byte in a tile, a bundle or the checkpoint: refused, naming it.
    for (name, at) in [
        ("tile/0/001", 1000),
        ("tile/1/000.p/2", 40),
        ("tile/entries/002.p/88", 300),
        ("tile/entries/000", 1),
        ("checkpoint", 20),
    ] {
        let path = out.join(name);
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let err = verify_fails(&url);
        assert!(err.contains(&format!("{name}: ")), "flipped {name}: {err}");
        std::fs::write(&path, &good).unwrap();
    }
    // A missing tile is named too.
    let gone = out.join("tile/0/002.p/88");
    let good = std::fs::read(&gone).unwrap();
    std::fs::remove_file(&gone).unwrap();
    assert!(verify_fails(&url).contains("tile/0/002.p/88: not found"));
    std::fs::write(&gone, &good).unwrap();
    meent_ok(&["verify", "--tiles", &url]);
}

/// The tiles benchmark (issue 21): a ledger of `MEENT_TILES_BENCH_RECORDS`
/// records (default 100 000) made through the log's API, then the time of
/// `meent tiles` (a new copy, then an update after 1% more records), of
/// `meent verify --data` and of `meent verify --tiles` on the copy, read from
/// the directory and from a static file server. Run:
/// `MEENT_TILES_BENCH_RECORDS=1000000 cargo test --release -p meent-tests --test tiles -- --ignored --nocapture`
#[test]
#[ignore]
fn tiles_benchmark() {
    let records: u64 = std::env::var("MEENT_TILES_BENCH_RECORDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (reg_path, reg_pk) = keygen(dir, "registrar");
    let reg_key = load_key(&reg_path);
    let registrar = format!("kamer-van-commons={reg_pk}");
    meent_ok(&["init", "--data", data.to_str().unwrap(), "--origin", "meent.test/tiles", "--registrar", &registrar]);
    let grow = |to: u64| {
        let log = ledger::log::Log::open(&data).unwrap();
        while log.size() < to {
            // Applications, each admitted in the same group (at most 20 000
            // may be pending), the last one alone if one record is left.
            let n = (to - log.size()).min(4096) as usize;
            let base = log.size();
            let reg_key = &reg_key;
            let group: Vec<_> = std::thread::scope(|s| {
                let halves: Vec<_> = (0..2)
                    .map(|h| {
                        s.spawn(move || {
                            (0..n.div_ceil(2))
                                .filter(|i| i % 2 == h)
                                .map(|i| {
                                    let id = format!("collectief-{}", base as usize + i);
                                    let key = ledger::crypto::generate_key();
                                    let apply =
                                        sign(Kind::MemberApply, &id, &key, apply_body(&id, "Collectief", "collective"));
                                    let admit = sign(
                                        Kind::MemberAdmit,
                                        "kamer-van-commons",
                                        reg_key,
                                        serde_json::json!({"member": id}),
                                    );
                                    (apply, admit)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let pairs: Vec<_> = halves.into_iter().flat_map(|h| h.join().unwrap()).collect();
                let (mut applies, admits): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
                applies.extend(admits.into_iter().take(n / 2));
                applies
            });
            assert!(log.append(group, chrono::Utc::now()).iter().all(|r| r.is_ok()));
        }
    };
    let t = std::time::Instant::now();
    grow(records);
    println!("made {records} records in {:.1} s", t.elapsed().as_secs_f64());
    let (d, out) = (data.to_str().unwrap().to_string(), dir.join("copy"));
    let o = out.to_str().unwrap().to_string();
    let timed = |what: &str, args: &[&str]| {
        let t = std::time::Instant::now();
        meent_ok(args);
        let s = t.elapsed().as_secs_f64();
        println!("{what}: {s:.2} s");
        s
    };
    timed("meent tiles (new copy)", &["tiles", "--data", &d, "--out", &o]);
    grow(records + records / 100);
    timed("meent tiles (update, +1%)", &["tiles", "--data", &d, "--out", &o]);
    let data_s = timed("meent verify --data", &["verify", "--data", &d]);
    let dir_s = timed("meent verify --tiles DIR", &["verify", "--tiles", &o]);
    let url = static_server(out.clone());
    let http_s = timed("meent verify --tiles URL", &["verify", "--tiles", &url]);
    println!(
        "verify --tiles speed relative to verify --data: directory {:.2}x, static server {:.2}x",
        data_s / dir_s,
        data_s / http_s
    );
}
