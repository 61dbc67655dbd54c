//! Corrections through the bank (SPEC §4.5): a reconciliation's `returned`
//! lists confirmed contributions or incomes that the bank sent back, and
//! executed payouts whose money came back. Their effect is undone, with the
//! statement as evidence; conservation still holds to the cent.
//!
//! - A returned contribution or income leaves `confirmed` and `available`
//!   (refused with `return_exceeds_available` when the money is already
//!   committed or paid: release or cancel first); a contribution also leaves
//!   its author's contributed total and the matching pledges.
//! - A returned payout leaves `disbursed` and goes back where it came from:
//!   to its allocation or refund (`committed`, unpaid again, so it can be
//!   requested anew), or to `available` for a cost or a released allocation.
//! - In a dissolved fund, returns of money in are refused (`fund_dissolved`:
//!   the refunds were computed from it); money out that comes back is owed to
//!   the contributors, pro rata.

use std::collections::{BTreeMap, BTreeSet};

use super::payouts::{account_of, Account, DisbursementStatus, PayoutKind};
use super::{
    money, opt_id, Balances, ContributionStatus, Ctx, Fund, FundStatus, Funds, IncomeStatus, MatchingPledge, Refund,
};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, MemberId};
use crate::money::Balance;

/// What the fund looks like while a reconciliation is being planned.
pub(super) struct Pending<'a> {
    pub balances: &'a mut Balances,
    pub contributed: &'a mut BTreeMap<MemberId, Balance>,
    pub pledges: &'a mut Vec<MatchingPledge>,
    pub refunds: &'a mut BTreeMap<MemberId, Refund>,
}

/// The returns to write, once everything is checked.
#[derive(Default)]
pub(super) struct ReturnPlan {
    contributions: Vec<EntryId>,
    incomes: Vec<EntryId>,
    disbursements: Vec<EntryId>,
    accounts: BTreeMap<Account, (Balance, Balance)>,
    /// Released allocations whose payout came back: the money joins what was released.
    released: BTreeMap<EntryId, Balance>,
}

fn undone(kind: &str, id: &EntryId, why: String) -> Refusal {
    Refusal::new(Code::ReturnNotConfirmed, format!("{kind} {id} cannot be returned: {why}"))
}

impl Funds {
    /// Plan the returns of a reconciliation of `fund`; `confirmed` are the entries it also confirms.
    pub(super) fn plan_returns(
        &self,
        ctx: &Ctx<'_>,
        fund: &Fund,
        returned: &[EntryId],
        confirmed: &[EntryId],
        mut p: Pending<'_>,
    ) -> Result<ReturnPlan, Refusal> {
        let mut plan = ReturnPlan::default();
        let mut seen: BTreeSet<EntryId> = confirmed.iter().copied().collect();
        let dissolved = fund.status == FundStatus::Dissolved;
        for id in returned {
            if !seen.insert(*id) {
                return Err(Refusal::new(
                    Code::DuplicateConfirmation,
                    format!("entry {id} is listed twice in confirmed and returned"),
                ));
            }
            if let Some(c) = self.contributions.get(id) {
                self.plan_contribution_return(ctx, fund, id, c, &mut p, &mut plan)?;
            } else if let Some(i) = self.incomes.get(id) {
                check_fund(&i.fund, &fund.id, id)?;
                match i.status {
                    IncomeStatus::Confirmed => {}
                    IncomeStatus::Returned => return Err(already(id, i.reversed_by)),
                    IncomeStatus::Pledged | IncomeStatus::Reversed => {
                        return Err(undone("income", id, "it was never confirmed".into()))
                    }
                }
                if dissolved {
                    return Err(dissolved_refusal(fund, id));
                }
                take_back(p.balances, i.amount.into(), id)?;
                plan.incomes.push(*id);
            } else if let Some(d) = self.disbursements.get(id) {
                self.plan_disbursement_return(fund, id, d, &mut p, &mut plan)?;
            } else {
                return Err(Refusal::new(Code::UnknownEntry, format!("no contribution, income or disbursement {id}")));
            }
        }
        Ok(plan)
    }

    /// A returned contribution leaves `confirmed`, `available`, its author's
    /// contributed total and the matching pledges.
    fn plan_contribution_return(
        &self,
        ctx: &Ctx<'_>,
        fund: &Fund,
        id: &EntryId,
        c: &super::ContributionState,
        p: &mut Pending<'_>,
        plan: &mut ReturnPlan,
    ) -> Result<(), Refusal> {
        check_fund(&c.fund, &fund.id, id)?;
        match c.status {
            ContributionStatus::Confirmed => {}
            ContributionStatus::Returned => return Err(already(id, c.returned_by())),
            ContributionStatus::Pledged => {
                return Err(undone("contribution", id, "it was never confirmed (reverse a pledge instead)".into()))
            }
            ContributionStatus::Reversed => return Err(undone("contribution", id, "it was reversed".into())),
        }
        if fund.status == FundStatus::Dissolved {
            return Err(dissolved_refusal(fund, id));
        }
        take_back(p.balances, c.amount.into(), id)?;
        let prev =
            p.contributed.get(&c.author).or_else(|| fund.contributed.get(&c.author)).copied().unwrap_or_default();
        p.contributed.insert(c.author.clone(), money(prev.minus(c.amount), "contributed")?);
        let kind = ctx.register.member(&c.author).and_then(|m| m.member_kind);
        for pl in p.pledges.iter_mut() {
            *pl = pl.uncount(c, kind)?;
        }
        plan.contributions.push(*id);
        Ok(())
    }

