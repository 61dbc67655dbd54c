//! The handlers of the log and the register: parse, call the ledger, render a
//! view of `ledger::views`. Every query is checked against the operation's
//! parameters in the generated OpenAPI document first
//! ([`refuse_unknown_parameters`]), so an unknown one is a 400.

use std::any::Any;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::entry::VerifiedEntry;
use ledger::ids::{EntryId, FundId, MemberId};
use ledger::log::Ack;
use ledger::register::MemberStatus;
use ledger::views::{
    ConsistencyProofView, EntryList, ErrorBody, InclusionProofView, MemberList, MemberView, Page, RecordView,
    SubmitReceipt,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::error::{ApiCode, ApiError};
use crate::extract::{Param, WholeBody};
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(t)| t).map_err(|e| ApiError::bad_request(ApiCode::BadQuery, e.body_text()))
}

pub(crate) fn page(from: Option<u64>, limit: Option<u64>) -> ApiResult<Page> {
    Page::new(from, limit).map_err(|e| ApiError::bad_request(ApiCode::BadQuery, e.to_string()))
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

/// `{"seq":…,"id":…,"leaf_hash":…,"tree_size":…}` ([`SubmitReceipt`]), written
/// directly (every submission answers with one).
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

/// Submit one signed entry.
#[utoipa::path(
    post,
    path = "/v1/entries",
    tag = "log",
    request_body(content = ledger::views::schema::Envelope, description = "A signed entry (SPEC §3.1), at most 1 MiB."),
    responses(
        (status = 201, description = "Appended and durable.", body = SubmitReceipt),
        (status = 200, description = "The identical entry is already in the log.", body = SubmitReceipt),
        (status = 400, description = "Not an entry: malformed JSON, a field of the wrong form or too long.", body = ErrorBody),
        (status = 401, description = "The signature does not verify, or the key is not the author's.", body = ErrorBody),
        (status = 403, description = "The author may not do this.", body = ErrorBody),
        (status = 404, description = "The entry names something unknown.", body = ErrorBody),
        (status = 409, description = "It conflicts with the log (a closed vote, a duplicate id).", body = ErrorBody),
        (status = 413, description = "The body is above 1 MiB or the entry above 64 KiB.", body = ErrorBody),
        (status = 415, description = "The body is not JSON.", body = ErrorBody),
        (status = 422, description = "A domain rule refuses it (among them `personal_data`: free text holding an IBAN, an e-mail address, a phone number or a BSN).", body = ErrorBody),
        (status = 503, description = "The store is not writable.", body = ErrorBody),
    )
)]
pub async fn submit(State(s): State<AppState>, WholeBody(body): WholeBody) -> ApiResult<Response> {
    let arriving = s.ingest.arriving();
    let entry = VerifiedEntry::from_json(&body)?;
    // SPEC §8, for new entries only: the records already in the log stay readable.
    entry.body.check_personal_data()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.ingest.submit(
        entry,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    // No longer on its way once queued (counted as queued from here on).
    drop(arriving);
    let ack = rx.await.map_err(|_| ApiError::unavailable("the writer stopped"))??;
    let status = if ack.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, [(header::CONTENT_TYPE, "application/json")], ack_body(&ack)).into_response())
}

/// Query of `GET /v1/entries`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// The first record position (default 0).
    #[param(minimum = 0)]
    from: Option<u64>,
    /// The most records to return (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

fn json_raw(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], Body::from(body)).into_response()
}

/// Records in order, each with its entry id and leaf hash, at most 1000 a page.
#[utoipa::path(
    get,
    path = "/v1/entries",
    tag = "log",
    params(EntriesQuery),
    responses(
        (status = 200, description = "A page of records.", body = EntryList),
        (status = 400, description = "A parameter of the wrong form, unknown, or out of range.", body = ErrorBody),
        (status = 503, description = "The store could not be read.", body = ErrorBody),
    )
)]
pub async fn list_entries(
    State(s): State<AppState>,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let p = page(q.from, q.limit)?;
    let log = s.log.clone();
    let (records, next) =
        tokio::task::spawn_blocking(move || log.records(p.from, p.limit)).await.map_err(ApiError::internal)??;
    Ok(json_raw(EntryList::json_of_leaves(&records, next).map_err(ApiError::internal)?))
}

fn parse_seq(s: &str) -> ApiResult<u64> {
    s.parse::<u64>().map_err(|_| {
        ApiError::bad_request(ApiCode::BadSeq, format!("{s:?} is not a record position (a non-negative integer)"))
    })
}

fn record_response(bytes: &[u8]) -> ApiResult<Response> {
    Ok(json_raw(RecordView::json_of_leaf(bytes).map_err(ApiError::internal)?))
}

