//! A damaged store is named, audited read-only, and salvaged (issue 20):
//! - one flipped byte anywhere in the store's files gives an error naming the
//!   file (and, where the damage is in a record, the record), never a panic,
//!   never a wrong answer: `meent verify --data` either fails so, or passes
//!   its full audit (the byte was in space sled no longer uses);
//! - `meent verify --data` writes nothing in the directory it audits;
//! - `meent salvage` exports the intact records up to the first bad one,
//!   `meent verify --log` accepts the export, and `meent init --from-log`
//!   rebuilds a ledger with the same records and root.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use ledger::entry::Kind;
use serde_json::Value;

/// How many member.apply entries the test ledger holds after genesis.
const ENTRIES: usize = 120;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A ledger of genesis and ENTRIES applications, written by the real server and stopped.
fn ledger(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/damaged",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start_with(&data, &["--rate-limit", "off"]);
    let http = reqwest::blocking::Client::new();
    for n in 0..ENTRIES {
        let id = format!("lid-{n:04}");
        let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let name = format!("Vereniging Nummer {n:04} Merkteken");
        let e = sign(Kind::MemberApply, &id, &key, apply_body(&id, &name, "collective"));
        assert_eq!(post(&http, &server.url, &e).0, 201);
    }
    server.stop();
    data
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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn flip(file: &Path, at: usize) {
    let mut b = std::fs::read(file).unwrap();
    b[at] ^= 0x20;
    std::fs::write(file, b).unwrap();
}

fn verify(data: &Path) -> Output {
    meent(&["verify", "--data", data.to_str().unwrap(), "--json"])
}

#[test]
fn verify_data_writes_nothing_in_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ledger(tmp.path());
    // Read-only by permission too (root ignores it: the listing below is the real check).
    let chmod = std::process::Command::new("chmod").args(["-R", "a-w", data.to_str().unwrap()]).status().unwrap();
    assert!(chmod.success());
    let before = listing(&data);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = verify(&data);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["size"], ENTRIES as u64 + 1);
    assert_eq!(listing(&data), before, "meent verify --data changed files in the directory it audited");
    // A read-only salvage of an intact store is the whole log.
    let out_file = tmp.path().join("all.jsonl");
    let out = meent(&["salvage", "--data", data.to_str().unwrap(), "--out", out_file.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["salvaged"].as_u64(), v["complete"].as_bool()), (Some(ENTRIES as u64 + 1), Some(true)), "{v}");
    assert_eq!(listing(&data), before, "meent salvage changed files in the directory it read");
    let chmod = std::process::Command::new("chmod").args(["-R", "u+w", data.to_str().unwrap()]).status().unwrap();
    assert!(chmod.success());
}

#[test]
fn every_flipped_byte_is_named_or_harmless() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ledger(tmp.path());
    let store = data.join("store");
    let files: Vec<PathBuf> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    let work = tmp.path().join("work");
    let (mut named, mut harmless) = (0, 0);
    for file in &files {
        let len = std::fs::metadata(file).unwrap().len() as usize;
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        // Up to 24 positions spread over the file, first and last bytes included.
        let step = (len / 23).max(1);
        let mut positions: Vec<usize> = (0..len).step_by(step).collect();
        positions.push(len - 1);
        positions.dedup();
        for at in positions {
            let _ = std::fs::remove_dir_all(&work);
            copy_dir(&data, &work);
            flip(&work.join("store").join(&name), at);
            let out = verify(&work);
            let code = out.status.code();
            assert!(code != Some(101) && code.is_some(), "byte {at} of {name}: meent panicked or died: {}", text(&out));
            if out.status.success() {
                // Passing means the full audit (every record, signature, rule, the signed root) held.
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["size"], ENTRIES as u64 + 1, "byte {at} of {name}: a shorter log verified: {v}");
                harmless += 1;
            } else {
                let t = text(&out);
                assert!(t.contains(&name) || t.contains("store"), "byte {at} of {name}: the error names no file: {t}");
                named += 1;
            }
        }
    }
    println!("flipped bytes: {named} named the damage, {harmless} in unused space (full audit passed)");
    assert!(named > 0, "no flipped byte was detected at all");
}

/// The bytes of `marker` in the store's `db` file: every copy of it.
fn occurrences(file: &Path, marker: &[u8]) -> Vec<usize> {
    let b = std::fs::read(file).unwrap();
    b.windows(marker.len()).enumerate().filter(|(_, w)| *w == marker).map(|(i, _)| i).collect()
}

