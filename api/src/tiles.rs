//! The log as C2SP tlog-tiles under the prefix `/tiles` (docs/TILES.md):
//! `/tiles/checkpoint`, `/tiles/tile/<L>/<N>[.p/<W>]` and
//! `/tiles/tile/entries/<N>[.p/<W>]`, built by `ledger::tiles` from the
//! store's nodes and records of the published tree.
//!
//! Full tiles never change: `Cache-Control: public, max-age=31536000,
//! immutable`. A partial tile's content never changes either, but it is
//! replaced by its full tile once the tree fills it, and the checkpoint
//! changes with every group: both are cached briefly.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ledger::tiles::{TileError, TileId};

use crate::error::{ApiCode, ApiError};
use crate::AppState;

/// Full tiles and bundles: cache for a year, never revalidate.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Partial tiles and bundles.
pub const PARTIAL: &str = "public, max-age=60";
/// The checkpoint (tlog-tiles: "SHOULD prevent caching beyond a few seconds").
pub const CHECKPOINT: &str = "public, max-age=2";

/// The latest checkpoint, the same signed note as `/v1/checkpoint`.
#[utoipa::path(
    get,
    path = "/tiles/checkpoint",
    operation_id = "tiles_checkpoint",
    tag = "log",
    description = "The checkpoint of the log served as C2SP tlog-tiles under the prefix `/tiles` \
        (the same signed note as `/v1/checkpoint`). The tiles themselves are at \
        `/tiles/tile/<L>/<N>[.p/<W>]` and the entry bundles at `/tiles/tile/entries/<N>[.p/<W>]`, \
        where `<N>` spans several path segments (`x001/x234/067`), which OpenAPI cannot describe: \
        see docs/TILES.md.",
    responses(
        (status = 200, description = "The signed note (origin, size, root hash, signature), then the cosignatures of the witnesses gathered so far for it.", body = String, content_type = "text/plain"),
        (status = 400, description = "An unknown parameter.", body = ledger::views::ErrorBody),
    )
)]
pub async fn checkpoint(State(s): State<AppState>) -> Response {
    let note = s.cosigned.attach(&s.log.checkpoint().0);
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, CHECKPOINT)], note).into_response()
}

/// A hash tile or an entry bundle of the published tree.
pub async fn tile(State(s): State<AppState>, Path(rest): Path<String>) -> Result<Response, ApiError> {
    let tile =
        TileId::parse(&format!("tile/{rest}")).map_err(|e| ApiError::not_found(ApiCode::NoSuchRoute, e.to_string()))?;
    let log = s.log.clone();
    let built = tokio::task::spawn_blocking(move || log.tiles().read(tile))
        .await
        .map_err(|e| ApiError::internal(format!("building a tile: {e}")))?;
    let bytes = built.map_err(|e| match e {
        TileError::NotInTree { .. } => ApiError::not_found(ApiCode::NoSuchRoute, e.to_string()),
        TileError::Store(s) => s.into(),
        TileError::EntryTooLong { .. } => ApiError::internal(e),
    })?;
    let cache = if tile.is_full() { IMMUTABLE } else { PARTIAL };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], bytes).into_response())
}
