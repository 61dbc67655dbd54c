//! The response headers every client relies on (`api::headers`): every refusal
//! is the JSON error body, also those the framework writes itself (issue 20:
//! a 413 on a chunked body, a 400 on a bad path); CORS; `ETag` and
//! `If-None-Match`; `Cache-Control`; the pages' Content-Security-Policy; the
//! favicon. Through the router with `oneshot`, and over raw TCP where only
//! the wire shows it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::log::Log;
use ledger::time::Timestamp;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

struct Env {
    state: api::AppState,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    /// Asserts the SPEC §5 error body with `status` and `code`, as `application/json`.
    fn assert_error(&self, status: StatusCode, code: &str) -> Value {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{body}");
        assert_eq!(self.header(header::CONTENT_TYPE), "application/json", "{body}");
        let v: Value = serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert!(v["error"]["detail"].is_object(), "{v}");
        assert_eq!(self.header(header::CACHE_CONTROL), "no-store", "an error is not cached");
        v
    }
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let registrar = crypto::generate_key();
        let reg = Registrar { id: "registrar".parse().unwrap(), key: PublicKey::from(registrar.verifying_key()) };
        let log = Log::create(&dir.path().join("data"), "meent.test/headers", vec![reg], chrono::Utc::now()).unwrap();
        Env { state: api::AppState::new(Arc::new(log)), _dir: dir }
    }

    async fn call(&self, req: Request<Body>) -> Answer {
        let resp = api::router(self.state.clone()).oneshot(req).await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap().to_vec();
        Answer { status, headers, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Request::get(path).body(Body::empty()).unwrap()).await
    }

    async fn get_with(&self, path: &str, name: header::HeaderName, value: &str) -> Answer {
        self.call(Request::get(path).header(name, value).body(Body::empty()).unwrap()).await
    }

    /// A collective applies (one more record).
    async fn apply(&self, id: &str) {
        let key = crypto::generate_key();
        let body = json!({"id": id, "name": id, "member_kind": "collective", "legal_form": "cooperatie"});
        let at = Timestamp::from_instant(chrono::Utc::now());
        let e = sign_entry(Kind::MemberApply, &id.parse().unwrap(), &key, &at, body).unwrap();
        let req = Request::post("/v1/entries").body(Body::from(serde_json::to_vec(&e.json).unwrap())).unwrap();
        let a = self.call(req).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&a.body));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn framework_refusals_are_the_json_error_body() {
    let env = Env::new();
    // A path parameter that is not UTF-8 once decoded.
    env.get("/v1/entries/%FF").await.assert_error(StatusCode::BAD_REQUEST, "bad_seq");
    env.get("/v1/funds/%FF").await.assert_error(StatusCode::BAD_REQUEST, "bad_id");
    env.get("/v1/funds/%FF/export?format=csv").await.assert_error(StatusCode::BAD_REQUEST, "bad_id");
    env.get("/v1/entries/abc").await.assert_error(StatusCode::BAD_REQUEST, "bad_seq");
    // A body above the limit without a Content-Length (a stream, as a chunked body arrives).
    let max = ledger::limits::REQUEST_BODY_BYTES_MAX;
    let req = Request::post("/v1/entries").body(Body::from(vec![b' '; max + 1])).unwrap();
    env.call(req).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    // A method the route does not take, a query that does not deserialise, no route.
    let req = Request::builder().method(Method::DELETE).uri("/v1/checkpoint").body(Body::empty()).unwrap();
    env.call(req).await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let req = Request::builder().method(Method::PUT).uri("/v1/entries").body(Body::empty()).unwrap();
    env.call(req).await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    env.get("/v1/entries?limit=abc").await.assert_error(StatusCode::BAD_REQUEST, "bad_query");
    env.get("/v1/entries?from=-1").await.assert_error(StatusCode::BAD_REQUEST, "bad_query");
    env.get("/v1/funds/some-fund/export?format=xlsx").await.assert_error(StatusCode::BAD_REQUEST, "bad_query");
    env.get("/v1/nothing").await.assert_error(StatusCode::NOT_FOUND, "no_such_route");
}

