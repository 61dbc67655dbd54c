//! Governance v2 in the ledger (SPEC §4.5): rounds by decision and their
//! cancellation, conflict of interest, the stronger `amend_threshold`, and
//! exclusion by vote — one test per refusal (code, class, state unchanged)
//! and the accepted paths, including the attacks a single member could try.

mod domain_common;

use std::sync::OnceLock;

use domain_common::{allocation, charter, recon, World};
use ledger::entry::Kind;
use ledger::error::RefusalKind;
use ledger::funds::{Outcome, RoundStatus};
use ledger::ids::EntryId;
use serde_json::{json, Value};

use RefusalKind::{Conflict, Forbidden, Malformed, NotFound, Rule};

fn eid(s: &str) -> EntryId {
    s.parse().unwrap()
}

fn round_proposal(fund: &str, budget: &str) -> Value {
    json!({"fund": fund, "proposal_kind": "round", "title": "round", "description": "", "budget": budget,
           "rule": "greedy", "projects_days": 1, "voting_days": 1})
}

fn cancellation(fund: &str, round: &str) -> Value {
    json!({"fund": fund, "proposal_kind": "cancellation", "title": "stop", "description": "", "round": round})
}

fn exclusion(fund: &str, member: &str, reason: &str) -> Value {
    json!({"fund": fund, "proposal_kind": "exclusion", "title": format!("exclude {member}"), "description": "", "member": member, "reason": reason})
}

fn balances(w: &World, fund: &str) -> [String; 5] {
    let b = w.fund(fund).balances;
    [b.pledged, b.confirmed, b.committed, b.disbursed, b.available].map(|x| x.to_string())
}

fn outcome(w: &World, p: &str) -> Option<Outcome> {
    w.state.funds.proposal(&eid(p)).unwrap().outcome
}

/// Every voter in `votes` votes, then `closer` closes.
fn decide(w: &mut World, p: &str, votes: &[(&str, &str)]) {
    for (m, c) in votes {
        w.ok(m, Kind::Vote, json!({"proposal": p, "choice": c}));
    }
    w.advance(3600);
    w.ok("coop", Kind::ProposalClose, json!({"proposal": p}));
}

const ALL_YES: [(&str, &str); 5] =
    [("coop", "yes"), ("food", "yes"), ("care", "yes"), ("city", "yes"), ("sleepy", "yes")];

/// `fnd`: coop, food, care, city and sleepy (treasurers coop, city, care;
/// two approvals), 10 000.00 confirmed; `other`: a second fund of coop and
/// food with 100.00. Named: `running`, a round of 1 000.00 opened by a vote;
/// `other-round` in `other`; `closed-round`, a round of 500.00 already
/// closed; `open-exclusion` of sleepy, `open-cancel` of `running`, both open.
fn build() -> World {
    let mut w = World::new();
    for (id, kind) in [
        ("coop", "collective"),
        ("food", "collective"),
        ("care", "collective"),
        ("city", "municipality"),
        ("sleepy", "collective"),
        ("outsider", "collective"),
    ] {
        w.member(id, kind);
    }
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "fnd", "name": "Fonds", "purpose": "", "charter": charter(&["coop", "city", "care"], 2, "open")}),
    );
    for m in ["food", "care", "city", "sleepy"] {
        w.ok(m, Kind::FundJoin, json!({"fund": "fnd"}));
    }
    let c = w.ok("coop", Kind::Contribution, json!({"fund": "fnd", "amount": "10000.00", "reference": "G-1"})).to_hex();
    w.ok("coop", Kind::Reconciliation, recon("fnd", 1, &[c]));
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "other", "name": "Ander", "purpose": "", "charter": charter(&["coop", "food"], 1, "open")}),
    );
    w.ok("food", Kind::FundJoin, json!({"fund": "other"}));
    let c = w.ok("coop", Kind::Contribution, json!({"fund": "other", "amount": "100.00", "reference": "O-1"})).to_hex();
    w.ok("coop", Kind::Reconciliation, recon("other", 2, &[c]));

    let closed = w.named("closed-round", "coop", Kind::Proposal, round_proposal("fnd", "500.00")).to_hex();
    decide(&mut w, &closed, &ALL_YES);
    w.advance(2 * 86_400 + 10);
    w.ok("food", Kind::RoundClose, json!({"round": closed}));
    let running = w.named("running", "coop", Kind::Proposal, round_proposal("fnd", "1000.00")).to_hex();
    decide(&mut w, &running, &ALL_YES);
    let other = w.named("other-round", "coop", Kind::Proposal, round_proposal("other", "50.00")).to_hex();
    decide(&mut w, &other, &[("coop", "yes"), ("food", "yes")]);
    w.named("open-exclusion", "coop", Kind::Proposal, exclusion("fnd", "sleepy", "no sign of life for a year"));
    w.named("open-cancel", "food", Kind::Proposal, cancellation("fnd", &running));
    w
}

