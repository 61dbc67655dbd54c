//! Payouts (SPEC §4.1, §4.3): a treasurer requests a disbursement against a
//! passed allocation, a project selected in a budgeting round, or a
//! dissolution's refunds; it executes once it has
//! `approvals_required` distinct treasurer approvals, the request counting as
//! the requester's; the recipient never requests or approves its own payout.
//! A request reserves its amount against the allocation's remainder, so
//! requests together never exceed the allocation and execution never fails.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{money, Balances, Ctx, Fund, FundStatus, Funds, Outcome, ProjectStatus};
use crate::entry::{Charter, Disbursement, DisbursementApprove, ProposalKind, Reversal};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::money::{Amount, Balance};
use crate::time::Timestamp;

/// Where a disbursement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisbursementStatus {
    /// Waiting for approvals.
    Pending,
    /// Enough approvals: counted as disbursed.
    Executed,
    /// Executed and seen on a bank statement.
    Confirmed,
    /// Withdrawn before it executed.
    Reversed,
}

/// What a disbursement pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutKind {
    /// A passed allocation, to its recipient.
    Allocation,
    /// A contributor's refund after a dissolution.
    Refund,
}

/// One disbursement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisbursementState {
    /// The disbursement entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The fund.
    pub fund: FundId,
    /// The passed allocation (or dissolution) it pays.
    pub allocation: EntryId,
    /// Allocation or refund.
    pub payout: PayoutKind,
    /// Who is paid.
    pub recipient: MemberId,
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
    /// The record of each approval, in the order of `approvals` (the request first).
    #[serde(default)]
    pub approval_records: Vec<crate::record::RecordRef>,
    /// Pending, executed, confirmed or reversed.
    pub status: DisbursementStatus,
    /// The record that executed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_seq: Option<Seq>,
    /// The reconciliation that confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<EntryId>,
    /// The reversal that withdrew it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<EntryId>,
    /// Why it was withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_reason: Option<String>,
}

/// The account a disbursement draws on: an allocation, or one contributor's refund.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Account {
    Allocation(EntryId),
    Refund(FundId, MemberId),
}

/// Pending disbursements that a charter change lets execute, with the new `paid` of their accounts.
pub(super) struct Executions {
    disbursements: Vec<EntryId>,
    paid: BTreeMap<Account, Balance>,
}

fn account_of(d: &DisbursementState) -> Account {
    match d.payout {
        PayoutKind::Allocation => Account::Allocation(d.allocation),
        PayoutKind::Refund => Account::Refund(d.fund.clone(), d.recipient.clone()),
    }
}

impl Funds {
    /// `(requested, paid)` of an account.
    fn account(&self, a: &Account) -> Result<(Balance, Balance), Refusal> {
        let found = match a {
            Account::Allocation(id) => match self.proposals.get(id) {
                Some(p) => Some((p.requested, p.paid)),
                None => self.projects.get(id).map(|p| (p.requested, p.paid)),
            },
            Account::Refund(f, m) => self
                .funds
                .get(f)
                .and_then(|f| f.dissolution.as_ref())
                .and_then(|d| d.refunds.get(m))
                .map(|r| (r.requested, r.paid)),
        };
        found.ok_or_else(|| Refusal::new(Code::UnknownAllocation, "the allocation of this disbursement is gone"))
    }

    fn set_account(&mut self, a: &Account, requested: Option<Balance>, paid: Option<Balance>) {
        let slot = match a {
            Account::Allocation(id) => match self.proposals.get_mut(id) {
                Some(p) => Some((&mut p.requested, &mut p.paid)),
                None => self.projects.get_mut(id).map(|p| (&mut p.requested, &mut p.paid)),
            },
            Account::Refund(f, m) => self
                .funds
                .get_mut(f)
                .and_then(|f| f.dissolution.as_mut())
                .and_then(|d| d.refunds.get_mut(m))
                .map(|r| (&mut r.requested, &mut r.paid)),
        };
        if let Some((r, p)) = slot {
            if let Some(v) = requested {
                *r = v;
            }
            if let Some(v) = paid {
                *p = v;
            }
        }
    }

