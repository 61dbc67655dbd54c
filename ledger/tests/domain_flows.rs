//! The fund domain's accepted paths: what each entry does to members, votes,
//! outcomes and money.

mod domain_common;

use domain_common::{allocation, charter, recon, World};
use ledger::entry::Kind;
use ledger::funds::{ContributionStatus, DisbursementStatus, FundStatus, Outcome, ProposalStatus};
use ledger::ids::{EntryId, MemberId};
use ledger::state::State;
use serde_json::json;

fn m(s: &str) -> MemberId {
    s.parse().unwrap()
}

/// coop (treasurer), food, care (treasurer), city (municipality, treasurer) in fund `f`
/// with two approvals; `confirmed` contributed and confirmed by coop.
fn fund_with(admission: &str, confirmed: &[(&str, &str)]) -> World {
    let mut w = World::new();
    for (id, kind) in [
        ("coop", "collective"),
        ("food", "collective"),
        ("care", "collective"),
        ("city", "municipality"),
        ("late", "collective"),
    ] {
        w.member(id, kind);
    }
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "fnd", "name": "F", "purpose": "", "charter": charter(&["coop", "care", "city"], 2, "open")}),
    );
    for who in ["food", "care", "city"] {
        w.ok(who, Kind::FundJoin, json!({"fund": "fnd"}));
    }
    let mut ids = Vec::new();
    for (i, (who, amount)) in confirmed.iter().enumerate() {
        ids.push(
            w.ok(who, Kind::Contribution, json!({"fund": "fnd", "amount": amount, "reference": format!("R-{i}")}))
                .to_hex(),
        );
    }
    if !ids.is_empty() {
        w.ok("coop", Kind::Reconciliation, recon("fnd", 200, &ids));
    }
    if admission == "vote" {
        let p = w.ok("coop", Kind::Proposal, json!({"fund": "fnd", "proposal_kind": "charter", "title": "vote admission", "description": "", "charter": charter(&["coop", "care", "city"], 2, "vote")}));
        pass(&mut w, p);
    }
    w
}

fn vote(w: &mut World, p: EntryId, who: &str, choice: &str) {
    w.ok(who, Kind::Vote, json!({"proposal": p.to_hex(), "choice": choice}));
}

/// Every counted member votes yes (the recipient of an allocation is not counted).
fn pass(w: &mut World, p: EntryId) {
    let counted = proposal(w, p).counted.clone();
    for who in ["coop", "food", "care", "city"] {
        if counted.contains(&m(who)) {
            vote(w, p, who, "yes");
        }
    }
    w.ok("food", Kind::ProposalClose, json!({"proposal": p.to_hex()}));
}

fn proposal(w: &World, p: EntryId) -> &ledger::funds::ProposalState {
    w.state.funds.proposal(&p).unwrap()
}

fn balances(w: &World) -> [String; 5] {
    let b = w.fund("fnd").balances;
    [b.pledged, b.confirmed, b.committed, b.disbursed, b.available].map(|x| x.to_string())
}

#[test]
fn admission_by_vote_admits_when_passed() {
    let mut w = fund_with("vote", &[]);
    let join = w.ok("late", Kind::FundJoin, json!({"fund": "fnd"}));
    assert!(!w.fund("fnd").is_member(&m("late")));
    let p = proposal(&w, join);
    assert_eq!(p.member, Some(m("late")));
    assert_eq!(p.counted.len(), 4);
    pass(&mut w, join);
    assert_eq!(proposal(&w, join).outcome, Some(Outcome::Passed));
    assert!(w.fund("fnd").is_member(&m("late")));
    w.ok("late", Kind::Proposal, allocation("fnd", "1.00", "late"));
}

#[test]
fn admission_rejected_keeps_the_candidate_out() {
    let mut w = fund_with("vote", &[]);
    let join = w.ok("late", Kind::FundJoin, json!({"fund": "fnd"}));
    for who in ["coop", "food", "care", "city"] {
        vote(&mut w, join, who, "no");
    }
    w.ok("late", Kind::ProposalClose, json!({"proposal": join.to_hex()}));
    assert_eq!(proposal(&w, join).outcome, Some(Outcome::Rejected));
    assert!(!w.fund("fnd").is_member(&m("late")));
    // It may ask again.
    w.ok("late", Kind::FundJoin, json!({"fund": "fnd"}));
}

