//! SWIFT MT940 reader, for the variants Dutch banks export.
//!
//! Read: `:20:` (statement id), `:25:` (account; ING's IBAN+currency form is split),
//! `:28:`/`:28C:` (sequence), `:60F:`/`:60M:` (opening), `:61:` (line), `:86:` (information
//! for the preceding `:61:`), `:62F:`/`:62M:` (closing), `:64:` (read and checked, not kept).
//! Other tags (`:13D:`, `:65:`, a statement-level `:86:`, …) are skipped. SWIFT envelope
//! blocks (`{1:…}{2:…}{4:`), header lines before the first `:20:` (ABN AMRO's `ABNANL2A` /
//! `940`, Rabobank's `:940:`) and `-` / `-}` terminators are accepted. A new `:20:` also
//! starts a new statement (Rabobank writes no terminator).
//!
//! `:86:` is read in three styles into the same [`BankLine`] fields:
//! * structured codes `/CODE/value` (ABN AMRO SEPA, ING, Rabobank): `/EREF/` end-to-end id,
//!   `/REMI/` remittance (ING's `USTD//text` and `STRD/CUR/ref` forms), `/NAME/`, `/IBAN/`,
//!   ING's `/CNTP/iban/bic/name/city`, `/TRTP/` as description; lines are joined without
//!   separator because banks wrap at a fixed width, in the middle of words;
//! * `>NN` subfields (Triodos, German GVC style): `>20`–`>29` and `>60`–`>63` are the text,
//!   `>21` holds the IBAN when `>20` holds a BIC, `>32`/`>33` the name;
//! * free text (ABN AMRO's older layout): the keys `IBAN:`, `NAAM:`, `OMSCHRIJVING:`,
//!   `KENMERK:`, `BETALINGSKENM.:` are picked out; otherwise the whole text is the remittance
//!   text (lines joined by a space).
//!
//! Amounts need the comma decimal mark and at most two decimals; balances must be in EUR.
//! Errors name the statement and field, e.g. `Stmt[2]/:61:[4] (line 17, byte 512)`.

use chrono::{Datelike, Days, NaiveDate};

use super::{
    assign_keys, check_size, clean_ref, clean_text, collapse_ws, normalize_iban, parse_amount, quote, Balance,
    BankError, BankLine, Direction, ErrorKind, Format, Position, References, Statement, BANK_LINES_MAX, CURRENCY,
};

/// Read an MT940 file: one [`Statement`] per `:20:` block, in file order.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    check_size(input)?;
    let text = decode(input);
    let fields = split_fields(&text);
    let mut statements = Vec::new();
    let mut current: Option<Builder> = None;
    let mut total_lines = 0usize;
    for item in fields {
        match item {
            Item::End => {
                if let Some(b) = current.take() {
                    statements.push(b.finish()?);
                }
            }
            Item::Field(f) => {
                if f.tag == "20" {
                    if let Some(b) = current.take() {
                        statements.push(b.finish()?);
                    }
                    current = Some(Builder::new(statements.len() + 1, &f));
                    continue;
                }
                match current.as_mut() {
                    Some(b) => {
                        b.add(&f)?;
                        if f.tag == "61" {
                            total_lines += 1;
                            if total_lines > BANK_LINES_MAX {
                                return Err(BankError::new(
                                    b.path(&f),
                                    Some(f.pos),
                                    ErrorKind::TooManyLines { max: BANK_LINES_MAX },
                                ));
                            }
                        }
                    }
                    None if is_statement_tag(&f.tag) => {
                        return Err(BankError::new(
                            format!(":{}:", f.tag),
                            Some(f.pos),
                            ErrorKind::Invalid("field before the first :20: (statement start)".into()),
                        ));
                    }
                    None => {}
                }
            }
        }
    }
    if let Some(b) = current.take() {
        statements.push(b.finish()?);
    }
    if statements.is_empty() {
        let looks_like = text.contains(":20:") || text.contains(":61:");
        return Err(BankError::new(
            String::new(),
            None,
            if looks_like { ErrorKind::NoStatement } else { ErrorKind::UnknownFormat },
        ));
    }
    Ok(statements)
}