    /// `disbursement`: a treasurer requests a payout of a passed allocation.
    pub(super) fn disburse(&mut self, ctx: &Ctx<'_>, b: &Disbursement) -> Result<(), Refusal> {
        let author = ctx.member("disbursement")?;
        let (fund, payout, recipient) = if let Some(p) = self.proposals.get(&b.allocation) {
            let fund = self.known_fund(&p.fund)?;
            if !fund.is_treasurer(author) {
                return Err(Refusal::new(
                    Code::NotTreasurer,
                    format!("{author} is not a treasurer of {}; only treasurers request payouts", p.fund),
                ));
            }
            if !matches!(p.proposal_kind, ProposalKind::Allocation | ProposalKind::Dissolution) {
                return Err(Refusal::new(
                    Code::NotAnAllocation,
                    format!("proposal {} is not an allocation or a dissolution; it pays nothing", b.allocation),
                ));
            }
            if p.outcome != Some(Outcome::Passed) {
                return Err(Refusal::new(
                    Code::AllocationNotPassed,
                    format!("proposal {} has not passed (it is {})", b.allocation, describe(p.outcome)),
                ));
            }
            match p.proposal_kind {
                ProposalKind::Allocation => {
                    let (Some(total), Some(recipient)) = (p.amount, &p.recipient) else {
                        return Err(Refusal::new(
                            Code::NotAnAllocation,
                            format!("proposal {} has no amount or recipient", b.allocation),
                        ));
                    };
                    check_remainder(b, total, p.requested)?;
                    (fund, PayoutKind::Allocation, recipient.clone())
                }
                _ => (fund, PayoutKind::Refund, refund_recipient(fund, b, author)?),
            }
        } else if let Some(p) = self.projects.get(&b.allocation) {
            // A project selected in a budgeting round is an allocation of its cost to its recipient.
            let fund = self.known_fund(&p.fund)?;
            if !fund.is_treasurer(author) {
                return Err(Refusal::new(
                    Code::NotTreasurer,
                    format!("{author} is not a treasurer of {}; only treasurers request payouts", p.fund),
                ));
            }
            match p.status {
                ProjectStatus::Selected => {}
                ProjectStatus::Candidate => {
                    return Err(Refusal::new(
                        Code::AllocationNotPassed,
                        format!("project {} is in round {}, which has not closed", b.allocation, p.round),
                    ));
                }
                ProjectStatus::NotSelected => {
                    return Err(Refusal::new(
                        Code::AllocationNotPassed,
                        format!("project {} was not selected in round {}", b.allocation, p.round),
                    ));
                }
            }
            check_remainder(b, p.cost, p.requested)?;
            (fund, PayoutKind::Allocation, p.recipient.clone())
        } else {
            return Err(Refusal::new(
                Code::UnknownAllocation,
                format!("no proposal or round project {}", b.allocation),
            ));
        };
        if &recipient == author {
            return Err(Refusal::new(
                Code::RecipientCannotRequest,
                format!("{author} is the recipient; another treasurer must request its payout"),
            ));
        }
        let account = match payout {
            PayoutKind::Allocation => Account::Allocation(b.allocation),
            PayoutKind::Refund => Account::Refund(fund.id.clone(), recipient.clone()),
        };
        let (requested, paid) = self.account(&account)?;
        let requested = money(requested.plus(b.amount), "requested")?;
        let mut balances = fund.balances;
        if Balance::from(b.amount) > balances.committed {
            return Err(Refusal::new(
                Code::InsufficientFunds,
                format!("{} is above the fund's committed balance {}", b.amount, balances.committed),
            ));
        }
        let executes = fund.charter.approvals_required <= 1;
        let paid = if executes { Some(execute(&mut balances, b.amount, paid)?) } else { None };
        balances.check(&fund.id)?;

        let d = DisbursementState {
            id: ctx.id,
            seq: ctx.seq,
            fund: fund.id.clone(),
            allocation: b.allocation,
            payout,
            recipient,
            amount: b.amount,
            reference: b.reference.clone(),
            requested_by: author.clone(),
            requested_at: ctx.received_at.clone(),
            approvals: vec![author.clone()],
            approval_records: vec![crate::record::RecordRef {
                id: ctx.id,
                seq: ctx.seq,
                received_at: ctx.received_at.clone(),
            }],
            status: if executes { DisbursementStatus::Executed } else { DisbursementStatus::Pending },
            executed_seq: executes.then_some(ctx.seq),
            confirmed_by: None,
            reversed_by: None,
            reversal_reason: None,
        };
        let fund_id = fund.id.clone();
        let f = self.fund_mut(&fund_id)?;
        f.balances = balances;
        f.disbursements.push(ctx.id);
        self.set_account(&account, Some(requested), paid);
        self.disbursements.insert(ctx.id, d);
        Ok(())
    }