#[test]
fn quorum_threshold_and_deadline() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    // One vote of four: below a quorum of 0.5 × 4.
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "late"));
    vote(&mut w, p, "coop", "yes");
    assert!(w.state.due_closes(&w.at()).is_empty());
    w.advance(3600);
    assert_eq!(w.state.due_closes(&w.at()), vec![p]);
    w.ok("care", Kind::ProposalClose, json!({"proposal": p.to_hex()}));
    assert_eq!(proposal(&w, p).outcome, Some(Outcome::RejectedNoQuorum));
    assert!(w.state.due_closes(&w.at()).is_empty());

    // Two yes, two no: 0.5 is not strictly above the threshold of 0.5.
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "late"));
    for (who, c) in [("coop", "yes"), ("food", "yes"), ("care", "no"), ("city", "no")] {
        vote(&mut w, p, who, c);
    }
    assert_eq!(w.state.due_closes(&w.at()), vec![p], "every counted member voted: the close is due at once");
    w.ok("city", Kind::ProposalClose, json!({"proposal": p.to_hex()}));
    assert_eq!(proposal(&w, p).outcome, Some(Outcome::Rejected));
    assert_eq!(proposal(&w, p).tally(), ledger::funds::Tally { yes: 2, no: 2, abstain: 0 });

    // Abstentions count for the quorum, not for the threshold: 1 yes, 1 abstain of 4 passes.
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "late"));
    vote(&mut w, p, "coop", "yes");
    vote(&mut w, p, "food", "abstain");
    w.advance(3600);
    w.ok("city", Kind::ProposalClose, json!({"proposal": p.to_hex()}));
    assert_eq!(proposal(&w, p).outcome, Some(Outcome::Passed));
    assert_eq!(balances(&w), ["0.00", "100.00", "10.00", "0.00", "90.00"].map(String::from));
}

#[test]
fn a_later_vote_replaces_the_earlier_one() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "late"));
    vote(&mut w, p, "coop", "yes");
    vote(&mut w, p, "coop", "no");
    vote(&mut w, p, "food", "no");
    let t = proposal(&w, p).tally();
    assert_eq!((t.yes, t.no), (0, 2));
    w.advance(3600);
    w.ok("coop", Kind::ProposalClose, json!({"proposal": p.to_hex()}));
    assert_eq!(proposal(&w, p).outcome, Some(Outcome::Rejected));
}

#[test]
fn allocation_above_available_at_close() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "80.00", "food"));
    let b = w.ok("coop", Kind::Proposal, allocation("fnd", "30.00", "food"));
    pass(&mut w, a);
    pass(&mut w, b);
    assert_eq!(proposal(&w, a).outcome, Some(Outcome::Passed));
    assert_eq!(proposal(&w, b).outcome, Some(Outcome::RejectedInsufficientFunds));
    assert_eq!(balances(&w), ["0.00", "100.00", "80.00", "0.00", "20.00"].map(String::from));
}

#[test]
fn payout_needs_two_treasurers_and_never_the_recipient() {
    let mut w = fund_with("open", &[("coop", "100.00"), ("food", "50.00")]);
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "120.00", "care"));
    pass(&mut w, a);
    let d =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "70.00", "reference": "E2E-1"}));
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Pending);
    assert_eq!(balances(&w), ["0.00", "150.00", "120.00", "0.00", "30.00"].map(String::from));
    assert!(w.apply("care", Kind::DisbursementApprove, json!({"disbursement": d.to_hex()})).is_err());
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d.to_hex()}));
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Executed);
    assert_eq!(balances(&w), ["0.00", "150.00", "50.00", "70.00", "30.00"].map(String::from));
    let p = proposal(&w, a);
    assert_eq!((p.requested.to_string(), p.paid.to_string()), ("70.00".into(), "70.00".into()));
    // The bank statement shows it: confirmed, balances unchanged.
    w.ok("care", Kind::Reconciliation, recon("fnd", 7, &[d.to_hex()]));
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Confirmed);
    assert_eq!(balances(&w), ["0.00", "150.00", "50.00", "70.00", "30.00"].map(String::from));
}

