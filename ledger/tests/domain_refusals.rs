//! One test per rule that refuses a fund entry: each asserts the refusal's
//! code and class and that the state did not change at all.
//!
//! Every test starts from the same living scene ([`scene`]): a register, an
//! open-admission fund with contributions (some confirmed), a matching pledge,
//! passed, rejected and open proposals, pending and executed payouts and
//! reversals; a vote-admission fund; and a dissolved fund.

mod domain_common;

use std::sync::OnceLock;

use domain_common::{allocation, charter, recon, World};
use ledger::entry::{sign_entry, Kind};
use ledger::error::RefusalKind;
use ledger::funds::{ContributionStatus, DisbursementStatus, FundStatus, Outcome};
use ledger::ids::Author;
use serde_json::{json, Value};

/// Each voter votes, but the member the proposal is about (it has a conflict of interest).
fn vote_all(w: &mut World, proposal: &str, voters: &[&str], choice: &str) {
    let p = w.id(proposal);
    let conflicted = w.state.funds.proposal(&p.parse().unwrap()).unwrap().conflicted.clone();
    for v in voters {
        if conflicted.as_ref().is_some_and(|c| c.as_str() == *v) {
            continue;
        }
        w.ok(v, Kind::Vote, json!({"proposal": p, "choice": choice}));
    }
}

fn close(w: &mut World, proposal: &str) {
    let p = w.id(proposal);
    w.ok("coop", Kind::ProposalClose, json!({"proposal": p}));
}

/// The scene every refusal test starts from.
fn build_scene() -> World {
    let mut w = World::new();
    for (id, kind) in [
        ("coop", "collective"),
        ("food", "collective"),
        ("care", "collective"),
        ("city", "municipality"),
        ("partner", "partner"),
        ("outsider", "collective"),
    ] {
        w.member(id, kind);
    }
    w.apply_member("pending", "collective");

    // warmte: open admission, three treasurers, two approvals.
    w.ok("coop", Kind::FundCreate, json!({"id": "warmte", "name": "Warmtefonds", "purpose": "heat", "charter": charter(&["coop", "city", "care"], 2, "open")}));
    for m in ["food", "city", "care"] {
        w.ok(m, Kind::FundJoin, json!({"fund": "warmte"}));
    }
    w.named(
        "pledge",
        "city",
        Kind::PledgeMatching,
        json!({"fund": "warmte", "ratio": "1.0", "cap": "1000.00", "until": "2027-12-31"}),
    );
    w.named("c1", "coop", Kind::Contribution, json!({"fund": "warmte", "amount": "1000.00", "reference": "REF-1"}));
    w.named("c2", "food", Kind::Contribution, json!({"fund": "warmte", "amount": "500.00", "reference": "REF-2"}));
    let pledge = w.id("pledge");
    w.named(
        "c3",
        "city",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "300.00", "reference": "REF-3", "matching": pledge}),
    );
    w.named("c4", "care", Kind::Contribution, json!({"fund": "warmte", "amount": "200.00", "reference": "REF-4"}));
    w.named("c5", "coop", Kind::Contribution, json!({"fund": "warmte", "amount": "10.00", "reference": "REF-5"}));
    let c5 = w.id("c5");
    w.ok("coop", Kind::Reversal, json!({"entry": c5, "reason": "never arrived"}));
    let confirmed = vec![w.id("c1"), w.id("c2"), w.id("c3")];
    w.named("r1", "coop", Kind::Reconciliation, recon("warmte", 1, &confirmed));

    // p1: 800.00 to food, passed. p2: 100.00 to care (a treasurer), passed.
    w.named("p1", "food", Kind::Proposal, allocation("warmte", "800.00", "food"));
    vote_all(&mut w, "p1", &["coop", "food", "city", "care"], "yes");
    close(&mut w, "p1");
    w.named("p2", "coop", Kind::Proposal, allocation("warmte", "100.00", "care"));
    vote_all(&mut w, "p2", &["coop", "food", "city", "care"], "yes");
    close(&mut w, "p2");
    // p5: rejected; p4: a passed charter change (same treasurers); p3: open.
    w.named("p5", "coop", Kind::Proposal, allocation("warmte", "50.00", "food"));
    vote_all(&mut w, "p5", &["coop", "food", "city", "care"], "no");
    close(&mut w, "p5");
    w.named("p4", "coop", Kind::Proposal, json!({"fund": "warmte", "proposal_kind": "charter", "title": "same rules", "description": "", "charter": charter(&["coop", "city", "care"], 2, "open")}));
    vote_all(&mut w, "p4", &["coop", "food", "city", "care"], "yes");
    close(&mut w, "p4");
    w.named("p3", "coop", Kind::Proposal, allocation("warmte", "50.00", "food"));

    // Payouts: d1 pending 300.00 of p1; d2 executed 200.00 of p1; d3 pending 100.00 to care; d4 reversed.
    let (p1, p2) = (w.id("p1"), w.id("p2"));
    w.named("d1", "coop", Kind::Disbursement, json!({"allocation": p1, "amount": "300.00", "reference": "E2E-1"}));
    w.named("d2", "coop", Kind::Disbursement, json!({"allocation": p1, "amount": "200.00", "reference": "E2E-2"}));
    let d2 = w.id("d2");
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d2}));
    w.named("d3", "coop", Kind::Disbursement, json!({"allocation": p2, "amount": "100.00", "reference": "E2E-3"}));
    w.named("d4", "city", Kind::Disbursement, json!({"allocation": p1, "amount": "50.00", "reference": "E2E-4"}));
    let d4 = w.id("d4");
    w.ok("city", Kind::Reversal, json!({"entry": d4, "reason": "wrong amount"}));
    w.ok("outsider", Kind::Contribution, json!({"fund": "warmte", "amount": "5.00", "reference": "REF-OUT"}));

    // buurt: vote admission, one treasurer.
    w.ok("coop", Kind::FundCreate, json!({"id": "buurt", "name": "Buurtfonds", "purpose": "neighbourhood", "charter": charter(&["coop", "care"], 1, "vote")}));
    w.named("join-food", "food", Kind::FundJoin, json!({"fund": "buurt"}));

    // oud: dissolved.
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "oud", "name": "Oud fonds", "purpose": "old", "charter": charter(&["coop", "food"], 1, "open")}),
    );
    w.ok("food", Kind::FundJoin, json!({"fund": "oud"}));
    w.named("oc1", "coop", Kind::Contribution, json!({"fund": "oud", "amount": "60.00", "reference": "OUD-1"}));
    w.named("oc2", "food", Kind::Contribution, json!({"fund": "oud", "amount": "40.00", "reference": "OUD-2"}));
    let oud = vec![w.id("oc1"), w.id("oc2")];
    w.ok("coop", Kind::Reconciliation, recon("oud", 2, &oud));
    w.named(
        "od",
        "coop",
        Kind::Proposal,
        json!({"fund": "oud", "proposal_kind": "dissolution", "title": "end", "description": ""}),
    );
    vote_all(&mut w, "od", &["coop", "food"], "yes");
    close(&mut w, "od");
    w
}

