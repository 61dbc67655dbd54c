use super::*;
use crate::merkle::MemoryTree;

const ORIGIN: &str = "meent.example.org/amsterdam";
const W1: &str = "witness.example/w1";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A tree of `n` leaves whose contents start with `tag`.
fn tree(tag: &str, n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push(merkle::leaf_hash(format!("{tag}{i}").as_bytes()));
    }
    t
}

/// The checkpoint of the first `size` leaves of `t`, signed by `log`.
fn signed(t: &MemoryTree, size: u64, log: &SigningKey) -> String {
    let root = merkle::root(t, size).expect("root");
    Checkpoint { origin: ORIGIN.to_owned(), size, root }.sign(log)
}

fn request(t: &MemoryTree, old: u64, size: u64, log: &SigningKey) -> AddCheckpoint {
    let proof = merkle::consistency_proof(t, old, size).expect("proof");
    AddCheckpoint { old_size: old, proof, checkpoint: signed(t, size, log) }
}

fn witness() -> Witness {
    let log = NamedKey { name: ORIGIN.to_owned(), key: key(1).verifying_key() };
    Witness::new(W1, key(9), &[log]).expect("witness")
}

/// Decides and, on acceptance, stores the new state (as the server does).
fn submit(w: &Witness, state: &mut WitnessState, req: &AddCheckpoint) -> Result<String, Refusal> {
    let accepted = w.decide(state, req)?;
    state.logs.insert(accepted.checkpoint.origin.clone(), accepted.state());
    Ok(w.cosign(&accepted, 1_700_000_000))
}

// Cross-checked with an independent implementation (Python's `cryptography`
// Ed25519 and `hashlib`, following c2sp.org/tlog-cosignature), which produced
// the same bytes from the seed [9; 32].
const GOLDEN_PUBLIC_KEY: &str = "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618";
const GOLDEN_KEY_ID: &str = "24b5d9fe";
const GOLDEN_VKEY: &str = "witness.example/w1+24b5d9fe+BP0XJDhaoMdbZPt4zWAvodmR/ev3axPFjtcC6sg16fYY";
const GOLDEN_LINE: &str = "\u{2014} witness.example/w1 \
    JLXZ/gAAAABkGFDLmC/ORRV4/s6L4Hvv4wVWCT9wrS48pM8+SFQjx5hTUFGkxDllLvrPBl9r+M2WsSSpQxkcMCfd16GSlW/0ROlTCg==\n";

fn golden_text() -> String {
    Checkpoint { origin: ORIGIN.to_owned(), size: 42, root: [0x42; 32] }.body_text()
}

#[test]
fn golden_cosignature() {
    let sk = key(9);
    let vk = sk.verifying_key();
    assert_eq!(hex::encode(vk.as_bytes()), GOLDEN_PUBLIC_KEY);
    assert_eq!(hex::encode(cosignature_key_id(W1, &vk)), GOLDEN_KEY_ID);
    // Cloudflare's signed_note computes key ids over (name, type || key).
    let mut material = vec![COSIGNATURE_TYPE];
    material.extend_from_slice(vk.as_bytes());
    assert_eq!(signed_note::key_id(W1, &material).to_be_bytes(), cosignature_key_id(W1, &vk));
    assert_eq!(
        signed_message(&golden_text(), 1679315147),
        format!("cosignature/v1\ntime 1679315147\n{}", golden_text())
    );
    assert_eq!(cosign(&golden_text(), W1, &sk, 1679315147), GOLDEN_LINE);
    let w = NamedKey { name: W1.to_owned(), key: vk };
    assert_eq!(w.witness_vkey(), GOLDEN_VKEY);
    assert_eq!(parse_key(GOLDEN_VKEY, COSIGNATURE_TYPE), Ok(w.clone()));
    assert_eq!(parse_key(&format!("{W1}+{GOLDEN_PUBLIC_KEY}"), COSIGNATURE_TYPE), Ok(w.clone()));
    let note = Checkpoint { origin: ORIGIN.to_owned(), size: 42, root: [0x42; 32] }.sign(&key(1));
    let cosigned = format!("{note}{GOLDEN_LINE}");
    assert_eq!(cosigners(&cosigned, std::slice::from_ref(&w)), Ok(vec![(W1.to_owned(), 1679315147)]));
}

