//! The handlers: parse, call the ledger, render.

use std::any::Any;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::entry::VerifiedEntry;
use ledger::ids::{EntryId, MemberId};
use ledger::limits::PAGE_RECORDS_MAX;
use ledger::log::Ack;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(t)| t).map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
}

/// `{"status": "ok", "tree_size": …}`; once the ledger has failed, 503
/// `unavailable` (the error body, with the size of the last checkpoint in
/// `detail`) until a restart.
pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.log.failure() {
        None => Json(json!({"status": "ok", "tree_size": s.log.size()})).into_response(),
        Some(f) => {
            let mut e = ApiError::unavailable(format!("the ledger refuses writes until the server is restarted: {f}"));
            e.detail = json!({"status": "failed", "tree_size": s.log.size()});
            e.into_response()
        }
    }
}

/// `{"seq":…,"id":…,"leaf_hash":…,"tree_size":…}`, written directly (every
/// submission answers with one).
fn ack_body(a: &Ack) -> Vec<u8> {
    format!(
        r#"{{"seq":{},"id":"{}","leaf_hash":"{}","tree_size":{}}}"#,
        a.seq,
        ledger::ids::hex32(&a.id.0).as_str(),
        ledger::ids::hex32(&a.leaf_hash).as_str(),
        a.tree_size
    )
    .into_bytes()
}

pub async fn submit(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let arriving = s.ingest.arriving();
    let entry = VerifiedEntry::from_json(&body)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.ingest.submit(
        entry,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    // No longer on its way once queued (counted as queued from here on).
    drop(arriving);
    let ack =
        rx.await.map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the writer stopped"))??;
    let status = if ack.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, [(header::CONTENT_TYPE, "application/json")], ack_body(&ack)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    from: Option<u64>,
    limit: Option<u64>,
}

fn json_raw(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], Body::from(body)).into_response()
}

pub async fn list_entries(State(s): State<AppState>, q: Result<Query<Page>, QueryRejection>) -> ApiResult<Response> {
    let p = query(q)?;
    let from = p.from.unwrap_or(0);
    let limit = p.limit.unwrap_or(PAGE_RECORDS_MAX);
    if limit == 0 || limit > PAGE_RECORDS_MAX {
        return Err(ApiError::bad_request("bad_query", format!("limit must be between 1 and {PAGE_RECORDS_MAX}")));
    }
    let log = s.log.clone();
    let (records, next) =
        tokio::task::spawn_blocking(move || log.records(from, limit)).await.map_err(ApiError::internal)??;
    // Records are stored as canonical JSON; they are sent byte for byte.
    let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 32);
    out.extend_from_slice(b"{\"entries\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r);
    }
    out.extend_from_slice(b"],\"next\":");
    out.extend_from_slice(next.map(|n| n.to_string()).unwrap_or_else(|| "null".into()).as_bytes());
    out.push(b'}');
    Ok(json_raw(out))
}

fn parse_seq(s: &str) -> ApiResult<u64> {
    s.parse::<u64>().map_err(|_| {
        ApiError::bad_request("bad_seq", format!("{s:?} is not a record position (a non-negative integer)"))
    })
}

pub async fn entry_by_seq(State(s): State<AppState>, Path(seq): Path<String>) -> ApiResult<Response> {
    let seq = parse_seq(&seq)?;
    match s.log.record(seq)? {
        Some(bytes) => Ok(json_raw(bytes)),
        None => {
            Err(ApiError::not_found("unknown_entry", format!("no record {seq}; the log has {} records", s.log.size())))
        }
    }
}

pub async fn entry_by_id(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id: EntryId = id.parse().map_err(|e: ledger::ids::IdError| ApiError::bad_request("bad_id", e.to_string()))?;
    let seq =
        s.log.seq_of(&id)?.ok_or_else(|| ApiError::not_found("unknown_entry", format!("no entry with id {id}")))?;
    match s.log.record(seq)? {
        Some(bytes) => Ok(json_raw(bytes)),
        None => Err(ApiError::not_found("unknown_entry", format!("no entry with id {id}"))),
    }
}

pub async fn checkpoint(State(s): State<AppState>) -> Response {
    let (note, _) = s.log.checkpoint();
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    seq: u64,
    size: Option<u64>,
}

pub async fn inclusion(
    State(s): State<AppState>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    let size = q.size.unwrap_or_else(|| s.log.size());
    let (leaf, proof) = s.log.inclusion_proof(q.seq, size)?;
    Ok(Json(
        json!({"seq": q.seq, "size": size, "leaf_hash": hex::encode(leaf), "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

pub async fn consistency(
    State(s): State<AppState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    let to = q.to.unwrap_or_else(|| s.log.size());
    let proof = s.log.consistency_proof(q.from, to)?;
    Ok(Json(json!({"from": q.from, "to": to, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()})))
}

pub async fn members(State(s): State<AppState>) -> Json<Value> {
    let state = s.log.state();
    let members: Vec<&ledger::register::Member> = state.register.members().collect();
    Json(json!({"members": members}))
}

pub async fn member(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id: MemberId = id.parse().map_err(|e: ledger::ids::IdError| ApiError::bad_request("bad_id", e.to_string()))?;
    let state = s.log.state();
    let m =
        state.register.member(&id).ok_or_else(|| ApiError::not_found("unknown_member", format!("no member {id}")))?;
    Ok(Json(json!(m)))
}

/// Refuse a request whose declared `Content-Length` is over the limit at once,
/// before reading its body (bodies without a length are cut off by `DefaultBodyLimit`).
pub async fn refuse_declared_oversize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let max = ledger::limits::REQUEST_BODY_BYTES_MAX;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > max as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body of {len} bytes is above the limit of {max} bytes"),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

/// Once the ledger has failed (a failed write or flush, a panic while judging)
/// its in-memory state may hold entries that never became durable, or be
/// half-changed: the reads derived from it answer 503 `unavailable` until the
/// server is restarted (which rebuilds the state from the store). The failure
/// is checked again after the handler has read the state, as a panic may
/// fail the ledger meanwhile (it fails before the state can be read again).
/// The log's own reads (records, proofs, the checkpoint) stay available.
pub async fn refuse_state_reads_after_failure(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let derived = ["/v1/members", "/v1/funds", "/v1/proposals", "/v1/rounds"].iter().any(|p| path.starts_with(p));
    let refusal = |f: String| {
        ApiError::unavailable(format!("the ledger has failed and its derived state may be ahead of the disk: {f}"))
            .into_response()
    };
    if !derived {
        return next.run(req).await;
    }
    if let Some(f) = s.log.failure() {
        return refusal(f);
    }
    let response = next.run(req).await;
    match s.log.failure() {
        Some(f) => refusal(f),
        None => response,
    }
}

/// The public audit page.
pub async fn audit_page() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], include_str!("../assets/audit.html")).into_response()
}

/// The OpenAPI 3.1 description.
pub async fn openapi() -> Response {
    json_raw(include_bytes!("../assets/openapi.json").to_vec())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no_such_route", "no such endpoint; see /openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not take that method")
}

/// A handler panicked: 500, with the panic's message in the server's log
/// only. (A panic in the ledger's writer does not get here: it fails the
/// ledger, and the submission gets 503 `unavailable`.)
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    ApiError::internal(format!("a handler panicked: {}", message.unwrap_or("(no message)"))).into_response()
}
