//! The treasurer's desk: everything a reconciliation computes, as pure functions over a
//! parsed statement file and the fund's books (`meent reconcile` reads the files, prints
//! and submits).
//!
//! * [`combine`] joins the statements of one file (several MT940 days, several CAMT `Stmt`)
//!   into one, checking that they are of one account and chain (each opening balance is the
//!   previous closing balance);
//! * [`ledger_items`] turns the fund's flows into [`LedgerItem`]s for `bank::reconcile`;
//! * [`analyse`] runs the matcher and decides whether the ledger agrees with the bank's
//!   closing balance ([`BalanceAgreement`]), and what the `reconciliation` entry would say.
//!
//! The definitions (what "agrees" means, which entries are confirmed) are in
//! `docs/TREASURER.md`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::FundBooks;
use crate::bank::reconcile::{ConfirmedHow, UnmatchedReason};
use crate::bank::{
    self, BalanceCheck, BankError, BankLine, Direction, LedgerItem, LedgerKind, MatchOptions, Report, Statement,
};
use crate::entry::Reconciliation;
use crate::funds::{ContributionStatus, DisbursementStatus, IncomeStatus};
use crate::ids::{EntryId, FundId};
use crate::money::{Balance, MoneyError};
use crate::time::Date;

/// Why the desk cannot read a statement file or compute a reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// The file holds no statement.
    #[error("no statement in the file")]
    NoStatement,
    /// The file holds statements of several accounts.
    #[error("the file holds statements of {0} different accounts; reconcile one account at a time")]
    SeveralAccounts(usize),
    /// `account` was asked for, and the file holds no statement of it.
    #[error("no statement of account {want} in the file (it holds {})", held.join(", "))]
    NoSuchAccount {
        /// The account asked for, normalised.
        want: String,
        /// The accounts in the file.
        held: Vec<String>,
    },
    /// The file holds statements of several accounts and none was chosen.
    #[error("the file holds statements of {} accounts ({})", held.len(), held.join(", "))]
    AccountNotChosen {
        /// The accounts in the file.
        held: Vec<String>,
    },
    /// The same bank line (same stable key) in two statements of the file.
    #[error("{line}: the same bank line as {first} (is a statement repeated in the file?)")]
    RepeatedLine {
        /// Where the second one is.
        line: String,
        /// Where the first one is.
        first: String,
    },
    /// A statement's own sums cannot be computed.
    #[error("statement {index}: {error}")]
    Statement {
        /// 1-based position of the statement in the file.
        index: usize,
        /// Why.
        error: BankError,
    },
    /// The whole file's sums cannot be computed.
    #[error("{0}")]
    File(BankError),
    /// Checked arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
    /// A balance that the `reconciliation` entry cannot carry.
    #[error("{0}")]
    Balance(MoneyError),
    /// A matched entry id that is not an entry id (cannot happen: the items are built from ids).
    #[error("{0:?} is not an entry id")]
    EntryId(String),
}

/// One statement of the file, as read.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Statement id (CAMT `Stmt/Id`, MT940 `:20:`).
    pub id: String,
    /// Sequence number, when given.
    pub sequence: Option<String>,
    /// First day.
    #[serde(serialize_with = "ser_date")]
    pub period_from: NaiveDate,
    /// Last day.
    #[serde(serialize_with = "ser_date")]
    pub period_to: NaiveDate,
    /// Opening booked balance.
    pub opening: Decimal,
    /// Closing booked balance.
    pub closing: Decimal,
    /// Booked lines.
    pub lines: usize,
    /// Entries skipped because they are not booked (CAMT status other than BOOK).
    pub skipped_unbooked: usize,
    /// Opening + lines = closing?
    pub check: BalanceCheck,
}

/// A place where one statement does not open with the previous one's closing balance.
#[derive(Debug, Clone, Serialize)]
pub struct ChainBreak {
    /// 1-based position of the statement in the file.
    pub statement: usize,
    /// The previous statement's closing balance.
    pub previous_closing: Decimal,
    /// This statement's opening balance.
    pub opening: Decimal,
}

/// The file's own check: every statement adds up, and they chain.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// Everything adds up.
    pub ok: bool,
    /// The whole file: first opening + every line = last closing.
    pub total: BalanceCheck,
    /// Each statement.
    pub parts: Vec<Part>,
    /// Statements that do not open with the previous closing balance.
    pub chain_breaks: Vec<ChainBreak>,
}

/// The statements of one file joined into one, with the file's own check.
pub struct Combined {
    /// One statement: the first opening, the last closing, every line in file order.
    pub statement: Statement,
    /// The check.
    pub check: FileCheck,
}

