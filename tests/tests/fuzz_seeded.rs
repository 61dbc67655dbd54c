//! A short seeded run of every fuzz target (`fuzz/src/targets.rs`), on stable,
//! in every `cargo test`: the seeds (the test data's real files, signed
//! entries, records and checkpoints made here; for `apply`, sequences of
//! operations written here: the demo, the register's life, money going
//! wrong, odd entries), each mutated a few hundred times (`apply`: sixty,
//! half of them a prefix of the seed and operations made up) by a
//! fixed-seed generator, plus every input in `fuzz/regressions/`
//! (inputs that once failed). The long, coverage-guided runs are
//! `cargo +nightly fuzz run <target>` (docs/RELIABILITY.md).
//!
//! `MEENT_FUZZ_SECONDS=N` runs each target for N seconds instead of a fixed
//! count; `MEENT_FUZZ_TARGETS=apply,entry` runs only those; `MEENT_FUZZ_WRITE_SEEDS=DIR` writes the seeds as a libFuzzer
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
/// For `apply`, whose every input signs and verifies up to a few hundred entries.
const APPLY_MUTATIONS_PER_SEED: usize = 60;

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

/// An amount in whole euros as the `apply` target reads it (tens of euros, up to 40 950).
fn euros(x: u16) -> u16 {
    assert!(x.is_multiple_of(10) && x / 10 < 0x1000, "{x} euros cannot be written");
    0x8000 | (x / 10)
}

/// Clock steps of the `apply` target ([`targets::apply::STEPS_MS`]): a second, a day, 7 days and 1 ms, 91 days.
const SECOND: u8 = 2;
const DAY: u8 = 5;
const WEEK_AND_A_BIT: u8 = 8;
const QUARTER: u8 = 10;