#[test]
fn a_charter_change_executes_payouts_that_now_have_enough_approvals() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "40.00", "food"));
    pass(&mut w, a);
    let d =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "40.00", "reference": "E2E-1"}));
    let c = w.ok("coop", Kind::Proposal, json!({"fund": "fnd", "proposal_kind": "charter", "title": "one approval", "description": "", "charter": charter(&["coop", "care"], 1, "open")}));
    pass(&mut w, c);
    assert_eq!(w.fund("fnd").charter.approvals_required, 1);
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Executed);
    assert_eq!(balances(&w), ["0.00", "100.00", "0.00", "40.00", "60.00"].map(String::from));
    // city is no longer a treasurer.
    let r = w.apply("city", Kind::Reconciliation, recon("fnd", 8, &[])).unwrap_err();
    assert_eq!(r.code, "not_treasurer");
    // With one approval required, a request executes at once.
    let a2 = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "food"));
    pass(&mut w, a2);
    let d2 =
        w.ok("care", Kind::Disbursement, json!({"allocation": a2.to_hex(), "amount": "10.00", "reference": "E2E-2"}));
    assert_eq!(w.state.funds.disbursements[&d2].status, DisbursementStatus::Executed);
}

#[test]
fn reversals_undo_pledges_and_pending_payouts() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let c = w.ok("food", Kind::Contribution, json!({"fund": "fnd", "amount": "25.00", "reference": "LATE"}));
    assert_eq!(balances(&w)[0], "25.00");
    w.ok("care", Kind::Reversal, json!({"entry": c.to_hex(), "reason": "never arrived"}));
    assert_eq!(balances(&w)[0], "0.00");
    assert_eq!(w.state.funds.contributions.get(&c).unwrap().status, ContributionStatus::Reversed);
    // The reference is free again.
    w.ok("food", Kind::Contribution, json!({"fund": "fnd", "amount": "25.00", "reference": "LATE"}));

    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "60.00", "food"));
    pass(&mut w, a);
    let d =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "60.00", "reference": "E2E-1"}));
    w.ok("coop", Kind::Reversal, json!({"entry": d.to_hex(), "reason": "wrong account"}));
    // The reservation is freed: the whole allocation can be requested again.
    let d2 =
        w.ok("care", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "60.00", "reference": "E2E-2"}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d2.to_hex()}));
    assert_eq!(balances(&w), ["25.00", "100.00", "0.00", "60.00", "40.00"].map(String::from));
}

#[test]
fn leaving_keeps_open_votes_and_the_treasurer_role() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "late"));
    w.ok("city", Kind::FundLeave, json!({"fund": "fnd"}));
    assert!(!w.fund("fnd").is_member(&m("city")));
    assert!(w.fund("fnd").is_treasurer(&m("city")));
    // Counted at opening, so it still votes on p, and p still counts it for the quorum.
    vote(&mut w, p, "city", "yes");
    assert_eq!(proposal(&w, p).counted.len(), 4);
    // It may not open new proposals.
    assert_eq!(w.apply("city", Kind::Proposal, allocation("fnd", "1.00", "late")).unwrap_err().code, "not_fund_member");
    // A later proposal does not count it.
    let q = w.ok("coop", Kind::Proposal, allocation("fnd", "1.00", "late"));
    assert_eq!(proposal(&w, q).counted.len(), 3);
    assert_eq!(
        w.apply("city", Kind::Vote, json!({"proposal": q.to_hex(), "choice": "yes"})).unwrap_err().code,
        "not_fund_member"
    );
}

