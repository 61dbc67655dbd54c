//! A property test: random sequences of contributions, confirmations,
//! reversals, proposals, votes, closes, disbursements and approvals, applied
//! both to the ledger and to a small reference model written here from the
//! spec alone (in integer cents, recomputing every balance from scratch). After
//! each entry: the ledger accepts exactly what the model accepts, a refused
//! entry changes nothing, and the balances, the outcomes, the matching pledge
//! and conservation agree. v2 (SPEC §4.5): the recipient of an allocation
//! neither votes nor counts in its quorum; rounds are opened by a passed
//! `round` proposal, their budget committed at the close — a round never
//! commits more than the pool, and no allocation passes below its threshold.

mod domain_common;

use domain_common::{charter, World};
use ledger::entry::Kind;
use ledger::funds::Outcome;
use proptest::prelude::*;
use serde_json::{json, Value};

/// a, b, d are treasurers (two approvals); d is the municipality.
const MEMBERS: [&str; 4] = ["mem-a", "mem-b", "mem-c", "mem-d"];
const TREASURERS: [usize; 3] = [0, 1, 3];
const PERIOD_SECONDS: i64 = 100;
const MAX_REQUEST_CENTS: i64 = 100_000;
const MATCH_CAP_CENTS: i64 = 30_000;
const CHOICES: [&str; 3] = ["yes", "no", "abstain"];

