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
    /// Still pending when its allocation was released or cancelled: it will never execute.
    Lapsed,
    /// Executed, but the bank returned the money (a reconciliation's `returned`).
    Returned,
}

/// What a disbursement pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutKind {
    /// A passed allocation, to its recipient.
    Allocation,
    /// A contributor's refund after a dissolution.
    Refund,
    /// A cost of running the fund (bank fees, administration, insurance), to an outside payee.
    Cost,
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
    /// The passed allocation (or dissolution) it pays; none for a cost.
    pub allocation: Option<EntryId>,
    /// Allocation, refund or cost.
    pub payout: PayoutKind,
    /// Who is paid: the member; none for a cost (see `cost.payee`).
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
    /// What a cost pays for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::entry::Cost>,
    /// When it executed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_at: Option<Timestamp>,
    /// When it was reversed or lapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_at: Option<Timestamp>,
    /// The reconciliation that recorded the bank returning it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_by: Option<EntryId>,
    /// When that reconciliation was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<Timestamp>,
}

impl DisbursementState {
    /// Who receives the money: the member, or a cost's payee.
    pub fn payee(&self) -> String {
        match (&self.recipient, &self.cost) {
            (Some(m), _) => m.to_string(),
            (None, Some(c)) => c.payee.clone(),
            (None, None) => String::new(),
        }
    }
}

/// The account a disbursement draws on: an allocation, or one contributor's refund.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Account {
    Allocation(EntryId),
    Refund(FundId, MemberId),
}

/// Pending disbursements that a charter change lets execute, with the new `paid` of their accounts.
pub(super) struct Executions {
    disbursements: Vec<EntryId>,
    paid: BTreeMap<Account, Balance>,
}

pub(super) fn account_of(d: &DisbursementState) -> Option<Account> {
    match (d.payout, d.allocation, &d.recipient) {
        (PayoutKind::Allocation, Some(a), _) => Some(Account::Allocation(a)),
        (PayoutKind::Refund, _, Some(m)) => Some(Account::Refund(d.fund.clone(), m.clone())),
        _ => None,
    }
}

