//! A property test: random sequences of contributions (some settling the
//! matching pledge), incomes, confirmations, reversals, proposals, votes,
//! closes, withdrawals, disbursements, costs, approvals and releases, applied
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
const MAX_COST_CENTS: i64 = 10_000;
const CHOICES: [&str; 3] = ["yes", "no", "abstain"];

#[derive(Debug, Clone)]
enum Op {
    Contribute {
        who: usize,
        cents: i64,
        matching: bool,
    },
    Income {
        by: usize,
        cents: i64,
    },
    Cost {
        by: usize,
        cents: i64,
    },
    Release {
        by: usize,
        idx: usize,
    },
    Withdraw {
        by: usize,
        idx: usize,
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
    /// A day or more passes (so period statements have periods).
    WaitDays {
        days: i64,
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
    CloseRound {
        idx: usize,
    },
    /// The bank returns a contribution or income (`payout` false) or a payout.
    Return {
        idx: usize,
        payout: bool,
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
        3 => (who.clone(), 1i64..60_000, proptest::bool::weighted(0.3))
            .prop_map(|(who, cents, matching)| Op::Contribute { who, cents, matching }),
        1 => (who.clone(), 1i64..30_000).prop_map(|(by, cents)| Op::Income { by, cents }),
        1 => (who.clone(), 1i64..12_000).prop_map(|(by, cents)| Op::Cost { by, cents }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Release { by, idx }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Withdraw { by, idx }),
        4 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Confirm { by, idx }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::ReverseContribution { by, idx }),
        2 => (who.clone(), request, who.clone()).prop_map(|(by, cents, recipient)| Op::Propose { by, cents, recipient }),
        4 => (who.clone(), idx.clone(), choice.clone()).prop_map(|(who, idx, choice)| Op::Vote { who, idx, choice }),
        2 => (idx.clone(), choice.clone()).prop_map(|(idx, choice)| Op::VoteAll { idx, choice }),
        2 => (1i64..150).prop_map(|secs| Op::Wait { secs }),
        1 => (1i64..4).prop_map(|days| Op::WaitDays { days }),
        3 => idx.clone().prop_map(|idx| Op::Close { idx }),
        4 => (who.clone(), idx.clone(), 1i64..15_000).prop_map(|(by, idx, cents)| Op::Disburse { by, idx, cents }),
        4 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::Approve { by, idx }),
        1 => (who.clone(), idx.clone()).prop_map(|(by, idx)| Op::ReverseDisbursement { by, idx }),
        1 => idx.clone().prop_map(|idx| Op::ConfirmDisbursement { idx }),
        1 => (who.clone(), 1i64..80_000).prop_map(|(by, cents)| Op::ProposeRound { by, cents }),
        1 => idx.clone().prop_map(|idx| Op::CloseRound { idx }),
        1 => (idx, proptest::bool::ANY).prop_map(|(idx, payout)| Op::Return { idx, payout }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CStatus {
    Pledged,
    Confirmed,
    Reversed,
    Returned,
}

#[derive(Debug, Clone)]
struct MContribution {
    id: String,
    who: usize,
    cents: i64,
    status: CStatus,
    /// Names the matching pledge.
    matching: bool,
    /// An income (outside money), not a member's contribution.
    income: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum POutcome {
    Open,
    Passed,
    Rejected,
    NoQuorum,
    Insufficient,
    Withdrawn,
}

#[derive(Debug, Clone)]
struct MProposal {
    id: String,
    author: usize,
    released: i64,
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
    Lapsed,
    Returned,
}

#[derive(Debug, Clone)]
struct MDisbursement {
    id: String,
    /// The allocation it pays; none for a cost.
    proposal: Option<usize>,
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
        let pending_costs = self
            .disbursements
            .iter()
            .filter(|d| d.proposal.is_none() && d.status == DStatus::Pending)
            .map(|d| d.cents)
            .sum::<i64>();
        let committed = self
            .proposals
            .iter()
            .filter(|p| p.outcome == POutcome::Passed && (!p.round || p.round_open))
            .map(|p| p.cents - p.paid - p.released)
            .sum::<i64>()
            + pending_costs;
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
        let confirmed = |f: &dyn Fn(&MContribution) -> bool| {
            self.contributions
                .iter()
                .filter(|c| c.status == CStatus::Confirmed && !c.income && f(c))
                .map(|c| c.cents)
                .sum::<i64>()
        };
        let collectives = confirmed(&|c| c.who != 3);
        let owed = ((collectives + 1) / 2).min(MATCH_CAP_CENTS);
        // Only the municipality's payments that name the pledge settle it.
        let paid = confirmed(&|c| c.matching);
        [owed, paid, (owed - paid).max(0)]
    }
}

/// The entry an op becomes, and whether the model accepts it (`None`: no entry, e.g. nothing to index).
fn step(m: &mut Model, w: &World, op: &Op) -> Option<(usize, Kind, Value, bool)> {
    // The entry will be received one second from now (see World::apply).
    let received = w.now + chrono::Duration::seconds(1);
    Some(match *op {
        Op::Contribute { who, cents, matching } => {
            m.references += 1;
            let mut body =
                json!({"fund": "model", "amount": amount(cents), "reference": format!("REF-{}", m.references)});
            if matching {
                body["matching"] = json!(w.fund("model").matching[0].id.to_hex());
            }
            (who, Kind::Contribution, body, !matching || who == 3)
        }
        Op::Income { by, cents } => {
            m.references += 1;
            let body = json!({"fund": "model", "amount": amount(cents), "source_kind": "interest", "source": "Bank", "reference": format!("REF-{}", m.references)});
            (by, Kind::Income, body, treasurer(by))
        }
        Op::Cost { by, cents } => {
            let body = json!({"fund": "model", "amount": amount(cents), "reference": "FEE", "cost": {"category": "bank_fee", "payee": "Bank", "description": ""}});
            (by, Kind::Disbursement, body, treasurer(by) && cents <= MAX_COST_CENTS && cents <= m.balances()[4])
        }
        Op::Release { by, idx } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let ok = by == p.recipient && p.outcome == POutcome::Passed && p.released == 0 && p.paid < p.cents;
            (by, Kind::AllocationRelease, json!({"allocation": p.id, "reason": "model"}), ok)
        }
        Op::Withdraw { by, idx } => {
            let p = m.proposals.get(pick(idx, m.proposals.len())?)?;
            let ok = by == p.author && p.outcome == POutcome::Open;
            (by, Kind::ProposalWithdraw, json!({"proposal": p.id}), ok)
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
        Op::Return { idx, payout: false } => {
            let c = m.contributions.get(pick(idx, m.contributions.len())?)?;
            m.statements += 1;
            let ok = c.status == CStatus::Confirmed && c.cents <= m.balances()[4];
            (0, Kind::Reconciliation, returned(m.statements, &c.id), ok)
        }
        Op::Return { idx, payout: true } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            m.statements += 1;
            let ok = matches!(d.status, DStatus::Executed | DStatus::Confirmed);
            (0, Kind::Reconciliation, returned(m.statements, &d.id), ok)
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
        Op::Wait { .. } | Op::WaitDays { .. } | Op::VoteAll { .. } => return None,
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
                && cents <= p.cents - p.requested - p.released;
            (by, Kind::Disbursement, json!({"allocation": p.id, "amount": amount(cents), "reference": "E2E"}), ok)
        }
        Op::Approve { by, idx } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            let recipient = d.proposal.map(|p| m.proposals[p].recipient);
            let ok =
                treasurer(by) && recipient != Some(by) && d.status == DStatus::Pending && !d.approvals.contains(&by);
            (by, Kind::DisbursementApprove, json!({"disbursement": d.id}), ok)
        }
        Op::ReverseDisbursement { by, idx } => {
            let d = m.disbursements.get(pick(idx, m.disbursements.len())?)?;
            let ok = (by == d.requester || treasurer(by)) && d.status == DStatus::Pending;
            (by, Kind::Reversal, json!({"entry": d.id, "reason": "model"}), ok)
        }
    })
}

fn returned(n: u32, id: &str) -> Value {
    let mut r = recon(n, id);
    r["confirmed"] = json!([]);
    r["returned"] = json!([id]);
    r
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
        Op::Contribute { who, cents, matching } => {
            m.contributions.push(MContribution { id, who, cents, status: CStatus::Pledged, matching, income: false })
        }
        Op::Income { by, cents } => m.contributions.push(MContribution {
            id,
            who: by,
            cents,
            status: CStatus::Pledged,
            matching: false,
            income: true,
        }),
        Op::Cost { by, cents } => m.disbursements.push(MDisbursement {
            id,
            proposal: None,
            cents,
            requester: by,
            approvals: vec![by],
            status: DStatus::Pending,
        }),
        Op::Release { idx, .. } => {
            let n = m.proposals.len();
            let pi = pick(idx, n).unwrap_or(0);
            let p = &mut m.proposals[pi];
            p.released = p.cents - p.paid;
            p.requested = p.paid;
            for d in &mut m.disbursements {
                if d.proposal == Some(pi) && d.status == DStatus::Pending {
                    d.status = DStatus::Lapsed;
                }
            }
        }
        Op::Withdraw { idx, .. } => {
            let n = m.proposals.len();
            m.proposals[pick(idx, n).unwrap_or(0)].outcome = POutcome::Withdrawn;
        }
        Op::Confirm { idx, .. } => {
            let n = m.contributions.len();
            m.contributions[pick(idx, n).unwrap_or(0)].status = CStatus::Confirmed;
        }
        Op::ConfirmDisbursement { idx } => {
            let n = m.disbursements.len();
            m.disbursements[pick(idx, n).unwrap_or(0)].status = DStatus::Confirmed;
        }
        Op::Return { idx, payout: false } => {
            let n = m.contributions.len();
            m.contributions[pick(idx, n).unwrap_or(0)].status = CStatus::Returned;
        }
        Op::Return { idx, payout: true } => {
            let n = m.disbursements.len();
            let d = &mut m.disbursements[pick(idx, n).unwrap_or(0)];
            d.status = DStatus::Returned;
            if let Some(p) = d.proposal {
                let p = &mut m.proposals[p];
                p.paid -= d.cents;
                p.requested -= d.cents;
                if p.released > 0 {
                    p.released += d.cents;
                }
            }
        }
        Op::ReverseContribution { idx, .. } => {
            let n = m.contributions.len();
            m.contributions[pick(idx, n).unwrap_or(0)].status = CStatus::Reversed;
        }
        Op::Propose { by, cents, recipient } => m.proposals.push(MProposal {
            id,
            author: by,
            released: 0,
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
        Op::ProposeRound { by, cents } => m.proposals.push(MProposal {
            id,
            author: by,
            released: 0,
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
        Op::Wait { .. } | Op::WaitDays { .. } | Op::VoteAll { .. } => {}
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
                proposal: Some(pi),
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
                if let Some(p) = d.proposal {
                    m.proposals[p].paid += d.cents;
                }
            }
        }
        Op::ReverseDisbursement { idx, .. } => {
            let n = m.disbursements.len();
            let d = &mut m.disbursements[pick(idx, n).unwrap_or(0)];
            d.status = DStatus::Reversed;
            if let Some(p) = d.proposal {
                m.proposals[p].requested -= d.cents;
            }
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
            if let Op::WaitDays { days } = op {
                w.advance(days * 24 * 3600);
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
    statements_add_up(w)?;
    for p in &m.proposals {
        let lp = w.state.funds.proposal(&p.id.parse().unwrap()).unwrap();
        let want = match p.outcome {
            POutcome::Open => None,
            POutcome::Passed => Some(Outcome::Passed),
            POutcome::Rejected => Some(Outcome::Rejected),
            POutcome::NoQuorum => Some(Outcome::RejectedNoQuorum),
            POutcome::Insufficient => Some(Outcome::RejectedInsufficientFunds),
            POutcome::Withdrawn => Some(Outcome::Withdrawn),
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

/// The period statements: the whole history closes at what the fund holds
/// (confirmed − disbursed), and two adjacent periods add up to their union.
fn statements_add_up(w: &World) -> Result<(), TestCaseError> {
    use ledger::time::Date;
    use ledger::views::StatementView;
    let f = w.fund("model");
    let start = Date("2026-11-01".parse().unwrap());
    let today = Date(w.now.date_naive());
    let whole = StatementView::of(&w.state, f, start, today).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(cents(whole.opening_balance), 0);
    prop_assert_eq!(cents(whole.closing_balance), cents(f.balances.confirmed) - cents(f.balances.disbursed));
    prop_assert_eq!(
        cents(whole.opening_balance) + cents(whole.money_in.total) - cents(whole.money_out.total),
        cents(whole.closing_balance)
    );
    // Split before the last day: the first period's closing opens the second; in and out add up.
    let mid = Date(today.0.pred_opt().unwrap());
    let a = StatementView::of(&w.state, f, start, mid).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let b = StatementView::of(&w.state, f, today, today).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(a.closing_balance, b.opening_balance);
    prop_assert_eq!(cents(a.money_in.total) + cents(b.money_in.total), cents(whole.money_in.total));
    prop_assert_eq!(cents(a.money_out.total) + cents(b.money_out.total), cents(whole.money_out.total));
    prop_assert_eq!(b.closing_balance, whole.closing_balance);
    Ok(())
}