/// The example of c2sp.org/tlog-cosignature (no key is given there): its key
/// id and its timestamp, the one of the spec's example signed message.
#[test]
fn c2sp_example_cosignature_parses() {
    let note = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
        \u{2014} example.com/behind-the-sofa \
        Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} witness.example.com/w1 \
        jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    let (_, lines) = checkpoint::split_note(note).expect("parses");
    assert_eq!(lines[1].name, "witness.example.com/w1");
    assert_eq!(lines[1].signature.len(), 72);
    assert_eq!(u64::from_be_bytes(lines[1].signature[..8].try_into().unwrap()), 1679315147);
    // A client configured with another key for that name ignores the line.
    let other = NamedKey { name: "witness.example.com/w1".to_owned(), key: key(3).verifying_key() };
    assert_eq!(cosigners(note, &[other]), Ok(vec![]));
}

/// Cloudflare's signed_note reads a note with our cosignature lines and
/// still verifies the log's signature on it.
#[test]
fn signed_note_reads_cosigned_notes() {
    let log = key(1);
    let t = tree("a", 5);
    let note = signed(&t, 5, &log);
    let (text, _) = checkpoint::split_note(&note).unwrap();
    let cosigned = format!("{note}{}{}", cosign(text, W1, &key(9), 17), cosign(text, "w2.example", &key(8), 18));
    let vkey = checkpoint::verifier_key(ORIGIN, &log.verifying_key());
    let verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    let parsed = signed_note::Note::from_bytes(cosigned.as_bytes()).expect("signed_note parses it");
    let (verified, unverified) = parsed
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .expect("signed_note verifies the log's signature");
    assert_eq!(verified.len(), 1);
    assert_eq!(unverified.len(), 2);
    assert_eq!(unverified[0].name(), W1);
    assert_eq!(unverified[0].id().to_be_bytes(), cosignature_key_id(W1, &key(9).verifying_key()));
}

#[test]
fn keys_parse_strictly() {
    let vk = key(1).verifying_key();
    let log_vkey = checkpoint::verifier_key(ORIGIN, &vk);
    let log = NamedKey { name: ORIGIN.to_owned(), key: vk };
    assert_eq!(parse_key(&log_vkey, LOG_KEY_TYPE), Ok(log.clone()));
    assert_eq!(parse_key(&format!("{ORIGIN}+{}", hex::encode(vk.as_bytes())), LOG_KEY_TYPE), Ok(log));
    // A log's vkey is not a witness's, and the other way round.
    let e = parse_key(&log_vkey, COSIGNATURE_TYPE).unwrap_err();
    assert!(e.reason.contains("signature type is 0x01, expected 0x04"), "{e}");
    assert!(parse_key(GOLDEN_VKEY, LOG_KEY_TYPE).is_err());
    let wrong_id = GOLDEN_VKEY.replace("24b5d9fe", "24b5d9ff");
    assert!(parse_key(&wrong_id, COSIGNATURE_TYPE).unwrap_err().reason.contains("should be 24b5d9fe"));
    let renamed = GOLDEN_VKEY.replace("w1", "w2");
    assert!(parse_key(&renamed, COSIGNATURE_TYPE).is_err());
    for bad in ["", "w1", "+abcd", "a b+00", "w1+zz", "w1+00", &format!("w1+{}", "0".repeat(63)), "w1+24b5d9fe+!!"] {
        assert!(parse_key(bad, COSIGNATURE_TYPE).is_err(), "{bad:?}");
    }
    assert!(parse_key("w1+0", COSIGNATURE_TYPE).unwrap_err().to_string().contains("NAME+KEYID+BASE64"));
}