#[derive(Debug, Clone)]
enum Op {
    Contribute {
        who: usize,
        cents: i64,
    },
    Confirm {
        by: usize,
        idx: usize,
    },
    ReverseContribution {
        by: usize,
        idx: usize,
    },
    Propose {
        by: usize,
        cents: i64,
        recipient: usize,
    },
    Vote {
        who: usize,
        idx: usize,
        choice: usize,
    },
    /// Every member votes `choice` on the same proposal (four entries).
    VoteAll {
        idx: usize,
        choice: usize,
    },
    Wait {
        secs: i64,
    },
    Close {
        idx: usize,
    },
    Disburse {
        by: usize,
        idx: usize,
        cents: i64,
    },
    Approve {
        by: usize,
        idx: usize,
    },
    ReverseDisbursement {
        by: usize,
        idx: usize,
    },
    ConfirmDisbursement {
        idx: usize,
    },
    /// A `round` proposal (one day for projects, one for ballots).
    ProposeRound {
        by: usize,
        cents: i64,
    },
    /// Two days pass: rounds can close.
    WaitDays,
    CloseRound {
        idx: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0usize..4;
    // Indexes count from the most recent item, usually the latest one, so chains form.
    let idx = prop_oneof![3 => Just(0usize), 2 => 0usize..4, 1 => 0usize..64];
    // Mostly within max_request and the money at hand; sometimes above max_request.
    let request = prop_oneof![9 => 1i64..25_000, 1 => MAX_REQUEST_CENTS - 5..MAX_REQUEST_CENTS + 20_000];
    // Yes three times as often as no or abstain.
    let choice = prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize)];
    prop_oneof![
        3 => (who.clone(), 1i64..60_000).prop_map(|(who, cents)| Op::Contribute { who, cents }),
        4 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Confirm { by, idx }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::ReverseContribution { by, idx }),
        2 => (who.clone(), request, who.clone()).prop_map(|(by, cents, recipient)| Op::Propose { by, cents, recipient }),
        4 => (who.clone(), idx.clone(), choice.clone()).prop_map(|(who, idx, choice)| Op::Vote { who, idx, choice }),
        2 => (idx.clone(), choice.clone()).prop_map(|(idx, choice)| Op::VoteAll { idx, choice }),
        2 => (1i64..150).prop_map(|secs| Op::Wait { secs }),
        3 => idx.clone().prop_map(|idx| Op::Close { idx }),
        4 => (who.clone(), idx.clone(), 1i64..15_000).prop_map(|(by, idx, cents)| Op::Disburse { by, idx, cents }),
        4 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Approve { by, idx }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::ReverseDisbursement { by, idx }),
        1 => idx.clone().prop_map(|idx| Op::ConfirmDisbursement { idx }),
        1 => (who.clone(), 1i64..80_000).prop_map(|(by, cents)| Op::ProposeRound { by, cents }),
        1 => Just(Op::WaitDays),
        1 => idx.prop_map(|idx| Op::CloseRound { idx }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CStatus {
    Pledged,
    Confirmed,
    Reversed,
}

#[derive(Debug, Clone)]
struct MContribution {
    id: String,
    who: usize,
    cents: i64,
    status: CStatus,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum POutcome {
    Open,
    Passed,
    Rejected,
    NoQuorum,
    Insufficient,
}

#[derive(Debug, Clone)]
struct MProposal {
    id: String,
    cents: i64,
    recipient: usize,
    closes_at: chrono::DateTime<chrono::Utc>,
    votes: [Option<usize>; 4],
    outcome: POutcome,
    requested: i64,
    paid: i64,
    /// A round proposal: no recipient; when passed, the round runs until `round_closes_at`.
    round: bool,
    round_open: bool,
    round_closes_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl MProposal {
    /// The members counted: everyone but an allocation's recipient.
    fn counted(&self) -> Vec<usize> {
        (0..MEMBERS.len()).filter(|w| self.round || *w != self.recipient).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DStatus {
    Pending,
    Executed,
    Confirmed,
    Reversed,
}

#[derive(Debug, Clone)]
struct MDisbursement {
    id: String,
    proposal: usize,
    cents: i64,
    requester: usize,
    approvals: Vec<usize>,
    status: DStatus,
}

#[derive(Debug, Default)]
struct Model {
    contributions: Vec<MContribution>,
    proposals: Vec<MProposal>,
    disbursements: Vec<MDisbursement>,
    statements: u32,
    references: u32,
}

/// The `idx`-th most recent of `len` items.
fn pick(idx: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| len - 1 - idx % len)
}

fn treasurer(i: usize) -> bool {
    TREASURERS.contains(&i)
}

fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

impl Model {
    /// [pledged, confirmed, committed, disbursed, available], from scratch.
    fn balances(&self) -> [i64; 5] {
        let sum = |s: CStatus| self.contributions.iter().filter(|c| c.status == s).map(|c| c.cents).sum::<i64>();
        let pledged = sum(CStatus::Pledged);
        let confirmed = sum(CStatus::Confirmed);
        let committed = self
            .proposals
            .iter()
            .filter(|p| p.outcome == POutcome::Passed && (!p.round || p.round_open))
            .map(|p| p.cents - p.paid)
            .sum::<i64>();
        let disbursed = self
            .disbursements
            .iter()
            .filter(|d| matches!(d.status, DStatus::Executed | DStatus::Confirmed))
            .map(|d| d.cents)
            .sum::<i64>();
        [pledged, confirmed, committed, disbursed, confirmed - committed - disbursed]
    }

    /// Matching at ratio 0.5, cap 300.00: [owed, paid, outstanding].
    fn matching(&self) -> [i64; 3] {
        let confirmed = |f: &dyn Fn(usize) -> bool| {
            self.contributions
                .iter()
                .filter(|c| c.status == CStatus::Confirmed && f(c.who))
                .map(|c| c.cents)
                .sum::<i64>()
        };
        let collectives = confirmed(&|w| w != 3);
        let owed = ((collectives + 1) / 2).min(MATCH_CAP_CENTS);
        let paid = confirmed(&|w| w == 3);
        [owed, paid, (owed - paid).max(0)]
    }
}

/// The entry an op becomes, and whether the model accepts it (`None`: no entry, e.g. nothing to index).
fn step(m: &mut Model, w: &World, op: &Op) -> Option<(usize, Kind, Value, bool)> {
    // The entry will be received one second from now (see World::apply).
    let received = w.now + chrono::Duration::seconds(1);
    Some(match *op {
        Op::Contribute { who, cents } => {
            m.references += 1;
            let body = json!({"fund": "model", "amount": amount(cents), "reference": format!("REF-{}", m.references)});
            (who, Kind::Contribution, body, true)
        }
        Op::Confirm { by, idx } => {
            let c = m.contributions.get(pick(idx, m.contributions.len())?)?;
            m.statements += 1;
            let ok = treasurer(by) && c.status == CStatus::Pledged;
            (by, Kind::Reconciliation, recon(m.statements, &c.id), ok)
        }
        Op::ConfirmDisbursement { idx } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            m.statements += 1;
            (0, Kind::Reconciliation, recon(m.statements, &d.id), d.status == DStatus::Executed)
        }
        Op::ReverseContribution { by, idx } => {
            let c = m.contributions.get(pick(idx, m.contributions.len())?)?;
            let ok = (by == c.who || treasurer(by)) && c.status == CStatus::Pledged;
            (by, Kind::Reversal, json!({"entry": c.id, "reason": "model"}), ok)
        }
        Op::Propose { by, cents, recipient } => {
            let body = json!({"fund": "model", "proposal_kind": "allocation", "title": "t", "description": "", "amount": amount(cents), "recipient": MEMBERS[recipient]});
            (by, Kind::Proposal, body, cents <= MAX_REQUEST_CENTS)
        }
        Op::Vote { who, idx, choice } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let ok = p.outcome == POutcome::Open && received < p.closes_at && p.counted().contains(&who);
            (who, Kind::Vote, json!({"proposal": p.id, "choice": CHOICES[choice]}), ok)
        }
        Op::Wait { .. } | Op::VoteAll { .. } | Op::WaitDays => return None,
        Op::ProposeRound { by, cents } => {
            let body = json!({"fund": "model", "proposal_kind": "round", "title": "r", "description": "", "budget": amount(cents),
                "rule": "greedy", "projects_days": 1, "voting_days": 1});
            (by, Kind::Proposal, body, true)
        }
        Op::CloseRound { idx } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let ok = p.round_open && p.round_closes_at.is_some_and(|t| received >= t);
            (2, Kind::RoundClose, json!({"round": p.id}), ok)
        }
        Op::Close { idx } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let all_voted = p.counted().iter().all(|w| p.votes[*w].is_some());
            let ok = p.outcome == POutcome::Open && (received >= p.closes_at || all_voted);
            (2, Kind::ProposalClose, json!({"proposal": p.id}), ok)
        }
        Op::Disburse { by, idx, cents } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let ok = !p.round
                && treasurer(by)
                && p.outcome == POutcome::Passed
                && by != p.recipient
                && cents <= p.cents - p.requested;
            (by, Kind::Disbursement, json!({"allocation": p.id, "amount": amount(cents), "reference": "E2E"}), ok)
        }
        Op::Approve { by, idx } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            let recipient = m.proposals[d.proposal].recipient;
            let ok = treasurer(by) && by != recipient && d.status == DStatus::Pending && !d.approvals.contains(&by);
            (by, Kind::DisbursementApprove, json!({"disbursement": d.id}), ok)
        }
        Op::ReverseDisbursement { by, idx } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            let ok = (by == d.requester || treasurer(by)) && d.status == DStatus::Pending;
            (by, Kind::Reversal, json!({"entry": d.id, "reason": "model"}), ok)
        }
    })
}