#[test]
fn dissolution_refunds_pro_rata_and_ends_the_fund() {
    // 100.00 + 100.00 + 100.00 confirmed; 40.00 allocated and passed; 260.00 shared three ways.
    let mut w = fund_with("open", &[("coop", "100.00"), ("food", "100.00"), ("care", "100.00")]);
    let pledge = w.ok("city", Kind::Contribution, json!({"fund": "fnd", "amount": "30.00", "reference": "CITY-LATE"}));
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "40.00", "food"));
    pass(&mut w, a);
    let open = w.ok("coop", Kind::Proposal, allocation("fnd", "5.00", "food"));
    let d = w.ok(
        "coop",
        Kind::Proposal,
        json!({"fund": "fnd", "proposal_kind": "dissolution", "title": "the end", "description": ""}),
    );
    pass(&mut w, d);
    let f = w.fund("fnd");
    assert_eq!(f.status, FundStatus::Dissolved);
    assert_eq!(balances(&w), ["30.00", "300.00", "300.00", "0.00", "0.00"].map(String::from));
    let dis = f.dissolution.as_ref().unwrap();
    assert_eq!(dis.pool.to_string(), "260.00");
    let owed: Vec<String> = ["care", "coop", "food"].iter().map(|x| dis.refunds[&m(x)].owed.to_string()).collect();
    // 86.666… each: floors 86.66, two cents left, equal remainders: by member id, care and coop.
    assert_eq!(owed, ["86.67", "86.67", "86.66"]);
    // Other open proposals end with the fund.
    let o = proposal(&w, open);
    assert_eq!((o.status, o.outcome), (ProposalStatus::Closed, Some(Outcome::Rejected)));
    assert!(w.state.due_closes(&w.at()).is_empty());

    // The passed allocation can still be paid.
    let pay =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "40.00", "reference": "E2E-A"}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": pay.to_hex()}));
    // Refunds name their recipient: 86.67 is owed to care; a partial refund first.
    assert_eq!(
        w.apply("coop", Kind::Disbursement, json!({"allocation": d.to_hex(), "amount": "86.67", "reference": "R"}))
            .unwrap_err()
            .code,
        "missing_recipient"
    );
    let r0 = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"allocation": d.to_hex(), "amount": "6.67", "reference": "REFUND-0", "recipient": "care"}),
    );
    assert_eq!(w.state.funds.disbursements[&r0].recipient, Some(m("care")));
    // Only 80.00 is left for care: more is refused.
    assert_eq!(
        w.apply(
            "coop",
            Kind::Disbursement,
            json!({"allocation": d.to_hex(), "amount": "80.01", "reference": "R", "recipient": "care"})
        )
        .unwrap_err()
        .code,
        "over_refund"
    );
    let r1 = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"allocation": d.to_hex(), "amount": "80.00", "reference": "REFUND-1", "recipient": "care"}),
    );
    // coop may not request its own refund; care requests it.
    assert_eq!(
        w.apply(
            "coop",
            Kind::Disbursement,
            json!({"allocation": d.to_hex(), "amount": "86.67", "reference": "R", "recipient": "coop"})
        )
        .unwrap_err()
        .code,
        "recipient_cannot_request"
    );
    let r2 = w.ok(
        "care",
        Kind::Disbursement,
        json!({"allocation": d.to_hex(), "amount": "86.67", "reference": "REFUND-2", "recipient": "coop"}),
    );
    assert_eq!(w.state.funds.disbursements[&r2].recipient, Some(m("coop")));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": r0.to_hex()}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": r1.to_hex()}));
    assert_eq!(balances(&w), ["30.00", "300.00", "173.33", "126.67", "0.00"].map(String::from));

    // The municipality's pledge arrives after the end: it is owed back to the municipality.
    w.ok("coop", Kind::Reconciliation, recon("fnd", 9, &[pledge.to_hex()]));
    let dis = w.fund("fnd").dissolution.as_ref().unwrap();
    assert_eq!(dis.refunds[&m("city")].owed.to_string(), "30.00");
    assert_eq!(balances(&w), ["0.00", "330.00", "203.33", "126.67", "0.00"].map(String::from));
}

