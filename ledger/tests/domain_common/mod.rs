//! The harness shared by the domain tests: a `State` driven by signed entries
//! with explicit `received_at` times (one second after each entry's `at`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, VerifiedEntry};
use ledger::error::Refusal;
use ledger::ids::{Author, EntryId, FundId};
use ledger::state::State;
use ledger::time::Timestamp;
use serde_json::{json, Value};

#[derive(Clone)]
pub struct World {
    pub state: State,
    pub keys: BTreeMap<String, SigningKey>,
    pub now: DateTime<Utc>,
    pub ids: BTreeMap<&'static str, EntryId>,
}

impl World {
    pub fn new() -> World {
        let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap();
        let operator = crypto::generate_key();
        let registrar = crypto::generate_key();
        let mut w = World { state: State::new(), keys: BTreeMap::new(), now, ids: BTreeMap::new() };
        let body = json!({
            "origin": "meent.test/amsterdam",
            "operator_key": PublicKey::from(operator.verifying_key()).to_hex(),
            "registrars": [{"id": "registrar", "key": PublicKey::from(registrar.verifying_key()).to_hex()}],
            "currency": "EUR",
        });
        let g = sign_entry(Kind::Genesis, &Author::Operator, &operator, &w.at(), body).unwrap();
        w.state.apply(0, &w.at(), &g).unwrap();
        w.keys.insert("operator".into(), operator);
        w.keys.insert("registrar".into(), registrar);
        w
    }

    pub fn at(&self) -> Timestamp {
        Timestamp::from_instant(self.now)
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += Duration::seconds(secs);
    }

    pub fn entry(&self, author: &str, kind: Kind, body: Value) -> VerifiedEntry {
        let key = self.keys.get(author).unwrap_or_else(|| panic!("no key for {author}"));
        sign_entry(kind, &author.parse().unwrap(), key, &self.at(), body)
            .unwrap_or_else(|e| panic!("{kind:?} by {author}: {e}"))
    }

    pub fn apply(&mut self, author: &str, kind: Kind, body: Value) -> Result<EntryId, Refusal> {
        let e = self.entry(author, kind, body);
        self.advance(1);
        let seq = self.state.size;
        self.state.apply(seq, &self.at(), &e).map(|()| e.id)
    }

    pub fn ok(&mut self, author: &str, kind: Kind, body: Value) -> EntryId {
        let what = format!("{kind:?} by {author}: {body}");
        self.apply(author, kind, body).unwrap_or_else(|r| panic!("{what} refused: {r}"))
    }

    pub fn named(&mut self, name: &'static str, author: &str, kind: Kind, body: Value) -> EntryId {
        let id = self.ok(author, kind, body);
        self.ids.insert(name, id);
        id
    }

    pub fn id(&self, name: &str) -> String {
        self.ids.get(name).unwrap_or_else(|| panic!("no entry named {name}")).to_hex()
    }

    pub fn apply_member(&mut self, id: &str, member_kind: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        let legal = if member_kind == "municipality" { "public_body" } else { "stichting" };
        self.ok(
            id,
            Kind::MemberApply,
            json!({"id": id, "name": format!("{id} (test)"), "member_kind": member_kind, "legal_form": legal}),
        );
    }

    pub fn member(&mut self, id: &str, member_kind: &str) {
        self.apply_member(id, member_kind);
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id}));
    }

    pub fn fund(&self, id: &str) -> &ledger::funds::Fund {
        self.state.funds.fund(&id.parse::<FundId>().unwrap()).unwrap()
    }
}

pub fn charter(treasurers: &[&str], approvals: u32, admission: &str) -> Value {
    json!({
        "admission": admission,
        "treasurers": treasurers,
        "approvals_required": approvals,
        "quorum": "0.5",
        "threshold": "0.5",
        "voting_period_seconds": 3600,
        "max_request": "5000.00",
        "dissolution": "pro_rata_refund",
    })
}

pub fn allocation(fund: &str, amount: &str, recipient: &str) -> Value {
    json!({"fund": fund, "proposal_kind": "allocation", "title": format!("{amount} for {recipient}"), "description": "", "amount": amount, "recipient": recipient})
}

pub fn recon(fund: &str, tag: u8, confirmed: &[String]) -> Value {
    json!({
        "fund": fund, "statement_sha256": hex::encode([tag; 32]), "period_from": "2026-11-01", "period_to": "2026-11-30",
        "opening_balance": "0.00", "closing_balance": "0.00", "confirmed": confirmed, "unmatched_bank_lines": 0,
    })
}
