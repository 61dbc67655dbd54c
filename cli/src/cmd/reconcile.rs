//! `meent reconcile --fund F --statement FILE [--server URL] [--json|--csv] [--dry-run]
//! [--record --key K --as TREASURER] [--ibans FILE] [--state FILE] [--opening AMOUNT]
//! [--with-fund G]…`
//!
//! Reads a CAMT.053 or MT940 statement, matches it against the fund's contributions and
//! payouts (`ledger::bank::reconcile`), checks the balances, and with `--record` signs the
//! `reconciliation` entry. Exit 0 when everything is explained, 1 when something is not (or
//! the ledger refuses), 2 on bad input. The decisions are in `docs/TREASURER.md`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use ledger::bank::reconcile::{ConfirmedHow, MatchMethod, UnmatchedReason};
use ledger::bank::{self, BankLine, Direction, Format, LedgerItem, MatchOptions};
use ledger::entry::Kind;
use ledger::ids::{EntryId, FundId};
use ledger::money::Balance;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::books::{self, FundBooks};
use crate::client::{Client, Signer, DEFAULT_SERVER};
use crate::exit::{CmdError, CmdResult, InputContext};
use crate::treasurer::{self, PinnedLine, ReconcileState};
use ledger::books::desk::{self, Analysis, BaseSource, Inputs};

/// Arguments of `meent reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The fund whose bank account the statement is of.
    #[arg(long)]
    fund: String,
    /// The bank statement: CAMT.053 (001.02 to 001.13) or MT940.
    #[arg(long, value_name = "FILE")]
    statement: PathBuf,
    /// The meent server.
    #[arg(long, default_value = DEFAULT_SERVER, env = "MEENT_SERVER")]
    server: String,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print the report as CSV, one row per bank line, candidate or unseen entry.
    #[arg(long)]
    csv: bool,
    /// Show the reconciliation entry that --record would sign; submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Sign and submit the reconciliation entry (needs --key and --as).
    #[arg(long)]
    record: bool,
    /// Your key file (PKCS#8 PEM), with --record.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Your member id (a treasurer of the fund), with --record.
    #[arg(long = "as", value_name = "TREASURER")]
    as_id: Option<String>,
    /// Your local member → IBAN mapping (one `MEMBER-ID IBAN` per line); never sent anywhere.
    #[arg(long, value_name = "FILE")]
    ibans: Option<PathBuf>,
    /// The local file of bank-line keys already used [default: meent-reconcile.json beside the statement].
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Money in the account apart from the ledger's flows (its balance before the fund's first
    /// flow), e.g. 1500.00 or -20.00 [default: the opening balance of the fund's first
    /// recorded reconciliation, else of this statement].
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    opening: Option<String>,
    /// Another fund kept in the same bank account (repeatable): its entries explain bank lines
    /// too (they are confirmed by reconciling that fund) and count in the balance check.
    #[arg(long = "with-fund", value_name = "FUND")]
    with_funds: Vec<String>,
    /// When the file holds statements of several accounts: the account (IBAN) to reconcile.
    #[arg(long, value_name = "IBAN")]
    account: Option<String>,
    /// Days an entry's date may lie from the booking date for a match by amount.
    #[arg(long, default_value_t = bank::reconcile::DEFAULT_DATE_WINDOW_DAYS, value_name = "DAYS")]
    window_days: u32,
}

/// What happened to the entry.
enum Recorded {
    /// Not asked to record.
    No,
    /// --dry-run: shown only.
    DryRun,
    /// The same file was recorded before.
    Before(EntryId),
    /// Submitted now: the server's answer.
    Now(Value),
}

