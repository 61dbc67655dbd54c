//! The treasurer's bank-statement side (SPEC §4.1 `reconciliation`, §6 `meent reconcile`).
//!
//! * [`camt053`] reads ISO 20022 `camt.053` bank-to-customer statements (001.02 to 001.13),
//! * [`mt940`] reads SWIFT MT940 statements as Dutch banks export them (ABN AMRO, ING,
//!   Rabobank, Triodos),
//! * both produce the same model, [`Statement`] with its [`BankLine`]s,
//! * [`Statement::balance_check`] verifies opening + credits − debits = closing and returns
//!   the difference as a value to report,
//! * [`reconcile()`] matches a statement against the fund's ledger items.
//!
//! Everything here is pure: no I/O, no logging, no clock. The account IBAN, counterparty
//! names and IBANs and the remittance texts are personal data (SPEC §8): they are kept in
//! these structures for the treasurer's local report only and must never be written to the
//! public log. Error messages quote at most the offending amount, currency, date, indicator or
//! bank reference, never names, IBANs or remittance text.
//!
//! Amounts are [`Decimal`]s with two decimals (scale 2); no floating point is used anywhere.

pub mod camt053;
pub mod mt940;
pub mod reconcile;

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use reconcile::{reconcile, LedgerItem, LedgerKind, MatchOptions, Report};

/// Largest statement file accepted, in bytes.
pub const STATEMENT_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Most bank lines (entries or batch details, over all statements) in one file.
pub const BANK_LINES_MAX: usize = 200_000;
/// Most digits before the decimal mark of one amount or balance (below 10^15 euro), so that
/// sums of [`BANK_LINES_MAX`] amounts can never overflow a [`Decimal`].
pub const AMOUNT_INT_DIGITS_MAX: usize = 15;
/// Deepest XML element nesting accepted in a CAMT.053 file (real files stay below 20).
pub const XML_DEPTH_MAX: usize = 64;
/// Longest value quoted back in an error message, in characters.
pub const QUOTED_VALUE_CHARS_MAX: usize = 40;
/// The only currency meent knows (SPEC §2).
pub const CURRENCY: &str = "EUR";

/// Which file format a statement was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// ISO 20022 `camt.053.001.NN`; `version` is NN (2 to 13).
    Camt053 {
        /// The message version, e.g. 2 for `camt.053.001.02`.
        version: u8,
    },
    /// SWIFT MT940.
    Mt940,
}

/// Direction of a bank line or balance, from the account holder's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money came in (CAMT `CRDT`, MT940 `C`/`RD`).
    Credit,
    /// Money went out (CAMT `DBIT`, MT940 `D`/`RC`).
    Debit,
}

impl Direction {
    /// `"C"` or `"D"`.
    pub fn letter(self) -> &'static str {
        match self {
            Direction::Credit => "C",
            Direction::Debit => "D",
        }
    }
}

/// A booked balance: signed amount (negative when overdrawn) and its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Signed amount, scale 2 (serialised as a string, e.g. `"-12.50"`).
    pub amount: Decimal,
    /// The date the balance holds for.
    #[serde(serialize_with = "ser_date")]
    pub date: NaiveDate,
}

/// The references a bank gives for one line. All optional; empty strings and the
/// placeholders `NOTPROVIDED` / `NONREF` are stored as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct References {
    /// The bank's own unique reference: CAMT `AcctSvcrRef` (of the transaction detail when
    /// given there, else of the entry), MT940 `:61:` bank reference (after `//`).
    pub acct_svcr_ref: Option<String>,
    /// CAMT `NtryRef`; MT940 `:61:` reference for the account owner.
    pub ntry_ref: Option<String>,
    /// The payer's end-to-end id: CAMT `Refs/EndToEndId`, MT940 `/EREF/` (ABN AMRO's old
    /// format: `KENMERK:`).
    pub end_to_end_id: Option<String>,
    /// Structured creditor reference: CAMT `RmtInf/Strd/CdtrRefInf/Ref`, MT940
    /// `/REMI/STRD/CUR/…` or ABN AMRO's `BETALINGSKENM.:`.
    pub creditor_reference: Option<String>,
    /// Unstructured remittance text: CAMT `RmtInf/Ustrd` (several joined by a space), MT940
    /// `/REMI/` free text or the whole unstructured `:86:`.
    pub remittance_text: Option<String>,
}

