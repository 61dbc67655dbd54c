//! The favicon (`assets/favicon.svg`, also at `/favicon.ico` for browsers that
//! ask there without reading the page's `<link rel="icon">`).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use ledger::views::ErrorBody;

const FAVICON: &str = include_str!("../assets/favicon.svg");

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The favicon, an SVG.
#[utoipa::path(
    get,
    path = "/favicon.svg",
    tag = "site",
    responses(
        (status = 200, description = "The icon.", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn favicon_svg() -> Response {
    file("image/svg+xml", FAVICON)
}

/// The favicon where browsers look for it by default (the same SVG).
#[utoipa::path(
    get,
    path = "/favicon.ico",
    tag = "site",
    responses(
        (status = 200, description = "The icon, an SVG.", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn favicon_ico() -> Response {
    file("image/svg+xml", FAVICON)
}