#[test]
fn matching_pledge_owes_paid_outstanding() {
    let mut w = fund_with("open", &[("coop", "10.00")]);
    // Before the pledge: not matched.
    let pledge = w.ok(
        "city",
        Kind::PledgeMatching,
        json!({"fund": "fnd", "ratio": "0.5", "cap": "100.00", "until": "2027-12-31"}),
    );
    let c1 = w.ok("food", Kind::Contribution, json!({"fund": "fnd", "amount": "50.01", "reference": "F-1"}));
    let c2 = w.ok(
        "city",
        Kind::Contribution,
        json!({"fund": "fnd", "amount": "10.00", "reference": "C-1", "matching": pledge.to_hex()}),
    );
    // An ordinary contribution by the municipality does not settle the pledge.
    let c0 = w.ok("city", Kind::Contribution, json!({"fund": "fnd", "amount": "7.00", "reference": "C-0"}));
    w.ok("coop", Kind::Reconciliation, recon("fnd", 2, &[c0.to_hex()]));
    let c3 = w.ok("care", Kind::Contribution, json!({"fund": "fnd", "amount": "500.00", "reference": "F-2"}));
    let pl = &w.fund("fnd").matching[0];
    assert_eq!(pl.owed.to_string(), "0.00", "pledged, not confirmed: nothing owed yet");
    w.ok("coop", Kind::Reconciliation, recon("fnd", 3, &[c1.to_hex(), c2.to_hex()]));
    let pl = &w.fund("fnd").matching[0];
    // 0.5 × 50.01 = 25.005 → 25.01 (half away from zero).
    assert_eq!(
        [pl.matched, pl.owed, pl.paid, pl.outstanding].map(|b| b.to_string()),
        ["50.01", "25.01", "10.00", "15.01"].map(String::from)
    );
    w.ok("coop", Kind::Reconciliation, recon("fnd", 4, &[c3.to_hex()]));
    let pl = &w.fund("fnd").matching[0];
    assert_eq!(
        [pl.matched, pl.owed, pl.paid, pl.outstanding].map(|b| b.to_string()),
        ["550.01", "100.00", "10.00", "90.00"].map(String::from)
    );
    // After `until`, a payment naming the pledge still settles it.
    w.advance(400 * 24 * 3600);
    let late = w.ok(
        "city",
        Kind::Contribution,
        json!({"fund": "fnd", "amount": "90.00", "reference": "C-LATE", "matching": pledge.to_hex()}),
    );
    w.ok("coop", Kind::Reconciliation, recon("fnd", 5, &[late.to_hex()]));
    let pl = &w.fund("fnd").matching[0];
    assert_eq!(
        [pl.matched, pl.owed, pl.paid, pl.outstanding].map(|b| b.to_string()),
        ["550.01", "100.00", "100.00", "0.00"].map(String::from)
    );
}

#[test]
fn the_state_survives_a_snapshot() {
    let mut w = fund_with("open", &[("coop", "100.00"), ("food", "3.00")]);
    w.ok("city", Kind::PledgeMatching, json!({"fund": "fnd", "ratio": "1.0", "cap": "100.00", "until": "2027-12-31"}));
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "40.00", "food"));
    pass(&mut w, a);
    w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "40.00", "reference": "E2E-1"}));
    w.ok("coop", Kind::Proposal, allocation("fnd", "4.00", "food"));
    let d = w.ok(
        "coop",
        Kind::Proposal,
        json!({"fund": "fnd", "proposal_kind": "dissolution", "title": "end", "description": ""}),
    );
    pass(&mut w, d);
    let snap = serde_json::to_vec(&w.state).unwrap();
    let back: State = serde_json::from_slice(&snap).unwrap();
    assert_eq!(back, w.state);
    // And it keeps working after the round trip.
    let mut w2 = w.clone();
    w2.state = back;
    let refunds = &w2.fund("fnd").dissolution.as_ref().unwrap().refunds;
    let (who, r) = refunds.iter().find(|(m, _)| m.as_str() != "care").unwrap();
    let body = json!({"allocation": d.to_hex(), "amount": r.owed.to_string(), "reference": "REFUND", "recipient": who.as_str()});
    w2.ok("care", Kind::Disbursement, body);
}

