//! Rounds by decision (SPEC §4.5): a `round` proposal opens a budgeting round
//! when it passes — the round's id is the proposal's id, its windows count in
//! whole days from the close, and its budget is committed then (or the
//! outcome is `rejected_insufficient_funds`). A `cancellation` proposal that
//! names a running round ends it and releases its budget. A single member can
//! no longer open a round: `round.open` is refused with `round_needs_proposal`.

use std::collections::BTreeMap;

use super::governance::{bad_fields, RoundTerms};
use super::{Ctx, Fund, Funds, ProposalState, RoundState, RoundStatus};
use crate::entry::{Proposal, ProposalKind};
use crate::error::{Code, Refusal};
use crate::ids::EntryId;
use crate::limits::ROUND_PERIOD_SECONDS_MAX;
use crate::time::Timestamp;

/// Seconds in a day: a round's windows are whole days.
pub const DAY_SECONDS: i64 = 86_400;

/// The terms of a `round` proposal: all four fields, each window at least a
/// day, both together at most a year.
pub(super) fn terms(b: &Proposal) -> Result<RoundTerms, Refusal> {
    let (Some(budget), Some(rule), Some(projects_days), Some(voting_days)) =
        (b.budget, b.rule, b.projects_days, b.voting_days)
    else {
        return Err(bad_fields("round", "has a budget, a rule, projects_days and voting_days"));
    };
    if projects_days == 0 || voting_days == 0 {
        return Err(Refusal::new(
            Code::BadRoundDays,
            format!(
                "projects_days {projects_days} and voting_days {voting_days} must each be at least 1: every member needs a day to submit a project and a day to vote"
            ),
        ));
    }
    let total = (i64::from(projects_days) + i64::from(voting_days)) * DAY_SECONDS;
    if total > ROUND_PERIOD_SECONDS_MAX {
        return Err(Refusal::new(
            Code::RoundTooLong,
            format!(
                "projects_days {projects_days} + voting_days {voting_days} is more than {} days; the budget would be locked too long",
                ROUND_PERIOD_SECONDS_MAX / DAY_SECONDS
            ),
        ));
    }
    Ok(RoundTerms { budget, rule, projects_days, voting_days })
}

fn days_after(t: &Timestamp, days: u32) -> Result<Timestamp, Refusal> {
    chrono::TimeDelta::try_seconds(i64::from(days) * DAY_SECONDS)
        .and_then(|d| t.instant().checked_add_signed(d))
        .map(Timestamp::from_instant)
        .ok_or_else(|| Refusal::new(Code::RoundTooLong, format!("{days} days after {t} is out of range")))
}

/// The round a passed `round` proposal opens at the close `ctx`.
pub(super) fn open(ctx: &Ctx<'_>, p: &ProposalState) -> Result<RoundState, Refusal> {
    let t =
        p.round_terms.as_ref().ok_or_else(|| Refusal::new(Code::BadProposal, "a round proposal without its terms"))?;
    let projects_until = days_after(ctx.received_at, t.projects_days)?;
    let closes_at = days_after(&projects_until, t.voting_days)?;
    Ok(RoundState {
        id: p.id,
        seq: ctx.seq,
        fund: p.fund.clone(),
        author: p.author.clone(),
        budget: t.budget,
        rule: t.rule,
        opened_at: ctx.received_at.clone(),
        projects_until,
        closes_at,
        projects: Vec::new(),
        ballots: BTreeMap::new(),
        status: RoundStatus::Open,
        outcome: None,
        closed_seq: None,
        closed_at: None,
        close_reason: None,
    })
}

impl Funds {
    /// The round a `cancellation` proposal in `fund` names (when it names a
    /// round; an allocation's is judged in `release.rs`): running, of this
    /// fund, and not already the subject of an open cancellation.
    pub(super) fn cancellation_target(&self, fund: &Fund, b: &Proposal) -> Result<EntryId, Refusal> {
        let r = b.round.ok_or_else(|| bad_fields("cancellation", "names exactly one of round and allocation"))?;
        let round = self.open_round(&r)?;
        if round.fund != fund.id {
            return Err(Refusal::new(
                Code::WrongFund,
                format!("round {r} belongs to fund {}, not {}", round.fund, fund.id),
            ));
        }
        let pending =
            self.open_proposals().find(|p| p.proposal_kind == ProposalKind::Cancellation && p.round == Some(r));
        if let Some(p) = pending {
            return Err(Refusal::new(
                Code::CancellationPending,
                format!("the cancellation of round {r} is already being voted on in {}", p.id),
            ));
        }
        Ok(r)
    }
}
