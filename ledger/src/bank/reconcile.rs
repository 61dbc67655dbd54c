//! Matching a bank statement against the fund's ledger (SPEC §6 `meent reconcile`).
//!
//! [`reconcile`] is a pure function: the same statement, items and options always give the
//! same [`Report`]. Rules:
//!
//! 1. A line whose stable key is some item's `confirmed_bank_key` is that item's payment,
//!    seen before: reported as already confirmed ([`ConfirmedHow::SameBankLine`]).
//! 2. A reversal is never matched: it is reported as missing from the ledger with
//!    [`UnmatchedReason::Reversal`], for the treasurer to handle (e.g. with a `reversal`).
//! 3. A credit is matched against contributions, a debit against disbursements.
//! 4. By reference first: the item's `reference` (trimmed, case-insensitive) equals the
//!    line's structured creditor reference, end-to-end id or owner reference, or stands as a
//!    whole word in the unstructured remittance text. The amount must be equal too; a
//!    reference match with another amount is reported, not matched
//!    ([`UnmatchedReason::AmountDiffers`]). Several equal candidates are narrowed by the date
//!    window, then by the IBAN mapping.
//! 5. Lines without any reference match: by exact amount with the item's date within
//!    `date_window_days` of the booking date; when the line's counterparty IBAN is in the
//!    member→IBAN mapping, only that member's items are candidates.
//! 6. Never pick: more than one candidate, or one item claimed by more than one line, is
//!    reported as ambiguous with the candidates. An item confirmed earlier without a known
//!    bank key is a candidate too (it may be this very line, seen in an overlapping
//!    statement): alone it gives [`ConfirmedHow::ItemConfirmedEarlier`], next to an open item
//!    an ambiguity. An item confirmed by another bank line is no candidate.
//! 7. Items not seen at the bank: unconfirmed, unmatched items dated inside the statement
//!    period that are no candidate of an ambiguous or amount-differs line.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{normalize_iban, ser_date, BalanceCheck, BankLine, Direction, Statement};

/// What kind of ledger entry an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// A `contribution`: money expected in (matched against credits).
    Contribution,
    /// A `disbursement`: money expected out (matched against debits).
    Disbursement,
}

/// One contribution or disbursement of the fund, as the caller reads it from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerItem {
    /// The entry id (64 hex).
    pub entry_id: String,
    /// Contribution or disbursement.
    pub kind: LedgerKind,
    /// The entry's amount.
    pub amount: Decimal,
    /// The payment reference (contribution) or end-to-end id (disbursement).
    pub reference: String,
    /// The entry's `received_at` date.
    #[serde(serialize_with = "ser_date")]
    pub date: NaiveDate,
    /// The member the money comes from (contribution) or goes to (disbursement).
    pub member: String,
    /// A reconciliation already confirmed this entry.
    pub already_confirmed: bool,
    /// The stable key of the bank line that confirmed it, when known.
    pub confirmed_bank_key: Option<String>,
}

impl LedgerItem {
    fn confirmed(&self) -> bool {
        self.already_confirmed || self.confirmed_bank_key.is_some()
    }
}

/// Matching options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchOptions {
    /// How many days an item's date may lie before or after the booking date for a match by
    /// amount (default 14).
    pub date_window_days: u32,
    /// The treasurer's local mapping member id → IBANs (never written to the log). Empty
    /// when there is none.
    pub member_ibans: BTreeMap<String, Vec<String>>,
}

/// Default for [`MatchOptions::date_window_days`].
pub const DEFAULT_DATE_WINDOW_DAYS: u32 = 14;

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions { date_window_days: DEFAULT_DATE_WINDOW_DAYS, member_ibans: BTreeMap::new() }
    }
}

impl MatchOptions {
    /// Add one IBAN for a member (builder style).
    pub fn with_iban(mut self, member: &str, iban: &str) -> Self {
        self.member_ibans.entry(member.to_string()).or_default().push(iban.to_string());
        self
    }
}

/// How a line was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMethod {
    /// Payment reference or end-to-end id, and the same amount.
    Reference,
    /// Same amount, date within the window.
    AmountDate,
    /// Same amount, date within the window, and the counterparty IBAN is the member's.
    AmountDateIban,
}

/// A bank line matched to a ledger item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// The bank line.
    pub line: BankLine,
    /// The ledger item it confirms.
    pub item: LedgerItem,
    /// How.
    pub method: MatchMethod,
}

