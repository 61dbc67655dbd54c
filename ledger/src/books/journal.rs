//! A fund's books for accountants: a CSV of its flows, and a double-entry journal in
//! hledger or beancount syntax that `hledger check` and `bean-check` accept.
//!
//! The journal (accounts per fund `F`, member `M`):
//!
//! | event | date | postings |
//! | --- | --- | --- |
//! | contribution announced | its `received_at` | `Assets:F:Pledged` + / `Income:F:Contributions:M` − |
//! | contribution confirmed | the confirming reconciliation's `period_to` | `Assets:F:Bank` + / `Assets:F:Pledged` − |
//! | payout executed (enough approvals) | the executing record's date | `Expenses:F:Allocations:M` or `Expenses:F:Refunds:M` + / `Liabilities:F:Approved-payouts` − |
//! | payout confirmed | the confirming reconciliation's `period_to` | `Liabilities:F:Approved-payouts` + / `Assets:F:Bank` − |
//! | first reconciliation | its `period_from` | `Assets:F:Bank` + opening balance / `Equity:F:Opening-balance` − |
//! | each reconciliation | its `period_to` | if the bank's closing balance differs from the journal: `Assets:F:Bank` / `Equity:F:Bank-difference` (what the ledger does not explain), then a balance assertion `Assets:F:Bank = closing balance` |
//!
//! At the last date, assertions check the journal against the ledger's own figures:
//! `Assets:F:Pledged` = pledged, `Income:F:Contributions` (with sub-accounts) = −(pledged +
//! confirmed − income), `Income:F:Outside` = −(pledged and confirmed income), `Expenses:F`
//! (with sub-accounts) = disbursed. Incomes post like contributions against
//! `Income:F:Outside:{Donations,Grants,Interest,Other}`; costs against
//! `Expenses:F:Costs:{BankFees,Administration,Insurance,Other}`. A reversed pledge is taken
//! back (`Income:…` + / `Assets:F:Pledged` −, on the reversal's date); money in the bank
//! returned goes out again (`Income:…` + / `Assets:F:Bank` −); a payout that came back
//! (`Assets:F:Bank`, or `Liabilities:F:Approved-payouts` when it was never confirmed, + /
//! `Expenses:…` −), each dated by the returning reconciliation's `period_to`. Pending,
//! reversed or lapsed payouts move no money and appear as comments. Reasons:
//! `docs/TREASURER.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::FundBooks;
use crate::funds::{ContributionStatus, DisbursementStatus, IncomeStatus};
use crate::ids::EntryId;

/// Why a journal cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Checked arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A text cell
/// that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading `'` (OWASP "CSV injection"); numbers (`text == false`) are written as they are.
pub fn csv_cell(s: &str, text: bool) -> String {
    cell_in(s, text, CsvDialect::Rfc4180)
}

/// How a CSV is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvDialect {
    /// RFC 4180: `,` between cells, amounts with a decimal point (`-12.50`).
    Rfc4180,
    /// What Excel in a Dutch locale opens as it is: a UTF-8 byte order mark first
    /// (else Excel reads the file as Windows-1252), `;` between cells and amounts
    /// with a decimal comma (`-12,50`); quoting and line ends as RFC 4180.
    ExcelNl,
}