/// UTF-8 when valid, else ISO 8859-1 (each byte one character), so that no byte sequence is
/// refused for its encoding alone.
fn decode(input: &[u8]) -> String {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    match std::str::from_utf8(input) {
        Ok(s) => s.to_string(),
        Err(_) => input.iter().map(|&b| char::from(b)).collect(),
    }
}

fn is_statement_tag(tag: &str) -> bool {
    matches!(tag, "25" | "28" | "28C" | "60F" | "60M" | "61" | "86" | "62F" | "62M" | "64" | "65")
}

struct Field {
    tag: String,
    lines: Vec<String>,
    pos: Position,
}

enum Item {
    Field(Field),
    End,
}

/// `:NN:` or `:NNa:` at the start of a line: the tag and the rest.
fn tag_of(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let b = tag.as_bytes();
    let ok = (b.len() == 2 || b.len() == 3)
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && (b.len() == 2 || b[2].is_ascii_uppercase());
    ok.then(|| (tag, &rest[end + 1..]))
}

fn split_fields(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut current: Option<Field> = None;
    let mut offset = 0usize;
    for (n, raw) in text.split('\n').enumerate() {
        let pos = Position { line: n + 1, offset };
        offset += raw.len() + 1;
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with('{') {
            // SWIFT envelope: `{1:…}{2:…}{4:` then the text block.
            match line.find("{4:") {
                Some(i) => line = &line[i + 3..],
                None => continue,
            }
        }
        if line.starts_with('-') && line.trim_start_matches('-').trim_start_matches('}').trim().is_empty() {
            if let Some(f) = current.take() {
                items.push(Item::Field(f));
            }
            items.push(Item::End);
            continue;
        }
        if let Some((tag, rest)) = tag_of(line) {
            if let Some(f) = current.take() {
                items.push(Item::Field(f));
            }
            current = Some(Field { tag: tag.to_string(), lines: vec![rest.to_string()], pos });
        } else if line.trim().is_empty() {
            continue;
        } else if let Some(f) = current.as_mut() {
            f.lines.push(line.to_string());
        }
    }
    if let Some(f) = current.take() {
        items.push(Item::Field(f));
    }
    items
}

struct Pending {
    line: BankLine,
    pos: Position,
    n: usize,
}

struct Builder {
    index: usize,
    start: Position,
    id: String,
    account: Option<String>,
    sequence: Option<String>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    lines: Vec<Pending>,
    last_tag: String,
    n61: usize,
}

impl Builder {
    fn new(index: usize, f: &Field) -> Self {
        Builder {
            index,
            start: f.pos,
            id: collapse_ws(&f.lines.join(" ")),
            account: None,
            sequence: None,
            opening: None,
            closing: None,
            lines: Vec::new(),
            last_tag: "20".into(),
            n61: 0,
        }
    }

    fn path(&self, f: &Field) -> String {
        if f.tag == "61" || (f.tag == "86" && self.last_tag == "61") {
            format!("Stmt[{}]/:{}:[{}]", self.index, f.tag, self.n61)
        } else {
            format!("Stmt[{}]/:{}:", self.index, f.tag)
        }
    }

    fn err(&self, f: &Field, kind: ErrorKind) -> BankError {
        BankError::new(self.path(f), Some(f.pos), kind)
    }

