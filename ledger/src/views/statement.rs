//! `GET /v1/funds/{id}/statement?from=DATE&to=DATE` and `meent report`: a
//! fund's period statement (SPEC §4.5) — the municipality's
//! *verantwoording*, a collective's annual report.
//!
//! The balance is the money the ledger says the fund holds: confirmed money
//! in minus executed money out (`available + committed`). Each movement is
//! dated by the UTC day the ledger recorded it: money in on the day the
//! reconciliation confirming it was received, money out on the day the payout
//! executed, a return on the day the reconciliation recording it was received.
//! Opening = everything before `from`; closing = everything up to and
//! including `to`; `opening + in − out = closing`, to the cent, checked when
//! the statement is built (and the closing of a period that reaches the
//! present equals the fund's balances).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::entry::{MemberKind, SourceKind};
use crate::funds::{ContributionStatus, DisbursementStatus, Fund, IncomeStatus, PayoutKind};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Balance, MoneyError};
use crate::state::State;
use crate::time::{Date, Timestamp};

/// Money in during the period, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementIn {
    /// Confirmed contributions of collectives and partners.
    pub collectives: Balance,
    /// The municipality's ordinary confirmed contributions.
    pub municipality: Balance,
    /// The municipality's confirmed payments of its matching pledges.
    pub matching: Balance,
    /// Confirmed income, by `source_kind` (`donation`, `grant`, `interest`, `other`).
    pub income: BTreeMap<String, Balance>,
    /// Payouts whose money the bank brought back.
    pub payouts_returned: Balance,
    /// The sum of the above.
    pub total: Balance,
}

/// One line of money out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementPayout {
    /// The allocation, selected project or dissolution paid.
    pub allocation: EntryId,
    /// The member paid.
    pub recipient: MemberId,
    /// Executed in the period.
    pub amount: Balance,
}

/// Money out during the period, by allocation and recipient, costs by category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementOut {
    /// Allocation payouts, by allocation and recipient.
    pub allocations: Vec<StatementPayout>,
    /// Refunds after a dissolution, by recipient.
    pub refunds: Vec<StatementPayout>,
    /// Costs, by category (`bank_fee`, `administration`, `insurance`, `other`).
    pub costs: BTreeMap<String, Balance>,
    /// Confirmed money in that the bank sent back to its sender.
    pub returned_to_senders: Balance,
    /// The sum of the above.
    pub total: Balance,
}

/// What was still open at the end of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementPending {
    /// Contributions announced by then and not yet confirmed (nor reversed).
    pub contributions: Balance,
    /// Income announced by then and not yet confirmed (nor reversed).
    pub income: Balance,
    /// Payout requests made by then and not yet executed (nor reversed or lapsed).
    pub payouts: Balance,
}

/// A fund's period statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementView {
    /// The fund.
    pub fund: FundId,
    /// Its name.
    pub name: String,
    /// The first day of the period (UTC).
    pub from: Date,
    /// The last day of the period (UTC, inclusive).
    pub to: Date,
    /// The balance at the start of `from`.
    pub opening_balance: Balance,
    /// Money in.
    pub money_in: StatementIn,
    /// Money out.
    pub money_out: StatementOut,
    /// The balance at the end of `to`: `opening_balance + money_in.total − money_out.total`.
    pub closing_balance: Balance,
    /// What was still open at the end of `to`.
    pub pending: StatementPending,
}

/// Why a statement cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatementError {
    /// `from` after `to`.
    #[error("the period is backwards: from {from} is after to {to}")]
    BadPeriod {
        /// From.
        from: Date,
        /// To.
        to: Date,
    },
    /// Checked arithmetic failed.
    #[error("the statement's sums overflow: {0}")]
    Money(#[from] MoneyError),
    /// The identity does not hold (a bug: the ledger's books do not add up).
    #[error("the statement does not add up: {0}")]
    Unbalanced(String),
}

/// One movement of the fund's money.
struct Movement {
    day: NaiveDate,
    /// Positive in, negative out.
    amount: Balance,
    what: What,
}

enum What {
    Collective,
    Municipality,
    Matching,
    Income(SourceKind),
    PayoutReturned,
    Payout(PayoutKind, Option<EntryId>, Option<MemberId>, Option<String>),
    ReturnedToSender,
}

fn day(t: Option<&Timestamp>) -> Option<NaiveDate> {
    t.map(Timestamp::date)
}

fn neg(b: Balance) -> Result<Balance, MoneyError> {
    Balance::ZERO.checked_sub(b)
}