/// Why a bank line has no ledger item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum UnmatchedReason {
    /// No item of the right kind has its reference, nor its amount within the window.
    NoCandidate,
    /// The line reverses or returns an earlier booking (a reversal, or a return with a
    /// reason code: [`BankLine::is_return`]); never matched automatically.
    Reversal,
    /// Items carry the line's reference but another amount.
    AmountDiffers {
        /// Those items.
        candidates: Vec<LedgerItem>,
    },
}

/// A bank line missing from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedLine {
    /// The bank line.
    pub line: BankLine,
    /// Why.
    #[serde(flatten)]
    pub reason: UnmatchedReason,
}

/// A bank line with more than one possible item, or an item wanted by several lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ambiguous {
    /// The bank line.
    pub line: BankLine,
    /// The stage that found the candidates (reference or amount+date).
    pub method: MatchMethod,
    /// The candidate items.
    pub candidates: Vec<LedgerItem>,
    /// Keys of other lines of this statement that want one of the same items.
    pub competing_lines: Vec<String>,
}

/// Why a line counts as already confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmedHow {
    /// This very bank line (same stable key) confirmed the item before: an overlapping
    /// statement. Explained.
    SameBankLine,
    /// The line matches an item confirmed earlier whose bank key is not known: most likely
    /// the same payment in an overlapping statement. Explained, but worth a look.
    ItemConfirmedEarlier,
    /// The line matches only items that another bank line confirmed: a second payment?
    /// Not explained.
    ByOtherBankLine,
}

/// A bank line whose item is already confirmed; nothing is confirmed twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlreadyConfirmed {
    /// The bank line.
    pub line: BankLine,
    /// The confirmed items concerned.
    pub entry_ids: Vec<String>,
    /// How it was recognised.
    pub how: ConfirmedHow,
}

impl AlreadyConfirmed {
    /// Needs no action from the treasurer.
    pub fn is_explained(&self) -> bool {
        self.how != ConfirmedHow::ByOtherBankLine
    }
}

/// The result of [`reconcile`]: every bank line lands in exactly one of `matched`,
/// `missing_from_ledger`, `ambiguous` and `already_confirmed`, in statement order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The statement's id.
    pub statement_id: String,
    /// First day of the statement period.
    #[serde(serialize_with = "ser_date")]
    pub period_from: NaiveDate,
    /// Last day of the statement period.
    #[serde(serialize_with = "ser_date")]
    pub period_to: NaiveDate,
    /// Opening + credits − debits against the closing balance (`None` only on an arithmetic
    /// overflow, impossible for a parsed statement).
    pub balance: Option<BalanceCheck>,
    /// Lines matched to items: these items are confirmed by recording the reconciliation.
    pub matched: Vec<Matched>,
    /// Lines without an item.
    pub missing_from_ledger: Vec<UnmatchedLine>,
    /// Unconfirmed items dated inside the period that no line matched.
    pub not_seen_at_bank: Vec<LedgerItem>,
    /// Lines with more than one possible item.
    pub ambiguous: Vec<Ambiguous>,
    /// Lines whose item was confirmed before.
    pub already_confirmed: Vec<AlreadyConfirmed>,
}

impl Report {
    /// The statement adds up.
    pub fn balance_ok(&self) -> bool {
        self.balance.is_some_and(|b| b.is_ok())
    }

    /// Nothing left for the treasurer: the balance adds up, no line is missing from the
    /// ledger or ambiguous, no item in the period is unseen, and every already-confirmed line
    /// is explained.
    pub fn all_explained(&self) -> bool {
        self.balance_ok()
            && self.missing_from_ledger.is_empty()
            && self.not_seen_at_bank.is_empty()
            && self.ambiguous.is_empty()
            && self.already_confirmed.iter().all(AlreadyConfirmed::is_explained)
    }

    /// Entry ids to list as `confirmed` in a `reconciliation` entry, sorted.
    pub fn confirmed_entry_ids(&self) -> Vec<String> {
        let ids: BTreeSet<String> = self.matched.iter().map(|m| m.item.entry_id.clone()).collect();
        ids.into_iter().collect()
    }

    /// The `unmatched_bank_lines` count of a `reconciliation` entry: lines missing from the
    /// ledger, ambiguous, or matching only items another line confirmed.
    pub fn unmatched_bank_lines(&self) -> usize {
        self.missing_from_ledger.len()
            + self.ambiguous.len()
            + self.already_confirmed.iter().filter(|a| !a.is_explained()).count()
    }
}