fn scene() -> World {
    static SCENE: OnceLock<World> = OnceLock::new();
    SCENE.get_or_init(build_scene).clone()
}

/// Apply `body` as `kind` by `author` to the scene (after `advance_secs`), and
/// check that it is refused with `code` of `class`, leaving the state as it was.
fn refused_after(
    advance_secs: i64,
    author: &str,
    kind: Kind,
    body: impl FnOnce(&World) -> Value,
    code: &str,
    class: RefusalKind,
) {
    let mut w = scene();
    w.advance(advance_secs);
    let body = body(&w);
    let before = w.state.clone();
    let r = w.apply(author, kind, body).expect_err("the entry was accepted");
    assert_eq!(r.code, code, "{r}");
    assert_eq!(r.kind, class, "{r}");
    assert!(!r.message.is_empty());
    assert_eq!(w.state, before, "a refused entry changed the state");
}

fn refused(author: &str, kind: Kind, body: impl FnOnce(&World) -> Value, code: &str, class: RefusalKind) {
    refused_after(0, author, kind, body, code, class);
}

/// The entry does not even parse: refused before the rules, with `needle` in the error.
fn malformed(author: &str, kind: Kind, body: Value, needle: &str) {
    let w = scene();
    let key = &w.keys[author];
    let err =
        sign_entry(kind, &author.parse().unwrap(), key, &w.at(), body).expect_err("a malformed entry was accepted");
    assert!(err.to_string().contains(needle), "{err}");
}

use RefusalKind::{Conflict, Forbidden, Malformed, NotFound, Rule};

#[test]
fn the_scene_is_what_the_tests_assume() {
    let w = scene();
    let f = w.fund("warmte");
    let b = f.balances;
    // confirmed 1800; committed 800 + 100 - 200 paid = 700; disbursed 200; available 900; pledged 200 + 5.
    assert_eq!(
        (
            b.confirmed.to_string(),
            b.committed.to_string(),
            b.disbursed.to_string(),
            b.available.to_string(),
            b.pledged.to_string()
        ),
        ("1800.00".into(), "700.00".into(), "200.00".into(), "900.00".into(), "205.00".into())
    );
    let p = |n: &str| w.state.funds.proposal(&w.id(n).parse().unwrap()).unwrap();
    assert_eq!(p("p1").outcome, Some(Outcome::Passed));
    assert_eq!(p("p5").outcome, Some(Outcome::Rejected));
    assert_eq!(p("p3").outcome, None);
    let d = |n: &str| &w.state.funds.disbursements[&w.id(n).parse().unwrap()];
    assert_eq!(d("d1").status, DisbursementStatus::Pending);
    assert_eq!(d("d2").status, DisbursementStatus::Executed);
    assert_eq!(d("d4").status, DisbursementStatus::Reversed);
    assert_eq!(
        w.state.funds.contributions.get(&w.id("c1").parse().unwrap()).unwrap().status,
        ContributionStatus::Confirmed
    );
    assert_eq!(w.fund("oud").status, FundStatus::Dissolved);
    let m = &f.matching[0];
    // Collectives' confirmed: coop 1000 + food 500; city paid 300.
    assert_eq!(
        (m.owed.to_string(), m.paid.to_string(), m.outstanding.to_string()),
        ("1000.00".into(), "300.00".into(), "700.00".into())
    );
    let refunds = &w.fund("oud").dissolution.as_ref().unwrap().refunds;
    assert_eq!(refunds[&"coop".parse().unwrap()].owed.to_string(), "60.00");
    assert_eq!(refunds[&"food".parse().unwrap()].owed.to_string(), "40.00");
}

// fund.create

#[test]
fn create_duplicate_fund_id() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "warmte", "name": "X", "purpose": "", "charter": charter(&["food", "coop"], 1, "open")}),
        "duplicate_fund",
        Conflict,
    );
}

#[test]
fn create_approvals_required_zero() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food"], 0, "open")}),
        "approvals_required_zero",
        Rule,
    );
}

#[test]
fn create_approvals_above_treasurers() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food", "coop"], 3, "open")}),
        "approvals_above_treasurers",
        Rule,
    );
}