/// Sequences for the `apply` target (8 bytes an operation: `targets::apply::op`).
fn apply_seeds() -> Vec<Vec<u8>> {
    use targets::apply::code::*;
    use targets::apply::op;
    let o = |code: u8, actor: u8, obj: u8, var: u8, amount: u16, time: u8| op(code, actor, obj, var, amount, time, 0);
    // The demo (`meent demo`): five members admitted, a fund with three
    // treasurers and a matching pledge, contributions confirmed by a bank
    // statement, an allocation voted, closed, paid out and approved, a
    // budgeting round by equal shares from its vote to its close, an income.
    let mut demo = Vec::new();
    for m in 2..=6 {
        demo.extend(o(MEMBER_APPLY, m, 0, 0x80, 0, SECOND));
        demo.extend(o(MEMBER_ADMIT, 0, m, 0, 0, SECOND));
    }
    // Open admission, 2 approvals, quorum and threshold 0.5, a week to vote; treasurers 2, 3 and 5.
    demo.extend(o(FUND_CREATE, 2, 0, 0x04, 0x002c, SECOND));
    for m in 3..=6 {
        demo.extend(o(FUND_JOIN, m, 0, 0, 0, SECOND));
    }
    demo.extend(o(PLEDGE_MATCHING, 5, 0, 0, euros(10000), SECOND));
    for (i, (m, x)) in [(2u8, 1000u16), (3, 1500), (4, 500), (6, 750)].into_iter().enumerate() {
        demo.extend(o(CONTRIBUTION, m, 0, i as u8, euros(x), SECOND));
    }
    // The municipality's payment settles its pledge.
    demo.extend(o(CONTRIBUTION, 5, 0, 0x86, euros(2000), SECOND));
    // Everything but buurtwerkplaats-zuid's arrives (latest first: 5, 6, 4, 3, 2).
    demo.extend(o(RECONCILIATION, 3, 0, 0b11011, euros(5250), DAY));
    // An allocation of 1200 to member 4 (obj 18: fund 0, member 4).
    demo.extend(o(PROPOSAL, 4, 18, 0, euros(1200), SECOND));
    for m in [2, 3, 5, 6] {
        demo.extend(o(VOTE, m, 0, 0, 0, SECOND));
    }
    demo.extend(o(CLOSE_DUE, 0, 0, 0, 0, WEEK_AND_A_BIT));
    demo.extend(o(DISBURSEMENT, 2, 0, 2, euros(1200), SECOND));
    demo.extend(o(DISBURSEMENT_APPROVE, 5, 0, 0, 0, SECOND));
    // A round by equal shares: budget 2000, a day for projects, a day to vote.
    demo.extend(o(PROPOSAL, 3, 0, 11, euros(2000), SECOND));
    for m in 2..=6 {
        demo.extend(o(VOTE, m, 0, 0, 0, SECOND));
    }
    demo.extend(o(CLOSE_DUE, 0, 0, 0, 0, WEEK_AND_A_BIT));
    demo.extend(o(ROUND_PROJECT, 4, 0, 4, euros(800), SECOND));
    demo.extend(o(ROUND_PROJECT, 3, 0, 3, euros(1200), SECOND));
    for m in 2..=6 {
        demo.extend(o(BALLOT, m, 0, if m % 2 == 0 { 3 } else { 1 }, 0, if m == 2 { DAY } else { SECOND }));
    }
    demo.extend(o(CLOSE_DUE, 0, 0, 0, 0, DAY));
    demo.extend(o(INCOME, 3, 0, 0, euros(250), SECOND));
    demo.extend(o(RECONCILIATION, 3, 0, 0b1, euros(250), SECOND));

    // The register: applications, a rejection, a key rotated, a key
    // recovered by a registrar (cancelled, then again), a member update, a
    // registrar added, an application expiring after 90 days.
    let mut register = Vec::new();
    for m in 2..=7 {
        register.extend(o(MEMBER_APPLY, m, 0, 0x40, 0, SECOND));
    }
    register.extend(o(MEMBER_ADMIT, 0, 2, 1, 0, SECOND));
    register.extend(o(MEMBER_ADMIT, 1, 3, 0, 0, SECOND));
    register.extend(o(MEMBER_REJECT, 0, 4, 1, 0, SECOND));
    register.extend(o(KEY_ROTATE, 2, 0, 0, 0, SECOND));
    register.extend(o(FUND_CREATE, 2, 1, 0x02, 0x000f, SECOND));
    register.extend(o(KEY_RECOVER, 0, 3, 1, 0, SECOND));
    register.extend(o(KEY_RECOVER_CANCEL, 3, 0, 0, 0, SECOND));
    register.extend(o(KEY_RECOVER, 1, 3, 2, 0, SECOND));
    register.extend(o(KEY_RECOVER_APPROVE, 0, 0, 0, 0, SECOND));
    register.extend(o(MEMBER_UPDATE, 2, 0, 0x0f, 0, WEEK_AND_A_BIT));
    register.extend(o(REGISTRAR_PROPOSE, 0, 2, 0, 0, SECOND));
    register.extend(o(REGISTRAR_APPROVE, 1, 0, 0, 0, SECOND));
    register.extend(o(MEMBER_ADMIT, 2, 5, 0, 0, QUARTER));
    register.extend(o(MEMBER_ADMIT, 2, 6, 0, 0, SECOND));

    // Money going wrong: a cost, a pledge reversed, an allocation partly
    // paid and released, a proposal withdrawn, money returned by the bank,
    // an exclusion, a dissolution and a refund.
    let mut money = Vec::new();
    for m in 2..=6 {
        money.extend(o(MEMBER_APPLY, m, 0, 0, 0, SECOND));
        money.extend(o(MEMBER_ADMIT, 1, m, 0, 0, SECOND));
    }
    // Two approvals, max_cost 25.00, treasurers 2, 3 and 5.
    money.extend(o(FUND_CREATE, 3, 0, 0x04, 0x102c, SECOND));
    for m in [2, 4, 6] {
        money.extend(o(FUND_JOIN, m, 0, 0, 0, SECOND));
    }
    money.extend(o(CONTRIBUTION, 2, 0, 0, euros(300), SECOND));
    money.extend(o(CONTRIBUTION, 4, 0, 1, euros(200), SECOND));
    money.extend(o(CONTRIBUTION, 6, 0, 2, 0x1000 | 1234, SECOND));
    money.extend(o(REVERSAL, 6, 0, 0, 0, SECOND));
    money.extend(o(RECONCILIATION, 3, 0, 0b110, euros(500), DAY));
    // A bank fee of 7.50.
    money.extend(o(DISBURSEMENT, 2, 0, 1, 0x1000 | 750, SECOND));
    money.extend(o(DISBURSEMENT_APPROVE, 3, 0, 0, 0, SECOND));
    // Allocations of 100 and 50 to member 3 (obj 12: fund 0, member 3); the second withdrawn.
    money.extend(o(PROPOSAL, 2, 12, 0, euros(100), SECOND));
    money.extend(o(PROPOSAL, 2, 12, 0, euros(50), SECOND));
    money.extend(o(PROPOSAL_WITHDRAW, 2, 0, 0, 0, SECOND));
    for m in [2, 3, 4, 6] {
        money.extend(o(VOTE, m, 1, 0, 0, SECOND));
    }
    money.extend(o(CLOSE_DUE, 0, 0, 0, 0, WEEK_AND_A_BIT));
    // 40 of the 100 paid (the second latest allocation), the rest released.
    money.extend(o(DISBURSEMENT, 2, 4, 0, euros(40), SECOND));
    money.extend(o(DISBURSEMENT_APPROVE, 5, 0, 0, 0, SECOND));
    money.extend(o(ALLOCATION_RELEASE, 3, 1, 0, 0, SECOND));
    // The bank statement: the payout confirmed, member 2's 300 returned (obj 66: bit 4 of obj >> 2).
    money.extend(o(RECONCILIATION, 3, 66, 0b1, euros(500), SECOND));
    // Exclude member 6 (obj 24), dissolve.
    money.extend(o(PROPOSAL, 2, 24, 6, 0, SECOND));
    money.extend(o(PROPOSAL, 2, 0, 3, 0, SECOND));
    for m in [2, 3, 4] {
        money.extend(o(VOTE, m, 0, 0, 0, SECOND));
        money.extend(o(VOTE, m, 1, 0, 0, SECOND));
    }
    money.extend(o(CLOSE_DUE, 0, 0, 0, 0, WEEK_AND_A_BIT));
    // A refund to member 4.
    money.extend(o(DISBURSEMENT, 3, 0, 0xc0, euros(10), SECOND));
    money.extend(o(DISBURSEMENT_APPROVE, 5, 0, 0, 0, SECOND));

    // The same operations made raw, a clock that goes backwards, entries
    // out of the allowed skew, a wrong position, a second genesis.
    let mut odd = demo[..8 * 12].to_vec();
    odd.extend(op(FUND_CREATE | RAW, 2, 0, 0x04, 0x002c, SECOND, 0));
    odd.extend(op(FUND_CREATE, 2, 0, 0x04, 0x002c, SECOND, 2));
    odd.extend(op(CONTRIBUTION | RAW, 2, 0, 0, 0x0a03, SECOND, 0));
    odd.extend(op(CONTRIBUTION, 2, 0, 0, 0xe123, SECOND, 0));
    odd.extend(op(CONTRIBUTION, 3, 0, 1, 0xf999, SECOND, 0));
    odd.extend(op(CONTRIBUTION, 4, 0, 3, 0x0007, SECOND, 4));
    odd.extend(op(RECONCILIATION, 3, 0, 0b111, 0x0001, SECOND, 0));
    odd.extend(op(GENESIS, 0x80, 0, 0, 0, SECOND, 0));
    odd.extend(op(PROPOSAL_CLOSE, 0x80, 0, 0, 0, SECOND, 0));
    odd.extend(op(FUND_JOIN, 3, 0, 0, 0, 0x80 | SECOND, 0));
    odd.extend(op(FUND_JOIN, 3, 0, 0, 0, 14, 1));
    odd.extend(op(FUND_JOIN, 3, 0, 0, 0, 13, 0));
    odd.extend(op(IDLE, 0, 0, 0, 0, QUARTER, 0));
    odd.extend(op(CLOSE_DUE, 0, 0, 0, 0, SECOND, 0));
    vec![demo, register, money, odd]
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
        "apply" => apply_seeds(),
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

/// For `apply`: a prefix of the sequence (whole operations) and up to 24
/// operations made up here, with the values that matter more often than
/// uniform bytes would give them (a known member, an early entry, a real
/// amount, a forward clock, a well-formed entry).
fn apply_tail(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let ops = seed.len() / 8;
    let mut b = seed[..8 * rng.below(ops + 1)].to_vec();
    for _ in 0..1 + rng.below(24) {
        let raw = if rng.below(8) == 0 { targets::apply::code::RAW } else { 0 };
        let code = rng.below(31) as u8 | raw;
        let actor = if rng.below(8) == 0 { rng.next() as u8 } else { rng.below(8) as u8 };
        let obj = if rng.below(4) == 0 { rng.next() as u8 } else { rng.below(8) as u8 };
        let amount = match rng.below(4) {
            0 => rng.next() as u16,
            1 => 0x1000 | rng.below(0x1000) as u16,
            _ => 0x8000 | rng.below(300) as u16,
        };
        let time = if rng.below(4) == 0 { rng.next() as u8 } else { rng.below(10) as u8 };
        let flags = if rng.below(16) == 0 { rng.next() as u8 } else { 0 };
        b.extend(targets::apply::op(code, actor, obj, rng.next() as u8, amount, time, flags));
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
            let mutations = if name == "apply" { APPLY_MUTATIONS_PER_SEED } else { MUTATIONS_PER_SEED };
            for _ in 0..mutations {
                let other = &seeds[(i + 1 + rng.below(seeds.len())) % seeds.len()];
                let input = if name == "apply" && rng.below(2) == 0 {
                    apply_tail(&mut rng, seed)
                } else {
                    mutate(&mut rng, seed, other)
                };
                let run = std::panic::catch_unwind(|| target(&input));
                if let Err(panic) = run {
                    // Kept, to copy into fuzz/regressions/<target>/ once understood.
                    let path = std::env::temp_dir().join(format!("meent-fuzz-{name}-failure"));
                    let _ = std::fs::write(&path, &input);
                    eprintln!("fuzz {name}: the failing input is in {}", path.display());
                    std::panic::resume_unwind(panic);
                }
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
    let only = std::env::var("MEENT_FUZZ_TARGETS").ok();
    let only: Option<Vec<&str>> = only.as_deref().map(|s| s.split(',').collect());
    for &(name, target) in targets::TARGETS {
        if only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
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

/// The `apply` seeds do what their comments say: a seed whose entries were
/// all refused would leave the fuzzer at the register's door.
#[test]
fn the_apply_seeds_run_as_written() {
    let seeds = apply_seeds();
    let outcomes: Vec<Vec<String>> = seeds.iter().map(|s| targets::apply::outcomes(s)).collect();
    let refused = |i: usize| -> Vec<&String> { outcomes[i].iter().filter(|o| !o.ends_with(" accepted")).collect() };
    assert_eq!(outcomes[0].len(), seeds[0].len() / 8, "the demo: one entry an operation");
    assert!(refused(0).is_empty(), "the demo: {:?}", refused(0));
    let r = refused(1);
    assert!(r.len() == 2 && r.iter().all(|o| o.contains("application_expired")), "the register: {r:?}");
    let r = refused(2);
    assert!(r.len() == 1 && r[0].contains("conflict_of_interest"), "money: {r:?}");
    let odd = outcomes[3].join("\n");
    for code in ["malformed", "bad_seq", "genesis_exists", "clock_backwards", "clock_skew"] {
        assert!(odd.contains(code), "the odd seed meets {code}:\n{odd}");
    }
}
