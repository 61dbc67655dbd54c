//! The fund reads and the refusal status codes, driving `api::router` with
//! `oneshot` over a temporary ledger and a clock the test moves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::ingest::Clock;
use ledger::log::Log;
use ledger::time::Timestamp;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Env {
    state: api::AppState,
    keys: HashMap<String, SigningKey>,
    offset_seconds: Arc<AtomicI64>,
    base: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let base = Utc::now();
        let registrar = crypto::generate_key();
        let reg = Registrar { id: "registrar".parse().unwrap(), key: PublicKey::from(registrar.verifying_key()) };
        let log = Log::create(&dir.path().join("data"), "meent.test/api", vec![reg], base).unwrap();
        let offset_seconds = Arc::new(AtomicI64::new(0));
        let o = offset_seconds.clone();
        let clock: Clock = Arc::new(move || base + Duration::seconds(o.load(Ordering::SeqCst)));
        let state = api::AppState::with_clock(Arc::new(log), clock);
        let mut keys = HashMap::new();
        keys.insert("registrar".to_string(), registrar);
        Env { state, keys, offset_seconds, base, _dir: dir }
    }

    fn now(&self) -> DateTime<Utc> {
        self.base + Duration::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }

    fn advance(&self, secs: i64) {
        self.offset_seconds.fetch_add(secs, Ordering::SeqCst);
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Request::get(path).body(Body::empty()).unwrap()).await
    }

    async fn post_json(&self, json: &Value) -> (StatusCode, Value) {
        let req = Request::post("/v1/entries")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(json).unwrap()))
            .unwrap();
        self.call(req).await
    }

    /// Sign and submit; the status and body.
    async fn submit(&self, author: &str, kind: Kind, body: Value) -> (StatusCode, Value) {
        let e =
            sign_entry(kind, &author.parse().unwrap(), &self.keys[author], &Timestamp::from_instant(self.now()), body)
                .unwrap();
        self.post_json(&e.json).await
    }

    /// Submit, expect 201, return the entry id.
    async fn ok(&self, author: &str, kind: Kind, body: Value) -> String {
        let (status, v) = self.submit(author, kind, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{kind:?} by {author} {body}: {v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// Submit, expect `status` and `code` in SPEC §5's error body.
    async fn refused(&self, author: &str, kind: Kind, body: Value, status: StatusCode, code: &str) {
        let before = self.get("/v1/funds").await.1;
        let (got, v) = self.submit(author, kind, body).await;
        assert_eq!((got, v["error"]["code"].as_str()), (status, Some(code)), "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert!(v["error"]["detail"].is_object(), "{v}");
        assert_eq!(self.get("/v1/funds").await.1, before, "a refused entry changed the funds");
    }

    async fn member(&mut self, id: &str, kind: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        let legal = if kind == "municipality" { "public_body" } else { "cooperatie" };
        self.ok(id, Kind::MemberApply, json!({"id": id, "name": id, "member_kind": kind, "legal_form": legal})).await;
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id})).await;
    }
}

fn charter() -> Value {
    json!({"admission": "open", "treasurers": ["coop", "city", "outsider"], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
           "voting_period_seconds": 60, "max_request": "1000.00", "dissolution": "pro_rata_refund"})
}

fn recon(tag: u8, ids: &[&str]) -> Value {
    json!({"fund": "warmte", "statement_sha256": hex::encode([tag; 32]), "period_from": "2026-01-01", "period_to": "2026-12-31",
           "opening_balance": "0.00", "closing_balance": "1300.00", "confirmed": ids, "unmatched_bank_lines": 0})
}