/// Join the statements of one file. Refused (an input error): statements of different
/// accounts, and the same bank line (same stable key) in two statements of the file.
pub fn combine(mut stmts: Vec<Statement>) -> Result<Combined, DeskError> {
    if stmts.is_empty() {
        return Err(DeskError::NoStatement);
    }
    let accounts: BTreeSet<&str> = stmts.iter().map(|s| s.account.as_str()).collect();
    if accounts.len() > 1 {
        return Err(DeskError::SeveralAccounts(accounts.len()));
    }
    let mut parts = Vec::with_capacity(stmts.len());
    let mut chain_breaks = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, s) in stmts.iter().enumerate() {
        let check = s.balance_check().map_err(|error| DeskError::Statement { index: i + 1, error })?;
        if i > 0 {
            let prev = &stmts[i - 1];
            if prev.closing.amount != s.opening.amount {
                chain_breaks.push(ChainBreak {
                    statement: i + 1,
                    previous_closing: prev.closing.amount,
                    opening: s.opening.amount,
                });
            }
        }
        for l in &s.lines {
            if let Some(first) = seen.insert(l.key.clone(), l.source.clone()) {
                return Err(DeskError::RepeatedLine { line: l.source.clone(), first });
            }
        }
        parts.push(Part {
            id: s.id.clone(),
            sequence: s.sequence.clone(),
            period_from: s.period_from,
            period_to: s.period_to,
            opening: s.opening.amount,
            closing: s.closing.amount,
            lines: s.lines.len(),
            skipped_unbooked: s.skipped_unbooked,
            check,
        });
    }
    let last = stmts.len() - 1;
    let (closing, period_to) = (stmts[last].closing, stmts[last].period_to);
    let ids: Vec<String> = stmts.iter().map(|s| s.id.clone()).collect();
    let mut statement = stmts.swap_remove(0);
    for s in stmts {
        statement.lines.extend(s.lines);
        statement.skipped_unbooked += s.skipped_unbooked;
        statement.period_from = statement.period_from.min(s.period_from);
    }
    statement.closing = closing;
    statement.period_to = period_to.max(statement.period_to);
    if ids.len() > 1 {
        statement.id = ids.join("+");
        statement.sequence = None;
    }
    let total = statement.balance_check().map_err(DeskError::File)?;
    let ok = total.is_ok() && chain_breaks.is_empty() && parts.iter().all(|p| p.check.is_ok());
    Ok(Combined { statement, check: FileCheck { ok, total, parts, chain_breaks } })
}

/// Keep the statements of one account: `account` (an IBAN, compared without spaces and
/// case), or the only one the file holds.
pub fn select_account(stmts: Vec<Statement>, account: Option<&str>) -> Result<Vec<Statement>, DeskError> {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let held: BTreeSet<String> = stmts.iter().map(|s| s.account.clone()).collect();
    match account {
        Some(want) => {
            let want = norm(want);
            let kept: Vec<Statement> = stmts.into_iter().filter(|s| norm(&s.account) == want).collect();
            if kept.is_empty() {
                return Err(DeskError::NoSuchAccount { want, held: held.into_iter().collect() });
            }
            Ok(kept)
        }
        None if held.len() > 1 => Err(DeskError::AccountNotChosen { held: held.into_iter().collect() }),
        None => Ok(stmts),
    }
}

/// What the matcher may match, and what it may only hint at.
pub struct Items {
    /// Open and confirmed contributions and disbursements of every fund in scope.
    pub active: Vec<LedgerItem>,
    /// Pending and reversed payouts and reversed contributions: never matched, but a
    /// bank line with their reference gets a hint.
    pub inactive: Vec<(LedgerItem, String)>,
    /// Entry id → its fund and signed amount (positive in, negative out).
    pub index: BTreeMap<String, (FundId, Decimal)>,
}

/// A ledger item for money in (a contribution or an income): matched against
/// credits by its reference, amount and date.
fn money_in(
    id: &EntryId,
    amount: crate::money::Amount,
    reference: &str,
    received_at: &crate::time::Timestamp,
    member: String,
    confirmed: bool,
    pinned: &BTreeMap<EntryId, String>,
) -> LedgerItem {
    LedgerItem {
        entry_id: id.to_hex(),
        kind: LedgerKind::Contribution,
        amount: amount.as_decimal(),
        reference: reference.to_string(),
        date: received_at.date(),
        member,
        already_confirmed: confirmed,
        confirmed_bank_key: if confirmed { pinned.get(id).cloned() } else { None },
    }
}

/// Turn the books of the funds in scope into ledger items. `pinned` gives, per entry, the
/// stable key of the bank line that confirmed it (from the local reconcile state).
pub fn ledger_items(scope: &[&FundBooks], pinned: &BTreeMap<EntryId, String>) -> Items {
    let mut items = Items { active: Vec::new(), inactive: Vec::new(), index: BTreeMap::new() };
    for books in scope {
        for c in &books.contributions {
            let confirmed = c.status == ContributionStatus::Confirmed;
            let item = money_in(&c.id, c.amount, &c.reference, &c.received_at, c.author.to_string(), confirmed, pinned);
            items.index.insert(item.entry_id.clone(), (books.id.clone(), item.amount));
            match c.status {
                ContributionStatus::Reversed => items
                    .inactive
                    .push((item, "a contribution that was reversed (it never arrived, its author said)".into())),
                ContributionStatus::Returned => {
                    items.inactive.push((item, "a contribution the bank returned (recorded before)".into()))
                }
                _ => items.active.push(item),
            }
        }
        // Income is money in like a contribution: matched against credits by its reference.
        for i in &books.incomes {
            let confirmed = i.status == IncomeStatus::Confirmed;
            let item = money_in(&i.id, i.amount, &i.reference, &i.received_at, i.source.clone(), confirmed, pinned);
            items.index.insert(item.entry_id.clone(), (books.id.clone(), item.amount));
            match i.status {
                IncomeStatus::Reversed => items.inactive.push((item, "an income that was reversed".into())),
                IncomeStatus::Returned => {
                    items.inactive.push((item, "an income the bank returned (recorded before)".into()))
                }
                _ => items.active.push(item),
            }
        }
        for d in &books.disbursements {
            let confirmed = d.status == DisbursementStatus::Confirmed;
            let item = LedgerItem {
                entry_id: d.id.to_hex(),
                kind: LedgerKind::Disbursement,
                amount: d.amount.as_decimal(),
                reference: d.reference.clone(),
                date: d.requested_at.date(),
                member: d.payee(),
                already_confirmed: confirmed,
                confirmed_bank_key: if confirmed { pinned.get(&d.id).cloned() } else { None },
            };
            items.index.insert(item.entry_id.clone(), (books.id.clone(), -item.amount));
            match d.status {
                DisbursementStatus::Pending => {
                    let why = format!(
                        "a payout still waiting for approvals ({} so far): it left the bank before it was approved",
                        d.approvals.len()
                    );
                    items.inactive.push((item, why))
                }
                DisbursementStatus::Reversed => {
                    items.inactive.push((item, "a payout request that was reversed".into()))
                }
                DisbursementStatus::Lapsed => {
                    items.inactive.push((item, "a payout request that lapsed with its allocation".into()))
                }
                DisbursementStatus::Returned => {
                    items.inactive.push((item, "a payout the bank returned (recorded before)".into()))
                }
                _ => items.active.push(item),
            }
        }
    }
    items
}

