//! `GET /v1/funds/{id}/flows`: a fund's contributions and disbursements with
//! their status, in log order (a fund's whole history: not paged).

use serde::{Deserialize, Serialize};

use crate::funds::{
    ContributionState, ContributionStatus, DisbursementState, DisbursementStatus, Fund, IncomeState, IncomeStatus,
    PayoutKind, ReleaseKind,
};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Amount, Balance};
use crate::state::State;
use crate::time::Timestamp;
use crate::views::BalancesView;

/// One contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContributionView {
    /// The contribution entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// Who gives.
    pub author: MemberId,
    /// How much.
    pub amount: Amount,
    /// The payment reference on the bank transfer.
    pub reference: String,
    /// A note.
    pub note: Option<String>,
    /// When the ledger received it.
    pub received_at: Timestamp,
    /// Pledged, confirmed or reversed.
    pub status: ContributionStatus,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryId>,
    /// The reversal that undid it.
    pub reversed_by: Option<EntryId>,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// The matching pledge this payment settles.
    pub matching: Option<EntryId>,
    /// When the reconciliation that confirmed it was received.
    pub confirmed_at: Option<Timestamp>,
    /// When it was reversed.
    pub reversed_at: Option<Timestamp>,
    /// The reconciliation that recorded the bank returning it.
    pub returned_by: Option<EntryId>,
    /// When.
    pub returned_at: Option<Timestamp>,
}

impl From<&ContributionState> for ContributionView {
    fn from(c: &ContributionState) -> Self {
        ContributionView {
            id: c.id,
            seq: c.seq,
            fund: c.fund.clone(),
            author: c.author.clone(),
            amount: c.amount,
            reference: c.reference.to_string(),
            note: c.note.as_deref().map(str::to_string),
            received_at: c.received_at.clone(),
            status: c.status,
            confirmed_by: c.confirmed_by(),
            reversed_by: c.reversed_by(),
            reversal_reason: c.reversal_reason().map(str::to_string),
            matching: c.matching(),
            confirmed_at: c.confirmed_at().cloned(),
            reversed_at: c.reversed_at().cloned(),
            returned_by: c.returned_by(),
            returned_at: c.returned_at().cloned(),
        }
    }
}

/// One income: money from outside the members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncomeView {
    /// The income entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// The treasurer who recorded it.
    pub author: MemberId,
    /// How much.
    pub amount: Amount,
    /// `donation`, `grant`, `interest` or `other`.
    pub source_kind: String,
    /// A public label of the source.
    pub source: String,
    /// The payment reference on the bank line.
    pub reference: String,
    /// When the ledger received it.
    pub received_at: Timestamp,
    /// `pledged`, `confirmed`, `reversed` or `returned`.
    pub status: String,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryId>,
    /// When that reconciliation was received.
    pub confirmed_at: Option<Timestamp>,
    /// The reversal that undid it, or the reconciliation that recorded its return.
    pub reversed_by: Option<EntryId>,
    /// When it was reversed.
    pub reversed_at: Option<Timestamp>,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// When the bank returned it.
    pub returned_at: Option<Timestamp>,
}

impl From<&IncomeState> for IncomeView {
    fn from(i: &IncomeState) -> Self {
        let status = match i.status {
            IncomeStatus::Pledged => "pledged",
            IncomeStatus::Confirmed => "confirmed",
            IncomeStatus::Reversed => "reversed",
            IncomeStatus::Returned => "returned",
        };
        IncomeView {
            id: i.id,
            seq: i.seq,
            fund: i.fund.clone(),
            author: i.author.clone(),
            amount: i.amount,
            source_kind: i.source_kind.as_str().into(),
            source: i.source.clone(),
            reference: i.reference.clone(),
            received_at: i.received_at.clone(),
            status: status.into(),
            confirmed_by: i.confirmed_by,
            confirmed_at: i.confirmed_at.clone(),
            reversed_by: i.reversed_by,
            reversed_at: i.reversed_at.clone(),
            reversal_reason: i.reversal_reason.clone(),
            returned_at: i.returned_at.clone(),
        }
    }
}

/// An allocation ended early: released by its recipient or cancelled by vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseView {
    /// The allocation (passed proposal or selected project).
    pub allocation: EntryId,
    /// `released` or `cancelled`.
    pub how: String,
    /// The `allocation.release` entry or the cancellation proposal.
    pub by: EntryId,
    /// The record that ended it.
    pub seq: u64,
    /// When.
    pub released_at: Timestamp,
    /// What left `committed` (plus any of its payouts the bank brought back since).
    pub amount: Balance,
    /// The recipient's reason, or the cancellation's title.
    pub reason: String,
    /// Payout requests that lapsed with it.
    pub lapsed: Vec<EntryId>,
}

/// One treasurer's approval of a payout: who, in which entry, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalView {
    /// The treasurer.
    pub member: MemberId,
    /// The `disbursement` (the request) or `disbursement.approve` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// When the ledger received it.
    pub received_at: Timestamp,
}