impl References {
    /// The payment reference: the structured creditor reference when there is one, else the
    /// unstructured remittance text.
    pub fn payment_reference(&self) -> Option<&str> {
        self.creditor_reference.as_deref().or(self.remittance_text.as_deref())
    }
}

/// One movement on the account: a CAMT entry (`Ntry`), one transaction detail of a CAMT
/// batch entry, or an MT940 `:61:` line with its `:86:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankLine {
    /// Stable key identifying this bank line across overlapping statements of the same
    /// account (64 lowercase hex characters; see [`line_key`] and DESIGN-bank.md).
    pub key: String,
    /// Amount, never negative, scale 2 (zero is possible in real files and never matches).
    pub amount: Decimal,
    /// Credit or debit, as booked (for a reversal this is the reversing booking's direction).
    pub direction: Direction,
    /// The line reverses an earlier booking (CAMT `RvslInd`, MT940 `RC`/`RD`).
    pub reversal: bool,
    /// The line is a payment the bank returned, without being marked a reversal: the
    /// return reason code (CAMT `RtrInf/Rsn/Cd` or `Prtry`, e.g. `AC04`, `MD06`; else the
    /// return sub-family of `BkTxCd`, e.g. `RRTN`; MT940 `:86:` `/RTRN/` code, else the
    /// `:61:` type `NRTI`). Not part of the line's key.
    pub return_reason: Option<String>,
    /// Booking date (CAMT `BookgDt`, MT940 entry date, else value date).
    #[serde(serialize_with = "ser_date")]
    pub booking_date: NaiveDate,
    /// Value date when the file gives one.
    #[serde(serialize_with = "ser_opt_date")]
    pub value_date: Option<NaiveDate>,
    /// The bank's references.
    pub refs: References,
    /// Counterparty name (local report only, never logged).
    pub counterparty_name: Option<String>,
    /// Counterparty IBAN, normalised (uppercase, no spaces); local report only, never logged.
    pub counterparty_iban: Option<String>,
    /// Further bank text: CAMT `AddtlTxInf`/`AddtlNtryInf`, MT940 transaction type text.
    pub description: Option<String>,
    /// For a line split from a CAMT batch entry: its 1-based position among the entry's
    /// transaction details.
    pub batch_detail: Option<u32>,
    /// Where the line is in the file, e.g. `Stmt[1]/Ntry[2] (line 61)`.
    pub source: String,
}

impl BankLine {
    /// The line undoes an earlier payment: a reversal, or a return with a reason code.
    /// Such a line is never matched to an entry as new money; `meent reconcile` proposes
    /// the entry it returns for the `reconciliation`'s `returned`.
    pub fn is_return(&self) -> bool {
        self.reversal || self.return_reason.is_some()
    }

    /// The amount signed by direction: positive for a credit, negative for a debit.
    pub fn signed_amount(&self) -> Decimal {
        match self.direction {
            Direction::Credit => self.amount,
            Direction::Debit => -self.amount,
        }
    }
}

/// One account statement, from either format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The format and version read.
    pub format: Format,
    /// Statement id: CAMT `Stmt/Id`, MT940 `:20:`.
    pub id: String,
    /// Sequence number when given: CAMT `LglSeqNb` or `ElctrncSeqNb`, MT940 `:28C:`.
    pub sequence: Option<String>,
    /// The account: IBAN, or the bank's own account id when no IBAN is given. Local use
    /// only: never written to the log.
    pub account: String,
    /// Always `"EUR"`: any other currency is refused while reading.
    pub currency: String,
    /// First day the statement covers.
    #[serde(serialize_with = "ser_date")]
    pub period_from: NaiveDate,
    /// Last day the statement covers.
    #[serde(serialize_with = "ser_date")]
    pub period_to: NaiveDate,
    /// Opening booked balance (CAMT `OPBD`, else `PRCD`; MT940 `:60F:`/`:60M:`).
    pub opening: Balance,
    /// Closing booked balance (CAMT `CLBD`; MT940 `:62F:`/`:62M:`).
    pub closing: Balance,
    /// The booked lines, in file order.
    pub lines: Vec<BankLine>,
    /// CAMT entries skipped because their status is not `BOOK` (pending or informational);
    /// they count neither as lines nor in the balance check.
    pub skipped_unbooked: usize,
}

