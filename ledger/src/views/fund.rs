//! `GET /v1/funds` and `/v1/funds/{id}`: charter, members, treasurers,
//! balances (SPEC §4.3), matching pledges, dissolution, rounds.

use serde::{Deserialize, Serialize};

use crate::entry::{Admission, Charter, DissolutionRule};
use crate::funds::{Balances, Dissolution, Fund, FundStatus, MatchingPledge, ReconciliationRecord};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Amount, Balance, Fraction, Ratio};
use crate::state::State;
use crate::time::{Date, Timestamp};
use crate::views::{Page, RoundSummary};

/// A fund's balances (SPEC §4.3); `confirmed = available + committed + disbursed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalancesView {
    /// Contributions not yet confirmed and not reversed.
    pub pledged: Balance,
    /// Contributions confirmed by a reconciliation.
    pub confirmed: Balance,
    /// Passed allocations (and a dissolution's refunds) not yet paid out.
    pub committed: Balance,
    /// Disbursements with enough approvals.
    pub disbursed: Balance,
    /// `confirmed − committed − disbursed`, never negative.
    pub available: Balance,
}

impl From<Balances> for BalancesView {
    fn from(b: Balances) -> Self {
        BalancesView {
            pledged: b.pledged,
            confirmed: b.confirmed,
            committed: b.committed,
            disbursed: b.disbursed,
            available: b.available,
        }
    }
}

impl From<BalancesView> for Balances {
    fn from(b: BalancesView) -> Self {
        Balances {
            pledged: b.pledged,
            confirmed: b.confirmed,
            committed: b.committed,
            disbursed: b.disbursed,
            available: b.available,
        }
    }
}

/// A fund's charter (SPEC §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharterView {
    /// Open, or by a vote of the members.
    pub admission: Admission,
    /// Who approves payouts.
    pub treasurers: Vec<MemberId>,
    /// Distinct treasurer approvals a payout needs.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub approvals_required: u32,
    /// Share of the counted members that must vote.
    pub quorum: Fraction,
    /// Share of yes among yes and no that passes a proposal (strictly above).
    pub threshold: Fraction,
    /// How long a vote runs.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub voting_period_seconds: u64,
    /// The largest allocation one proposal may ask.
    pub max_request: Amount,
    /// What happens to the money at a dissolution.
    pub dissolution: DissolutionRule,
    /// The threshold of charter, dissolution and exclusion proposals.
    pub amend_threshold: Fraction,
    /// The largest cost a treasurer may pay without a vote (`"100.00"` when the charter names none).
    pub max_cost: Amount,
}

impl From<&Charter> for CharterView {
    fn from(c: &Charter) -> Self {
        CharterView {
            admission: c.admission,
            treasurers: c.treasurers.clone(),
            approvals_required: c.approvals_required,
            quorum: c.quorum.clone(),
            threshold: c.threshold.clone(),
            voting_period_seconds: c.voting_period_seconds,
            max_request: c.max_request,
            dissolution: c.dissolution,
            amend_threshold: c.amend_threshold(),
            max_cost: c.max_cost(),
        }
    }
}

/// One matching pledge of the municipality and what it owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchingPledgeView {
    /// The `pledge.matching` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The municipality.
    pub municipality: MemberId,
    /// Euros matched per euro given.
    pub ratio: Ratio,
    /// The most it will owe.
    pub cap: Amount,
    /// The period starts when the pledge was received.
    pub from: Timestamp,
    /// The last day of the period (inclusive, UTC).
    pub until: Date,
    /// The collectives' confirmed contributions made in the period.
    pub matched: Balance,
    /// `min(cap, ratio × matched)`, to the cent.
    pub owed: Balance,
    /// The municipality's confirmed contributions made in the period.
    pub paid: Balance,
    /// `owed − paid`, never below zero.
    pub outstanding: Balance,
}