#[test]
fn create_duplicate_treasurer() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food", "food"], 2, "open")}),
        "duplicate_treasurer",
        Rule,
    );
}

#[test]
fn create_treasurer_not_admitted() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food", "pending"], 1, "open")}),
        "unknown_treasurer",
        Rule,
    );
}

#[test]
fn create_zero_voting_period() {
    let mut c = charter(&["food", "coop"], 1, "open");
    c["voting_period_seconds"] = json!(0);
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": c}),
        "bad_voting_period",
        Rule,
    );
}

#[test]
fn create_unreachable_threshold() {
    let mut c = charter(&["food", "coop"], 1, "open");
    c["threshold"] = json!("1");
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": c}),
        "threshold_unreachable",
        Rule,
    );
}

#[test]
fn create_by_pending_member() {
    refused(
        "pending",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food", "coop"], 1, "open")}),
        "not_admitted",
        Forbidden,
    );
}

#[test]
fn create_with_bad_quorum_is_malformed() {
    let mut c = charter(&["food", "coop"], 1, "open");
    c["quorum"] = json!("1.5");
    malformed("food", Kind::FundCreate, json!({"id": "nieuw", "name": "X", "purpose": "", "charter": c}), "fraction");
}

#[test]
fn create_with_unknown_charter_field_is_malformed() {
    let mut c = charter(&["food", "coop"], 1, "open");
    c["veto"] = json!("city");
    malformed(
        "food",
        Kind::FundCreate,
        json!({"id": "nieuw", "name": "X", "purpose": "", "charter": c}),
        "unknown field",
    );
}

// fund.join / fund.leave

#[test]
fn join_unknown_fund() {
    refused("outsider", Kind::FundJoin, |_| json!({"fund": "nergens"}), "unknown_fund", NotFound);
}

#[test]
fn join_twice() {
    refused("food", Kind::FundJoin, |_| json!({"fund": "warmte"}), "already_member", Conflict);
}

#[test]
fn join_dissolved_fund() {
    refused("outsider", Kind::FundJoin, |_| json!({"fund": "oud"}), "fund_dissolved", Conflict);
}

#[test]
fn join_while_admission_vote_pending() {
    refused("food", Kind::FundJoin, |_| json!({"fund": "buurt"}), "admission_pending", Conflict);
}

#[test]
fn leave_when_not_a_member() {
    refused("outsider", Kind::FundLeave, |_| json!({"fund": "warmte"}), "not_fund_member", Forbidden);
}

#[test]
fn leave_as_last_member() {
    refused("coop", Kind::FundLeave, |_| json!({"fund": "buurt"}), "last_member", Conflict);
}

// contribution

#[test]
fn contribute_to_unknown_fund() {
    refused(
        "coop",
        Kind::Contribution,
        |_| json!({"fund": "nergens", "amount": "10.00", "reference": "X-1"}),
        "unknown_fund",
        NotFound,
    );
}

#[test]
fn contribute_to_dissolved_fund() {
    refused(
        "coop",
        Kind::Contribution,
        |_| json!({"fund": "oud", "amount": "10.00", "reference": "X-1"}),
        "fund_dissolved",
        Conflict,
    );
}

#[test]
fn contribute_with_reference_of_an_open_pledge() {
    refused(
        "food",
        Kind::Contribution,
        |_| json!({"fund": "warmte", "amount": "10.00", "reference": "REF-4"}),
        "duplicate_reference",
        Conflict,
    );
}

#[test]
fn contribute_by_pending_member() {
    refused(
        "pending",
        Kind::Contribution,
        |_| json!({"fund": "warmte", "amount": "10.00", "reference": "X-1"}),
        "not_admitted",
        Forbidden,
    );
}

#[test]
fn contribute_zero_amount() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "0.00", "reference": "X-1"}),
        "greater than 0.00",
    );
}

#[test]
fn contribute_json_number_amount() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": 10, "reference": "X-1"}),
        "JSON numbers are refused",
    );
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": 10.5, "reference": "X-1"}),
        "amounts and fractions are strings",
    );
}

#[test]
fn contribute_one_decimal_amount() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "10.5", "reference": "X-1"}),
        "not a canonical amount",
    );
}

#[test]
fn contribute_negative_amount() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "-10.00", "reference": "X-1"}),
        "not a canonical amount",
    );
}

#[test]
fn contribute_with_null_note() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "10.00", "reference": "X-1", "note": null}),
        "",
    );
}

#[test]
fn contribute_with_iban_field() {
    malformed(
        "coop",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "10.00", "reference": "X-1", "iban": "NL00BANK0123456789"}),
        "unknown field",
    );
}

// pledge.matching

#[test]
fn pledge_by_a_collective() {
    refused(
        "coop",
        Kind::PledgeMatching,
        |_| json!({"fund": "warmte", "ratio": "1.0", "cap": "100.00", "until": "2027-12-31"}),
        "not_municipality",
        Forbidden,
    );
}

#[test]
fn pledge_until_in_the_past() {
    refused(
        "city",
        Kind::PledgeMatching,
        |_| json!({"fund": "buurt", "ratio": "1.0", "cap": "100.00", "until": "2026-01-01"}),
        "until_in_past",
        Rule,
    );
}

#[test]
fn pledge_overlapping_a_running_one() {
    refused(
        "city",
        Kind::PledgeMatching,
        |_| json!({"fund": "warmte", "ratio": "2.0", "cap": "100.00", "until": "2027-06-30"}),
        "overlapping_pledge",
        Conflict,
    );
}