#[test]
fn a_treasurer_is_paid_by_the_others_released_half_spent() {
    let mut w = fund_with("open", &[("coop", "1000.00")]);
    // 400.00 to care, a treasurer: coop requests, city approves.
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "400.00", "care"));
    pass(&mut w, a);
    let d = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"allocation": a.to_hex(), "amount": "200.00", "reference": "E-1", "recipient": "care"}),
    );
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d.to_hex()}));
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Executed);
    assert!(w.state.funds.disbursements[&d].executed_at.is_some());
    let pending =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "50.00", "reference": "E-2"}));
    assert_eq!(balances(&w), ["0.00", "1000.00", "200.00", "200.00", "600.00"].map(String::from));
    // care spent half and gives the rest back: 200.00 returns to available, the pending request lapses.
    w.ok("care", Kind::AllocationRelease, json!({"allocation": a.to_hex(), "reason": "done for half"}));
    assert_eq!(balances(&w), ["0.00", "1000.00", "0.00", "200.00", "800.00"].map(String::from));
    let p = &w.state.funds.disbursements[&pending];
    assert_eq!(p.status, DisbursementStatus::Lapsed);
    assert!(p.reversed_at.is_some());
    assert_eq!(w.state.funds.releases[&a].amount.to_string(), "200.00");
}

#[test]
fn a_cancellation_by_vote_ends_an_allocation() {
    let mut w = fund_with("open", &[("coop", "1000.00")]);
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "300.00", "food"));
    pass(&mut w, a);
    let pending =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "100.00", "reference": "E-1"}));
    let x = w.ok(
        "coop",
        Kind::Proposal,
        json!({"fund": "fnd", "proposal_kind": "cancellation", "title": "project never started", "description": "", "allocation": a.to_hex()}),
    );
    assert_eq!(balances(&w), ["0.00", "1000.00", "300.00", "0.00", "700.00"].map(String::from));
    pass(&mut w, x);
    assert_eq!(proposal(&w, x).outcome, Some(Outcome::Passed));
    assert_eq!(balances(&w), ["0.00", "1000.00", "0.00", "0.00", "1000.00"].map(String::from));
    assert_eq!(w.state.funds.disbursements[&pending].status, DisbursementStatus::Lapsed);
    let r = &w.state.funds.releases[&a];
    assert_eq!((r.how, r.by), (ledger::funds::ReleaseKind::Cancelled, x));
}

#[test]
fn a_withdrawn_proposal_closes_at_once() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let a = w.ok("food", Kind::Proposal, allocation("fnd", "30.00", "food"));
    w.ok("food", Kind::ProposalWithdraw, json!({"proposal": a.to_hex()}));
    let p = proposal(&w, a);
    assert_eq!((p.status, p.outcome), (ProposalStatus::Closed, Some(Outcome::Withdrawn)));
    assert!(w.state.due_closes(&w.at()).is_empty());
    assert_eq!(
        w.apply("coop", Kind::Vote, json!({"proposal": a.to_hex(), "choice": "yes"})).unwrap_err().code,
        "proposal_closed"
    );
}

#[test]
fn income_and_costs() {
    let mut w = fund_with("open", &[("coop", "100.00")]);
    let i = w.ok(
        "coop",
        Kind::Income,
        json!({"fund": "fnd", "amount": "500.00", "source_kind": "grant", "source": "Oranje Fonds", "reference": "GRANT-1"}),
    );
    assert_eq!(balances(&w), ["500.00", "100.00", "0.00", "0.00", "100.00"].map(String::from));
    w.ok("coop", Kind::Reconciliation, recon("fnd", 3, &[i.to_hex()]));
    assert_eq!(balances(&w), ["0.00", "600.00", "0.00", "0.00", "600.00"].map(String::from));
    assert!(w.fund("fnd").contributed.values().all(|v| v.to_string() == "100.00"), "income weighs no refund");
    // A bank fee: reserved at once, executed by the second approval.
    let fee = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"fund": "fnd", "amount": "12.50", "reference": "FEE-1", "cost": {"category": "bank_fee", "payee": "Triodos Bank", "description": "Q1 account fee"}}),
    );
    assert_eq!(balances(&w), ["0.00", "600.00", "12.50", "0.00", "587.50"].map(String::from));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": fee.to_hex()}));
    assert_eq!(balances(&w), ["0.00", "600.00", "0.00", "12.50", "587.50"].map(String::from));
    // A reversed pending cost gives its reservation back.
    let ins = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"fund": "fnd", "amount": "99.00", "reference": "INS-1", "cost": {"category": "insurance", "payee": "Centraal Beheer", "description": "liability"}}),
    );
    w.ok("coop", Kind::Reversal, json!({"entry": ins.to_hex(), "reason": "wrong policy"}));
    assert_eq!(balances(&w), ["0.00", "600.00", "0.00", "12.50", "587.50"].map(String::from));
    assert_eq!(w.state.funds.disbursements[&ins].status, DisbursementStatus::Reversed);
}