impl From<&MatchingPledge> for MatchingPledgeView {
    fn from(m: &MatchingPledge) -> Self {
        MatchingPledgeView {
            id: m.id,
            seq: m.seq,
            municipality: m.municipality.clone(),
            ratio: m.ratio.clone(),
            cap: m.cap,
            from: m.from.clone(),
            until: m.until,
            matched: m.matched,
            owed: m.owed,
            paid: m.paid,
            outstanding: m.outstanding,
        }
    }
}

/// One contributor's refund after a dissolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundView {
    /// The contributor.
    pub member: MemberId,
    /// Its confirmed contributions to the fund.
    pub contributed: Balance,
    /// Its share of the pool.
    pub owed: Balance,
    /// Requested in disbursements not reversed.
    pub requested: Balance,
    /// Paid out.
    pub paid: Balance,
    /// `owed − paid`.
    pub outstanding: Balance,
}

/// A fund's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DissolutionView {
    /// The passed dissolution proposal.
    pub proposal: EntryId,
    /// The record that closed it.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// The balance shared out.
    pub pool: Balance,
    /// The refunds, by contributor id.
    pub refunds: Vec<RefundView>,
}

impl From<&Dissolution> for DissolutionView {
    fn from(d: &Dissolution) -> Self {
        let refunds = d
            .refunds
            .iter()
            .map(|(m, r)| RefundView {
                member: m.clone(),
                contributed: r.contributed,
                owed: r.owed,
                requested: r.requested,
                paid: r.paid,
                outstanding: r.owed.checked_sub(r.paid).unwrap_or(r.owed),
            })
            .collect();
        DissolutionView { proposal: d.proposal, seq: d.seq, at: d.at.clone(), pool: d.pool, refunds }
    }
}

/// A contributor's confirmed contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContributorView {
    /// The member.
    pub member: MemberId,
    /// What it gave, confirmed.
    pub confirmed: Balance,
}

/// A recorded bank reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconciliationView {
    /// The reconciliation entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The treasurer who recorded it.
    pub author: MemberId,
    /// SHA-256 of the bank statement file, lowercase hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub statement_sha256: String,
    /// First day of the statement.
    pub period_from: Date,
    /// Last day of the statement.
    pub period_to: Date,
    /// The bank's opening balance.
    pub opening_balance: Balance,
    /// The bank's closing balance.
    pub closing_balance: Balance,
    /// How many entries it confirmed.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub confirmed: u64,
    /// Bank lines matched to no entry.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub unmatched_bank_lines: u64,
}

impl From<&ReconciliationRecord> for ReconciliationView {
    fn from(r: &ReconciliationRecord) -> Self {
        ReconciliationView {
            id: r.id,
            seq: r.seq,
            author: r.author.clone(),
            statement_sha256: r.statement_sha256.clone(),
            period_from: r.period_from,
            period_to: r.period_to,
            opening_balance: r.opening_balance,
            closing_balance: r.closing_balance,
            confirmed: r.confirmed as u64,
            unmatched_bank_lines: r.unmatched_bank_lines,
        }
    }
}

/// How many proposals a fund has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalCounts {
    /// All of them.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub total: u64,
    /// Those still taking votes.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub open: u64,
}

/// Everything about a fund (`GET /v1/funds/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundView {
    /// Its id.
    pub id: FundId,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub purpose: String,
    /// Active or dissolved.
    pub status: FundStatus,
    /// Who created it.
    pub creator: MemberId,
    /// The `fund.create` record.
    pub created_seq: u64,
    /// When it was created.
    pub created_at: Timestamp,
    /// The current charter.
    pub charter: CharterView,
    /// The record that set the current charter.
    pub charter_seq: u64,
    /// The members: one member, one vote.
    pub members: Vec<MemberId>,
    /// The charter's treasurers.
    pub treasurers: Vec<MemberId>,
    /// The balances.
    pub balances: BalancesView,
    /// The municipality's matching pledges.
    pub matching_pledges: Vec<MatchingPledgeView>,
    /// Confirmed contributions per contributor.
    pub contributors: Vec<ContributorView>,
    /// The dissolution and its refunds, once dissolved.
    pub dissolution: Option<DissolutionView>,
    /// How many proposals, and how many are open.
    pub proposals: ProposalCounts,
    /// Its budgeting rounds, in log order.
    pub rounds: Vec<RoundSummary>,
    /// Its bank reconciliations, in log order.
    pub reconciliations: Vec<ReconciliationView>,
    /// Members excluded by a vote (and not admitted again since), with the reason.
    pub excluded: Vec<ExclusionView>,
}

