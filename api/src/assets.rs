//! The site's static files: the audit page's style sheet and script (kept out
//! of the page, so that its Content-Security-Policy allows no inline code) and
//! the favicon (`assets/favicon.svg`, also at `/favicon.ico` for browsers that
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

/// The audit page's style sheet.
#[utoipa::path(
    get,
    path = "/audit.css",
    tag = "site",
    responses(
        (status = 200, description = "The style sheet.", body = String, content_type = "text/css"),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn audit_css() -> Response {
    file("text/css; charset=utf-8", include_str!("../assets/audit.css"))
}

/// The audit page's script (an ES module).
#[utoipa::path(
    get,
    path = "/audit.js",
    tag = "site",
    responses(
        (status = 200, description = "The script.", body = String, content_type = "text/javascript"),
        (status = 400, description = "An unknown parameter.", body = ErrorBody),
    )
)]
pub async fn audit_js() -> Response {
    file("text/javascript; charset=utf-8", include_str!("../assets/audit.js"))
}