/// One record by position.
#[utoipa::path(
    get,
    path = "/v1/entries/{seq}",
    tag = "log",
    params(("seq" = u64, Path, minimum = 0, description = "The record's position, from 0.")),
    responses(
        (status = 200, description = "The record.", body = RecordView),
        (status = 400, description = "Not a record position, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No record there.", body = ErrorBody),
        (status = 503, description = "The store could not be read.", body = ErrorBody),
    )
)]
pub async fn entry_by_seq(State(s): State<AppState>, Param(seq): Param) -> ApiResult<Response> {
    let seq = parse_seq(&seq)?;
    match s.log.record(seq)? {
        Some(bytes) => record_response(&bytes),
        None => Err(ApiError::not_found(
            ApiCode::UnknownEntry,
            format!("no record {seq}; the log has {} records", s.log.size()),
        )),
    }
}

fn entry_id(id: &str) -> ApiResult<EntryId> {
    id.parse().map_err(|e: ledger::ids::IdError| ApiError::bad_request(ApiCode::BadId, e.to_string()))
}

/// One record by its entry's id.
#[utoipa::path(
    get,
    path = "/v1/entries/id/{id}",
    tag = "log",
    params(("id" = EntryId, Path, description = "The entry's id.")),
    responses(
        (status = 200, description = "The record.", body = RecordView),
        (status = 400, description = "Not an entry id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such entry.", body = ErrorBody),
        (status = 503, description = "The store could not be read.", body = ErrorBody),
    )
)]
pub async fn entry_by_id(State(s): State<AppState>, Param(id): Param) -> ApiResult<Response> {
    let id = entry_id(&id)?;
    let unknown = || ApiError::not_found(ApiCode::UnknownEntry, format!("no entry with id {id}"));
    let seq = s.log.seq_of(&id)?.ok_or_else(unknown)?;
    match s.log.record(seq)? {
        Some(bytes) => record_response(&bytes),
        None => Err(unknown()),
    }
}

/// The latest checkpoint, a signed note.
#[utoipa::path(
    get,
    path = "/v1/checkpoint",
    tag = "log",
    responses(
        (status = 200, description = "The signed note (origin, size, root hash, signature), then the cosignatures of the witnesses gathered so far for it.", body = String, content_type = "text/plain"),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn checkpoint(State(s): State<AppState>) -> Response {
    let note = s.cosigned.attach(&s.log.checkpoint().0);
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response()
}

/// Query of `GET /v1/proofs/inclusion`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The record.
    #[param(minimum = 0)]
    seq: u64,
    /// The tree size (default: the log's size).
    #[param(minimum = 1)]
    size: Option<u64>,
}