impl Funds {
    /// `(requested, paid)` of an account.
    pub(super) fn account(&self, a: &Account) -> Result<(Balance, Balance), Refusal> {
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

    pub(super) fn set_account(&mut self, a: &Account, requested: Option<Balance>, paid: Option<Balance>) {
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

    /// `disbursement`: a treasurer requests a payout of a passed allocation, a
    /// refund of a dissolved fund, or a cost.
    pub(super) fn disburse(&mut self, ctx: &Ctx<'_>, b: &Disbursement) -> Result<(), Refusal> {
        let author = ctx.member("disbursement")?;
        let Some(allocation) = b.allocation else {
            return self.disburse_cost(ctx, author, b);
        };
        let (fund, payout, recipient) = if let Some(p) = self.proposals.get(&allocation) {
            let fund = self.known_fund(&p.fund)?;
            check_requester(fund, author, b)?;
            if !matches!(p.proposal_kind, ProposalKind::Allocation | ProposalKind::Dissolution) {
                return Err(Refusal::new(
                    Code::NotAnAllocation,
                    format!("proposal {allocation} is not an allocation or a dissolution; it pays nothing"),
                ));
            }
            if p.outcome != Some(Outcome::Passed) {
                return Err(Refusal::new(
                    Code::AllocationNotPassed,
                    format!("proposal {allocation} has not passed (it is {})", describe(p.outcome)),
                ));
            }
            match p.proposal_kind {
                ProposalKind::Allocation => {
                    let (Some(total), Some(recipient)) = (p.amount, &p.recipient) else {
                        return Err(Refusal::new(
                            Code::NotAnAllocation,
                            format!("proposal {allocation} has no amount or recipient"),
                        ));
                    };
                    check_recipient(b, recipient)?;
                    self.check_remainder(b, allocation, total, p.requested)?;
                    (fund, PayoutKind::Allocation, recipient.clone())
                }
                _ => (fund, PayoutKind::Refund, refund_recipient(fund, b, allocation)?),
            }
        } else if let Some(p) = self.projects.get(&allocation) {
            // A project selected in a budgeting round is an allocation of its cost to its recipient.
            let fund = self.known_fund(&p.fund)?;
            check_requester(fund, author, b)?;
            match p.status {
                ProjectStatus::Selected => {}
                ProjectStatus::Candidate => {
                    return Err(Refusal::new(
                        Code::AllocationNotPassed,
                        format!("project {allocation} is in round {}, which has not closed", p.round),
                    ));
                }
                ProjectStatus::NotSelected => {
                    return Err(Refusal::new(
                        Code::AllocationNotPassed,
                        format!("project {allocation} was not selected in round {}", p.round),
                    ));
                }
            }
            check_recipient(b, &p.recipient)?;
            self.check_remainder(b, allocation, p.cost, p.requested)?;
            (fund, PayoutKind::Allocation, p.recipient.clone())
        } else {
            return Err(Refusal::new(Code::UnknownAllocation, format!("no proposal or round project {allocation}")));
        };
        if &recipient == author {
            return Err(Refusal::new(
                Code::RecipientCannotRequest,
                format!("{author} is the recipient; another treasurer must request its payout"),
            ));
        }
        let account = match payout {
            PayoutKind::Refund => Account::Refund(fund.id.clone(), recipient.clone()),
            _ => Account::Allocation(allocation),
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

        let d = new_state(ctx, author, b, &fund.id, payout, Some(recipient), executes);
        let fund_id = fund.id.clone();
        let f = self.fund_mut(&fund_id)?;
        f.balances = balances;
        f.disbursements.push(ctx.id);
        self.set_account(&account, Some(requested), paid);
        self.disbursements.insert(ctx.id, d);
        Ok(())
    }

    /// A cost: at most the charter's `max_cost`, reserved from `available` at
    /// once (moved to `committed`), with the same approvals as any payout.
    fn disburse_cost(&mut self, ctx: &Ctx<'_>, author: &MemberId, b: &Disbursement) -> Result<(), Refusal> {
        let Some(fund_id) = &b.fund else {
            return Err(Refusal::new(Code::BadDisbursement, "a cost names its fund"));
        };
        let fund = self.known_fund(fund_id)?;
        check_requester(fund, author, b)?;
        let max = fund.charter.max_cost();
        if b.amount > max {
            return Err(Refusal::new(
                Code::OverMaxCost,
                format!("cost {} is above the charter's max_cost of {max}; a larger payout is an allocation and goes to a vote", b.amount),
            ));
        }
        let mut balances = fund.balances;
        if Balance::from(b.amount) > balances.available {
            return Err(Refusal::new(
                Code::InsufficientFunds,
                format!("cost {} is above the fund's available balance {}", b.amount, balances.available),
            ));
        }
        balances.available = money(balances.available.minus(b.amount), "available")?;
        balances.committed = money(balances.committed.plus(b.amount), "committed")?;
        let executes = fund.charter.approvals_required <= 1;
        if executes {
            execute(&mut balances, b.amount, Balance::ZERO)?;
        }
        balances.check(fund_id)?;
        let d = new_state(ctx, author, b, fund_id, PayoutKind::Cost, None, executes);
        let f = self.fund_mut(fund_id)?;
        f.balances = balances;
        f.disbursements.push(ctx.id);
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
        if d.recipient.as_ref() == Some(author) {
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
        let paid = match (&account, executes) {
            (Some(a), true) => Some(execute(&mut balances, d.amount, self.account(a)?.1)?),
            (None, true) => Some(execute(&mut balances, d.amount, Balance::ZERO)?),
            (_, false) => None,
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
                d.executed_at = Some(ctx.received_at.clone());
            }
        }
        if let Some(a) = &account {
            self.set_account(a, None, paid);
        }
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
            DisbursementStatus::Executed | DisbursementStatus::Confirmed | DisbursementStatus::Returned => {
                return Err(Refusal::new(
                    Code::DisbursementExecuted,
                    format!("disbursement {} has been executed; a payout that went out cannot be reversed", d.id),
                ));
            }
            DisbursementStatus::Reversed | DisbursementStatus::Lapsed => {
                return Err(Refusal::new(
                    Code::AlreadyReversed,
                    format!(
                        "disbursement {} was already {} by {}",
                        d.id,
                        status_word(d.status),
                        super::opt_id(d.reversed_by)
                    ),
                ));
            }
        }
        let account = account_of(d);
        let mut balances = fund.balances;
        let requested = match &account {
            Some(a) => Some(money(self.account(a)?.0.minus(d.amount), "requested")?),
            None => {
                // A pending cost gives its reservation back to available.
                balances.committed = money(balances.committed.minus(d.amount), "committed")?;
                balances.available = money(balances.available.plus(d.amount), "available")?;
                None
            }
        };
        balances.check(&d.fund)?;
        let fund_id = d.fund.clone();
        self.fund_mut(&fund_id)?.balances = balances;
        if let Some(d) = self.disbursements.get_mut(&b.entry) {
            d.status = DisbursementStatus::Reversed;
            d.reversed_by = Some(ctx.id);
            d.reversal_reason = Some(b.reason.clone());
            d.reversed_at = Some(ctx.received_at.clone());
        }
        if let (Some(a), Some(r)) = (&account, requested) {
            self.set_account(a, Some(r), None);
        }
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
            match account_of(d) {
                Some(account) => {
                    let paid = match out.paid.get(&account) {
                        Some(p) => *p,
                        None => self.account(&account)?.1,
                    };
                    let paid = execute(balances, d.amount, paid)?;
                    out.paid.insert(account, paid);
                }
                None => {
                    execute(balances, d.amount, Balance::ZERO)?;
                }
            }
            out.disbursements.push(d.id);
        }
        Ok(out)
    }

    pub(super) fn write_executions(&mut self, e: Executions, seq: Seq, at: &Timestamp) {
        for id in &e.disbursements {
            if let Some(d) = self.disbursements.get_mut(id) {
                d.status = DisbursementStatus::Executed;
                d.executed_seq = Some(seq);
                d.executed_at = Some(at.clone());
            }
        }
        for (a, paid) in &e.paid {
            self.set_account(a, None, Some(*paid));
        }
    }
}

/// The requester must be a treasurer of the fund named (if any) and of the allocation's fund.
fn check_requester(fund: &Fund, author: &MemberId, b: &Disbursement) -> Result<(), Refusal> {
    if let Some(named) = &b.fund {
        if named != &fund.id {
            return Err(Refusal::new(
                Code::WrongFund,
                format!("the disbursement names fund {named}, but what it pays belongs to {}", fund.id),
            ));
        }
    }
    if !fund.is_treasurer(author) {
        return Err(Refusal::new(
            Code::NotTreasurer,
            format!("{author} is not a treasurer of {}; only treasurers request payouts", fund.id),
        ));
    }
    Ok(())
}

/// A `recipient` given with an allocation must be the allocation's recipient.
fn check_recipient(b: &Disbursement, recipient: &MemberId) -> Result<(), Refusal> {
    match &b.recipient {
        Some(named) if named != recipient => Err(Refusal::new(
            Code::WrongRecipient,
            format!("the disbursement names {named} as recipient, but the allocation pays {recipient}"),
        )),
        _ => Ok(()),
    }
}

/// The state of a new disbursement request.
fn new_state(
    ctx: &Ctx<'_>,
    author: &MemberId,
    b: &Disbursement,
    fund: &FundId,
    payout: PayoutKind,
    recipient: Option<MemberId>,
    executes: bool,
) -> DisbursementState {
    DisbursementState {
        id: ctx.id,
        seq: ctx.seq,
        fund: fund.clone(),
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
        cost: b.cost.clone(),
        executed_at: executes.then(|| ctx.received_at.clone()),
        reversed_at: None,
        returned_by: None,
        returned_at: None,
    }
}

impl Funds {
    /// A request must fit in what is left of the allocation: `total − requested − released`.
    fn check_remainder(
        &self,
        b: &Disbursement,
        allocation: EntryId,
        total: Amount,
        requested: Balance,
    ) -> Result<(), Refusal> {
        let released = self.released(&allocation);
        let remainder = money(Balance::from(total).checked_sub(requested), "remainder")?;
        let remainder = money(remainder.checked_sub(released), "remainder")?;
        if Balance::from(b.amount) > remainder {
            let freed = if released.is_zero() { String::new() } else { format!(", {released} released") };
            return Err(Refusal::new(
                Code::OverAllocationRemainder,
                format!(
                    "{} is above what is left of allocation {allocation}: {remainder} of {total} ({requested} already requested{freed})",
                    b.amount
                ),
            ));
        }
        Ok(())
    }
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

/// Who a refund disbursement pays: its named `recipient`, for at most what is
/// still owed to it (partial refunds allowed).
fn refund_recipient(fund: &Fund, b: &Disbursement, allocation: EntryId) -> Result<MemberId, Refusal> {
    let d = match (&fund.dissolution, fund.status) {
        (Some(d), FundStatus::Dissolved) if d.proposal == allocation => d,
        _ => {
            return Err(Refusal::new(
                Code::AllocationNotPassed,
                format!("{allocation} is not the dissolution of {}", fund.id),
            ))
        }
    };
    let Some(m) = &b.recipient else {
        return Err(Refusal::new(
            Code::MissingRecipient,
            format!("a refund of {} names its recipient: the member whose refund it pays", fund.id),
        ));
    };
    let Some(r) = d.refunds.get(m) else {
        return Err(Refusal::new(
            Code::RefundMismatch,
            format!("{m} is owed no refund by {}: it made no confirmed contribution", fund.id),
        ));
    };
    let left = money(r.owed.checked_sub(r.requested), "refund")?;
    if Balance::from(b.amount) > left {
        return Err(Refusal::new(
            Code::OverRefund,
            format!(
                "{} is above what is still owed to {m}: {left} of {} ({} already requested)",
                b.amount, r.owed, r.requested
            ),
        ));
    }
    Ok(m.clone())
}

fn describe(o: Option<Outcome>) -> &'static str {
    match o {
        None => "still open",
        Some(Outcome::Passed) => "passed",
        Some(Outcome::Rejected) => "rejected",
        Some(Outcome::RejectedNoQuorum) => "rejected for lack of quorum",
        Some(Outcome::RejectedInsufficientFunds) => "rejected for insufficient funds",
        Some(Outcome::Withdrawn) => "withdrawn",
    }
}

pub(super) fn status_word(s: DisbursementStatus) -> &'static str {
    match s {
        DisbursementStatus::Pending => "pending",
        DisbursementStatus::Executed => "executed",
        DisbursementStatus::Confirmed => "confirmed",
        DisbursementStatus::Reversed => "reversed",
        DisbursementStatus::Lapsed => "lapsed",
        DisbursementStatus::Returned => "returned",
    }
}
