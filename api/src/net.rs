//! The listener: meent's own accept loop over hyper's HTTP/1 connections, with
//! the limits `axum::serve` lacks, so that no client can take the server down
//! by holding connections open.
//!
//! - **Header timeout** (hyper's `header_read_timeout`): a request's head must
//!   arrive within [`ServeConfig::header_timeout`] of the server starting to
//!   wait for it, on a new connection from its accept and on a kept-alive one
//!   from the end of the previous response. Silent connections, headers sent a
//!   byte at a time, and idle kept-alive connections are closed by it.
//! - **Body timeout**: a request's body must arrive whole within
//!   [`ServeConfig::body_timeout`] of its head; else 408 and the connection is
//!   closed (hyper closes a connection whose request body was not read).
//! - **Write timeout**: a response that the client stops reading is given up,
//!   with its connection, after [`ServeConfig::write_timeout`] without a byte
//!   written.
//! - **Connection cap**: at most [`ServeConfig::connections_max`] connections
//!   are served; one more is accepted, answered 503 and closed at once, so
//!   `accept` itself never runs out of file descriptors and the backlog never
//!   fills.
//! - **Rate limits** per client address ([`crate::rate_limit`]), when on.
//!
//! Graceful shutdown: the loop stops accepting, every connection finishes the
//! response it is on and closes, and the loop returns when all have closed
//! (each holds one permit of the cap's semaphore until it ends).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use crate::error::{ApiCode, ApiError};
use crate::rate_limit::{address_key, Limiter, RateLimits};

/// How the server treats its connections. [`Default`] gives the defaults of
/// `ledger::limits`, with the rate limits on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// Most time to receive a request's head, from when the server starts
    /// waiting for it (so also the keep-alive idle limit).
    pub header_timeout: Duration,
    /// Most time to receive a request's whole body, from its head.
    pub body_timeout: Duration,
    /// Most time a response may wait without a byte written to the client.
    pub write_timeout: Duration,
    /// Most connections served at once (at least 1).
    pub connections_max: usize,
    /// Per-address rate limits; `None` turns them off (for benchmarks).
    pub rate_limits: Option<RateLimits>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        use ledger::limits::*;
        ServeConfig {
            header_timeout: Duration::from_secs(HEADER_TIMEOUT_SECONDS),
            body_timeout: Duration::from_secs(BODY_TIMEOUT_SECONDS),
            write_timeout: Duration::from_secs(WRITE_TIMEOUT_SECONDS),
            connections_max: CONNECTIONS_MAX,
            rate_limits: Some(RateLimits::default()),
        }
    }
}

/// The most permits a semaphore is asked for at once.
const PERMITS_MAX: usize = 1 << 24;

/// Serve `app` on `listener` with `config` until `shutdown` resolves, then
/// close every connection gracefully and return.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = config.connections_max.clamp(1, PERMITS_MAX);
    let permits = Arc::new(Semaphore::new(cap));
    let gate = Arc::new(Gate::new(app, &config));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    let (stop_tx, stop_rx) = watch::channel(());
    let refused = AtomicU64::new(0);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse_over_cap(stream, cap, &refused);
            continue;
        };
        let io = TokioIo::new(WriteWatched::new(stream, config.write_timeout));
        let gate = gate.clone();
        let peer = peer.ip();
        let service = hyper::service::service_fn(move |req| {
            let gate = gate.clone();
            async move { Ok::<_, Infallible>(gate.handle(peer, req).await) }
        });
        let conn = http.serve_connection(io, service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!("connection from {peer} closed: {e}");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    // Every connection gives its permit back when it ends.
    let _ = permits.acquire_many(cap as u32).await;
    Ok(())
}