fn returned(fund: &str, tag: u8, ids: &[String]) -> serde_json::Value {
    let mut r = recon(fund, tag, &[]);
    r["returned"] = json!(ids);
    r
}

#[test]
fn the_bank_returns_a_contribution_and_a_payout() {
    let mut w = fund_with("open", &[("coop", "600.00"), ("food", "400.00")]);
    let pledge = w.ok(
        "city",
        Kind::PledgeMatching,
        json!({"fund": "fnd", "ratio": "1.0", "cap": "5000.00", "until": "2027-12-31"}),
    );
    let late = w.ok("care", Kind::Contribution, json!({"fund": "fnd", "amount": "100.00", "reference": "R-C"}));
    let settle = w.ok(
        "city",
        Kind::Contribution,
        json!({"fund": "fnd", "amount": "50.00", "reference": "R-M", "matching": pledge.to_hex()}),
    );
    w.ok("coop", Kind::Reconciliation, recon("fnd", 11, &[late.to_hex(), settle.to_hex()]));
    let pl = &w.fund("fnd").matching[0];
    assert_eq!((pl.matched.to_string(), pl.paid.to_string()), ("100.00".into(), "50.00".into()));
    // The bank sends care's 100.00 and the city's 50.00 back.
    w.ok("coop", Kind::Reconciliation, returned("fnd", 12, &[late.to_hex(), settle.to_hex()]));
    assert_eq!(balances(&w), ["0.00", "1000.00", "0.00", "0.00", "1000.00"].map(String::from));
    let pl = &w.fund("fnd").matching[0];
    assert_eq!((pl.matched.to_string(), pl.paid.to_string()), ("0.00".into(), "0.00".into()));
    assert_eq!(w.state.funds.contributions.get(&late).unwrap().status, ContributionStatus::Returned);
    assert!(w.state.funds.contributions.get(&late).unwrap().returned_at().is_some());
    assert!(!w.fund("fnd").contributed.contains_key(&m("care")) || w.fund("fnd").contributed[&m("care")].is_zero());

    // A payout that bounced: back on its allocation, payable again.
    let a = w.ok("coop", Kind::Proposal, allocation("fnd", "300.00", "food"));
    pass(&mut w, a);
    let d = w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "300.00", "reference": "E-1"}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d.to_hex()}));
    assert_eq!(balances(&w), ["0.00", "1000.00", "0.00", "300.00", "700.00"].map(String::from));
    w.ok("coop", Kind::Reconciliation, returned("fnd", 13, &[d.to_hex()]));
    assert_eq!(balances(&w), ["0.00", "1000.00", "300.00", "0.00", "700.00"].map(String::from));
    assert_eq!(w.state.funds.disbursements[&d].status, DisbursementStatus::Returned);
    let p = proposal(&w, a);
    assert_eq!((p.requested.to_string(), p.paid.to_string()), ("0.00".into(), "0.00".into()));
    let again =
        w.ok("coop", Kind::Disbursement, json!({"allocation": a.to_hex(), "amount": "300.00", "reference": "E-2"}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": again.to_hex()}));
    assert_eq!(balances(&w), ["0.00", "1000.00", "0.00", "300.00", "700.00"].map(String::from));
}
