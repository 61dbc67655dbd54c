//! A short seeded run of every fuzz target (`fuzz/src/targets.rs`), on stable,
//! in every `cargo test`: the seeds (the test data's real files, signed
//! entries, records and checkpoints made here), each mutated a few hundred
//! times by a fixed-seed generator, plus every input in `fuzz/regressions/`
//! (inputs that once failed). The long, coverage-guided runs are
//! `cargo +nightly fuzz run <target>` (docs/RELIABILITY.md).
//!
//! `MEENT_FUZZ_SECONDS=N` runs each target for N seconds instead of a fixed
//! count; `MEENT_FUZZ_WRITE_SEEDS=DIR` writes the seeds as a libFuzzer
//! corpus, one folder per target.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ledger::checkpoint::Checkpoint;
use ledger::entry::{sign_entry, Kind};
use ledger::ids::Author;
use ledger::record::Record;
use ledger::time::Timestamp;
use serde_json::json;

/// Mutations per seed when no time is given.
const MUTATIONS_PER_SEED: usize = 300;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            out.extend(files_in(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            if b.len() <= 256 * 1024 {
                out.push(b);
            }
        }
    }
    out
}

fn entries() -> Vec<Vec<u8>> {
    let key = SigningKey::from_bytes(&[3; 32]);
    let at: Timestamp = "2026-12-06T20:00:00Z".parse().unwrap();
    let member: Author = "buurtkas-noord".parse().unwrap();
    let bodies = [
        (
            Kind::MemberApply,
            json!({"id": "buurtkas-noord", "name": "Buurtkas Noord", "member_kind": "collective", "legal_form": "stichting", "kvk": "69599084", "purpose": "Energie"}),
        ),
        (
            Kind::Contribution,
            json!({"fund": "warmte", "amount": "25.00", "reference": "E2E-2024-000123456", "note": "maart"}),
        ),
        (
            Kind::Proposal,
            json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Warmtepomp", "description": "Voor het buurthuis, 01-02-2024.", "amount": "300.00", "recipient": "buurtkas-noord"}),
        ),
        (Kind::Vote, json!({"proposal": "ab".repeat(32), "choice": "yes"})),
        (
            Kind::Disbursement,
            json!({"fund": "warmte", "amount": "12.50", "reference": "KOSTEN-1", "cost": {"category": "bank_fee", "payee": "Bank", "description": "kosten"}}),
        ),
        (Kind::Ballot, json!({"round": "cd".repeat(32), "approve": ["ef".repeat(32), "12".repeat(32)]})),
    ];
    bodies
        .into_iter()
        .map(|(kind, body)| {
            let e = sign_entry(kind, &member, &key, &at, body.clone())
                .unwrap_or_else(|err| panic!("seed {kind:?} {body}: {err}"));
            ledger::jcs::to_vec(&e.json).unwrap()
        })
        .collect()
}

fn records() -> Vec<Vec<u8>> {
    let at: Timestamp = "2026-12-06T20:00:01Z".parse().unwrap();
    entries()
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let entry = ledger::entry::VerifiedEntry::from_json(&e).unwrap();
            Record { seq: i as u64 + 1, received_at: at.clone(), entry }.leaf_bytes()
        })
        .collect()
}

