//! Ending an allocation early (SPEC §4.5): `allocation.release` by its
//! recipient, or a passed `cancellation` proposal against its will. The unpaid
//! remainder (`amount − paid`) leaves `committed` at once: back to `available`,
//! or, in a dissolved fund, onto the refunds pro rata. Payout requests still
//! pending on it lapse. And `proposal.withdraw`: the author takes back an open
//! proposal.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::payouts::{Account, DisbursementStatus};
use super::{money, Balances, Ctx, FundStatus, Funds, Outcome, ProjectStatus, ProposalStatus, Refund};
use crate::entry::{AllocationRelease, ProposalKind, ProposalWithdraw};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::money::{Amount, Balance};
use crate::time::Timestamp;

/// How an allocation ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// Its recipient gave the remainder back (`allocation.release`).
    Released,
    /// A passed `cancellation` proposal ended it.
    Cancelled,
}

/// An allocation ended early, and what it gave back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The allocation (passed proposal or selected project).
    pub allocation: EntryId,
    /// The fund.
    pub fund: FundId,
    /// Released or cancelled.
    pub how: ReleaseKind,
    /// The `allocation.release` entry, or the cancellation proposal.
    pub by: EntryId,
    /// The record that ended it (the release, or the cancellation's close).
    pub seq: Seq,
    /// When.
    pub at: Timestamp,
    /// The unpaid remainder that left `committed`.
    pub amount: Balance,
    /// The recipient's reason, or the cancellation's title.
    pub reason: String,
    /// Payout requests that lapsed with it.
    pub lapsed: Vec<EntryId>,
}

/// An allocation as the release rules see it.
struct Target {
    fund: FundId,
    recipient: MemberId,
    total: Amount,
    paid: Balance,
}

/// What a release writes, computed before anything is written.
pub(super) struct ReleasePlan {
    release: Release,
    balances: Balances,
    refunds: Option<BTreeMap<MemberId, Refund>>,
    paid: Balance,
}

impl ReleasePlan {
    /// The fund's balances after the release.
    pub(super) fn balances(&self) -> Balances {
        self.balances
    }
}

/// The allocation a `cancellation` proposal ends: one of the same fund that
/// can still be ended (a cancellation of a round is judged in
/// `round_decision.rs`).
pub(super) fn cancellation_target(funds: &Funds, b: &crate::entry::Proposal) -> Result<EntryId, Refusal> {
    let a = b.allocation.ok_or_else(|| Refusal::new(Code::BadProposal, "a cancellation of an allocation names it"))?;
    funds.check_releasable(&a, &b.fund)?;
    Ok(a)
}

impl Funds {
    /// What was released of an allocation (zero if nothing).
    pub fn released(&self, allocation: &EntryId) -> Balance {
        self.releases.get(allocation).map(|r| r.amount).unwrap_or(Balance::ZERO)
    }

    /// The allocation `id` if it is one that can still be ended early.
    fn target(&self, id: &EntryId) -> Result<Target, Refusal> {
        let t = if let Some(p) = self.proposals.get(id) {
            if p.proposal_kind != ProposalKind::Allocation {
                return Err(Refusal::new(Code::NotAnAllocation, format!("proposal {id} is not an allocation")));
            }
            if p.outcome != Some(Outcome::Passed) {
                return Err(Refusal::new(Code::AllocationNotPassed, format!("allocation {id} has not passed")));
            }
            let (Some(total), Some(recipient)) = (p.amount, &p.recipient) else {
                return Err(Refusal::new(Code::NotAnAllocation, format!("proposal {id} has no amount or recipient")));
            };
            Target { fund: p.fund.clone(), recipient: recipient.clone(), total, paid: p.paid }
        } else if let Some(p) = self.projects.get(id) {
            if p.status != ProjectStatus::Selected {
                return Err(Refusal::new(Code::AllocationNotPassed, format!("project {id} was not selected")));
            }
            Target { fund: p.fund.clone(), recipient: p.recipient.clone(), total: p.cost, paid: p.paid }
        } else {
            return Err(Refusal::new(Code::UnknownAllocation, format!("no allocation or round project {id}")));
        };
        if let Some(r) = self.releases.get(id) {
            return Err(Refusal::new(
                Code::AlreadyReleased,
                format!("allocation {id} was already {} by {}", word(r.how), r.by),
            ));
        }
        if Balance::from(t.total) <= t.paid {
            return Err(Refusal::new(
                Code::NothingToRelease,
                format!("allocation {id} is paid in full ({} of {}); nothing is left to release", t.paid, t.total),
            ));
        }
        Ok(t)
    }

    /// Check that allocation `id` can be ended early now; used when a cancellation is proposed.
    /// The recipient of allocation `id`, if it is one.
    pub(super) fn allocation_recipient(&self, id: &EntryId) -> Option<MemberId> {
        self.target(id).ok().map(|t| t.recipient)
    }