#[derive(Debug, Clone)]
enum Outcome {
    SameKey(Vec<usize>),
    Reversal,
    Match(usize, MatchMethod),
    Ambiguous(Vec<usize>, MatchMethod),
    Confirmed(Vec<usize>, ConfirmedHow, MatchMethod),
    AmountDiffers(Vec<usize>),
    NoCandidate,
}

/// Match one statement against the fund's contributions and disbursements. See the module
/// documentation for the rules.
pub fn reconcile(statement: &Statement, ledger: &[LedgerItem], opts: &MatchOptions) -> Report {
    let iban_members = iban_index(opts);
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in ledger.iter().enumerate() {
        if let Some(k) = &item.confirmed_bank_key {
            by_key.entry(k.as_str()).or_default().push(i);
        }
    }
    let pinned: BTreeSet<usize> = by_key.values().flatten().copied().collect();
    let ctx = Ctx { ledger, opts, iban_members: &iban_members, pinned: &pinned };
    let mut outcomes = line_outcomes(statement, &ctx, &by_key);
    let competitors = never_pick(&mut outcomes);
    report(statement, ledger, outcomes, &competitors)
}

/// Stage 0 and 1 (same key, reversals and returns, references), then stage 2 (amount and
/// date) for the lines without any reference match.
fn line_outcomes(statement: &Statement, ctx: &Ctx<'_>, by_key: &HashMap<&str, Vec<usize>>) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = statement
        .lines
        .iter()
        .map(|line| {
            if let Some(items) = by_key.get(line.key.as_str()) {
                return Some(Outcome::SameKey(items.clone()));
            }
            if line.is_return() {
                return Some(Outcome::Reversal);
            }
            ctx.by_reference(line)
        })
        .collect();
    let claimed_by_reference: BTreeSet<usize> = outcomes.iter().flatten().flat_map(items_of).collect();
    for (line, outcome) in statement.lines.iter().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            *outcome = Some(ctx.by_amount(line, &claimed_by_reference));
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or(Outcome::NoCandidate)).collect()
}

/// Never pick: an item wanted by several lines makes all of them ambiguous. Returns, per
/// line, the other lines that want one of its items.
fn never_pick(outcomes: &mut [Outcome]) -> Vec<BTreeSet<usize>> {
    let mut wanted: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (l, o) in outcomes.iter().enumerate() {
        let items: Vec<usize> = match o {
            Outcome::Match(i, _) => vec![*i],
            Outcome::Ambiguous(c, _) => c.clone(),
            Outcome::Confirmed(c, ConfirmedHow::ItemConfirmedEarlier, _) => c.clone(),
            _ => Vec::new(),
        };
        for i in items {
            wanted.entry(i).or_default().push(l);
        }
    }
    let mut competitors: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); outcomes.len()];
    for lines in wanted.values().filter(|ls| ls.len() > 1) {
        for &l in lines {
            competitors[l].extend(lines.iter().copied().filter(|&o| o != l));
        }
    }
    for (l, o) in outcomes.iter_mut().enumerate() {
        if competitors[l].is_empty() {
            continue;
        }
        match o {
            Outcome::Match(i, m) => *o = Outcome::Ambiguous(vec![*i], *m),
            Outcome::Confirmed(c, ConfirmedHow::ItemConfirmedEarlier, m) => *o = Outcome::Ambiguous(c.clone(), *m),
            _ => {}
        }
    }
    competitors
}

