//! Downloads (docs/API-DOWNLOADS.md): a fund's books and a round's pabulib
//! instance as files, with `Content-Disposition: attachment`. Each is written
//! by the same ledger function as `meent export` (`ledger::books::journal`,
//! `ledger::pb::write`) over the same state, so the bytes are the same.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger::books::journal::{self, CsvDialect, Syntax};
use ledger::books::FundBooks;
use ledger::funds::RoundPhase;
use ledger::record::Record;
use ledger::time::Timestamp;
use ledger::views::{ErrorBody, FlowsView};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiCode, ApiError};
use crate::extract::Param;
use crate::handlers::query;
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// The formats of a fund's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// The flows as CSV (RFC 4180), as `meent export --format csv`.
    Csv,
    /// The flows as CSV for Excel in Dutch: `;` between cells, decimal comma, UTF-8 byte order mark.
    CsvNl,
    /// An hledger journal, as `meent export --format hledger`.
    Hledger,
    /// A beancount journal, as `meent export --format beancount`.
    Beancount,
    /// The flows as JSON, as `GET /v1/funds/{id}/flows`.
    Json,
}

/// The formats of a fund's period statement (`GET /v1/funds/{id}/statement`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StatementFormat {
    /// The statement view as JSON (the default).
    #[default]
    Json,
    /// `section,item,detail,amount` lines, the bytes `meent report --format csv` prints.
    Csv,
}

/// A period statement as the CSV file `meent report --fund F --from D --to D
/// --format csv` prints, byte for byte (its lines and its final newline).
pub(crate) fn statement_csv(s: &ledger::views::StatementView) -> Response {
    let name = format!("{}-statement-{}-{}.csv", s.fund, s.from, s.to);
    attachment("text/csv; charset=utf-8; header=present", &name, format!("{}\n", s.csv()))
}

/// Query of `GET /v1/funds/{id}/export`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv`, `csv-nl` (Excel in Dutch), `hledger`, `beancount` or `json`.
    format: ExportFormat,
}

/// A file to download: `content_type`, and `filename` in `Content-Disposition`.
fn attachment(content_type: &'static str, filename: &str, body: impl Into<Body>) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body.into()).into_response();
    // Ids are `[a-z0-9-]` or hex, so the name needs no quoting beyond the quotes.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The fund's books, with the dates of the records that executed its payouts
/// (as `meent export --data` reads them).
fn books(s: &AppState, id: &ledger::ids::FundId) -> ApiResult<FundBooks> {
    let state = s.log.state();
    crate::funds::find_fund(&state, id)?;
    let mut books = FundBooks::from_state(&state, id)
        .ok_or_else(|| ApiError::not_found(ApiCode::UnknownFund, format!("no fund {id}")))?;
    drop(state);
    for seq in books.executed_seqs() {
        let bytes = s.log.record(seq)?.ok_or_else(|| ApiError::internal(format!("record {seq} is missing")))?;
        let rec = Record::from_leaf_bytes(&bytes).map_err(|e| ApiError::internal(format!("record {seq}: {e}")))?;
        books.executed_dates.insert(seq, rec.received_at.date());
    }
    Ok(books)
}

/// A fund's books as a file: its flows as CSV (also in the Dutch Excel
/// dialect) or JSON, or its double-entry journal for hledger or beancount.
/// The bytes are those `meent export --format csv|hledger|beancount --fund F`
/// writes (and, for `json`, those of `GET /v1/funds/{id}/flows`).
#[utoipa::path(
    get,
    path = "/v1/funds/{id}/export",
    tag = "downloads",
    params(("id" = ledger::ids::FundId, Path, description = "The fund's id."), ExportQuery),
    responses(
        (status = 200, description = "The file, with `Content-Disposition: attachment; filename=…` \
            (`{id}-flows.csv`, `{id}-flows-nl.csv`, `{id}.journal`, `{id}.beancount`, `{id}-flows.json`).",
            content(
                (String = "text/csv"),
                (String = "text/plain"),
                (FlowsView = "application/json"),
            )),
        (status = 400, description = "Not a fund id, a missing or unknown format, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn fund_export(
    State(s): State<AppState>,
    Param(id): Param,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let id = crate::funds::fund_id(&id)?;
    let q = query(q)?;
    const CSV: &str = "text/csv; charset=utf-8; header=present";
    const TEXT: &str = "text/plain; charset=utf-8";
    let journal_of = |books: &FundBooks, syntax| {
        journal::journal(books, syntax).map_err(|e| ApiError::internal(format!("the journal of fund {id}: {e}")))
    };
    Ok(match q.format {
        ExportFormat::Json => {
            let state = s.log.state();
            let f = crate::funds::find_fund(&state, &id)?;
            let body = serde_json::to_vec(&FlowsView::of(&state, f)).map_err(ApiError::internal)?;
            attachment("application/json", &format!("{id}-flows.json"), body)
        }
        ExportFormat::Csv => attachment(CSV, &format!("{id}-flows.csv"), journal::flows_csv(&books(&s, &id)?)),
        ExportFormat::CsvNl => {
            attachment(CSV, &format!("{id}-flows-nl.csv"), journal::flows_csv_in(&books(&s, &id)?, CsvDialect::ExcelNl))
        }
        ExportFormat::Hledger => {
            attachment(TEXT, &format!("{id}.journal"), journal_of(&books(&s, &id)?, Syntax::Hledger)?)
        }
        ExportFormat::Beancount => {
            attachment(TEXT, &format!("{id}.beancount"), journal_of(&books(&s, &id)?, Syntax::Beancount)?)
        }
    })
}

/// A budgeting round as a pabulib `.pb` file: the very instance its rule ran
/// on (`meent pb FILE --rule R` or pabutools recompute the outcome), the bytes
/// `meent export --format pabulib --round R` writes. Like `GET /v1/rounds/{id}`,
/// which shows the ballots once voting has closed, it is served from then on.
#[utoipa::path(
    get,
    path = "/v1/rounds/{id}/pabulib",
    tag = "downloads",
    params(("id" = ledger::ids::EntryId, Path, description = "The round's id (the id of the `round` proposal that opened it).")),
    responses(
        (status = 200, description = "The `.pb` file, with `Content-Disposition: attachment; filename=\"round-{id}.pb\"`.",
            body = String, content_type = "text/plain"),
        (status = 400, description = "Not an entry id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such round.", body = ErrorBody),
        (status = 409, description = "`voting_open`: people still vote (`detail.closes_at` says until when), or the round was cancelled.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn round_pabulib(State(s): State<AppState>, Param(id): Param) -> ApiResult<Response> {
    let id = crate::funds::entry_id(&id)?;
    let now = Timestamp::from_instant((s.clock)());
    let state = s.log.state();
    let r =
        state.funds.round(&id).ok_or_else(|| ApiError::not_found(ApiCode::UnknownRound, format!("no round {id}")))?;
    if matches!(r.phase(&now), RoundPhase::Projects | RoundPhase::Voting) {
        let mut e = ApiError::api(
            StatusCode::CONFLICT,
            ApiCode::VotingOpen,
            format!("round {id} is still open for voting until {}; its ballots are tallied after that", r.closes_at),
        );
        e.detail = json!({"closes_at": r.closes_at});
        return Err(e);
    }
    let inst = state.funds.round_instance(&id)?;
    Ok(attachment("text/plain; charset=utf-8", &format!("round-{id}.pb"), ledger::pb::write(&inst)))
}