    /// `disbursement.approve`: another treasurer, not the recipient, once.
    pub(super) fn approve(&mut self, ctx: &Ctx<'_>, b: &DisbursementApprove) -> Result<(), Refusal> {
        let author = ctx.member("disbursement.approve")?;
        let d = self
            .disbursements
            .get(&b.disbursement)
            .ok_or_else(|| Refusal::new(Code::UnknownDisbursement, format!("no disbursement {}", b.disbursement)))?;
        let fund = self.known_fund(&d.fund)?;
        if !fund.is_treasurer(author) {
            return Err(Refusal::new(
                Code::NotTreasurer,
                format!("{author} is not a treasurer of {}; only treasurers approve payouts", d.fund),
            ));
        }
        if &d.recipient == author {
            return Err(Refusal::new(
                Code::SelfApproval,
                format!("{author} is the recipient of disbursement {}; it may not approve its own payout", d.id),
            ));
        }
        if d.status != DisbursementStatus::Pending {
            return Err(Refusal::new(
                Code::DisbursementNotPending,
                format!("disbursement {} is {}, no longer pending", d.id, status_word(d.status)),
            ));
        }
        if d.approvals.contains(author) {
            return Err(Refusal::new(
                Code::AlreadyApproved,
                format!("{author} has already approved disbursement {}", d.id),
            ));
        }
        let count = d.approvals.iter().filter(|a| fund.is_treasurer(a)).count() + 1;
        let executes = count >= fund.charter.approvals_required as usize;
        let account = account_of(d);
        let mut balances = fund.balances;
        let paid = if executes {
            let (_, paid) = self.account(&account)?;
            Some(execute(&mut balances, d.amount, paid)?)
        } else {
            None
        };
        balances.check(&d.fund)?;

        let fund_id = d.fund.clone();
        self.fund_mut(&fund_id)?.balances = balances;
        if let Some(d) = self.disbursements.get_mut(&b.disbursement) {
            d.approvals.push(author.clone());
            let at = ctx.received_at.clone();
            d.approval_records.push(crate::record::RecordRef { id: ctx.id, seq: ctx.seq, received_at: at });
            if executes {
                d.status = DisbursementStatus::Executed;
                d.executed_seq = Some(ctx.seq);
            }
        }
        self.set_account(&account, None, paid);
        Ok(())
    }

    /// `reversal` of a disbursement: only while pending; frees its reservation.
    pub(super) fn reverse_disbursement(
        &mut self,
        ctx: &Ctx<'_>,
        author: &MemberId,
        b: &Reversal,
    ) -> Result<(), Refusal> {
        let d = self
            .disbursements
            .get(&b.entry)
            .ok_or_else(|| Refusal::new(Code::UnknownEntry, format!("no disbursement {}", b.entry)))?;
        let fund = self.known_fund(&d.fund)?;
        if &d.requested_by != author && !fund.is_treasurer(author) {
            return Err(Refusal::new(
                Code::NotAllowedToReverse,
                format!("only {} or a treasurer of {} may reverse disbursement {}", d.requested_by, d.fund, d.id),
            ));
        }
        match d.status {
            DisbursementStatus::Pending => {}
            DisbursementStatus::Executed | DisbursementStatus::Confirmed => {
                return Err(Refusal::new(
                    Code::DisbursementExecuted,
                    format!("disbursement {} has been executed; a payout that went out cannot be reversed", d.id),
                ));
            }
            DisbursementStatus::Reversed => {
                return Err(Refusal::new(
                    Code::AlreadyReversed,
                    format!("disbursement {} was already reversed by {}", d.id, super::opt_id(d.reversed_by)),
                ));
            }
        }
        let account = account_of(d);
        let (requested, _) = self.account(&account)?;
        let requested = money(requested.minus(d.amount), "requested")?;
        fund.balances.check(&d.fund)?;
        if let Some(d) = self.disbursements.get_mut(&b.entry) {
            d.status = DisbursementStatus::Reversed;
            d.reversed_by = Some(ctx.id);
            d.reversal_reason = Some(b.reason.clone());
        }
        self.set_account(&account, Some(requested), None);
        Ok(())
    }

