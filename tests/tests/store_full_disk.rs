//! A full disk loses nothing (issue 20): the ledger lives on a small tmpfs;
//! entries are acknowledged until the disk fills, then writes are refused
//! with 503 `unavailable` while every acknowledged record can still be read
//! and proven; opening the store while the disk is full (`meent serve`,
//! `meent verify --data`) leaves nothing that is refused later; once space
//! returns, a restart opens the store with every acknowledged entry.
//!
//! Mounting a tmpfs needs root (CI runs as root). Where it cannot mount, the
//! test prints why and stops: it says "SKIPPED", it does not pass in silence.

mod common;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use ledger::entry::Kind;
use serde_json::Value;

/// A tmpfs mounted for the test, unmounted (detached) when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, bytes: u64) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let target = CString::new(dir.to_str().unwrap()).unwrap();
        let fstype = CString::new("tmpfs").unwrap();
        let opts = CString::new(format!("size={bytes},mode=0755")).unwrap();
        // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
        let rc = unsafe { libc::mount(fstype.as_ptr(), target.as_ptr(), fstype.as_ptr(), 0, opts.as_ptr().cast()) };
        if rc != 0 {
            return Err(format!("mount -t tmpfs on {}: {}", dir.display(), std::io::Error::last_os_error()));
        }
        Ok(Tmpfs { dir: dir.to_path_buf() })
    }

    /// Give the filesystem a new size (`mount -o remount,size=…`).
    fn resize(&self, bytes: u64) {
        let target = CString::new(self.dir.to_str().unwrap()).unwrap();
        let fstype = CString::new("tmpfs").unwrap();
        let opts = CString::new(format!("size={bytes}")).unwrap();
        // SAFETY: as in `mount`.
        let rc = unsafe {
            libc::mount(fstype.as_ptr(), target.as_ptr(), fstype.as_ptr(), libc::MS_REMOUNT, opts.as_ptr().cast())
        };
        assert_eq!(rc, 0, "remount {}: {}", self.dir.display(), std::io::Error::last_os_error());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let target = CString::new(self.dir.to_str().unwrap()).unwrap();
        // SAFETY: a valid path; MNT_DETACH never blocks on open files.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// A member.apply of about 15 KB (letters only, nothing that looks like personal data).
fn big_apply(n: usize) -> ledger::entry::VerifiedEntry {
    let id = format!("vol-{n}");
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let words = ["buurt", "tuin", "fiets", "moestuin", "koor", "kas", "school", "markt", "plein"];
    let purpose: String = (0..2600).map(|i| words[(i * 7 + n) % words.len()]).collect::<Vec<_>>().join(" ");
    let mut body = apply_body(&id, "Vereniging Volle Schijf", "collective");
    body["purpose"] = Value::String(purpose.chars().take(15_000).collect());
    sign(Kind::MemberApply, &id, &key, body)
}

/// Name, size and modification time of every file under `dir`.
fn listing(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        if m.is_dir() {
            out.extend(listing(&e.path()));
        } else {
            out.insert(e.path(), (m.len(), m.modified().unwrap()));
        }
    }
    out
}

/// Fill what is left of the filesystem at `dir` with one file.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).expect("create the filler");
    let block = vec![0x5au8; 64 * 1024];
    loop {
        if f.write_all(&block).is_err() {
            break;
        }
    }
    // The last bytes, one at a time.
    while f.write_all(&[0]).is_ok() && f.flush().is_ok() {}
    let _ = f.sync_all();
    p
}

fn verify_data(data: &Path) -> std::process::Output {
    meent(&["verify", "--data", data.to_str().unwrap(), "--json"])
}