/// Every movement of fund `f`'s money, from the log.
fn movements(state: &State, f: &Fund) -> Result<Vec<Movement>, MoneyError> {
    let funds = &state.funds;
    let mut out = Vec::new();
    for c in funds.contributions_of(f) {
        let Some(confirmed) = day(c.confirmed_at()) else { continue };
        if !matches!(c.status, ContributionStatus::Confirmed | ContributionStatus::Returned) {
            continue;
        }
        let kind = state.register.member(&c.author).and_then(|m| m.member_kind);
        let what = match (c.matching().is_some(), kind) {
            (true, _) => What::Matching,
            (false, Some(MemberKind::Municipality)) => What::Municipality,
            _ => What::Collective,
        };
        out.push(Movement { day: confirmed, amount: c.amount.into(), what });
        if let Some(back) = day(c.returned_at()) {
            out.push(Movement { day: back, amount: neg(c.amount.into())?, what: What::ReturnedToSender });
        }
    }
    for i in f.incomes.iter().filter_map(|id| funds.incomes.get(id)) {
        let Some(confirmed) = day(i.confirmed_at.as_ref()) else { continue };
        if !matches!(i.status, IncomeStatus::Confirmed | IncomeStatus::Returned) {
            continue;
        }
        out.push(Movement { day: confirmed, amount: i.amount.into(), what: What::Income(i.source_kind) });
        if let Some(back) = day(i.returned_at.as_ref()) {
            out.push(Movement { day: back, amount: neg(i.amount.into())?, what: What::ReturnedToSender });
        }
    }
    for d in f.disbursements.iter().filter_map(|id| funds.disbursements.get(id)) {
        let executed = matches!(
            d.status,
            DisbursementStatus::Executed | DisbursementStatus::Confirmed | DisbursementStatus::Returned
        );
        let Some(when) = day(d.executed_at.as_ref()).filter(|_| executed) else { continue };
        let category = d.cost.as_ref().map(|c| c.category.as_str().to_string());
        let what = What::Payout(d.payout, d.allocation, d.recipient.clone(), category);
        out.push(Movement { day: when, amount: neg(d.amount.into())?, what });
        if let Some(back) = day(d.returned_at.as_ref()) {
            out.push(Movement { day: back, amount: d.amount.into(), what: What::PayoutReturned });
        }
    }
    Ok(out)
}

fn add(slot: &mut Balance, b: Balance) -> Result<(), MoneyError> {
    *slot = slot.checked_add(b)?;
    Ok(())
}

fn add_payout(
    lines: &mut Vec<StatementPayout>,
    allocation: EntryId,
    recipient: MemberId,
    b: Balance,
) -> Result<(), MoneyError> {
    match lines.iter_mut().find(|l| l.allocation == allocation && l.recipient == recipient) {
        Some(l) => add(&mut l.amount, b),
        None => {
            lines.push(StatementPayout { allocation, recipient, amount: b });
            Ok(())
        }
    }
}

impl StatementView {
    /// The statement of fund `f` for the days `from` to `to` (inclusive, UTC).
    pub fn of(state: &State, f: &Fund, from: Date, to: Date) -> Result<StatementView, StatementError> {
        if from > to {
            return Err(StatementError::BadPeriod { from, to });
        }
        let mut opening = Balance::ZERO;
        let mut everything = Balance::ZERO;
        let mut closing_direct = Balance::ZERO;
        let mut money_in = StatementIn::default();
        let mut money_out = StatementOut::default();
        for m in movements(state, f)? {
            add(&mut everything, m.amount)?;
            if m.day <= to.0 {
                add(&mut closing_direct, m.amount)?;
            }
            if m.day < from.0 {
                add(&mut opening, m.amount)?;
                continue;
            }
            if m.day > to.0 {
                continue;
            }
            let out = neg(m.amount)?;
            match m.what {
                What::Collective => add(&mut money_in.collectives, m.amount)?,
                What::Municipality => add(&mut money_in.municipality, m.amount)?,
                What::Matching => add(&mut money_in.matching, m.amount)?,
                What::Income(k) => add(money_in.income.entry(k.as_str().into()).or_default(), m.amount)?,
                What::PayoutReturned => add(&mut money_in.payouts_returned, m.amount)?,
                What::ReturnedToSender => add(&mut money_out.returned_to_senders, out)?,
                What::Payout(PayoutKind::Cost, _, _, category) => {
                    add(money_out.costs.entry(category.unwrap_or_else(|| "other".into())).or_default(), out)?
                }
                What::Payout(kind, Some(a), Some(r), _) => {
                    let lines =
                        if kind == PayoutKind::Refund { &mut money_out.refunds } else { &mut money_out.allocations };
                    add_payout(lines, a, r, out)?
                }
                What::Payout(..) => add(money_out.costs.entry("other".into()).or_default(), out)?,
            }
        }
        let mut total_in = money_in.collectives.checked_add(money_in.municipality)?;
        total_in = total_in.checked_add(money_in.matching)?.checked_add(money_in.payouts_returned)?;
        for v in money_in.income.values() {
            total_in = total_in.checked_add(*v)?;
        }
        money_in.total = total_in;
        let mut total_out = money_out.returned_to_senders;
        for l in money_out.allocations.iter().chain(&money_out.refunds) {
            total_out = total_out.checked_add(l.amount)?;
        }
        for v in money_out.costs.values() {
            total_out = total_out.checked_add(*v)?;
        }
        money_out.total = total_out;
        let closing = opening.checked_add(total_in)?.checked_sub(total_out)?;
        if closing != closing_direct {
            return Err(StatementError::Unbalanced(format!(
                "opening {opening} + in {total_in} − out {total_out} = {closing}, but the movements up to {to} sum to {closing_direct}"
            )));
        }
        let held = f.balances.confirmed.checked_sub(f.balances.disbursed)?;
        if everything != held {
            return Err(StatementError::Unbalanced(format!(
                "the movements sum to {everything}, but the fund holds confirmed {} − disbursed {} = {held}",
                f.balances.confirmed, f.balances.disbursed
            )));
        }
        Ok(StatementView {
            fund: f.id.clone(),
            name: f.name.clone(),
            from,
            to,
            opening_balance: opening,
            money_in,
            money_out,
            closing_balance: closing,
            pending: pending(state, f, to.0)?,
        })
    }
}

