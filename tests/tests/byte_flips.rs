//! Every single-byte change in an exported log, or in its checkpoint, is caught by
//! `meent verify --log`.

mod common;

use clap::Parser;
use common::*;
use ledger::entry::Kind;
use serde_json::json;

fn verify_log(log: &std::path::Path, checkpoint: &std::path::Path) -> bool {
    let cli = cli::cmd::Cli::try_parse_from([
        "meent",
        "verify",
        "--log",
        log.to_str().unwrap(),
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--json",
    ])
    .unwrap();
    cli::cmd::run(cli).is_ok()
}

#[test]
fn every_single_byte_change_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let (reg_key, reg_pk) = keygen(dir, "registrar");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/flips",
        "--registrar",
        &format!("registrar-een={reg_pk}"),
    ]);
    let mut server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    let k = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    assert_eq!(
        post(
            &http,
            &server.url,
            &sign(
                Kind::MemberApply,
                "buurtkas-zuid",
                &k,
                apply_body("buurtkas-zuid", "Buurtkas \"Zuid\" €", "collective")
            )
        )
        .0,
        201
    );
    let admit = sign(
        Kind::MemberAdmit,
        "registrar-een",
        &load_key(&reg_key),
        json!({"member": "buurtkas-zuid", "reason": "KvK checked"}),
    );
    assert_eq!(post(&http, &server.url, &admit).0, 201);
    let export = dir.join("small.jsonl");
    meent_ok(&["export", "--format", "jsonl", "--server", &server.url, "--out", export.to_str().unwrap()]);
    server.stop();
    let cp = dir.join("small.jsonl.checkpoint");
    assert!(verify_log(&export, &cp), "the untouched export must verify");

    let original = std::fs::read(&export).unwrap();
    let original_cp = std::fs::read(&cp).unwrap();
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, &original).unwrap();
    let mut checked = 0;
    for i in 0..original.len() {
        for m in [0x01u8, 0x20, 0x80] {
            let mut b = original.clone();
            b[i] ^= m;
            std::fs::write(&bad, &b).unwrap();
            assert!(
                !verify_log(&bad, &cp),
                "changing byte {i} ({:?}) with xor {m:#x} went unnoticed",
                original[i] as char
            );
            checked += 1;
        }
    }
    let bad_cp = dir.join("bad.checkpoint");
    for i in 0..original_cp.len() {
        for m in [0x01u8, 0x20] {
            let mut b = original_cp.clone();
            b[i] ^= m;
            std::fs::write(&bad_cp, &b).unwrap();
            assert!(!verify_log(&export, &bad_cp), "changing checkpoint byte {i} with xor {m:#x} went unnoticed");
            checked += 1;
        }
    }
    // Dropping or duplicating a record, or truncating the file, is caught too.
    let lines: Vec<&[u8]> = original.split_inclusive(|&c| c == b'\n').collect();
    for (i, _) in lines.iter().enumerate() {
        let dropped: Vec<u8> =
            lines.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, l)| l.to_vec()).collect();
        std::fs::write(&bad, &dropped).unwrap();
        assert!(!verify_log(&bad, &cp), "dropping record {i} went unnoticed");
    }
    std::fs::write(&bad, &original[..original.len() - 1]).unwrap();
    assert!(!verify_log(&bad, &cp));
    assert!(checked > 1000, "only {checked} changes checked");
}