/// The report: each line's outcome in its section, then the items not seen at the bank.
fn report(
    statement: &Statement,
    ledger: &[LedgerItem],
    outcomes: Vec<Outcome>,
    competitors: &[BTreeSet<usize>],
) -> Report {
    let mut report = Report {
        statement_id: statement.id.clone(),
        period_from: statement.period_from,
        period_to: statement.period_to,
        balance: statement.balance_check().ok(),
        matched: Vec::new(),
        missing_from_ledger: Vec::new(),
        not_seen_at_bank: Vec::new(),
        ambiguous: Vec::new(),
        already_confirmed: Vec::new(),
    };
    let mut accounted: BTreeSet<usize> = BTreeSet::new();
    let items = |idx: &[usize]| idx.iter().map(|&i| ledger[i].clone()).collect::<Vec<_>>();
    let ids = |idx: &[usize]| idx.iter().map(|&i| ledger[i].entry_id.clone()).collect::<Vec<_>>();
    for (l, (line, o)) in statement.lines.iter().zip(outcomes).enumerate() {
        let line = line.clone();
        match o {
            Outcome::SameKey(c) => report.already_confirmed.push(AlreadyConfirmed {
                line,
                entry_ids: ids(&c),
                how: ConfirmedHow::SameBankLine,
            }),
            Outcome::Reversal => {
                report.missing_from_ledger.push(UnmatchedLine { line, reason: UnmatchedReason::Reversal })
            }
            Outcome::NoCandidate => {
                report.missing_from_ledger.push(UnmatchedLine { line, reason: UnmatchedReason::NoCandidate })
            }
            Outcome::AmountDiffers(c) => {
                accounted.extend(c.iter().copied());
                report
                    .missing_from_ledger
                    .push(UnmatchedLine { line, reason: UnmatchedReason::AmountDiffers { candidates: items(&c) } })
            }
            Outcome::Match(i, method) => {
                accounted.insert(i);
                report.matched.push(Matched { line, item: ledger[i].clone(), method })
            }
            Outcome::Ambiguous(c, method) => {
                accounted.extend(c.iter().copied());
                let competing_lines =
                    competitors[l].iter().filter_map(|&o| statement.lines.get(o).map(|x| x.key.clone())).collect();
                report.ambiguous.push(Ambiguous { line, method, candidates: items(&c), competing_lines })
            }
            Outcome::Confirmed(c, how, _) => {
                report.already_confirmed.push(AlreadyConfirmed { line, entry_ids: ids(&c), how })
            }
        }
    }
    report.not_seen_at_bank = not_seen(statement, ledger, &accounted);
    report
}

/// Unconfirmed items dated within the statement's period that no line accounts for.
fn not_seen(statement: &Statement, ledger: &[LedgerItem], accounted: &BTreeSet<usize>) -> Vec<LedgerItem> {
    let mut unseen: Vec<&LedgerItem> = ledger
        .iter()
        .enumerate()
        .filter(|(i, item)| {
            !item.confirmed()
                && !accounted.contains(i)
                && item.date >= statement.period_from
                && item.date <= statement.period_to
        })
        .map(|(_, item)| item)
        .collect();
    unseen.sort_by(|a, b| (a.date, &a.entry_id).cmp(&(b.date, &b.entry_id)));
    unseen.into_iter().cloned().collect()
}

fn items_of(o: &Outcome) -> Vec<usize> {
    match o {
        Outcome::Match(i, _) => vec![*i],
        Outcome::Ambiguous(c, _) | Outcome::Confirmed(c, _, _) | Outcome::AmountDiffers(c) => c.clone(),
        Outcome::SameKey(_) | Outcome::Reversal | Outcome::NoCandidate => Vec::new(),
    }
}

/// Normalised IBAN → members.
fn iban_index(opts: &MatchOptions) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (member, ibans) in &opts.member_ibans {
        for iban in ibans {
            let n = normalize_iban(iban)
                .unwrap_or_else(|| iban.split_whitespace().collect::<String>().to_ascii_uppercase());
            out.entry(n).or_default().insert(member.clone());
        }
    }
    out
}

struct Ctx<'a> {
    ledger: &'a [LedgerItem],
    opts: &'a MatchOptions,
    iban_members: &'a BTreeMap<String, BTreeSet<String>>,
    pinned: &'a BTreeSet<usize>,
}

