//! # api — meent's HTTP API
//!
//! An axum server over the `ledger` library (SPEC §5). Handlers are thin: parse,
//! call one ledger function, render. [`router`] builds the routes over an
//! [`AppState`] so tests can drive it without a socket; [`serve`] runs it.
#![deny(missing_docs)]

mod assets;
pub mod downloads;
pub mod error;
mod extract;
pub mod funds;
mod handlers;
pub mod headers;
pub mod net;
pub mod openapi;
pub mod rate_limit;
pub mod tiles;
pub mod witness;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use ledger::ingest::{Clock, Ingest};
use ledger::log::Log;
use tokio::net::TcpListener;

pub use error::ApiError;
pub use net::ServeConfig;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The log.
    pub log: Arc<Log>,
    /// The group-commit writer.
    pub ingest: Ingest,
    /// The server's clock.
    pub clock: Clock,
    /// The witnesses' cosignatures of the latest checkpoint, added to the
    /// served checkpoint as they arrive (`meent serve --witness`).
    pub cosigned: Arc<ledger::witness::Cosigned>,
}

impl AppState {
    /// Start the writer over `log` with the system clock.
    pub fn new(log: Arc<Log>) -> Self {
        let clock: Clock = Arc::new(chrono::Utc::now);
        Self::with_clock(log, clock)
    }
    /// Start the writer over `log` with the given clock (tests).
    pub fn with_clock(log: Arc<Log>, clock: Clock) -> Self {
        let ingest = Ingest::start(log.clone(), clock.clone());
        AppState { log, ingest, clock, cosigned: Arc::default() }
    }
}

/// All routes of SPEC §5 and the public pages of the `site` crate, with the
/// response headers of [`headers`] (CORS, caching, the pages' security policy,
/// the error body for every refusal).
pub fn router(state: AppState) -> Router {
    headers::around(routes(state))
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/openapi.json", get(handlers::openapi))
        .route("/healthz", get(handlers::healthz))
        .route("/v1/entries", post(handlers::submit).get(handlers::list_entries))
        .route("/v1/entries/{seq}", get(handlers::entry_by_seq))
        .route("/v1/entries/id/{id}", get(handlers::entry_by_id))
        .route("/v1/checkpoint", get(handlers::checkpoint))
        .route("/v1/proofs/inclusion", get(handlers::inclusion))
        .route("/v1/proofs/consistency", get(handlers::consistency))
        .route("/v1/members", get(handlers::members))
        .route("/v1/members/{id}", get(handlers::member))
        .route("/v1/funds", get(funds::funds))
        .route("/v1/funds/{id}", get(funds::fund))
        .route("/v1/funds/{id}/flows", get(funds::flows))
        .route("/v1/funds/{id}/statement", get(funds::statement))
        .route("/v1/proposals", get(funds::proposals))
        .route("/v1/proposals/{id}", get(funds::proposal))
        .route("/v1/rounds", get(funds::rounds))
        .route("/v1/rounds/{id}", get(funds::round))
        // Downloads and the favicon (downloads.rs, assets.rs).
        .route("/v1/funds/{id}/export", get(downloads::fund_export))
        .route("/v1/rounds/{id}/pabulib", get(downloads::round_pabulib))
        .route("/favicon.svg", get(assets::favicon_svg))
        .route("/favicon.ico", get(assets::favicon_ico))
        // The public pages (`/`, `/nl/…`, `/en/…`, `/site/…`): docs/SITE.md.
        .merge(site::router(state.log.clone(), state.clock.clone(), state.cosigned.clone()))
        // The log as C2SP tlog-tiles (docs/TILES.md).
        .route("/tiles/checkpoint", get(tiles::checkpoint))
        .route("/tiles/tile/{*path}", get(tiles::tile))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(ledger::limits::REQUEST_BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn_with_state(state.clone(), handlers::guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(handlers::panic_response))
        .with_state(state)
}

/// Serve the API on `listener` until `shutdown` resolves, with the default
/// [`ServeConfig`] (see [`serve_with`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServeConfig::default(), shutdown).await
}

/// Serve the API on `listener` with `config`'s timeouts, connection cap and
/// rate limits ([`net`]) until `shutdown` resolves; then stop accepting, let
/// each connection finish its response, and return once all are closed. While
/// it serves, a background task submits the `proposal.close` of every proposal
/// and the `round.close` of every budgeting round whose close is due
/// ([`funds::closer`]).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closer = tokio::spawn(funds::closer(state.clone()));
    let served = net::run(listener, router(state), config, shutdown).await;
    closer.abort();
    served
}
