//! The OpenAPI 3.1 document of the API, generated (utoipa) from the handlers'
//! `#[utoipa::path]` annotations and the schemas of `ledger::views`. The server
//! serves it at `/openapi.json`; `api/assets/openapi.json` is a checked-in copy
//! for reviewers, kept equal by the test `openapi_document` in
//! `api/tests/views_api.rs` (`UPDATE_OPENAPI=1 cargo test -p api --test
//! views_api` rewrites it). The query parameters each operation takes are read
//! from this document by [`query_parameters`], which the server uses to refuse
//! unknown ones, so the document and the server cannot disagree on them.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;

use crate::{assets, downloads, funds, handlers};

/// The document's root.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "meent",
        description = "A solidarity fund pooling ledger (SPEC §5). Reads are public; writes are signed entries. \
            Lists are in log order and paged: `from` is a log position, `next` the `from` of the next page or null. \
            Unknown query parameters are refused (400 `unknown_parameter`). Errors are \
            `{\"error\": {\"code\", \"message\", \"detail\"}}`. \
            Every response allows any origin (CORS); a 200 to a GET has a strong `ETag`, and `If-None-Match` \
            naming it is answered 304 (docs/API-DOWNLOADS.md).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    paths(
        handlers::openapi,
        healthz,
        handlers::submit,
        handlers::list_entries,
        handlers::entry_by_seq,
        handlers::entry_by_id,
        handlers::checkpoint,
        handlers::inclusion,
        handlers::consistency,
        handlers::members,
        handlers::member,
        funds::funds,
        funds::fund,
        funds::flows,
        funds::statement,
        funds::proposals,
        funds::proposal,
        funds::rounds,
        funds::round,
        downloads::fund_export,
        downloads::round_pabulib,
        assets::favicon_svg,
        assets::favicon_ico,
        crate::tiles::checkpoint,
    ),
    // A query parameter's enum is not collected from the paths.
    components(schemas(downloads::ExportFormat, downloads::StatementFormat)),
    tags(
        (name = "log", description = "The verifiable log: entries, records, checkpoints, proofs."),
        (name = "register", description = "The members."),
        (name = "funds", description = "Funds, their flows, proposals and budgeting rounds."),
        (name = "downloads", description = "Files to save: a fund's books (CSV, hledger, beancount, JSON), a round's pabulib instance."),
        (name = "site", description = "Liveness, the favicon and this document. The public pages (`/`, `/nl/…`, `/en/…`) are HTML, described in docs/SITE.md."),
    )
)]
pub struct ApiDoc;

/// Liveness: the server runs and its log is writable.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "site",
    responses(
        (status = 200, description = "`{\"status\": \"ok\", …}`.", body = Object),
        (status = 400, description = "An unknown parameter.", body = ledger::views::ErrorBody),
        (status = 503, description = "The log failed (a failed write or flush, an internal panic): `unavailable` until a restart.", body = ledger::views::ErrorBody),
    )
)]
#[allow(dead_code)]
fn healthz() {}

/// The generated document, with two things utoipa cannot say from the
/// annotations alone:
/// - every view serialises every field (`null` when it has no value, never
///   left out), so each object schema requires all of its properties (utoipa
///   leaves `Option` fields out of `required`);
/// - any request whose declared body is above 1 MiB is refused with a 413
///   before it is routed, so every operation can answer 413;
/// - a GET can be answered 304 (`headers.rs`);
/// - the connection layer (`net.rs`) answers before any route: 429
///   `rate_limited` to an address past its budget of refused requests (or of
///   `member.apply`), 503 `unavailable` to a connection over the cap, and 408
///   `request_timeout` to a body that does not arrive in time.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        if let Some(components) = doc.components.as_mut() {
            for schema in components.schemas.values_mut() {
                if let RefOr::T(Schema::Object(o)) = schema {
                    o.required = o.properties.keys().cloned().collect();
                }
            }
        }
        let too_large = ResponseBuilder::new()
            .description("The declared request body is above 1 MiB.")
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                    )
                    .build(),
            )
        };
        let rate_limited = error(
            "`rate_limited`: this address refused too often (or sent too many `member.apply`); `Retry-After` says when to try again.",
        );
        let unavailable = error("`unavailable`: the ledger failed and refuses until a restart, or the server has as many connections open as it serves.");
        let timeout = error("`request_timeout`: the request body did not arrive whole in time.");
        let not_modified = RefOr::T(
            ResponseBuilder::new().description("Not modified: `If-None-Match` names the current `ETag`.").build(),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            if let Some(op) = item.get.as_mut() {
                op.responses.responses.entry("304".into()).or_insert_with(|| not_modified.clone());
            }
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let r = &mut op.responses.responses;
                r.entry("413".into()).or_insert_with(|| RefOr::T(too_large.clone()));
                // Liveness is never rate-limited (net.rs).
                if path != "/healthz" {
                    r.entry("429".into()).or_insert_with(|| rate_limited.clone());
                }
                r.entry("503".into()).or_insert_with(|| unavailable.clone());
            }
            if let Some(op) = item.post.as_mut() {
                op.responses.responses.entry("408".into()).or_insert_with(|| timeout.clone());
            }
        }
        doc
    })
}

/// The generated document as pretty JSON with a final newline (what `/openapi.json` serves).
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| match document().to_pretty_json() {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => {
            tracing::error!("the OpenAPI document does not serialise: {e}");
            "{}\n".to_string()
        }
    })
}

fn operation<'a>(item: &'a PathItem, method: &Method) -> Option<&'a Operation> {
    match *method {
        Method::GET | Method::HEAD => item.get.as_ref(),
        Method::POST => item.post.as_ref(),
        Method::PUT => item.put.as_ref(),
        Method::DELETE => item.delete.as_ref(),
        Method::PATCH => item.patch.as_ref(),
        Method::OPTIONS => item.options.as_ref(),
        _ => None,
    }
}

/// The query parameters the operation `method path` takes (`path` as routed,
/// e.g. `/v1/funds/{id}`), or `None` when the document has no such operation.
pub fn query_parameters(path: &str, method: &Method) -> Option<&'static [String]> {
    type Table = HashMap<(String, Method), Vec<String>>;
    static TABLE: OnceLock<Table> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = Table::new();
        for (p, item) in &document().paths.paths {
            for m in [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS] {
                if let Some(op) = operation(item, &m) {
                    let names = op
                        .parameters
                        .iter()
                        .flatten()
                        .filter(|q| matches!(q.parameter_in, ParameterIn::Query))
                        .map(|q| q.name.clone())
                        .collect();
                    t.insert((p.clone(), m), names);
                }
            }
        }
        t
    });
    let method = if *method == Method::HEAD { Method::GET } else { method.clone() };
    table.get(&(path.to_string(), method)).map(Vec::as_slice)
}