    fn add(&mut self, f: &Field) -> Result<(), BankError> {
        let first = f.lines.first().map(String::as_str).unwrap_or("");
        match f.tag.as_str() {
            "25" => {
                let v = first.trim();
                if v.is_empty() {
                    return Err(self.err(f, ErrorKind::Missing("account".into())));
                }
                let v = match v.strip_suffix(CURRENCY) {
                    Some(iban) if normalize_iban(iban).is_some() => iban,
                    _ => v,
                };
                self.account = Some(normalize_iban(v).unwrap_or_else(|| v.to_string()));
            }
            "28" | "28C" => self.sequence = clean_text(first),
            "60F" | "60M" => {
                if self.opening.is_some() {
                    return Err(self.err(f, ErrorKind::DuplicateBalance(format!(":{}:", f.tag))));
                }
                self.opening = Some(self.balance(f, first)?);
            }
            "62F" | "62M" => {
                if self.closing.is_some() {
                    return Err(self.err(f, ErrorKind::DuplicateBalance(format!(":{}:", f.tag))));
                }
                self.closing = Some(self.balance(f, first)?);
            }
            "64" => {
                self.balance(f, first)?;
            }
            "61" => {
                self.n61 += 1;
                self.last_tag = "61".into();
                let line = self.line61(f)?;
                self.lines.push(Pending { line, pos: f.pos, n: self.n61 });
                return Ok(());
            }
            "86" if self.last_tag == "61" => {
                if let Some(p) = self.lines.last_mut() {
                    apply86(&mut p.line, &f.lines);
                }
            }
            _ => {}
        }
        self.last_tag = f.tag.clone();
        Ok(())
    }

    /// `C140112EUR10000,9`: mark, date, currency, amount.
    fn balance(&self, f: &Field, v: &str) -> Result<Balance, BankError> {
        let v = v.trim();
        let direction = match v.get(..1) {
            Some("C") => Direction::Credit,
            Some("D") => Direction::Debit,
            _ => return Err(self.err(f, ErrorKind::BadIndicator(quote(v.get(..1).unwrap_or(""))))),
        };
        let date = v
            .get(1..7)
            .and_then(yymmdd)
            .ok_or_else(|| self.err(f, ErrorKind::BadDate(quote(v.get(1..7).unwrap_or(v)))))?;
        let ccy = v.get(7..10).ok_or_else(|| self.err(f, ErrorKind::Missing("currency".into())))?;
        if ccy != CURRENCY {
            return Err(self.err(f, ErrorKind::Currency { found: quote(ccy) }));
        }
        let amount = parse_amount(v.get(10..).unwrap_or(""), ',', true).map_err(|k| self.err(f, k))?;
        let amount = match direction {
            Direction::Debit if !amount.is_zero() => -amount,
            _ => amount,
        };
        Ok(Balance { amount, date })
    }