#[test]
fn requests_round_trip_and_parse_strictly() {
    // The example of c2sp.org/tlog-witness.
    let body = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
        \u{2014} example.com/behind-the-sofa \
        Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let req = AddCheckpoint::parse(body).expect("parses");
    assert_eq!(req.old_size, 20852014);
    assert_eq!(req.proof.len(), 4);
    assert!(req.checkpoint.starts_with("example.com/behind-the-sofa\n20852163\n"));
    assert_eq!(req.to_body(), body);
    let empty = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: "x\n".into() };
    assert_eq!(empty.to_body(), "old 0\n\nx\n");
    assert_eq!(AddCheckpoint::parse("old 0\n\nx\n"), Ok(empty));

    let bad = |b: &str| AddCheckpoint::parse(b).unwrap_err();
    for b in ["", "old 01\n\n", "old -1\n\n", "old\n\n", "Old 1\n\n", "old 1 \n\n", "old 18446744073709551616\n\n"] {
        assert_eq!(bad(b), RequestError::BadOldSize, "{b:?}");
    }
    assert_eq!(bad("old 1\n"), RequestError::MissingBlankLine);
    assert_eq!(bad("old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"), RequestError::MissingBlankLine);
    assert_eq!(bad("old 1\nnot base64\n\n"), RequestError::BadProofLine { line: 1 });
    let short = STANDARD.encode([1u8; 31]);
    assert_eq!(
        bad(&format!("old 1\n{}\n{short}\n\n", STANDARD.encode([1u8; 32]))),
        RequestError::BadProofLine { line: 2 }
    );
    let h = format!("{}\n", STANDARD.encode([1u8; 32]));
    assert!(AddCheckpoint::parse(&format!("old 1\n{}\nx", h.repeat(63))).is_ok());
    assert_eq!(bad(&format!("old 1\n{}\nx", h.repeat(64))), RequestError::TooManyProofLines);
    assert!(matches!(bad(&"x".repeat(REQUEST_LEN_MAX + 1)), RequestError::TooLarge { .. }));
}

/// The witness's decisions, each with its status code: a log grows, is
/// cosigned step by step, and every deviation is refused without changing
/// the state.
#[test]
fn witness_decisions() {
    let w = witness();
    let log = key(1);
    let t = tree("a", 40);
    let mut state = WitnessState::default();

    // First contact: old 0, no proof.
    let line = submit(&w, &mut state, &request(&t, 0, 10, &log)).expect("accepted");
    assert_eq!(state.logs[ORIGIN], LogState { size: 10, root: merkle::root(&t, 10).unwrap() });
    let note = signed(&t, 10, &log);
    let public = w.public();
    assert_eq!(cosigners(&format!("{note}{line}"), std::slice::from_ref(&public)).unwrap().len(), 1);

    // Growth with a proof from the known size.
    submit(&w, &mut state, &request(&t, 10, 25, &log)).expect("accepted");
    assert_eq!(state.logs[ORIGIN].size, 25);
    let before = state.clone();

    // A stale old size: 409 with the known size.
    let stale = request(&t, 10, 30, &log);
    let e = w.decide(&state, &stale).unwrap_err();
    assert_eq!(e, Refusal::Conflict { old: 10, known: 25 });
    assert_eq!(e.status(), 409);
    assert_eq!(w.decide(&state, &request(&t, 0, 30, &log)).unwrap_err().status(), 409);

    // The same checkpoint again: cosigned again, state unchanged.
    submit(&w, &mut state, &request(&t, 25, 25, &log)).expect("the same checkpoint is cosigned again");
    assert_eq!(state, before);

    // A split view: another tree of the same size, signed by the log's key.
    let fork = tree("b", 40);
    let e = w.decide(&state, &request(&fork, 25, 25, &log)).unwrap_err();
    assert!(matches!(e, Refusal::Inconsistent { known: 25, .. }), "{e:?}");
    assert_eq!(e.status(), 422);
    // And a fork that grows from it: its proof does not reach our root.
    let fork_proof = AddCheckpoint { old_size: 25, ..request(&fork, 25, 30, &log) };
    assert_eq!(w.decide(&state, &fork_proof).unwrap_err().status(), 422);
    // A good checkpoint with a tampered proof.
    let mut tampered = request(&t, 25, 30, &log);
    tampered.proof[0][0] ^= 1;
    assert_eq!(w.decide(&state, &tampered).unwrap_err().status(), 422);
    let mut short = request(&t, 25, 30, &log);
    short.proof.pop();
    assert_eq!(w.decide(&state, &short).unwrap_err().status(), 422);

    // Old size above the checkpoint's: 400.
    let backwards = AddCheckpoint { old_size: 31, proof: vec![], checkpoint: signed(&t, 30, &log) };
    assert_eq!(w.decide(&state, &backwards).unwrap_err().status(), 400);
    // A rollback to a smaller size: 409 (the known size is 25).
    assert_eq!(w.decide(&state, &request(&t, 20, 20, &log)).unwrap_err(), Refusal::Conflict { old: 20, known: 25 });

    // Another key signed it: 403. An unknown log: 404. Not a note: 400.
    let e = w.decide(&state, &request(&t, 25, 30, &key(2))).unwrap_err();
    assert!(matches!(e, Refusal::BadSignature(CheckpointError::NoSignatureForKey { .. })), "{e:?}");
    assert_eq!(e.status(), 403);
    let mut forged = request(&t, 25, 30, &log);
    forged.checkpoint = forged.checkpoint.replacen("\n30\n", "\n31\n", 1);
    assert_eq!(w.decide(&state, &forged).unwrap_err().status(), 403);
    let other_log = Checkpoint { origin: "elsewhere.example/log".into(), size: 1, root: [1; 32] }.sign(&log);
    let e = w.decide(&state, &AddCheckpoint { old_size: 0, proof: vec![], checkpoint: other_log }).unwrap_err();
    assert_eq!(e, Refusal::UnknownLog("elsewhere.example/log".into()));
    assert_eq!(e.status(), 404);
    let junk = AddCheckpoint { old_size: 25, proof: vec![], checkpoint: "junk".into() };
    assert_eq!(w.decide(&state, &junk).unwrap_err().status(), 400);
    assert_eq!(state, before, "no refusal changed the state");

    // The log goes on growing after the refusals.
    submit(&w, &mut state, &request(&t, 25, 40, &log)).expect("accepted");
    assert_eq!(state.logs[ORIGIN].size, 40);
}

