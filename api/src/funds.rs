//! Reads of the fund domain (SPEC §5) and the automatic closes.
//!
//! The handlers read `log.state()` and render; nothing here decides anything.
//! Amounts are strings with two decimals (`"0.00"` included); ids are
//! lowercase hex; `outcome` is `null` while a proposal or a round is open.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use ledger::entry::Kind;
use ledger::funds::{Fund, ProposalState, RoundPhase, RoundState};
use ledger::ids::{EntryId, FundId, IdError};
use ledger::log::SubmitError;
use ledger::state::State as LedgerState;
use ledger::time::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

fn fund_id(s: &str) -> ApiResult<FundId> {
    s.parse().map_err(|e: IdError| ApiError::bad_request("bad_id", e.to_string()))
}

fn entry_id(s: &str) -> ApiResult<EntryId> {
    s.parse().map_err(|e: IdError| ApiError::bad_request("bad_id", e.to_string()))
}

fn find_fund<'a>(state: &'a LedgerState, id: &FundId) -> ApiResult<&'a Fund> {
    state.funds.fund(id).ok_or_else(|| ApiError::not_found("unknown_fund", format!("no fund {id}")))
}

/// A fund's summary: what the list shows.
fn fund_summary(f: &Fund) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "purpose": f.purpose,
        "status": f.status,
        "members": f.members,
        "treasurers": f.charter.treasurers,
        "balances": f.balances,
    })
}

/// Everything about a fund.
fn fund_full(state: &LedgerState, f: &Fund) -> Value {
    let open = f.proposals.iter().filter_map(|id| state.funds.proposal(id)).filter(|p| p.outcome.is_none()).count();
    let dissolution = f.dissolution.as_ref().map(|d| {
        let refunds: Vec<Value> = d
            .refunds
            .iter()
            .map(|(m, r)| {
                let outstanding = r.owed.checked_sub(r.paid).map(|b| b.to_string()).unwrap_or_default();
                json!({"member": m, "contributed": r.contributed, "owed": r.owed, "requested": r.requested, "paid": r.paid, "outstanding": outstanding})
            })
            .collect();
        json!({"proposal": d.proposal, "seq": d.seq, "at": d.at, "pool": d.pool, "refunds": refunds})
    });
    let contributors: Vec<Value> = f.contributed.iter().map(|(m, b)| json!({"member": m, "confirmed": b})).collect();
    json!({
        "id": f.id,
        "name": f.name,
        "purpose": f.purpose,
        "status": f.status,
        "creator": f.creator,
        "created_seq": f.created_seq,
        "created_at": f.created_at,
        "charter": f.charter,
        "charter_seq": f.charter_seq,
        "members": f.members,
        "treasurers": f.charter.treasurers,
        "balances": f.balances,
        "matching_pledges": f.matching,
        "contributors": contributors,
        "dissolution": dissolution,
        "proposals": {"total": f.proposals.len(), "open": open},
        "rounds": f.rounds.iter().filter_map(|id| state.funds.round(id)).map(round_summary).collect::<Vec<_>>(),
        "reconciliations": f.reconciliations,
    })
}

/// A round in a fund's list.
fn round_summary(r: &RoundState) -> Value {
    json!({
        "id": r.id,
        "budget": r.budget,
        "rule": r.rule,
        "status": r.status,
        "projects_until": r.projects_until,
        "closes_at": r.closes_at,
        "projects": r.projects.len(),
        "ballots": r.ballots.len(),
    })
}

