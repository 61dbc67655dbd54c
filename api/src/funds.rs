//! Reads of the fund domain (SPEC §5) and the automatic closes.
//!
//! The handlers read `log.state()` and answer with a view of `ledger::views`;
//! nothing here decides anything.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use ledger::entry::Kind;
use ledger::funds::{Fund, FundStatus, ProposalStatus, RoundStatus};
use ledger::ids::{EntryId, FundId, IdError};
use ledger::log::SubmitError;
use ledger::state::State as LedgerState;
use ledger::time::Timestamp;
use ledger::views::{
    ErrorBody, FlowsView, FundList, FundView, ProposalList, ProposalView, RoundList, RoundView, StatementError,
    StatementView,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::error::{ApiCode, ApiError};
use crate::extract::Param;
use crate::handlers::{page, query};
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn fund_id(s: &str) -> ApiResult<FundId> {
    s.parse().map_err(|e: IdError| ApiError::bad_request(ApiCode::BadId, e.to_string()))
}

pub(crate) fn entry_id(s: &str) -> ApiResult<EntryId> {
    s.parse().map_err(|e: IdError| ApiError::bad_request(ApiCode::BadId, e.to_string()))
}

/// The fund `id`, or a 404.
pub(crate) fn find_fund<'a>(state: &'a LedgerState, id: &FundId) -> ApiResult<&'a Fund> {
    state.funds.fund(id).ok_or_else(|| ApiError::not_found(ApiCode::UnknownFund, format!("no fund {id}")))
}

/// Query of `GET /v1/funds`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundsQuery {
    /// The first log position (the funds' `created_seq`) to include (default 0).
    #[param(minimum = 0)]
    from: Option<u64>,
    /// The most funds to return (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Only funds with this status.
    status: Option<FundStatus>,
}