/// Run the reconciliation.
pub fn run(a: ReconcileArgs) -> CmdResult {
    if a.record && !a.dry_run && (a.key.is_none() || a.as_id.is_none()) {
        return Err(CmdError::usage(anyhow!("--record needs --key FILE and --as TREASURER")));
    }
    let fund: FundId = a.fund.parse().input_ctx(format!("--fund {}", a.fund))?;
    let opening = match &a.opening {
        Some(s) => Some(
            s.parse::<Balance>()
                .input_ctx(format!("--opening {s} (a balance with two decimals, e.g. 1500.00 or -20.00)"))?
                .as_decimal(),
        ),
        None => None,
    };

    let (sha, format, combined) = statement(&a)?;

    // Local files.
    let mut options = match &a.ibans {
        Some(p) => treasurer::read_ibans(p)?,
        None => MatchOptions::default(),
    };
    options.date_window_days = a.window_days;
    let state_path = treasurer::state_path(a.state.as_deref(), &a.statement);
    let mut state = ReconcileState::load(&state_path)?;

    // The ledger.
    let client = Client::new(&a.server)?;
    let (books, others) = fund_books(&client, &fund, &a.with_funds)?;
    let mut pinned = BTreeMap::new();
    for b in std::iter::once(&books).chain(others.iter()) {
        pinned.extend(state.keys_by_entry(&b.id, format_family(format)));
    }
    let analysis = desk::analyse(
        combined,
        Inputs {
            books: &books,
            others: &others,
            pinned: &pinned,
            options: &options,
            opening,
            statement_sha256: sha.clone(),
        },
    )
    .map_err(|e| CmdError::input(anyhow!("{}: {e}", a.statement.display())))?;

    // Recording.
    let mut notes: Vec<String> = Vec::new();
    let recorded = if !a.record && !a.dry_run {
        Recorded::No
    } else if a.dry_run {
        Recorded::DryRun
    } else if let Some(id) = analysis.recorded_before {
        let n = pin_recorded_before(&analysis, &books, id, &sha, format_family(format), &mut state);
        if n > 0 {
            state.save(&state_path)?;
            notes.push(format!("remembered the keys of {n} bank line(s) in {}", state_path.display()));
        }
        Recorded::Before(id)
    } else {
        if !analysis.file_check.ok {
            print_report(&a, format, &analysis, &Recorded::No, &[])?;
            return Err(CmdError::failed(anyhow!(
                "not recorded: {} does not add up (see the file check above); ask the bank for a complete statement",
                a.statement.display()
            )));
        }
        let (Some(key), Some(as_id)) = (&a.key, &a.as_id) else {
            return Err(CmdError::usage(anyhow!("--record needs --key FILE and --as TREASURER")));
        };
        if !books.treasurers.iter().any(|t| t == as_id) {
            return Err(CmdError::refused(anyhow!(
                "{as_id} is not a treasurer of {fund} (treasurers: {}); only treasurers reconcile",
                books.treasurers.join(", ")
            )));
        }
        let signer = Signer::load(key, as_id)?;
        let entry = signer.sign(Kind::Reconciliation, body_json(&analysis)?)?;
        let acc = client.submit(&entry)?;
        let n = pin_matched(&analysis, entry.id, &sha, format_family(format), &mut state);
        state.save(&state_path)?;
        notes.push(format!("remembered the keys of {n} bank line(s) in {}", state_path.display()));
        let after = client.get_json(&format!("/v1/funds/{fund}"))?;
        let mut answer = acc.body.clone();
        answer["balances"] = after["balances"].clone();
        Recorded::Now(answer)
    };

    print_report(&a, format, &analysis, &recorded, &notes)?;
    let unexplained = analysis.unexplained();
    if unexplained.is_empty() {
        Ok(())
    } else {
        Err(CmdError::failed(anyhow!("not everything is explained: {}", unexplained.join("; "))))
    }
}

/// The statement file read, hashed, parsed and checked: its SHA-256, its
/// format and its statements (of `--account`) combined into one.
fn statement(a: &ReconcileArgs) -> CmdResult<(String, Option<Format>, desk::Combined)> {
    let raw = read_statement(&a.statement)?;
    let sha = bank::statement_sha256(&raw);
    let in_file = |e: &dyn std::fmt::Display| CmdError::input(anyhow!("{}: {e}", a.statement.display()));
    let stmts = bank::parse(&raw).map_err(|e| in_file(&e))?;
    let stmts = pick_account(stmts, a.account.as_deref()).map_err(|e| in_file(&e))?;
    let format = stmts.first().map(|s| s.format);
    let combined = desk::combine(stmts).map_err(|e| in_file(&e))?;
    Ok((sha, format, combined))
}

