//! `GET /v1/rounds` and `/v1/rounds/{id}`: budgeting rounds, their projects,
//! ballots and outcome. Approval counts and the ballots are shown once voting
//! has closed; before that only how many ballots were cast (the ballots are in
//! the public log all the same, this read just does not tally them while
//! people still vote).

use serde::{Deserialize, Serialize};

use crate::entry::RoundRule;
use crate::funds::{ProjectPayment, ProjectStatus, RoundOutcome, RoundPhase, RoundState, RoundStatus};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Amount, Balance};
use crate::state::State;
use crate::time::Timestamp;
use crate::views::Page;

/// A round in a list (a fund's, or `GET /v1/rounds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundSummary {
    /// The round's id: the `round` proposal that opened it.
    pub id: EntryId,
    /// Its record: its position in the list.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// The budget.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// Open, closed or cancelled.
    pub status: RoundStatus,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Projects until.
    pub projects_until: Timestamp,
    /// Ballots until.
    pub closes_at: Timestamp,
    /// How many projects were submitted.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub project_count: u64,
    /// How many ballots are counted.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub ballot_count: u64,
}

impl RoundSummary {
    /// The summary of round `r`.
    pub fn of(r: &RoundState) -> RoundSummary {
        RoundSummary {
            id: r.id,
            seq: r.seq,
            fund: r.fund.clone(),
            budget: r.budget,
            rule: r.rule,
            status: r.status,
            opened_at: r.opened_at.clone(),
            projects_until: r.projects_until.clone(),
            closes_at: r.closes_at.clone(),
            project_count: r.projects.len() as u64,
            ballot_count: r.ballots.len() as u64,
        }
    }
}

/// One project of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    /// The `round.project` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// Who submitted it.
    pub author: MemberId,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// What it costs.
    pub cost: Amount,
    /// Who is paid if it is selected.
    pub recipient: MemberId,
    /// When the ledger received it.
    pub submitted_at: Timestamp,
    /// Candidate, selected or not selected.
    pub status: ProjectStatus,
    /// Selected: requested in disbursements not reversed.
    pub requested: Balance,
    /// Selected: paid out.
    pub paid: Balance,
    /// Ballots approving it, once voting has closed; null before.
    pub approvals: Option<u64>,
}

/// A member's counted ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BallotView {
    /// The member.
    pub member: MemberId,
    /// The ballot entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// When the ledger received it.
    pub cast_at: Timestamp,
    /// The projects it approves.
    pub approve: Vec<EntryId>,
}

/// What the supporters of one selected project paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    /// The project.
    pub project: EntryId,
    /// Its title.
    pub title: String,
    /// Its cost.
    pub cost: Amount,
    /// `equal_shares`, `greedy` or `free`.
    pub funding: String,
    /// Ballots that approve it.
    pub supporters: u64,
    /// Equal shares: what each supporter paid unless it had less left, exact.
    pub share: Option<String>,
    /// Supporters who paid the full share.
    pub full_share_payers: u64,
    /// Supporters who paid less than the share.
    pub capped_payers: u64,
    /// What the capped payers paid together, exact.
    pub capped_total: String,
    /// For people.
    pub display: String,
}

impl PaymentView {
    fn of(state: &State, p: &ProjectPayment) -> PaymentView {
        PaymentView {
            project: p.project,
            title: state.funds.project(&p.project).map(|x| x.title.clone()).unwrap_or_default(),
            cost: p.cost,
            funding: p.funding.clone(),
            supporters: p.supporters,
            share: p.share.clone(),
            full_share_payers: p.full_share_payers,
            capped_payers: p.capped_payers,
            capped_total: p.capped_total.clone(),
            display: p.display.clone(),
        }
    }
}

/// A closed round's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundOutcomeView {
    /// The rule that ran, by its pabutools name.
    pub rule: String,
    /// Number of ballots.
    pub voters: u64,
    /// The selected projects, sorted by id.
    pub selected: Vec<EntryId>,
    /// The selected projects in the order the rule selected them.
    pub selection_order: Vec<EntryId>,
    /// Their total cost.
    pub total_cost: Balance,
    /// The budget not spent.
    pub released: Balance,
    /// Equal shares: the per-voter budget that was kept, exact.
    pub budget_per_voter: Option<String>,
    /// The same, for people.
    pub budget_per_voter_display: Option<String>,
    /// Equal shares: whole euros Add1 added to every voter's share.
    pub add1_steps: Option<u64>,
    /// Per selected project, in selection order.
    pub payments: Vec<PaymentView>,
}

