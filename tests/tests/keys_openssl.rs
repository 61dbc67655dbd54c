//! Keys move between meent and OpenSSL in both directions (SPEC §6): what
//! `meent keygen` writes, `openssl pkey` reads, with the same public key; what
//! `openssl genpkey -algorithm ed25519` writes, meent signs with, and the
//! server accepts. Uses the real `openssl` binary (CI installs it).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Run openssl; the test fails if it is not installed (CI installs it).
fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl").args(args).output().expect("openssl is installed (apt-get install openssl)")
}

/// The public key of a PEM private key as openssl computes it, in hex.
fn openssl_public_hex(key: &Path) -> String {
    let out = openssl(&["pkey", "-in", key.to_str().unwrap(), "-pubout", "-outform", "DER"]);
    assert!(out.status.success(), "openssl pkey -pubout: {}", String::from_utf8_lossy(&out.stderr));
    // SubjectPublicKeyInfo for Ed25519 is a fixed 12-byte header and the 32-byte key.
    assert_eq!(out.stdout.len(), 44, "unexpected SPKI length");
    hex::encode(&out.stdout[12..])
}

#[test]
fn openssl_reads_what_meent_keygen_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keygen(tmp.path(), "coop");
    let out = openssl(&["pkey", "-in", key.to_str().unwrap(), "-noout"]);
    assert!(out.status.success(), "openssl pkey refused meent's key file: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(openssl_public_hex(&key), public, "openssl derives another public key");
}

#[test]
fn meent_signs_with_what_openssl_genpkey_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let reg_key = dir.join("registrar.pem");
    let out = openssl(&["genpkey", "-algorithm", "ed25519", "-out", reg_key.to_str().unwrap()]);
    assert!(out.status.success(), "openssl genpkey: {}", String::from_utf8_lossy(&out.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&reg_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let reg_pk = openssl_public_hex(&reg_key);
    let data = dir.join("data");
    meent_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--origin",
        "meent.test/keys",
        "--registrar",
        &format!("kamer-van-commons={reg_pk}"),
    ]);
    let server = Server::start(&data);
    // A collective applies with a meent key; the registrar admits it with openssl's key.
    let (coop_key, _) = keygen(dir, "coop");
    meent_ok(&[
        "member",
        "apply",
        "--key",
        coop_key.to_str().unwrap(),
        "--as",
        "energie-coop-noord",
        "--name",
        "Energie Coöperatie Noord",
        "--kind",
        "collective",
        "--legal-form",
        "cooperatie",
        "--server",
        &server.url,
    ]);
    let admitted = meent_ok(&[
        "member",
        "admit",
        "--key",
        reg_key.to_str().unwrap(),
        "--as",
        "kamer-van-commons",
        "--member",
        "energie-coop-noord",
        "--server",
        &server.url,
    ]);
    assert!(admitted.contains("member.admit"), "{admitted}");
    let (code, member) = get(&reqwest::blocking::Client::new(), &server.url, "/v1/members/energie-coop-noord");
    assert_eq!(code, 200, "{member}");
    assert_eq!(member["status"], "admitted", "{member}");
}