/// The file check: opening + credits − debits against the stated closing balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BalanceCheck {
    /// Opening booked balance (signed).
    pub opening: Decimal,
    /// Sum of credit lines.
    pub credits: Decimal,
    /// Sum of debit lines (positive).
    pub debits: Decimal,
    /// opening + credits − debits.
    pub expected_closing: Decimal,
    /// The closing booked balance the file states.
    pub stated_closing: Decimal,
    /// stated − expected: zero when the statement adds up.
    pub difference: Decimal,
}

impl BalanceCheck {
    /// The statement adds up.
    pub fn is_ok(&self) -> bool {
        self.difference.is_zero()
    }
}

impl Statement {
    /// Opening + credits − debits = closing? Returns the figures either way; only an
    /// arithmetic overflow (impossible for a parsed statement, see [`AMOUNT_INT_DIGITS_MAX`])
    /// is an error.
    pub fn balance_check(&self) -> Result<BalanceCheck, BankError> {
        let overflow = || BankError::new(String::new(), None, ErrorKind::Overflow);
        let mut credits = Decimal::ZERO;
        let mut debits = Decimal::ZERO;
        for line in &self.lines {
            match line.direction {
                Direction::Credit => credits = credits.checked_add(line.amount).ok_or_else(overflow)?,
                Direction::Debit => debits = debits.checked_add(line.amount).ok_or_else(overflow)?,
            }
        }
        let expected_closing =
            self.opening.amount.checked_add(credits).and_then(|v| v.checked_sub(debits)).ok_or_else(overflow)?;
        let difference = self.closing.amount.checked_sub(expected_closing).ok_or_else(overflow)?;
        Ok(BalanceCheck {
            opening: self.opening.amount,
            credits: with_scale2(credits),
            debits: with_scale2(debits),
            expected_closing: with_scale2(expected_closing),
            stated_closing: self.closing.amount,
            difference: with_scale2(difference),
        })
    }
}

/// Why a statement file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// Nothing in the file.
    #[error("the file is empty")]
    Empty,
    /// Larger than [`STATEMENT_BYTES_MAX`].
    #[error("the file has {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Bytes in the file.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// More lines than [`BANK_LINES_MAX`].
    #[error("more than {max} bank lines in one file")]
    TooManyLines {
        /// The limit.
        max: usize,
    },
    /// Neither XML nor MT940.
    #[error("neither a CAMT.053 XML document nor an MT940 statement")]
    UnknownFormat,
    /// Not valid UTF-8 (CAMT files must be UTF-8).
    #[error("not valid UTF-8")]
    NotUtf8,
    /// XML syntax error.
    #[error("XML error: {0}")]
    Xml(String),
    /// The file ends in the middle of an element.
    #[error("unexpected end of file inside {inside}")]
    UnexpectedEof {
        /// The open elements, e.g. `Stmt[1]/Ntry[3]`.
        inside: String,
    },
    /// XML nested deeper than [`XML_DEPTH_MAX`].
    #[error("elements nested more than {max} deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The root is not a camt.053 document.
    #[error("not a camt.053 document: {0}")]
    NotCamt053(String),
    /// A camt.053 version this reader does not know.
    #[error("unsupported version camt.053.{version}: accepted are camt.053.001.02 to camt.053.001.13")]
    UnsupportedVersion {
        /// The version part of the namespace, e.g. `001.14`.
        version: String,
    },
    /// A required element or field is absent.
    #[error("missing {0}")]
    Missing(String),
    /// An amount that is not a plain decimal.
    #[error("{0:?} is not an amount")]
    NotAnAmount(String),
    /// An amount with more than two (non-zero) decimals.
    #[error("{0:?} has more than two decimals")]
    TooManyDecimals(String),
    /// An amount of [`AMOUNT_INT_DIGITS_MAX`] digits or more.
    #[error("{0:?} is too large")]
    AmountTooLarge(String),
    /// MT940 amounts need a comma as decimal mark.
    #[error("{0:?}: MT940 amounts use a comma as decimal mark")]
    NeedsComma(String),
    /// A currency other than EUR.
    #[error("currency {found}, expected EUR")]
    Currency {
        /// The currency found.
        found: String,
    },
    /// A date that cannot be read.
    #[error("{0:?} is not a date")]
    BadDate(String),
    /// A credit/debit mark other than CRDT/DBIT (C/D/RC/RD in MT940).
    #[error("{0:?} is not a credit/debit indicator")]
    BadIndicator(String),
    /// Any other malformed value.
    #[error("{0}")]
    Invalid(String),
    /// The same booked balance type twice in one statement.
    #[error("balance {0} appears more than once")]
    DuplicateBalance(String),
    /// A batch entry whose transaction details do not add up to the entry amount.
    #[error("the {count} transaction details add up to {details} but the entry amount is {entry}")]
    BatchSum {
        /// Signed entry amount.
        entry: Decimal,
        /// Signed sum of the details.
        details: Decimal,
        /// Number of details.
        count: usize,
    },
    /// The same bank reference on two lines of one statement.
    #[error("bank reference {reference:?} appears twice in one statement (first at {first})")]
    DuplicateReference {
        /// The reference (AcctSvcrRef or MT940 bank reference).
        reference: String,
        /// Where it was seen first.
        first: String,
    },
    /// A file without any statement.
    #[error("no statement in the file")]
    NoStatement,
    /// Checked arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
}