fn cell_in(s: &str, text: bool, dialect: CsvDialect) -> String {
    let mut v = s.to_string();
    if text && v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.insert(0, '\'');
    }
    if !text && dialect == CsvDialect::ExcelNl {
        v = v.replace('.', ",");
    }
    let separator = if dialect == CsvDialect::ExcelNl { ';' } else { ',' };
    if v.contains([separator, '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn money(d: Decimal) -> String {
    crate::money::two_decimals(d)
}

/// Columns of the flows CSV.
pub const FLOWS_CSV_HEADER: &[&str] = &[
    "date",
    "kind",
    "entry_id",
    "record",
    "member",
    "direction",
    "amount",
    "reference",
    "status",
    "approvals",
    "confirmed_by",
    "confirmed_through",
    "allocation",
    "payout",
    "note",
];

/// The fund's contributions and payouts, one row each in log order; `amount` is signed
/// (money in positive, out negative) so that a spreadsheet can sum it.
pub fn flows_csv(b: &FundBooks) -> String {
    flows_csv_in(b, CsvDialect::Rfc4180)
}

/// [`flows_csv`] in the given dialect: the same rows and cells, separated and
/// with amounts written as `dialect` says.
pub fn flows_csv_in(b: &FundBooks, dialect: CsvDialect) -> String {
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    let through = |by: Option<EntryId>| {
        by.and_then(|id| b.reconciliation(&id)).map(|r| r.period_to.to_string()).unwrap_or_default()
    };
    for c in &b.contributions {
        rows.push((
            c.seq,
            vec![
                c.received_at.date().to_string(),
                "contribution".into(),
                c.id.to_hex(),
                c.seq.to_string(),
                c.author.to_string(),
                "in".into(),
                money(c.amount.as_decimal()),
                c.reference.to_string(),
                status_word(c.status).into(),
                String::new(),
                c.confirmed_by().map(|i| i.to_hex()).unwrap_or_default(),
                through(c.confirmed_by()),
                String::new(),
                String::new(),
                c.note.as_deref().unwrap_or_default().to_string(),
            ],
        ));
    }
    for i in &b.incomes {
        let status = match i.status {
            IncomeStatus::Pledged => "pledged",
            IncomeStatus::Confirmed => "confirmed",
            IncomeStatus::Reversed => "reversed",
            IncomeStatus::Returned => "returned",
        };
        rows.push((
            i.seq,
            vec![
                i.received_at.date().to_string(),
                "income".into(),
                i.id.to_hex(),
                i.seq.to_string(),
                i.source.clone(),
                "in".into(),
                money(i.amount.as_decimal()),
                i.reference.clone(),
                status.into(),
                String::new(),
                i.confirmed_by.map(|id| id.to_hex()).unwrap_or_default(),
                through(i.confirmed_by),
                String::new(),
                i.source_kind.as_str().into(),
                String::new(),
            ],
        ));
    }
    for d in &b.disbursements {
        rows.push((
            d.seq,
            vec![
                d.requested_at.date().to_string(),
                "disbursement".into(),
                d.id.to_hex(),
                d.seq.to_string(),
                d.payee(),
                "out".into(),
                money(-d.amount.as_decimal()),
                d.reference.clone(),
                payout_status_word(d.status).into(),
                d.approvals.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" "),
                d.confirmed_by.map(|i| i.to_hex()).unwrap_or_default(),
                through(d.confirmed_by),
                d.allocation.map(|a| a.to_hex()).unwrap_or_default(),
                payout_word(d).into(),
                String::new(),
            ],
        ));
    }
    rows.sort_by_key(|(seq, _)| *seq);
    let (mut out, separator) = match dialect {
        CsvDialect::Rfc4180 => (String::new(), ","),
        CsvDialect::ExcelNl => (String::from("\u{feff}"), ";"),
    };
    let header: Vec<String> = FLOWS_CSV_HEADER.iter().map(|h| h.to_string()).collect();
    for (n, r) in std::iter::once(header).chain(rows.into_iter().map(|(_, r)| r)).enumerate() {
        // The amount column of a row (not of the header) is a number.
        let cells: Vec<String> = r.iter().enumerate().map(|(i, c)| cell_in(c, n == 0 || i != 6, dialect)).collect();
        out.push_str(&cells.join(separator));
        out.push_str("\r\n");
    }
    out
}

fn status_word(s: ContributionStatus) -> &'static str {
    match s {
        ContributionStatus::Pledged => "pledged",
        ContributionStatus::Confirmed => "confirmed",
        ContributionStatus::Reversed => "reversed",
        ContributionStatus::Returned => "returned",
    }
}

fn payout_status_word(s: DisbursementStatus) -> &'static str {
    match s {
        DisbursementStatus::Pending => "pending",
        DisbursementStatus::Executed => "executed",
        DisbursementStatus::Confirmed => "confirmed",
        DisbursementStatus::Reversed => "reversed",
        DisbursementStatus::Lapsed => "lapsed",
        DisbursementStatus::Returned => "returned",
    }
}

/// "allocation" or "refund" (the payout kind as the API writes it).
fn payout_word(d: &crate::funds::DisbursementState) -> &'static str {
    match serde_json::to_value(d.payout).ok().as_ref().and_then(|v| v.as_str()) {
        Some("refund") => "refund",
        Some("cost") => "cost",
        _ => "allocation",
    }
}

/// Which journal syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// hledger (also read by ledger-cli for the parts used).
    Hledger,
    /// beancount v2/v3.
    Beancount,
}

struct Txn {
    date: NaiveDate,
    /// Log position (or reconciliation position) for a stable order within a day.
    order: (u64, u8),
    code: String,
    payee: String,
    narration: String,
    meta: Vec<(&'static str, String)>,
    postings: Vec<(String, Decimal)>,
    /// Balance assertions after this transaction: (account, amount, with sub-accounts).
    assert_after: Vec<(String, Decimal, bool)>,
}

/// A transaction code: the first 12 hex digits of an entry id.
fn code(id: &EntryId) -> String {
    id.to_hex().chars().take(12).collect()
}

/// An account name component: the id with its first letter upper-cased (beancount wants
/// components to start with a capital or a digit; ids are `[a-z0-9-]`).
/// An income's source kind as an account component.
fn source_account(k: crate::entry::SourceKind) -> &'static str {
    match k {
        crate::entry::SourceKind::Donation => "Donations",
        crate::entry::SourceKind::Grant => "Grants",
        crate::entry::SourceKind::Interest => "Interest",
        crate::entry::SourceKind::Other => "Other",
    }
}