#[test]
fn pledge_on_a_dissolved_fund() {
    refused(
        "city",
        Kind::PledgeMatching,
        |_| json!({"fund": "oud", "ratio": "1.0", "cap": "100.00", "until": "2027-12-31"}),
        "fund_dissolved",
        Conflict,
    );
}

#[test]
fn pledge_ratio_above_ten() {
    malformed(
        "city",
        Kind::PledgeMatching,
        json!({"fund": "warmte", "ratio": "11", "cap": "100.00", "until": "2027-12-31"}),
        "not a ratio",
    );
}

// proposal

#[test]
fn propose_as_non_member() {
    refused("outsider", Kind::Proposal, |_| allocation("warmte", "10.00", "outsider"), "not_fund_member", Forbidden);
}

#[test]
fn propose_above_max_request() {
    refused("coop", Kind::Proposal, |_| allocation("warmte", "5000.01", "food"), "over_max_request", Rule);
}

#[test]
fn propose_allocation_without_recipient() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "allocation", "title": "t", "description": "", "amount": "10.00"}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn propose_allocation_to_unknown_member() {
    refused("coop", Kind::Proposal, |_| allocation("warmte", "10.00", "nobody-here"), "unknown_member", NotFound);
}

#[test]
fn propose_admission_of_a_member() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "admission", "title": "t", "description": "", "member": "food"}),
        "already_member",
        Conflict,
    );
}

#[test]
fn propose_admission_already_being_voted() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "buurt", "proposal_kind": "admission", "title": "t", "description": "", "member": "food"}),
        "admission_pending",
        Conflict,
    );
}

#[test]
fn propose_charter_with_approvals_above_treasurers() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "charter", "title": "t", "description": "", "charter": charter(&["coop"], 2, "open")}),
        "approvals_above_treasurers",
        Rule,
    );
}

#[test]
fn propose_dissolution_with_amount() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "dissolution", "title": "t", "description": "", "amount": "1.00"}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn propose_to_dissolved_fund() {
    refused("coop", Kind::Proposal, |_| allocation("oud", "10.00", "food"), "fund_dissolved", Conflict);
}

// vote

#[test]
fn vote_on_unknown_proposal() {
    refused(
        "coop",
        Kind::Vote,
        |_| json!({"proposal": "ab".repeat(32), "choice": "yes"}),
        "unknown_proposal",
        NotFound,
    );
}

#[test]
fn vote_by_non_member() {
    refused("outsider", Kind::Vote, |w| json!({"proposal": w.id("p3"), "choice": "yes"}), "not_fund_member", Forbidden);
}

#[test]
fn vote_by_member_who_joined_after_opening() {
    let mut w = scene();
    w.ok("partner", Kind::FundJoin, json!({"fund": "warmte"}));
    let before = w.state.clone();
    let p3 = w.id("p3");
    let r = w.apply("partner", Kind::Vote, json!({"proposal": p3, "choice": "yes"})).unwrap_err();
    assert_eq!((r.code, r.kind), ("not_counted", Forbidden));
    assert_eq!(w.state, before);
}

#[test]
fn vote_after_the_deadline_before_the_close() {
    refused_after(
        3600,
        "coop",
        Kind::Vote,
        |w| json!({"proposal": w.id("p3"), "choice": "yes"}),
        "voting_closed",
        Conflict,
    );
}

#[test]
fn vote_after_the_close() {
    refused("coop", Kind::Vote, |w| json!({"proposal": w.id("p1"), "choice": "no"}), "proposal_closed", Conflict);
}

#[test]
fn vote_with_unknown_choice() {
    let w = scene();
    malformed("coop", Kind::Vote, json!({"proposal": w.id("p3"), "choice": "maybe"}), "unknown variant");
}

// proposal.close

#[test]
fn close_before_deadline_with_votes_missing() {
    refused("coop", Kind::ProposalClose, |w| json!({"proposal": w.id("p3")}), "too_early_to_close", Conflict);
}

#[test]
fn close_twice() {
    refused("coop", Kind::ProposalClose, |w| json!({"proposal": w.id("p1")}), "proposal_closed", Conflict);
}

#[test]
fn close_unknown_proposal() {
    refused("coop", Kind::ProposalClose, |_| json!({"proposal": "cd".repeat(32)}), "unknown_proposal", NotFound);
}

#[test]
fn close_by_operator_with_another_key() {
    let mut w = scene();
    w.advance(3600);
    let p3 = w.id("p3");
    let e = sign_entry(Kind::ProposalClose, &Author::Operator, &w.keys["registrar"], &w.at(), json!({"proposal": p3}))
        .unwrap();
    let before = w.state.clone();
    let r = w.state.apply(w.state.size, &w.at(), &e).unwrap_err();
    assert_eq!(r.code, "wrong_key");
    assert_eq!(w.state, before);
}

// disbursement

#[test]
fn disburse_by_non_treasurer() {
    refused(
        "food",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p1"), "amount": "10.00", "reference": "X"}),
        "not_treasurer",
        Forbidden,
    );
}

#[test]
fn disburse_unknown_allocation() {
    refused(
        "coop",
        Kind::Disbursement,
        |_| json!({"allocation": "ef".repeat(32), "amount": "10.00", "reference": "X"}),
        "unknown_allocation",
        NotFound,
    );
}

#[test]
fn disburse_open_allocation() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p3"), "amount": "10.00", "reference": "X"}),
        "allocation_not_passed",
        Conflict,
    );
}

#[test]
fn disburse_rejected_allocation() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p5"), "amount": "10.00", "reference": "X"}),
        "allocation_not_passed",
        Conflict,
    );
}