/// The funds, in the order of creation.
#[utoipa::path(
    get,
    path = "/v1/funds",
    tag = "funds",
    params(FundsQuery),
    responses(
        (status = 200, description = "A page of funds.", body = FundList),
        (status = 400, description = "A parameter of the wrong form, unknown, or out of range.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn funds(
    State(s): State<AppState>,
    q: Result<Query<FundsQuery>, QueryRejection>,
) -> ApiResult<Json<FundList>> {
    let q = query(q)?;
    let p = page(q.from, q.limit)?;
    let state = s.log.state();
    Ok(Json(FundList::of(&state, q.status, p)))
}

/// Charter, members, treasurers, balances, matching pledges, rounds.
#[utoipa::path(
    get,
    path = "/v1/funds/{id}",
    tag = "funds",
    params(("id" = FundId, Path, description = "The fund's id.")),
    responses(
        (status = 200, description = "The fund.", body = FundView),
        (status = 400, description = "Not a fund id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn fund(State(s): State<AppState>, Param(id): Param) -> ApiResult<Json<FundView>> {
    let id = fund_id(&id)?;
    let state = s.log.state();
    let f = find_fund(&state, &id)?;
    Ok(Json(FundView::of(&state, f)))
}

/// A fund's contributions and disbursements with their status (its whole history, not paged).
#[utoipa::path(
    get,
    path = "/v1/funds/{id}/flows",
    tag = "funds",
    params(("id" = FundId, Path, description = "The fund's id.")),
    responses(
        (status = 200, description = "The fund's flows.", body = FlowsView),
        (status = 400, description = "Not a fund id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn flows(State(s): State<AppState>, Param(id): Param) -> ApiResult<Json<FlowsView>> {
    let id = fund_id(&id)?;
    let state = s.log.state();
    let f = find_fund(&state, &id)?;
    Ok(Json(FlowsView::of(&state, f)))
}

/// Query of `GET /v1/funds/{id}/statement`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// The first day of the period, `YYYY-MM-DD` (UTC).
    from: ledger::time::Date,
    /// The last day of the period, `YYYY-MM-DD` (UTC, inclusive).
    to: ledger::time::Date,
    /// `json` (the default) or `csv` (a file, as `meent report --format csv` prints it).
    format: Option<crate::downloads::StatementFormat>,
}

/// A fund's period statement: opening balance, money in by kind, money out by
/// allocation and recipient and costs by category, closing balance, and what
/// was still pending at the end; opening + in − out = closing, to the cent.
#[utoipa::path(
    get,
    path = "/v1/funds/{id}/statement",
    tag = "funds",
    params(("id" = FundId, Path, description = "The fund's id."), StatementQuery),
    responses(
        (status = 200, description = "The fund's statement for the period; with `format=csv` a file \
            (`Content-Disposition: attachment; filename=\"{id}-statement-{from}-{to}.csv\"`).",
            content((StatementView = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Not a fund id, a missing or malformed date, a backwards period, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn statement(
    State(s): State<AppState>,
    Param(id): Param,
    q: Result<Query<StatementQuery>, QueryRejection>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = fund_id(&id)?;
    let q = query(q)?;
    let state = s.log.state();
    let f = find_fund(&state, &id)?;
    match StatementView::of(&state, f, q.from, q.to) {
        Ok(v) => Ok(match q.format.unwrap_or_default() {
            crate::downloads::StatementFormat::Json => Json(v).into_response(),
            crate::downloads::StatementFormat::Csv => crate::downloads::statement_csv(&v),
        }),
        Err(e @ StatementError::BadPeriod { .. }) => Err(ApiError::bad_request(ApiCode::BadQuery, e.to_string())),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

/// Query of `GET /v1/proposals`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProposalsQuery {
    /// The first log position (the proposals' `seq`) to include (default 0).
    #[param(minimum = 0)]
    from: Option<u64>,
    /// The most proposals to return (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Only this fund's proposals.
    fund: Option<FundId>,
    /// Only proposals with this status.
    status: Option<ProposalStatus>,
}

/// Proposals, in log order: tally, status, outcome.
#[utoipa::path(
    get,
    path = "/v1/proposals",
    tag = "funds",
    params(ProposalsQuery),
    responses(
        (status = 200, description = "A page of proposals.", body = ProposalList),
        (status = 400, description = "A parameter of the wrong form, unknown, or out of range.", body = ErrorBody),
        (status = 404, description = "The `fund` filter names no fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn proposals(
    State(s): State<AppState>,
    q: Result<Query<ProposalsQuery>, QueryRejection>,
) -> ApiResult<Json<ProposalList>> {
    let q = query(q)?;
    let p = page(q.from, q.limit)?;
    let state = s.log.state();
    if let Some(f) = &q.fund {
        find_fund(&state, f)?;
    }
    Ok(Json(ProposalList::of(&state, q.fund.as_ref(), q.status, p)))
}

/// One proposal: tally, status, outcome, votes.
#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    tag = "funds",
    params(("id" = EntryId, Path, description = "The proposal's entry id.")),
    responses(
        (status = 200, description = "The proposal.", body = ProposalView),
        (status = 400, description = "Not an entry id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such proposal.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn proposal(State(s): State<AppState>, Param(id): Param) -> ApiResult<Json<ProposalView>> {
    let id = entry_id(&id)?;
    let state = s.log.state();
    let p = state
        .funds
        .proposal(&id)
        .ok_or_else(|| ApiError::not_found(ApiCode::UnknownProposal, format!("no proposal {id}")))?;
    Ok(Json(ProposalView::of(p)))
}

/// Query of `GET /v1/rounds`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoundsQuery {
    /// The first log position (the rounds' `seq`) to include (default 0).
    #[param(minimum = 0)]
    from: Option<u64>,
    /// The most rounds to return (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Only this fund's rounds.
    fund: Option<FundId>,
    /// Only rounds with this status.
    status: Option<RoundStatus>,
}

/// Budgeting rounds, in log order.
#[utoipa::path(
    get,
    path = "/v1/rounds",
    tag = "funds",
    params(RoundsQuery),
    responses(
        (status = 200, description = "A page of rounds.", body = RoundList),
        (status = 400, description = "A parameter of the wrong form, unknown, or out of range.", body = ErrorBody),
        (status = 404, description = "The `fund` filter names no fund.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn rounds(
    State(s): State<AppState>,
    q: Result<Query<RoundsQuery>, QueryRejection>,
) -> ApiResult<Json<RoundList>> {
    let q = query(q)?;
    let p = page(q.from, q.limit)?;
    let state = s.log.state();
    if let Some(f) = &q.fund {
        find_fund(&state, f)?;
    }
    Ok(Json(RoundList::of(&state, q.fund.as_ref(), q.status, p)))
}

/// One round: projects, ballots (once voting closed), outcome.
#[utoipa::path(
    get,
    path = "/v1/rounds/{id}",
    tag = "funds",
    params(("id" = EntryId, Path, description = "The round's id (the id of the `round` proposal that opened it).")),
    responses(
        (status = 200, description = "The round.", body = RoundView),
        (status = 400, description = "Not an entry id, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such round.", body = ErrorBody),
        (status = 503, description = "The ledger failed a write; derived reads wait for a restart.", body = ErrorBody),
    )
)]
pub async fn round(State(s): State<AppState>, Param(id): Param) -> ApiResult<Json<RoundView>> {
    let id = entry_id(&id)?;
    let now = Timestamp::from_instant((s.clock)());
    let state = s.log.state();
    let r =
        state.funds.round(&id).ok_or_else(|| ApiError::not_found(ApiCode::UnknownRound, format!("no round {id}")))?;
    Ok(Json(RoundView::of(&state, r, &now)))
}

/// Submit, as the operator, a `proposal.close` for every proposal whose close
/// is due now (deadline passed, or every counted member voted) and a
/// `round.close` for every budgeting round whose `closes_at` has passed.
/// Refusals (a close that raced with someone else's) are ignored. Returns how
/// many closes were recorded.
pub async fn close_due(s: &AppState) -> usize {
    let now = (s.clock)();
    let due: Vec<(Kind, EntryId)> = {
        let state = s.log.state();
        let at = Timestamp::from_instant(now);
        let proposals = state.due_closes(&at).into_iter().map(|id| (Kind::ProposalClose, id));
        let rounds = state.due_round_closes(&at).into_iter().map(|id| (Kind::RoundClose, id));
        proposals.chain(rounds).collect()
    };
    let mut waiting = Vec::with_capacity(due.len());
    for (kind, id) in due {
        let body = match kind {
            Kind::RoundClose => json!({"round": id.to_hex()}),
            _ => json!({"proposal": id.to_hex()}),
        };
        let entry = match s.log.operator_entry(kind, body, now) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!("cannot sign the close of {id}: {e}");
                continue;
            }
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        s.ingest.submit(
            entry,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        waiting.push((kind, id, rx));
    }
    let mut closed = 0;
    for (kind, id, rx) in waiting {
        match rx.await {
            Ok(Ok(_)) => {
                closed += 1;
                tracing::info!("{} {id}", kind.as_str());
            }
            Ok(Err(SubmitError::Refused(r))) => tracing::debug!("close of {id} refused (a race): {r}"),
            Ok(Err(e)) => tracing::warn!("close of {id} not recorded: {e}"),
            Err(_) => tracing::warn!("close of {id}: the writer stopped"),
        }
    }
    closed
}

/// How often the server looks for closes that are due.
pub const CLOSE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Run [`close_due`] every [`CLOSE_CHECK_INTERVAL`], forever.
pub async fn closer(s: AppState) {
    let mut tick = tokio::time::interval(CLOSE_CHECK_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        close_due(&s).await;
    }
}