impl Ctx<'_> {
    fn kind_for(line: &BankLine) -> LedgerKind {
        match line.direction {
            Direction::Credit => LedgerKind::Contribution,
            Direction::Debit => LedgerKind::Disbursement,
        }
    }

    /// Items of the kind the line's direction calls for. With `include_pinned`, items that
    /// another bank line confirmed are included (a reference match to them is reported).
    fn candidates(&self, line: &BankLine, include_pinned: bool) -> impl Iterator<Item = usize> + '_ {
        let kind = Self::kind_for(line);
        self.ledger
            .iter()
            .enumerate()
            .filter(move |(i, item)| item.kind == kind && (include_pinned || !self.pinned.contains(i)))
            .map(|(i, _)| i)
    }

    fn in_window(&self, line: &BankLine, i: usize) -> bool {
        let days = (self.ledger[i].date - line.booking_date).num_days().unsigned_abs();
        days <= u64::from(self.opts.date_window_days)
    }

    /// Members the line's counterparty IBAN belongs to, per the local mapping.
    fn iban_owners(&self, line: &BankLine) -> Option<&BTreeSet<String>> {
        line.counterparty_iban.as_ref().and_then(|iban| self.iban_members.get(iban))
    }

    fn by_reference(&self, line: &BankLine) -> Option<Outcome> {
        let refs: Vec<usize> =
            self.candidates(line, true).filter(|&i| reference_matches(&self.ledger[i].reference, line)).collect();
        if refs.is_empty() {
            return None;
        }
        let same: Vec<usize> = refs.iter().copied().filter(|&i| self.ledger[i].amount == line.amount).collect();
        if same.is_empty() {
            return Some(Outcome::AmountDiffers(refs));
        }
        Some(self.resolve(line, same, MatchMethod::Reference))
    }

    fn by_amount(&self, line: &BankLine, claimed: &BTreeSet<usize>) -> Outcome {
        let mut cands: Vec<usize> = self
            .candidates(line, false)
            .filter(|i| !claimed.contains(i))
            .filter(|&i| self.ledger[i].amount == line.amount && self.in_window(line, i))
            .collect();
        let mut method = MatchMethod::AmountDate;
        if let Some(owners) = self.iban_owners(line) {
            cands.retain(|&i| owners.contains(&self.ledger[i].member));
            method = MatchMethod::AmountDateIban;
        }
        if cands.is_empty() {
            return Outcome::NoCandidate;
        }
        self.resolve(line, cands, method)
    }

    fn resolve(&self, line: &BankLine, cands: Vec<usize>, method: MatchMethod) -> Outcome {
        let (by_other, mut cands): (Vec<usize>, Vec<usize>) = cands
            .into_iter()
            .partition(|&i| self.ledger[i].confirmed_bank_key.as_ref().is_some_and(|k| *k != line.key));
        if cands.is_empty() {
            return if by_other.is_empty() {
                Outcome::NoCandidate
            } else {
                Outcome::Confirmed(by_other, ConfirmedHow::ByOtherBankLine, method)
            };
        }
        if method == MatchMethod::Reference && cands.len() > 1 {
            let near: Vec<usize> = cands.iter().copied().filter(|&i| self.in_window(line, i)).collect();
            if !near.is_empty() {
                cands = near;
            }
            if let Some(owners) = self.iban_owners(line) {
                let own: Vec<usize> =
                    cands.iter().copied().filter(|&i| owners.contains(&self.ledger[i].member)).collect();
                if !own.is_empty() {
                    cands = own;
                }
            }
        }
        let (earlier, open): (Vec<usize>, Vec<usize>) = cands.iter().partition(|&&i| self.ledger[i].confirmed());
        match (open.as_slice(), earlier.is_empty()) {
            ([one], true) => Outcome::Match(*one, method),
            ([], false) => Outcome::Confirmed(earlier, ConfirmedHow::ItemConfirmedEarlier, method),
            _ => Outcome::Ambiguous(cands, method),
        }
    }
}

/// The item's reference (trimmed, case-insensitive) equals one of the line's references or
/// stands as a whole word in its remittance text.
fn reference_matches(reference: &str, line: &BankLine) -> bool {
    let needle = reference.trim().to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let r = &line.refs;
    let equal = [&r.creditor_reference, &r.end_to_end_id, &r.ntry_ref]
        .iter()
        .filter_map(|o| o.as_deref())
        .any(|v| v.trim().to_lowercase() == needle);
    equal || r.remittance_text.as_deref().is_some_and(|t| contains_word(&t.to_lowercase(), &needle))
}

/// Letters, digits, `-` and `_` continue a reference; anything else ends it.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// `needle` occurs in `hay` with no word character (see [`is_word_char`]) right before or
/// after it.
fn contains_word(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| h.find(needle)) {
        let start = from + i;
        let end = start + needle.len();
        let before_ok = hay[..start].chars().next_back().is_none_or(|c| !is_word_char(c));
        let after_ok = hay[end..].chars().next().is_none_or(|c| !is_word_char(c));
        if before_ok && after_ok {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(contains_word("betaling meent-7f3k-21 dank", "meent-7f3k-21"));
        assert!(contains_word("meent-7f3k-21", "meent-7f3k-21"));
        assert!(!contains_word("meent-7f3k-212", "meent-7f3k-21"));
        assert!(!contains_word("xmeent-7f3k-21", "meent-7f3k-21"));
        assert!(contains_word("ref:meent-7f3k-21/x", "meent-7f3k-21"));
        assert!(contains_word("(meent-7f3k-21).", "meent-7f3k-21"));
        assert!(!contains_word("meent-7f3k-21-5", "meent-7f3k-21"));
        assert!(!contains_word("x-meent-7f3k-21", "meent-7f3k-21"));
        assert!(contains_word("é meent é", "meent"));
    }
}