/// Money in that the bank sent back: out of the bank, back against its source.
fn returned_txn(
    acc: &Accounts,
    at: Option<(NaiveDate, u64)>,
    by: Option<EntryId>,
    id: &EntryId,
    amount: Decimal,
    source: &str,
    payee: &str,
) -> Option<Txn> {
    let (date, seq) = at?;
    Some(Txn {
        date,
        order: (seq, 1),
        code: code(id),
        payee: payee.to_string(),
        narration: "returned by the bank to its sender".into(),
        meta: vec![("entry", id.to_hex()), ("reconciliation", by.map(|i| i.to_hex()).unwrap_or_default())],
        postings: vec![(source.to_string(), amount), (acc.bank.clone(), -amount)],
        assert_after: Vec::new(),
    })
}

/// A cost category as an account component (letters only, so every journal syntax takes it).
fn cost_account(c: crate::entry::CostCategory) -> &'static str {
    match c {
        crate::entry::CostCategory::BankFee => "BankFees",
        crate::entry::CostCategory::Administration => "Administration",
        crate::entry::CostCategory::Insurance => "Insurance",
        crate::entry::CostCategory::Other => "Other",
    }
}

fn component(id: &str) -> String {
    let mut c = id.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "X".into(),
    }
}

/// Text safe inside a description or a quoted string: no control characters, no `;` (a
/// comment in hledger), no `"` or `\` (beancount strings), at most 200 characters.
fn text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            ';' => ',',
            '"' => '\'',
            '\\' => '/',
            c => c,
        })
        .take(200)
        .collect()
}

struct Accounts {
    bank: String,
    pledged: String,
    contributions: String,
    outside: String,
    approved: String,
    expenses: String,
    opening: String,
    difference: String,
}

impl Accounts {
    fn of(fund: &str) -> Accounts {
        let f = component(fund);
        Accounts {
            bank: format!("Assets:{f}:Bank"),
            pledged: format!("Assets:{f}:Pledged"),
            contributions: format!("Income:{f}:Contributions"),
            outside: format!("Income:{f}:Outside"),
            approved: format!("Liabilities:{f}:Approved-payouts"),
            expenses: format!("Expenses:{f}"),
            opening: format!("Equity:{f}:Opening-balance"),
            difference: format!("Equity:{f}:Bank-difference"),
        }
    }
}

/// The fund's books as a journal. Errors only on arithmetic overflow.
pub fn journal(b: &FundBooks, syntax: Syntax) -> Result<String, JournalError> {
    let acc = Accounts::of(b.id.as_str());
    let mut txns: Vec<Txn> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    contribution_txns(b, &acc, &mut txns);
    income_txns(b, &acc, &mut txns);
    disbursement_txns(b, &acc, &mut txns, &mut comments);
    txns.extend(opening_txn(b, &acc));
    txns.sort_by_key(|t| (t.date, t.order));
    let mut out_txns = with_reconciliations(b, &acc, txns)?;
    if let Some(t) = final_assertions(b, &acc, &out_txns)? {
        out_txns.push(t);
    }
    Ok(render(b, &acc, syntax, &out_txns, &comments))
}

fn add(x: Decimal, y: Decimal) -> Result<Decimal, JournalError> {
    x.checked_add(y).ok_or(JournalError::Overflow)
}

/// The date and seq of the reconciliation `by`, when there is one.
fn recon_date(b: &FundBooks, by: Option<EntryId>) -> Option<(NaiveDate, u64)> {
    by.and_then(|id| b.reconciliation(&id)).map(|r| (r.period_to.0, r.seq))
}