/// The books of the fund and of the other funds the account keeps (`--with-fund`).
fn fund_books(client: &Client, fund: &FundId, with_funds: &[String]) -> CmdResult<(FundBooks, Vec<FundBooks>)> {
    let books = books::from_server(client, fund.as_str(), false)?;
    let mut others = Vec::new();
    for g in with_funds {
        let gid: FundId = g.parse().input_ctx(format!("--with-fund {g}"))?;
        if &gid == fund || others.iter().any(|o: &FundBooks| o.id == gid) {
            return Err(CmdError::usage(anyhow!("--with-fund {g} is given twice (or is the fund itself)")));
        }
        others.push(books::from_server(client, gid.as_str(), false)?);
    }
    Ok((books, others))
}

/// Keep the statements of one account: the one given with `--account`, or the only one.
fn pick_account(stmts: Vec<bank::Statement>, account: Option<&str>) -> Result<Vec<bank::Statement>, String> {
    desk::select_account(stmts, account).map_err(|e| match e {
        desk::DeskError::AccountNotChosen { .. } => format!("{e}; pick one with --account"),
        _ => e.to_string(),
    })
}

/// The `reconciliation` entry's body as JSON, to sign.
fn body_json(an: &Analysis) -> CmdResult<Value> {
    serde_json::to_value(&an.body).map_err(|e| CmdError::io(anyhow!("cannot encode the reconciliation entry: {e}")))
}

fn read_statement(p: &Path) -> CmdResult<Vec<u8>> {
    let meta = std::fs::metadata(p).input_ctx(format!("cannot read the statement {}", p.display()))?;
    if meta.len() > bank::STATEMENT_BYTES_MAX as u64 {
        return Err(CmdError::input(anyhow!(
            "{}: {} bytes, more than the {} accepted",
            p.display(),
            meta.len(),
            bank::STATEMENT_BYTES_MAX
        )));
    }
    std::fs::read(p).input_ctx(format!("cannot read the statement {}", p.display()))
}

/// Pin the lines matched to the fund's entries: they are confirmed by `reconciliation`.
fn pin_matched(an: &Analysis, reconciliation: EntryId, sha: &str, family: &str, state: &mut ReconcileState) -> usize {
    let mut n = 0;
    for m in &an.report.matched {
        if an.fund_of(&m.item.entry_id) != Some(&an.fund) {
            continue;
        }
        if let Ok(entry) = m.item.entry_id.parse::<EntryId>() {
            let line = PinnedLine {
                entry,
                reconciliation,
                statement_sha256: sha.to_string(),
                format: family.to_string(),
                booking_date: m.line.booking_date.to_string(),
            };
            state.pin(&an.fund, &m.line.key, line);
            n += 1;
        }
    }
    n
}

/// The same file was recorded before: lines that match exactly one entry confirmed by that
/// very reconciliation are its lines; remember their keys (rebuilds a lost state file).
fn pin_recorded_before(
    an: &Analysis,
    books: &FundBooks,
    id: EntryId,
    sha: &str,
    family: &str,
    state: &mut ReconcileState,
) -> usize {
    let by: BTreeMap<String, Option<EntryId>> = books
        .contributions
        .iter()
        .map(|c| (c.id.to_hex(), c.confirmed_by()))
        .chain(books.disbursements.iter().map(|d| (d.id.to_hex(), d.confirmed_by)))
        .collect();
    let mut n = 0;
    for ac in &an.report.already_confirmed {
        if ac.how != ConfirmedHow::ItemConfirmedEarlier || ac.entry_ids.len() != 1 {
            continue;
        }
        let e = &ac.entry_ids[0];
        if by.get(e).copied().flatten() != Some(id) {
            continue;
        }
        if let Ok(entry) = e.parse::<EntryId>() {
            let line = PinnedLine {
                entry,
                reconciliation: id,
                statement_sha256: sha.to_string(),
                format: family.to_string(),
                booking_date: ac.line.booking_date.to_string(),
            };
            state.pin(&an.fund, &ac.line.key, line);
            n += 1;
        }
    }
    n
}

