//! A small ledger in memory for the site's tests and benchmark: members, a
//! fund (named with markup, to see it escaped), money in and out, a closed
//! vote, an open one, a reconciliation.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar, VerifiedEntry};
use ledger::log::Log;
use ledger::store::memory::MemStore;
use ledger::time::Timestamp;
use serde_json::{json, Value};

/// The fund's name: markup a page must show as text.
pub const EVIL_NAME: &str = "Warmte <script>alert(\"x\")</script> & co";

pub struct World {
    pub log: Arc<Log>,
    pub keys: HashMap<String, SigningKey>,
    pub now: DateTime<Utc>,
    pub ids: HashMap<&'static str, String>,
}

impl World {
    pub fn empty() -> World {
        let now = Utc::now();
        let registrar = crypto::generate_key();
        let reg = Registrar { id: "registrar".parse().unwrap(), key: PublicKey::from(registrar.verifying_key()) };
        let log = Log::create_in(MemStore::new(), crypto::generate_key(), "meent.test/site", vec![reg], now).unwrap();
        let mut keys = HashMap::new();
        keys.insert("registrar".to_string(), registrar);
        World { log: Arc::new(log), keys, now, ids: HashMap::new() }
    }

    pub fn signed(&self, author: &str, kind: Kind, body: Value) -> VerifiedEntry {
        sign_entry(kind, &author.parse().unwrap(), &self.keys[author], &Timestamp::from_instant(self.now), body)
            .unwrap()
    }

    /// Append `entries` as one group; panic on a refusal.
    pub fn append(&self, entries: Vec<VerifiedEntry>) -> Vec<String> {
        self.log
            .append(entries, self.now)
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("refused: {e:?}")).id.to_hex())
            .collect()
    }

    pub fn ok(&self, author: &str, kind: Kind, body: Value) -> String {
        self.append(vec![self.signed(author, kind, body)]).remove(0)
    }

    pub fn member(&mut self, id: &str, name: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        let body = json!({"id": id, "name": name, "member_kind": "collective", "legal_form": "cooperatie"});
        self.ok(id, Kind::MemberApply, body);
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id}));
    }

    pub fn close(&self, proposal: &str) {
        let e = self.log.operator_entry(Kind::ProposalClose, json!({"proposal": proposal}), self.now).unwrap();
        self.append(vec![e]);
    }

    pub fn later(&self, secs: i64) -> DateTime<Utc> {
        self.now + Duration::seconds(secs)
    }
}

pub fn charter() -> Value {
    json!({"admission": "open", "treasurers": ["coop", "care", "food"], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
           "voting_period_seconds": 3600, "max_request": "5000.00", "dissolution": "pro_rata_refund"})
}

/// The world of the tests.
pub fn world() -> World {
    let mut w = World::empty();
    w.member("coop", "Energiecoöperatie <b>Noord</b>");
    w.member("care", "Zorgcollectief");
    w.member("food", "Voedselbank");
    w.member("late", "Repaircafé");
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "warmte", "name": EVIL_NAME, "purpose": "Warmte voor iedereen", "charter": charter()}),
    );
    w.ok("care", Kind::FundJoin, json!({"fund": "warmte"}));
    w.ok("food", Kind::FundJoin, json!({"fund": "warmte"}));
    let c1 = w.ok("coop", Kind::Contribution, json!({"fund": "warmte", "amount": "1234.56", "reference": "V-1"}));
    let c2 = w.ok("care", Kind::Contribution, json!({"fund": "warmte", "amount": "500.00", "reference": "V-2"}));
    w.ok("food", Kind::Contribution, json!({"fund": "warmte", "amount": "25.00", "reference": "V-3"}));
    let recon = json!({"fund": "warmte", "statement_sha256": hex::encode([7u8; 32]), "period_from": "2026-01-01", "period_to": "2026-01-31",
        "opening_balance": "0.00", "closing_balance": "1734.56", "confirmed": [c1, c2], "unmatched_bank_lines": 0});
    let r = w.ok("coop", Kind::Reconciliation, recon);
    w.ids.insert("reconciliation", r);
    let alloc = json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Warmtepomp <i>nu</i>", "description": "Een pomp", "amount": "300.00", "recipient": "late"});
    let p = w.ok("care", Kind::Proposal, alloc);
    for m in ["coop", "care", "food"] {
        let v = w.ok(m, Kind::Vote, json!({"proposal": p, "choice": if m == "food" { "abstain" } else { "yes" }}));
        w.ids.insert(if m == "coop" { "vote_coop" } else { "vote_other" }, v);
    }
    w.close(&p);
    let d = w.ok("coop", Kind::Disbursement, json!({"allocation": p, "amount": "300.00", "reference": "PAY-1"}));
    w.ok("care", Kind::DisbursementApprove, json!({"disbursement": d}));
    w.ids.insert("closed", p);
    w.ids.insert("disbursement", d);
    let open = json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Zonnepanelen", "description": "", "amount": "100.00", "recipient": "care"});
    let o = w.ok("coop", Kind::Proposal, open);
    w.ok("coop", Kind::Vote, json!({"proposal": o, "choice": "yes"}));
    w.ids.insert("open", o);
    w.ids.insert("c1", c1_of(&w));
    w
}

fn c1_of(w: &World) -> String {
    let s = w.log.state();
    let f = s.funds.fund(&"warmte".parse().unwrap()).unwrap();
    let first = s.funds.contributions_of(f).next().expect("warmte has a contribution");
    first.id.to_hex()
}