/// Whether `reference` is one of the line's references, or a whole word of its text.
fn names(line: &BankLine, reference: &str) -> bool {
    let want = reference.trim().to_lowercase();
    if want.is_empty() {
        return false;
    }
    let r = &line.refs;
    let exact = [&r.end_to_end_id, &r.creditor_reference, &r.ntry_ref]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| v.trim().to_lowercase() == want));
    exact
        || r.remittance_text.as_deref().is_some_and(|t| {
            t.to_lowercase().split(|c: char| c.is_whitespace() || c == ',' || c == ';').any(|w| w == want)
        })
}

/// The entries the statement's return lines undo ([`BankLine::is_return`]: CAMT `RvslInd`,
/// `RtrInf` return reasons and return `BkTxCd` sub-families, MT940 `RC`/`RD`, `/RTRN/` and
/// `NRTI`): a returning debit undoes a confirmed contribution or income, a returning credit
/// an executed payout, matched by reference and equal amount. Never picks: a line with no
/// or several candidates returns nothing (it stays an unmatched line for the treasurer),
/// and an entry two lines could return is returned by neither. Every return line gets a
/// hint (by line key) naming its reason code and what was proposed.
fn returns(
    statement: &Statement,
    active: &[LedgerItem],
    index: &BTreeMap<String, (FundId, Decimal)>,
    fund: &FundId,
) -> Result<(Vec<EntryId>, BTreeMap<String, String>), DeskError> {
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut picks: Vec<(&BankLine, Vec<&LedgerItem>)> = Vec::new();
    for line in statement.lines.iter().filter(|l| l.is_return()) {
        let kind = match line.direction {
            Direction::Debit => LedgerKind::Contribution,
            Direction::Credit => LedgerKind::Disbursement,
        };
        let candidates: Vec<&LedgerItem> = active
            .iter()
            .filter(|i| i.kind == kind && i.amount == line.amount && names(line, &i.reference))
            .filter(|i| kind == LedgerKind::Disbursement || i.already_confirmed)
            .filter(|i| index.get(&i.entry_id).is_some_and(|(f, _)| f == fund))
            .collect();
        if let [one] = candidates.as_slice() {
            *wanted.entry(one.entry_id.as_str()).or_default() += 1;
        }
        picks.push((line, candidates));
    }
    let mut returned = Vec::new();
    let mut hints = BTreeMap::new();
    for (line, candidates) in picks {
        let why = match &line.return_reason {
            Some(code) => format!("the bank returned this payment (reason {code})"),
            None => "the bank reversed this booking".to_string(),
        };
        let what = match candidates.as_slice() {
            [one] if wanted.get(one.entry_id.as_str()) == Some(&1) => {
                returned.push(one.entry_id.parse::<EntryId>().map_err(|_| DeskError::EntryId(one.entry_id.clone()))?);
                format!("the reconciliation's `returned` lists {} {}", kind_word(one.kind), one.entry_id)
            }
            [one] => format!(
                "another line returns {} {} too: list the right one in `returned` by hand",
                kind_word(one.kind),
                one.entry_id
            ),
            [] => "no confirmed entry of this fund has its reference and amount: handle it by hand".to_string(),
            many => format!("{} entries have its reference and amount: meent never picks", many.len()),
        };
        hints.insert(line.key.clone(), format!("{why}; {what}"));
    }
    Ok((returned, hints))
}

/// Where the balance the account held apart from the ledger's money comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum BaseSource {
    /// Given with `--opening`.
    Given,
    /// The opening balance of the earliest reconciliation recorded for the fund(s).
    Reconciliation {
        /// That reconciliation's entry id.
        id: String,
        /// Its first day.
        period_from: String,
    },
    /// This statement's own opening balance (nothing earlier was recorded).
    Statement,
}

