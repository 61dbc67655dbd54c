//! Errors that say how to fix them (issue 19): each test runs the real binary
//! into one mistake a new user makes and checks that the message names the
//! fix, not just the failure. Also: amounts as people type them, entry-id
//! prefixes, and `verify`/`export` reading `MEENT_SERVER`.

mod common;
mod scene;

use std::path::Path;
use std::process::Command;

use common::{meent_command, Server};
use scene::*;

const FUND: &str = "warmtefonds-noord";
const COOP: &str = "energie-coop-noord";
const FOOD: &str = "voedselbank-noord";

/// A ledger with two collectives and a fund both belong to.
fn fund_scene() -> Scene {
    let mut sc = Scene::start();
    sc.member(COOP, "Energiecoöperatie Noord", "collective");
    sc.member(FOOD, "Voedselbank Noord", "collective");
    sc.as_member(
        COOP,
        &[
            "fund",
            "create",
            "--id",
            FUND,
            "--name",
            "Warmtefonds Noord",
            "--purpose",
            "Heat",
            "--treasurer",
            COOP,
            "--treasurer",
            FOOD,
            "--approvals",
            "1",
        ],
    );
    sc.as_member(FOOD, &["fund", "join", "--fund", FUND]);
    sc
}

/// Run with the scene's member signing; (code, stdout, stderr).
fn as_member(sc: &Scene, id: &str, args: &[&str]) -> (i32, String, String) {
    let mut v: Vec<&str> = args.to_vec();
    let key = s(sc.key(id)).to_string();
    v.extend(["--key", &key, "--as", id, "--server", &sc.url]);
    run(&v)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn no_server_says_start_one_or_pass_server() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, _, err) = run(&["member", "list", "--server", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("start `meent serve`") && err.contains("--server"), "{err}");
}

#[test]
fn a_missing_scheme_says_the_url_to_use() {
    let (code, _, err) = run(&["member", "list", "--server", "127.0.0.1:8080"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--server http://127.0.0.1:8080"), "{err}");
    assert!(!err.contains("relative URL"), "{err}");
}

#[test]
fn a_locked_store_names_the_process_holding_it() {
    let sc = Scene::start();
    let data = sc.dir.join("data");
    let pid = sc.server.child.id().to_string();
    let (code, _, err) = run(&["verify", "--data", s(&data)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("in use by") && err.contains("--server"), "{err}");
    assert!(!err.contains("WouldBlock"), "{err}");
    if Path::new("/proc/locks").exists() {
        assert!(err.contains(&format!("process {pid} (")) && err.contains("serve"), "names the server: {err}");
    }
    // A second server on the same data says the same.
    let out = meent_command().args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("in use by") && err.contains("only one process"), "{err}");
}

#[test]
fn a_key_that_is_not_the_members_current_key_shows_both() {
    let sc = fund_scene();
    let (_, their) = common::keygen(&sc.dir, "someone-else");
    let coop_pk = common::meent_ok(&["member", "list", "--json", "--server", &sc.url]);
    let v: serde_json::Value = serde_json::from_str(&coop_pk).expect("json");
    let current =
        v["members"].as_array().unwrap().iter().find(|m| m["id"] == COOP).unwrap()["key"].as_str().unwrap().to_string();
    let other = sc.dir.join("someone-else.pem");
    let (code, _, err) = run(&[
        "contribute",
        "--fund",
        FUND,
        "--amount",
        "10",
        "--reference",
        "R-1",
        "--key",
        s(&other),
        "--as",
        COOP,
        "--server",
        &sc.url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&their) && err.contains(&current), "both keys: {err}");
    assert!(err.contains("current key"), "{err}");
}

#[test]
fn a_key_of_another_algorithm_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases: &[(&[&str], &str)] = &[
        (&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], "RSA"),
        (&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "EC P-256"),
        (&["-algorithm", "X25519"], "X25519"),
        (&["-algorithm", "ED448"], "Ed448"),
    ];
    let mut ran = 0;
    for (args, name) in cases {
        let p = dir.path().join(format!("{}.pem", name.replace(' ', "-")));
        let ok = Command::new("openssl")
            .arg("genpkey")
            .args(*args)
            .args(["-out", s(&p)])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("openssl cannot make a {name} key here; skipped");
            continue;
        }
        ran += 1;
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let (code, _, err) = run(&[
            "contribute",
            "--fund",
            FUND,
            "--amount",
            "10",
            "--reference",
            "R-1",
            "--key",
            s(&p),
            "--as",
            COOP,
            "--server",
            "http://127.0.0.1:9",
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("holds an {name} key")) && err.contains("meent keygen"), "{name}: {err}");
    }
    if std::env::var_os("CI").is_some() {
        assert!(ran > 0, "openssl made no key");
    }
}