fn recon(n: u32, id: &str) -> Value {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&n.to_be_bytes());
    json!({"fund": "model", "statement_sha256": hex::encode(h), "period_from": "2026-11-01", "period_to": "2026-11-30",
           "opening_balance": "0.00", "closing_balance": "0.00", "confirmed": [id], "unmatched_bank_lines": 0})
}

/// Update the model after the ledger accepted `op` as entry `id`.
fn accepted(m: &mut Model, w: &World, op: &Op, id: String) {
    let received = w.now;
    match *op {
        Op::Contribute { who, cents } => {
            m.contributions.push(MContribution { id, who, cents, status: CStatus::Pledged })
        }
        Op::Confirm { idx, .. } => {
            let n = m.contributions.len();
            m.contributions[pick(idx, n).unwrap_or(0)].status = CStatus::Confirmed;
        }
        Op::ConfirmDisbursement { idx } => {
            let n = m.disbursements.len();
            m.disbursements[pick(idx, n).unwrap_or(0)].status = DStatus::Confirmed;
        }
        Op::ReverseContribution { idx, .. } => {
            let n = m.contributions.len();
            m.contributions[pick(idx, n).unwrap_or(0)].status = CStatus::Reversed;
        }
        Op::Propose { cents, recipient, .. } => m.proposals.push(MProposal {
            id,
            cents,
            recipient,
            closes_at: received + chrono::Duration::seconds(PERIOD_SECONDS),
            votes: [None; 4],
            outcome: POutcome::Open,
            requested: 0,
            paid: 0,
            round: false,
            round_open: false,
            round_closes_at: None,
        }),
        Op::ProposeRound { cents, .. } => m.proposals.push(MProposal {
            id,
            cents,
            recipient: usize::MAX,
            closes_at: received + chrono::Duration::seconds(PERIOD_SECONDS),
            votes: [None; 4],
            outcome: POutcome::Open,
            requested: 0,
            paid: 0,
            round: true,
            round_open: false,
            round_closes_at: None,
        }),
        Op::CloseRound { idx } => {
            // No projects: the whole budget goes back.
            let n = m.proposals.len();
            m.proposals[pick(idx, n).unwrap_or(0)].round_open = false;
        }
        Op::Vote { who, idx, choice } => {
            let n = m.proposals.len();
            m.proposals[pick(idx, n).unwrap_or(0)].votes[who] = Some(choice);
        }
        Op::Wait { .. } | Op::VoteAll { .. } | Op::WaitDays => {}
        Op::Close { idx } => {
            let available = m.balances()[4];
            let n = m.proposals.len();
            let p = &mut m.proposals[pick(idx, n).unwrap_or(0)];
            let count = |c: usize| p.votes.iter().filter(|v| **v == Some(c)).count() as i64;
            let (yes, no, abstain) = (count(0), count(1), count(2));
            // quorum 0.5 of the counted members; threshold 0.5, strict.
            let counted = p.counted().len() as i64;
            p.outcome = if (yes + no + abstain) * 2 < counted {
                POutcome::NoQuorum
            } else if yes * 2 <= yes + no {
                POutcome::Rejected
            } else if p.cents > available {
                POutcome::Insufficient
            } else {
                POutcome::Passed
            };
            if p.round && p.outcome == POutcome::Passed {
                p.round_open = true;
                p.round_closes_at = Some(received + chrono::Duration::days(2));
            }
        }
        Op::Disburse { by, idx, cents } => {
            let n = m.proposals.len();
            let pi = pick(idx, n).unwrap_or(0);
            m.proposals[pi].requested += cents;
            m.disbursements.push(MDisbursement {
                id,
                proposal: pi,
                cents,
                requester: by,
                approvals: vec![by],
                status: DStatus::Pending,
            });
        }
        Op::Approve { by, idx } => {
            let n = m.disbursements.len();
            let d = &mut m.disbursements[pick(idx, n).unwrap_or(0)];
            d.approvals.push(by);
            if d.approvals.len() >= 2 {
                d.status = DStatus::Executed;
                m.proposals[d.proposal].paid += d.cents;
            }
        }
        Op::ReverseDisbursement { idx, .. } => {
            let n = m.disbursements.len();
            let d = &mut m.disbursements[pick(idx, n).unwrap_or(0)];
            d.status = DStatus::Reversed;
            m.proposals[d.proposal].requested -= d.cents;
        }
    }
}