/// Does the ledger agree with the bank's closing balance? See `docs/TREASURER.md`.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceAgreement {
    /// The bank's closing booked balance.
    pub bank_closing: Decimal,
    /// Its date.
    #[serde(serialize_with = "ser_date")]
    pub closing_date: NaiveDate,
    /// Money the account held apart from the ledger's flows (history before the ledger).
    pub base: Decimal,
    /// Where `base` comes from.
    pub base_from: BaseSource,
    /// Contributions confirmed at the bank by the end of the statement (this run's matches
    /// included).
    pub confirmed_in: Decimal,
    /// Payouts confirmed at the bank by the end of the statement (this run's included).
    pub confirmed_out: Decimal,
    /// base + confirmed_in − confirmed_out.
    pub expected_closing: Decimal,
    /// bank_closing − expected_closing.
    pub difference: Decimal,
    /// The difference is zero.
    pub agrees: bool,
}

/// Everything `meent reconcile` reports.
pub struct Analysis {
    /// The fund being reconciled.
    pub fund: FundId,
    /// Other funds kept in the same account (`--with-fund`).
    pub with_funds: Vec<FundId>,
    /// SHA-256 of the statement file.
    pub statement_sha256: String,
    /// The combined statement.
    pub statement: Statement,
    /// The file's own check.
    pub file_check: FileCheck,
    /// The matcher's report.
    pub report: Report,
    /// Entry id → fund and signed amount, for every item in scope.
    pub index: BTreeMap<String, (FundId, Decimal)>,
    /// Hints for bank lines missing from the ledger, by line key.
    pub hints: BTreeMap<String, String>,
    /// The balance check against the ledger.
    pub balance: BalanceAgreement,
    /// The `reconciliation` entry's body (SPEC §4.1) this run would record.
    pub body: Reconciliation,
    /// The reconciliation already recorded for this very file, if any.
    pub recorded_before: Option<EntryId>,
}

fn ser_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.format("%Y-%m-%d"))
}

fn scale2(mut d: Decimal) -> Decimal {
    d.rescale(2);
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, DeskError> {
    a.checked_add(b).ok_or(DeskError::Overflow)
}

/// A balance as the `reconciliation` entry wants it (`"-12.50"`, `"0.00"`).
pub fn entry_balance(d: Decimal) -> Result<Balance, DeskError> {
    Balance::new(scale2(d)).map_err(DeskError::Balance)
}

/// The inputs of [`analyse`] besides the statement.
pub struct Inputs<'a> {
    /// The fund reconciled.
    pub books: &'a FundBooks,
    /// Other funds kept in the same account.
    pub others: &'a [FundBooks],
    /// Entry → key of the bank line that confirmed it (local state).
    pub pinned: &'a BTreeMap<EntryId, String>,
    /// Matching options (date window, IBAN mapping).
    pub options: &'a MatchOptions,
    /// `--opening`: money in the account apart from the ledger's flows.
    pub opening: Option<Decimal>,
    /// SHA-256 of the statement file.
    pub statement_sha256: String,
}

/// Match the statement against the ledger and check the balances.
pub fn analyse(combined: Combined, input: Inputs<'_>) -> Result<Analysis, DeskError> {
    let Combined { statement, check: file_check } = combined;
    let mut scope: Vec<&FundBooks> = vec![input.books];
    scope.extend(input.others.iter());
    let items = ledger_items(&scope, input.pinned);
    let report = bank::reconcile(&statement, &items.active, input.options);

    // Hints: a line missing from the ledger whose reference is that of a pending or
    // reversed entry.
    let mut hints = BTreeMap::new();
    if !items.inactive.is_empty() {
        let inactive: Vec<LedgerItem> = items
            .inactive
            .iter()
            .map(|(i, _)| LedgerItem { already_confirmed: false, confirmed_bank_key: None, ..i.clone() })
            .collect();
        let missing: BTreeSet<&str> = report
            .missing_from_ledger
            .iter()
            .filter(|m| m.reason == UnmatchedReason::NoCandidate)
            .map(|m| m.line.key.as_str())
            .collect();
        let why: BTreeMap<&str, &str> = items.inactive.iter().map(|(i, w)| (i.entry_id.as_str(), w.as_str())).collect();
        let again = bank::reconcile(
            &statement,
            &inactive,
            &MatchOptions { member_ibans: BTreeMap::new(), ..input.options.clone() },
        );
        for m in again.matched.iter().filter(|m| m.method == bank::reconcile::MatchMethod::Reference) {
            if missing.contains(m.line.key.as_str()) {
                let w = why.get(m.item.entry_id.as_str()).copied().unwrap_or("");
                hints.insert(
                    m.line.key.clone(),
                    format!("its reference is that of {} {}: {w}", kind_word(m.item.kind), m.item.entry_id),
                );
            }
        }
    }

    let balance = agreement(&statement, &report, &scope, &items.index, input.opening)?;
    let (returned, return_hints) = returns(&statement, &items.active, &items.index, &input.books.id)?;
    hints.extend(return_hints);

    let confirmed = report
        .confirmed_entry_ids()
        .into_iter()
        .filter(|id| items.index.get(id).is_some_and(|(f, _)| f == &input.books.id))
        .map(|id| id.parse::<EntryId>().map_err(|_| DeskError::EntryId(id)))
        .collect::<Result<Vec<_>, _>>()?;
    let body = Reconciliation {
        fund: input.books.id.clone(),
        statement_sha256: input.statement_sha256.clone(),
        period_from: Date(statement.period_from),
        period_to: Date(statement.period_to),
        opening_balance: entry_balance(statement.opening.amount)?,
        closing_balance: entry_balance(statement.closing.amount)?,
        confirmed,
        unmatched_bank_lines: report.unmatched_bank_lines() as u64,
        returned,
    };
    let recorded_before =
        input.books.reconciliations.iter().find(|r| r.statement_sha256 == input.statement_sha256).map(|r| r.id);
    Ok(Analysis {
        fund: input.books.id.clone(),
        with_funds: input.others.iter().map(|b| b.id.clone()).collect(),
        statement_sha256: input.statement_sha256,
        statement,
        file_check,
        report,
        index: items.index,
        hints,
        balance,
        body,
        recorded_before,
    })
}

