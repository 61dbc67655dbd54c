//! End to end: witnesses (docs/WITNESS.md). A collective runs `meent witness
//! serve`; it cosigns the log's checkpoints over C2SP tlog-witness, refuses a
//! split view (a second checkpoint of the same size, also signed by the
//! operator's key), keeps its state across restarts, and `meent verify
//! --witness … --quorum N` accepts only a checkpoint the witnesses cosigned.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::*;
use ledger::checkpoint::{self, Checkpoint};
use ledger::entry::Kind;
use ledger::witness::{self, AddCheckpoint};

const ORIGIN: &str = "meent.test/witnessed";

/// A running `meent witness serve`.
struct WitnessProc {
    child: Child,
    url: String,
    vkey: String,
}

impl WitnessProc {
    fn start(data: &Path, key: &Path, name: &str, log: &str) -> WitnessProc {
        let mut child = meent_command()
            .args(["witness", "serve", "--data", data.to_str().unwrap(), "--key", key.to_str().unwrap()])
            .args(["--name", name, "--log", log, "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn meent witness serve");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (mut line, mut vkey_line) = (String::new(), String::new());
        reader.read_line(&mut line).unwrap();
        reader.read_line(&mut vkey_line).unwrap();
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_string();
        let vkey = vkey_line.trim().strip_prefix("verifier key: ").expect("the verifier key").to_string();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        WitnessProc { child, url, vkey }
    }

    /// POST add-checkpoint: status, content type and body.
    fn add(&self, req: &AddCheckpoint) -> (u16, String, String) {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}/add-checkpoint", self.url))
            .body(req.to_body())
            .send()
            .expect("POST add-checkpoint");
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, ct, resp.text().unwrap())
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new ledger: its data directory and the operator's public key (hex).
fn init_ledger(dir: &Path) -> (PathBuf, String) {
    let data = dir.join("data");
    let out = meent_ok(&["init", "--data", data.to_str().unwrap(), "--origin", ORIGIN]);
    let operator = out
        .lines()
        .find_map(|l| l.strip_prefix("operator key: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the operator key")
        .to_owned();
    (data, operator)
}

/// `n` collectives apply.
fn apply(url: &str, tag: &str, n: usize) {
    let http = reqwest::blocking::Client::new();
    for i in 0..n {
        let id = format!("collectief-{tag}{i}");
        let key = ledger::crypto::generate_key();
        let e = sign(Kind::MemberApply, &id, &key, apply_body(&id, "Collectief", "collective"));
        let (status, body) = post(&http, url, &e);
        assert_eq!(status, 201, "{body}");
    }
}

/// A ledger with `n` collectives applied, served.
fn ledger_with(dir: &Path, n: usize) -> (Server, String) {
    let (data, operator) = init_ledger(dir);
    let server = Server::start(&data);
    apply(&server.url, "", n);
    (server, operator)
}

fn note_text(note: &str) -> String {
    checkpoint::split_note(note).expect("a note").0.to_owned()
}

fn fetch_checkpoint(url: &str) -> String {
    reqwest::blocking::get(format!("{url}/v1/checkpoint")).unwrap().text().unwrap()
}

/// `meent verify --log L --checkpoint CP` with more arguments: success and
/// the output.
fn verify_log(log: &Path, cp: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["verify", "--log", log.to_str().unwrap(), "--checkpoint", cp.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = meent(&args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn a_witness_refuses_a_split_view_and_clients_require_its_cosignature() {
    let dir = tempfile::tempdir().unwrap();
    let (server, operator_hex) = ledger_with(dir.path(), 3);
    let log_key = format!("{ORIGIN}+{operator_hex}");
    let operator = load_key(&dir.path().join("data").join("operator.pem"));

    // The collective's witness.
    let (wkey, wpub) = keygen(dir.path(), "witness");
    let wdata = dir.path().join("witness");
    let name = "witness.test/kamer-van-commons";
    let w = WitnessProc::start(&wdata, &wkey, name, &log_key);
    let printed = meent_ok(&["witness", "key", "--key", wkey.to_str().unwrap(), "--name", name]);
    assert_eq!(printed.trim(), w.vkey);
    let public = witness::parse_key(&w.vkey, witness::COSIGNATURE_TYPE).unwrap();
    assert_eq!(public, witness::parse_key(&format!("{name}+{wpub}"), witness::COSIGNATURE_TYPE).unwrap());

    // The honest checkpoint A: cosigned on first contact (old size 0).
    let note_a = fetch_checkpoint(&server.url);
    let (cp_a, _) = checkpoint::parse_unverified(&note_a).unwrap();
    assert_eq!(cp_a.size, 4);
    let (status, _, line) = w.add(&AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note_a.clone() });
    assert_eq!(status, 200, "{line}");
    assert!(line.starts_with(&format!("\u{2014} {name} ")) && line.ends_with('\n'), "{line:?}");
    let cosigned_a = format!("{note_a}{line}");
    assert_eq!(witness::check_quorum(&cosigned_a, std::slice::from_ref(&public), 1).unwrap(), vec![name]);

    // The split view: checkpoint B, same size, another root, signed by the
    // operator's own key.
    let cp_b = Checkpoint { root: ledger::merkle::leaf_hash(b"another history"), ..cp_a.clone() };
    let note_b = cp_b.sign(&operator);
    assert!(checkpoint::open(&note_b, ORIGIN, &operator.verifying_key()).is_ok());
    let (status, _, body) = w.add(&AddCheckpoint { old_size: 4, proof: vec![], checkpoint: note_b.clone() });
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("not consistent with the one of size 4"), "{body}");
    // The witness keeps the operator-signed fork as evidence.
    let evidence: Vec<_> = std::fs::read_dir(wdata.join("evidence")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(evidence.len(), 1);
    assert_eq!(std::fs::read_to_string(&evidence[0]).unwrap(), note_b);
    // As a first contact it is told the size the witness knows.
    let (status, ct, body) = w.add(&AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note_b.clone() });
    assert_eq!((status, ct.as_str(), body.as_str()), (409, "text/x.tlog.size", "4\n"));
    // Signed by another key: 403; another log: 404; garbage: 400.
    let stranger = ledger::crypto::generate_key();
    let (status, _, _) = w.add(&AddCheckpoint { old_size: 4, proof: vec![], checkpoint: cp_a.sign(&stranger) });
    assert_eq!(status, 403);
    let other = Checkpoint { origin: "other.test/log".into(), ..cp_a.clone() }.sign(&operator);
    assert_eq!(w.add(&AddCheckpoint { old_size: 0, proof: vec![], checkpoint: other }).0, 404);
    let raw = reqwest::blocking::Client::new().post(format!("{}/add-checkpoint", w.url)).body("old 01\n\n").send();
    assert_eq!(raw.unwrap().status().as_u16(), 400);

    // The log grows; the witness follows with a consistency proof.
    let http = reqwest::blocking::Client::new();
    let key = ledger::crypto::generate_key();
    let e = sign(Kind::MemberApply, "collectief-x", &key, apply_body("collectief-x", "X", "collective"));
    assert_eq!(post(&http, &server.url, &e).0, 201);
    let note_c = fetch_checkpoint(&server.url);
    let (_, proof) = get(&http, &server.url, "/v1/proofs/consistency?from=4&to=5");
    let proof: Vec<[u8; 32]> = proof["proof"]
        .as_array()
        .expect("a proof")
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    let grow = AddCheckpoint { old_size: 4, proof, checkpoint: note_c.clone() };
    let (status, _, line_c) = w.add(&grow);
    assert_eq!(status, 200, "{line_c}");

    // Restarted, the witness remembers size 5: the old request is a conflict.
    drop(w);
    let state = std::fs::read_to_string(wdata.join("witness-state.json")).unwrap();
    assert!(state.contains("\"size\": 5"), "{state}");
    let w = WitnessProc::start(&wdata, &wkey, name, &log_key);
    let (status, _, body) = w.add(&AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note_a.clone() });
    assert_eq!((status, body.as_str()), (409, "5\n"));
    assert_eq!(w.add(&AddCheckpoint { old_size: 5, proof: vec![], checkpoint: note_c.clone() }).0, 200);
    // A second witness over the same state is refused.
    let (wd, wk) = (wdata.to_str().unwrap(), wkey.to_str().unwrap());
    let second = meent(&["witness", "serve", "--data", wd, "--key", wk, "--name", name, "--log", &log_key]);
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another witness runs on"));

    // A client requiring the witness: the cosigned checkpoint passes, the
    // same without its cosignature and the split view do not.
    let log = dir.path().join("log.jsonl");
    meent_ok(&["export", "--format", "jsonl", "--server", &server.url, "--out", log.to_str().unwrap()]);
    let exported = std::fs::read_to_string(dir.path().join("log.jsonl.checkpoint")).unwrap();
    assert_eq!(note_text(&exported), note_text(&note_c));
    let write = |file: &str, text: &str| -> PathBuf {
        let p = dir.path().join(file);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cosigned = write("cosigned.cp", &format!("{note_c}{line_c}"));
    let bare = write("bare.cp", &note_c);
    let wflag = ["--witness", w.vkey.as_str(), "--quorum", "1"];
    let (ok, out) = verify_log(&log, &cosigned, &wflag);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("cosigned by 1 witnesses: {name}")), "{out}");
    let (ok, out) = verify_log(&log, &cosigned, &["--witness", &format!("{name}+{wpub}")]);
    assert!(ok, "{out}");
    let (ok, out) = verify_log(&log, &bare, &wflag);
    assert!(!ok && out.contains("valid cosignatures from 0 of the 1 witnesses required"), "{out}");
    let (ok, _) = verify_log(&log, &bare, &[]);
    assert!(ok, "without --witness the operator's signature suffices");
    // Two witnesses required, one cosigned.
    let (_, other_pub) = keygen(dir.path(), "other-witness");
    let other_w = format!("witness.test/other+{other_pub}");
    let two = ["--witness", w.vkey.as_str(), "--witness", other_w.as_str(), "--quorum", "2"];
    let (ok, out) = verify_log(&log, &cosigned, &two);
    assert!(!ok && out.contains("not by: witness.test/other"), "{out}");
    // The split view of size 4 with A's cosignature moved onto it: refused.
    let forged = write("forged.cp", &format!("{note_b}{line}"));
    let (ok, out) = verify_log(&log, &forged, &wflag);
    assert!(!ok && out.contains(&format!("cosignature by {name} does not verify")), "{out}");
    // A bad policy is a usage error.
    let (ok, out) = verify_log(&log, &cosigned, &["--witness", &w.vkey, "--quorum", "2"]);
    assert!(!ok && out.contains("--quorum 2 is more than the 1 --witness given"), "{out}");
    let (ok, out) = verify_log(&log, &cosigned, &["--witness", "nonsense"]);
    assert!(!ok && out.contains("--witness"), "{out}");
}

#[test]
fn a_corrupt_witness_state_is_named_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (wkey, _) = keygen(dir.path(), "witness");
    let wdata = dir.path().join("witness");
    std::fs::create_dir_all(&wdata).unwrap();
    let state = wdata.join("witness-state.json");
    std::fs::write(&state, "{\"format\": \"meent-witness-state/1\", \"logs\": [{\"origin\": \"x\"").unwrap();
    let key = ledger::crypto::generate_key();
    let log = format!("{ORIGIN}+{}", hex::encode(key.verifying_key().as_bytes()));
    let out = meent(&[
        "witness",
        "serve",
        "--data",
        wdata.to_str().unwrap(),
        "--key",
        wkey.to_str().unwrap(),
        "--name",
        "w.test",
        "--log",
        &log,
        "--listen",
        "127.0.0.1:0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("the witness state {} is corrupt", state.display())), "{err}");
    // A bad --log is refused before anything starts.
    let out = meent(&["witness", "serve", "--data", "x", "--key", "y", "--name", "w", "--log", "nokey"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--log"));
}

/// Polls `url` until its note is `want_size` with cosignatures by all of
/// `ws`; the note.
fn wait_cosigned(url: &str, want_size: u64, ws: &[witness::NamedKey]) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let note = reqwest::blocking::get(url).unwrap().text().unwrap();
        let size = checkpoint::parse_unverified(&note).unwrap().0.size;
        let n = witness::cosigners(&note, ws).expect("every cosignature served verifies").len();
        if size == want_size && n == ws.len() {
            return note;
        }
        assert!(std::time::Instant::now() < deadline, "{url}: size {size}, {n} cosignatures:\n{note}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_log_asks_its_witnesses_and_serves_their_cosignatures() {
    let dir = tempfile::tempdir().unwrap();
    let (data, operator_hex) = init_ledger(dir.path());
    let log_key = format!("{ORIGIN}+{operator_hex}");
    let start_witness = |n: &str| {
        let (key, _) = keygen(dir.path(), n);
        let name = format!("witness.test/{n}");
        WitnessProc::start(&dir.path().join(n), &key, &name, &log_key)
    };
    let w1 = start_witness("kamer-van-commons");
    let w2 = start_witness("buurtkas-noord");
    let ws: Vec<witness::NamedKey> =
        [&w1, &w2].iter().map(|w| witness::parse_key(&w.vkey, witness::COSIGNATURE_TYPE).unwrap()).collect();
    // NAME+HEX@URL, the repository's notation for the key.
    let target =
        |w: &WitnessProc, k: &witness::NamedKey| format!("{}+{}@{}", k.name, hex::encode(k.key.as_bytes()), w.url);
    let (t1, t2) = (target(&w1, &ws[0]), target(&w2, &ws[1]));
    let args = ["--witness", t1.as_str(), "--witness", t2.as_str(), "--witness-quorum", "2"];
    let mut server = Server::start_with(&data, &args);

    // The genesis checkpoint, then every new one, cosigned by both.
    wait_cosigned(&format!("{}/v1/checkpoint", server.url), 1, &ws);
    apply(&server.url, "a", 3);
    let note = wait_cosigned(&format!("{}/v1/checkpoint", server.url), 4, &ws);
    let tiles_note = wait_cosigned(&format!("{}/tiles/checkpoint", server.url), 4, &ws);
    assert_eq!(note, tiles_note);
    // Still the operator's note, the cosignatures appended.
    let operator: [u8; 32] = hex::decode(&operator_hex).unwrap().try_into().unwrap();
    let operator = ed25519_dalek::VerifyingKey::from_bytes(&operator).unwrap();
    assert_eq!(checkpoint::open(&note, ORIGIN, &operator).unwrap().size, 4);
    let vkeys = [w1.vkey.clone(), w2.vkey.clone()];
    let vk = |i: usize| vkeys[i].clone();
    let out = meent_ok(&["verify", "--server", &server.url, "--witness", &vk(0), "--witness", &vk(1), "--quorum", "2"]);
    assert!(out.contains("cosigned by 2 witnesses"), "{out}");
    let tiles = format!("{}/tiles", server.url);
    let out = meent_ok(&["verify", "--tiles", &tiles, "--witness", &vk(0), "--witness", &vk(1), "--quorum", "2"]);
    assert!(out.contains("cosigned by 2 witnesses"), "{out}");

    // A witness down does not slow the log: entries are acknowledged and the
    // checkpoint published, with the other witness's cosignature.
    drop(w2);
    let started = std::time::Instant::now();
    apply(&server.url, "b", 2);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "ingest waited on a witness");
    let note = wait_cosigned(&format!("{}/v1/checkpoint", server.url), 6, &ws[..1]);
    assert_eq!(witness::cosigners(&note, &ws).unwrap().len(), 1);
    let out = meent(&["verify", "--server", &server.url, "--witness", &vk(0), "--witness", &vk(1), "--quorum", "2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not by: witness.test/buurtkas-noord"));
    meent_ok(&["verify", "--server", &server.url, "--witness", &vk(0), "--witness", &vk(1), "--quorum", "1"]);

    // Restarted, the log no longer knows what the witness cosigned: its first
    // request gets a 409 with the size, and the next one a cosignature.
    server.stop();
    let t1 = target(&w1, &ws[0]);
    let server = Server::start_with(&data, &["--witness", t1.as_str()]);
    apply(&server.url, "c", 1);
    wait_cosigned(&format!("{}/v1/checkpoint", server.url), 7, &ws[..1]);

    // Bad flags are refused before anything starts.
    let out = meent(&["serve", "--data", data.to_str().unwrap(), "--witness", "w+00@http://x"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--witness"));
    let out = meent(&["serve", "--data", data.to_str().unwrap(), "--witness", &t1, "--witness-quorum", "2"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--witness-quorum 2"));
}

/// `meent serve --demo` starts two witnesses run by two of its collectives
/// and prints a `meent verify` that requires both; it passes.
#[test]
fn the_demo_checkpoint_is_cosigned_by_two_collectives() {
    let mut child = meent_command()
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the demo stopped before serving:\n{banner}");
        banner.push_str(&line);
        if line.starts_with("meent serving") {
            break;
        }
    }
    let command = banner.lines().find(|l| l.contains("--witness")).unwrap_or_else(|| panic!("{banner}"));
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert_eq!(args.iter().filter(|a| **a == "--witness").count(), 2, "{command}");
    assert!(command.contains("witness.meent.demo/energie-coop-noord+"), "{command}");
    // The server's closer may publish a newer checkpoint at any time; its
    // cosignatures follow within milliseconds.
    let mut tries = 0;
    let out = loop {
        let out = meent(&args);
        tries += 1;
        if out.status.success() || tries == 20 {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("cosigned by 2 witnesses"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}
