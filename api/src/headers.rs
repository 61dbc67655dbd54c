//! What every response carries, as one layer around the router ([`around`]);
//! docs/API-DOWNLOADS.md explains the choices.
//!
//! - **CORS**: reads are public, so every response says
//!   `Access-Control-Allow-Origin: *`, and a preflight (`OPTIONS` with
//!   `Access-Control-Request-Method`) to a route is answered 204 for `GET`,
//!   `HEAD` and `POST`.
//!   `POST /v1/entries` is open to other origins too: an entry authenticates
//!   itself by its signature, the server has no cookies or sessions, so a page
//!   elsewhere can submit only what a key holder signed.
//! - **Errors are the error body**: a refusal the framework writes itself
//!   (`text/plain`) becomes SPEC §5's `{"error": {"code", "message",
//!   "detail"}}`, with its status and its message kept (a page's own error
//!   page, in HTML, stays a page).
//! - **Caching**: a `GET` answered 200 gets a strong `ETag` (a hash of its
//!   body), and `If-None-Match` naming it gets a 304 without the body.
//!   `Cache-Control`: records (by position or id) and proofs whose sizes are
//!   all given never change (`public, max-age=31536000, immutable`);
//!   everything else is `no-cache` (stored, revalidated with the `ETag` before
//!   each use, as the log grows) unless its handler chose (the tiles); an
//!   error is `no-store`.
//! - **Pages**: a `text/html` response gets a strict Content-Security-Policy
//!   (no inline script or style, nothing from elsewhere, no framing); every
//!   response gets `X-Content-Type-Options: nosniff` and
//!   `Referrer-Policy: no-referrer`.

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};

use crate::error::{ApiCode, ApiError};

/// The Content-Security-Policy of every HTML page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `Cache-Control` of what never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of a read that changes as the log grows.
pub const REVALIDATE: &str = "no-cache";

/// `Cache-Control` of an error.
pub const NO_STORE: &str = "no-store";

/// `Cache-Control` of the favicon.
const A_DAY: &str = "public, max-age=86400";

/// The most bytes of a framework refusal's text kept as the message.
const REFUSAL_TEXT_MAX: usize = 4096;

/// `router` with the layer of this module around it.
pub fn around(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(finish))
}

/// The methods a preflight allows.
const CORS_METHODS: &str = "GET, HEAD, POST";
/// The request headers a preflight allows.
const CORS_HEADERS: &str = "content-type, if-none-match";
/// The response headers a page elsewhere may read (besides the simple ones).
const CORS_EXPOSED: &str = "etag, content-disposition, retry-after";

/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) to a
/// route that exists: 204 with what it allows. (Any other `OPTIONS` is
/// routed, and refused 405 like every method a route does not take.)
fn preflight(req: &Request) -> Option<Response> {
    let asks = req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if req.method() != Method::OPTIONS || !asks {
        return None;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(CORS_METHODS));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(CORS_HEADERS));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    Some(r)
}

/// How long a 200 to `GET path?query` may be kept (`path` as routed).
pub fn cache_control(path: Option<&str>, query: Option<&str>) -> &'static str {
    let given = |name: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
            .is_ok_and(|pairs| pairs.iter().any(|(n, _)| n == name))
    };
    match path {
        Some("/v1/entries/{seq}" | "/v1/entries/id/{id}") => IMMUTABLE,
        Some("/v1/proofs/inclusion") if given("size") => IMMUTABLE,
        Some("/v1/proofs/consistency") if given("to") => IMMUTABLE,
        Some("/favicon.svg" | "/favicon.ico") => A_DAY,
        _ => REVALIDATE,
    }
}

async fn finish(path: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let cache = cache_control(path.as_ref().map(MatchedPath::as_str), req.uri().query());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = match path.as_ref().and_then(|_| preflight(&req)) {
        Some(r) => r,
        None => next.run(req).await,
    };
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        response = error_body(response).await;
    }
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(CORS_EXPOSED));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if is_html(headers) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    if status.is_client_error() || status.is_server_error() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        return response;
    }
    if status != StatusCode::OK || !(method == Method::GET || method == Method::HEAD) {
        return response;
    }
    // A handler that chose its own caching (the tiles) keeps it.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    // A HEAD's body is empty here (axum strips it): it gets no `ETag`.
    if method == Method::GET {
        response = with_etag(response, if_none_match.as_ref()).await;
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"))
}

/// The strong `ETag` of a body: the first 128 bits of its SHA-256, in hex.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Whether an `If-None-Match` value names `etag` (or is `*`); weak tags compare
/// by their opaque part, as RFC 9110 §13.1.2 asks.
fn matches(if_none_match: &HeaderValue, etag: &str) -> bool {
    let Ok(v) = if_none_match.to_str() else { return false };
    v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

async fn with_etag(response: Response, if_none_match: Option<&HeaderValue>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("a response body could not be read: {e}")).into_response(),
    };
    let etag = etag_of(&bytes);
    let Ok(value) = HeaderValue::from_str(&etag) else { return Response::from_parts(parts, Body::from(bytes)) };
    if if_none_match.is_some_and(|v| matches(v, &etag)) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::CACHE_CONTROL, header::X_CONTENT_TYPE_OPTIONS, header::REFERRER_POLICY] {
            if let Some(v) = parts.headers.get(&name) {
                r.headers_mut().insert(name, v.clone());
            }
        }
        r.headers_mut().insert(header::ETAG, value);
        return r;
    }
    parts.headers.insert(header::ETAG, value);
    Response::from_parts(parts, Body::from(bytes))
}

/// The error body for a refusal the framework wrote as text (an error already
/// in JSON, and a page's own error page in HTML, are left as they are); its
/// other headers (`Allow`, `Retry-After`) stay.
async fn error_body(response: Response) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if json || is_html(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let text = match to_bytes(body, REFUSAL_TEXT_MAX).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("refused").to_string() } else { text };
    let code = match status {
        StatusCode::NOT_FOUND => ApiCode::NoSuchRoute,
        StatusCode::METHOD_NOT_ALLOWED => ApiCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ApiCode::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ApiCode::TooLarge,
        StatusCode::TOO_MANY_REQUESTS => ApiCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ApiCode::Unavailable,
        s if s.is_server_error() => ApiCode::Internal,
        _ => ApiCode::BadRequest,
    };
    let mut r = ApiError::api(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            r.headers_mut().append(name.clone(), value.clone());
        }
    }
    r
}