    /// `:61:` value date, [entry date], mark, [funds code], amount, type, reference, [//bank
    /// reference], then optional supplementary lines.
    fn line61(&self, f: &Field) -> Result<BankLine, BankError> {
        let first = f.lines.first().map(String::as_str).unwrap_or("");
        let s = first.trim_end();
        let value_date = s
            .get(..6)
            .and_then(yymmdd)
            .ok_or_else(|| self.err(f, ErrorKind::BadDate(quote(s.get(..6).unwrap_or(s)))))?;
        let mut rest = &s[6..];
        let mut booking_date = value_date;
        if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            booking_date =
                entry_date(value_date, &rest[..4]).ok_or_else(|| self.err(f, ErrorKind::BadDate(quote(&rest[..4]))))?;
            rest = &rest[4..];
        }
        let (direction, reversal, after) = if let Some(r) = rest.strip_prefix("RC") {
            (Direction::Debit, true, r)
        } else if let Some(r) = rest.strip_prefix("RD") {
            (Direction::Credit, true, r)
        } else if let Some(r) = rest.strip_prefix('C') {
            (Direction::Credit, false, r)
        } else if let Some(r) = rest.strip_prefix('D') {
            (Direction::Debit, false, r)
        } else {
            return Err(self.err(f, ErrorKind::BadIndicator(quote(rest.get(..2).unwrap_or(rest)))));
        };
        rest = after;
        if rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
            rest = &rest[1..]; // funds code: third letter of the currency code
        }
        let amount_len = rest.find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.')).unwrap_or(rest.len());
        let amount = parse_amount(&rest[..amount_len], ',', true).map_err(|k| self.err(f, k))?;
        rest = &rest[amount_len..];
        let ty: String = rest.chars().take(4).collect();
        if ty.chars().count() < 4 || !matches!(ty.chars().next(), Some('N' | 'F' | 'S')) {
            return Err(self.err(
                f,
                ErrorKind::Invalid(format!("{:?} is not a transaction type (N/F/S and 3 characters)", quote(&ty))),
            ));
        }
        rest = &rest[ty.len()..];
        let (owner_ref, bank_ref) = match rest.split_once("//") {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let owner_ref = clean_ref(owner_ref).filter(|r| r != "EREF");
        let supplementary: String = f.lines.iter().skip(1).map(|l| l.trim()).collect::<Vec<_>>().join("");
        Ok(BankLine {
            key: String::new(),
            amount,
            direction,
            reversal,
            booking_date,
            value_date: Some(value_date),
            refs: References {
                acct_svcr_ref: bank_ref.and_then(clean_ref),
                ntry_ref: owner_ref,
                ..References::default()
            },
            counterparty_name: None,
            counterparty_iban: normalize_iban(&supplementary),
            description: None,
            batch_detail: None,
            source: format!("Stmt[{}]/:61:[{}] (line {})", self.index, self.n61, f.pos.line),
            // SWIFT transaction type `RTI`: a returned item (ING writes `NRTI`); the `:86:`
            // `/RTRN/` code, when there is one, says why.
            return_reason: (ty == "NRTI").then(|| ty.clone()),
        })
    }

    fn finish(self) -> Result<Statement, BankError> {
        let here = |what: &str| {
            BankError::new(
                format!("Stmt[{}] (:20: {})", self.index, quote(&self.id)),
                Some(self.start),
                ErrorKind::Missing(what.to_string()),
            )
        };
        let account = self.account.clone().ok_or_else(|| here(":25: account"))?;
        let opening = self.opening.ok_or_else(|| here(":60F: opening balance"))?;
        let closing = self.closing.ok_or_else(|| here(":62F: closing balance"))?;
        if self.id.is_empty() {
            return Err(here(":20: statement id"));
        }
        // The opening balance is the previous day's closing: the period starts the day after,
        // unless the statement opens and closes on the same day.
        let period_to = closing.date;
        let period_from = match opening.date.checked_add_days(Days::new(1)) {
            Some(next) if next <= period_to => next,
            _ => opening.date.min(period_to),
        };
        let mut lines = Vec::with_capacity(self.lines.len());
        let mut entry_of = Vec::with_capacity(self.lines.len());
        let mut ref_paths = Vec::with_capacity(self.lines.len());
        for (i, p) in self.lines.into_iter().enumerate() {
            ref_paths.push((format!("Stmt[{}]/:61:[{}]", self.index, p.n), Some(p.pos)));
            entry_of.push(i);
            lines.push(p.line);
        }
        assign_keys(&account, &mut lines, &entry_of, &ref_paths)?;
        Ok(Statement {
            format: Format::Mt940,
            id: self.id,
            sequence: self.sequence,
            account,
            currency: CURRENCY.to_string(),
            period_from,
            period_to,
            opening,
            closing,
            lines,
            skipped_unbooked: 0,
        })
    }
}

/// `YYMMDD`; years 00–79 are 20YY, 80–99 are 19YY.
fn yymmdd(s: &str) -> Option<NaiveDate> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = s[..2].parse().ok()?;
    let m: u32 = s[2..4].parse().ok()?;
    let d: u32 = s[4..6].parse().ok()?;
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(year, m, d)
}

/// `MMDD` entry date near the value date: the year is the value date's, moved by one when the
/// two straddle New Year.
fn entry_date(value: NaiveDate, mmdd: &str) -> Option<NaiveDate> {
    let m: u32 = mmdd.get(..2)?.parse().ok()?;
    let d: u32 = mmdd.get(2..4)?.parse().ok()?;
    let year = match (value.month(), m) {
        (12, 1) => value.year() + 1,
        (1, 12) => value.year() - 1,
        _ => value.year(),
    };
    NaiveDate::from_ymd_opt(year, m, d)
}