fn setup() -> World {
    let mut w = World::new();
    for (i, id) in MEMBERS.iter().enumerate() {
        w.member(id, if i == 3 { "municipality" } else { "collective" });
    }
    let mut c = charter(&["mem-a", "mem-b", "mem-d"], 2, "open");
    c["voting_period_seconds"] = json!(PERIOD_SECONDS);
    c["max_request"] = json!(amount(MAX_REQUEST_CENTS));
    w.ok("mem-a", Kind::FundCreate, json!({"id": "model", "name": "Model", "purpose": "", "charter": c}));
    for id in &MEMBERS[1..] {
        w.ok(id, Kind::FundJoin, json!({"fund": "model"}));
    }
    w.ok(
        "mem-d",
        Kind::PledgeMatching,
        json!({"fund": "model", "ratio": "0.5", "cap": amount(MATCH_CAP_CENTS), "until": "2030-12-31"}),
    );
    w
}

fn cents(b: ledger::money::Balance) -> i64 {
    let mut d = b.as_decimal();
    d.rescale(2);
    i64::try_from(d.mantissa()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ledger_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..160)) {
        let mut w = setup();
        let mut m = Model::default();
        for op in &ops {
            if let Op::Wait { secs } = op {
                w.advance(*secs);
                continue;
            }
            if let Op::WaitDays = op {
                w.advance(2 * 86_400);
                continue;
            }
            if let Op::VoteAll { idx, choice } = op {
                for who in 0..MEMBERS.len() {
                    check(&mut w, &mut m, &Op::Vote { who, idx: *idx, choice: *choice })?;
                }
                continue;
            }
            check(&mut w, &mut m, op)?;
        }
    }
}