/// "contribution" or "payout".
pub fn kind_word(k: LedgerKind) -> &'static str {
    match k {
        LedgerKind::Contribution => "contribution",
        LedgerKind::Disbursement => "payout",
    }
}

/// The ledger's money at the bank by the end of the statement, against the bank's closing
/// balance. See `docs/TREASURER.md` ("Does the ledger agree with the bank?").
fn agreement(
    statement: &Statement,
    report: &Report,
    scope: &[&FundBooks],
    index: &BTreeMap<String, (FundId, Decimal)>,
    opening: Option<Decimal>,
) -> Result<BalanceAgreement, DeskError> {
    let mut confirmed_in = Decimal::ZERO;
    let mut confirmed_out = Decimal::ZERO;
    let mut count = |line: &BankLine| -> Result<(), DeskError> {
        match line.direction {
            Direction::Credit => confirmed_in = add(confirmed_in, line.amount)?,
            Direction::Debit => confirmed_out = add(confirmed_out, line.amount)?,
        }
        Ok(())
    };
    // Lines of this statement that the ledger explains, and the entries they stand for.
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for m in &report.matched {
        count(&m.line)?;
        covered.insert(m.item.entry_id.clone());
    }
    for a in report.already_confirmed.iter().filter(|a| a.how != ConfirmedHow::ByOtherBankLine) {
        count(&a.line)?;
        covered.extend(a.entry_ids.iter().cloned());
    }
    // Entries confirmed by reconciliations that ended by this statement's end and not seen here.
    let mut ends: BTreeMap<EntryId, NaiveDate> = BTreeMap::new();
    for b in scope {
        for r in &b.reconciliations {
            ends.insert(r.id, r.period_to.0);
        }
    }
    let confirmed_by = scope.iter().flat_map(|b| {
        let c = b
            .contributions
            .iter()
            .filter(|c| c.status == ContributionStatus::Confirmed)
            .map(|c| (c.id, c.confirmed_by()));
        let d = b
            .disbursements
            .iter()
            .filter(|d| d.status == DisbursementStatus::Confirmed)
            .map(|d| (d.id, d.confirmed_by));
        c.chain(d).collect::<Vec<_>>()
    });
    for (id, by) in confirmed_by {
        let hex = id.to_hex();
        if covered.contains(&hex) {
            continue;
        }
        let ended = by.and_then(|r| ends.get(&r)).is_some_and(|end| *end <= statement.period_to);
        if !ended {
            continue;
        }
        if let Some((_, signed)) = index.get(&hex) {
            if signed.is_sign_negative() {
                confirmed_out = add(confirmed_out, -*signed)?;
            } else {
                confirmed_in = add(confirmed_in, *signed)?;
            }
        }
    }
    let earliest = scope.iter().flat_map(|b| b.reconciliations.iter()).min_by_key(|r| (r.period_from, r.seq));
    let (base, base_from) = match (opening, earliest) {
        (Some(b), _) => (b, BaseSource::Given),
        (None, Some(r)) if r.period_from.0 <= statement.period_from => (
            r.opening_balance.as_decimal(),
            BaseSource::Reconciliation { id: r.id.to_hex(), period_from: r.period_from.to_string() },
        ),
        _ => (statement.opening.amount, BaseSource::Statement),
    };
    let expected = add(base, confirmed_in)?.checked_sub(confirmed_out).ok_or(DeskError::Overflow)?;
    let difference = statement.closing.amount.checked_sub(expected).ok_or(DeskError::Overflow)?;
    Ok(BalanceAgreement {
        bank_closing: scale2(statement.closing.amount),
        closing_date: statement.closing.date,
        base: scale2(base),
        base_from,
        confirmed_in: scale2(confirmed_in),
        confirmed_out: scale2(confirmed_out),
        expected_closing: scale2(expected),
        difference: scale2(difference),
        agrees: difference.is_zero(),
    })
}