fn print_report(
    a: &ReconcileArgs,
    format: Option<Format>,
    an: &Analysis,
    recorded: &Recorded,
    notes: &[String],
) -> CmdResult {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let r = if a.json {
        writeln!(out, "{}", json_report(a, format, an, recorded))
    } else if a.csv {
        for n in notes {
            eprintln!("{n}");
        }
        if let Some(line) = record_line(a, an, recorded) {
            eprintln!("{line}");
        }
        out.write_all(csv_report(an).as_bytes())
    } else {
        out.write_all(human_report(a, format, an, recorded, notes).as_bytes())
    };
    r.input_ctx("writing the report")?;
    out.flush().input_ctx("writing the report")
}

/// The key family of a format: `camt053` or `mt940`.
fn format_family(f: Option<Format>) -> &'static str {
    match f {
        Some(Format::Mt940) => "mt940",
        _ => "camt053",
    }
}

fn format_name(f: Option<Format>) -> String {
    match f {
        Some(Format::Camt053 { version }) => format!("camt.053.001.{version:02}"),
        Some(Format::Mt940) => "MT940".into(),
        None => "?".into(),
    }
}

// ---------------------------------------------------------------------------------------
// JSON

fn json_report(a: &ReconcileArgs, format: Option<Format>, an: &Analysis, recorded: &Recorded) -> Value {
    let s = &an.statement;
    let report = serde_json::to_value(&an.report).unwrap_or(Value::Null);
    let (recorded_v, before) = match recorded {
        Recorded::Now(v) => (v.clone(), Value::Null),
        Recorded::Before(id) => (Value::Null, json!(id.to_hex())),
        _ => (Value::Null, an.recorded_before.map(|i| json!(i.to_hex())).unwrap_or(Value::Null)),
    };
    json!({
        "fund": an.fund,
        "with_funds": an.with_funds,
        "statement": {
            "file": a.statement.display().to_string(),
            "sha256": an.statement_sha256,
            "format": format_name(format),
            "id": s.id,
            "period_from": s.period_from.to_string(),
            "period_to": s.period_to.to_string(),
            "opening": dec(s.opening.amount),
            "closing": dec(s.closing.amount),
            "lines": s.lines.len(),
            "skipped_unbooked": s.skipped_unbooked,
        },
        "file_check": an.file_check,
        "matched": report["matched"],
        "missing_from_ledger": report["missing_from_ledger"],
        "ambiguous": report["ambiguous"],
        "not_seen_at_bank": report["not_seen_at_bank"],
        "already_confirmed": report["already_confirmed"],
        "hints": an.hints,
        "balance": an.balance,
        "explained": an.all_explained(),
        "unexplained": an.unexplained(),
        "entry": an.body,
        "dry_run": a.dry_run,
        "recorded": recorded_v,
        "recorded_before": before,
    })
}

fn dec(d: Decimal) -> String {
    ledger::money::two_decimals(d)
}

// ---------------------------------------------------------------------------------------
// Human table

fn signed(l: &BankLine) -> String {
    match l.direction {
        Direction::Credit => format!("+{}", dec(l.amount)),
        Direction::Debit => format!("-{}", dec(l.amount)),
    }
}

/// The most telling reference of a line, shortened.
fn line_ref(l: &BankLine) -> String {
    let r = &l.refs;
    let v = r
        .end_to_end_id
        .as_deref()
        .or(r.creditor_reference.as_deref())
        .or(r.remittance_text.as_deref())
        .or(r.acct_svcr_ref.as_deref())
        .unwrap_or("");
    cut(v, 28)
}

fn cut(s: &str, n: usize) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= n {
        clean
    } else {
        let mut t: String = clean.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn item_text(i: &LedgerItem, an: &Analysis) -> String {
    let fund = match an.fund_of(&i.entry_id) {
        Some(f) if f != &an.fund => format!(" [fund {f}]"),
        _ => String::new(),
    };
    format!(
        "{} {:<12} {:<24} {:>12} {} ref {}{fund}",
        short(&i.entry_id),
        desk::kind_word(i.kind),
        cut(&i.member, 24),
        dec(i.amount),
        i.date,
        cut(&i.reference, 28)
    )
}

fn method_word(m: MatchMethod) -> &'static str {
    match m {
        MatchMethod::Reference => "reference",
        MatchMethod::AmountDate => "amount+date",
        MatchMethod::AmountDateIban => "amount+date+IBAN",
    }
}