/// Every counted member votes (an allocation's recipient is not counted).
async fn vote_all(env: &Env, p: &str, choice: &str) {
    let (_, v) = env.get(&format!("/v1/proposals/{p}")).await;
    for who in ["coop", "food", "city"] {
        if v["counted"].as_array().unwrap().iter().any(|m| m == who) {
            env.ok(who, Kind::Vote, json!({"proposal": p, "choice": choice})).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_funds_life_over_http() {
    let mut env = Env::new();
    for (id, kind) in
        [("coop", "collective"), ("food", "collective"), ("city", "municipality"), ("outsider", "collective")]
    {
        env.member(id, kind).await;
    }
    env.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "warmte", "name": "Warmtefonds Noord", "purpose": "heat pumps", "charter": charter()}),
    )
    .await;
    env.ok("food", Kind::FundJoin, json!({"fund": "warmte"})).await;
    env.ok("city", Kind::FundJoin, json!({"fund": "warmte"})).await;

    // A fresh fund shows zero balances as "0.00".
    let (s, f) = env.get("/v1/funds/warmte").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        f["balances"],
        json!({"pledged": "0.00", "confirmed": "0.00", "committed": "0.00", "disbursed": "0.00", "available": "0.00"})
    );
    assert_eq!(f["dissolution"], Value::Null);

    let pledge = env
        .ok(
            "city",
            Kind::PledgeMatching,
            json!({"fund": "warmte", "ratio": "1.0", "cap": "500.00", "until": "2099-12-31"}),
        )
        .await;
    let c1 = env
        .ok("coop", Kind::Contribution, json!({"fund": "warmte", "amount": "1000.00", "reference": "MEENT-1"}))
        .await;
    let c2 =
        // The city's payment names its pledge, so it settles it (SPEC §4.5).
        env.ok("city", Kind::Contribution, json!({"fund": "warmte", "amount": "300.00", "reference": "MEENT-2", "matching": pledge})).await;
    let c3 =
        env.ok("food", Kind::Contribution, json!({"fund": "warmte", "amount": "20.00", "reference": "MEENT-3"})).await;
    env.ok("coop", Kind::Reconciliation, recon(1, &[&c1, &c2])).await;

    // Allocation: every counted member votes, so the close is due at once; the server's closer submits it.
    let p = env.ok("food", Kind::Proposal, json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Heat pump for the food bank", "description": "", "amount": "800.00", "recipient": "food"})).await;
    let (_, open) = env.get(&format!("/v1/proposals/{p}")).await;
    assert_eq!((open["status"].as_str(), &open["outcome"]), (Some("open"), &Value::Null));
    vote_all(&env, &p, "yes").await;
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let (_, pj) = env.get(&format!("/v1/proposals/{p}")).await;
    assert_eq!(pj["status"], "closed");
    assert_eq!(pj["outcome"], "passed");
    // The recipient neither votes nor counts (conflict of interest).
    assert_eq!(pj["tally"], json!({"yes": 2, "no": 0, "abstain": 0}));
    assert_eq!(pj["counted"], json!(["city", "coop"]));
    assert_eq!(pj["conflicted"], "food");
    assert!(pj["closes_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Payout: requested by coop, approved by city.
    let d =
        env.ok("coop", Kind::Disbursement, json!({"allocation": p, "amount": "800.00", "reference": "E2E-1"})).await;
    env.refused("food", Kind::DisbursementApprove, json!({"disbursement": d}), StatusCode::FORBIDDEN, "not_treasurer")
        .await;
    env.refused(
        "coop",
        Kind::DisbursementApprove,
        json!({"disbursement": d}),
        StatusCode::CONFLICT,
        "already_approved",
    )
    .await;
    env.ok("city", Kind::DisbursementApprove, json!({"disbursement": d})).await;

    let (_, f) = env.get("/v1/funds/warmte").await;
    assert_eq!(
        f["balances"],
        json!({"pledged": "20.00", "confirmed": "1300.00", "committed": "0.00", "disbursed": "800.00", "available": "500.00"})
    );
    assert_eq!(f["members"], json!(["city", "coop", "food"]));
    assert_eq!(f["treasurers"], json!(["coop", "city", "outsider"]));
    assert_eq!(f["charter"]["approvals_required"], 2);
    let m = &f["matching_pledges"][0];
    // Collectives' confirmed contributions: coop's 1000.00 → owed min(500.00, 1000.00); city paid 300.00.
    assert_eq!((&m["owed"], &m["paid"], &m["outstanding"]), (&json!("500.00"), &json!("300.00"), &json!("200.00")));

    let (_, list) = env.get("/v1/funds").await;
    assert_eq!(list["funds"][0]["id"], "warmte");
    assert_eq!(list["funds"][0]["balances"]["available"], "500.00");

    let (_, flows) = env.get("/v1/funds/warmte/flows").await;
    let statuses: Vec<&str> =
        flows["contributions"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["confirmed", "confirmed", "pledged"]);
    assert_eq!(flows["contributions"][2]["id"], c3);
    let d0 = &flows["disbursements"][0];
    assert_eq!(
        (d0["status"].as_str(), &d0["approvals"], &d0["approvals_required"]),
        (Some("executed"), &json!(["coop", "city"]), &json!(2))
    );

    // The bank shows the payout: confirmed.
    env.ok("city", Kind::Reconciliation, recon(2, &[&d])).await;
    let (_, flows) = env.get("/v1/funds/warmte/flows").await;
    assert_eq!(flows["disbursements"][0]["status"], "confirmed");

    // Refusals and their statuses.
    env.refused(
        "outsider",
        Kind::Vote,
        json!({"proposal": p, "choice": "yes"}),
        StatusCode::CONFLICT,
        "proposal_closed",
    )
    .await;
    env.refused(
        "coop",
        Kind::Contribution,
        json!({"fund": "nergens", "amount": "1.00", "reference": "X"}),
        StatusCode::NOT_FOUND,
        "unknown_fund",
    )
    .await;
    env.refused(
        "outsider",
        Kind::Proposal,
        json!({"fund": "warmte", "proposal_kind": "dissolution", "title": "t", "description": ""}),
        StatusCode::FORBIDDEN,
        "not_fund_member",
    )
    .await;
    env.refused("coop", Kind::Proposal, json!({"fund": "warmte", "proposal_kind": "allocation", "title": "t", "description": "", "amount": "1000.01", "recipient": "food"}), StatusCode::UNPROCESSABLE_ENTITY, "over_max_request").await;
    env.refused(
        "coop",
        Kind::Reversal,
        json!({"entry": c1, "reason": "x"}),
        StatusCode::CONFLICT,
        "contribution_confirmed",
    )
    .await;
    env.refused(
        "coop",
        Kind::Disbursement,
        json!({"allocation": p, "amount": "0.01", "reference": "X"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "over_allocation_remainder",
    )
    .await;
    env.refused(
        "coop",
        Kind::FundCreate,
        json!({"id": "warmte", "name": "W", "purpose": "", "charter": charter()}),
        StatusCode::CONFLICT,
        "duplicate_fund",
    )
    .await;

    // Malformed amounts never reach the rules: 400.
    let e = sign_entry(
        Kind::Contribution,
        &"coop".parse().unwrap(),
        &env.keys["coop"],
        &Timestamp::from_instant(env.now()),
        json!({"fund": "warmte", "amount": "1.00", "reference": "X"}),
    )
    .unwrap();
    for bad in [json!("0.00"), json!(12), json!("12.5")] {
        let mut j = e.json.clone();
        j["body"]["amount"] = bad;
        let (s, v) = env.post_json(&j).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }

    // An open proposal past its deadline: votes are refused (409) before the close is written, then the closer closes it.
    let q = env.ok("coop", Kind::Proposal, json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Second", "description": "", "amount": "100.00", "recipient": "outsider"})).await;
    env.ok("coop", Kind::Vote, json!({"proposal": q, "choice": "yes"})).await;
    env.refused("coop", Kind::ProposalClose, json!({"proposal": q}), StatusCode::CONFLICT, "too_early_to_close").await;
    assert_eq!(api::funds::close_due(&env.state).await, 0);
    env.advance(61);
    env.refused("city", Kind::Vote, json!({"proposal": q, "choice": "yes"}), StatusCode::CONFLICT, "voting_closed")
        .await;
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let (_, qj) = env.get(&format!("/v1/proposals/{q}")).await;
    assert_eq!((qj["status"].as_str(), qj["outcome"].as_str()), (Some("closed"), Some("rejected_no_quorum")));
    // The close is an operator entry in the log.
    let (_, rec) = env.get(&format!("/v1/entries/{}", qj["closed_seq"])).await;
    assert_eq!(
        (rec["entry"]["author"].as_str(), rec["entry"]["kind"].as_str()),
        (Some("operator"), Some("proposal.close"))
    );

    let (_, ps) = env.get("/v1/proposals?fund=warmte").await;
    assert_eq!(ps["proposals"].as_array().unwrap().len(), 2);
    assert_eq!(ps["proposals"][1]["id"], q);

    // Dissolution: the 500.00 available goes back pro rata to coop (1000.00) and city (300.00).
    let dp = env
        .ok(
            "city",
            Kind::Proposal,
            json!({"fund": "warmte", "proposal_kind": "dissolution", "title": "The end", "description": ""}),
        )
        .await;
    vote_all(&env, &dp, "yes").await;
    env.ok("outsider", Kind::ProposalClose, json!({"proposal": dp})).await;
    let (_, f) = env.get("/v1/funds/warmte").await;
    assert_eq!(f["status"], "dissolved");
    let refunds = &f["dissolution"]["refunds"];
    // 500 × 1000/1300 = 384.615… → 384.62; 500 × 300/1300 = 115.384… → 115.38.
    assert_eq!((&refunds[0]["member"], &refunds[0]["owed"]), (&json!("city"), &json!("115.38")));
    assert_eq!((&refunds[1]["member"], &refunds[1]["owed"]), (&json!("coop"), &json!("384.62")));
    assert_eq!(f["balances"]["available"], "0.00");
    assert_eq!(f["balances"]["committed"], "500.00");
    env.refused(
        "food",
        Kind::Contribution,
        json!({"fund": "warmte", "amount": "1.00", "reference": "LATE"}),
        StatusCode::CONFLICT,
        "fund_dissolved",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_of_unknown_things() {
    let env = Env::new();
    assert_eq!(env.get("/v1/funds").await, (StatusCode::OK, json!({"funds": [], "next": null})));
    assert_eq!(env.get("/v1/proposals").await, (StatusCode::OK, json!({"proposals": [], "next": null})));
    assert_eq!(env.get("/v1/rounds").await, (StatusCode::OK, json!({"rounds": [], "next": null})));
    let (s, v) = env.get("/v1/funds/nergens").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_fund")));
    let (s, v) = env.get("/v1/funds/nergens/flows").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_fund")));
    let (s, v) = env.get("/v1/funds/NOPE").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_id")));
    let (s, v) = env.get(&format!("/v1/proposals/{}", "ab".repeat(32))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_proposal")));
    let (s, v) = env.get("/v1/proposals/xyz").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_id")));
    let (s, v) = env.get("/v1/proposals?fund=nergens").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_fund")));
    let (s, v) = env.get("/v1/proposals?round=x").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_parameter")));
}
