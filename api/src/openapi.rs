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
use utoipa::OpenApi;

use crate::{funds, handlers};

/// The document's root.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "meent",
        description = "A solidarity fund pooling ledger (SPEC §5). Reads are public; writes are signed entries. \
            Lists are in log order and paged: `from` is a log position, `next` the `from` of the next page or null. \
            Unknown query parameters are refused (400 `unknown_parameter`). Errors are \
            `{\"error\": {\"code\", \"message\", \"detail\"}}`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    paths(
        handlers::audit_page,
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
    ),
    tags(
        (name = "log", description = "The verifiable log: entries, records, checkpoints, proofs."),
        (name = "register", description = "The members."),
        (name = "funds", description = "Funds, their flows, proposals and budgeting rounds."),
        (name = "site", description = "The audit page, liveness and this document."),
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
        (status = 503, description = "The log failed: `{\"status\": \"failed\", …}` until a restart.", body = Object),
    )
)]
#[allow(dead_code)]
fn healthz() {}

/// The generated document.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
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