/// Each contribution: announced (pledged), then reversed, or confirmed and perhaps returned.
fn contribution_txns(b: &FundBooks, acc: &Accounts, txns: &mut Vec<Txn>) {
    for c in &b.contributions {
        let amount = c.amount.as_decimal();
        let member_acc = format!("{}:{}", acc.contributions, component(c.author.as_str()));
        let meta = vec![("entry", c.id.to_hex()), ("reference", text(&c.reference))];
        txns.push(Txn {
            date: c.received_at.date(),
            order: (c.seq, 0),
            code: code(&c.id),
            payee: c.author.to_string(),
            narration: format!("contribution announced, ref {}", text(&c.reference)),
            meta: meta.clone(),
            postings: vec![(acc.pledged.clone(), amount), (member_acc.clone(), -amount)],
            assert_after: Vec::new(),
        });
        if c.status == ContributionStatus::Reversed {
            // A pledge that never arrived: the announcement is taken back.
            let date = c.reversed_at().as_ref().map(|t| t.date()).unwrap_or_else(|| c.received_at.date());
            let mut meta = meta.clone();
            meta.push(("reversal", c.reversed_by().map(|i| i.to_hex()).unwrap_or_default()));
            txns.push(Txn {
                date,
                order: (c.seq, 2),
                code: code(&c.id),
                payee: c.author.to_string(),
                narration: format!("contribution reversed: it never arrived, ref {}", text(&c.reference)),
                meta,
                postings: vec![(member_acc.clone(), amount), (acc.pledged.clone(), -amount)],
                assert_after: Vec::new(),
            });
        }
        if matches!(c.status, ContributionStatus::Confirmed | ContributionStatus::Returned) {
            if let Some(t) = returned_txn(
                acc,
                c.returned_at().as_ref().map(|t| recon_date(b, c.returned_by()).unwrap_or((t.date(), c.seq))),
                c.returned_by(),
                &c.id,
                amount,
                &member_acc,
                &c.author.to_string(),
            ) {
                txns.push(t);
            }
            let (date, seq) = recon_date(b, c.confirmed_by()).unwrap_or((c.received_at.date(), c.seq));
            let mut meta = meta;
            meta.push(("reconciliation", c.confirmed_by().map(|i| i.to_hex()).unwrap_or_default()));
            txns.push(Txn {
                date,
                order: (seq, 1),
                code: code(&c.id),
                payee: c.author.to_string(),
                narration: format!("contribution confirmed at the bank, ref {}", text(&c.reference)),
                meta,
                postings: vec![(acc.bank.clone(), amount), (acc.pledged.clone(), -amount)],
                assert_after: Vec::new(),
            });
        }
    }
}

/// Each income from outside the members: announced, then reversed, or confirmed and perhaps returned.
fn income_txns(b: &FundBooks, acc: &Accounts, txns: &mut Vec<Txn>) {
    for i in &b.incomes {
        let amount = i.amount.as_decimal();
        let source_acc = format!("{}:{}", acc.outside, source_account(i.source_kind));
        let meta = vec![("entry", i.id.to_hex()), ("reference", text(&i.reference))];
        let payee = text(&i.source);
        txns.push(Txn {
            date: i.received_at.date(),
            order: (i.seq, 0),
            code: code(&i.id),
            payee: payee.clone(),
            narration: format!("{} announced, ref {}", i.source_kind.as_str(), text(&i.reference)),
            meta: meta.clone(),
            postings: vec![(acc.pledged.clone(), amount), (source_acc.clone(), -amount)],
            assert_after: Vec::new(),
        });
        match i.status {
            IncomeStatus::Pledged => {}
            IncomeStatus::Reversed => {
                let date = i.reversed_at.as_ref().map(|t| t.date()).unwrap_or_else(|| i.received_at.date());
                txns.push(Txn {
                    date,
                    order: (i.seq, 2),
                    code: code(&i.id),
                    payee: payee.clone(),
                    narration: format!("{} reversed: it never arrived", i.source_kind.as_str()),
                    meta: meta.clone(),
                    postings: vec![(source_acc.clone(), amount), (acc.pledged.clone(), -amount)],
                    assert_after: Vec::new(),
                });
            }
            IncomeStatus::Confirmed | IncomeStatus::Returned => {
                let (date, seq) = recon_date(b, i.confirmed_by).unwrap_or((i.received_at.date(), i.seq));
                txns.push(Txn {
                    date,
                    order: (seq, 1),
                    code: code(&i.id),
                    payee: payee.clone(),
                    narration: format!("{} confirmed at the bank, ref {}", i.source_kind.as_str(), text(&i.reference)),
                    meta: meta.clone(),
                    postings: vec![(acc.bank.clone(), amount), (acc.pledged.clone(), -amount)],
                    assert_after: Vec::new(),
                });
                if let Some(t) = returned_txn(
                    acc,
                    i.returned_at.as_ref().map(|t| recon_date(b, i.reversed_by).unwrap_or((t.date(), i.seq))),
                    i.reversed_by,
                    &i.id,
                    amount,
                    &source_acc,
                    &payee,
                ) {
                    txns.push(t);
                }
            }
        }
    }
}

