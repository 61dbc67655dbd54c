//! A reconciliation's steps (SPEC §4.1, §4.5), run by `Funds::reconcile`: [`check`] the
//! author and the body, plan what each `confirmed` entry does to the fund
//! ([`Funds::plan_confirmations`]; `returned` is planned in returns.rs), and only when
//! everything holds write it ([`Funds::write_confirmations`]). A refusal changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::returns::{self, ReturnPlan};
use super::{
    income, money, opt_id, Balances, ContributionState, ContributionStatus, Ctx, DisbursementState, DisbursementStatus,
    Fund, FundStatus, Funds, IncomeState, IncomeStatus, MatchingPledge, ReconciliationRecord, Refund,
};
use crate::entry::Reconciliation;
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::Balance;

/// The fund as the reconciliation will leave it, built up entry by entry.
pub(super) struct ConfirmPlan {
    balances: Balances,
    contributed: BTreeMap<MemberId, Balance>,
    pledges: Vec<MatchingPledge>,
    refunds: BTreeMap<MemberId, Refund>,
    contributions: Vec<EntryId>,
    incomes: Vec<EntryId>,
    disbursements: Vec<EntryId>,
    /// The payment references of the incomes it confirms.
    income_references: Vec<String>,
}

impl ConfirmPlan {
    /// What `returned` may still change: the plan's balances, contributed totals, pledges
    /// and refunds.
    pub(super) fn pending(&mut self) -> returns::Pending<'_> {
        returns::Pending {
            balances: &mut self.balances,
            contributed: &mut self.contributed,
            pledges: &mut self.pledges,
            refunds: &mut self.refunds,
        }
    }

    /// The plan's balances hold the fund's invariants.
    pub(super) fn check_balances(&self, fund: &FundId) -> Result<(), Refusal> {
        self.balances.check(fund)
    }

    /// A pledged contribution arrives: confirmed, available (or owed back after the end),
    /// counted for its author and for the matching pledges.
    fn contribution(&mut self, ctx: &Ctx<'_>, fund: &Fund, id: &EntryId, c: &ContributionState) -> Result<(), Refusal> {
        if c.fund != fund.id {
            return Err(Refusal::new(
                Code::WrongFund,
                format!("contribution {id} is to fund {}, not {}", c.fund, fund.id),
            ));
        }
        match c.status {
            ContributionStatus::Pledged => {}
            ContributionStatus::Confirmed | ContributionStatus::Returned => {
                return Err(Refusal::new(
                    Code::AlreadyConfirmed,
                    format!("contribution {id} was already confirmed by {}", opt_id(c.confirmed_by())),
                ));
            }
            ContributionStatus::Reversed => {
                return Err(Refusal::new(
                    Code::EntryReversed,
                    format!("contribution {id} was reversed by {}", opt_id(c.reversed_by())),
                ));
            }
        }
        let balances = &mut self.balances;
        balances.pledged = money(balances.pledged.minus(c.amount), "pledged")?;
        balances.confirmed = money(balances.confirmed.plus(c.amount), "confirmed")?;
        if fund.status == FundStatus::Dissolved {
            // Money that arrives after the end is owed back to whoever sent it.
            balances.committed = money(balances.committed.plus(c.amount), "committed")?;
            let r = self.refunds.entry(c.author.clone()).or_default();
            r.contributed = money(r.contributed.plus(c.amount), "refund")?;
            r.owed = money(r.owed.plus(c.amount), "refund")?;
        } else {
            balances.available = money(balances.available.plus(c.amount), "available")?;
        }
        let prev = match self.contributed.get(&c.author) {
            Some(v) => *v,
            None => fund.contributed.get(&c.author).copied().unwrap_or_default(),
        };
        self.contributed.insert(c.author.clone(), money(prev.plus(c.amount), "contributed")?);
        let kind = ctx.register.member(&c.author).and_then(|m| m.member_kind);
        for p in &mut self.pledges {
            *p = p.count(c, kind)?;
        }
        self.contributions.push(*id);
        Ok(())
    }

    /// Pledged income arrives: confirmed, available (or shared out among the refunds, pro
    /// rata, after the end).
    fn income(&mut self, fund: &Fund, id: &EntryId, i: &IncomeState) -> Result<(), Refusal> {
        if i.fund != fund.id {
            return Err(Refusal::new(Code::WrongFund, format!("income {id} is to fund {}, not {}", i.fund, fund.id)));
        }
        match i.status {
            IncomeStatus::Pledged => {}
            IncomeStatus::Confirmed | IncomeStatus::Returned => {
                return Err(Refusal::new(
                    Code::AlreadyConfirmed,
                    format!("income {id} was already confirmed by {}", opt_id(i.confirmed_by)),
                ));
            }
            IncomeStatus::Reversed => {
                return Err(Refusal::new(
                    Code::EntryReversed,
                    format!("income {id} was reversed by {}", opt_id(i.reversed_by)),
                ));
            }
        }
        let balances = &mut self.balances;
        balances.pledged = money(balances.pledged.minus(i.amount), "pledged")?;
        balances.confirmed = money(balances.confirmed.plus(i.amount), "confirmed")?;
        if fund.status == FundStatus::Dissolved {
            // Outside money that arrives after the end joins the refunds, pro rata.
            balances.committed = money(balances.committed.plus(i.amount), "committed")?;
            let mut weights = fund.contributed.clone();
            weights.extend(self.contributed.clone());
            self.refunds = income::share_out(&self.refunds, &weights, &fund.members, i.amount.into())?;
        } else {
            balances.available = money(balances.available.plus(i.amount), "available")?;
        }
        self.incomes.push(*id);
        self.income_references.push(i.reference.clone());
        Ok(())
    }

    /// An executed payout is seen at the bank.
    fn disbursement(&mut self, fund: &Fund, id: &EntryId, d: &DisbursementState) -> Result<(), Refusal> {
        if d.fund != fund.id {
            return Err(Refusal::new(
                Code::WrongFund,
                format!("disbursement {id} is from fund {}, not {}", d.fund, fund.id),
            ));
        }
        let refusal = match d.status {
            DisbursementStatus::Executed => {
                self.disbursements.push(*id);
                return Ok(());
            }
            DisbursementStatus::Confirmed => Refusal::new(
                Code::AlreadyConfirmed,
                format!("disbursement {id} was already confirmed by {}", opt_id(d.confirmed_by)),
            ),
            DisbursementStatus::Reversed | DisbursementStatus::Lapsed => Refusal::new(
                Code::EntryReversed,
                format!("disbursement {id} was reversed by {}", opt_id(d.reversed_by)),
            ),
            DisbursementStatus::Returned => Refusal::new(
                Code::AlreadyConfirmed,
                format!("disbursement {id} was returned by the bank ({})", opt_id(d.returned_by)),
            ),
            DisbursementStatus::Pending => Refusal::new(
                Code::DisbursementNotExecuted,
                format!("disbursement {id} has {} of the approvals it needs; a payout is confirmed only after it is executed", d.approvals.len()),
            ),
        };
        Err(refusal)
    }
}