impl Analysis {
    /// What is not explained, one sentence each; empty when everything is.
    pub fn unexplained(&self) -> Vec<String> {
        let mut out = Vec::new();
        let fc = &self.file_check;
        if !fc.ok {
            if !fc.chain_breaks.is_empty() {
                out.push(format!(
                    "{} statement(s) in the file do not open with the previous closing balance",
                    fc.chain_breaks.len()
                ));
            }
            for (i, p) in fc.parts.iter().enumerate().filter(|(_, p)| !p.check.is_ok()) {
                out.push(format!(
                    "statement {} ({}) does not add up: opening {} + lines {} = {}, but the stated closing balance is {} (difference {})",
                    i + 1,
                    p.id,
                    p.check.opening,
                    scale2(p.check.credits - p.check.debits),
                    p.check.expected_closing,
                    p.check.stated_closing,
                    p.check.difference
                ));
            }
            if fc.parts.iter().all(|p| p.check.is_ok()) && fc.chain_breaks.is_empty() {
                out.push(format!("the file does not add up (difference {})", fc.total.difference));
            }
        }
        let r = &self.report;
        let n = |k: usize, one: &str, many: &str| if k == 1 { format!("1 {one}") } else { format!("{k} {many}") };
        if !r.missing_from_ledger.is_empty() {
            out.push(n(
                r.missing_from_ledger.len(),
                "bank line is missing from the ledger",
                "bank lines are missing from the ledger",
            ));
        }
        if !r.ambiguous.is_empty() {
            out.push(n(
                r.ambiguous.len(),
                "bank line is ambiguous (several entries could be it)",
                "bank lines are ambiguous (several entries could be them)",
            ));
        }
        let other = r.already_confirmed.iter().filter(|a| !a.is_explained()).count();
        if other > 0 {
            out.push(n(
                other,
                "bank line matches an entry another bank line confirmed (a second payment?)",
                "bank lines match entries other bank lines confirmed (second payments?)",
            ));
        }
        if !r.not_seen_at_bank.is_empty() {
            out.push(n(
                r.not_seen_at_bank.len(),
                "ledger entry of the period was not seen at the bank",
                "ledger entries of the period were not seen at the bank",
            ));
        }
        if !self.balance.agrees {
            out.push(format!(
                "the bank's closing balance {} differs from what the ledger explains, {}, by {}",
                self.balance.bank_closing, self.balance.expected_closing, self.balance.difference
            ));
        }
        out
    }

    /// Everything is explained: exit 0.
    pub fn all_explained(&self) -> bool {
        self.unexplained().is_empty()
    }