/// One raw HTTP/1.1 exchange: `head`, then `body` written in pieces while the
/// answer is read (a server may answer before it has read it all).
async fn exchange(addr: std::net::SocketAddr, head: String, body: Vec<u8>) -> (u16, String, String) {
    let request = head.lines().next().unwrap_or_default().to_string();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for piece in body.chunks(16_384) {
            if wr.write_all(piece).await.is_err() {
                return;
            }
        }
        // Keep the write half open: a client's FIN before the answer closes the connection.
        std::future::pending::<()>().await;
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 16_384];
    let mut ended = String::new();
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(20), rd.read(&mut buf)).await {
            Ok(Ok(0)) => break ended.push_str("closed"),
            Ok(Err(e)) => break ended.push_str(&e.to_string()),
            Err(_) => break ended.push_str("timed out"),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok());
            if len.is_some_and(|len| got.len() >= end + 4 + len) {
                break;
            }
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&got).to_string();
    let (head, body) =
        text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{request}: no answer ({ended}): {text:?}"));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_wire_a_chunked_body_too_large_and_a_bad_path_are_json() {
    for rate_limits in [None, Some(api::rate_limit::RateLimits::default())] {
        let env = Env::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = api::ServeConfig { rate_limits, ..api::ServeConfig::default() };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(api::serve_with(listener, env.state.clone(), config, async {
            let _ = stopped.await;
        }));
        let max = ledger::limits::REQUEST_BODY_BYTES_MAX;
        // One byte over the limit, in chunks: the server reads it all before it
        // refuses, so its close does not reset the connection under the answer.
        let mut body = Vec::new();
        let mut left = max + 1;
        while left > 0 {
            let n = left.min(65_536);
            body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            body.extend_from_slice(&vec![b' '; n]);
            body.extend_from_slice(b"\r\n");
            left -= n;
        }
        body.extend_from_slice(b"0\r\n\r\n");
        let head = format!(
            "POST /v1/entries HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let (status, content_type, text) = exchange(addr, head, body).await;
        assert_eq!((status, content_type.as_str()), (413, "application/json"), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["error"]["code"], "too_large", "{text}");
        for (path, code) in [("/v1/entries/%FF", "bad_seq"), ("/v1/members/%C3%28", "bad_id")] {
            let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let (status, content_type, text) = exchange(addr, head, Vec::new()).await;
            assert_eq!((status, content_type.as_str()), (400, "application/json"), "{path}: {text}");
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["error"]["code"], code, "{text}");
        }
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_open_to_every_origin() {
    let env = Env::new();
    let a = env.get_with("/v1/checkpoint", header::ORIGIN, "https://example.org").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert!(a.header(header::ACCESS_CONTROL_EXPOSE_HEADERS).contains("etag"), "{:?}", a.headers);
    // Errors too, so that a page elsewhere can read why.
    let a = env.get_with("/v1/funds/nope", header::ORIGIN, "https://example.org").await;
    assert_eq!((a.status, a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN)), (StatusCode::NOT_FOUND, "*"));
    for (path, method) in [("/v1/funds", "GET"), ("/openapi.json", "GET"), ("/v1/entries", "POST")] {
        let req = Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header(header::ORIGIN, "https://example.org")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap();
        let a = env.call(req).await;
        assert!(a.status.is_success(), "preflight {method} {path}: {}", a.status);
        assert_eq!(a.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
        assert!(a.header(header::ACCESS_CONTROL_ALLOW_METHODS).contains(method), "{:?}", a.headers);
        assert!(a.header(header::ACCESS_CONTROL_ALLOW_HEADERS).contains("content-type"), "{:?}", a.headers);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn etags_answer_304_and_cache_control_says_what_never_changes() {
    let env = Env::new();
    let first = env.get("/v1/checkpoint").await;
    let etag = first.header(header::ETAG).to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "a strong ETag: {etag:?}");
    assert_eq!(first.header(header::CACHE_CONTROL), "no-cache");
    let again = env.get_with("/v1/checkpoint", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!((again.header(header::ETAG), again.header(header::CACHE_CONTROL)), (etag.as_str(), "no-cache"));
    let listed = env.get_with("/v1/checkpoint", header::IF_NONE_MATCH, &format!("\"x\", W/{etag}")).await;
    assert_eq!(listed.status, StatusCode::NOT_MODIFIED, "a weak tag in a list compares weakly");
    // The log grows: the checkpoint changes, and so does its tag.
    env.apply("coop-one").await;
    let grown = env.get_with("/v1/checkpoint", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(grown.status, StatusCode::OK);
    assert_ne!(grown.header(header::ETAG), etag);
    assert_ne!(grown.body, first.body);
    // A record and a proof with its sizes given never change; a proof to the current size does.
    let record = env.get("/v1/entries/0").await;
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(record.header(header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    let id: Value = serde_json::from_slice(&record.body).unwrap();
    let by_id = env.get(&format!("/v1/entries/id/{}", id["id"].as_str().unwrap())).await;
    assert_eq!(by_id.header(header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(by_id.header(header::ETAG), record.header(header::ETAG), "the same record, the same tag");
    assert_eq!(
        env.get("/v1/proofs/inclusion?seq=0&size=1").await.header(header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(env.get("/v1/proofs/inclusion?seq=0").await.header(header::CACHE_CONTROL), "no-cache");
    assert_eq!(
        env.get("/v1/proofs/consistency?from=1&to=1").await.header(header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(env.get("/v1/members").await.header(header::CACHE_CONTROL), "no-cache");
    // Not yet there: an error, never stored.
    env.get("/v1/entries/99").await.assert_error(StatusCode::NOT_FOUND, "unknown_entry");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_get_a_strict_content_security_policy_and_the_favicon_is_served() {
    let env = Env::new();
    let page = env.get("/nl/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(page.header(header::CONTENT_SECURITY_POLICY), api::headers::CONTENT_SECURITY_POLICY);
    assert!(api::headers::CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    assert!(api::headers::CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    assert_eq!(page.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(page.header(header::REFERRER_POLICY), "no-referrer");
    // The policy allows no inline code: the page's own must be files of this origin.
    let html = String::from_utf8(page.body).unwrap();
    assert!(!html.contains("<style") && !html.contains(" style="), "inline style");
    for script in html.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains("src=\"/"), "inline script: <script{tag}>");
    }
    assert!(html.contains("href=\"/favicon.svg\""));
    for path in ["/site/verify.js", "/site/site.css"] {
        let a = env.get(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(html.contains(path), "{path}");
    }
    // JSON reads get no page policy.
    assert_eq!(env.get("/v1/checkpoint").await.header(header::CONTENT_SECURITY_POLICY), "");
    for path in ["/favicon.svg", "/favicon.ico"] {
        let icon = env.get(path).await;
        assert_eq!((icon.status, icon.header(header::CONTENT_TYPE)), (StatusCode::OK, "image/svg+xml"), "{path}");
        assert!(icon.body.starts_with(b"<svg "), "{path}");
        assert_eq!(icon.header(header::CACHE_CONTROL), "public, max-age=86400");
    }
}