#[test]
fn disburse_a_charter_proposal() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p4"), "amount": "10.00", "reference": "X"}),
        "not_an_allocation",
        Rule,
    );
}

#[test]
fn disburse_above_the_allocations_remainder() {
    // p1 is 800.00: 300.00 pending and 200.00 executed leave 300.00.
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p1"), "amount": "300.01", "reference": "X"}),
        "over_allocation_remainder",
        Rule,
    );
}

#[test]
fn disburse_to_oneself() {
    refused(
        "care",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p2"), "amount": "1.00", "reference": "X"}),
        "over_allocation_remainder",
        Rule,
    );
    let mut w = scene();
    let d3 = w.id("d3");
    w.ok("coop", Kind::Reversal, json!({"entry": d3, "reason": "again"}));
    let before = w.state.clone();
    let p2 = w.id("p2");
    let r = w
        .apply("care", Kind::Disbursement, json!({"allocation": p2, "amount": "100.00", "reference": "X"}))
        .unwrap_err();
    assert_eq!((r.code, r.kind), ("recipient_cannot_request", Forbidden));
    assert_eq!(w.state, before);
}

#[test]
fn disburse_refund_of_no_one() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("od"), "amount": "50.00", "reference": "X", "recipient": "care"}),
        "refund_mismatch",
        Rule,
    );
}

// disbursement.approve

#[test]
fn approve_twice() {
    refused("coop", Kind::DisbursementApprove, |w| json!({"disbursement": w.id("d1")}), "already_approved", Conflict);
}

#[test]
fn approve_own_payout() {
    refused("care", Kind::DisbursementApprove, |w| json!({"disbursement": w.id("d3")}), "self_approval", Forbidden);
}

#[test]
fn approve_by_non_treasurer() {
    refused("food", Kind::DisbursementApprove, |w| json!({"disbursement": w.id("d1")}), "not_treasurer", Forbidden);
}

#[test]
fn approve_unknown_disbursement() {
    refused(
        "city",
        Kind::DisbursementApprove,
        |_| json!({"disbursement": "01".repeat(32)}),
        "unknown_disbursement",
        NotFound,
    );
}

#[test]
fn approve_executed_disbursement() {
    refused(
        "care",
        Kind::DisbursementApprove,
        |w| json!({"disbursement": w.id("d2")}),
        "disbursement_not_pending",
        Conflict,
    );
}

#[test]
fn approve_reversed_disbursement() {
    refused(
        "care",
        Kind::DisbursementApprove,
        |w| json!({"disbursement": w.id("d4")}),
        "disbursement_not_pending",
        Conflict,
    );
}

// reconciliation

#[test]
fn reconcile_by_non_treasurer() {
    refused("food", Kind::Reconciliation, |w| recon("warmte", 9, &[w.id("c4")]), "not_treasurer", Forbidden);
}

#[test]
fn reconcile_a_confirmed_contribution_again() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon("warmte", 9, &[w.id("c4"), w.id("c1")]),
        "already_confirmed",
        Conflict,
    );
}

#[test]
fn reconcile_a_reversed_contribution() {
    refused("coop", Kind::Reconciliation, |w| recon("warmte", 9, &[w.id("c5")]), "entry_reversed", Conflict);
}

#[test]
fn reconcile_unknown_entry() {
    refused("coop", Kind::Reconciliation, |w| recon("warmte", 9, &[w.id("p1")]), "unknown_entry", NotFound);
}

#[test]
fn reconcile_another_funds_contribution() {
    refused("coop", Kind::Reconciliation, |w| recon("buurt", 9, &[w.id("c4")]), "wrong_fund", Rule);
}

#[test]
fn reconcile_an_entry_listed_twice() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon("warmte", 9, &[w.id("c4"), w.id("c4")]),
        "duplicate_confirmation",
        Malformed,
    );
}

#[test]
fn reconcile_a_pending_disbursement() {
    refused("coop", Kind::Reconciliation, |w| recon("warmte", 9, &[w.id("d1")]), "disbursement_not_executed", Conflict);
}

#[test]
fn reconcile_the_same_statement_twice() {
    refused("coop", Kind::Reconciliation, |w| recon("warmte", 1, &[w.id("c4")]), "duplicate_statement", Conflict);
}

#[test]
fn reconcile_a_backwards_period() {
    let mut body = recon("warmte", 9, &[]);
    body["period_from"] = json!("2026-12-01");
    refused("coop", Kind::Reconciliation, |_| body, "bad_period", Rule);
}

#[test]
fn reconcile_unknown_fund() {
    refused("coop", Kind::Reconciliation, |_| recon("nergens", 9, &[]), "unknown_fund", NotFound);
}

#[test]
fn reconcile_with_uppercase_statement_hash() {
    let mut body = recon("warmte", 9, &[]);
    body["statement_sha256"] = json!("AB".repeat(32));
    malformed("coop", Kind::Reconciliation, body, "statement_sha256");
}

// reversal

#[test]
fn reverse_a_confirmed_contribution() {
    refused(
        "coop",
        Kind::Reversal,
        |w| json!({"entry": w.id("c1"), "reason": "oops"}),
        "contribution_confirmed",
        Conflict,
    );
}

#[test]
fn reverse_someone_elses_contribution() {
    refused(
        "food",
        Kind::Reversal,
        |w| json!({"entry": w.id("c4"), "reason": "oops"}),
        "not_allowed_to_reverse",
        Forbidden,
    );
}

#[test]
fn reverse_twice() {
    refused("coop", Kind::Reversal, |w| json!({"entry": w.id("c5"), "reason": "oops"}), "already_reversed", Conflict);
}