impl RoundOutcomeView {
    fn of(state: &State, o: &RoundOutcome) -> RoundOutcomeView {
        let mut selected = o.selected.clone();
        selected.sort();
        RoundOutcomeView {
            rule: o.rule.clone(),
            voters: o.voters,
            selected,
            selection_order: o.selected.clone(),
            total_cost: o.total_cost,
            released: o.released,
            budget_per_voter: o.budget_per_voter.clone(),
            budget_per_voter_display: o.budget_per_voter_display.clone(),
            add1_steps: o.add1_steps,
            payments: o.payments.iter().map(|p| PaymentView::of(state, p)).collect(),
        }
    }
}

/// Everything about a round (`GET /v1/rounds/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundView {
    /// The round's id: the `round` proposal that opened it.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// Who opened it.
    pub author: MemberId,
    /// The budget.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// The rule's pabutools name.
    pub rule_name: String,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Projects until.
    pub projects_until: Timestamp,
    /// Ballots until.
    pub closes_at: Timestamp,
    /// Open, closed or cancelled.
    pub status: RoundStatus,
    /// Where it is in time now.
    pub phase: RoundPhase,
    /// Whether voting has closed (tallies and ballots shown).
    pub voting_closed: bool,
    /// The projects, in log order.
    pub projects: Vec<ProjectView>,
    /// How many ballots are counted.
    pub ballot_count: u64,
    /// The counted ballots, once voting has closed; null before.
    pub ballots: Option<Vec<BallotView>>,
    /// The outcome, once closed.
    pub outcome: Option<RoundOutcomeView>,
    /// The record that closed (or cancelled) it.
    pub closed_seq: Option<u64>,
    /// When.
    pub closed_at: Option<Timestamp>,
    /// Why it ended without its own close.
    pub close_reason: Option<String>,
}

impl RoundView {
    /// The view of round `r` at time `now`.
    pub fn of(state: &State, r: &RoundState, now: &Timestamp) -> RoundView {
        let phase = r.phase(now);
        let voting_closed = !matches!(phase, RoundPhase::Projects | RoundPhase::Voting);
        let approvals = r.approvals();
        let projects = r
            .projects
            .iter()
            .filter_map(|id| state.funds.project(id))
            .map(|p| ProjectView {
                id: p.id,
                seq: p.seq,
                author: p.author.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                cost: p.cost,
                recipient: p.recipient.clone(),
                submitted_at: p.submitted_at.clone(),
                status: p.status,
                requested: p.requested,
                paid: p.paid,
                approvals: voting_closed.then(|| approvals.get(&p.id).copied().unwrap_or(0)),
            })
            .collect();
        let ballots = voting_closed.then(|| {
            r.ballots
                .iter()
                .map(|(m, b)| BallotView {
                    member: m.clone(),
                    id: b.id,
                    seq: b.seq,
                    cast_at: b.cast_at.clone(),
                    approve: b.approve.clone(),
                })
                .collect()
        });
        RoundView {
            id: r.id,
            seq: r.seq,
            fund: r.fund.clone(),
            author: r.author.clone(),
            budget: r.budget,
            rule: r.rule,
            rule_name: r.pb_rule().name().to_string(),
            opened_at: r.opened_at.clone(),
            projects_until: r.projects_until.clone(),
            closes_at: r.closes_at.clone(),
            status: r.status,
            phase,
            voting_closed,
            projects,
            ballot_count: r.ballots.len() as u64,
            ballots,
            outcome: r.outcome.as_ref().map(|o| RoundOutcomeView::of(state, o)),
            closed_seq: r.closed_seq,
            closed_at: r.closed_at.clone(),
            close_reason: r.close_reason.clone(),
        }
    }
}

/// A page of rounds, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundList {
    /// The rounds.
    pub rounds: Vec<RoundSummary>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl RoundList {
    /// The rounds of `fund` (all funds when `None`) with the given status, paged.
    pub fn of(state: &State, fund: Option<&FundId>, status: Option<RoundStatus>, page: Page) -> RoundList {
        let mut all: Vec<&RoundState> = state
            .funds
            .rounds
            .values()
            .filter(|r| fund.is_none_or(|f| &r.fund == f))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .collect();
        all.sort_by_key(|r| r.seq);
        let (rounds, next) = page.take(all.into_iter().map(|r| (r.seq, RoundSummary::of(r))));
        RoundList { rounds, next }
    }
}