/// A member excluded from a fund by a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExclusionView {
    /// The member.
    pub member: MemberId,
    /// The exclusion proposal.
    pub proposal: EntryId,
    /// The reason given in it.
    pub reason: String,
    /// The record that closed it.
    pub seq: u64,
}

impl FundView {
    /// The view of fund `f` in `state`.
    pub fn of(state: &State, f: &Fund) -> FundView {
        let open = f.proposals.iter().filter_map(|id| state.funds.proposal(id)).filter(|p| p.outcome.is_none()).count();
        FundView {
            id: f.id.clone(),
            name: f.name.clone(),
            purpose: f.purpose.clone(),
            status: f.status,
            creator: f.creator.clone(),
            created_seq: f.created_seq,
            created_at: f.created_at.clone(),
            charter: CharterView::from(&f.charter),
            charter_seq: f.charter_seq,
            members: f.members.iter().cloned().collect(),
            treasurers: f.charter.treasurers.clone(),
            balances: f.balances.into(),
            matching_pledges: f.matching.iter().map(MatchingPledgeView::from).collect(),
            contributors: f
                .contributed
                .iter()
                .map(|(m, b)| ContributorView { member: m.clone(), confirmed: *b })
                .collect(),
            dissolution: f.dissolution.as_ref().map(DissolutionView::from),
            proposals: ProposalCounts { total: f.proposals.len() as u64, open: open as u64 },
            rounds: f.rounds.iter().filter_map(|id| state.funds.round(id)).map(RoundSummary::of).collect(),
            reconciliations: f.reconciliations.iter().map(ReconciliationView::from).collect(),
            excluded: f
                .excluded
                .iter()
                .map(|(m, x)| ExclusionView {
                    member: m.clone(),
                    proposal: x.proposal,
                    reason: x.reason.clone(),
                    seq: x.seq,
                })
                .collect(),
        }
    }
}

/// A fund in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundSummary {
    /// Its id.
    pub id: FundId,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub purpose: String,
    /// Active or dissolved.
    pub status: FundStatus,
    /// The `fund.create` record: its position in the list.
    pub created_seq: u64,
    /// The members.
    pub members: Vec<MemberId>,
    /// The charter's treasurers.
    pub treasurers: Vec<MemberId>,
    /// The balances.
    pub balances: BalancesView,
}

impl FundSummary {
    /// The summary of fund `f`.
    pub fn of(f: &Fund) -> FundSummary {
        FundSummary {
            id: f.id.clone(),
            name: f.name.clone(),
            purpose: f.purpose.clone(),
            status: f.status,
            created_seq: f.created_seq,
            members: f.members.iter().cloned().collect(),
            treasurers: f.charter.treasurers.clone(),
            balances: f.balances.into(),
        }
    }
}

/// A page of the funds, in the order of creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundList {
    /// The funds.
    pub funds: Vec<FundSummary>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl FundList {
    /// The funds with the given status (any when `None`), paged.
    pub fn of(state: &State, status: Option<FundStatus>, page: Page) -> FundList {
        let mut all: Vec<&Fund> = state.funds.funds.values().filter(|f| status.is_none_or(|s| f.status == s)).collect();
        all.sort_by_key(|f| f.created_seq);
        let (funds, next) = page.take(all.into_iter().map(|f| (f.created_seq, FundSummary::of(f))));
        FundList { funds, next }
    }
}