fn line_text(l: &BankLine) -> String {
    format!("{}  {:>13}  {:<28}", l.booking_date, signed(l), line_ref(l))
}

fn counterparty(l: &BankLine) -> String {
    match (&l.counterparty_name, l.direction) {
        (Some(n), Direction::Credit) => format!("  from {}", cut(n, 30)),
        (Some(n), Direction::Debit) => format!("  to {}", cut(n, 30)),
        (None, _) => String::new(),
    }
}

fn human_report(
    a: &ReconcileArgs,
    format: Option<Format>,
    an: &Analysis,
    recorded: &Recorded,
    notes: &[String],
) -> String {
    let mut o = String::new();
    write_header_and_file_check(&mut o, a, format, an);
    write_matched_and_missing(&mut o, an);
    write_ambiguous_and_confirmed(&mut o, an);
    write_balance_and_result(&mut o, a, an, recorded, notes);
    o
}

/// The statement, the file and the file's own balance check.
fn write_header_and_file_check(o: &mut String, a: &ReconcileArgs, format: Option<Format>, an: &Analysis) {
    use std::fmt::Write as _;
    let s = &an.statement;
    let _ = writeln!(
        o,
        "fund {} · statement {} ({}) · {} … {} · {} bank lines",
        an.fund,
        s.id,
        format_name(format),
        s.period_from,
        s.period_to,
        s.lines.len()
    );
    if !an.with_funds.is_empty() {
        let w: Vec<String> = an.with_funds.iter().map(|f| f.to_string()).collect();
        let _ = writeln!(o, "the account also keeps fund(s) {}", w.join(", "));
    }
    let _ = writeln!(o, "file {} (sha256 {})", a.statement.display(), an.statement_sha256);
    if s.skipped_unbooked > 0 {
        let _ = writeln!(o, "{} entries not booked yet (pending) are left out", s.skipped_unbooked);
    }
    let fc = &an.file_check;
    let t = &fc.total;
    let _ = writeln!(
        o,
        "\nfile check: opening {} + in {} − out {} = {}; the statement says {}: {}",
        dec(t.opening),
        dec(t.credits),
        dec(t.debits),
        dec(t.expected_closing),
        dec(t.stated_closing),
        if fc.ok { "adds up".to_string() } else { format!("DOES NOT ADD UP (difference {})", dec(t.difference)) }
    );
    if fc.parts.len() > 1 {
        for (i, p) in fc.parts.iter().enumerate() {
            let _ = writeln!(
                o,
                "  statement {} {} {} … {}: opening {}, closing {}, {} lines: {}",
                i + 1,
                p.id,
                p.period_from,
                p.period_to,
                dec(p.opening),
                dec(p.closing),
                p.lines,
                if p.check.is_ok() {
                    "adds up".to_string()
                } else {
                    format!("does not add up (difference {})", dec(p.check.difference))
                }
            );
        }
        for b in &fc.chain_breaks {
            let _ = writeln!(
                o,
                "  statement {} opens at {} but the one before closed at {}",
                b.statement,
                dec(b.opening),
                dec(b.previous_closing)
            );
        }
    }
}

