//! The municipality's matching pledge (SPEC §4.2, §4.5): it owes
//! `min(cap, ratio × the collectives' confirmed contributions to the fund
//! between the pledge and until)` and is paid by its own confirmed
//! contributions that name the pledge (`contribution.matching`), whenever they
//! are confirmed — the match is settled after the period, as subsidies are.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::{money, ContributionState, Ctx, Funds};
use crate::entry::{MemberKind, PledgeMatching};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, MemberId, Seq};
use crate::money::{Amount, Balance, MoneyError, Ratio};
use crate::time::{Date, Timestamp};

/// One matching pledge and what it owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchingPledge {
    /// The `pledge.matching` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The municipality.
    pub municipality: MemberId,
    /// Euros matched per euro given (`"1.0"`: euro for euro).
    pub ratio: Ratio,
    /// The most it will owe.
    pub cap: Amount,
    /// The period starts when the pledge was received.
    pub from: Timestamp,
    /// The last day of the period (inclusive, UTC).
    pub until: Date,
    /// The collectives' confirmed contributions made in the period.
    pub matched: Balance,
    /// `min(cap, ratio × matched)`, rounded to the cent (half away from zero).
    pub owed: Balance,
    /// The municipality's confirmed contributions that name this pledge.
    pub paid: Balance,
    /// `owed − paid`, never below zero.
    pub outstanding: Balance,
}

impl MatchingPledge {
    /// Whether a contribution received at `at` falls in the pledge's period.
    pub fn covers(&self, at: &Timestamp) -> bool {
        at.instant() >= self.from.instant() && at.date() <= self.until.0
    }

    /// The pledge after confirming contribution `c` by a member of `kind`.
    pub(super) fn count(&self, c: &ContributionState, kind: Option<MemberKind>) -> Result<MatchingPledge, Refusal> {
        let mut matched = self.matched;
        let mut paid = self.paid;
        if kind == Some(MemberKind::Collective) && self.covers(&c.received_at) {
            matched = money(matched.plus(c.amount), "matched contributions")?;
        }
        // A payment that names the pledge settles it whenever it is confirmed (also after `until`).
        if c.matching() == Some(self.id) {
            paid = money(paid.plus(c.amount), "matching paid")?;
        }
        if matched == self.matched && paid == self.paid {
            return Ok(self.clone());
        }
        money(self.with(matched, paid), "matching pledge")
    }

    /// The pledge after contribution `c`, counted by [`MatchingPledge::count`], was returned by the bank.
    pub(super) fn uncount(&self, c: &ContributionState, kind: Option<MemberKind>) -> Result<MatchingPledge, Refusal> {
        let mut matched = self.matched;
        let mut paid = self.paid;
        if kind == Some(MemberKind::Collective) && self.covers(&c.received_at) {
            matched = money(matched.minus(c.amount), "matched contributions")?;
        }
        if c.matching() == Some(self.id) {
            paid = money(paid.minus(c.amount), "matching paid")?;
        }
        money(self.with(matched, paid), "matching pledge")
    }

    fn with(&self, matched: Balance, paid: Balance) -> Result<MatchingPledge, MoneyError> {
        let product = self.ratio.as_decimal().checked_mul(matched.as_decimal()).ok_or(MoneyError::Overflow)?;
        let product = Balance::new(product.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))?;
        let owed = product.min(Balance::from(self.cap));
        let outstanding = owed.checked_sub(paid)?;
        let outstanding = if outstanding.as_decimal() < Decimal::ZERO { Balance::ZERO } else { outstanding };
        Ok(MatchingPledge { matched, owed, paid, outstanding, ..self.clone() })
    }
}

impl Funds {
    /// `pledge.matching`: by a municipality, for a fund that still works, one running pledge at a time.
    pub(super) fn pledge(&mut self, ctx: &Ctx<'_>, b: &PledgeMatching) -> Result<(), Refusal> {
        let author = ctx.member("pledge.matching")?;
        let kind = ctx.register.member(author).and_then(|m| m.member_kind);
        if kind != Some(MemberKind::Municipality) {
            return Err(Refusal::new(
                Code::NotMunicipality,
                format!("{author} is not a municipality; only a municipality pledges matching"),
            ));
        }
        let fund = self.active_fund(&b.fund)?;
        let today = ctx.received_at.date();
        if b.until.0 < today {
            return Err(Refusal::new(Code::UntilInPast, format!("until {} is before today ({today})", b.until)));
        }
        if let Some(p) = fund.matching.iter().find(|p| &p.municipality == author && p.until.0 >= today) {
            return Err(Refusal::new(
                Code::OverlappingPledge,
                format!("{author} already has pledge {} on {} running until {}", p.id, b.fund, p.until),
            ));
        }
        let pledge = MatchingPledge {
            id: ctx.id,
            seq: ctx.seq,
            municipality: author.clone(),
            ratio: b.ratio.clone(),
            cap: b.cap,
            from: ctx.received_at.clone(),
            until: b.until,
            matched: Balance::ZERO,
            owed: Balance::ZERO,
            paid: Balance::ZERO,
            outstanding: Balance::ZERO,
        };
        self.fund_mut(&b.fund)?.matching.push(pledge);
        Ok(())
    }
}

impl super::Fund {
    /// Check a contribution's `matching`: a pledge of this fund, by the contributor.
    pub(super) fn check_matching(&self, author: &MemberId, matching: Option<EntryId>) -> Result<(), Refusal> {
        let Some(id) = matching else { return Ok(()) };
        let Some(p) = self.matching.iter().find(|p| p.id == id) else {
            return Err(Refusal::new(Code::UnknownPledge, format!("{id} is no matching pledge on fund {}", self.id)));
        };
        if &p.municipality != author {
            return Err(Refusal::new(
                Code::NotPledger,
                format!("pledge {id} was made by {}; only its payments settle it", p.municipality),
            ));
        }
        Ok(())
    }
}
