//! `GET /v1/rounds/{id}`, the round refusals' status codes, and the server's
//! `round.close` at the deadline, driving `api::router` with `oneshot` over a
//! temporary ledger and a clock the test moves.

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
        let log = Log::create(&dir.path().join("data"), "meent.test/rounds", vec![reg], base).unwrap();
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

    fn at(&self, secs: i64) -> String {
        Timestamp::from_instant(self.now() + Duration::seconds(secs)).to_string()
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

    async fn submit(&self, author: &str, kind: Kind, body: Value) -> (StatusCode, Value) {
        let e =
            sign_entry(kind, &author.parse().unwrap(), &self.keys[author], &Timestamp::from_instant(self.now()), body)
                .unwrap();
        let req = Request::post("/v1/entries")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&e.json).unwrap()))
            .unwrap();
        self.call(req).await
    }

    async fn ok(&self, author: &str, kind: Kind, body: Value) -> String {
        let (status, v) = self.submit(author, kind, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{kind:?} by {author} {body}: {v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn refused(&self, author: &str, kind: Kind, body: Value, status: StatusCode, code: &str) {
        let before = self.get("/v1/funds/warmte").await.1;
        let (got, v) = self.submit(author, kind, body).await;
        assert_eq!((got, v["error"]["code"].as_str()), (status, Some(code)), "{v}");
        assert_eq!(self.get("/v1/funds/warmte").await.1, before, "a refused entry changed the fund");
    }

    async fn member(&mut self, id: &str, kind: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        self.ok(id, Kind::MemberApply, json!({"id": id, "name": id, "member_kind": kind, "legal_form": "cooperatie"}))
            .await;
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id})).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_over_http() {
    let mut env = Env::new();
    for (id, kind) in [
        ("coop", "collective"),
        ("food", "collective"),
        ("care", "collective"),
        ("city", "municipality"),
        ("outsider", "collective"),
    ] {
        env.member(id, kind).await;
    }
    let charter = json!({"admission": "open", "treasurers": ["coop", "city", "care"], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
                         "voting_period_seconds": 60, "max_request": "5000.00", "dissolution": "pro_rata_refund"});
    env.ok("coop", Kind::FundCreate, json!({"id": "warmte", "name": "Warmtefonds", "purpose": "", "charter": charter}))
        .await;
    for m in ["food", "care", "city"] {
        env.ok(m, Kind::FundJoin, json!({"fund": "warmte"})).await;
    }
    let c =
        env.ok("coop", Kind::Contribution, json!({"fund": "warmte", "amount": "3000.00", "reference": "R-1"})).await;
    env.ok(
        "coop",
        Kind::Reconciliation,
        json!({"fund": "warmte", "statement_sha256": hex::encode([1u8; 32]), "period_from": "2026-01-01", "period_to": "2026-12-31",
               "opening_balance": "0.00", "closing_balance": "3000.00", "confirmed": [c], "unmatched_bank_lines": 0}),
    )
    .await;

    let round = |budget: &str, projects_days: u32| {
        json!({"fund": "warmte", "proposal_kind": "round", "title": "Winter round", "description": "", "budget": budget,
               "rule": "equal_shares", "projects_days": projects_days, "voting_days": 1})
    };
    env.refused("coop", Kind::RoundOpen, json!({"fund": "warmte", "budget": "10.00", "rule": "greedy", "projects_until": env.at(86_400), "closes_at": env.at(2 * 86_400)}), StatusCode::FORBIDDEN, "round_needs_proposal").await;
    env.refused("outsider", Kind::Proposal, round("10.00", 1), StatusCode::FORBIDDEN, "not_fund_member").await;
    env.refused("coop", Kind::Proposal, round("10.00", 0), StatusCode::UNPROCESSABLE_ENTITY, "bad_round_days").await;
    // The round opens when its proposal passes: every member votes, the server closes the vote.
    let r = env.ok("coop", Kind::Proposal, round("2000.00", 1)).await;
    let (s, _) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no round before the vote passes");
    for m in ["coop", "food", "care", "city"] {
        env.ok(m, Kind::Vote, json!({"proposal": r, "choice": "yes"})).await;
    }
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let (_, f) = env.get("/v1/funds/warmte").await;
    assert_eq!(
        (f["balances"]["committed"].as_str(), f["balances"]["available"].as_str()),
        (Some("2000.00"), Some("1000.00"))
    );
    assert_eq!(f["rounds"][0]["id"], r);
    assert_eq!(f["rounds"][0]["status"], "open");

    let a = env.ok("coop", Kind::RoundProject, json!({"round": r, "title": "Solar roof", "description": "on the school", "cost": "1200.00", "recipient": "coop"})).await;
    let b = env
        .ok(
            "food",
            Kind::RoundProject,
            json!({"round": r, "title": "Cold store", "description": "", "cost": "800.00", "recipient": "food"}),
        )
        .await;
    env.refused(
        "coop",
        Kind::RoundProject,
        json!({"round": r, "title": "Too big", "description": "", "cost": "2000.01", "recipient": "coop"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cost_above_budget",
    )
    .await;
    env.refused("coop", Kind::Ballot, json!({"round": r, "approve": [a]}), StatusCode::CONFLICT, "voting_not_open")
        .await;
    let (s, v) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["phase"].as_str(), v["status"].as_str(), v["rule"].as_str(), v["rule_name"].as_str()),
        (Some("projects"), Some("open"), Some("equal_shares"), Some("mes_cost_add1_noex"))
    );
    assert_eq!((v["budget"].as_str(), v["projects"].as_array().map(Vec::len)), (Some("2000.00"), Some(2)));
    assert_eq!(v["projects"][0]["approvals"], Value::Null, "no tallies while voting runs");
    assert_eq!(v["outcome"], Value::Null);

    env.advance(86_400);
    env.refused(
        "coop",
        Kind::RoundProject,
        json!({"round": r, "title": "Late", "description": "", "cost": "10.00", "recipient": "coop"}),
        StatusCode::CONFLICT,
        "projects_closed",
    )
    .await;
    env.refused(
        "coop",
        Kind::Ballot,
        json!({"round": r, "approve": [a, a]}),
        StatusCode::BAD_REQUEST,
        "duplicate_approval",
    )
    .await;
    env.refused("coop", Kind::Ballot, json!({"round": r, "approve": [c]}), StatusCode::NOT_FOUND, "unknown_project")
        .await;
    env.ok("coop", Kind::Ballot, json!({"round": r, "approve": [a]})).await;
    env.ok("care", Kind::Ballot, json!({"round": r, "approve": [a]})).await;
    env.ok("food", Kind::Ballot, json!({"round": r, "approve": [b]})).await;
    env.ok("city", Kind::Ballot, json!({"round": r, "approve": [a, b]})).await;
    env.refused("coop", Kind::RoundClose, json!({"round": r}), StatusCode::CONFLICT, "too_early_to_close").await;
    let (_, v) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!(
        (v["phase"].as_str(), v["ballot_count"].as_u64(), &v["ballots"]),
        (Some("voting"), Some(4), &Value::Null)
    );
    assert_eq!(api::funds::close_due(&env.state).await, 0);

    // At the deadline the server closes it.
    env.advance(86_400);
    let (_, v) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!(v["phase"], "counting");
    assert_eq!(v["projects"][0]["approvals"], 3);
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let (_, v) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!((v["status"].as_str(), v["phase"].as_str()), (Some("closed"), Some("closed")));
    let o = &v["outcome"];
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(o["selected"], json!(both));
    assert_eq!(
        (o["total_cost"].as_str(), o["released"].as_str(), o["voters"].as_u64()),
        (Some("2000.00"), Some("0.00"), Some(4))
    );
    assert_eq!(o["rule"], "mes_cost_add1_noex");
    // Each voter has 500: the solar roof is bought at 400 each by coop, care and city; the cold
    // store then needs Add1 up to 600 each, where city pays its last 200 and food 600.
    assert_eq!((o["budget_per_voter"].as_str(), o["add1_steps"].as_u64()), (Some("600"), Some(100)));
    let pays: Vec<&str> = o["payments"].as_array().unwrap().iter().map(|p| p["display"].as_str().unwrap()).collect();
    assert_eq!(
        pays,
        [
            "1200.00 paid by 3 supporters: 3 paid 400.00 each",
            "800.00 paid by 2 supporters: 1 paid 600.00 each, 1 paid 200.00 together (all they had left)"
        ]
    );
    assert_eq!(o["payments"][0]["title"], "Solar roof");
    assert_eq!(v["ballots"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["projects"][1]["status"], "selected");
    let (_, rec) = env.get(&format!("/v1/entries/{}", v["closed_seq"])).await;
    assert_eq!(
        (rec["entry"]["author"].as_str(), rec["entry"]["kind"].as_str()),
        (Some("operator"), Some("round.close"))
    );
    env.refused("coop", Kind::RoundClose, json!({"round": r}), StatusCode::CONFLICT, "round_closed").await;
    env.refused("coop", Kind::Ballot, json!({"round": r, "approve": [a]}), StatusCode::CONFLICT, "round_closed").await;

    // The selected cold store is paid like an allocation.
    let d =
        env.ok("coop", Kind::Disbursement, json!({"allocation": b, "amount": "800.00", "reference": "E2E-COLD"})).await;
    env.ok("city", Kind::DisbursementApprove, json!({"disbursement": d})).await;
    let (_, f) = env.get("/v1/funds/warmte").await;
    assert_eq!(
        f["balances"],
        json!({"pledged": "0.00", "confirmed": "3000.00", "committed": "1200.00", "disbursed": "800.00", "available": "1000.00"})
    );
    let (_, v) = env.get(&format!("/v1/rounds/{r}")).await;
    assert_eq!(
        (v["projects"][1]["paid"].as_str(), v["projects"][1]["requested"].as_str()),
        (Some("800.00"), Some("800.00"))
    );

    let (s, v) = env.get(&format!("/v1/rounds/{a}")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_round")));
    let (s, v) = env.get("/v1/rounds/xyz").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_id")));
}