/// Apply one op to the ledger and the model and compare.
fn check(w: &mut World, m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let Some((who, kind, body, ok)) = step(m, w, op) else { return Ok(()) };
    let before = w.state.clone();
    match w.apply(MEMBERS[who], kind, body) {
        Ok(id) => {
            prop_assert!(ok, "{op:?}: the ledger accepted what the model refuses");
            accepted(m, w, op, id.to_hex());
        }
        Err(r) => {
            prop_assert!(!ok, "{op:?}: the ledger refused what the model accepts: {r}");
            prop_assert!(w.state == before, "{op:?}: a refused entry changed the state");
        }
    }
    let f = w.fund("model");
    let b = f.balances;
    let got = [b.pledged, b.confirmed, b.committed, b.disbursed, b.available].map(cents);
    prop_assert_eq!(got, m.balances(), "after {:?}", op);
    prop_assert_eq!(got[1], got[2] + got[3] + got[4], "conservation");
    prop_assert!(got.iter().all(|x| *x >= 0));
    let pl = &f.matching[0];
    prop_assert_eq!([pl.owed, pl.paid, pl.outstanding].map(cents), m.matching());
    for p in &m.proposals {
        let lp = w.state.funds.proposal(&p.id.parse().unwrap()).unwrap();
        let want = match p.outcome {
            POutcome::Open => None,
            POutcome::Passed => Some(Outcome::Passed),
            POutcome::Rejected => Some(Outcome::Rejected),
            POutcome::NoQuorum => Some(Outcome::RejectedNoQuorum),
            POutcome::Insufficient => Some(Outcome::RejectedInsufficientFunds),
        };
        prop_assert_eq!(lp.outcome, want);
        prop_assert_eq!((cents(lp.requested), cents(lp.paid)), (p.requested, p.paid));
        // No allocation passes below its threshold or quorum, or with its recipient's vote.
        if lp.outcome == Some(Outcome::Passed) && lp.proposal_kind == ledger::entry::ProposalKind::Allocation {
            let t = lp.tally();
            prop_assert!(t.yes * 2 > t.yes + t.no, "an allocation passed at or below its threshold: {t:?}");
            prop_assert!((t.yes + t.no + t.abstain) * 2 >= lp.counted.len() as u64, "below quorum: {t:?}");
            prop_assert!(!lp.votes.contains_key(&MEMBERS[p.recipient].parse().unwrap()));
            prop_assert!(!lp.counted.contains(&MEMBERS[p.recipient].parse().unwrap()));
        }
    }
    // A round never commits more than the pool: the open rounds' budgets fit in what was confirmed.
    let open_rounds: i64 = w.state.funds.open_rounds().map(|r| cents(ledger::money::Balance::from(r.budget))).sum();
    prop_assert!(
        open_rounds <= got[2] && got[2] <= got[1],
        "rounds {open_rounds}, committed {}, confirmed {}",
        got[2],
        got[1]
    );
    prop_assert_eq!(open_rounds, m.proposals.iter().filter(|p| p.round_open).map(|p| p.cents).sum::<i64>());
    Ok(())
}
