//! The register in v2 (SPEC §4.5): `member.update`, key recovery with its
//! seven days, the current key's cancel and a second registrar's co-signature,
//! and changes of the registrars by a majority of them — each refusal with
//! its code, its class and the state unchanged, and the accepted paths.

mod domain_common;

use std::sync::OnceLock;

use domain_common::World;
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind};
use ledger::error::RefusalKind;
use ledger::recovery::RecoveryStatus;
use serde_json::{json, Value};

use RefusalKind::{Conflict, Forbidden, NotFound, Unauthenticated};

const WEEK: i64 = 7 * 86_400;

fn public(k: &SigningKey) -> String {
    PublicKey::from(k.verifying_key()).to_hex()
}

fn recover(member: &str, key: &SigningKey) -> Value {
    json!({"member": member, "new_key": public(key), "reason": "the laptop with the key was stolen"})
}

/// One registrar; coop, food and lost admitted; `pending` applied; `r-lost`,
/// a recovery of lost's key by the registrar (new key under "lost-new").
fn build_one() -> World {
    let mut w = World::new();
    for m in ["coop", "food", "lost"] {
        w.member(m, "collective");
    }
    w.apply_member("pending", "collective");
    let k = crypto::generate_key();
    w.named("r-lost", "registrar", Kind::KeyRecover, recover("lost", &k));
    w.keys.insert("lost-new".into(), k);
    w
}

fn one() -> World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(build_one).clone()
}

/// As [`one`], plus coop made a second registrar, then `r-food`: a recovery
/// of food's key by the first registrar (needs coop's co-signature).
fn build_two() -> World {
    let mut w = one();
    w.named("add-coop", "registrar", Kind::RegistrarPropose, json!({"action": "add", "member": "coop"}));
    let k = crypto::generate_key();
    w.named("r-food", "registrar", Kind::KeyRecover, recover("food", &k));
    w.keys.insert("food-new".into(), k);
    w
}

fn two() -> World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(build_two).clone()
}

fn refused_in(mut w: World, author: &str, kind: Kind, body: Value, code: &str, class: RefusalKind) {
    let before = w.state.clone();
    let r = w.apply(author, kind, body).expect_err("the entry was accepted");
    assert_eq!((r.code, r.kind), (code, class), "{r}");
    assert!(!r.message.is_empty());
    assert_eq!(w.state, before, "a refused entry changed the state");
}

/// Sign as `author` with the key stored under `key_name`.
fn apply_with(
    w: &mut World,
    author: &str,
    key_name: &str,
    kind: Kind,
    body: Value,
) -> Result<(), ledger::error::Refusal> {
    let e = sign_entry(kind, &author.parse().unwrap(), &w.keys[key_name], &w.at(), body).unwrap();
    w.advance(1);
    let seq = w.state.size;
    let at = w.at();
    w.state.apply(seq, &at, &e)
}

fn key_of(w: &World, m: &str) -> PublicKey {
    w.state.register.member(&m.parse().unwrap()).unwrap().key
}

// member.update

#[test]
fn a_member_updates_its_legal_form() {
    let mut w = one();
    w.ok("coop", Kind::MemberUpdate, json!({"legal_form": "stichting", "kvk": "12345678", "name": "Coop Noord"}));
    let m = w.state.register.member(&"coop".parse().unwrap()).unwrap();
    assert_eq!((m.name.as_deref(), m.kvk.as_deref()), (Some("Coop Noord"), Some("12345678")));
    assert_eq!(m.legal_form, Some(ledger::entry::LegalForm::Stichting));
    assert_eq!(m.member_kind, Some(ledger::entry::MemberKind::Collective), "what is not given stays");
}

#[test]
fn update_by_a_pending_member() {
    refused_in(one(), "pending", Kind::MemberUpdate, json!({"name": "Later"}), "not_admitted", Forbidden);
}

#[test]
fn update_with_nothing_is_malformed() {
    let w = one();
    let err =
        sign_entry(Kind::MemberUpdate, &"coop".parse().unwrap(), &w.keys["coop"], &w.at(), json!({})).unwrap_err();
    assert!(err.to_string().contains("at least one of name"), "{err}");
}

// key.recover

#[test]
fn recover_by_a_non_registrar() {
    let k = crypto::generate_key();
    refused_in(one(), "coop", Kind::KeyRecover, recover("food", &k), "not_registrar", Forbidden);
}

#[test]
fn recover_an_unknown_member() {
    let k = crypto::generate_key();
    refused_in(one(), "registrar", Kind::KeyRecover, recover("nobody", &k), "unknown_member", NotFound);
}

#[test]
fn recover_a_pending_member() {
    let k = crypto::generate_key();
    refused_in(one(), "registrar", Kind::KeyRecover, recover("pending", &k), "unknown_member", NotFound);
}