/// A refused statement file: what is wrong ([`ErrorKind`]), where (element path such as
/// `Stmt[1]/Ntry[3]/Amt`, or `Stmt[2]/:61:[4]` for MT940) and, when known, the line and byte
/// offset in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankError {
    /// Element path, empty when the error concerns the whole file.
    pub path: String,
    /// 1-based line and 0-based byte offset in the file, when known.
    pub position: Option<Position>,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// A place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 0-based byte offset.
    pub offset: usize,
}

impl BankError {
    pub(crate) fn new(path: String, position: Option<Position>, kind: ErrorKind) -> Self {
        BankError { path, position, kind }
    }
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.position {
            Some(p) => format!(" (line {}, byte {})", p.line, p.offset),
            None => String::new(),
        };
        if self.path.is_empty() {
            write!(f, "{}{}", self.kind, at)
        } else {
            write!(f, "{}{}: {}", self.path, at, self.kind)
        }
    }
}

impl std::error::Error for BankError {}

/// Read a statement file of either format: XML (after an optional byte-order mark and
/// whitespace) is read as CAMT.053, anything else as MT940.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    check_size(input)?;
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(BankError::new(String::new(), None, ErrorKind::Empty)),
        Some(b'<') => camt053::parse(input),
        Some(_) => mt940::parse(input),
    }
}

/// Lowercase hex SHA-256 of the raw statement file, for the `reconciliation` entry's
/// `statement_sha256`.
pub fn statement_sha256(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

pub(crate) fn check_size(input: &[u8]) -> Result<(), BankError> {
    if input.len() > STATEMENT_BYTES_MAX {
        return Err(BankError::new(
            String::new(),
            None,
            ErrorKind::TooLarge { size: input.len(), max: STATEMENT_BYTES_MAX },
        ));
    }
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(BankError::new(String::new(), None, ErrorKind::Empty));
    }
    Ok(())
}

/// Shorten a value quoted back in an error to [`QUOTED_VALUE_CHARS_MAX`] characters.
pub(crate) fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTED_VALUE_CHARS_MAX).collect();
    if s.chars().count() > QUOTED_VALUE_CHARS_MAX {
        out.push('…');
    }
    out
}

/// Give a decimal exactly two decimals (all amounts here have at most two).
pub(crate) fn with_scale2(mut d: Decimal) -> Decimal {
    d.rescale(2);
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

/// Parse a non-negative amount: digits, optionally `mark` and decimals. More than two
/// decimals are refused unless the extra ones are zeros (`"12.340"` is 12.34). With
/// `mark_required` (MT940) the mark must be there (`"10,"` is ten).
pub(crate) fn parse_amount(raw: &str, mark: char, mark_required: bool) -> Result<Decimal, ErrorKind> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ErrorKind::NotAnAmount(String::new()));
    }
    let (int, frac) = match s.split_once(mark) {
        Some((i, f)) => (i, f),
        None => {
            if mark_required {
                if s.contains('.') {
                    return Err(ErrorKind::NeedsComma(quote(s)));
                }
                return Err(ErrorKind::NotAnAmount(quote(s)));
            }
            (s, "")
        }
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(ErrorKind::NotAnAmount(quote(s)));
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err(ErrorKind::TooManyDecimals(quote(s)));
    }
    let int = int.trim_start_matches('0');
    if int.len() >= AMOUNT_INT_DIGITS_MAX {
        return Err(ErrorKind::AmountTooLarge(quote(s)));
    }
    let int_v: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| ErrorKind::NotAnAmount(quote(s)))? };
    let mut cents_s = String::with_capacity(2);
    cents_s.push_str(frac.get(..frac.len().min(2)).unwrap_or(""));
    while cents_s.len() < 2 {
        cents_s.push('0');
    }
    let frac_v: i64 = cents_s.parse().map_err(|_| ErrorKind::NotAnAmount(quote(s)))?;
    let cents = int_v.checked_mul(100).and_then(|v| v.checked_add(frac_v)).ok_or(ErrorKind::Overflow)?;
    Ok(Decimal::new(cents, 2))
}