/// An error from `accept`: the connection's own (it went away) is skipped;
/// anything else (out of file descriptors) is logged and the loop pauses a
/// little, so that it does not spin, and goes on.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(e.kind(), ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted) {
        return;
    }
    tracing::warn!("accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// One connection over the cap: answered 503 if its send buffer takes it at
/// once, and closed.
fn refuse_over_cap(stream: TcpStream, cap: usize, refused: &AtomicU64) {
    let n = refused.fetch_add(1, Ordering::Relaxed);
    if n.is_power_of_two() || n == 0 {
        tracing::warn!("{cap} connections open, the most served at once: refused {} connections so far", n + 1);
    }
    const BODY: &str = r#"{"error":{"code":"unavailable","message":"the server has as many connections open as it serves at once; try again shortly","detail":{"reason":"connections"}}}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// What every request passes through before and after the router: the body
/// deadline and the rate limits.
struct Gate {
    app: Router,
    body_timeout: Duration,
    limits: Option<Limits>,
}

struct Limits {
    refused: Limiter,
    apply: Limiter,
}

/// The error a body past its deadline ends with.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl Gate {
    fn new(app: Router, config: &ServeConfig) -> Self {
        let limits = config.rate_limits.map(|r| Limits {
            refused: Limiter::new(r.refused, r.addresses_max),
            apply: Limiter::new(r.apply, r.addresses_max),
        });
        Gate { app, body_timeout: config.body_timeout, limits }
    }

    async fn handle(&self, peer: IpAddr, req: Request<Incoming>) -> Response {
        let key = address_key(peer);
        // `/healthz` is never limited: a monitor shares its address with others.
        let limits = self.limits.as_ref().filter(|_| req.uri().path() != "/healthz");
        if let Some(wait) = limits.and_then(|l| l.refused.wait(key, std::time::Instant::now())) {
            return too_many("refused_requests", "too many refused requests from this address", wait);
        }
        let (parts, body) = req.into_parts();
        let (body, timed_out) = self.with_deadline(body);
        let reads_entry = parts.method == Method::POST && parts.uri.path() == "/v1/entries";
        let body = match limits {
            Some(l) if reads_entry && !declared_oversize(&parts.headers) => {
                self.buffer_and_check_apply(body, l, key).await
            }
            _ => Ok(body),
        };
        let mut response = match body {
            Ok(body) => {
                let mut app = self.app.clone();
                let Ok(r) = app.call(Request::from_parts(parts, body)).await;
                r
            }
            Err(r) => r,
        };
        if timed_out.is_some_and(|t| t.load(Ordering::Relaxed)) {
            response = self.body_timeout_response();
        }
        let status = response.status();
        if let Some(l) = limits {
            if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
                l.refused.charge(key, std::time::Instant::now());
            }
        }
        response
    }

    /// The request body, ending with an error once the body timeout is past,
    /// and the flag set when it did.
    fn with_deadline(&self, body: Incoming) -> (Body, Option<Arc<AtomicBool>>) {
        if body.is_end_stream() {
            return (Body::new(body), None);
        }
        let flag = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + self.body_timeout;
        let body = DeadlineBody { inner: body, sleep: tokio::time::sleep_until(deadline), timed_out: flag.clone() };
        (Body::new(body), Some(flag))
    }

    /// Read a submitted entry's body (at most the request body limit) and
    /// spend one of the address's `member.apply` budget if it is one; the body
    /// again for the router, or the answer.
    async fn buffer_and_check_apply(&self, body: Body, l: &Limits, key: IpAddr) -> Result<Body, Response> {
        let max = ledger::limits::REQUEST_BODY_BYTES_MAX;
        let bytes: Bytes = match http_body_util::Limited::new(body, max).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) if is_timeout(&*e) => return Err(self.body_timeout_response()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(ApiError::api(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ApiCode::TooLarge,
                    format!("request body is above the limit of {max} bytes"),
                )
                .into_response())
            }
            Err(e) => {
                return Err(ApiError::bad_request(ApiCode::BadBody, format!("cannot read the request body: {e}"))
                    .into_response())
            }
        };
        if is_member_apply(&bytes) {
            if let Err(wait) = l.apply.take(key, std::time::Instant::now()) {
                return Err(too_many("member.apply", "too many member.apply submissions from this address", wait));
            }
        }
        Ok(Body::from(bytes))
    }

    fn body_timeout_response(&self) -> Response {
        let secs = self.body_timeout.as_secs_f64();
        let mut r = ApiError::api(
            StatusCode::REQUEST_TIMEOUT,
            ApiCode::RequestTimeout,
            format!("the request body did not arrive whole within {secs} s of its head"),
        )
        .into_response();
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    }
}

/// Whether a body error is (or wraps) the body deadline's.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// A declared `Content-Length` above the request body limit: the router
/// refuses it before reading a byte.
fn declared_oversize(headers: &axum::http::HeaderMap) -> bool {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    declared.is_some_and(|n| n > ledger::limits::REQUEST_BODY_BYTES_MAX as u64)
}

/// Whether `body` is a JSON object whose `kind` is `member.apply` (the entry is
/// not verified here; the router does that).
fn is_member_apply(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct KindOnly<'a> {
        #[serde(borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<KindOnly>(body)
        .ok()
        .and_then(|k| k.kind)
        .is_some_and(|k| k == ledger::entry::Kind::MemberApply.as_str())
}

/// 429 with the error body and `Retry-After` in whole seconds.
fn too_many(limit: &str, what: &str, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut e =
        ApiError::api(StatusCode::TOO_MANY_REQUESTS, ApiCode::RateLimited, format!("{what}; try again in {secs} s"));
    e.detail = json!({"limit": limit, "retry_after_seconds": secs});
    let mut r = e.into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

pin_project_lite::pin_project! {
    /// A request body that ends with [`BodyTimedOut`] once its deadline is past.
    struct DeadlineBody {
        #[pin]
        inner: Incoming,
        #[pin]
        sleep: Sleep,
        timed_out: Arc<AtomicBool>,
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let late = match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(_))) | Poll::Pending if this.sleep.is_elapsed() => true,
            Poll::Ready(r) => return Poll::Ready(r.map(|f| f.map_err(Into::into))),
            Poll::Pending => this.sleep.poll(cx).is_ready(),
        };
        if !late {
            return Poll::Pending;
        }
        this.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream that fails its writes once one has waited the write timeout
/// without a byte going out (the client stopped reading).
struct WriteWatched {
    io: TcpStream,
    timeout: Duration,
    stall: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl WriteWatched {
    fn new(io: TcpStream, timeout: Duration) -> Self {
        WriteWatched { io, timeout, stall: None, armed: false }
    }

    /// The outcome of a write: one that made progress (or failed) stops the
    /// clock; one that waits starts it, and fails once it has run out.
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.armed = false;
            return r;
        }
        let timeout = self.timeout;
        let sleep = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if !self.armed {
            sleep.as_mut().reset(Instant::now() + timeout);
            self.armed = true;
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} s", timeout.as_secs_f64()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteWatched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteWatched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.watch(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_flush(cx);
        this.watch(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_shutdown(cx);
        this.watch(cx, r)
    }
}