/// Structured `:86:` codes recognised as `/CODE/` separators.
const CODES: &[&str] = &[
    "EREF", "MARF", "CSID", "CNTP", "REMI", "NAME", "IBAN", "BIC", "ORDP", "BENM", "ADDR", "ISDT", "TRTP", "PREF",
    "RTRN", "PURP", "ULTC", "ULTD", "ULTB", "ID", "SVCL", "BUSP", "SUM", "TRCD", "IREF", "CDTRREF", "RTYP",
];

/// Fill a line's references, counterparty and texts from its `:86:` lines.
fn apply86(line: &mut BankLine, lines: &[String]) {
    let joined: String = lines.concat();
    let trimmed = joined.trim_start();
    if trimmed.starts_with('/') && !structured_codes(trimmed).is_empty() {
        apply_structured(line, trimmed);
    } else if is_gvc(trimmed) {
        apply_gvc(line, trimmed);
    } else {
        apply_free_text(line, lines);
    }
}

/// Positions of `/CODE/` for known codes, in order, without overlaps.
fn structured_codes(s: &str) -> Vec<(usize, &'static str)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1).is_some_and(u8::is_ascii_uppercase) {
            if let Some(code) = CODES
                .iter()
                .find(|c| s.get(i + 1..).is_some_and(|r| r.starts_with(*c)) && b.get(i + 1 + c.len()) == Some(&b'/'))
            {
                out.push((i, *code));
                i += code.len() + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn apply_structured(line: &mut BankLine, s: &str) {
    let codes = structured_codes(s);
    let mut texts = Vec::new();
    for (k, &(pos, code)) in codes.iter().enumerate() {
        let start = pos + code.len() + 2;
        let end = codes.get(k + 1).map_or(s.len(), |n| n.0);
        let value = s.get(start..end).unwrap_or("").trim_end_matches('/');
        match code {
            "EREF" => line.refs.end_to_end_id = clean_ref(value),
            "REMI" => {
                if let Some(rest) = value.strip_prefix("USTD/") {
                    texts.push(rest.trim_start_matches('/').to_string());
                } else if let Some(rest) = value.strip_prefix("STRD/") {
                    let reference = rest.split_once('/').map_or(rest, |(_, r)| r);
                    line.refs.creditor_reference = clean_ref(reference);
                } else {
                    texts.push(value.to_string());
                }
            }
            "NAME" => line.counterparty_name = clean_text(value),
            "IBAN" => line.counterparty_iban = normalize_iban(value).or(line.counterparty_iban.take()),
            "CNTP" => {
                let mut parts = value.split('/');
                if let Some(acct) = parts.next().and_then(normalize_iban) {
                    line.counterparty_iban = Some(acct);
                }
                let _bic = parts.next();
                if let Some(name) = parts.next().and_then(clean_text) {
                    line.counterparty_name = Some(name);
                }
            }
            "TRTP" => line.description = clean_text(value),
            // `/RTRN/MS03/` (ING, ABN AMRO, Rabobank): the return reason of a returned payment.
            "RTRN" => {
                if let Some(code) = value.split('/').next().and_then(super::reason_code) {
                    line.return_reason = Some(code);
                }
            }
            _ => {}
        }
    }
    line.refs.remittance_text = clean_text(&texts.join(" "));
}

/// Triodos / GVC style: three digits then `>NN` subfields.
fn is_gvc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[3] == b'>'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
}

fn apply_gvc(line: &mut BankLine, s: &str) {
    let mut fields: Vec<(u32, String)> = Vec::new();
    let b = s.as_bytes();
    let mut i = 3;
    while i < b.len() {
        // at a '>' followed by two digits
        let num: u32 = s.get(i + 1..i + 3).and_then(|d| d.parse().ok()).unwrap_or(0);
        let start = i + 3;
        let mut j = start;
        while j < b.len() {
            if b[j] == b'>'
                && b.get(j + 1).is_some_and(u8::is_ascii_digit)
                && b.get(j + 2).is_some_and(u8::is_ascii_digit)
            {
                break;
            }
            j += 1;
        }
        fields.push((num, s.get(start..j).unwrap_or("").to_string()));
        i = j;
    }
    let get = |n: u32| fields.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
    let iban_in_21 = get(21).and_then(|v| normalize_iban(v.get(..v.len().min(34)).unwrap_or(v)));
    let skip: &[u32] = if iban_in_21.is_some() { &[20, 21] } else { &[] };
    if let Some(iban) = iban_in_21 {
        line.counterparty_iban = Some(iban);
    }
    let text: String = fields
        .iter()
        .filter(|(k, _)| ((20..=29).contains(k) || (60..=63).contains(k)) && !skip.contains(k))
        .map(|(_, v)| v.as_str())
        .collect();
    line.refs.remittance_text = clean_text(&text);
    let name: String = fields.iter().filter(|(k, _)| *k == 32 || *k == 33).map(|(_, v)| v.as_str()).collect();
    line.counterparty_name = clean_text(&name);
}

/// ABN AMRO's older free-text layout keys; values run to the next key.
const FREE_KEYS: &[&str] = &[
    "IBAN:",
    "BIC:",
    "NAAM:",
    "OMSCHRIJVING:",
    "KENMERK:",
    "BETALINGSKENM.:",
    "ID DEBITEUR:",
    "MACHTIGING:",
    "INCASSANT:",
];

fn apply_free_text(line: &mut BankLine, lines: &[String]) {
    let text = lines.join("\n");
    let mut found: Vec<(usize, &str)> = Vec::new();
    for key in FREE_KEYS {
        let mut from = 0;
        while let Some(i) = text.get(from..).and_then(|t| t.find(key)) {
            let at = from + i;
            // "IBAN:" inside "ID INCASSANT:"-like keys: require a word start
            let word_start = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
            if word_start && !found.iter().any(|(p, k)| at >= *p && at < p + k.len()) {
                found.push((at, key));
            }
            from = at + key.len();
        }
    }
    found.sort();
    if found.is_empty() {
        line.refs.remittance_text = clean_text(&text);
        return;
    }
    line.description = text.get(..found[0].0).and_then(clean_text);
    for (k, &(pos, key)) in found.iter().enumerate() {
        let end = found.get(k + 1).map_or(text.len(), |n| n.0);
        let value = text.get(pos + key.len()..end).unwrap_or("");
        match key {
            "IBAN:" => line.counterparty_iban = normalize_iban(value),
            "NAAM:" => line.counterparty_name = clean_text(value),
            "OMSCHRIJVING:" => line.refs.remittance_text = clean_text(value),
            "KENMERK:" => line.refs.end_to_end_id = clean_ref(value),
            "BETALINGSKENM.:" => line.refs.creditor_reference = clean_ref(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(yymmdd("140112"), NaiveDate::from_ymd_opt(2014, 1, 12));
        assert_eq!(yymmdd("991231"), NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(yymmdd("140230"), None);
        let v = NaiveDate::from_ymd_opt(2014, 12, 31).unwrap_or_default();
        assert_eq!(entry_date(v, "0102"), NaiveDate::from_ymd_opt(2015, 1, 2));
        let v = NaiveDate::from_ymd_opt(2015, 1, 2).unwrap_or_default();
        assert_eq!(entry_date(v, "1231"), NaiveDate::from_ymd_opt(2014, 12, 31));
    }

    #[test]
    fn codes() {
        let c = structured_codes("/ORDP//ID/203798473");
        assert_eq!(c, vec![(0, "ORDP"), (6, "ID")]);
        let c = structured_codes("/CNTP/0007654332/////REMI/USTD//x/");
        assert_eq!(c.iter().map(|x| x.1).collect::<Vec<_>>(), vec!["CNTP", "REMI"]);
    }
}
