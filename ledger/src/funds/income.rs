//! Money from outside the members (SPEC §4.5): `income` {fund, amount,
//! source_kind, source, reference} by a treasurer — a donation, a grant,
//! interest — pledged until a reconciliation confirms it, then part of
//! `confirmed` and `available` (and of the pool a dissolution refunds). It
//! counts in no member's contributions, so it weighs no refund and matches
//! no pledge.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{money, Ctx, Funds, Refund};
use crate::entry::{Income, SourceKind};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::money::{Amount, Balance};
use crate::time::Timestamp;

/// Where an income stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeStatus {
    /// Announced, not yet seen on a bank statement.
    Pledged,
    /// Confirmed by a reconciliation.
    Confirmed,
    /// Reversed: it never arrived.
    Reversed,
    /// Confirmed, then returned by the bank (a reconciliation's `returned`).
    Returned,
}

/// One income.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeState {
    /// The income entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The fund.
    pub fund: FundId,
    /// The treasurer who recorded it.
    pub author: MemberId,
    /// How much.
    pub amount: Amount,
    /// Donation, grant, interest or other.
    pub source_kind: SourceKind,
    /// A public label of the source.
    pub source: String,
    /// The payment reference on the bank line.
    pub reference: String,
    /// When the ledger received it.
    pub received_at: Timestamp,
    /// Pledged, confirmed, reversed or returned.
    pub status: IncomeStatus,
    /// The reconciliation that confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<EntryId>,
    /// When that reconciliation was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<Timestamp>,
    /// The reversal that undid it, or the reconciliation that recorded its return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<EntryId>,
    /// When it was reversed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_at: Option<Timestamp>,
    /// Why it was reversed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_reason: Option<String>,
    /// When the bank returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<Timestamp>,
}

/// The refunds of dissolution `d` after `amount` more is shared out pro rata
/// over the confirmed contributions (money that arrives or is freed after the end).
pub(super) fn share_out(
    refunds: &BTreeMap<MemberId, Refund>,
    contributed: &BTreeMap<MemberId, Balance>,
    members: &BTreeSet<MemberId>,
    amount: Balance,
) -> Result<BTreeMap<MemberId, Refund>, Refusal> {
    let weights = super::dissolution::refund_weights(contributed, members);
    let shares = money(super::pro_rata(amount, &weights), "refunds")?;
    let mut refunds = refunds.clone();
    for (m, share) in shares {
        let r = refunds.entry(m).or_default();
        r.owed = money(r.owed.checked_add(share), "refund")?;
    }
    Ok(refunds)
}

impl Funds {
    /// `income`: by a treasurer of a fund that still works; pledged until reconciled.
    pub(super) fn income(&mut self, ctx: &Ctx<'_>, b: &Income) -> Result<(), Refusal> {
        let author = ctx.member("income")?;
        let fund = self.active_fund(&b.fund)?;
        if !fund.is_treasurer(author) {
            return Err(Refusal::new(
                Code::NotTreasurer,
                format!("{author} is not a treasurer of {}; only treasurers record income", b.fund),
            ));
        }
        if let Some(other) = self.pledged_with(&b.fund, b.reference.as_str()) {
            return Err(Refusal::new(
                Code::DuplicateReference,
                format!("payment reference {:?} is already used by pledged entry {other} of {}; a bank line could not tell them apart", b.reference, b.fund),
            ));
        }
        let mut balances = fund.balances;
        balances.pledged = money(balances.pledged.plus(b.amount), "pledged")?;
        balances.check(&b.fund)?;
        let i = IncomeState {
            id: ctx.id,
            seq: ctx.seq,
            fund: b.fund.clone(),
            author: author.clone(),
            amount: b.amount,
            source_kind: b.source_kind,
            source: b.source.clone(),
            reference: b.reference.clone(),
            received_at: ctx.received_at.clone(),
            status: IncomeStatus::Pledged,
            confirmed_by: None,
            confirmed_at: None,
            reversed_by: None,
            reversed_at: None,
            reversal_reason: None,
            returned_at: None,
        };
        let fund = self.fund_mut(&b.fund)?;
        fund.balances = balances;
        fund.incomes.push(ctx.id);
        self.pledge_income_reference(&b.fund, b.reference.as_str(), ctx.id);
        self.incomes.insert(ctx.id, i);
        Ok(())
    }
}

impl Funds {
    /// `reversal` of an income: only while pledged (it never arrived), by a treasurer.
    pub(super) fn reverse_income(
        &mut self,
        ctx: &Ctx<'_>,
        author: &MemberId,
        b: &crate::entry::Reversal,
    ) -> Result<(), Refusal> {
        let i = self
            .incomes
            .get(&b.entry)
            .ok_or_else(|| Refusal::new(Code::UnknownEntry, format!("no income {}", b.entry)))?;
        let fund = self.known_fund(&i.fund)?;
        if &i.author != author && !fund.is_treasurer(author) {
            return Err(Refusal::new(
                Code::NotAllowedToReverse,
                format!("only a treasurer of {} may reverse income {}", i.fund, b.entry),
            ));
        }
        match i.status {
            IncomeStatus::Pledged => {}
            IncomeStatus::Confirmed | IncomeStatus::Returned => {
                return Err(Refusal::new(
                    Code::ContributionConfirmed,
                    format!("income {} was confirmed by a bank statement; money that arrived is undone only by a reconciliation's returned", b.entry),
                ));
            }
            IncomeStatus::Reversed => {
                return Err(Refusal::new(Code::AlreadyReversed, format!("income {} was already reversed", b.entry)));
            }
        }
        let mut balances = fund.balances;
        balances.pledged = money(balances.pledged.minus(i.amount), "pledged")?;
        balances.check(&i.fund)?;
        let (fund_id, reference) = (i.fund.clone(), i.reference.clone());
        let f = self.fund_mut(&fund_id)?;
        f.balances = balances;
        self.unpledge_income_reference(&fund_id, reference.as_str());
        if let Some(i) = self.incomes.get_mut(&b.entry) {
            i.status = IncomeStatus::Reversed;
            i.reversed_by = Some(ctx.id);
            i.reversed_at = Some(ctx.received_at.clone());
            i.reversal_reason = Some(b.reason.clone());
        }
        Ok(())
    }
}
