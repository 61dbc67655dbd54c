//! The routes: `/` (a redirect by `Accept-Language`), the pages under `/nl/…`
//! and `/en/…`, and `/site/site.css` and `/site/verify.js`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ledger::ingest::Clock;
use ledger::log::Log;
use ledger::witness::Cosigned;

use crate::i18n::Tr;
use crate::pages::{self, Ctx, PageError};
use crate::Lang;

const CSS: &str = include_str!("../assets/site.css");
const VERIFY_JS: &str = include_str!("../assets/verify.js");

#[derive(Clone)]
struct Site {
    log: Arc<Log>,
    clock: Clock,
    cosigned: Arc<Cosigned>,
}

/// The site's routes over `log`, with `clock` for what depends on the time
/// (whether a vote is still open, a round's phase) and the witnesses'
/// `cosigned` (named on every page, listed on the overview). The result
/// merges into any router (`Router::merge`), whatever its state.
pub fn router<S: Clone + Send + Sync + 'static>(log: Arc<Log>, clock: Clock, cosigned: Arc<Cosigned>) -> Router<S> {
    let mut r =
        Router::new().route("/", get(root)).route("/site/site.css", get(css)).route("/site/verify.js", get(verify_js));
    for lang in Lang::ALL {
        let code = lang.code();
        r = r
            .route(&format!("/{code}"), get(move |s, q, h| page(s, q, h, lang, Kind::Overview, String::new())))
            .route(&format!("/{code}/"), get(move |s, q, h| page(s, q, h, lang, Kind::Overview, String::new())))
            .route(&format!("/{code}/log"), get(move |s, q, h| page(s, q, h, lang, Kind::Log, String::new())))
            .route(
                &format!("/{code}/{{*rest}}"),
                get(move |s, q, h, Path(rest): Path<String>| page(s, q, h, lang, Kind::Unknown, rest)),
            );
        for (segment, kind) in [
            ("funds", Kind::Fund),
            ("proposals", Kind::Proposal),
            ("rounds", Kind::Round),
            ("members", Kind::Member),
            ("entries", Kind::Entry),
        ] {
            r = r.route(
                &format!("/{code}/{segment}/{{id}}"),
                get(move |s, q, h, Path(id): Path<String>| page(s, q, h, lang, kind, id)),
            );
        }
    }
    r.with_state(Site { log, clock, cosigned })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Overview,
    Log,
    Fund,
    Proposal,
    Round,
    Member,
    Entry,
    Unknown,
}

fn html(status: StatusCode, body: String, lang: Lang) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    r
}

/// `/`: to `/nl/` or `/en/` by `Accept-Language` (Dutch unless English is preferred).
/// It takes no query parameters (a 400 page, like every page).
async fn root(State(site): State<Site>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = Lang::from_accept_language(accept);
    if let Err(e) = parameters(Tr::new(lang), query.as_deref(), &[]) {
        let ctx = Ctx::new(lang, "/", (site.clock)());
        return html(StatusCode::BAD_REQUEST, pages::error_page(&ctx, site.log.origin(), &e), lang);
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    let to = if lang == Lang::En { "/en/" } else { "/nl/" };
    r.headers_mut().insert(header::LOCATION, HeaderValue::from_static(to));
    r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    r
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn verify_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], VERIFY_JS).into_response()
}

/// The query's parameters, each at most once and each one the page takes.
fn parameters(tr: Tr, query: Option<&str>, allowed: &[&str]) -> Result<BTreeMap<String, String>, PageError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|_| PageError::BadRequest(tr.t("bad-query")))?;
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if !allowed.contains(&k.as_str()) {
            let takes = if allowed.is_empty() { tr.t("takes-nothing") } else { allowed.join(", ") };
            return Err(PageError::BadRequest(tr.ta("bad-parameter", &[("name", k), ("takes", takes)])));
        }
        if out.insert(k.clone(), v).is_some() {
            return Err(PageError::BadRequest(tr.t1("twice-parameter", "name", &k)));
        }
    }
    Ok(out)
}

fn render(site: &Site, ctx: &Ctx, kind: Kind, id: &str, query: Option<&str>) -> Result<String, PageError> {
    let tr = Tr::new(ctx.lang);
    let allowed: &[&str] = match kind {
        Kind::Log => &["from"],
        Kind::Fund => &["in_before", "out_before"],
        _ => &[],
    };
    let params = parameters(tr, query, allowed)?;
    if let Some(f) = site.log.failure() {
        if !matches!(kind, Kind::Entry | Kind::Log) {
            return Err(PageError::Unavailable(tr.t1("failed-ledger", "reason", &f)));
        }
    }
    match kind {
        Kind::Overview => pages::overview(&site.log, ctx),
        Kind::Log => {
            let from = match params.get("from") {
                Some(s) => Some(s.parse::<u64>().map_err(|_| PageError::BadRequest(tr.t1("bad-from", "from", s)))?),
                None => None,
            };
            pages::log(&site.log, ctx, from)
        }
        Kind::Fund => {
            let before = |name: &str| -> Result<Option<u64>, PageError> {
                params
                    .get(name)
                    .map(|s| s.parse::<u64>().map_err(|_| PageError::BadRequest(tr.t1("bad-before", "value", s))))
                    .transpose()
            };
            let trail = pages::Trail { in_before: before("in_before")?, out_before: before("out_before")? };
            pages::fund_page(&site.log.state(), ctx, id, trail)
        }
        Kind::Proposal => pages::proposal(&site.log.state(), ctx, id),
        Kind::Round => pages::round(&site.log.state(), ctx, id),
        Kind::Member => pages::member(&site.log.state(), ctx, id),
        Kind::Entry => pages::entry(&site.log, ctx, id),
        Kind::Unknown => {
            Err(PageError::NotFound(tr.t1("not-found-page", "path", &format!("/{}/{id}", ctx.lang.code()))))
        }
    }
}

async fn page(
    State(site): State<Site>,
    RawQuery(query): RawQuery,
    _headers: HeaderMap,
    lang: Lang,
    kind: Kind,
    id: String,
) -> Response {
    let path = match kind {
        Kind::Overview => "/".to_string(),
        Kind::Log => "/log".to_string(),
        Kind::Fund => format!("/funds/{id}"),
        Kind::Proposal => format!("/proposals/{id}"),
        Kind::Round => format!("/rounds/{id}"),
        Kind::Member => format!("/members/{id}"),
        Kind::Entry => format!("/entries/{id}"),
        Kind::Unknown => format!("/{id}"),
    };
    let mut ctx = Ctx::new(lang, &path, (site.clock)());
    ctx.cosigned = site.cosigned.clone();
    if let Some(q) = &query {
        if !q.is_empty() {
            ctx.query = format!("?{q}");
        }
    }
    let done = tokio::task::spawn_blocking(move || {
        let out = render(&site, &ctx, kind, &id, query.as_deref());
        match out {
            Ok(body) => (StatusCode::OK, body),
            Err(e) => {
                let status = match &e {
                    PageError::NotFound(_) => StatusCode::NOT_FOUND,
                    PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
                    PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    PageError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let origin = site.log.origin().to_string();
                (status, pages::error_page(&ctx, &origin, &e))
            }
        }
    })
    .await;
    let (status, body) = match done {
        Ok(x) => x,
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("rendering stopped: {e}")),
    };
    html(status, body, lang)
}