#[test]
fn reverse_an_executed_disbursement() {
    refused(
        "coop",
        Kind::Reversal,
        |w| json!({"entry": w.id("d2"), "reason": "oops"}),
        "disbursement_executed",
        Conflict,
    );
}

#[test]
fn reverse_a_reversed_disbursement() {
    refused("coop", Kind::Reversal, |w| json!({"entry": w.id("d4"), "reason": "oops"}), "already_reversed", Conflict);
}

#[test]
fn reverse_a_disbursement_as_non_treasurer() {
    refused(
        "food",
        Kind::Reversal,
        |w| json!({"entry": w.id("d1"), "reason": "oops"}),
        "not_allowed_to_reverse",
        Forbidden,
    );
}

#[test]
fn reverse_a_proposal() {
    refused("coop", Kind::Reversal, |w| json!({"entry": w.id("p1"), "reason": "oops"}), "unknown_entry", NotFound);
}

#[test]
fn reverse_without_reason() {
    let w = scene();
    malformed("coop", Kind::Reversal, json!({"entry": w.id("c4"), "reason": " "}), "reason");
}

// authorship

#[test]
fn operator_may_not_contribute() {
    let mut w = scene();
    let e = sign_entry(
        Kind::Contribution,
        &Author::Operator,
        &w.keys["operator"],
        &w.at(),
        json!({"fund": "warmte", "amount": "1.00", "reference": "OP"}),
    )
    .unwrap();
    let before = w.state.clone();
    w.advance(1);
    let r = w.state.apply(w.state.size, &w.at(), &e).unwrap_err();
    assert_eq!((r.code, r.kind), ("operator_not_allowed", Forbidden));
    assert_eq!(w.state, before);
}

// ---- v2 money (SPEC §4.5) ----

/// Like [`refused`], from the scene after `setup`.
fn refused_in(
    setup: impl FnOnce(&mut World),
    author: &str,
    kind: Kind,
    body: impl FnOnce(&World) -> Value,
    code: &str,
    class: RefusalKind,
) {
    let mut w = scene();
    setup(&mut w);
    let body = body(&w);
    let before = w.state.clone();
    let r = w.apply(author, kind, body).expect_err("the entry was accepted");
    assert_eq!(r.code, code, "{r}");
    assert_eq!(r.kind, class, "{r}");
    assert!(!r.message.is_empty());
    assert_eq!(w.state, before, "a refused entry changed the state");
}

fn cost(fund: &str, amount: &str) -> Value {
    json!({"fund": fund, "amount": amount, "reference": "FEE-1", "cost": {"category": "bank_fee", "payee": "Triodos Bank", "description": "account fee"}})
}

fn income(fund: &str, amount: &str, reference: &str) -> Value {
    json!({"fund": fund, "amount": amount, "source_kind": "grant", "source": "Oranje Fonds", "reference": reference})
}

/// p6: 30.00 to food, passed and paid in full.
fn paid_allocation(w: &mut World) {
    w.named("p6", "coop", Kind::Proposal, allocation("warmte", "30.00", "food"));
    vote_all(w, "p6", &["coop", "food", "city", "care"], "yes");
    close(w, "p6");
    let p6 = w.id("p6");
    let d = w.ok("coop", Kind::Disbursement, json!({"allocation": p6, "amount": "30.00", "reference": "E2E-6"}));
    w.ok("city", Kind::DisbursementApprove, json!({"disbursement": d.to_hex()}));
}

fn release_p1(w: &mut World) {
    let p1 = w.id("p1");
    w.ok("food", Kind::AllocationRelease, json!({"allocation": p1, "reason": "done cheaper"}));
}

#[test]
fn create_too_few_treasurers() {
    refused(
        "food",
        Kind::FundCreate,
        |_| json!({"id": "nieuw", "name": "X", "purpose": "", "charter": charter(&["food", "coop"], 2, "open")}),
        "too_few_treasurers",
        Rule,
    );
}

#[test]
fn charter_proposal_too_few_treasurers() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "charter", "title": "t", "description": "", "charter": charter(&["coop", "city"], 2, "open")}),
        "too_few_treasurers",
        Rule,
    );
}

#[test]
fn disburse_to_the_wrong_recipient() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p1"), "amount": "10.00", "reference": "X", "recipient": "care"}),
        "wrong_recipient",
        Rule,
    );
}

#[test]
fn disburse_naming_another_fund() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p1"), "amount": "10.00", "reference": "X", "fund": "buurt"}),
        "wrong_fund",
        Rule,
    );
}

#[test]
fn refund_without_recipient() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("od"), "amount": "40.00", "reference": "X"}),
        "missing_recipient",
        Malformed,
    );
}

#[test]
fn refund_above_what_is_owed() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("od"), "amount": "40.01", "reference": "X", "recipient": "food"}),
        "over_refund",
        Rule,
    );
}

#[test]
fn refund_to_a_member_owed_nothing() {
    refused(
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("od"), "amount": "1.00", "reference": "X", "recipient": "city"}),
        "refund_mismatch",
        Rule,
    );
}

#[test]
fn refund_above_what_is_left_after_a_partial_refund() {
    refused_in(
        |w| {
            let od = w.id("od");
            w.ok(
                "coop",
                Kind::Disbursement,
                json!({"allocation": od, "amount": "25.00", "reference": "P-1", "recipient": "food"}),
            );
        },
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("od"), "amount": "15.01", "reference": "P-2", "recipient": "food"}),
        "over_refund",
        Rule,
    );
}