/// An IBAN-shaped string (two letters, two digits, 11 to 30 letters or digits), normalised to
/// uppercase without spaces. The check digits are not verified (test files use fake IBANs).
pub fn normalize_iban(s: &str) -> Option<String> {
    let n: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let b = n.as_bytes();
    if b.len() < 15 || b.len() > 34 {
        return None;
    }
    let ok = b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && b[4..].iter().all(|c| c.is_ascii_alphanumeric());
    ok.then_some(n)
}

/// `None` for empty strings and the placeholders banks use for "no reference".
pub(crate) fn clean_ref(s: &str) -> Option<String> {
    let t = collapse_ws(s);
    let upper = t.to_ascii_uppercase();
    if t.is_empty() || upper == "NOTPROVIDED" || upper == "NONREF" || upper == "NOT PROVIDED" {
        None
    } else {
        Some(t)
    }
}

/// A return reason code as the bank wrote it, when it is one: 1 to 35 ASCII letters,
/// digits, `-` or `_` (ISO 20022 codes such as `AC04` are four characters).
pub(crate) fn reason_code(s: &str) -> Option<String> {
    let t = s.trim();
    let ok = !t.is_empty() && t.len() <= 35 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| t.to_ascii_uppercase())
}

/// Trim and collapse runs of whitespace to one space; `None` when nothing is left.
pub(crate) fn clean_text(s: &str) -> Option<String> {
    let t = collapse_ws(s);
    (!t.is_empty()).then_some(t)
}

pub(crate) fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The stable key of a bank line, computed from its content.
///
/// When the bank gives its own reference (`acct_svcr_ref`) the key is the SHA-256 of the
/// account, that reference, the booking date, the amount, the direction and the batch
/// detail position. Otherwise it is the SHA-256 of the account, booking date, amount,
/// direction, reversal flag, all references, the batch detail position and `occurrence`:
/// how many earlier lines of the same statement have exactly the same content. Fields are
/// length-prefixed so that no two different inputs hash alike. See DESIGN-bank.md.
pub fn line_key(account: &str, line: &BankLine, occurrence: u32) -> String {
    let mut material = key_material(account, line);
    if line.refs.acct_svcr_ref.is_none() {
        push_field(&mut material, &occurrence.to_string());
    }
    hex::encode(Sha256::digest(&material))
}

fn push_field(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s.as_bytes());
}

/// Everything [`line_key`] hashes except the occurrence number.
fn key_material(account: &str, line: &BankLine) -> Vec<u8> {
    let mut m = Vec::with_capacity(256);
    let amount = with_scale2(line.amount).to_string();
    let date = line.booking_date.format("%Y-%m-%d").to_string();
    let batch = line.batch_detail.map(|d| d.to_string()).unwrap_or_default();
    push_field(&mut m, "meent-bank-line-v1");
    push_field(&mut m, account);
    if let Some(r) = &line.refs.acct_svcr_ref {
        for f in ["ref", r, &date, &amount, line.direction.letter(), &batch] {
            push_field(&mut m, f);
        }
    } else {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        for f in [
            "content",
            &date,
            &amount,
            line.direction.letter(),
            if line.reversal { "R" } else { "" },
            &opt(&line.refs.ntry_ref),
            &opt(&line.refs.end_to_end_id),
            &opt(&line.refs.creditor_reference),
            &opt(&line.refs.remittance_text),
            &batch,
        ] {
            push_field(&mut m, f);
        }
    }
    m
}