/// Matched lines, bank lines missing from the ledger and entries not seen at the bank.
fn write_matched_and_missing(o: &mut String, an: &Analysis) {
    use std::fmt::Write as _;
    let r = &an.report;
    let _ = writeln!(o, "\nmatched ({})", r.matched.len());
    for m in &r.matched {
        let _ = writeln!(o, "  {} → {}  by {}", line_text(&m.line), item_text(&m.item, an), method_word(m.method));
    }
    let _ = writeln!(o, "\nbank lines missing from the ledger ({})", r.missing_from_ledger.len());
    for m in &r.missing_from_ledger {
        let why = match &m.reason {
            UnmatchedReason::NoCandidate => "no entry has its reference, nor its amount near its date".to_string(),
            UnmatchedReason::Reversal => {
                "the bank reversed or returned an earlier booking: never matched as new money (see its hint)"
                    .to_string()
            }
            UnmatchedReason::AmountDiffers { .. } => "an entry has its reference but another amount".to_string(),
        };
        let _ = writeln!(o, "  {}{}  {why}", line_text(&m.line), counterparty(&m.line));
        if let UnmatchedReason::AmountDiffers { candidates } = &m.reason {
            for c in candidates {
                let _ = writeln!(o, "      entry {}", item_text(c, an));
            }
        }
        if let Some(h) = an.hints.get(&m.line.key) {
            let _ = writeln!(o, "      hint: {h}");
        }
    }
    let _ = writeln!(o, "\nledger entries not seen at the bank ({})", r.not_seen_at_bank.len());
    for i in &r.not_seen_at_bank {
        let _ = writeln!(o, "  {}", item_text(i, an));
    }
}

/// Ambiguous lines (meent never picks) and lines that were confirmed before.
fn write_ambiguous_and_confirmed(o: &mut String, an: &Analysis) {
    use std::fmt::Write as _;
    let r = &an.report;
    let _ = writeln!(o, "\nambiguous: several entries could be the line; meent never picks ({})", r.ambiguous.len());
    for amb in &r.ambiguous {
        let _ = writeln!(o, "  {}{}  by {}", line_text(&amb.line), counterparty(&amb.line), method_word(amb.method));
        for c in &amb.candidates {
            let confirmed = if c.already_confirmed { " (confirmed earlier)" } else { "" };
            let _ = writeln!(o, "      candidate {}{confirmed}", item_text(c, an));
        }
        if !amb.competing_lines.is_empty() {
            let _ =
                writeln!(o, "      {} other line(s) of this statement want the same entry", amb.competing_lines.len());
        }
    }
    if !r.ambiguous.is_empty() {
        let _ = writeln!(
            o,
            "  to resolve: map the payers' IBANs (--ibans FILE), or reverse a duplicate pledge, and run again"
        );
    }
    let _ = writeln!(o, "\nalready confirmed ({})", r.already_confirmed.len());
    for ac in &r.already_confirmed {
        let how = match ac.how {
            ConfirmedHow::SameBankLine => "this very bank line confirmed it before",
            ConfirmedHow::ItemConfirmedEarlier => {
                "matches an entry confirmed earlier (most likely this line, in an overlapping statement)"
            }
            ConfirmedHow::ByOtherBankLine => "NOT EXPLAINED: another bank line confirmed this entry; a second payment?",
        };
        let ids: Vec<&str> = ac.entry_ids.iter().map(|i| short(i)).collect();
        let _ = writeln!(o, "  {} → {}  {how}", line_text(&ac.line), ids.join(", "));
    }
}

/// The balance agreement, the result, the dry run's entry and what was recorded.
fn write_balance_and_result(o: &mut String, a: &ReconcileArgs, an: &Analysis, recorded: &Recorded, notes: &[String]) {
    use std::fmt::Write as _;
    let b = &an.balance;
    let base = match &b.base_from {
        BaseSource::Given => "given with --opening".to_string(),
        BaseSource::Reconciliation { id, period_from } => {
            format!("opening balance of the first recorded reconciliation {}, from {period_from}", short(id))
        }
        BaseSource::Statement => "this statement's opening balance".to_string(),
    };
    let _ = writeln!(o, "\nbalance: the bank says {} on {}", dec(b.bank_closing), b.closing_date);
    let _ =
        writeln!(o, "  the ledger explains {} = {} before the ledger ({base})", dec(b.expected_closing), dec(b.base));
    let _ = writeln!(
        o,
        "      + {} confirmed in − {} confirmed out (this statement's matches included)",
        dec(b.confirmed_in),
        dec(b.confirmed_out)
    );
    let _ =
        writeln!(o, "  {}", if b.agrees { "agrees".to_string() } else { format!("DIFFERS by {}", dec(b.difference)) });

    let unexplained = an.unexplained();
    if unexplained.is_empty() {
        let _ = writeln!(o, "\nresult: everything is explained");
    } else {
        let _ = writeln!(o, "\nresult: not everything is explained");
        for u in &unexplained {
            let _ = writeln!(o, "  - {u}");
        }
    }
    if matches!(recorded, Recorded::DryRun) {
        let pretty = serde_json::to_string_pretty(&an.body).unwrap_or_default();
        let _ =
            writeln!(o, "\ndry run: --record would sign this reconciliation entry (nothing was submitted):\n{pretty}");
        if let Some(id) = an.recorded_before {
            let _ =
                writeln!(o, "(but this statement file was recorded before, by {id}: --record would submit nothing)");
        } else if !an.file_check.ok {
            let _ = writeln!(o, "(but --record would refuse: the statement does not add up)");
        }
    }
    if let Some(line) = record_line(a, an, recorded) {
        let _ = writeln!(o, "\n{line}");
    }
    for n in notes {
        let _ = writeln!(o, "{n}");
    }
}