#[test]
fn first_contact_rules() {
    let w = witness();
    let log = key(1);
    let t = tree("a", 8);
    let state = WitnessState::default();
    // Old size 0 with a proof: 422.
    let mut with_proof = request(&t, 0, 8, &log);
    with_proof.proof.push([7; 32]);
    assert_eq!(w.decide(&state, &with_proof).unwrap_err().status(), 422);
    // Size 0 must have the empty tree's root.
    let zero = |root| AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: Checkpoint { origin: ORIGIN.into(), size: 0, root }.sign(&log),
    };
    assert_eq!(w.decide(&state, &zero([3; 32])).unwrap_err().status(), 422);
    assert!(w.decide(&state, &zero(merkle::empty_root())).is_ok());
}

#[test]
fn state_files_round_trip_and_corruption_is_named() {
    let mut s = WitnessState::default();
    s.logs.insert(ORIGIN.into(), LogState { size: 25, root: [5; 32] });
    s.logs.insert("other.example/log".into(), LogState { size: 0, root: merkle::empty_root() });
    assert_eq!(WitnessState::from_bytes(&s.to_bytes()), Ok(s.clone()));
    assert_eq!(WitnessState::from_bytes(&WitnessState::default().to_bytes()), Ok(WitnessState::default()));
    let text = String::from_utf8(s.to_bytes()).unwrap();
    let cases = [
        (text[..text.len() / 2].to_owned(), "not a witness state file"),
        (text.replace("meent-witness-state/1", "meent-witness-state/2"), "format is"),
        (text.replace(&STANDARD.encode([5u8; 32]), "AAAA"), "root is not"),
        (text.replace("\"size\": 25", "\"size\": -1"), "not a witness state file"),
        (text.replace("other.example/log", ORIGIN), "appears twice"),
        (text.replace("\"size\": 0", "\"size\": 0, \"extra\": 1"), "not a witness state file"),
    ];
    for (bad, want) in cases {
        let e = WitnessState::from_bytes(bad.as_bytes()).unwrap_err();
        assert!(e.contains(want), "{e} (wanted {want})");
    }
}