#[test]
fn a_full_disk_loses_nothing_and_reads_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mnt = dir.join("small-disk");
    let disk = match Tmpfs::mount(&mnt, 6 << 20) {
        Ok(d) => d,
        Err(e) => {
            println!(
                "SKIPPED a_full_disk_loses_nothing_and_reads_keep_working: cannot mount a tmpfs ({e}); run as root"
            );
            return;
        }
    };
    let data = mnt.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/full-disk",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start_with(&data, &["--rate-limit", "off"]);
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // Write until the disk is full: every 201 is an acknowledged entry.
    let mut acked: Vec<(u64, Value)> = Vec::new();
    let mut refusal = None;
    let started = Instant::now();
    for n in 0..2000 {
        let e = big_apply(n);
        let (status, body) = post(&http, &server.url, &e);
        match status {
            201 => acked.push((body["seq"].as_u64().unwrap(), e.json.clone())),
            503 => {
                refusal = Some(body);
                break;
            }
            other => panic!("entry {n}: unexpected {other} {body}"),
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the disk never filled");
    }
    let refusal = refusal.expect("2000 entries of 15 KB did not fill a 6 MiB disk");
    assert_eq!(refusal["error"]["code"], "unavailable", "{refusal}");
    assert!(refusal["error"]["message"].as_str().unwrap().contains("full"), "{refusal}");
    assert!(acked.len() >= 20, "only {} entries were acknowledged before the disk filled", acked.len());
    println!("full disk: {} entries acknowledged, then {refusal}", acked.len());

    // Writes stay refused; reads and proofs of every acknowledged record keep working.
    assert_eq!(post(&http, &server.url, &big_apply(9999)).0, 503);
    let (s, cp) = get(&http, &server.url, "/v1/checkpoint");
    assert_eq!(s, 200, "{cp}");
    let size = acked.iter().map(|a| a.0).max().unwrap() + 1;
    for (seq, entry) in &acked {
        let (s, rec) = get(&http, &server.url, &format!("/v1/entries/{seq}"));
        assert_eq!(s, 200, "record {seq} after the disk filled: {rec}");
        assert_eq!(&rec["entry"], entry, "record {seq}");
        let (s, proof) = get(&http, &server.url, &format!("/v1/proofs/inclusion?seq={seq}&size={size}"));
        assert_eq!(s, 200, "inclusion proof of record {seq} after the disk filled: {proof}");
        let id = ledger::entry::VerifiedEntry::from_value(entry.clone()).unwrap().id.to_hex();
        let (s, by_id) = get(&http, &server.url, &format!("/v1/entries/id/{id}"));
        assert_eq!((s, by_id["seq"].as_u64()), (200, Some(*seq)), "{by_id}");
    }
    let (s, page) = get(&http, &server.url, &format!("/v1/entries?from=0&limit={size}"));
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["entries"].as_array().unwrap().len() as u64, size);
    // Nothing was half-written: the register and the health check still answer.
    assert_eq!(get(&http, &server.url, "/v1/members/vol-0").0, 200);
    let (s, health) = get(&http, &server.url, "/healthz");
    assert_eq!((s, health["tree_size"].as_u64()), (200, Some(size)), "{health}");

    // Room again: writes resume without a restart.
    disk.resize(10 << 20);
    let e = big_apply(5000);
    let (s, ack) = post(&http, &server.url, &e);
    assert_eq!(s, 201, "{ack}");
    acked.push((ack["seq"].as_u64().unwrap(), e.json.clone()));
    server.stop();

    // Now fill whatever the server left, and open the store on the full disk.
    let filler = fill(&mnt);
    let before = listing(&data);
    let out = verify_data(&data);
    assert!(
        out.status.success(),
        "verify --data on a full disk: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["size"].as_u64().unwrap() >= size, "{v}");
    assert_eq!(listing(&data), before, "verify --data changed the store it audited");
    // `meent serve` on the full disk may refuse to start; it must not damage the store.
    let mut child = meent_command()
        .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let served = child.wait_with_output().unwrap();
    println!("serve on the full disk: {:?} {}", served.status, String::from_utf8_lossy(&served.stderr));
    // Whatever opening on a full disk left, the audit still passes (it was
    // "corrupt store" once: an empty snap.*.generating file).
    let out = verify_data(&data);
    assert!(
        out.status.success(),
        "verify --data after serve on a full disk: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Space returns: every acknowledged entry is there, where it was acknowledged.
    std::fs::remove_file(&filler).unwrap();
    disk.resize(64 << 20);
    let leftovers: Vec<String> = std::fs::read_dir(data.join("store"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".generating"))
        .collect();
    println!("left by opening on a full disk: {leftovers:?}");
    let out = verify_data(&data);
    assert!(
        out.status.success(),
        "verify --data once space returned: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&data);
    let left = std::fs::read_dir(data.join("store"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".generating"));
    assert_eq!(left.count(), 0, "the server kept an unfinished snapshot");
    for (seq, entry) in &acked {
        let (s, rec) = get(&http, &server.url, &format!("/v1/entries/{seq}"));
        assert_eq!(s, 200, "record {seq} after the restart: {rec}");
        assert_eq!(&rec["entry"], entry, "record {seq} after the restart");
    }
    // And it takes writes again.
    assert_eq!(post(&http, &server.url, &big_apply(10_000)).0, 201);
    drop(server);
    drop(disk);
}