/// Each payout: pending, lapsed and withdrawn ones as comments; executed ones as expenses,
/// then confirmed or returned at the bank.
fn disbursement_txns(b: &FundBooks, acc: &Accounts, txns: &mut Vec<Txn>, comments: &mut Vec<String>) {
    for d in &b.disbursements {
        let amount = d.amount.as_decimal();
        let kind = payout_word(d);
        match d.status {
            DisbursementStatus::Pending | DisbursementStatus::Reversed | DisbursementStatus::Lapsed => {
                comments.push(format!(
                    "{} payout {} to {} of {} EUR (ref {}): {}",
                    payout_status_word(d.status),
                    d.id,
                    d.payee(),
                    money(amount),
                    text(&d.reference),
                    match d.status {
                        DisbursementStatus::Pending => "waiting for approvals",
                        DisbursementStatus::Lapsed => "lapsed with its allocation",
                        _ => "withdrawn",
                    }
                ));
                continue;
            }
            DisbursementStatus::Executed | DisbursementStatus::Confirmed | DisbursementStatus::Returned => {}
        }
        let expense = match (&d.cost, kind) {
            (Some(c), _) => format!("{}:Costs:{}", acc.expenses, cost_account(c.category)),
            (None, "refund") => format!("{}:Refunds:{}", acc.expenses, component(&d.payee())),
            _ => format!("{}:Allocations:{}", acc.expenses, component(&d.payee())),
        };
        let executed =
            d.executed_seq.and_then(|s| b.executed_dates.get(&s).copied()).unwrap_or_else(|| d.requested_at.date());
        let meta = vec![
            ("entry", d.id.to_hex()),
            ("allocation", d.allocation.map(|a| a.to_hex()).unwrap_or_default()),
            ("reference", text(&d.reference)),
        ];
        txns.push(Txn {
            date: executed,
            order: (d.executed_seq.unwrap_or(d.seq), 0),
            code: code(&d.id),
            payee: d.payee(),
            narration: format!(
                "{kind} payout approved by {}, ref {}",
                d.approvals.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" and "),
                text(&d.reference)
            ),
            meta: meta.clone(),
            postings: vec![(expense.clone(), amount), (acc.approved.clone(), -amount)],
            assert_after: Vec::new(),
        });
        if d.status == DisbursementStatus::Returned {
            // The money came back: from the bank if the payout had been confirmed, else the
            // approval is simply undone (the out and back lines cancel at the bank).
            let fallback = (d.returned_at.as_ref().map(|t| t.date()).unwrap_or(executed), d.seq);
            let (date, seq) = recon_date(b, d.returned_by).unwrap_or(fallback);
            let from = if d.confirmed_by.is_some() { acc.bank.clone() } else { acc.approved.clone() };
            let mut meta = meta.clone();
            meta.push(("reconciliation", d.returned_by.map(|i| i.to_hex()).unwrap_or_default()));
            txns.push(Txn {
                date,
                order: (seq, 1),
                code: code(&d.id),
                payee: d.payee(),
                narration: format!("{kind} payout returned by the bank, ref {}", text(&d.reference)),
                meta,
                postings: vec![(from, amount), (expense.clone(), -amount)],
                assert_after: Vec::new(),
            });
        }
        if matches!(d.status, DisbursementStatus::Confirmed | DisbursementStatus::Returned) && d.confirmed_by.is_some()
        {
            let (date, seq) = recon_date(b, d.confirmed_by).unwrap_or((executed, d.seq));
            let mut meta = meta;
            meta.push(("reconciliation", d.confirmed_by.map(|i| i.to_hex()).unwrap_or_default()));
            txns.push(Txn {
                date,
                order: (seq, 1),
                code: code(&d.id),
                payee: d.payee(),
                narration: format!("{kind} payout confirmed at the bank, ref {}", text(&d.reference)),
                meta,
                postings: vec![(acc.approved.clone(), amount), (acc.bank.clone(), -amount)],
                assert_after: Vec::new(),
            });
        }
    }
}

/// The account's balance before the fund's first reconciled statement, when it is not zero.
fn opening_txn(b: &FundBooks, acc: &Accounts) -> Option<Txn> {
    let first = b.reconciliations.iter().min_by_key(|r| (r.period_from, r.seq))?;
    let opening = first.opening_balance.as_decimal();
    if opening.is_zero() {
        return None;
    }
    Some(Txn {
        date: first.period_from.0,
        order: (0, 0),
        code: code(&first.id),
        payee: "bank".into(),
        narration: "the account's balance before the fund's first reconciled statement".into(),
        meta: vec![("reconciliation", first.id.to_hex())],
        postings: vec![(acc.bank.clone(), opening), (acc.opening.clone(), -opening)],
        assert_after: Vec::new(),
    })
}