    /// The fund an entry belongs to (for items of `--with-fund` funds).
    pub fn fund_of(&self, entry_id: &str) -> Option<&FundId> {
        self.index.get(entry_id).map(|(f, _)| f)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::str::FromStr;

    use serde_json::{json, Value};

    use super::*;
    use crate::bank::{line_key, Balance as BankBalance, Format, References};

    pub fn hex(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    /// A contribution: (id byte, member, amount, reference, day, status, confirmed by).
    pub fn contribution(
        n: u8,
        member: &str,
        amount: &str,
        reference: &str,
        day: &str,
        status: &str,
        by: Option<u8>,
    ) -> Value {
        let mut v = json!({"id": hex(n), "seq": n, "fund": "f-one", "author": member, "amount": amount, "reference": reference,
                           "received_at": format!("{day}T10:00:00Z"), "status": status});
        if let Some(b) = by {
            v["confirmed_by"] = json!(hex(b));
        }
        v
    }

    /// A payout: (id byte, recipient, amount, reference, day, status, confirmed by).
    pub fn payout(
        n: u8,
        recipient: &str,
        amount: &str,
        reference: &str,
        day: &str,
        status: &str,
        by: Option<u8>,
    ) -> Value {
        let mut v = json!({"id": hex(n), "seq": n, "fund": "f-one", "allocation": hex(200), "payout": "allocation", "recipient": recipient,
                           "amount": amount, "reference": reference, "requested_by": "tres-one", "requested_at": format!("{day}T10:00:00Z"),
                           "approvals": ["tres-one"], "status": status});
        if status == "executed" || status == "confirmed" {
            v["executed_seq"] = json!(n);
        }
        if let Some(b) = by {
            v["confirmed_by"] = json!(hex(b));
        }
        v
    }

    /// A recorded reconciliation: (id byte, from, to, opening, closing).
    pub fn recon(n: u8, from: &str, to: &str, opening: &str, closing: &str) -> Value {
        json!({"id": hex(n), "seq": n, "author": "tres-one", "statement_sha256": hex(n), "period_from": from, "period_to": to,
               "opening_balance": opening, "closing_balance": closing, "confirmed": 1, "unmatched_bank_lines": 0})
    }

    pub fn books(id: &str, contributions: Vec<Value>, payouts: Vec<Value>, recons: Vec<Value>) -> FundBooks {
        let z = json!({"pledged": "0.00", "confirmed": "0.00", "committed": "0.00", "disbursed": "0.00", "available": "0.00"});
        let mut contributions: Vec<crate::funds::ContributionState> =
            contributions.into_iter().map(|v| serde_json::from_value(v).expect("contribution")).collect();
        let mut disbursements: Vec<crate::funds::DisbursementState> =
            payouts.into_iter().map(|v| serde_json::from_value(v).expect("payout")).collect();
        let fid: FundId = id.parse().expect("fund id");
        for c in &mut contributions {
            c.fund = fid.clone();
        }
        for p in &mut disbursements {
            p.fund = fid.clone();
        }
        FundBooks {
            id: fid,
            name: "Fund".into(),
            status: crate::funds::FundStatus::Active,
            treasurers: vec!["tres-one".into()],
            balances: serde_json::from_value(z).expect("balances"),
            contributions,
            disbursements,
            reconciliations: recons.into_iter().map(|v| serde_json::from_value(v).expect("recon")).collect(),
            incomes: Vec::new(),
            executed_dates: BTreeMap::new(),
        }
    }

    pub fn line(bank_ref: &str, amount: &str, credit: bool, day: &str, reference: &str) -> BankLine {
        let mut l = BankLine {
            key: String::new(),
            amount: d(amount),
            direction: if credit { Direction::Credit } else { Direction::Debit },
            reversal: false,
            return_reason: None,
            booking_date: date(day),
            value_date: None,
            refs: References {
                acct_svcr_ref: Some(bank_ref.into()),
                remittance_text: Some(reference.into()),
                ..References::default()
            },
            counterparty_name: None,
            counterparty_iban: None,
            description: None,
            batch_detail: None,
            source: format!("Stmt[1]/Ntry[{bank_ref}]"),
        };
        l.key = line_key("NL91ABNA0417164300", &l, 0);
        l
    }

    pub fn statement(from: &str, to: &str, opening: &str, lines: Vec<BankLine>) -> Statement {
        let sum: Decimal = lines.iter().map(BankLine::signed_amount).sum();
        Statement {
            format: Format::Camt053 { version: 2 },
            id: "S".into(),
            sequence: None,
            account: "NL91ABNA0417164300".into(),
            currency: "EUR".into(),
            period_from: date(from),
            period_to: date(to),
            opening: BankBalance { amount: d(opening), date: date(from) },
            closing: BankBalance { amount: scale2(d(opening) + sum), date: date(to) },
            lines,
            skipped_unbooked: 0,
        }
    }

    fn analyse_one(st: Statement, b: &FundBooks, others: &[FundBooks], opening: Option<&str>) -> Analysis {
        let combined = combine(vec![st]).expect("combine");
        let pinned = BTreeMap::new();
        let options = MatchOptions::default();
        analyse(
            combined,
            Inputs {
                books: b,
                others,
                pinned: &pinned,
                options: &options,
                opening: opening.map(d),
                statement_sha256: "ab".repeat(32),
            },
        )
        .expect("analyse")
    }

    #[test]
    fn first_statement_base_is_its_opening() {
        let b = books(
            "f-one",
            vec![contribution(1, "coop-one", "100.00", "R-1", "2026-01-03", "pledged", None)],
            vec![],
            vec![],
        );
        let a = analyse_one(
            statement("2026-01-01", "2026-01-31", "40.00", vec![line("B1", "100.00", true, "2026-01-04", "R-1")]),
            &b,
            &[],
            None,
        );
        assert_eq!(a.balance.base_from, BaseSource::Statement);
        assert_eq!(
            (a.balance.base, a.balance.confirmed_in, a.balance.expected_closing),
            (d("40.00"), d("100.00"), d("140.00"))
        );
        assert!(a.balance.agrees);
        assert!(a.all_explained(), "{:?}", a.unexplained());
        let body = serde_json::to_value(&a.body).expect("body");
        assert_eq!(body["confirmed"], json!([hex(1)]));
        assert_eq!(body["opening_balance"], "40.00");
        assert_eq!(body["closing_balance"], "140.00");
        assert_eq!(
            (body["period_from"].as_str(), body["period_to"].as_str()),
            (Some("2026-01-01"), Some("2026-01-31"))
        );
        assert_eq!(body["unmatched_bank_lines"], 0);
        // --opening says 50.00 of the account was never the fund's: 10.00 is not explained.
        let a = analyse_one(
            statement("2026-01-01", "2026-01-31", "40.00", vec![line("B1", "100.00", true, "2026-01-04", "R-1")]),
            &b,
            &[],
            Some("50.00"),
        );
        assert_eq!(a.balance.base_from, BaseSource::Given);
        assert_eq!(a.balance.difference, d("-10.00"));
        assert!(!a.all_explained());
    }

    #[test]
    fn later_statements_are_checked_against_the_first_recorded_opening() {
        // January was reconciled (opening 40.00, +100 confirmed); February pays 30.00 out.
        let b = books(
            "f-one",
            vec![contribution(1, "coop-one", "100.00", "R-1", "2026-01-03", "confirmed", Some(9))],
            vec![payout(2, "coop-two", "30.00", "P-1", "2026-02-02", "executed", None)],
            vec![recon(9, "2026-01-01", "2026-01-31", "40.00", "140.00")],
        );
        let feb =
            statement("2026-02-01", "2026-02-28", "140.00", vec![line("B2", "30.00", false, "2026-02-03", "P-1")]);
        let a = analyse_one(feb.clone(), &b, &[], None);
        assert_eq!(a.balance.base_from, BaseSource::Reconciliation { id: hex(9), period_from: "2026-01-01".into() });
        assert_eq!(
            (a.balance.confirmed_in, a.balance.confirmed_out, a.balance.expected_closing),
            (d("100.00"), d("30.00"), d("110.00"))
        );
        assert!(a.balance.agrees && a.all_explained(), "{:?}", a.unexplained());
        // A bank fee in February is a line the ledger lacks, and a difference of the balance.
        let mut with_fee = feb;
        with_fee.lines.push(line("B3", "2.50", false, "2026-02-28", "kosten"));
        with_fee.closing.amount = d("107.50");
        let a = analyse_one(with_fee, &b, &[], None);
        assert_eq!(a.balance.difference, d("-2.50"));
        assert_eq!(a.body.unmatched_bank_lines, 1);
        assert_eq!(a.unexplained().len(), 2, "{:?}", a.unexplained());
        // Re-running January after February was recorded does not count February's payout.
        let b2 = books(
            "f-one",
            vec![contribution(1, "coop-one", "100.00", "R-1", "2026-01-03", "confirmed", Some(9))],
            vec![payout(2, "coop-two", "30.00", "P-1", "2026-02-02", "confirmed", Some(10))],
            vec![
                recon(9, "2026-01-01", "2026-01-31", "40.00", "140.00"),
                recon(10, "2026-02-01", "2026-02-28", "140.00", "110.00"),
            ],
        );
        let jan = statement("2026-01-01", "2026-01-31", "40.00", vec![line("B1", "100.00", true, "2026-01-04", "R-1")]);
        let a = analyse_one(jan, &b2, &[], None);
        assert_eq!(a.report.already_confirmed.len(), 1);
        assert_eq!((a.balance.confirmed_in, a.balance.confirmed_out), (d("100.00"), d("0.00")));
        assert!(a.all_explained(), "{:?}", a.unexplained());
        assert!(a.body.confirmed.is_empty());
    }

    #[test]
    fn another_fund_in_the_same_account_explains_its_lines_but_is_not_confirmed_here() {
        let f = books(
            "f-one",
            vec![contribution(1, "coop-one", "100.00", "R-1", "2026-01-03", "pledged", None)],
            vec![],
            vec![],
        );
        let g = books(
            "g-two",
            vec![contribution(2, "coop-two", "70.00", "G-1", "2026-01-03", "pledged", None)],
            vec![],
            vec![],
        );
        let st = statement(
            "2026-01-01",
            "2026-01-31",
            "0.00",
            vec![line("B1", "100.00", true, "2026-01-04", "R-1"), line("B2", "70.00", true, "2026-01-05", "G-1")],
        );
        let alone = analyse_one(st.clone(), &f, &[], None);
        assert_eq!(alone.report.missing_from_ledger.len(), 1);
        assert!(!alone.all_explained());
        let shared = analyse_one(st, &f, &[g], None);
        assert_eq!(shared.report.matched.len(), 2);
        assert!(shared.all_explained(), "{:?}", shared.unexplained());
        assert_eq!(
            shared.body.confirmed.iter().map(|i| i.to_hex()).collect::<Vec<_>>(),
            vec![hex(1)],
            "only this fund's entries are confirmed"
        );
        assert_eq!(shared.body.unmatched_bank_lines, 0);
        assert_eq!(shared.fund_of(&hex(2)).map(|f| f.as_str()), Some("g-two"));
    }

    #[test]
    fn a_line_of_a_pending_payout_gets_a_hint() {
        let b =
            books("f-one", vec![], vec![payout(3, "coop-two", "30.00", "P-9", "2026-02-02", "pending", None)], vec![]);
        let a = analyse_one(
            statement("2026-02-01", "2026-02-28", "100.00", vec![line("B9", "30.00", false, "2026-02-03", "P-9")]),
            &b,
            &[],
            None,
        );
        assert_eq!(a.report.missing_from_ledger.len(), 1);
        let hint = &a.hints[&a.report.missing_from_ledger[0].line.key];
        assert!(hint.contains(&hex(3)) && hint.contains("waiting for approvals"), "{hint}");
    }

    #[test]
    fn combining_statements() {
        let one = statement("2026-01-01", "2026-01-01", "10.00", vec![line("B1", "5.00", true, "2026-01-01", "x")]);
        let mut two =
            statement("2026-01-02", "2026-01-02", "15.00", vec![line("B2", "1.00", false, "2026-01-02", "y")]);
        let c = combine(vec![one.clone(), two.clone()]).expect("chained");
        assert!(c.check.ok);
        assert_eq!((c.statement.opening.amount, c.statement.closing.amount), (d("10.00"), d("14.00")));
        assert_eq!(c.statement.lines.len(), 2);
        two.opening.amount = d("16.00");
        two.closing.amount = d("15.00");
        let c = combine(vec![one.clone(), two.clone()]).expect("read, not chained");
        assert!(!c.check.ok);
        assert_eq!(c.check.chain_breaks.len(), 1);
        let e = combine(vec![one.clone(), one.clone()]).err().expect("a repeated statement").to_string();
        assert!(e.contains("the same bank line as"), "{e}");
        let mut other = two;
        other.account = "NL02RABO0123456789".into();
        assert_eq!(combine(vec![one.clone(), other.clone()]).err(), Some(DeskError::SeveralAccounts(2)));
        // Choosing the account: by IBAN without spaces or case, or the only one.
        let both = vec![one.clone(), other.clone()];
        let kept = select_account(both.clone(), Some("nl02 rabo 0123 4567 89")).expect("that account");
        assert_eq!((kept.len(), kept[0].account.as_str()), (1, "NL02RABO0123456789"));
        let held = vec!["NL02RABO0123456789".to_string(), "NL91ABNA0417164300".to_string()];
        assert_eq!(select_account(both.clone(), None).err(), Some(DeskError::AccountNotChosen { held: held.clone() }));
        let e = select_account(both, Some("NL44INGB0001234567")).expect_err("no such account");
        assert_eq!(e, DeskError::NoSuchAccount { want: "NL44INGB0001234567".into(), held });
        assert_eq!(select_account(vec![one], None).map(|v| v.len()), Ok(1));
    }
}