fn scene() -> World {
    static SCENE: OnceLock<World> = OnceLock::new();
    SCENE.get_or_init(build).clone()
}

fn refused_in(mut w: World, author: &str, kind: Kind, body: Value, code: &str, class: RefusalKind) {
    let before = w.state.clone();
    let r = w.apply(author, kind, body).expect_err("the entry was accepted");
    assert_eq!((r.code, r.kind), (code, class), "{r}");
    assert!(!r.message.is_empty());
    assert_eq!(w.state, before, "a refused entry changed the state");
}

fn refused(author: &str, kind: Kind, body: impl FnOnce(&World) -> Value, code: &str, class: RefusalKind) {
    let w = scene();
    let body = body(&w);
    refused_in(w, author, kind, body, code, class);
}

#[test]
fn the_scene_is_what_the_tests_assume() {
    let w = scene();
    // 10 000 confirmed; the closed round released its whole 500 (no projects); the running round holds 1 000.
    assert_eq!(balances(&w, "fnd"), ["0.00", "10000.00", "1000.00", "0.00", "9000.00"].map(String::from));
    assert_eq!(w.state.funds.round(&eid(&w.id("closed-round"))).unwrap().status, RoundStatus::Closed);
    assert_eq!(w.state.funds.round(&eid(&w.id("running"))).unwrap().status, RoundStatus::Open);
    assert_eq!(w.fund("fnd").members.len(), 5);
}

// cancellation

#[test]
fn cancellation_of_an_unknown_round() {
    refused("coop", Kind::Proposal, |w| cancellation("fnd", &w.id("open-exclusion")), "unknown_round", NotFound);
}

#[test]
fn cancellation_of_a_closed_round() {
    refused("coop", Kind::Proposal, |w| cancellation("fnd", &w.id("closed-round")), "round_closed", Conflict);
}

#[test]
fn cancellation_of_another_funds_round() {
    refused("coop", Kind::Proposal, |w| cancellation("fnd", &w.id("other-round")), "wrong_fund", Rule);
}

#[test]
fn cancellation_of_a_round_already_being_cancelled() {
    refused("coop", Kind::Proposal, |w| cancellation("fnd", &w.id("running")), "cancellation_pending", Conflict);
}