#[test]
fn recover_with_a_key_in_use() {
    let w = one();
    let k = w.keys["food"].clone();
    refused_in(w, "registrar", Kind::KeyRecover, recover("coop", &k), "key_reused", Conflict);
}

#[test]
fn recover_twice() {
    let k = crypto::generate_key();
    refused_in(one(), "registrar", Kind::KeyRecover, recover("lost", &k), "recovery_pending", Conflict);
}

#[test]
fn cancel_an_unknown_recovery() {
    let w = one();
    let body = json!({"recovery": w.ids["r-lost"].to_hex().replace('a', "b").replace('0', "1")});
    refused_in(w, "lost", Kind::KeyRecoverCancel, body, "unknown_recovery", NotFound);
}

#[test]
fn cancel_someone_elses_recovery() {
    let w = one();
    let body = json!({"recovery": w.id("r-lost")});
    refused_in(w, "coop", Kind::KeyRecoverCancel, body, "not_recovered_member", Forbidden);
}

#[test]
fn cancel_a_recovery_twice() {
    let mut w = one();
    let body = json!({"recovery": w.id("r-lost")});
    w.ok("lost", Kind::KeyRecoverCancel, body.clone());
    refused_in(w, "lost", Kind::KeyRecoverCancel, body, "recovery_cancelled", Conflict);
}

#[test]
fn cancel_with_the_old_key_after_seven_days() {
    let mut w = one();
    w.advance(WEEK);
    let body = json!({"recovery": w.id("r-lost")});
    refused_in(w, "lost", Kind::KeyRecoverCancel, body, "wrong_key", Unauthenticated);
}

#[test]
fn cancel_a_recovery_in_force() {
    let mut w = one();
    w.advance(WEEK);
    let before = w.state.clone();
    let body = json!({"recovery": w.id("r-lost")});
    let r = apply_with(&mut w, "lost", "lost-new", Kind::KeyRecoverCancel, body).unwrap_err();
    assert_eq!((r.code, r.kind), ("recovery_in_force", Conflict));
    assert_eq!(w.state, before);
}

#[test]
fn co_sign_where_one_registrar_suffices() {
    let w = one();
    let body = json!({"recovery": w.id("r-lost")});
    refused_in(w, "registrar", Kind::KeyRecoverApprove, body, "approval_not_needed", Conflict);
}

#[test]
fn co_sign_by_the_registrar_who_recorded_it() {
    let w = two();
    let body = json!({"recovery": w.id("r-food")});
    refused_in(w, "registrar", Kind::KeyRecoverApprove, body, "same_registrar", Forbidden);
}

#[test]
fn co_sign_by_a_non_registrar() {
    let w = two();
    let body = json!({"recovery": w.id("r-food")});
    refused_in(w, "lost", Kind::KeyRecoverApprove, body, "not_registrar", Forbidden);
}

#[test]
fn co_sign_twice() {
    let mut w = two();
    let body = json!({"recovery": w.id("r-food")});
    w.ok("coop", Kind::KeyRecoverApprove, body.clone());
    refused_in(w, "coop", Kind::KeyRecoverApprove, body, "already_approved", Conflict);
}

#[test]
fn a_recovered_key_is_in_force_after_seven_days_and_not_before() {
    let mut w = one();
    let old = key_of(&w, "lost");
    // Six days on: the old key still signs, the new one does not.
    w.advance(WEEK - 86_400);
    let r = apply_with(&mut w, "lost", "lost-new", Kind::MemberUpdate, json!({"name": "too early"})).unwrap_err();
    assert_eq!(r.code, "wrong_key");
    w.ok("lost", Kind::MemberUpdate, json!({"name": "still the old key"}));
    assert_eq!(key_of(&w, "lost"), old);
    // Seven days on: the new key signs, the old one is refused.
    w.advance(86_400);
    let r = w.apply("lost", Kind::MemberUpdate, json!({"name": "the thief"})).unwrap_err();
    assert_eq!(r.code, "wrong_key");
    apply_with(&mut w, "lost", "lost-new", Kind::MemberUpdate, json!({"name": "recovered"})).unwrap();
    let m = w.state.register.member(&"lost".parse().unwrap()).unwrap();
    assert_eq!((m.key, m.previous_keys.last()), (PublicKey::from(w.keys["lost-new"].verifying_key()), Some(&old)));
    assert_eq!(m.pending_recovery, None);
    assert_eq!(w.state.register.recovery(&w.ids["r-lost"]).unwrap().status, RecoveryStatus::InForce);
}

#[test]
fn a_cancelled_recovery_leaves_the_old_key_in_force() {
    let mut w = one();
    let old = key_of(&w, "lost");
    w.ok("lost", Kind::KeyRecoverCancel, json!({"recovery": w.id("r-lost")}));
    w.advance(2 * WEEK);
    w.ok("lost", Kind::MemberUpdate, json!({"name": "never lost it"}));
    assert_eq!(key_of(&w, "lost"), old);
    let r = apply_with(&mut w, "lost", "lost-new", Kind::MemberUpdate, json!({"name": "x"})).unwrap_err();
    assert_eq!(r.code, "wrong_key");
}