/// `txns` (sorted by date) with, after each reconciliation's confirmations, the bank difference
/// the ledger does not explain and the assertion of the bank's closing balance: each
/// reconciliation goes after the transactions it covers (dated up to its period_to, ordered
/// up to its seq).
fn with_reconciliations(b: &FundBooks, acc: &Accounts, txns: Vec<Txn>) -> Result<Vec<Txn>, JournalError> {
    let mut recs: Vec<&crate::funds::ReconciliationRecord> = b.reconciliations.iter().collect();
    recs.sort_by_key(|r| (r.period_to, r.seq));
    let mut out_txns: Vec<Txn> = Vec::with_capacity(txns.len() + 2 * recs.len());
    let mut bank = Decimal::ZERO;
    let mut pending = txns.into_iter().peekable();
    for r in &recs {
        let key = (r.period_to.0, (r.seq, 1u8));
        while let Some(t) = pending.next_if(|t| (t.date, t.order) <= key) {
            for (a, v) in &t.postings {
                if a == &acc.bank {
                    bank = add(bank, *v)?;
                }
            }
            out_txns.push(t);
        }
        let closing = r.closing_balance.as_decimal();
        let diff = closing.checked_sub(bank).ok_or(JournalError::Overflow)?;
        let mut t = Txn {
            date: r.period_to.0,
            order: (r.seq, 2),
            code: code(&r.id),
            payee: "bank".into(),
            narration: format!("statement {} to {} reconciled by {}", r.period_from, r.period_to, r.author),
            meta: vec![("reconciliation", r.id.to_hex()), ("statement-sha256", r.statement_sha256.clone())],
            postings: Vec::new(),
            assert_after: vec![(acc.bank.clone(), closing, false)],
        };
        if !diff.is_zero() {
            t.narration = format!(
                "statement {} to {} reconciled by {}: {} unmatched bank line(s), the ledger does not explain {} EUR",
                r.period_from,
                r.period_to,
                r.author,
                r.unmatched_bank_lines,
                money(diff)
            );
            t.postings = vec![(acc.bank.clone(), diff), (acc.difference.clone(), -diff)];
            bank = closing;
        }
        out_txns.push(t);
    }
    out_txns.extend(pending);
    Ok(out_txns)
}

/// The closing assertions against the ledger's own balances, dated on the last transaction.
fn final_assertions(b: &FundBooks, acc: &Accounts, txns: &[Txn]) -> Result<Option<Txn>, JournalError> {
    let Some(last) = txns.iter().map(|t| t.date).max() else { return Ok(None) };
    let bal = &b.balances;
    let mut outside = Decimal::ZERO;
    for i in b.incomes.iter().filter(|i| matches!(i.status, IncomeStatus::Pledged | IncomeStatus::Confirmed)) {
        outside = add(outside, i.amount.as_decimal())?;
    }
    let all = add(bal.pledged.as_decimal(), bal.confirmed.as_decimal())?;
    let contributions = all.checked_sub(outside).ok_or(JournalError::Overflow)?;
    Ok(Some(Txn {
        date: last,
        order: (u64::MAX, 0),
        code: String::new(),
        payee: "meent".into(),
        narration: format!("the ledger's balances of {}", b.id),
        meta: Vec::new(),
        postings: Vec::new(),
        assert_after: vec![
            (acc.pledged.clone(), bal.pledged.as_decimal(), false),
            (acc.contributions.clone(), -contributions, true),
            (acc.outside.clone(), -outside, true),
            (acc.expenses.clone(), bal.disbursed.as_decimal(), true),
        ],
    }))
}