fn checkpoints() -> Vec<Vec<u8>> {
    let key = SigningKey::from_bytes(&targets::CHECKPOINT_KEY_SEED);
    [(1u64, [1u8; 32]), (42, [9; 32])]
        .into_iter()
        .map(|(size, root)| {
            Checkpoint { origin: targets::CHECKPOINT_ORIGIN.into(), size, root }.sign(&key).into_bytes()
        })
        .collect()
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let data = repo().join("tests/data");
    let mut s = match target {
        "entry" => entries(),
        "record" => records(),
        "jcs" => {
            let mut v = entries();
            v.push(br#"{"a":[1,-0.5,1e300,"\u00e9\ud83d\ude00"],"b":null,"c":{"z":true,"a":false}}"#.to_vec());
            v.push(b"Graag naar NL91 ABNA 0417 1643 00, bel +31 (0)20 123 4567, BSN 111222333".to_vec());
            v
        }
        "checkpoint" => checkpoints(),
        "pabulib" => files_in(&data.join("pabulib")),
        "camt053" => files_in(&data.join("bank/camt053")),
        "mt940" => files_in(&data.join("bank/mt940")),
        "bank" => files_in(&data.join("bank")),
        _ => unreachable!("unknown target {target}"),
    };
    s.retain(|b| !b.is_empty());
    s
}

/// xorshift64*: a fixed-seed generator, so a failing run repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that parsers care about.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\n",
    b"\r\n",
    b"<",
    b">",
    b"/",
    b"0",
    b"-",
    b"9999999999999999999999",
    b"\xff",
    b"\xe2\x80\x94 ",
    b";",
    b"\t",
    b":61:",
    b"\n:",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at..end);
            }
            3 => {
                let ins = INTERESTING[rng.below(INTERESTING.len())];
                b.splice(at..at, ins.iter().copied());
            }
            4 if !b.is_empty() => {
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(64)).min(b.len());
                let chunk = b[start..end].to_vec();
                b.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(256)).min(other.len());
                b.splice(at..at, other[start..end].iter().copied());
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn run(name: &str, target: fn(&[u8])) -> usize {
    let seeds = seeds(name);
    assert!(!seeds.is_empty(), "{name}: no seeds");
    if let Ok(dir) = std::env::var("MEENT_FUZZ_WRITE_SEEDS") {
        let dir = Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
        }
    }
    // Inputs that once failed.
    let mut execs = 0;
    for input in files_in(&repo().join("fuzz/regressions").join(name)) {
        target(&input);
        execs += 1;
    }
    let budget = std::env::var("MEENT_FUZZ_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()).map(Duration::from_secs);
    let started = Instant::now();
    let mut rng = Rng(0x6d65_656e_7400_0001 ^ name.len() as u64);
    'outer: loop {
        for (i, seed) in seeds.iter().enumerate() {
            target(seed);
            execs += 1;
            for _ in 0..MUTATIONS_PER_SEED {
                let other = &seeds[(i + 1 + rng.below(seeds.len())) % seeds.len()];
                let input = mutate(&mut rng, seed, other);
                target(&input);
                execs += 1;
            }
            if budget.is_some_and(|b| started.elapsed() >= b) {
                break 'outer;
            }
        }
        if budget.is_none() {
            break;
        }
    }
    execs
}

#[test]
fn every_fuzz_target_survives_its_seeded_run() {
    for &(name, target) in targets::TARGETS {
        let started = Instant::now();
        let execs = run(name, target);
        println!("fuzz {name}: {execs} inputs in {:.1} s", started.elapsed().as_secs_f64());
    }
}

#[test]
fn the_seeds_are_accepted_by_their_parsers() {
    // A seed its parser refuses would leave the mutations testing only the
    // first lines of the parser.
    for e in entries() {
        ledger::entry::VerifiedEntry::from_json(&e).unwrap();
    }
    for r in records() {
        Record::from_leaf_bytes(&r).unwrap();
    }
    let key = SigningKey::from_bytes(&targets::CHECKPOINT_KEY_SEED).verifying_key();
    for c in checkpoints() {
        ledger::checkpoint::open(std::str::from_utf8(&c).unwrap(), targets::CHECKPOINT_ORIGIN, &key).unwrap();
    }
    assert!(seeds("pabulib").iter().any(|s| ledger::pb::parse_bytes(s).is_ok()));
    assert!(seeds("camt053").iter().any(|s| ledger::bank::camt053::parse(s).is_ok()));
    assert!(seeds("mt940").iter().any(|s| ledger::bank::mt940::parse(s).is_ok()));
}