    /// The pending disbursements of `fund` that have enough approvals under `charter`; updates `balances`.
    pub(super) fn executable(
        &self,
        fund: &Fund,
        charter: &Charter,
        balances: &mut Balances,
    ) -> Result<Executions, Refusal> {
        let mut out = Executions { disbursements: Vec::new(), paid: BTreeMap::new() };
        for id in &fund.disbursements {
            let Some(d) = self.disbursements.get(id) else { continue };
            if d.status != DisbursementStatus::Pending {
                continue;
            }
            let count = d.approvals.iter().filter(|a| charter.treasurers.contains(a)).count();
            if count < charter.approvals_required as usize {
                continue;
            }
            let account = account_of(d);
            let paid = match out.paid.get(&account) {
                Some(p) => *p,
                None => self.account(&account)?.1,
            };
            let paid = execute(balances, d.amount, paid)?;
            out.paid.insert(account, paid);
            out.disbursements.push(d.id);
        }
        Ok(out)
    }

    pub(super) fn write_executions(&mut self, e: Executions, seq: Seq) {
        for id in &e.disbursements {
            if let Some(d) = self.disbursements.get_mut(id) {
                d.status = DisbursementStatus::Executed;
                d.executed_seq = Some(seq);
            }
        }
        for (a, paid) in &e.paid {
            self.set_account(a, None, Some(*paid));
        }
    }
}

/// A request must fit in what is left of the allocation: `total − requested`.
fn check_remainder(b: &Disbursement, total: Amount, requested: Balance) -> Result<(), Refusal> {
    let remainder = money(Balance::from(total).checked_sub(requested), "remainder")?;
    if Balance::from(b.amount) > remainder {
        return Err(Refusal::new(
            Code::OverAllocationRemainder,
            format!(
                "{} is above what is left of allocation {}: {remainder} of {total} ({requested} already requested)",
                b.amount, b.allocation
            ),
        ));
    }
    Ok(())
}

/// Move `amount` from committed to disbursed; the account's new `paid`.
fn execute(balances: &mut Balances, amount: Amount, paid: Balance) -> Result<Balance, Refusal> {
    balances.committed = money(balances.committed.minus(amount), "committed").map_err(|_| {
        Refusal::new(
            Code::InsufficientFunds,
            format!("{amount} is above the fund's committed balance {}", balances.committed),
        )
    })?;
    balances.disbursed = money(balances.disbursed.plus(amount), "disbursed")?;
    money(paid.plus(amount), "paid")
}

/// Who a refund disbursement pays: the first contributor (by member id) whose
/// unrequested refund is exactly the amount, the requester last.
fn refund_recipient(fund: &Fund, b: &Disbursement, author: &MemberId) -> Result<MemberId, Refusal> {
    let d = match (&fund.dissolution, fund.status) {
        (Some(d), FundStatus::Dissolved) if d.proposal == b.allocation => d,
        _ => {
            return Err(Refusal::new(
                Code::AllocationNotPassed,
                format!("{} is not the dissolution of {}", b.allocation, fund.id),
            ))
        }
    };
    let mut own = None;
    for (m, r) in &d.refunds {
        let left = money(r.owed.checked_sub(r.requested), "refund")?;
        if left == Balance::from(b.amount) {
            if m == author {
                own = Some(m.clone());
            } else {
                return Ok(m.clone());
            }
        }
    }
    own.ok_or_else(|| {
        Refusal::new(
            Code::RefundMismatch,
            format!("no contributor of {} is owed exactly {} that has not been requested; a refund pays one contributor's whole share", fund.id, b.amount),
        )
    })
}

fn describe(o: Option<Outcome>) -> &'static str {
    match o {
        None => "still open",
        Some(Outcome::Passed) => "passed",
        Some(Outcome::Rejected) => "rejected",
        Some(Outcome::RejectedNoQuorum) => "rejected for lack of quorum",
        Some(Outcome::RejectedInsufficientFunds) => "rejected for insufficient funds",
    }
}

fn status_word(s: DisbursementStatus) -> &'static str {
    match s {
        DisbursementStatus::Pending => "pending",
        DisbursementStatus::Executed => "executed",
        DisbursementStatus::Confirmed => "confirmed",
        DisbursementStatus::Reversed => "reversed",
    }
}
