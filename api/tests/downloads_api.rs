//! Downloads (`api::downloads`): a fund's books in each format and a round's
//! `.pb`, with their content type and file name, the bytes of the ledger's
//! writers over the server's state (`meent export` writes the same:
//! tests/tests/downloads.rs compares them with the real binary), driving
//! `api::router` with `oneshot` over a temporary ledger and a clock the test moves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ledger::books::journal::{self, CsvDialect, Syntax};
use ledger::books::FundBooks;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::ingest::Clock;
use ledger::log::Log;
use ledger::record::Record;
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
        let log = Log::create(&dir.path().join("data"), "meent.test/downloads", vec![reg], base).unwrap();
        let offset_seconds = Arc::new(AtomicI64::new(0));
        let o = offset_seconds.clone();
        let clock: Clock = Arc::new(move || base + Duration::seconds(o.load(Ordering::SeqCst)));
        let state = api::AppState::with_clock(Arc::new(log), clock);
        let keys = HashMap::from([("registrar".to_string(), registrar)]);
        Env { state, keys, offset_seconds, base, _dir: dir }
    }

    fn now(&self) -> DateTime<Utc> {
        self.base + Duration::seconds(self.offset_seconds.load(Ordering::SeqCst))
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap().to_vec())
    }

    async fn ok(&self, author: &str, kind: Kind, body: Value) -> String {
        let at = Timestamp::from_instant(self.now());
        let e = sign_entry(kind, &author.parse().unwrap(), &self.keys[author], &at, body.clone()).unwrap();
        let req = Request::post("/v1/entries").body(Body::from(serde_json::to_vec(&e.json).unwrap())).unwrap();
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let v: Value = serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap();
        assert_eq!(status, StatusCode::CREATED, "{kind:?} by {author} {body}: {v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn member(&mut self, id: &str, kind: &str) {
        self.keys.insert(id.into(), crypto::generate_key());
        self.ok(id, Kind::MemberApply, json!({"id": id, "name": id, "member_kind": kind, "legal_form": "cooperatie"}))
            .await;
        self.ok("registrar", Kind::MemberAdmit, json!({"member": id})).await;
    }

    /// The fund's books as `meent export --data` reads them: the state, and the
    /// dates of the records that executed its payouts.
    fn books(&self, fund: &str) -> FundBooks {
        let mut b = FundBooks::from_state(&self.state.log.state(), &fund.parse().unwrap()).unwrap();
        for seq in b.executed_seqs() {
            let rec = Record::from_leaf_bytes(&self.state.log.record(seq).unwrap().unwrap()).unwrap();
            b.executed_dates.insert(seq, rec.received_at.date());
        }
        b
    }
}