fn render(b: &FundBooks, acc: &Accounts, syntax: Syntax, txns: &[Txn], comments: &[String]) -> String {
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    for t in txns {
        accounts.extend(t.postings.iter().map(|(a, _)| a.clone()));
        accounts.extend(t.assert_after.iter().map(|(a, _, _)| a.clone()));
    }
    accounts.insert(acc.bank.clone());
    let first = txns.iter().map(|t| t.date).min();
    let mut o = String::new();
    let status = serde_json::to_value(b.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let _ = writeln!(o, "; meent: the books of fund {} ({}), status {status}", b.id, text(&b.name));
    let _ = writeln!(o, "; exported from the public log; amounts in EUR; see docs/TREASURER.md");
    for c in comments {
        let _ = writeln!(o, "; {c}");
    }
    let _ = writeln!(o);
    match syntax {
        Syntax::Hledger => {
            let _ = writeln!(o, "decimal-mark .");
            let _ = writeln!(o, "commodity 1000.00 EUR\n");
            for a in &accounts {
                let _ = writeln!(o, "account {a}");
            }
            let _ = writeln!(o);
            for t in txns {
                let code = if t.code.is_empty() { String::new() } else { format!("({}) ", t.code) };
                let _ = writeln!(o, "{} * {code}{} | {}", t.date, text(&t.payee), text(&t.narration));
                for (k, v) in &t.meta {
                    let _ = writeln!(o, "    ; {k}: {}", v.replace(',', " "));
                }
                for (a, v) in &t.postings {
                    let _ = writeln!(o, "    {a}  {} EUR", money(*v));
                }
                for (a, v, inclusive) in &t.assert_after {
                    let _ = writeln!(o, "    {a}  0.00 EUR {} {} EUR", if *inclusive { "=*" } else { "=" }, money(*v));
                }
                let _ = writeln!(o);
            }
        }
        Syntax::Beancount => {
            let _ = writeln!(o, "option \"title\" \"{}\"", text(&format!("meent fund {}", b.id)));
            let _ = writeln!(o, "option \"operating_currency\" \"EUR\"\n");
            if let Some(first) = first {
                for a in &accounts {
                    let _ = writeln!(o, "{first} open {a} EUR");
                }
                let _ = writeln!(o);
            }
            // A beancount balance holds at the start of its date: assert on the next day,
            // and only the last assertion of an account per day.
            let mut asserts: BTreeMap<(NaiveDate, String), Decimal> = BTreeMap::new();
            for t in txns {
                if !t.postings.is_empty() {
                    let _ = writeln!(o, "{} * \"{}\" \"{}\"", t.date, text(&t.payee), text(&t.narration));
                    for (k, v) in &t.meta {
                        let _ = writeln!(o, "  {}: \"{}\"", k.replace('-', "_"), text(v));
                    }
                    for (a, v) in &t.postings {
                        let _ = writeln!(o, "  {a}  {} EUR", money(*v));
                    }
                    let _ = writeln!(o);
                }
                for (a, v, _) in &t.assert_after {
                    let next = t.date.checked_add_days(Days::new(1)).unwrap_or(t.date);
                    asserts.insert((next, a.clone()), *v);
                }
            }
            for ((date, a), v) in &asserts {
                let _ = writeln!(o, "{date} balance {a}  {} EUR", money(*v));
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::books::desk::tests::{books, contribution, hex, payout, recon};

    /// Books with every kind of flow: a reversed pledge, a pending payout, a refund, an
    /// unexplained bank difference, a negative opening balance, two reconciliations ending
    /// on the same day, and references full of characters journals care about.
    fn scene() -> FundBooks {
        let mut b = books(
            "f-one",
            vec![
                contribution(
                    1,
                    "coop-one",
                    "100.00",
                    "R-1; \"quoted\" \\ back,slash",
                    "2026-01-03",
                    "confirmed",
                    Some(20),
                ),
                contribution(2, "2-digit-start", "50.00", "=HYPERLINK(\"x\")", "2026-01-04", "confirmed", Some(21)),
                contribution(3, "coop-one", "25.00", "R-3", "2026-01-05", "reversed", None),
                contribution(4, "coop-one", "10.00", "R-4\nnewline", "2026-02-01", "pledged", None),
            ],
            vec![
                payout(5, "coop-two", "30.00", "P-1", "2026-01-10", "confirmed", Some(21)),
                payout(6, "coop-two", "5.00", "P-2", "2026-01-11", "pending", None),
                payout(7, "coop-one", "12.00", "P-3", "2026-01-12", "executed", None),
            ],
            vec![
                recon(20, "2026-01-01", "2026-01-15", "-20.00", "80.00"),
                recon(21, "2026-01-10", "2026-01-15", "80.00", "97.50"),
            ],
        );
        b.disbursements[2].payout = serde_json::from_value(json!("refund")).expect("payout kind");
        b.balances = serde_json::from_value(json!({"pledged": "10.00", "confirmed": "150.00", "committed": "0.00", "disbursed": "42.00", "available": "108.00"})).expect("balances");
        b.executed_dates.insert(7, NaiveDate::from_ymd_opt(2026, 1, 14).expect("date"));
        b
    }

    #[test]
    fn journal_postings_and_assertions() {
        let b = scene();
        let h = journal(&b, Syntax::Hledger).expect("journal");
        // The opening balance, the two reconciliations, the unexplained difference (97.50 − 100.00).
        assert!(h.contains("Equity:F-one:Opening-balance  20.00 EUR"), "{h}");
        assert!(h.contains("Assets:F-one:Bank  0.00 EUR = 80.00 EUR"), "{h}");
        assert!(h.contains("Assets:F-one:Bank  -2.50 EUR"), "{h}");
        assert!(h.contains("Equity:F-one:Bank-difference  2.50 EUR"), "{h}");
        assert!(h.contains("= 97.50 EUR"), "{h}");
        assert!(h.contains("Expenses:F-one:Refunds:Coop-one  12.00 EUR"), "{h}");
        assert!(h.contains("2026-01-14 * "), "the refund is dated by the record that executed it: {h}");
        assert!(h.contains("Income:F-one:Contributions:2-digit-start"), "{h}");
        assert!(h.contains("Income:F-one:Contributions  0.00 EUR =* -160.00 EUR"), "{h}");
        assert!(h.contains("Expenses:F-one  0.00 EUR =* 42.00 EUR"), "{h}");
        // A reversed pledge is postings (announced, then taken back), a pending payout a comment.
        assert!(h.contains("contribution reversed: it never arrived, ref R-3"), "{h}");
        assert!(h.contains("; pending payout"), "{h}");
        for l in h.lines().filter(|l| !l.starts_with(';') && !l.trim_start().starts_with(';')) {
            assert!(!l.contains(';'), "a ';' would start a comment: {l}");
        }
        let bc = journal(&b, Syntax::Beancount).expect("journal");
        assert!(bc.contains("2026-01-16 balance Assets:F-one:Bank  97.50 EUR"), "{bc}");
        assert!(!bc.contains("balance Assets:F-one:Bank  80.00 EUR"), "only the day's last assertion: {bc}");
        for l in bc.lines().filter(|l| l.contains('"')) {
            assert_eq!(l.matches('"').count() % 2, 0, "unbalanced quotes: {l}");
        }
        check_with_tools(&h, &bc);
    }

    /// Run hledger and bean-check on the text when they are installed.
    fn check_with_tools(h: &str, bc: &str) {
        let dir = tempfile::tempdir().expect("temp dir");
        let hp = dir.path().join("t.journal");
        let bp = dir.path().join("t.beancount");
        std::fs::write(&hp, h).expect("write");
        std::fs::write(&bp, bc).expect("write");
        for (tool, args) in [
            ("hledger", vec!["-f", hp.to_str().expect("path"), "check", "-s", "ordereddates"]),
            ("bean-check", vec![bp.to_str().expect("path")]),
        ] {
            match std::process::Command::new(tool).args(&args).output() {
                Ok(o) => assert!(
                    o.status.success() && o.stderr.is_empty(),
                    "{tool}: {}\n{}",
                    String::from_utf8_lossy(&o.stderr),
                    if tool == "hledger" { h } else { bc }
                ),
                Err(_) => println!("NOTICE: {tool} is not installed; skipping its check"),
            }
        }
    }

    #[test]
    fn empty_books_make_a_valid_journal() {
        let b = books("f-one", vec![], vec![], vec![]);
        check_with_tools(
            &journal(&b, Syntax::Hledger).expect("journal"),
            &journal(&b, Syntax::Beancount).expect("journal"),
        );
        assert_eq!(flows_csv(&b).lines().count(), 1);
    }

    #[test]
    fn flows_csv_rows() {
        let csv = flows_csv(&scene());
        // Records end with CRLF; a line break inside a quoted cell is a bare LF.
        let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[0], FLOWS_CSV_HEADER.join(","));
        assert!(rows[2].contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{}", rows[2]);
        assert!(rows[5].contains(",-30.00,P-1,confirmed,tres-one,"), "{}", rows[5]);
        assert!(rows[5].contains(",2026-01-15,"), "confirmed through the statement's end: {}", rows[5]);
        assert!(csv.contains("\"R-4\nnewline\""), "{csv}");
        assert_eq!(hex(1).len(), 64);
    }

    #[test]
    fn flows_csv_in_the_dutch_excel_dialect() {
        let b = scene();
        let nl = flows_csv_in(&b, CsvDialect::ExcelNl);
        let rows: Vec<&str> =
            nl.strip_prefix('\u{feff}').expect("a byte order mark first").split_terminator("\r\n").collect();
        let plain = flows_csv(&b);
        let plain: Vec<&str> = plain.split_terminator("\r\n").collect();
        assert_eq!(rows.len(), plain.len());
        assert_eq!(rows[0], FLOWS_CSV_HEADER.join(";"));
        assert!(rows[5].contains(";-30,00;P-1;confirmed;tres-one;"), "{}", rows[5]);
        assert!(rows[5].contains(";2026-01-15;"), "{}", rows[5]);
        // Only the amounts take a decimal comma; a text cell holding `;` is quoted.
        assert_eq!(cell_in("a;b", true, CsvDialect::ExcelNl), "\"a;b\"");
        assert_eq!(cell_in("a,b", true, CsvDialect::ExcelNl), "a,b");
        assert_eq!(cell_in("1.5 kg", true, CsvDialect::ExcelNl), "1.5 kg");
        assert_eq!(cell_in("-12.50", false, CsvDialect::ExcelNl), "-12,50");
        assert_eq!(cell_in("=1", true, CsvDialect::ExcelNl), "'=1");
    }

    #[test]
    fn csv_cells() {
        assert_eq!(csv_cell("plain", true), "plain");
        assert_eq!(csv_cell("a,b", true), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"", true), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1", true), "'=1+1");
        assert_eq!(csv_cell("-12.50", false), "-12.50");
        assert_eq!(csv_cell("-x", true), "'-x");
        assert_eq!(csv_cell("@SUM(A1)", true), "'@SUM(A1)");
    }
}