/// Fill in the keys of one statement's lines and refuse a bank reference used by two
/// different entries. `entry_of` gives, per line, an id of the entry it came from (lines of
/// one batch share it), and `ref_path` the error path for the reference of that line.
pub(crate) fn assign_keys(
    account: &str,
    lines: &mut [BankLine],
    entry_of: &[usize],
    ref_paths: &[(String, Option<Position>)],
) -> Result<(), BankError> {
    let mut first_seen: HashMap<String, (usize, String)> = HashMap::new();
    let mut occurrences: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut keys: HashMap<String, String> = HashMap::new();
    for (i, line) in lines.iter_mut().enumerate() {
        let entry = entry_of.get(i).copied().unwrap_or(i);
        let (path, pos) = ref_paths.get(i).cloned().unwrap_or_default();
        if let Some(r) = &line.refs.acct_svcr_ref {
            match first_seen.get(r) {
                Some((e, first)) if *e != entry => {
                    return Err(BankError::new(
                        path,
                        pos,
                        ErrorKind::DuplicateReference { reference: quote(r), first: first.clone() },
                    ));
                }
                Some(_) => {}
                None => {
                    first_seen.insert(r.clone(), (entry, line.source.clone()));
                }
            }
        }
        let occ = occurrences.entry(key_material(account, line)).or_insert(0);
        let key = line_key(account, line, *occ);
        *occ += 1;
        if let Some(first) = keys.get(&key) {
            // Only reachable when a batch's details carry the same detail-level reference.
            return Err(BankError::new(
                path,
                pos,
                ErrorKind::DuplicateReference {
                    reference: quote(line.refs.acct_svcr_ref.as_deref().unwrap_or("")),
                    first: first.clone(),
                },
            ));
        }
        keys.insert(key.clone(), line.source.clone());
        line.key = key;
    }
    Ok(())
}

pub(crate) fn ser_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.format("%Y-%m-%d"))
}

pub(crate) fn ser_opt_date<S: serde::Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1000.00", '.', false), Ok(d("1000.00")));
        assert_eq!(parse_amount("2700", '.', false), Ok(d("2700.00")));
        assert_eq!(parse_amount(" 0 ", '.', false), Ok(d("0.00")));
        assert_eq!(parse_amount("12.340", '.', false), Ok(d("12.34")));
        assert_eq!(parse_amount("10000,9", ',', true), Ok(d("10000.90")));
        assert_eq!(parse_amount("10,", ',', true), Ok(d("10.00")));
        assert_eq!(parse_amount("000000001147,95", ',', true), Ok(d("1147.95")));
        assert_eq!(parse_amount("12.345", '.', false), Err(ErrorKind::TooManyDecimals("12.345".into())));
        assert_eq!(parse_amount("12,50", '.', false), Err(ErrorKind::NotAnAmount("12,50".into())));
        assert_eq!(parse_amount("12.50", ',', true), Err(ErrorKind::NeedsComma("12.50".into())));
        assert!(matches!(parse_amount("-1.00", '.', false), Err(ErrorKind::NotAnAmount(_))));
        assert!(matches!(parse_amount("1e3", '.', false), Err(ErrorKind::NotAnAmount(_))));
        assert!(matches!(parse_amount(".", '.', false), Err(ErrorKind::NotAnAmount(_))));
        assert!(matches!(parse_amount("", '.', false), Err(ErrorKind::NotAnAmount(_))));
        assert!(matches!(parse_amount("1000000000000000.00", '.', false), Err(ErrorKind::AmountTooLarge(_))));
        assert_eq!(parse_amount("99999999999999.99", '.', false), Ok(d("99999999999999.99")));
        assert_eq!(parse_amount("12.50", '.', false).map(|v| v.to_string()), Ok("12.50".into()));
    }

    #[test]
    fn ibans() {
        assert_eq!(normalize_iban("nl91 abna 0417 1643 00"), Some("NL91ABNA0417164300".into()));
        assert_eq!(normalize_iban("0663616476"), None);
        assert_eq!(normalize_iban("P004500018"), None);
    }

    #[test]
    fn error_display() {
        let e = BankError::new(
            "Stmt[1]/Ntry[3]/Amt".into(),
            Some(Position { line: 70, offset: 2345 }),
            ErrorKind::TooManyDecimals("12.345".into()),
        );
        assert_eq!(e.to_string(), "Stmt[1]/Ntry[3]/Amt (line 70, byte 2345): \"12.345\" has more than two decimals");
    }
}