    pub(super) fn check_releasable(&self, id: &EntryId, fund: &FundId) -> Result<(), Refusal> {
        let t = self.target(id)?;
        if &t.fund != fund {
            return Err(Refusal::new(Code::WrongFund, format!("allocation {id} is in fund {}, not {fund}", t.fund)));
        }
        Ok(())
    }

    /// Plan ending allocation `id`: everything computed and checked, nothing written.
    pub(super) fn plan_release(
        &self,
        ctx: &Ctx<'_>,
        id: EntryId,
        how: ReleaseKind,
        by: EntryId,
        reason: String,
    ) -> Result<ReleasePlan, Refusal> {
        let t = self.target(&id)?;
        let fund = self.known_fund(&t.fund)?;
        let amount = money(Balance::from(t.total).checked_sub(t.paid), "released")?;
        let mut balances = fund.balances;
        balances.committed = money(balances.committed.checked_sub(amount), "committed")?;
        let refunds = match (&fund.dissolution, fund.status) {
            (Some(d), FundStatus::Dissolved) => {
                Some(super::income::share_out(&d.refunds, &fund.contributed, &fund.members, amount)?)
            }
            _ => {
                balances.available = money(balances.available.checked_add(amount), "available")?;
                None
            }
        };
        if refunds.is_some() {
            // The money stays committed: now owed to the contributors.
            balances.committed = money(balances.committed.checked_add(amount), "committed")?;
        }
        balances.check(&t.fund)?;
        let lapsed = fund
            .disbursements
            .iter()
            .filter_map(|d| self.disbursements.get(d))
            .filter(|d| d.allocation == Some(id) && d.status == DisbursementStatus::Pending)
            .map(|d| d.id)
            .collect();
        let release = Release {
            allocation: id,
            fund: t.fund,
            how,
            by,
            seq: ctx.seq,
            at: ctx.received_at.clone(),
            amount,
            reason,
            lapsed,
        };
        Ok(ReleasePlan { release, balances, refunds, paid: t.paid })
    }

    /// Write a planned release; nothing here can fail.
    pub(super) fn write_release(&mut self, plan: ReleasePlan) {
        let r = plan.release;
        if let Some(f) = self.funds.get_mut(&r.fund) {
            f.balances = plan.balances;
            if let (Some(d), Some(refunds)) = (&mut f.dissolution, plan.refunds) {
                d.refunds = refunds;
            }
        }
        for id in &r.lapsed {
            if let Some(d) = self.disbursements.get_mut(id) {
                d.status = DisbursementStatus::Lapsed;
                d.reversed_by = Some(r.by);
                d.reversed_at = Some(r.at.clone());
            }
        }
        // Nothing is requested any more beyond what was paid.
        self.set_account(&Account::Allocation(r.allocation), Some(plan.paid), None);
        self.releases.insert(r.allocation, r);
    }

    /// `allocation.release`: the recipient gives the unpaid remainder back.
    pub(super) fn release(&mut self, ctx: &Ctx<'_>, b: &AllocationRelease) -> Result<(), Refusal> {
        let author = ctx.member("allocation.release")?;
        let t = self.target(&b.allocation)?;
        if &t.recipient != author {
            return Err(Refusal::new(
                Code::NotRecipient,
                format!("only {}, the recipient of allocation {}, may release it", t.recipient, b.allocation),
            ));
        }
        let plan = self.plan_release(ctx, b.allocation, ReleaseKind::Released, ctx.id, b.reason.clone())?;
        self.write_release(plan);
        Ok(())
    }

    /// `proposal.withdraw`: the author takes back its proposal while it is open.
    pub(super) fn withdraw(&mut self, ctx: &Ctx<'_>, b: &ProposalWithdraw) -> Result<(), Refusal> {
        let author = ctx.member("proposal.withdraw")?;
        let p = self
            .proposals
            .get(&b.proposal)
            .ok_or_else(|| Refusal::new(Code::UnknownProposal, format!("no proposal {}", b.proposal)))?;
        if &p.author != author {
            return Err(Refusal::new(
                Code::NotProposalAuthor,
                format!("only {}, who made proposal {}, may withdraw it", p.author, b.proposal),
            ));
        }
        if p.status == ProposalStatus::Closed {
            return Err(Refusal::new(Code::ProposalClosed, format!("proposal {} is already closed", b.proposal)));
        }
        self.mark_closed(b.proposal, Outcome::Withdrawn, ctx, Some("withdrawn by its author".into()));
        Ok(())
    }
}

fn word(k: ReleaseKind) -> &'static str {
    match k {
        ReleaseKind::Released => "released",
        ReleaseKind::Cancelled => "cancelled",
    }
}