/// Only a treasurer reconciles; the period is in order; a statement is reconciled once; no
/// entry is listed twice in `confirmed`.
pub(super) fn check(fund: &Fund, author: &MemberId, b: &Reconciliation) -> Result<(), Refusal> {
    if !fund.is_treasurer(author) {
        return Err(Refusal::new(
            Code::NotTreasurer,
            format!("{author} is not a treasurer of {}; only treasurers reconcile", b.fund),
        ));
    }
    if b.period_from > b.period_to {
        return Err(Refusal::new(
            Code::BadPeriod,
            format!("period_from {} is after period_to {}", b.period_from, b.period_to),
        ));
    }
    if let Some(r) = fund.reconciliations.iter().find(|r| r.statement_sha256 == b.statement_sha256) {
        return Err(Refusal::new(
            Code::DuplicateStatement,
            format!("statement {} was already reconciled by {}", b.statement_sha256, r.id),
        ));
    }
    let mut seen = BTreeSet::new();
    for id in &b.confirmed {
        if !seen.insert(*id) {
            return Err(Refusal::new(Code::DuplicateConfirmation, format!("entry {id} is listed twice in confirmed")));
        }
    }
    Ok(())
}

impl Funds {
    /// What each entry of `confirmed` does to the fund, checked, nothing written.
    pub(super) fn plan_confirmations(
        &self,
        ctx: &Ctx<'_>,
        fund: &Fund,
        b: &Reconciliation,
    ) -> Result<ConfirmPlan, Refusal> {
        let mut plan = ConfirmPlan {
            balances: fund.balances,
            contributed: BTreeMap::new(),
            pledges: fund.matching.clone(),
            refunds: fund.dissolution.as_ref().map(|d| d.refunds.clone()).unwrap_or_default(),
            contributions: Vec::new(),
            incomes: Vec::new(),
            disbursements: Vec::new(),
            income_references: Vec::new(),
        };
        for id in &b.confirmed {
            if let Some(c) = self.contributions.get(id) {
                plan.contribution(ctx, fund, id, c)?;
            } else if let Some(i) = self.incomes.get(id) {
                plan.income(fund, id, i)?;
            } else if let Some(d) = self.disbursements.get(id) {
                plan.disbursement(fund, id, d)?;
            } else {
                return Err(Refusal::new(Code::UnknownEntry, format!("no contribution, income or disbursement {id}")));
            }
        }
        Ok(plan)
    }