#[test]
fn with_two_registrars_a_recovery_waits_for_the_second() {
    let mut w = two();
    w.advance(WEEK);
    // Not co-signed: the old key stays.
    w.ok("food", Kind::MemberUpdate, json!({"purpose": "old key"}));
    w.ok("coop", Kind::KeyRecoverApprove, json!({"recovery": w.id("r-food")}));
    let r = w.apply("food", Kind::MemberUpdate, json!({"purpose": "old key again"})).unwrap_err();
    assert_eq!(r.code, "wrong_key");
    apply_with(&mut w, "food", "food-new", Kind::MemberUpdate, json!({"purpose": "new key"})).unwrap();
}

// registrars

#[test]
fn propose_by_a_non_registrar() {
    refused_in(
        one(),
        "coop",
        Kind::RegistrarPropose,
        json!({"action": "add", "member": "coop"}),
        "not_registrar",
        Forbidden,
    );
}

#[test]
fn add_a_registrar_who_is_one() {
    refused_in(
        two(),
        "registrar",
        Kind::RegistrarPropose,
        json!({"action": "add", "member": "coop"}),
        "already_registrar",
        Conflict,
    );
}

#[test]
fn remove_a_member_who_is_no_registrar() {
    refused_in(
        two(),
        "registrar",
        Kind::RegistrarPropose,
        json!({"action": "remove", "member": "food"}),
        "not_a_registrar",
        Conflict,
    );
}

#[test]
fn remove_the_last_registrar() {
    refused_in(
        one(),
        "registrar",
        Kind::RegistrarPropose,
        json!({"action": "remove", "member": "registrar"}),
        "last_registrar",
        Conflict,
    );
}

#[test]
fn add_a_pending_member_as_registrar() {
    refused_in(
        one(),
        "registrar",
        Kind::RegistrarPropose,
        json!({"action": "add", "member": "pending"}),
        "unknown_member",
        NotFound,
    );
}

#[test]
fn a_second_change_of_the_same_member() {
    let mut w = two();
    w.ok("registrar", Kind::RegistrarPropose, json!({"action": "add", "member": "food"}));
    refused_in(
        w,
        "coop",
        Kind::RegistrarPropose,
        json!({"action": "add", "member": "food"}),
        "registrar_change_pending",
        Conflict,
    );
}

#[test]
fn approve_an_unknown_change() {
    let w = two();
    let body = json!({"proposal": w.id("r-food")});
    refused_in(w, "coop", Kind::RegistrarApprove, body, "unknown_registrar_change", NotFound);
}

#[test]
fn approve_a_change_that_took_effect() {
    let w = two();
    let body = json!({"proposal": w.id("add-coop")});
    refused_in(w, "coop", Kind::RegistrarApprove, body, "registrar_change_done", Conflict);
}

#[test]
fn approve_your_own_change_twice() {
    let mut w = two();
    let p = w.ok("registrar", Kind::RegistrarPropose, json!({"action": "add", "member": "food"})).to_hex();
    refused_in(w, "registrar", Kind::RegistrarApprove, json!({"proposal": p}), "already_approved", Conflict);
}

#[test]
fn registrars_change_by_a_majority_of_them() {
    let mut w = two();
    // Two registrars: adding food needs both (a majority of two is two).
    let p = w.ok("registrar", Kind::RegistrarPropose, json!({"action": "add", "member": "food"})).to_hex();
    assert!(!w.state.register.is_registrar(&"food".parse().unwrap()));
    w.ok("coop", Kind::RegistrarApprove, json!({"proposal": p}));
    assert!(w.state.register.is_registrar(&"food".parse().unwrap()));
    // food, added after, does not decide a change proposed before it.
    let p = w.ok("registrar", Kind::RegistrarPropose, json!({"action": "remove", "member": "coop"})).to_hex();
    let q = w.ok("coop", Kind::RegistrarPropose, json!({"action": "add", "member": "lost"})).to_hex();
    // Three registrars: two of three remove coop; then coop's own proposal can no longer be approved by it.
    w.ok("food", Kind::RegistrarApprove, json!({"proposal": p}));
    assert!(!w.state.register.is_registrar(&"coop".parse().unwrap()));
    let r = w.apply("coop", Kind::RegistrarApprove, json!({"proposal": q})).unwrap_err();
    assert_eq!(r.code, "not_registrar");
    // A removed registrar no longer admits members.
    w.apply_member("newbie", "collective");
    let r = w.apply("coop", Kind::MemberAdmit, json!({"member": "newbie"})).unwrap_err();
    assert_eq!(r.code, "not_registrar");
    w.ok("food", Kind::MemberAdmit, json!({"member": "newbie"}));
}
