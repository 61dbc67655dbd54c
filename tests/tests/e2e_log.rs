//! End to end: a new ledger, the real server on 127.0.0.1:0, members registered
//! over HTTP and with the CLI, every kind of bad submission refused with nothing
//! changed, a restart, and a full audit from the server, the data directory and
//! an exported file.

mod common;

use common::*;
use ledger::entry::Kind;
use serde_json::json;

#[test]
fn register_restart_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (reg_key, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/amsterdam",
        "--registrar",
        &format!("kamer-van-commons={reg_pk}"),
    ]);
    let mut server = Server::start(&data);
    let url = server.url.clone();
    let http = reqwest::blocking::Client::new();

    // Two collectives apply and are admitted through the CLI.
    let mut keys = Vec::new();
    for (id, name) in [("energie-coop-noord", "Energie Coöperatie Noord"), ("voedselbank-west", "Voedselbank West")] {
        let (k, _) = keygen(dir, id);
        let out = meent_ok(&[
            "member",
            "apply",
            "--key",
            k.to_str().unwrap(),
            "--as",
            id,
            "--name",
            name,
            "--kind",
            "collective",
            "--legal-form",
            "stichting",
            "--server",
            &url,
        ]);
        assert!(out.contains("member.apply recorded"), "{out}");
        meent_ok(&[
            "member",
            "admit",
            "--key",
            reg_key.to_str().unwrap(),
            "--as",
            "kamer-van-commons",
            "--member",
            id,
            "--server",
            &url,
        ]);
        keys.push((id, k));
    }

    // The municipality applies over raw HTTP; resubmitting the same entry returns the same position with 200.
    let muni_key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let apply = sign(
        Kind::MemberApply,
        "gemeente-amsterdam",
        &muni_key,
        json!({"id": "gemeente-amsterdam", "name": "Gemeente Amsterdam", "member_kind": "municipality", "legal_form": "public_body"}),
    );
    let (s1, b1) = post(&http, &url, &apply);
    assert_eq!(s1, 201, "{b1}");
    let (s2, b2) = post(&http, &url, &apply);
    assert_eq!(s2, 200, "{b2}");
    assert_eq!(b1["seq"], b2["seq"]);
    assert_eq!(b1["id"], b2["id"]);
    assert_eq!(b1["id"].as_str().unwrap(), apply.id.to_hex());
    // The answer carries the record's leaf hash and a tree size that covers it.
    assert_eq!(b1["leaf_hash"].as_str().unwrap().len(), 64);
    assert!(b1["tree_size"].as_u64().unwrap() > b1["seq"].as_u64().unwrap());
    let (_, proof) = get(&http, &url, &format!("/v1/proofs/inclusion?seq={}&size={}", b1["seq"], b1["tree_size"]));
    assert_eq!(proof["leaf_hash"], b1["leaf_hash"], "{proof}");
    let admit =
        sign(Kind::MemberAdmit, "kamer-van-commons", &load_key(&reg_key), json!({"member": "gemeente-amsterdam"}));
    assert_eq!(post(&http, &url, &admit).0, 201);

    let size_before = get(&http, &url, "/healthz").1["tree_size"].as_u64().unwrap();
    let checkpoint_before = http.get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap();

    // Refusals: each with its status and code, and nothing changes.
    let coop_key = load_key(&keys[0].1);
    let mut tampered = sign(Kind::KeyRotate, "energie-coop-noord", &coop_key, json!({"new_key": hex::encode(ed25519_dalek::SigningKey::from_bytes(&rand::random()).verifying_key().to_bytes())})).json;
    let sig = tampered["sig"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]);
    tampered["sig"] = json!(flipped);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("tampered signature", serde_json::to_vec(&tampered).unwrap(), 401, "bad_signature"),
        (
            "signed with another member's key",
            serde_json::to_vec(&sign(Kind::MemberAdmit, "kamer-van-commons", &coop_key, json!({"member": "voedselbank-west"})).json).unwrap(),
            401,
            "wrong_key",
        ),
        (
            "unknown field",
            {
                let mut v = sign(Kind::MemberApply, "nieuw-lid", &ed25519_dalek::SigningKey::from_bytes(&rand::random()), apply_body("nieuw-lid", "Nieuw", "collective")).json;
                v["body"]["iban"] = json!("NL00BANK0123456789");
                serde_json::to_vec(&v).unwrap()
            },
            400,
            "malformed",
        ),
        (
            "float as amount",
            br#"{"v":1,"kind":"contribution","author":"energie-coop-noord","key":"00","at":"2026-11-27T12:00:00Z","nonce":"00","body":{"fund":"x","amount":12.5,"reference":"r"},"sig":"00"}"#.to_vec(),
            400,
            "malformed",
        ),
        ("not JSON", b"hello".to_vec(), 400, "malformed"),
        (
            "duplicate member id",
            serde_json::to_vec(&sign(Kind::MemberApply, "voedselbank-west", &ed25519_dalek::SigningKey::from_bytes(&rand::random()), apply_body("voedselbank-west", "Copycat", "collective")).json).unwrap(),
            409,
            "duplicate_member",
        ),
        (
            "admission by a non-registrar",
            serde_json::to_vec(&sign(Kind::MemberAdmit, "energie-coop-noord", &coop_key, json!({"member": "gemeente-amsterdam"})).json).unwrap(),
            403,
            "not_registrar",
        ),
        (
            "reused key",
            serde_json::to_vec(&sign(Kind::MemberApply, "kloon-coop", &coop_key, apply_body("kloon-coop", "Kloon", "collective")).json).unwrap(),
            409,
            "key_reused",
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, b) = post_raw(&http, &url, body);
        assert_eq!(s, status, "{what}: {b}");
        if !code.is_empty() {
            assert_eq!(b["error"]["code"], code, "{what}: {b}");
            assert!(!b["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    // An oversized body is refused by its declared length, before it is read.
    assert_eq!(post_declared_length(&url, 2 * 1024 * 1024), 413);

    // A clock far off is refused.
    let old = ledger::entry::sign_entry(
        Kind::MemberApply,
        &"te-laat".parse().unwrap(),
        &ed25519_dalek::SigningKey::from_bytes(&rand::random()),
        &"2020-01-01T00:00:00Z".parse().unwrap(),
        apply_body("te-laat", "Te Laat", "collective"),
    )
    .unwrap();
    let (s, b) = post(&http, &url, &old);
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("clock_skew")), "{b}");
    assert_eq!(get(&http, &url, "/healthz").1["tree_size"].as_u64().unwrap(), size_before, "a refusal changed the log");
    assert_eq!(http.get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap(), checkpoint_before);

    // Key rotation: the old key stops working, the new one works.
    let (new_key_path, new_pk) = keygen(dir, "coop-new");
    meent_ok(&[
        "member",
        "rotate-key",
        "--key",
        keys[0].1.to_str().unwrap(),
        "--as",
        "energie-coop-noord",
        "--new-key",
        new_key_path.to_str().unwrap(),
        "--server",
        &url,
    ]);
    let (_, m) = get(&http, &url, "/v1/members/energie-coop-noord");
    assert_eq!(m["key"], new_pk);
    let again = sign(
        Kind::KeyRotate,
        "energie-coop-noord",
        &coop_key,
        json!({"new_key": hex::encode(ed25519_dalek::SigningKey::from_bytes(&rand::random()).verifying_key().to_bytes())}),
    );
    let (s, b) = post(&http, &url, &again);
    assert_eq!((s, b["error"]["code"].as_str()), (401, Some("wrong_key")));

    // Reads.
    let (s, e0) = get(&http, &url, "/v1/entries/0");
    assert_eq!(s, 200);
    assert_eq!(e0["entry"]["kind"], "genesis");
    let (_, by_id) = get(&http, &url, &format!("/v1/entries/id/{}", apply.id.to_hex()));
    assert_eq!(by_id["seq"], b1["seq"]);
    assert_eq!(get(&http, &url, "/v1/entries/999").0, 404);
    assert_eq!(get(&http, &url, "/v1/entries/abc").0, 400);
    assert_eq!(get(&http, &url, "/v1/entries?limit=5000").0, 400);
    assert_eq!(get(&http, &url, "/v1/members/nobody-here").0, 404);
    let (_, page) = get(&http, &url, "/v1/entries?from=1&limit=2");
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_eq!(page["next"], 3);
    let size = get(&http, &url, "/healthz").1["tree_size"].as_u64().unwrap();
    let (s, inc) = get(&http, &url, &format!("/v1/proofs/inclusion?seq=2&size={size}"));
    assert_eq!(s, 200, "{inc}");
    let (s, _) = get(&http, &url, &format!("/v1/proofs/consistency?from=2&to={size}"));
    assert_eq!(s, 200);
    assert_eq!(get(&http, &url, &format!("/v1/proofs/inclusion?seq={size}&size={size}")).0, 400);

    // Save a checkpoint as an auditor would, restart, and verify everything.
    let trusted = dir.join("trusted.checkpoint");
    std::fs::write(&trusted, http.get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap()).unwrap();
    server.stop();
    // The state snapshot is only a cache: without it the server replays from genesis.
    let _ = std::fs::remove_file(data.join("store").join("state-snapshot.bin"));
    let mut server = Server::start(&data);
    let url = server.url.clone();
    let (_, m) = get(&http, &url, "/v1/members/gemeente-amsterdam");
    assert_eq!(m["status"], "admitted");
    let extra = sign(
        Kind::MemberApply,
        "zorgcollectief-oost",
        &ed25519_dalek::SigningKey::from_bytes(&rand::random()),
        apply_body("zorgcollectief-oost", "Zorgcollectief Oost", "collective"),
    );
    assert_eq!(post(&http, &url, &extra).0, 201);
    let out = meent_ok(&["verify", "--server", &url, "--trusted", trusted.to_str().unwrap()]);
    assert!(out.contains("consistent with the trusted checkpoint"), "{out}");
    let export = dir.join("log.jsonl");
    meent_ok(&["export", "--format", "jsonl", "--server", &url, "--out", export.to_str().unwrap()]);
    server.stop();
    let out = meent_ok(&["verify", "--data", data.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["size"].as_u64().unwrap(), size + 1);
    meent_ok(&["verify", "--log", export.to_str().unwrap(), "--trusted", trusted.to_str().unwrap()]);
}

#[test]
fn verify_refuses_a_rewritten_history() {
    // A checkpoint from another ledger with the same origin and operator is not consistent.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/x",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let out = meent(&["verify", "--data", data.join("nope").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let bogus = dir.join("bogus.checkpoint");
    std::fs::write(&bogus, "meent.test/x\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— meent.test/x AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    let out = meent(&["verify", "--data", data.to_str().unwrap(), "--trusted", bogus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Send only the headers of a POST that declares `len` bytes; return the status.
fn post_declared_length(url: &str, len: usize) -> u16 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
    .unwrap();
    s.write_all(&vec![b' '; 1024]).unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"))
}

/// A record altered on disk is detected when the server opens the store, and the
/// server refuses to serve it, naming the record.
#[test]
fn a_tampered_store_is_refused_naming_the_record() {
    use ledger::store::{Commit, Store};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/tamper",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    for i in 0..5 {
        let id = format!("lid-{i}");
        let k = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        assert_eq!(
            post(&http, &server.url, &sign(Kind::MemberApply, &id, &k, apply_body(&id, "Lid", "collective"))).0,
            201
        );
    }
    server.stop();

    // Rewrite record 3 with one character of its name changed (the signature no longer matters: the hash does).
    {
        let store = open_store(&data.join("store"));
        let rec = store.record(3).unwrap().unwrap();
        let text = String::from_utf8(rec).unwrap().replacen("\"name\":\"Lid\"", "\"name\":\"Lia\"", 1);
        let id = ledger::entry::VerifiedEntry::from_value(
            serde_json::from_str::<serde_json::Value>(&text).unwrap()["entry"].clone(),
        )
        .map(|e| e.id);
        let id = id.unwrap_or(ledger::ids::EntryId([0; 32]));
        store.commit(&Commit { records: vec![(3, id, text.into_bytes())], ..Commit::default() }).unwrap();
    }
    let last = serve_refusal(&data);
    assert!(last.contains("corrupt ledger") && last.contains("record 3"), "{last}");
    // The auditor's view of the same store names it too.
    let out = meent(&["verify", "--data", data.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("record 3"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// An entry stored twice (record 3 replaced by a replay of record 2, under
/// another id in the index) is named by `meent verify`; two records under one
/// id are refused when the store opens.
#[test]
fn a_replayed_entry_is_named() {
    use ledger::store::{Commit, Store};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/replay",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    for i in 0..3 {
        let id = format!("lid-{i}");
        let k = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        assert_eq!(
            post(&http, &server.url, &sign(Kind::MemberApply, &id, &k, apply_body(&id, "Lid", "collective"))).0,
            201
        );
    }
    server.stop();
    let replay = |id: ledger::ids::EntryId| {
        let store = open_store(&data.join("store"));
        let rec = String::from_utf8(store.record(2).unwrap().unwrap()).unwrap();
        let again = rec.replacen("\"seq\":2", "\"seq\":3", 1);
        assert_ne!(rec, again);
        store.commit(&Commit { records: vec![(3, id, again.into_bytes())], ..Commit::default() }).unwrap();
    };
    let real = {
        let store = open_store(&data.join("store"));
        let rec = ledger::record::Record::from_leaf_bytes(&store.record(2).unwrap().unwrap()).unwrap();
        rec.entry.id
    };
    // Under another id in the index, the store opens: the auditor names the repeat.
    replay(ledger::ids::EntryId([0; 32]));
    let out = verify_data(&data);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("record 3") && err.contains("repeats entry") && err.contains("record 2"), "{err}");
    // Under its own id, the store itself is refused.
    replay(real);
    let out = verify_data(&data);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    // (`verify --data` opens a read-only copy, which reads on past the index to the first bad record.)
    assert!(
        err.contains("records 2 and 3 carry the same entry id")
            || (err.contains("record 3") && err.contains("repeats entry") && err.contains("record 2")),
        "{err}"
    );
}

/// An interior tree node altered on disk (which would give bad proofs) is refused too.
#[test]
fn a_tampered_tree_node_is_refused() {
    use ledger::store::{Commit, Store};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (_, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/node",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    // Nodes of levels 1-3 are recomputed from the leaf hashes; from level 4 up they are stored.
    for i in 0..16 {
        let id = format!("lid-{i}");
        let k = ed25519_dalek::SigningKey::from_bytes(&rand::random());
        assert_eq!(
            post(&http, &server.url, &sign(Kind::MemberApply, &id, &k, apply_body(&id, "Lid", "collective"))).0,
            201
        );
    }
    server.stop();
    {
        let store = open_store(&data.join("store"));
        store.commit(&Commit { nodes: vec![(4, 0, [7u8; 32])], ..Commit::default() }).unwrap();
    }
    let last = serve_refusal(&data);
    assert!(last.contains("corrupt ledger") && last.contains("tree node (4, 0)"), "{last}");
}

/// Open the store directly. sled lets go of its lock shortly after the last
/// handle (of this process or another) is dropped, so a lock error is retried.
fn open_store(path: &std::path::Path) -> ledger::store::sled_store::SledStore {
    for _ in 0..50 {
        match ledger::store::sled_store::SledStore::open(path) {
            Ok(s) => return s,
            Err(e) if e.to_string().contains("lock") => std::thread::sleep(std::time::Duration::from_millis(100)),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the store stayed locked");
}

/// `meent verify --data`, retried while the store is still locked (see [`open_store`]).
fn verify_data(data: &std::path::Path) -> std::process::Output {
    for _ in 0..50 {
        let out = meent(&["verify", "--data", data.to_str().unwrap()]);
        if !String::from_utf8_lossy(&out.stderr).contains("lock") {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the store stayed locked");
}

/// Start `meent serve` on a store that must be refused; its error (exit 2). sled lets go of its
/// lock shortly after this process dropped its handle, so a lock error is retried.
fn serve_refusal(data: &std::path::Path) -> String {
    for _ in 0..50 {
        let out = meent(&["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if !err.contains("lock") {
            assert_eq!(out.status.code(), Some(2), "{err}");
            return err;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the store stayed locked");
}