#[test]
fn cost_above_max_cost() {
    refused("coop", Kind::Disbursement, |_| cost("warmte", "100.01"), "over_max_cost", Rule);
}

#[test]
fn cost_by_a_non_treasurer() {
    refused("food", Kind::Disbursement, |_| cost("warmte", "5.00"), "not_treasurer", Forbidden);
}

#[test]
fn cost_above_available() {
    refused("coop", Kind::Disbursement, |_| cost("oud", "5.00"), "insufficient_funds", Rule);
}

#[test]
fn cost_of_an_unknown_fund() {
    refused("coop", Kind::Disbursement, |_| cost("nergens", "5.00"), "unknown_fund", NotFound);
}

#[test]
fn cost_with_a_recipient_is_malformed() {
    let mut b = cost("warmte", "5.00");
    b["recipient"] = json!("food");
    malformed("coop", Kind::Disbursement, b, "payee");
}

#[test]
fn cost_and_allocation_together_are_malformed() {
    let mut b = cost("warmte", "5.00");
    b["allocation"] = json!(hex::encode([1u8; 32]));
    malformed("coop", Kind::Disbursement, b, "exactly one of allocation or cost");
}

#[test]
fn cost_without_fund_is_malformed() {
    let mut b = cost("warmte", "5.00");
    b.as_object_mut().unwrap().remove("fund");
    malformed("coop", Kind::Disbursement, b, "fund");
}

#[test]
fn cost_with_unknown_category_is_malformed() {
    let mut b = cost("warmte", "5.00");
    b["cost"]["category"] = json!("lunch");
    malformed("coop", Kind::Disbursement, b, "lunch");
}

#[test]
fn release_by_someone_else_than_the_recipient() {
    refused(
        "coop",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p1"), "reason": "x"}),
        "not_recipient",
        Forbidden,
    );
}

#[test]
fn release_a_rejected_allocation() {
    refused(
        "food",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p5"), "reason": "x"}),
        "allocation_not_passed",
        Conflict,
    );
}

#[test]
fn release_an_open_allocation() {
    refused(
        "food",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p3"), "reason": "x"}),
        "allocation_not_passed",
        Conflict,
    );
}

#[test]
fn release_a_charter_proposal() {
    refused(
        "coop",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p4"), "reason": "x"}),
        "not_an_allocation",
        Rule,
    );
}

#[test]
fn release_an_unknown_allocation() {
    refused(
        "food",
        Kind::AllocationRelease,
        |_| json!({"allocation": hex::encode([9u8; 32]), "reason": "x"}),
        "unknown_allocation",
        NotFound,
    );
}

#[test]
fn release_twice() {
    refused_in(
        release_p1,
        "food",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p1"), "reason": "again"}),
        "already_released",
        Conflict,
    );
}

#[test]
fn release_an_allocation_paid_in_full() {
    refused_in(
        paid_allocation,
        "food",
        Kind::AllocationRelease,
        |w| json!({"allocation": w.id("p6"), "reason": "x"}),
        "nothing_to_release",
        Conflict,
    );
}

#[test]
fn release_with_empty_reason_is_malformed() {
    let w = scene();
    malformed("food", Kind::AllocationRelease, json!({"allocation": w.id("p1"), "reason": " "}), "reason");
}

#[test]
fn disburse_a_released_allocation() {
    refused_in(
        release_p1,
        "coop",
        Kind::Disbursement,
        |w| json!({"allocation": w.id("p1"), "amount": "0.01", "reference": "X"}),
        "over_allocation_remainder",
        Rule,
    );
}

#[test]
fn approve_a_payout_that_lapsed() {
    refused_in(
        release_p1,
        "city",
        Kind::DisbursementApprove,
        |w| json!({"disbursement": w.id("d1")}),
        "disbursement_not_pending",
        Conflict,
    );
}

#[test]
fn cancellation_of_an_unknown_round() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "cancellation", "title": "t", "description": "", "round": hex::encode([3u8; 32])}),
        "unknown_round",
        NotFound,
    );
}

