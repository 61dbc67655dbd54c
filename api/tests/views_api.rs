//! The typed views over HTTP: the generated OpenAPI document (served, and
//! checked in as `api/assets/openapi.json`), paging and filters of the lists,
//! unknown query parameters refused, and the ids and times that records,
//! votes and payout approvals carry. Drives `api::router` without a socket.
//!
//! `UPDATE_OPENAPI=1 cargo test -p api --test views_api` rewrites the
//! checked-in document from the generated one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::ingest::Clock;
use ledger::log::Log;
use ledger::record::Record;
use ledger::time::Timestamp;
use ledger::views::{EntryList, FlowsView, FundList, FundView, MemberList, ProposalList, RoundList, RoundView};
use serde_json::{json, Value};
use tower::ServiceExt;

struct Env {
    state: api::AppState,
    keys: HashMap<String, SigningKey>,
    base: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let base = Utc::now();
        let registrar = crypto::generate_key();
        let reg = Registrar { id: "registrar".parse().unwrap(), key: PublicKey::from(registrar.verifying_key()) };
        let log = Log::create(&dir.path().join("data"), "meent.test/views", vec![reg], base).unwrap();
        let clock: Clock = Arc::new(move || base);
        let state = api::AppState::with_clock(Arc::new(log), clock);
        let mut keys = HashMap::new();
        keys.insert("registrar".to_string(), registrar);
        Env { state, keys, base, _dir: dir }
    }

    fn at(&self, secs: i64) -> String {
        Timestamp::from_instant(self.base + Duration::seconds(secs)).to_string()
    }

    async fn raw(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        (status, axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap().to_vec())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, b) = self.raw(path).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    /// GET, expect 200, read as the view `T`.
    async fn view<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let (s, v) = self.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{path} is not its view: {e}\n{v}"))
    }

    /// Sign and submit; expect 201; the receipt.
    async fn ok(&self, author: &str, kind: Kind, body: Value) -> Value {
        let e =
            sign_entry(kind, &author.parse().unwrap(), &self.keys[author], &Timestamp::from_instant(self.base), body)
                .unwrap();
        let req = Request::post("/v1/entries")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&e.json).unwrap()))
            .unwrap();
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let v: Value = serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap();
        assert_eq!(status, StatusCode::CREATED, "{kind:?} by {author}: {v}");
        v
    }

    async fn member(&mut self, id: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        let body = json!({"id": id, "name": id, "member_kind": "collective", "legal_form": "cooperatie"});
        self.ok(id, Kind::MemberApply, body).await;
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id})).await;
    }

    /// Expect a 400 with `code`; the error body.
    async fn bad(&self, path: &str, code: &str) -> Value {
        let (s, v) = self.get(path).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{path}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        v
    }
}

fn charter() -> Value {
    json!({"admission": "open", "treasurers": ["coop", "care", "late"], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
           "voting_period_seconds": 3600, "max_request": "1000.00", "dissolution": "pro_rata_refund"})
}

fn id(receipt: &Value) -> String {
    receipt["id"].as_str().unwrap().to_string()
}