/// One disbursement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisbursementView {
    /// The disbursement entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// The passed allocation, selected project or dissolution it pays; null for a cost.
    pub allocation: Option<EntryId>,
    /// Allocation, refund or cost.
    pub payout: PayoutKind,
    /// The member who is paid; null for a cost (its payee is in `cost`).
    pub recipient: Option<MemberId>,
    /// How much.
    pub amount: Amount,
    /// The bank payment's end-to-end id.
    pub reference: String,
    /// The treasurer who requested it (its first approval).
    pub requested_by: MemberId,
    /// When.
    pub requested_at: Timestamp,
    /// Treasurers who approved, in order, the requester first.
    pub approvals: Vec<MemberId>,
    /// The same approvals with their entry and time.
    pub approval_records: Vec<ApprovalView>,
    /// Approvals the charter requires.
    pub approvals_required: u32,
    /// Pending, executed, confirmed or reversed.
    pub status: DisbursementStatus,
    /// The record that executed it.
    pub executed_seq: Option<u64>,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryId>,
    /// The reversal that withdrew it.
    pub reversed_by: Option<EntryId>,
    /// Why it was withdrawn.
    pub reversal_reason: Option<String>,
    /// What a cost pays for: category, payee, description.
    pub cost: Option<CostView>,
    /// When it executed.
    pub executed_at: Option<Timestamp>,
    /// When it was reversed, or lapsed with its allocation.
    pub reversed_at: Option<Timestamp>,
    /// The reconciliation that recorded the bank returning the money.
    pub returned_by: Option<EntryId>,
    /// When.
    pub returned_at: Option<Timestamp>,
}

/// A cost of running the fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostView {
    /// `bank_fee`, `administration`, `insurance` or `other`.
    pub category: String,
    /// The organisation paid.
    pub payee: String,
    /// What for.
    pub description: String,
}

impl DisbursementView {
    /// The view of `d`, paid from a fund whose charter requires `approvals_required`.
    pub fn of(d: &DisbursementState, approvals_required: u32) -> DisbursementView {
        let approval_records = d
            .approvals
            .iter()
            .zip(&d.approval_records)
            .map(|(m, r)| ApprovalView { member: m.clone(), id: r.id, seq: r.seq, received_at: r.received_at.clone() })
            .collect();
        DisbursementView {
            id: d.id,
            seq: d.seq,
            fund: d.fund.clone(),
            allocation: d.allocation,
            payout: d.payout,
            recipient: d.recipient.clone(),
            amount: d.amount,
            reference: d.reference.clone(),
            requested_by: d.requested_by.clone(),
            requested_at: d.requested_at.clone(),
            approvals: d.approvals.clone(),
            approval_records,
            approvals_required,
            status: d.status,
            executed_seq: d.executed_seq,
            confirmed_by: d.confirmed_by,
            reversed_by: d.reversed_by,
            reversal_reason: d.reversal_reason.clone(),
            cost: d.cost.as_ref().map(|c| CostView {
                category: c.category.as_str().into(),
                payee: c.payee.clone(),
                description: c.description.clone(),
            }),
            executed_at: d.executed_at.clone(),
            reversed_at: d.reversed_at.clone(),
            returned_by: d.returned_by,
            returned_at: d.returned_at.clone(),
        }
    }
}

/// A fund's money in and out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowsView {
    /// The fund.
    pub fund: FundId,
    /// Its balances.
    pub balances: BalancesView,
    /// Its contributions, in log order.
    pub contributions: Vec<ContributionView>,
    /// Its disbursements, in log order.
    pub disbursements: Vec<DisbursementView>,
    /// Its incomes (money from outside the members), in log order.
    pub incomes: Vec<IncomeView>,
    /// Its allocations ended early, in log order.
    pub releases: Vec<ReleaseView>,
}

impl FlowsView {
    /// The flows of fund `f`.
    pub fn of(state: &State, f: &Fund) -> FlowsView {
        let contributions = state.funds.contributions_of(f).map(ContributionView::from).collect();
        let disbursements = f
            .disbursements
            .iter()
            .filter_map(|d| state.funds.disbursements.get(d))
            .map(|d| DisbursementView::of(d, f.charter.approvals_required))
            .collect();
        let incomes = f.incomes.iter().filter_map(|i| state.funds.incomes.get(i)).map(IncomeView::from).collect();
        let mut releases: Vec<ReleaseView> = state
            .funds
            .releases
            .values()
            .filter(|r| r.fund == f.id)
            .map(|r| ReleaseView {
                allocation: r.allocation,
                how: match r.how {
                    ReleaseKind::Released => "released".into(),
                    ReleaseKind::Cancelled => "cancelled".into(),
                },
                by: r.by,
                seq: r.seq,
                released_at: r.at.clone(),
                amount: r.amount,
                reason: r.reason.clone(),
                lapsed: r.lapsed.clone(),
            })
            .collect();
        releases.sort_by_key(|r| r.seq);
        FlowsView { fund: f.id.clone(), balances: f.balances.into(), contributions, disbursements, incomes, releases }
    }
}