    /// A returned payout leaves `disbursed` and goes back where it came from:
    /// its allocation or refund (unpaid again), the contributors of a
    /// dissolved fund, or `available`.
    fn plan_disbursement_return(
        &self,
        fund: &Fund,
        id: &EntryId,
        d: &super::DisbursementState,
        p: &mut Pending<'_>,
        plan: &mut ReturnPlan,
    ) -> Result<(), Refusal> {
        check_fund(&d.fund, &fund.id, id)?;
        match d.status {
            DisbursementStatus::Executed | DisbursementStatus::Confirmed => {}
            DisbursementStatus::Returned => return Err(already(id, d.returned_by)),
            _ => return Err(undone("disbursement", id, "it never executed".into())),
        }
        let b = &mut *p.balances;
        b.disbursed = money(b.disbursed.minus(d.amount), "disbursed")?;
        let account = account_of(d);
        let released = d.allocation.is_some_and(|a| self.releases.contains_key(&a));
        match (&account, released) {
            (Some(a), false) => {
                // Back to its allocation or refund: unpaid again.
                self.unpay(plan, a, d.amount)?;
                b.committed = money(b.committed.plus(d.amount), "committed")?;
            }
            _ if fund.status == FundStatus::Dissolved => {
                let mut weights = fund.contributed.clone();
                weights.extend(p.contributed.iter().map(|(m, v)| (m.clone(), *v)));
                *p.refunds = super::income::share_out(p.refunds, &weights, &fund.members, d.amount.into())?;
                b.committed = money(b.committed.plus(d.amount), "committed")?;
            }
            _ => {
                if let (Some(a), Some(alloc), true) = (&account, d.allocation, d.payout == PayoutKind::Allocation) {
                    // A released allocation: its paid total shrinks, what was released grows, the money is free.
                    let before = match plan.released.get(&alloc) {
                        Some(v) => *v,
                        None => self.released(&alloc),
                    };
                    plan.released.insert(alloc, money(before.plus(d.amount), "released")?);
                    self.unpay(plan, a, d.amount)?;
                }
                b.available = money(b.available.plus(d.amount), "available")?;
            }
        }
        plan.disbursements.push(*id);
        Ok(())
    }

    /// `amount` of account `a` (an allocation or a refund) is requested and paid no more.
    fn unpay(&self, plan: &mut ReturnPlan, a: &Account, amount: crate::money::Amount) -> Result<(), Refusal> {
        let (requested, paid) = match plan.accounts.get(a) {
            Some(v) => *v,
            None => self.account(a)?,
        };
        let v = (money(requested.minus(amount), "requested")?, money(paid.minus(amount), "paid")?);
        plan.accounts.insert(a.clone(), v);
        Ok(())
    }

    /// Write planned returns (nothing here can fail).
    pub(super) fn write_returns(&mut self, ctx: &Ctx<'_>, plan: ReturnPlan) {
        let at = ctx.received_at;
        for id in &plan.contributions {
            self.contributions.update(id, |c| {
                c.status = ContributionStatus::Returned;
                let x = c.extra_mut();
                x.returned_by = Some(ctx.id);
                x.returned_at = Some(at.clone());
            });
        }
        for id in &plan.incomes {
            if let Some(i) = self.incomes.get_mut(id) {
                i.status = IncomeStatus::Returned;
                i.reversed_by = Some(ctx.id);
                i.returned_at = Some(at.clone());
            }
        }
        for id in &plan.disbursements {
            if let Some(d) = self.disbursements.get_mut(id) {
                d.status = DisbursementStatus::Returned;
                d.returned_by = Some(ctx.id);
                d.returned_at = Some(at.clone());
            }
        }
        for (a, (requested, paid)) in &plan.accounts {
            self.set_account(a, Some(*requested), Some(*paid));
        }
        for (a, amount) in plan.released {
            if let Some(r) = self.releases.get_mut(&a) {
                r.amount = amount;
            }
        }
    }
}

fn check_fund(of: &crate::ids::FundId, fund: &crate::ids::FundId, id: &EntryId) -> Result<(), Refusal> {
    if of != fund {
        return Err(Refusal::new(Code::WrongFund, format!("entry {id} belongs to fund {of}, not {fund}")));
    }
    Ok(())
}

fn already(id: &EntryId, by: Option<EntryId>) -> Refusal {
    Refusal::new(Code::AlreadyReturned, format!("entry {id} was already returned by {}", opt_id(by)))
}

fn dissolved_refusal(fund: &Fund, id: &EntryId) -> Refusal {
    Refusal::new(
        Code::FundDissolved,
        format!(
            "fund {} is dissolved and its refunds were computed with entry {id}; money in cannot be returned any more",
            fund.id
        ),
    )
}

/// Money in that the bank returned leaves `confirmed` and `available`.
fn take_back(b: &mut Balances, amount: Balance, id: &EntryId) -> Result<(), Refusal> {
    if amount > b.available {
        return Err(Refusal::new(
            Code::ReturnExceedsAvailable,
            format!(
                "returning {amount} of entry {id} needs it in available, which holds {}; release or cancel an allocation first",
                b.available
            ),
        ));
    }
    b.available = money(b.available.checked_sub(amount), "available")?;
    b.confirmed = money(b.confirmed.checked_sub(amount), "confirmed")?;
    Ok(())
}