#[test]
fn cancellation_naming_nothing() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "fnd", "proposal_kind": "cancellation", "title": "stop", "description": ""}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn cancellation_naming_a_round_and_an_allocation() {
    refused(
        "coop",
        Kind::Proposal,
        |w| {
            let mut b = cancellation("fnd", &w.id("running"));
            b["allocation"] = json!(w.id("closed-round"));
            b
        },
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn cancellation_naming_a_round_as_its_allocation() {
    refused(
        "coop",
        Kind::Proposal,
        |w| json!({"fund": "fnd", "proposal_kind": "cancellation", "title": "stop", "description": "", "allocation": w.id("closed-round")}),
        "not_an_allocation",
        Rule,
    );
}

#[test]
fn a_passed_cancellation_ends_the_round_and_releases_its_budget() {
    let mut w = scene();
    let running = w.id("running");
    let p = w
        .ok(
            "food",
            Kind::RoundProject,
            json!({"round": running, "title": "X", "description": "", "cost": "100.00", "recipient": "food"}),
        )
        .to_hex();
    let cancel = w.id("open-cancel");
    decide(&mut w, &cancel, &ALL_YES);
    assert_eq!(outcome(&w, &cancel), Some(Outcome::Passed));
    let r = w.state.funds.round(&eid(&running)).unwrap();
    assert_eq!(r.status, RoundStatus::Cancelled);
    assert_eq!(r.close_reason.as_deref(), Some(format!("cancelled by proposal {cancel}").as_str()));
    assert_eq!(w.state.funds.project(&eid(&p)).unwrap().status, ledger::funds::ProjectStatus::NotSelected);
    assert_eq!(balances(&w, "fnd"), ["0.00", "10000.00", "0.00", "0.00", "10000.00"].map(String::from));
    assert!(!w.state.due_round_closes(&"2030-01-01T00:00:00Z".parse().unwrap()).contains(&eid(&running)));
    let e = w.apply("food", Kind::Ballot, json!({"round": running, "approve": []})).unwrap_err();
    assert_eq!(e.code, "round_closed");
}

#[test]
fn a_rejected_cancellation_leaves_the_round_running() {
    let mut w = scene();
    let cancel = w.id("open-cancel");
    decide(&mut w, &cancel, &[("coop", "no"), ("food", "yes"), ("care", "no")]);
    assert_eq!(outcome(&w, &cancel), Some(Outcome::Rejected));
    assert_eq!(w.state.funds.round(&eid(&w.id("running"))).unwrap().status, RoundStatus::Open);
    assert_eq!(balances(&w, "fnd"), ["0.00", "10000.00", "1000.00", "0.00", "9000.00"].map(String::from));
}

#[test]
fn a_cancellation_that_passes_after_the_round_closed_changes_nothing() {
    let mut w = scene();
    let running = w.id("running");
    let cancel = w.id("open-cancel");
    for (m, c) in ALL_YES {
        w.ok(m, Kind::Vote, json!({"proposal": cancel, "choice": c}));
    }
    // Nobody records the vote's close before the round's own close.
    w.advance(2 * 86_400 + 10);
    w.ok("food", Kind::RoundClose, json!({"round": running}));
    let before = balances(&w, "fnd");
    decide(&mut w, &cancel, &[]);
    assert_eq!(outcome(&w, &cancel), Some(Outcome::Passed));
    assert_eq!(w.state.funds.round(&eid(&running)).unwrap().status, RoundStatus::Closed);
    assert_eq!(balances(&w, "fnd"), before);
}

// conflict of interest

#[test]
fn the_recipient_may_not_vote_on_its_allocation() {
    let mut w = scene();
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "100.00", "food")).to_hex();
    refused_in(w, "food", Kind::Vote, json!({"proposal": p, "choice": "yes"}), "conflict_of_interest", Forbidden);
}

#[test]
fn the_member_an_exclusion_is_about_may_not_vote_on_it() {
    refused(
        "sleepy",
        Kind::Vote,
        |w| json!({"proposal": w.id("open-exclusion"), "choice": "no"}),
        "conflict_of_interest",
        Forbidden,
    );
}

#[test]
fn the_recipient_does_not_count_in_the_quorum() {
    let mut w = scene();
    let p = w.ok("food", Kind::Proposal, allocation("fnd", "100.00", "food")).to_hex();
    let prop = w.state.funds.proposal(&eid(&p)).unwrap();
    assert_eq!(prop.counted.len(), 4);
    assert!(!prop.counted.contains(&"food".parse().unwrap()));
    // Every counted member voted: the vote closes at once, without the recipient.
    for m in ["coop", "care", "city", "sleepy"] {
        w.ok(m, Kind::Vote, json!({"proposal": p, "choice": "yes"}));
    }
    assert_eq!(w.state.due_closes(&w.at()), vec![eid(&p)]);
}

#[test]
fn a_member_alone_cannot_pass_its_own_allocation() {
    // A fund of two: the recipient proposes for itself and the other member does not vote.
    let mut w = scene();
    let p = w.ok("coop", Kind::Proposal, allocation("other", "100.00", "coop")).to_hex();
    w.advance(3600);
    w.ok("coop", Kind::ProposalClose, json!({"proposal": p}));
    assert_eq!(outcome(&w, &p), Some(Outcome::RejectedNoQuorum));
    assert_eq!(w.fund("other").balances.committed.to_string(), "50.00");
}

// amend_threshold

#[test]
fn a_charter_with_an_unreachable_amend_threshold() {
    refused(
        "coop",
        Kind::FundCreate,
        |_| {
            let mut c = charter(&["coop", "food"], 1, "open");
            c["amend_threshold"] = json!("1");
            json!({"id": "nieuw", "name": "Nieuw", "purpose": "", "charter": c})
        },
        "threshold_unreachable",
        Rule,
    );
}

