//! One error type for every response that is not a success, with SPEC §5's body:
//! `{"error": {"code", "message", "detail"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::entry::EntryError;
use ledger::error::{Refusal, RefusalKind};
use ledger::log::{ProofError, SubmitError};
use ledger::store::StoreError;
use ledger::views::{ErrorBody, ErrorDetail};
use serde_json::{json, Value};

/// The codes the API itself answers with (the ledger's refusals carry their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    /// A query parameter has a value of the wrong form, or a limit out of range.
    BadQuery,
    /// A query parameter the endpoint does not take.
    UnknownParameter,
    /// A member, fund or entry id of the wrong form.
    BadId,
    /// A record position that is not a non-negative integer.
    BadSeq,
    /// A proof asked for sizes or positions the log does not have.
    BadRange,
    /// No record at that position or with that id.
    UnknownEntry,
    /// No such member.
    UnknownMember,
    /// No such fund.
    UnknownFund,
    /// No such proposal.
    UnknownProposal,
    /// No such round.
    UnknownRound,
    /// No such endpoint.
    NoSuchRoute,
    /// The endpoint does not take that method.
    MethodNotAllowed,
    /// The body is above the size limit.
    TooLarge,
    /// The body is not an entry.
    Malformed,
    /// A field of the entry is above its length limit.
    FieldTooLong,
    /// The signature does not verify.
    BadSignature,
    /// The request body could not be read (the connection broke mid-body).
    BadBody,
    /// The request body did not arrive whole in time.
    RequestTimeout,
    /// Too many refused requests, or `member.apply` submissions, from one address.
    RateLimited,
    /// 503, the one code for every 503: the ledger failed and refuses writes
    /// and derived reads until a restart, the writer stopped, or the server
    /// has as many connections open as it serves at once.
    Unavailable,
    /// Something the operator must look at.
    Internal,
    /// A request the server cannot read that no more specific code names (a
    /// refusal of the HTTP framework itself, given the error body).
    BadRequest,
    /// A round's ballots are asked for as a file while people still vote.
    VotingOpen,
}

impl ApiCode {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::BadQuery => "bad_query",
            ApiCode::UnknownParameter => "unknown_parameter",
            ApiCode::BadId => "bad_id",
            ApiCode::BadSeq => "bad_seq",
            ApiCode::BadRange => "bad_range",
            ApiCode::UnknownEntry => "unknown_entry",
            ApiCode::UnknownMember => "unknown_member",
            ApiCode::UnknownFund => "unknown_fund",
            ApiCode::UnknownProposal => "unknown_proposal",
            ApiCode::UnknownRound => "unknown_round",
            ApiCode::NoSuchRoute => "no_such_route",
            ApiCode::MethodNotAllowed => "method_not_allowed",
            ApiCode::TooLarge => "too_large",
            ApiCode::Malformed => "malformed",
            ApiCode::FieldTooLong => "field_too_long",
            ApiCode::BadSignature => "bad_signature",
            ApiCode::BadBody => "bad_body",
            ApiCode::RequestTimeout => "request_timeout",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::Unavailable => "unavailable",
            ApiCode::Internal => "internal",
            ApiCode::BadRequest => "bad_request",
            ApiCode::VotingOpen => "voting_open",
        }
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human sentence.
    pub message: String,
    /// Extra structured detail.
    pub detail: Value,
}

impl ApiError {
    /// An error with an empty detail.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), detail: json!({}) }
    }
    /// An error with one of the API's own codes.
    pub fn api(status: StatusCode, code: ApiCode, message: impl Into<String>) -> Self {
        Self::new(status, code.as_str(), message)
    }
    /// 400.
    pub fn bad_request(code: ApiCode, message: impl Into<String>) -> Self {
        Self::api(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404.
    pub fn not_found(code: ApiCode, message: impl Into<String>) -> Self {
        Self::api(StatusCode::NOT_FOUND, code, message)
    }
    /// 503 `unavailable`, the one code for every 503: the ledger failed (a
    /// failed write or flush, an internal panic) and refuses writes and
    /// derived reads until a restart, the store could not be read, or the
    /// writer's queue is full.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::api(StatusCode::SERVICE_UNAVAILABLE, ApiCode::Unavailable, message)
    }
    /// 500, logged; the client learns nothing internal.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        Self::api(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::Internal,
            "internal error; the operator's log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message, detail: self.detail } };
        (self.status, Json(body)).into_response()
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let status = match r.kind {
            RefusalKind::Malformed => StatusCode::BAD_REQUEST,
            RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::Conflict => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, r.code, r.message)
    }
}

impl From<EntryError> for ApiError {
    fn from(e: EntryError) -> Self {
        match &e {
            EntryError::Malformed(_) => ApiError::bad_request(ApiCode::Malformed, e.to_string()),
            EntryError::TooLarge(_) => ApiError::api(StatusCode::PAYLOAD_TOO_LARGE, ApiCode::TooLarge, e.to_string()),
            EntryError::FieldTooLong { field, .. } => {
                let mut err = ApiError::bad_request(ApiCode::FieldTooLong, e.to_string());
                err.detail = json!({"field": field});
                err
            }
            EntryError::BadSignature(_) => {
                ApiError::api(StatusCode::UNAUTHORIZED, ApiCode::BadSignature, e.to_string())
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Refused(r) => r.into(),
            SubmitError::Unavailable(m) => ApiError::unavailable(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!("store error: {e}");
        ApiError::unavailable("the store could not be read; the operator's log has the details")
    }
}

impl From<ProofError> for ApiError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::Range(m) => ApiError::bad_request(ApiCode::BadRange, m),
            ProofError::Store(s) => s.into(),
        }
    }
}