/// One line about the entry: recorded now, recorded before, or how to record.
fn record_line(a: &ReconcileArgs, an: &Analysis, recorded: &Recorded) -> Option<String> {
    let confirms = an.body.confirmed.len();
    let unmatched = an.body.unmatched_bank_lines;
    match recorded {
        Recorded::Now(v) => {
            let b = &v["balances"];
            Some(format!(
                "recorded reconciliation {} as record {}: confirmed {confirms} entries, {unmatched} unmatched bank line(s); {} now: pledged {}, confirmed {}, available {}",
                v["id"].as_str().unwrap_or(""),
                v["seq"],
                an.fund,
                b["pledged"].as_str().unwrap_or(""),
                b["confirmed"].as_str().unwrap_or(""),
                b["available"].as_str().unwrap_or("")
            ))
        }
        Recorded::Before(id) => Some(format!("this statement file was recorded before, by reconciliation {id}: nothing submitted, nothing confirmed twice")),
        Recorded::DryRun => None,
        Recorded::No => {
            if let Some(id) = an.recorded_before {
                Some(format!("this statement file was recorded before, by reconciliation {id}"))
            } else if a.csv || a.json {
                None
            } else {
                Some(format!(
                    "to record: the entry would confirm {confirms} entries with {unmatched} unmatched bank line(s); add --record --key FILE --as TREASURER (or --dry-run to see it)"
                ))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// CSV

/// CSV columns.
pub const CSV_HEADER: &[&str] = &[
    "section",
    "booking_date",
    "direction",
    "amount",
    "bank_reference",
    "end_to_end_id",
    "payment_reference",
    "counterparty",
    "line_key",
    "entry_id",
    "fund",
    "entry_kind",
    "member",
    "entry_amount",
    "entry_date",
    "entry_reference",
    "detail",
];

fn csv_report(an: &Analysis) -> String {
    let mut rows: Vec<Vec<String>> = vec![CSV_HEADER.iter().map(|s| s.to_string()).collect()];
    let no_line = || vec![String::new(); 8];
    let line_cols = csv_line_cols;
    let item_cols = |i: Option<&LedgerItem>| csv_item_cols(an, i);
    let row = |section: &str, l: Vec<String>, i: Vec<String>, detail: String| -> Vec<String> {
        let mut r = vec![section.to_string()];
        r.extend(l);
        r.extend(i);
        r.push(detail);
        r
    };
    let r = &an.report;
    for m in &r.matched {
        rows.push(row("matched", line_cols(&m.line), item_cols(Some(&m.item)), method_word(m.method).into()));
    }
    for m in &r.missing_from_ledger {
        let (why, cands) = match &m.reason {
            UnmatchedReason::NoCandidate => ("no candidate", Vec::new()),
            UnmatchedReason::Reversal => ("bank reversal", Vec::new()),
            UnmatchedReason::AmountDiffers { candidates } => ("reference matches, amount differs", candidates.clone()),
        };
        let hint = an.hints.get(&m.line.key).map(|h| format!("; hint: {h}")).unwrap_or_default();
        if cands.is_empty() {
            rows.push(row("missing_from_ledger", line_cols(&m.line), item_cols(None), format!("{why}{hint}")));
        }
        for c in &cands {
            rows.push(row("missing_from_ledger", line_cols(&m.line), item_cols(Some(c)), format!("{why}{hint}")));
        }
    }
    for amb in &r.ambiguous {
        for c in &amb.candidates {
            let d = format!(
                "ambiguous by {}: candidate {} of {}",
                method_word(amb.method),
                1 + amb.candidates.iter().position(|x| x == c).unwrap_or(0),
                amb.candidates.len()
            );
            rows.push(row("ambiguous", line_cols(&amb.line), item_cols(Some(c)), d));
        }
    }
    for ac in &r.already_confirmed {
        let how = match ac.how {
            ConfirmedHow::SameBankLine => "same bank line",
            ConfirmedHow::ItemConfirmedEarlier => "entry confirmed earlier",
            ConfirmedHow::ByOtherBankLine => "not explained: another bank line confirmed the entry",
        };
        for e in &ac.entry_ids {
            let mut ic = item_cols(None);
            ic[0] = e.clone();
            ic[1] = an.fund_of(e).map(|f| f.to_string()).unwrap_or_default();
            rows.push(row("already_confirmed", line_cols(&ac.line), ic, how.into()));
        }
    }
    for i in &r.not_seen_at_bank {
        rows.push(row("not_seen_at_bank", no_line(), item_cols(Some(i)), "in the ledger, not at the bank".into()));
    }
    csv_summary_rows(an, &mut rows);
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> =
            r.iter().enumerate().map(|(i, c)| ledger::books::journal::csv_cell(c, i != 3 && i != 13)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The bank line's CSV columns.
fn csv_line_cols(l: &BankLine) -> Vec<String> {
    vec![
        l.booking_date.to_string(),
        match l.direction {
            Direction::Credit => "in".into(),
            Direction::Debit => "out".into(),
        },
        dec(l.signed_amount()),
        l.refs.acct_svcr_ref.clone().unwrap_or_default(),
        l.refs.end_to_end_id.clone().unwrap_or_default(),
        l.refs.payment_reference().unwrap_or("").to_string(),
        l.counterparty_name.clone().unwrap_or_default(),
        l.key.clone(),
    ]
}

/// The ledger item's CSV columns (empty without one).
fn csv_item_cols(an: &Analysis, i: Option<&LedgerItem>) -> Vec<String> {
    match i {
        None => vec![String::new(); 7],
        Some(i) => vec![
            i.entry_id.clone(),
            an.fund_of(&i.entry_id).map(|f| f.to_string()).unwrap_or_default(),
            desk::kind_word(i.kind).to_string(),
            i.member.clone(),
            dec(i.amount),
            i.date.to_string(),
            i.reference.clone(),
        ],
    }
}

/// The file check and balance rows, each with its difference as the amount.
fn csv_summary_rows(an: &Analysis, rows: &mut Vec<Vec<String>>) {
    let row = |section: &str, l: Vec<String>, detail: String| -> Vec<String> {
        let mut r = vec![section.to_string()];
        r.extend(l);
        r.extend(csv_item_cols(an, None));
        r.push(detail);
        r
    };
    let fc = &an.file_check;
    let mut l = vec![String::new(); 8];
    l[0] = an.statement.closing.date.to_string();
    l[2] = dec(fc.total.difference);
    rows.push(row(
        "file_check",
        l.clone(),
        if fc.ok {
            "the statement adds up".into()
        } else {
            "the statement does not add up; amount is the difference".into()
        },
    ));
    let b = &an.balance;
    l[2] = dec(b.difference);
    let detail = format!(
        "{}: bank closing {}, ledger explains {} (base {} + in {} - out {}); amount is the difference",
        if b.agrees { "agrees" } else { "differs" },
        dec(b.bank_closing),
        dec(b.expected_closing),
        dec(b.base),
        dec(b.confirmed_in),
        dec(b.confirmed_out)
    );
    rows.push(row("balance", l, detail));
}