/// Two funds with members, money, proposals (one passed and paid out) and a round.
async fn world() -> (Env, HashMap<&'static str, Value>) {
    let mut env = Env::new();
    for m in ["coop", "food", "care", "late"] {
        env.member(m).await;
    }
    let mut r = HashMap::new();
    for (f, who) in [("warmte", "coop"), ("zon", "care")] {
        let body = json!({"id": f, "name": f, "purpose": "", "charter": charter()});
        env.ok(who, Kind::FundCreate, body).await;
    }
    env.ok("food", Kind::FundJoin, json!({"fund": "warmte"})).await;
    env.ok("care", Kind::FundJoin, json!({"fund": "warmte"})).await;
    env.ok("coop", Kind::FundJoin, json!({"fund": "zon"})).await;
    env.ok("food", Kind::FundJoin, json!({"fund": "zon"})).await;
    let c =
        env.ok("coop", Kind::Contribution, json!({"fund": "warmte", "amount": "1000.00", "reference": "V-1"})).await;
    let recon = json!({"fund": "warmte", "statement_sha256": hex::encode([7u8; 32]), "period_from": "2026-01-01", "period_to": "2026-12-31",
        "opening_balance": "0.00", "closing_balance": "1000.00", "confirmed": [id(&c)], "unmatched_bank_lines": 0});
    env.ok("coop", Kind::Reconciliation, recon).await;
    let alloc = json!({"fund": "warmte", "proposal_kind": "allocation", "title": "Heat pump", "description": "", "amount": "300.00", "recipient": "late"});
    let p1 = env.ok("food", Kind::Proposal, alloc).await;
    r.insert("vote_coop", env.ok("coop", Kind::Vote, json!({"proposal": id(&p1), "choice": "yes"})).await);
    r.insert("vote_food", env.ok("food", Kind::Vote, json!({"proposal": id(&p1), "choice": "no"})).await);
    r.insert("vote_food2", env.ok("food", Kind::Vote, json!({"proposal": id(&p1), "choice": "yes"})).await);
    r.insert("vote_care", env.ok("care", Kind::Vote, json!({"proposal": id(&p1), "choice": "abstain"})).await);
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let other = json!({"fund": "zon", "proposal_kind": "allocation", "title": "Panels", "description": "", "amount": "10.00", "recipient": "care"});
    r.insert("p_zon", env.ok("care", Kind::Proposal, other).await);
    let d = env
        .ok("coop", Kind::Disbursement, json!({"allocation": id(&p1), "amount": "300.00", "reference": "PAY-1"}))
        .await;
    r.insert("approve", env.ok("care", Kind::DisbursementApprove, json!({"disbursement": id(&d)})).await);
    let round = json!({"fund": "warmte", "proposal_kind": "round", "title": "Seeds round", "description": "", "budget": "200.00",
        "rule": "greedy", "projects_days": 1, "voting_days": 1});
    r.insert("round", env.ok("coop", Kind::Proposal, round).await);
    for m in ["coop", "food", "care"] {
        env.ok(m, Kind::Vote, json!({"proposal": id(&r["round"]), "choice": "yes"})).await;
    }
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let project =
        json!({"round": id(&r["round"]), "title": "Seeds", "description": "", "cost": "50.00", "recipient": "coop"});
    env.ok("coop", Kind::RoundProject, project).await;
    r.insert("p1", p1);
    r.insert("disbursement", d);
    (env, r)
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_document() {
    let env = Env::new();
    let (s, served) = env.raw("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let generated = api::openapi::document_json();
    assert_eq!(String::from_utf8(served).unwrap(), generated, "/openapi.json is not the generated document");

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap();
    assert!(
        checked_in == generated,
        "api/assets/openapi.json is not the generated document; run `UPDATE_OPENAPI=1 cargo test -p api --test views_api` and commit it"
    );

    // What the document states exactly.
    let doc: Value = serde_json::from_str(generated).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["MemberId"]["pattern"], "^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$");
    assert_eq!(schemas["FundId"]["pattern"], "^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$");
    assert_eq!(schemas["EntryId"]["pattern"], "^[0-9a-f]{64}$");
    assert_eq!(schemas["Amount"]["pattern"], "^(0|[1-9][0-9]{0,12})\\.[0-9]{2}$");
    for view in ["FundView", "FlowsView", "ProposalView", "RoundView", "MemberView", "RecordView", "ErrorBody"] {
        assert_eq!(schemas[view]["type"], "object", "{view}");
        assert!(schemas[view]["required"].as_array().is_some_and(|r| !r.is_empty()), "{view}");
    }
    // A field without a value is null, never left out: nullable fields are required too.
    let required = schemas["ProposalView"]["required"].as_array().unwrap();
    assert!(required.contains(&json!("outcome")) && required.contains(&json!("amount")), "{required:?}");
    let limit = doc["paths"]["/v1/members"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!((limit["schema"]["minimum"].as_u64(), limit["schema"]["maximum"].as_u64()), (Some(1), Some(1000)));
    // Every operation documents its 400 (unknown parameters at least) and 413 with the error body.
    for (p, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for status in ["400", "413"] {
                let r = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(r, "#/components/schemas/ErrorBody", "{status} of {method} {p}");
            }
        }
    }
    assert!(doc["paths"]["/v1/rounds"]["get"].is_object());
    assert!(doc["paths"]["/v1/entries"]["post"]["responses"]["413"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_are_paged_in_log_order_and_filtered() {
    let (env, r) = world().await;

    // Walking the register two at a time sees every member once, in the order of application.
    let mut seen = Vec::new();
    let mut from = Some(0);
    while let Some(f) = from {
        let page: MemberList = env.view(&format!("/v1/members?from={f}&limit=2")).await;
        assert!(page.members.len() <= 2);
        seen.extend(page.members.iter().map(|m| m.id.to_string()));
        from = page.next;
    }
    assert_eq!(seen, ["registrar", "coop", "food", "care", "late"]);
    let all: MemberList = env.view("/v1/members").await;
    assert_eq!((all.members.len(), all.next), (5, None));
    let in_zon: MemberList = env.view("/v1/members?fund=zon&status=admitted").await;
    assert_eq!(in_zon.members.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(), ["coop", "food", "care"]);
    let pending: MemberList = env.view("/v1/members?status=pending").await;
    assert!(pending.members.is_empty());

    let funds: FundList = env.view("/v1/funds?limit=1").await;
    assert_eq!(funds.funds.len(), 1);
    assert_eq!(funds.funds[0].id.as_str(), "warmte");
    let rest: FundList = env.view(&format!("/v1/funds?from={}", funds.next.unwrap())).await;
    assert_eq!((rest.funds.len(), rest.funds[0].id.as_str(), rest.next), (1, "zon", None));
    let dissolved: FundList = env.view("/v1/funds?status=dissolved").await;
    assert!(dissolved.funds.is_empty());

    let open: ProposalList = env.view("/v1/proposals?status=open").await;
    assert_eq!(open.proposals.iter().map(|p| p.id.to_hex()).collect::<Vec<_>>(), [id(&r["p_zon"])]);
    let warmte: ProposalList = env.view("/v1/proposals?fund=warmte").await;
    // The allocation, and the round proposal that opened the round.
    assert_eq!(warmte.proposals.iter().map(|p| p.id.to_hex()).collect::<Vec<_>>(), [id(&r["p1"]), id(&r["round"])]);
    let none: ProposalList = env.view("/v1/proposals?fund=warmte&status=open").await;
    assert!(none.proposals.is_empty());

    let rounds: RoundList = env.view("/v1/rounds?fund=warmte&status=open").await;
    assert_eq!(rounds.rounds.len(), 1);
    assert_eq!((rounds.rounds[0].id.to_hex(), rounds.rounds[0].project_count), (id(&r["round"]), 1));
    let closed: RoundList = env.view("/v1/rounds?status=closed").await;
    assert!(closed.rounds.is_empty());
    let in_zon: RoundList = env.view("/v1/rounds?fund=zon").await;
    assert!(in_zon.rounds.is_empty());

    // A filter naming no fund is a 404; values of the wrong form and limits out of range are 400s.
    let (s, v) = env.get("/v1/rounds?fund=nowhere").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_fund")));
    let (s, _) = env.get("/v1/members?fund=nowhere").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    env.bad("/v1/proposals?status=maybe", "bad_query").await;
    env.bad("/v1/funds?limit=0", "bad_query").await;
    env.bad("/v1/rounds?limit=1001", "bad_query").await;
    env.bad("/v1/members?fund=A", "bad_query").await;
    env.bad("/v1/entries?limit=1001", "bad_query").await;
    env.bad("/v1/funds?from=-1", "bad_query").await;
    env.bad("/v1/proposals?from=9223372036854775808", "bad_query").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_query_parameters_are_refused_everywhere() {
    let (env, r) = world().await;
    let round = id(&r["round"]);
    let p1 = id(&r["p1"]);
    for path in [
        "/v1/funds?colour=red".to_string(),
        "/v1/funds/warmte?x=1".into(),
        "/v1/funds/warmte/flows?page=2".into(),
        "/v1/members?offset=1".into(),
        "/v1/members/coop?x".into(),
        format!("/v1/proposals/{p1}?fund=warmte"),
        "/v1/proposals?fund=warmte&funds=zon".into(),
        "/v1/rounds?cursor=1".into(),
        format!("/v1/rounds/{round}?now=1"),
        "/v1/entries?from=0&size=3".into(),
        "/v1/entries/0?pretty=1".into(),
        "/v1/checkpoint?format=json".into(),
        "/v1/proofs/inclusion?seq=0&to=3".into(),
        "/v1/proofs/consistency?from=1&size=3".into(),
        "/healthz?verbose=1".into(),
        "/openapi.json?v=2".into(),
    ] {
        let v = env.bad(&path, "unknown_parameter").await;
        assert!(v["error"]["detail"]["parameter"].is_string(), "{path}: {v}");
    }
    env.bad("/v1/funds?limit=1&limit=2", "bad_query").await;
    // A declared body above 1 MiB is a 413 on any operation, as the document says.
    let req = Request::get("/v1/funds").header("content-length", "2000000").body(Body::empty()).unwrap();
    let resp = api::router(env.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The parameters an operation does take are accepted.
    assert_eq!(env.get("/v1/proofs/inclusion?seq=0&size=3").await.0, StatusCode::OK);
    assert_eq!(env.get("/v1/proofs/consistency?from=1&to=3").await.0, StatusCode::OK);
    assert_eq!(env.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn records_votes_and_approvals_carry_their_entry_and_time() {
    let (env, r) = world().await;

    // Records in reads carry the entry id and leaf hash of the submit receipt.
    let vote = &r["vote_coop"];
    let seq = vote["seq"].as_u64().unwrap();
    let page: EntryList = env.view(&format!("/v1/entries?from={seq}&limit=1")).await;
    assert_eq!(page.next, Some(seq + 1));
    let rec = &page.entries[0];
    assert_eq!(
        (rec.seq, rec.id.to_hex(), rec.leaf_hash.as_str()),
        (seq, id(vote), vote["leaf_hash"].as_str().unwrap())
    );
    for path in [format!("/v1/entries/{seq}"), format!("/v1/entries/id/{}", id(vote))] {
        let (_, v) = env.get(&path).await;
        assert_eq!((v["id"].as_str(), v["leaf_hash"].as_str()), (vote["id"].as_str(), vote["leaf_hash"].as_str()));
        // A client checks them: the record reads back, and a wrong id or leaf hash is refused.
        assert_eq!(Record::from_value(v.clone()).unwrap().seq, seq);
        let mut wrong = v.clone();
        wrong["id"] = json!(hex::encode([0u8; 32]));
        assert!(Record::from_value(wrong).is_err());
        let mut wrong = v.clone();
        wrong["leaf_hash"] = json!(hex::encode([0u8; 32]));
        assert!(Record::from_value(wrong).is_err());
    }

    // Votes: the counted (latest) vote of each member with its entry and time.
    let (_, p) = env.get(&format!("/v1/proposals/{}", id(&r["p1"]))).await;
    let votes = p["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 3);
    for (v, receipt) in votes.iter().zip([&r["vote_care"], &r["vote_coop"], &r["vote_food2"]]) {
        assert_eq!((&v["id"], &v["seq"]), (&receipt["id"], &receipt["seq"]), "{v}");
        assert_eq!(v["received_at"], env.at(0));
    }
    assert_eq!((votes[1]["member"].as_str(), votes[2]["choice"].as_str()), (Some("coop"), Some("yes")));

    // Approvals: the request and the approval, with their entries.
    let flows: FlowsView = env.view("/v1/funds/warmte/flows").await;
    let d = &flows.disbursements[0];
    let ids: Vec<String> = d.approval_records.iter().map(|a| a.id.to_hex()).collect();
    assert_eq!(ids, [id(&r["disbursement"]), id(&r["approve"])]);
    assert_eq!(d.approval_records[1].member.as_str(), "care");
    assert_eq!(d.approval_records[1].seq, r["approve"]["seq"].as_u64().unwrap());

    // One name per shape: a round's projects are a count in summaries, a list in the round.
    let f: FundView = env.view("/v1/funds/warmte").await;
    assert_eq!(f.rounds[0].project_count, 1);
    let (_, fj) = env.get("/v1/funds/warmte").await;
    assert!(fj["rounds"][0].get("projects").is_none());
    let round: RoundView = env.view(&format!("/v1/rounds/{}", id(&r["round"]))).await;
    assert_eq!(round.projects.len(), 1);
    assert_eq!(round.projects[0].approvals, None);
}