#[test]
fn quorum() {
    let log = key(1);
    let t = tree("a", 12);
    let note = signed(&t, 12, &log);
    let (text, _) = checkpoint::split_note(&note).unwrap();
    let ws: Vec<NamedKey> =
        (0..3).map(|i| NamedKey { name: format!("w{i}.example"), key: key(20 + i).verifying_key() }).collect();
    let sign = |i: u8| cosign(text, &format!("w{i}.example"), &key(20 + i), 1_700_000_000 + u64::from(i));
    let two = format!("{note}{}{}", sign(0), sign(2));
    assert_eq!(check_quorum(&two, &ws, 2), Ok(vec!["w0.example".to_owned(), "w2.example".to_owned()]));
    assert_eq!(check_quorum(&two, &ws, 0).map(|v| v.len()), Ok(2));
    let e = check_quorum(&two, &ws, 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the checkpoint has valid cosignatures from 2 of the 3 witnesses required \
         (cosigned by: w0.example, w2.example; not by: w1.example)"
    );
    assert!(matches!(check_quorum(&note, &ws, 1), Err(QuorumError::TooFew { got: 0, .. })));
    // A cosignature by an unconfigured key with a configured name: ignored.
    let impostor = cosign(text, "w1.example", &key(99), 5);
    assert_eq!(check_quorum(&format!("{two}{impostor}"), &ws, 2).map(|v| v.len()), Ok(2));
    // A witness's cosignature of another checkpoint (a split view), moved onto
    // this one: it does not verify, and the note is refused.
    let fork_note = signed(&tree("b", 12), 12, &log);
    let (fork_text, _) = checkpoint::split_note(&fork_note).unwrap();
    let moved = cosign(fork_text, "w1.example", &key(21), 7);
    let e = check_quorum(&format!("{two}{moved}"), &ws, 2).unwrap_err();
    assert_eq!(e, QuorumError::Cosignature(CosignatureError::Invalid { name: "w1.example".into() }));
    // Every bit of a cosignature's timestamp and signature matters.
    let good = sign(1);
    let blob = STANDARD.decode(good.trim_end().rsplit(' ').next().unwrap()).unwrap();
    for bit in 32..blob.len() * 8 {
        let mut b = blob.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let line = format!("\u{2014} w1.example {}\n", STANDARD.encode(&b));
        assert!(check_quorum(&format!("{note}{line}"), &ws, 1).is_err(), "bit {bit}");
    }
    // Timestamp 0, and a cut signature.
    let zero = cosign(text, "w1.example", &key(21), 0);
    assert!(matches!(
        check_quorum(&format!("{note}{zero}"), &ws, 1),
        Err(QuorumError::Cosignature(CosignatureError::BadTimestamp { timestamp: 0, .. }))
    ));
    let cut = format!("\u{2014} w1.example {}\n", STANDARD.encode(&blob[..70]));
    assert!(matches!(
        check_quorum(&format!("{note}{cut}"), &ws, 1),
        Err(QuorumError::Cosignature(CosignatureError::BadLength { len: 66, .. }))
    ));
}

#[test]
fn cosigned_attaches_only_to_its_checkpoint() {
    let log = key(1);
    let t = tree("a", 12);
    let (n10, n12) = (signed(&t, 10, &log), signed(&t, 12, &log));
    let text10 = checkpoint::split_note(&n10).unwrap().0.to_owned();
    let text12 = checkpoint::split_note(&n12).unwrap().0.to_owned();
    let c = Cosigned::new();
    assert_eq!(c.attach(&n10), n10);
    let (a, b) = (cosign(&text10, "a.example", &key(5), 1), cosign(&text10, "b.example", &key(6), 2));
    c.add(&text10, 10, "b.example", &b);
    c.add(&text10, 10, "a.example", &a);
    assert_eq!(c.attach(&n10), format!("{n10}{a}{b}"));
    assert_eq!(c.attach(&n12), n12);
    // A newer cosignature by the same witness replaces its older one.
    let a2 = cosign(&text10, "a.example", &key(5), 3);
    c.add(&text10, 10, "a.example", &a2);
    assert_eq!(c.attach(&n10), format!("{n10}{a2}{b}"));
    assert_eq!(c.witnesses_for(&text10), vec!["a.example", "b.example"]);
    // A new checkpoint drops the old cosignatures.
    let a12 = cosign(&text12, "a.example", &key(5), 4);
    c.add(&text12, 12, "a.example", &a12);
    assert_eq!(c.attach(&n10), n10);
    assert_eq!(c.attach(&n12), format!("{n12}{a12}"));
    // A late answer for the older checkpoint changes nothing.
    c.add(&text10, 10, "b.example", &b);
    assert_eq!(c.attach(&n12), format!("{n12}{a12}"));
    assert_eq!(c.attach(&n10), n10);
    assert_eq!(c.attach("not a note"), "not a note");
}