#[test]
fn a_replaced_vote_says_which_vote_it_replaces_and_ids_take_prefixes() {
    let sc = fund_scene();
    sc.as_member(COOP, &["contribute", "--fund", FUND, "--amount", "100", "--reference", "R-100"]);
    let id = sc
        .as_member(
            COOP,
            &[
                "propose",
                "--fund",
                FUND,
                "--kind",
                "allocation",
                "--title",
                "Pilot",
                "--amount",
                "50",
                // The recipient may not vote on its own allocation: the food bank votes, the co-op is paid.
                "--recipient",
                COOP,
                "--quiet",
            ],
        )
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "--quiet prints the id: {id}");
    let prefix = &id[..8];
    let (code, _, err) = as_member(&sc, FOOD, &["vote", "--proposal", prefix, "--choice", "yes"]);
    assert_eq!(code, 0, "a prefix of 8: {err}");
    assert!(!err.contains("replaces"), "{err}");
    let (code, _, err) = as_member(&sc, FOOD, &["vote", "--proposal", &id[..10], "--choice", "no"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("replaces your vote of yes"), "{err}");
    // Too short, or matching nothing: said so.
    let (code, _, err) = as_member(&sc, FOOD, &["vote", "--proposal", &id[..6], "--choice", "no"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at least 8"), "{err}");
    let other = if id.starts_with("ffffffff") { "eeeeeeee" } else { "ffffffff" };
    let (code, _, err) = as_member(&sc, FOOD, &["vote", "--proposal", other, "--choice", "no"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no entry id"), "{err}");
    // The new list shows it, open, with its short id.
    let list = common::meent_ok(&["proposal", "list", "--fund", FUND, "--open", "--server", &sc.url]);
    assert!(list.contains(&id[..12]) && list.contains("Pilot"), "{list}");
}

#[test]
fn a_fund_id_typo_names_the_nearest_fund() {
    let sc = fund_scene();
    let (code, _, err) =
        as_member(&sc, COOP, &["contribute", "--fund", "warmtefond-noord", "--amount", "5", "--reference", "X"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("did you mean warmtefonds-noord"), "{err}");
    let (code, _, err) = run(&["fund", "show", "warmtefonds-nord", "--server", &sc.url]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("did you mean warmtefonds-noord"), "{err}");
}

#[test]
fn amounts_as_typed_are_echoed_and_ambiguous_ones_refused() {
    let sc = fund_scene();
    let (code, _, err) =
        as_member(&sc, COOP, &["contribute", "--fund", FUND, "--amount", "€ 12,50", "--reference", "R-12"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("amount: 12.50"), "{err}");
    let flows = sc.get(&format!("/v1/funds/{FUND}/flows"));
    assert_eq!(flows["contributions"][0]["amount"], "12.50");
    let (code, _, err) =
        as_member(&sc, COOP, &["contribute", "--fund", FUND, "--amount", "1.000", "--reference", "R-13"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("thousands"), "{err}");
}

#[test]
fn verify_and_export_read_meent_server() {
    let sc = Scene::start();
    let out = meent_command().args(["verify"]).env("MEENT_SERVER", &sc.url).output().expect("verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
    let out =
        meent_command().args(["export", "--format", "jsonl"]).env("MEENT_SERVER", &sc.url).output().expect("export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"genesis\""));
    drop(sc);
    let _ = Server::start; // the scene's server is the one read
}