#[test]
fn salvage_and_restore_keep_every_intact_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = ledger(dir);
    // The untouched log, for comparison.
    let full = dir.join("full.jsonl");
    meent_ok(&["salvage", "--data", data.to_str().unwrap(), "--out", full.to_str().unwrap()]);
    let full_lines: Vec<String> = std::fs::read_to_string(&full).unwrap().lines().map(String::from).collect();
    assert_eq!(full_lines.len(), ENTRIES + 1);

    // Damage record 81 (the application numbered 0080) wherever its bytes are.
    let bad_seq = 81usize;
    let db = data.join("store").join("db");
    let marker = format!("Vereniging Nummer {:04} Merkteken", bad_seq - 1);
    let at = occurrences(&db, marker.as_bytes());
    assert!(!at.is_empty(), "record {bad_seq} is not stored in plain bytes in {}", db.display());
    for a in at {
        flip(&db, a + 11);
    }
    let out = verify(&data);
    assert!(!out.status.success(), "the damaged store verified: {}", text(&out));
    let t = text(&out);
    assert!(t.contains("store/db") || t.contains("store"), "names no file: {t}");
    println!("verify --data on the damaged store: {t}");
    // The server refuses it too, naming the file.
    let served = meent(&["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert!(!served.status.success(), "the server started on a damaged store");
    assert!(text(&served).contains("db"), "{}", text(&served));

    let salvaged = dir.join("salvaged.jsonl");
    let out = meent(&["salvage", "--data", data.to_str().unwrap(), "--out", salvaged.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "salvage: {}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = v["salvaged"].as_u64().unwrap() as usize;
    println!("salvage: {v} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(v["complete"], false, "{v}");
    assert!(n <= bad_seq, "salvaged {n} records, past the damaged record {bad_seq}");
    assert!(n >= 1, "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("past record {n}")), "{}", text(&out));
    let lines: Vec<String> = std::fs::read_to_string(&salvaged).unwrap().lines().map(String::from).collect();
    assert_eq!(lines, full_lines[..n].to_vec(), "the salvaged records are not the intact prefix");
    let out = meent(&["verify", "--log", salvaged.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "verify --log of the salvage: {}", text(&out));
    let salvaged_root = serde_json::from_slice::<Value>(&out.stdout).unwrap()["root"].clone();

    // Rebuild a ledger from it: same records, same root.
    let restored = dir.join("restored");
    let key = data.join("operator.pem");
    meent_ok(&[
        "init",
        "--data",
        restored.to_str().unwrap(),
        "--from-log",
        salvaged.to_str().unwrap(),
        "--operator-key",
        key.to_str().unwrap(),
    ]);
    let out = verify(&restored);
    assert!(out.status.success(), "verify --data of the restored ledger: {}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["size"].as_u64(), &v["root"]), (Some(n as u64), &salvaged_root), "{v}");
    // The root of the intact prefix of the untouched log is the same.
    let prefix = dir.join("prefix.jsonl");
    std::fs::write(&prefix, full_lines[..n].iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    std::fs::copy(dir.join("salvaged.jsonl.checkpoint"), dir.join("prefix.jsonl.checkpoint")).unwrap();
    let out = meent(&["verify", "--log", prefix.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    // The restored ledger serves and takes new entries.
    let server = Server::start(&restored);
    let http = reqwest::blocking::Client::new();
    let (s, r) = get(&http, &server.url, &format!("/v1/entries/{}", n - 1));
    assert_eq!(s, 200, "{r}");
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let e = sign(Kind::MemberApply, "lid-nieuw", &key, apply_body("lid-nieuw", "Nieuw", "collective"));
    let (s, ack) = post(&http, &server.url, &e);
    assert_eq!((s, ack["seq"].as_u64()), (201, Some(n as u64)), "{ack}");
    // A log whose records were changed is refused before anything is stored.
    let mut tampered = full_lines.clone();
    tampered[5] = tampered[5].replacen("Nummer", "NUMMER", 1);
    let bad_log = dir.join("tampered.jsonl");
    std::fs::write(&bad_log, tampered.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    std::fs::copy(dir.join("full.jsonl.checkpoint"), dir.join("tampered.jsonl.checkpoint")).unwrap();
    let out = meent(&[
        "init",
        "--data",
        dir.join("never").to_str().unwrap(),
        "--from-log",
        bad_log.to_str().unwrap(),
        "--operator-key",
        data.join("operator.pem").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("record 5"), "{}", text(&out));
    assert!(!dir.join("never").exists(), "a refused log left a directory behind");
}
