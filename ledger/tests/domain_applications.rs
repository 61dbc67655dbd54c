//! Pending `member.apply` applications (SPEC §7, issue 20): at most
//! `PENDING_APPLICATIONS_MAX` at once, each expiring
//! `APPLICATION_EXPIRY_SECONDS` after its `received_at`. Judged by the pure
//! state from `received_at`, so a replay reaches the same decisions.

mod domain_common;

use domain_common::World;
use ledger::crypto::{self, PublicKey};
use ledger::entry::Kind;
use ledger::error::{Code, RefusalKind};
use ledger::limits::{APPLICATION_EXPIRY_SECONDS, PENDING_APPLICATIONS_MAX};
use ledger::register::MemberStatus;
use ledger::views::member::MemberView;
use serde_json::json;

fn status(w: &World, id: &str) -> MemberStatus {
    w.state.register.member(&id.parse().unwrap()).unwrap().status
}

/// Refused with `code`, and the state is exactly as before.
#[track_caller]
fn refused(w: &mut World, author: &str, kind: Kind, body: serde_json::Value, code: Code) -> String {
    let before = w.state.clone();
    let r = w.apply(author, kind, body).expect_err("refused");
    assert_eq!(r.reason, code, "{r}");
    assert_eq!(r.kind, code.kind());
    assert_eq!(w.state, before, "a refused entry changes nothing");
    r.message
}

#[test]
fn the_register_holds_at_most_its_pending_applications() {
    let mut w = World::new();
    for i in 0..PENDING_APPLICATIONS_MAX {
        w.apply_member(&format!("collective-{i}"), "collective");
    }
    assert_eq!(w.state.register.pending_applications(&w.at()), PENDING_APPLICATIONS_MAX);
    w.keys.insert("one-too-many".into(), crypto::generate_key());
    let body =
        json!({"id": "one-too-many", "name": "One too many", "member_kind": "collective", "legal_form": "stichting"});
    let msg = refused(&mut w, "one-too-many", Kind::MemberApply, body.clone(), Code::TooManyPending);
    assert!(msg.contains(&PENDING_APPLICATIONS_MAX.to_string()), "{msg}");
    assert_eq!(Code::TooManyPending.kind(), RefusalKind::Rule);
    assert_eq!(Code::TooManyPending.as_str(), "too_many_pending");

    // A decision frees a place (an admission or a rejection alike).
    w.ok("registrar", Kind::MemberAdmit, json!({"member": "collective-0"}));
    w.ok("one-too-many", Kind::MemberApply, body);
    w.keys.insert("and-another".into(), crypto::generate_key());
    let another =
        json!({"id": "and-another", "name": "And another", "member_kind": "collective", "legal_form": "stichting"});
    refused(&mut w, "and-another", Kind::MemberApply, another.clone(), Code::TooManyPending);
    w.ok("registrar", Kind::MemberReject, json!({"member": "collective-1"}));
    w.ok("and-another", Kind::MemberApply, another);
}

#[test]
fn expired_applications_no_longer_count_towards_the_cap() {
    let mut w = World::new();
    for i in 0..PENDING_APPLICATIONS_MAX {
        w.apply_member(&format!("collective-{i}"), "collective");
    }
    // The applications were received a second apart: wait out the last one.
    w.advance(APPLICATION_EXPIRY_SECONDS);
    assert_eq!(w.state.register.pending_applications(&w.at()), 0);
    w.apply_member("late-comer", "collective");
    assert_eq!(w.state.register.pending_applications(&w.at()), 1);
}

#[test]
fn an_expired_application_can_no_longer_be_admitted_or_rejected() {
    let mut w = World::new();
    w.apply_member("slow", "collective");
    w.apply_member("quick", "collective");
    let received = w.state.register.member(&"slow".parse().unwrap()).unwrap().applied_at.clone().unwrap();
    // Just before its expiry `quick` can still be admitted…
    w.advance(APPLICATION_EXPIRY_SECONDS - 10);
    w.ok("registrar", Kind::MemberAdmit, json!({"member": "quick"}));
    // … and once the expiry has passed `slow` can no longer be decided.
    w.advance(20);
    let msg = refused(&mut w, "registrar", Kind::MemberAdmit, json!({"member": "slow"}), Code::ApplicationExpired);
    assert!(msg.contains("slow") && msg.contains("expired"), "{msg}");
    refused(&mut w, "registrar", Kind::MemberReject, json!({"member": "slow"}), Code::ApplicationExpired);
    assert_eq!(Code::ApplicationExpired.kind(), RefusalKind::Conflict);
    assert_eq!(status(&w, "slow"), MemberStatus::Pending);
    // The register shows when it expired.
    let view = MemberView::of(w.state.register.member(&"slow".parse().unwrap()).unwrap());
    let expires = view.expires_at.expect("a pending application shows its expiry");
    assert_eq!((expires.instant() - received.instant()).num_seconds(), APPLICATION_EXPIRY_SECONDS);
    let admitted = MemberView::of(w.state.register.member(&"quick".parse().unwrap()).unwrap());
    assert_eq!(admitted.expires_at, None);

    // An expired applicant may not act on its old key, but may apply again
    // under its id with a new key, and be admitted then.
    let k = crypto::generate_key();
    let rotate = json!({"new_key": PublicKey::from(k.verifying_key()).to_hex()});
    refused(&mut w, "slow", Kind::KeyRotate, rotate, Code::NotAdmitted);
    w.apply_member("slow", "collective");
    w.ok("registrar", Kind::MemberAdmit, json!({"member": "slow"}));
    assert_eq!(status(&w, "slow"), MemberStatus::Admitted);
}

#[test]
fn a_pending_application_that_has_not_expired_keeps_its_id() {
    let mut w = World::new();
    w.apply_member("taken", "collective");
    w.advance(APPLICATION_EXPIRY_SECONDS - 100);
    w.keys.insert("taken".into(), crypto::generate_key());
    let body = json!({"id": "taken", "name": "Taken again", "member_kind": "collective", "legal_form": "stichting"});
    refused(&mut w, "taken", Kind::MemberApply, body, Code::DuplicateMember);
}