fn file<'a>(got: &'a (StatusCode, HeaderMap, Vec<u8>), content_type: &str, filename: &str) -> &'a [u8] {
    let (status, headers, body) = got;
    let h = |n: header::HeaderName| headers.get(n).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert_eq!(*status, StatusCode::OK, "{}", String::from_utf8_lossy(body));
    assert_eq!(h(header::CONTENT_TYPE), content_type);
    assert_eq!(h(header::CONTENT_DISPOSITION), format!("attachment; filename=\"{filename}\""));
    assert_eq!(h(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert!(h(header::ETAG).starts_with('"'));
    body
}

fn error_code(got: &(StatusCode, HeaderMap, Vec<u8>)) -> (StatusCode, String) {
    let v: Value = serde_json::from_slice(&got.2).unwrap();
    (got.0, v["error"]["code"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_funds_books_and_a_rounds_pb_as_files() {
    let mut env = Env::new();
    for (id, kind) in [("coop", "collective"), ("food", "collective"), ("city", "municipality")] {
        env.member(id, kind).await;
    }
    let charter = json!({"admission": "open", "treasurers": ["coop", "city"], "approvals_required": 1, "quorum": "0.5", "threshold": "0.5",
                         "voting_period_seconds": 60, "max_request": "5000.00", "dissolution": "pro_rata_refund"});
    env.ok("coop", Kind::FundCreate, json!({"id": "warmte", "name": "Warmtefonds", "purpose": "", "charter": charter}))
        .await;
    for m in ["food", "city"] {
        env.ok(m, Kind::FundJoin, json!({"fund": "warmte"})).await;
    }
    let c = env
        .ok("coop", Kind::Contribution, json!({"fund": "warmte", "amount": "3000.00", "reference": "R-1; Zoë, winter"}))
        .await;
    env.ok("food", Kind::Contribution, json!({"fund": "warmte", "amount": "12.50", "reference": "=SUM(A1)"})).await;
    env.ok(
        "coop",
        Kind::Reconciliation,
        json!({"fund": "warmte", "statement_sha256": hex::encode([1u8; 32]), "period_from": "2026-01-01", "period_to": "2026-12-31",
               "opening_balance": "0.00", "closing_balance": "3000.00", "confirmed": [c], "unmatched_bank_lines": 0}),
    )
    .await;
    let r = env
        .ok(
            "coop",
            Kind::Proposal,
            json!({"fund": "warmte", "proposal_kind": "round", "title": "Winter round", "description": "", "budget": "2000.00",
               "rule": "equal_shares", "projects_days": 1, "voting_days": 1}),
        )
        .await;
    for m in ["coop", "food", "city"] {
        env.ok(m, Kind::Vote, json!({"proposal": r, "choice": "yes"})).await;
    }
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    let a = env
        .ok(
            "coop",
            Kind::RoundProject,
            json!({"round": r, "title": "Solar roof", "description": "", "cost": "1200.00", "recipient": "coop"}),
        )
        .await;
    let b = env
        .ok(
            "food",
            Kind::RoundProject,
            json!({"round": r, "title": "Cold store", "description": "", "cost": "800.00", "recipient": "food"}),
        )
        .await;
    let pb = format!("/v1/rounds/{r}/pabulib");
    assert_eq!(
        error_code(&env.get(&pb).await),
        (StatusCode::CONFLICT, "voting_open".into()),
        "no tally while projects come in"
    );
    env.offset_seconds.fetch_add(86_400, Ordering::SeqCst);
    env.ok("coop", Kind::Ballot, json!({"round": r, "approve": [a]})).await;
    env.ok("food", Kind::Ballot, json!({"round": r, "approve": [b]})).await;
    env.ok("city", Kind::Ballot, json!({"round": r, "approve": [a, b]})).await;
    assert_eq!(
        error_code(&env.get(&pb).await),
        (StatusCode::CONFLICT, "voting_open".into()),
        "no tally while people vote"
    );
    env.offset_seconds.fetch_add(86_400, Ordering::SeqCst);
    // Counting: voting has closed, the `.pb` is what the close will run on.
    let counting = env.get(&pb).await;
    assert_eq!(counting.0, StatusCode::OK);
    assert_eq!(api::funds::close_due(&env.state).await, 1);
    // One approval is required: the treasurer's request executes the payout.
    env.ok("coop", Kind::Disbursement, json!({"allocation": b, "amount": "800.00", "reference": "E2E-COLD"})).await;

    let got = env.get(&pb).await;
    let text = file(&got, "text/plain; charset=utf-8", &format!("round-{r}.pb"));
    let inst = env.state.log.state().funds.round_instance(&r.parse().unwrap()).unwrap();
    assert_eq!(text, ledger::pb::write(&inst).as_bytes());
    let before = std::str::from_utf8(&counting.2).unwrap();
    assert!(
        !before.contains("selected") && std::str::from_utf8(text).unwrap().contains("selected"),
        "the close marks the selected"
    );
    let parsed = ledger::pb::parse(std::str::from_utf8(text).unwrap()).unwrap();
    assert_eq!((parsed.projects().len(), parsed.num_voters()), (2, 3));

    let books = env.books("warmte");
    assert_eq!(books.executed_dates.len(), 1, "the payout was executed");
    let got = env.get("/v1/funds/warmte/export?format=csv").await;
    let csv = file(&got, "text/csv; charset=utf-8; header=present", "warmte-flows.csv");
    assert_eq!(csv, journal::flows_csv(&books).as_bytes());
    let csv = std::str::from_utf8(csv).unwrap();
    assert!(
        csv.contains(",\"R-1; Zoë, winter\",") && csv.contains(",'=SUM(A1),") && csv.contains(",-800.00,"),
        "{csv}"
    );

    let got = env.get("/v1/funds/warmte/export?format=csv-nl").await;
    let nl = file(&got, "text/csv; charset=utf-8; header=present", "warmte-flows-nl.csv");
    assert_eq!(nl, journal::flows_csv_in(&books, CsvDialect::ExcelNl).as_bytes());
    let nl = std::str::from_utf8(nl).unwrap();
    assert!(nl.starts_with("\u{feff}date;kind;"), "{nl}");
    assert!(nl.contains(";\"R-1; Zoë, winter\";") && nl.contains(";12,50;") && nl.contains(";-800,00;"), "{nl}");

    let got = env.get("/v1/funds/warmte/export?format=hledger").await;
    let hledger = file(&got, "text/plain; charset=utf-8", "warmte.journal");
    assert_eq!(hledger, journal::journal(&books, Syntax::Hledger).unwrap().as_bytes());
    let got = env.get("/v1/funds/warmte/export?format=beancount").await;
    let bean = file(&got, "text/plain; charset=utf-8", "warmte.beancount");
    assert_eq!(bean, journal::journal(&books, Syntax::Beancount).unwrap().as_bytes());
    assert_ne!(hledger, bean);

    let got = env.get("/v1/funds/warmte/export?format=json").await;
    let json = file(&got, "application/json", "warmte-flows.json");
    assert_eq!(json, &env.get("/v1/funds/warmte/flows").await.2[..], "the bytes of GET …/flows");

    // Refusals.
    assert_eq!(
        error_code(&env.get("/v1/funds/nope/export?format=csv").await),
        (StatusCode::NOT_FOUND, "unknown_fund".into())
    );
    assert_eq!(error_code(&env.get("/v1/funds/warmte/export").await), (StatusCode::BAD_REQUEST, "bad_query".into()));
    assert_eq!(
        error_code(&env.get("/v1/funds/warmte/export?format=CSV").await),
        (StatusCode::BAD_REQUEST, "bad_query".into())
    );
    assert_eq!(
        error_code(&env.get("/v1/funds/warmte/export?format=csv&fund=x").await),
        (StatusCode::BAD_REQUEST, "unknown_parameter".into())
    );
    assert_eq!(
        error_code(&env.get(&format!("/v1/rounds/{c}/pabulib")).await),
        (StatusCode::NOT_FOUND, "unknown_round".into())
    );
    assert_eq!(error_code(&env.get("/v1/rounds/xyz/pabulib").await), (StatusCode::BAD_REQUEST, "bad_id".into()));
}

/// Every `$ref` of the served document names a schema it has (a query
/// parameter's enum is not collected from the paths by itself).
#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_resolves_every_reference() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let env = Env::new();
    let doc: Value = serde_json::from_slice(&env.get("/openapi.json").await.2).unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.contains(&"#/components/schemas/ExportFormat"));
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
    }
    let format = &doc["paths"]["/v1/funds/{id}/export"]["get"]["parameters"][1];
    assert_eq!((format["name"].as_str(), format["required"].as_bool()), (Some("format"), Some(true)));
    let formats = &doc["components"]["schemas"]["ExportFormat"]["enum"];
    assert_eq!(formats, &json!(["csv", "csv-nl", "hledger", "beancount", "json"]));
}