/// The audit path of a record in a tree of a given size.
#[utoipa::path(
    get,
    path = "/v1/proofs/inclusion",
    tag = "log",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The proof.", body = InclusionProofView),
        (status = 400, description = "A parameter missing, of the wrong form or unknown, or a position outside the tree.", body = ErrorBody),
        (status = 503, description = "The store could not be read.", body = ErrorBody),
    )
)]
pub async fn inclusion(
    State(s): State<AppState>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> ApiResult<Json<InclusionProofView>> {
    let q = query(q)?;
    let size = q.size.unwrap_or_else(|| s.log.size());
    let (leaf, proof) = s.log.inclusion_proof(q.seq, size)?;
    Ok(Json(InclusionProofView {
        seq: q.seq,
        size,
        leaf_hash: hex::encode(leaf),
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

/// Query of `GET /v1/proofs/consistency`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size.
    #[param(minimum = 0)]
    from: u64,
    /// The newer tree size (default: the log's size).
    #[param(minimum = 0)]
    to: Option<u64>,
}

/// The proof that a tree of size `from` is a prefix of the tree of size `to`.
#[utoipa::path(
    get,
    path = "/v1/proofs/consistency",
    tag = "log",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof.", body = ConsistencyProofView),
        (status = 400, description = "A parameter missing, of the wrong form or unknown, or sizes the log does not have.", body = ErrorBody),
        (status = 503, description = "The store could not be read.", body = ErrorBody),
    )
)]
pub async fn consistency(
    State(s): State<AppState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> ApiResult<Json<ConsistencyProofView>> {
    let q = query(q)?;
    let to = q.to.unwrap_or_else(|| s.log.size());
    let proof = s.log.consistency_proof(q.from, to)?;
    Ok(Json(ConsistencyProofView { from: q.from, to, proof: proof.iter().map(hex::encode).collect() }))
}

/// Query of `GET /v1/members`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// The first log position (the members' `applied_seq`) to include (default 0).
    #[param(minimum = 0)]
    from: Option<u64>,
    /// The most members to return (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Only the members of this fund.
    fund: Option<FundId>,
    /// Only members with this status.
    status: Option<MemberStatus>,
}

/// The register, in the order of application.
#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "register",
    params(MembersQuery),
    responses(
        (status = 200, description = "A page of the register.", body = MemberList),
        (status = 400, description = "A parameter of the wrong form, unknown, or out of range.", body = ErrorBody),
        (status = 404, description = "The `fund` filter names no fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn members(
    State(s): State<AppState>,
    q: Result<Query<MembersQuery>, QueryRejection>,
) -> ApiResult<Json<MemberList>> {
    let q = query(q)?;
    let p = page(q.from, q.limit)?;
    let state = s.log.state();
    let in_fund = match &q.fund {
        Some(f) => Some(crate::funds::find_fund(&state, f)?.members.iter().cloned().collect::<Vec<MemberId>>()),
        None => None,
    };
    Ok(Json(MemberList::of(&state, q.status, in_fund.as_deref(), p)))
}

/// One member.
#[utoipa::path(
    get,
    path = "/v1/members/{id}",
    tag = "register",
    params(("id" = MemberId, Path, description = "The member's id.")),
    responses(
        (status = 200, description = "The member.", body = MemberView),
        (status = 400, description = "Not a member id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such member.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn member(State(s): State<AppState>, Param(id): Param) -> ApiResult<Json<MemberView>> {
    let id: MemberId =
        id.parse().map_err(|e: ledger::ids::IdError| ApiError::bad_request(ApiCode::BadId, e.to_string()))?;
    let state = s.log.state();
    let m = state
        .register
        .member(&id)
        .ok_or_else(|| ApiError::not_found(ApiCode::UnknownMember, format!("no member {id}")))?;
    Ok(Json(MemberView::of(m)))
}

/// A request whose declared `Content-Length` is over the limit, refused at once
/// before reading its body (bodies without a length are cut off by `DefaultBodyLimit`).
fn declared_oversize(req: &axum::extract::Request) -> Option<Response> {
    let max = ledger::limits::REQUEST_BODY_BYTES_MAX;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > max as u64 => Some(
            ApiError::api(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiCode::TooLarge,
                format!("request body of {len} bytes is above the limit of {max} bytes"),
            )
            .into_response(),
        ),
        _ => None,
    }
}

/// Refuse a query parameter that the operation does not take (as the OpenAPI
/// document states them), naming it; a repeated parameter is refused too.
fn unknown_parameter(path: Option<&MatchedPath>, req: &axum::extract::Request) -> Option<Response> {
    let allowed = path.and_then(|p| crate::openapi::query_parameters(p.as_str(), req.method()));
    if let (Some(path), Some(allowed)) = (path, allowed) {
        let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(req.uri().query().unwrap_or("")) {
            Ok(p) => p,
            Err(e) => {
                return Some(
                    ApiError::bad_request(ApiCode::BadQuery, format!("the query is not URL-encoded: {e}"))
                        .into_response(),
                )
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in &pairs {
            if !allowed.iter().any(|a| a == name) {
                let takes = if allowed.is_empty() { "no parameters".to_string() } else { allowed.join(", ") };
                let mut err = ApiError::bad_request(
                    ApiCode::UnknownParameter,
                    format!("unknown query parameter {name:?}; {} takes {takes}", path.as_str()),
                );
                err.detail = json!({"parameter": name});
                return Some(err.into_response());
            }
            if seen.contains(&name.as_str()) {
                return Some(
                    ApiError::bad_request(ApiCode::BadQuery, format!("query parameter {name:?} is given twice"))
                        .into_response(),
                );
            }
            seen.push(name);
        }
    }
    None
}

/// Once the ledger has failed (a failed write or flush, a panic while judging)
/// its in-memory state may hold entries that never became durable, or be
/// half-changed: the reads derived from it answer 503 `unavailable` until the
/// server is restarted (which rebuilds the state from the store). The failure
/// is checked again after the handler has read the state, as a panic may
/// fail the ledger meanwhile (it fails before the state can be read again).
/// The log's own reads (records, proofs, the checkpoint) stay available.
///
/// One middleware for every route, with the checks before the handler in
/// this order: a failed ledger, a declared oversize body
/// ([`declared_oversize`]), an unknown query parameter ([`unknown_parameter`]).
/// (One layer, not three: each layer costs every request, submissions too.)
pub async fn guard(
    State(s): State<AppState>,
    path: Option<MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let uri_path = req.uri().path();
    let derived = ["/v1/members", "/v1/funds", "/v1/proposals", "/v1/rounds"].iter().any(|p| uri_path.starts_with(p));
    let refusal = |f: String| {
        ApiError::unavailable(format!("the ledger has failed and its derived state may be ahead of the disk: {f}"))
            .into_response()
    };
    if derived {
        if let Some(f) = s.log.failure() {
            return refusal(f);
        }
    }
    if let Some(r) = declared_oversize(&req).or_else(|| unknown_parameter(path.as_ref(), &req)) {
        return r;
    }
    if !derived {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    match s.log.failure() {
        Some(f) => refusal(f),
        None => response,
    }
}

/// The OpenAPI 3.1 description, generated from the views ([`crate::openapi`]).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "site",
    responses(
        (status = 200, description = "This document.", body = Object),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn openapi() -> Response {
    json_raw(crate::openapi::document_json().as_bytes().to_vec())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found(ApiCode::NoSuchRoute, "no such endpoint; see /openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::api(StatusCode::METHOD_NOT_ALLOWED, ApiCode::MethodNotAllowed, "this endpoint does not take that method")
}

/// A handler panicked: 500, with the panic's message in the server's log
/// only. (A panic in the ledger's writer does not get here: it fails the
/// ledger, and the submission gets 503 `unavailable`.)
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    ApiError::internal(format!("a handler panicked: {}", message.unwrap_or("(no message)"))).into_response()
}