#[test]
fn a_charter_whose_amend_threshold_is_below_its_threshold() {
    refused(
        "coop",
        Kind::Proposal,
        |_| {
            let mut c = charter(&["coop", "city"], 1, "open");
            c["threshold"] = json!("0.6");
            c["amend_threshold"] = json!("0.5");
            json!({"fund": "fnd", "proposal_kind": "charter", "title": "c", "description": "", "charter": c})
        },
        "amend_threshold_below_threshold",
        Rule,
    );
}

#[test]
fn a_charter_change_needs_two_thirds_not_a_simple_majority() {
    let mut w = scene();
    // Two treasurers, one approval: the fewest a charter may have (too_few_treasurers).
    let mut c = charter(&["coop", "food"], 1, "open");
    c["max_request"] = json!("9000.00");
    let body = json!({"fund": "fnd", "proposal_kind": "charter", "title": "coop and food alone", "description": "", "charter": c.clone()});
    let p = w.ok("coop", Kind::Proposal, body.clone()).to_hex();
    assert_eq!(w.state.funds.proposal(&eid(&p)).unwrap().threshold.to_string(), "0.6667");
    // 3 of 5 (60 %) is a majority, but not two thirds.
    decide(&mut w, &p, &[("coop", "yes"), ("food", "yes"), ("sleepy", "yes"), ("care", "no"), ("city", "no")]);
    assert_eq!(outcome(&w, &p), Some(Outcome::Rejected));
    assert_eq!(w.fund("fnd").charter.treasurers.len(), 3);
    // 4 of 5 is.
    let p = w.ok("coop", Kind::Proposal, body).to_hex();
    decide(&mut w, &p, &[("coop", "yes"), ("food", "yes"), ("sleepy", "yes"), ("care", "yes"), ("city", "no")]);
    assert_eq!(outcome(&w, &p), Some(Outcome::Passed));
    assert_eq!(w.fund("fnd").charter.treasurers.len(), 2);
    // The same 60 % passes an ordinary allocation.
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "100.00", "outsider")).to_hex();
    decide(&mut w, &p, &[("coop", "yes"), ("food", "yes"), ("sleepy", "yes"), ("care", "no"), ("city", "no")]);
    assert_eq!(outcome(&w, &p), Some(Outcome::Passed));
}

#[test]
fn a_charter_may_set_its_own_amend_threshold() {
    let mut w = scene();
    let mut c = charter(&["coop", "city", "care"], 2, "open");
    c["amend_threshold"] = json!("0.8");
    w.ok("coop", Kind::FundCreate, json!({"id": "streng", "name": "Streng", "purpose": "", "charter": c}));
    w.ok("food", Kind::FundJoin, json!({"fund": "streng"}));
    let p = w
        .ok(
            "coop",
            Kind::Proposal,
            json!({"fund": "streng", "proposal_kind": "dissolution", "title": "end", "description": ""}),
        )
        .to_hex();
    assert_eq!(w.state.funds.proposal(&eid(&p)).unwrap().threshold.to_string(), "0.8");
}

// exclusion

#[test]
fn exclusion_of_oneself() {
    refused("sleepy", Kind::Proposal, |_| exclusion("fnd", "sleepy", "I am tired"), "self_exclusion", Rule);
}

#[test]
fn exclusion_of_a_non_member() {
    refused("coop", Kind::Proposal, |_| exclusion("fnd", "outsider", "never joined"), "member_not_in_fund", Conflict);
}

#[test]
fn exclusion_of_a_treasurer() {
    refused("coop", Kind::Proposal, |_| exclusion("fnd", "city", "disagrees"), "member_is_treasurer", Conflict);
}

#[test]
fn exclusion_already_being_voted_on() {
    refused("food", Kind::Proposal, |_| exclusion("fnd", "sleepy", "again"), "exclusion_pending", Conflict);
}

#[test]
fn exclusion_without_a_reason() {
    refused(
        "coop",
        Kind::Proposal,
        |_| json!({"fund": "fnd", "proposal_kind": "exclusion", "title": "x", "description": "", "member": "food"}),
        "bad_proposal",
        Malformed,
    );
}

#[test]
fn exclusion_by_a_non_member() {
    refused("outsider", Kind::Proposal, |_| exclusion("fnd", "food", "outsiders decide"), "not_fund_member", Forbidden);
}

#[test]
fn exclusion_with_an_empty_reason_is_malformed() {
    let w = scene();
    let err = ledger::entry::sign_entry(
        Kind::Proposal,
        &"coop".parse().unwrap(),
        &w.keys["coop"],
        &w.at(),
        exclusion("fnd", "food", "  "),
    )
    .expect_err("an empty reason was accepted");
    assert!(err.to_string().contains("reason must not be empty"), "{err}");
}