#[test]
fn cancellation_without_a_target() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "warmte", "proposal_kind": "cancellation", "title": "t", "description": ""}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn cancellation_with_two_targets() {
    refused(
        "coop",
        Kind::Proposal,
        |w| json!({"fund": "warmte", "proposal_kind": "cancellation", "title": "t", "description": "", "allocation": w.id("p1"), "round": hex::encode([3u8; 32])}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn cancellation_of_a_rejected_allocation() {
    refused(
        "coop",
        Kind::Proposal,
        |w| json!({"fund": "warmte", "proposal_kind": "cancellation", "title": "t", "description": "", "allocation": w.id("p5")}),
        "allocation_not_passed",
        Conflict,
    );
}

#[test]
fn cancellation_of_another_funds_allocation() {
    refused(
        "coop",
        Kind::Proposal,
        |w| json!({"fund": "buurt", "proposal_kind": "cancellation", "title": "t", "description": "", "allocation": w.id("p1")}),
        "wrong_fund",
        Rule,
    );
}

#[test]
fn cancellation_of_a_released_allocation() {
    refused_in(
        release_p1,
        "coop",
        Kind::Proposal,
        |w| json!({"fund": "warmte", "proposal_kind": "cancellation", "title": "t", "description": "", "allocation": w.id("p1")}),
        "already_released",
        Conflict,
    );
}

#[test]
fn allocation_proposal_naming_an_allocation() {
    refused(
        "coop",
        Kind::Proposal,
        |w| {
            let mut b = allocation("warmte", "10.00", "food");
            b["allocation"] = json!(w.id("p1"));
            b
        },
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn withdraw_someone_elses_proposal() {
    refused("food", Kind::ProposalWithdraw, |w| json!({"proposal": w.id("p3")}), "not_proposal_author", Forbidden);
}

#[test]
fn withdraw_a_closed_proposal() {
    refused("food", Kind::ProposalWithdraw, |w| json!({"proposal": w.id("p1")}), "proposal_closed", Conflict);
}

#[test]
fn withdraw_an_unknown_proposal() {
    refused(
        "food",
        Kind::ProposalWithdraw,
        |_| json!({"proposal": hex::encode([4u8; 32])}),
        "unknown_proposal",
        NotFound,
    );
}

#[test]
fn income_by_a_non_treasurer() {
    refused("food", Kind::Income, |_| income("warmte", "50.00", "GIFT-1"), "not_treasurer", Forbidden);
}

#[test]
fn income_to_a_dissolved_fund() {
    refused("coop", Kind::Income, |_| income("oud", "50.00", "GIFT-1"), "fund_dissolved", Conflict);
}

#[test]
fn income_with_the_reference_of_an_open_pledge() {
    refused("coop", Kind::Income, |_| income("warmte", "50.00", "REF-4"), "duplicate_reference", Conflict);
}

#[test]
fn income_to_an_unknown_fund() {
    refused("coop", Kind::Income, |_| income("nergens", "50.00", "GIFT-1"), "unknown_fund", NotFound);
}

#[test]
fn income_with_a_long_source_is_malformed() {
    let mut b = income("warmte", "50.00", "GIFT-1");
    b["source"] = json!("x".repeat(81));
    malformed("coop", Kind::Income, b, "source");
}

#[test]
fn income_with_unknown_source_kind_is_malformed() {
    let mut b = income("warmte", "50.00", "GIFT-1");
    b["source_kind"] = json!("lottery");
    malformed("coop", Kind::Income, b, "lottery");
}

#[test]
fn reverse_a_confirmed_income() {
    refused_in(
        |w| {
            let i = w.named("i1", "coop", Kind::Income, income("warmte", "50.00", "GIFT-1"));
            w.ok("coop", Kind::Reconciliation, recon("warmte", 7, &[i.to_hex()]));
        },
        "coop",
        Kind::Reversal,
        |w| json!({"entry": w.id("i1"), "reason": "x"}),
        "contribution_confirmed",
        Conflict,
    );
}

#[test]
fn confirm_an_income_twice() {
    refused_in(
        |w| {
            let i = w.named("i1", "coop", Kind::Income, income("warmte", "50.00", "GIFT-1"));
            w.ok("coop", Kind::Reconciliation, recon("warmte", 7, &[i.to_hex()]));
        },
        "coop",
        Kind::Reconciliation,
        |w| recon("warmte", 8, &[w.id("i1")]),
        "already_confirmed",
        Conflict,
    );
}

#[test]
fn matching_naming_no_pledge() {
    refused(
        "city",
        Kind::Contribution,
        |w| json!({"fund": "warmte", "amount": "10.00", "reference": "M-1", "matching": w.id("p1")}),
        "unknown_pledge",
        NotFound,
    );
}

#[test]
fn matching_by_another_than_the_pledger() {
    refused(
        "coop",
        Kind::Contribution,
        |w| json!({"fund": "warmte", "amount": "10.00", "reference": "M-1", "matching": w.id("pledge")}),
        "not_pledger",
        Forbidden,
    );
}

fn recon_returned(fund: &str, tag: u8, returned: &[String]) -> Value {
    let mut r = recon(fund, tag, &[]);
    r["returned"] = json!(returned);
    r
}

#[test]
fn return_a_pledged_contribution() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon_returned("warmte", 40, &[w.id("c4")]),
        "return_not_confirmed",
        Conflict,
    );
}

#[test]
fn return_a_pending_payout() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon_returned("warmte", 40, &[w.id("d1")]),
        "return_not_confirmed",
        Conflict,
    );
}

#[test]
fn return_a_reversed_contribution() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon_returned("warmte", 40, &[w.id("c5")]),
        "return_not_confirmed",
        Conflict,
    );
}

#[test]
fn return_twice() {
    refused_in(
        |w| {
            let c2 = w.id("c2");
            w.ok("coop", Kind::Reconciliation, recon_returned("warmte", 41, &[c2]));
        },
        "coop",
        Kind::Reconciliation,
        |w| recon_returned("warmte", 42, &[w.id("c2")]),
        "already_returned",
        Conflict,
    );
}

#[test]
fn return_more_than_is_available() {
    // c1 (1000.00) is confirmed, but only 900.00 is available: the rest is committed.
    refused(
        "coop",
        Kind::Reconciliation,
        |w| recon_returned("warmte", 40, &[w.id("c1")]),
        "return_exceeds_available",
        Rule,
    );
}

#[test]
fn return_in_a_dissolved_fund() {
    refused("coop", Kind::Reconciliation, |w| recon_returned("oud", 40, &[w.id("oc1")]), "fund_dissolved", Conflict);
}

#[test]
fn return_another_funds_entry() {
    refused("coop", Kind::Reconciliation, |w| recon_returned("buurt", 40, &[w.id("c2")]), "wrong_fund", Rule);
}

#[test]
fn confirm_and_return_the_same_entry() {
    refused(
        "coop",
        Kind::Reconciliation,
        |w| {
            let mut r = recon_returned("warmte", 40, &[w.id("c4")]);
            r["confirmed"] = json!([w.id("c4")]);
            r
        },
        "duplicate_confirmation",
        Malformed,
    );
}
