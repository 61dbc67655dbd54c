//! One error type for every response that is not a success, with SPEC §5's body:
//! `{"error": {"code", "message", "detail"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::entry::EntryError;
use ledger::error::{Refusal, RefusalKind};
use ledger::log::{ProofError, SubmitError};
use ledger::store::StoreError;
use serde_json::{json, Value};

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
    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 503 `unavailable`, the one code for every 503: the ledger failed (a
    /// failed write or flush, an internal panic) and refuses writes and
    /// derived reads until a restart, the store could not be read, or the
    /// writer's queue is full.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
    /// 500, logged; the client learns nothing internal.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; the operator's log has the details")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "detail": self.detail}});
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
            EntryError::Malformed(_) => ApiError::bad_request("malformed", e.to_string()),
            EntryError::TooLarge(_) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string()),
            EntryError::FieldTooLong { field, .. } => {
                let mut err = ApiError::bad_request("field_too_long", e.to_string());
                err.detail = json!({"field": field});
                err
            }
            EntryError::BadSignature(_) => ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()),
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
            ProofError::Range(m) => ApiError::bad_request("bad_range", m),
            ProofError::Store(s) => s.into(),
        }
    }
}