#[test]
fn a_dormant_member_is_excluded_and_the_next_vote_reaches_quorum() {
    let mut w = scene();
    // sleepy gave 40.00; it stays in the pool.
    let c = w.ok("sleepy", Kind::Contribution, json!({"fund": "fnd", "amount": "40.00", "reference": "S-1"})).to_hex();
    w.ok("coop", Kind::Reconciliation, recon("fnd", 9, &[c]));
    let x = w.id("open-exclusion");
    let p = w.state.funds.proposal(&eid(&x)).unwrap();
    assert_eq!((p.counted.len(), p.threshold.to_string().as_str()), (4, "0.6667"));
    decide(&mut w, &x, &[("coop", "yes"), ("food", "yes"), ("care", "yes"), ("city", "abstain")]);
    assert_eq!(outcome(&w, &x), Some(Outcome::Passed));
    let f = w.fund("fnd");
    assert!(!f.is_member(&"sleepy".parse().unwrap()));
    assert_eq!(f.excluded[&"sleepy".parse().unwrap()].reason, "no sign of life for a year");
    assert_eq!(f.contributed[&"sleepy".parse().unwrap()].to_string(), "40.00");
    assert_eq!(f.balances.available.to_string(), "9040.00");
    // With 50 % quorum of four, two votes carry the next proposal.
    let p = w.ok("coop", Kind::Proposal, allocation("fnd", "100.00", "outsider")).to_hex();
    decide(&mut w, &p, &[("coop", "yes"), ("food", "yes")]);
    assert_eq!(outcome(&w, &p), Some(Outcome::Passed));
    // It can no longer vote, and comes back only by a vote even though admission is open.
    let p2 = w.ok("coop", Kind::Proposal, allocation("fnd", "10.00", "outsider")).to_hex();
    let e = w.apply("sleepy", Kind::Vote, json!({"proposal": p2, "choice": "no"})).unwrap_err();
    assert_eq!(e.code, "not_fund_member");
    w.ok("sleepy", Kind::FundJoin, json!({"fund": "fnd"}));
    assert!(!w.fund("fnd").is_member(&"sleepy".parse().unwrap()));
    let admission = w
        .state
        .funds
        .open_proposals()
        .find(|p| p.proposal_kind == ledger::entry::ProposalKind::Admission)
        .unwrap()
        .id
        .to_hex();
    decide(&mut w, &admission, &[("coop", "yes"), ("food", "yes"), ("care", "yes"), ("city", "yes")]);
    assert!(w.fund("fnd").is_member(&"sleepy".parse().unwrap()));
    assert!(w.fund("fnd").excluded.is_empty());
}

#[test]
fn an_exclusion_rejected_by_a_simple_majority_keeps_the_member() {
    let mut w = scene();
    let x = w.id("open-exclusion");
    decide(&mut w, &x, &[("coop", "yes"), ("food", "yes"), ("care", "no")]);
    assert_eq!(outcome(&w, &x), Some(Outcome::Rejected));
    assert!(w.fund("fnd").is_member(&"sleepy".parse().unwrap()));
}

// rounds: the attacks of a single member

#[test]
fn a_member_alone_cannot_open_a_round_or_lock_the_pool() {
    let mut w = scene();
    let before = balances(&w, "fnd");
    // The whole available balance as a round, proposed by coop, voted by coop alone.
    let p = w.ok("coop", Kind::Proposal, round_proposal("fnd", "9000.00")).to_hex();
    assert_eq!(balances(&w, "fnd"), before, "nothing is committed by a proposal");
    decide(&mut w, &p, &[("coop", "yes")]);
    assert_eq!(outcome(&w, &p), Some(Outcome::RejectedNoQuorum));
    assert!(w.state.funds.round(&eid(&p)).is_none());
    assert_eq!(balances(&w, "fnd"), before);
    // And round.open is gone.
    let e = w
        .apply("coop", Kind::RoundOpen, json!({"fund": "fnd", "budget": "9000.00", "rule": "greedy", "projects_until": "2030-01-01T00:00:00Z", "closes_at": "2030-01-02T00:00:00Z"}))
        .unwrap_err();
    assert_eq!((e.code, e.kind), ("round_needs_proposal", Forbidden));
}