/// Everything about a round. Approval counts and the ballots are shown once
/// voting has closed (`closes_at` passed, or the round closed); before that
/// only how many ballots were cast (the ballots are in the public log all the
/// same, this read just does not tally them while people still vote).
fn round_full(state: &LedgerState, r: &RoundState, now: &Timestamp) -> Value {
    let phase = r.phase(now);
    let voting_closed = !matches!(phase, RoundPhase::Projects | RoundPhase::Voting);
    let approvals = r.approvals();
    let projects: Vec<Value> = r
        .projects
        .iter()
        .filter_map(|id| state.funds.project(id))
        .map(|p| {
            let mut v = json!({
                "id": p.id,
                "seq": p.seq,
                "author": p.author,
                "title": p.title,
                "description": p.description,
                "cost": p.cost,
                "recipient": p.recipient,
                "submitted_at": p.submitted_at,
                "status": p.status,
                "requested": p.requested,
                "paid": p.paid,
            });
            if voting_closed {
                v["approvals"] = json!(approvals.get(&p.id).copied().unwrap_or(0));
            }
            v
        })
        .collect();
    let outcome = r.outcome.as_ref().map(|o| {
        let mut selected: Vec<String> = o.selected.iter().map(|id| id.to_hex()).collect();
        selected.sort();
        let payments: Vec<Value> = o
            .payments
            .iter()
            .map(|p| {
                let title = state.funds.project(&p.project).map(|x| x.title.as_str()).unwrap_or("");
                let mut v = json!(p);
                v["title"] = json!(title);
                v
            })
            .collect();
        json!({
            "rule": o.rule,
            "voters": o.voters,
            "selected": selected,
            "selection_order": o.selected,
            "total_cost": o.total_cost,
            "released": o.released,
            "budget_per_voter": o.budget_per_voter,
            "budget_per_voter_display": o.budget_per_voter_display,
            "add1_steps": o.add1_steps,
            "payments": payments,
        })
    });
    let ballots: Option<Vec<Value>> = voting_closed.then(|| {
        r.ballots
            .iter()
            .map(|(m, b)| json!({"member": m, "id": b.id, "seq": b.seq, "cast_at": b.cast_at, "approve": b.approve}))
            .collect()
    });
    json!({
        "id": r.id,
        "seq": r.seq,
        "fund": r.fund,
        "author": r.author,
        "budget": r.budget,
        "rule": r.rule,
        "rule_name": r.pb_rule().name(),
        "opened_at": r.opened_at,
        "projects_until": r.projects_until,
        "closes_at": r.closes_at,
        "status": r.status,
        "phase": phase,
        "voting_closed": voting_closed,
        "projects": projects,
        "ballot_count": r.ballots.len(),
        "ballots": ballots,
        "outcome": outcome,
        "closed_seq": r.closed_seq,
        "closed_at": r.closed_at,
        "close_reason": r.close_reason,
    })
}

/// A proposal, with its tally.
fn proposal_json(p: &ProposalState) -> Value {
    let mut v = json!(p);
    if let Value::Object(m) = &mut v {
        m.insert("tally".into(), json!(p.tally()));
        m.insert("votes_cast".into(), json!(p.votes.len()));
        m.insert("all_voted".into(), json!(p.all_voted()));
    }
    v
}

/// `GET /v1/funds`
pub async fn funds(State(s): State<AppState>) -> Json<Value> {
    let state = s.log.state();
    let funds: Vec<Value> = state.funds.funds.values().map(fund_summary).collect();
    Json(json!({"funds": funds}))
}

/// `GET /v1/funds/{id}`
pub async fn fund(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = fund_id(&id)?;
    let state = s.log.state();
    let f = find_fund(&state, &id)?;
    Ok(Json(fund_full(&state, f)))
}

/// `GET /v1/funds/{id}/flows`
pub async fn flows(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = fund_id(&id)?;
    let state = s.log.state();
    let f = find_fund(&state, &id)?;
    let contributions: Vec<Value> =
        f.contributions.iter().filter_map(|c| state.funds.contributions.get(c)).map(|c| json!(c)).collect();
    let disbursements: Vec<Value> = f
        .disbursements
        .iter()
        .filter_map(|d| state.funds.disbursements.get(d))
        .map(|d| {
            let mut v = json!(d);
            if let Value::Object(m) = &mut v {
                m.insert("approvals_required".into(), json!(f.charter.approvals_required));
            }
            v
        })
        .collect();
    Ok(Json(
        json!({"fund": f.id, "balances": f.balances, "contributions": contributions, "disbursements": disbursements}),
    ))
}

/// Query of `GET /v1/proposals`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalsQuery {
    fund: Option<String>,
}

/// `GET /v1/proposals?fund=F`: a fund's proposals, or every proposal, in log order.
pub async fn proposals(
    State(s): State<AppState>,
    q: Result<Query<ProposalsQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let state = s.log.state();
    let list: Vec<Value> = match &q.fund {
        Some(f) => {
            let f = find_fund(&state, &fund_id(f)?)?;
            f.proposals.iter().filter_map(|id| state.funds.proposal(id)).map(proposal_json).collect()
        }
        None => {
            let mut all: Vec<&ProposalState> = state.funds.proposals.values().collect();
            all.sort_by_key(|p| p.seq);
            all.into_iter().map(proposal_json).collect()
        }
    };
    Ok(Json(json!({"proposals": list})))
}

/// `GET /v1/proposals/{id}`
pub async fn proposal(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = entry_id(&id)?;
    let state = s.log.state();
    let p = state
        .funds
        .proposal(&id)
        .ok_or_else(|| ApiError::not_found("unknown_proposal", format!("no proposal {id}")))?;
    Ok(Json(proposal_json(p)))
}

/// `GET /v1/rounds/{id}`
pub async fn round(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = entry_id(&id)?;
    let now = Timestamp::from_instant((s.clock)());
    let state = s.log.state();
    let r = state.funds.round(&id).ok_or_else(|| ApiError::not_found("unknown_round", format!("no round {id}")))?;
    Ok(Json(round_full(&state, r, &now)))
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
