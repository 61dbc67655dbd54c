//! Extractors whose refusals are the API's error body (axum's own answer
//! `text/plain`): a path parameter and a submitted entry's body.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;

use crate::error::{ApiCode, ApiError};

/// The one path parameter of a route, percent-decoded. A parameter that does
/// not decode to UTF-8 (`/v1/entries/%FF`) is a 400 `bad_seq` on a record
/// position and `bad_id` elsewhere.
pub struct Param(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Param {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(p)) => Ok(Param(p)),
            Err(e) => {
                let seq = parts.extensions.get::<MatchedPath>().is_some_and(|p| p.as_str().ends_with("{seq}"));
                let (code, what) = if seq { (ApiCode::BadSeq, "a record position") } else { (ApiCode::BadId, "an id") };
                Err(ApiError::bad_request(code, format!("the path does not hold {what}: {}", e.body_text())))
            }
        }
    }
}

/// A request body read whole, at most the body limit (`DefaultBodyLimit`): a
/// longer one (also without a `Content-Length`, chunked) is a 413
/// `too_large`, one that breaks off a 400 `bad_body`.
pub struct WholeBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for WholeBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(WholeBody(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::api(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiCode::TooLarge,
                format!("request body is above the limit of {} bytes", ledger::limits::REQUEST_BODY_BYTES_MAX),
            )),
            Err(e) => {
                Err(ApiError::bad_request(ApiCode::BadBody, format!("cannot read the request body: {}", e.body_text())))
            }
        }
    }
}