/// What was announced by the end of `to` and not yet settled then.
fn pending(state: &State, f: &Fund, to: NaiveDate) -> Result<StatementPending, MoneyError> {
    let funds = &state.funds;
    let open_at = |received: &Timestamp, settled: [Option<NaiveDate>; 2]| {
        received.date() <= to && settled.iter().all(|s| s.is_none_or(|d| d > to))
    };
    let mut p = StatementPending::default();
    for c in funds.contributions_of(f) {
        if open_at(&c.received_at, [day(c.confirmed_at()), day(c.reversed_at())]) {
            add(&mut p.contributions, c.amount.into())?;
        }
    }
    for i in f.incomes.iter().filter_map(|id| funds.incomes.get(id)) {
        if open_at(&i.received_at, [day(i.confirmed_at.as_ref()), day(i.reversed_at.as_ref())]) {
            add(&mut p.income, i.amount.into())?;
        }
    }
    for d in f.disbursements.iter().filter_map(|id| funds.disbursements.get(id)) {
        if open_at(&d.requested_at, [day(d.executed_at.as_ref()), day(d.reversed_at.as_ref())]) {
            add(&mut p.payouts, d.amount.into())?;
        }
    }
    Ok(p)
}

impl StatementView {
    /// The lines of the statement: (section, item, detail, amount), as
    /// `meent report` prints them.
    pub fn lines(&self) -> Vec<(&'static str, String, String, Balance)> {
        let s = self;
        let mut l = vec![("opening", "balance".to_string(), s.from.to_string(), s.opening_balance)];
        let i = &s.money_in;
        for (item, v) in [("collectives", i.collectives), ("municipality", i.municipality), ("matching", i.matching)] {
            l.push(("in", item.into(), String::new(), v));
        }
        for (k, v) in &i.income {
            l.push(("in", "income".into(), k.clone(), *v));
        }
        l.push(("in", "payouts_returned".into(), String::new(), i.payouts_returned));
        l.push(("in", "total".into(), String::new(), i.total));
        let o = &s.money_out;
        for p in &o.allocations {
            l.push(("out", "allocation".into(), format!("{} {}", p.allocation, p.recipient), p.amount));
        }
        for p in &o.refunds {
            l.push(("out", "refund".into(), p.recipient.to_string(), p.amount));
        }
        for (k, v) in &o.costs {
            l.push(("out", "cost".into(), k.clone(), *v));
        }
        l.push(("out", "returned_to_senders".into(), String::new(), o.returned_to_senders));
        l.push(("out", "total".into(), String::new(), o.total));
        l.push(("closing", "balance".into(), s.to.to_string(), s.closing_balance));
        let p = &s.pending;
        for (item, v) in [("contributions", p.contributions), ("income", p.income), ("payouts", p.payouts)] {
            l.push(("pending", item.into(), String::new(), v));
        }
        l
    }

    /// The statement as CSV: a header and `section,item,detail,amount` lines
    /// separated by CRLF (RFC 4180), as `meent report --format csv` prints it
    /// (before its final newline).
    pub fn csv(&self) -> String {
        let s = self;
        let cell = |c: &str| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.to_string()
            }
        };
        let mut out = String::from("section,item,detail,amount");
        for (section, item, detail, amount) in s.lines() {
            out.push_str(&format!("\r\n{section},{},{},{amount}", cell(&item), cell(&detail)));
        }
        out
    }
}