    /// Write a checked reconciliation: the fund's new balances and totals, its record, and
    /// the status of every entry it confirms or returns.
    pub(super) fn write_confirmations(
        &mut self,
        ctx: &Ctx<'_>,
        b: &Reconciliation,
        author: &MemberId,
        plan: ConfirmPlan,
        returns: ReturnPlan,
    ) -> Result<(), Refusal> {
        let record = ReconciliationRecord {
            id: ctx.id,
            seq: ctx.seq,
            author: author.clone(),
            statement_sha256: b.statement_sha256.clone(),
            period_from: b.period_from,
            period_to: b.period_to,
            opening_balance: b.opening_balance,
            closing_balance: b.closing_balance,
            confirmed: b.confirmed.len(),
            returned: b.returned.len(),
            unmatched_bank_lines: b.unmatched_bank_lines,
        };
        let fund = self.fund_mut(&b.fund)?;
        fund.balances = plan.balances;
        fund.contributed.extend(plan.contributed);
        fund.matching = plan.pledges;
        if let Some(d) = &mut fund.dissolution {
            d.refunds = plan.refunds;
        }
        fund.reconciliations.push(record);
        for r in &plan.income_references {
            self.unpledge_income_reference(&b.fund, r);
        }
        for id in &plan.contributions {
            self.contributions.update(id, |c| {
                c.status = ContributionStatus::Confirmed;
                let x = c.extra_mut();
                x.confirmed_by = Some(ctx.id);
                x.confirmed_at = Some(ctx.received_at.clone());
            });
        }
        for id in &plan.incomes {
            if let Some(i) = self.incomes.get_mut(id) {
                i.status = IncomeStatus::Confirmed;
                i.confirmed_by = Some(ctx.id);
                i.confirmed_at = Some(ctx.received_at.clone());
            }
        }
        self.write_returns(ctx, returns);
        for id in &plan.disbursements {
            if let Some(d) = self.disbursements.get_mut(id) {
                d.status = DisbursementStatus::Confirmed;
                d.confirmed_by = Some(ctx.id);
            }
        }
        Ok(())
    }
}
