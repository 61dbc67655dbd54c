//! `meent report`: a fund's period statement (SPEC §4.5), from the server's
//! `GET /v1/funds/{id}/statement`, as text, JSON or CSV. The numbers are the
//! server's; this command checks that they add up before it prints them.

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use ledger::ids::FundId;
use ledger::time::Date;
use ledger::views::StatementView;

use crate::client::{Client, DEFAULT_SERVER};
use crate::exit::{CmdError, CmdResult, InputContext};

/// How to print the statement.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// A readable statement.
    Text,
    /// The statement view as JSON.
    Json,
    /// `section,item,detail,amount` lines, for a spreadsheet.
    Csv,
}

/// `meent report`: opening balance, money in by kind, money out by allocation
/// and recipient and costs by category, closing balance, what was pending.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The fund.
    #[arg(long)]
    fund: String,
    /// The first day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: String,
    /// The last day, YYYY-MM-DD (UTC, inclusive).
    #[arg(long)]
    to: String,
    /// Text, JSON or CSV.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// The meent server.
    #[arg(long, default_value = DEFAULT_SERVER, env = "MEENT_SERVER")]
    server: String,
}

/// Fetch, check and print a statement.
pub fn run(a: ReportArgs) -> CmdResult {
    let fund: FundId = a.fund.parse().input_ctx("--fund")?;
    let from: Date = a.from.parse().input_ctx("--from")?;
    let to: Date = a.to.parse().input_ctx("--to")?;
    if from > to {
        return Err(CmdError::input(anyhow!("--from {from} is after --to {to}")));
    }
    let s: StatementView = Client::new(&a.server)?.get(&format!("/v1/funds/{fund}/statement?from={from}&to={to}"))?;
    check(&s)?;
    let out = match a.format {
        ReportFormat::Json => serde_json::to_string_pretty(&s).map_err(|e| CmdError::failed(anyhow!("{e}")))?,
        ReportFormat::Csv => s.csv(),
        ReportFormat::Text => text(&s),
    };
    println!("{out}");
    Ok(())
}

/// Opening + in − out = closing, to the cent.
pub fn check(s: &StatementView) -> CmdResult {
    let closing = s
        .opening_balance
        .checked_add(s.money_in.total)
        .and_then(|b| b.checked_sub(s.money_out.total))
        .map_err(|e| CmdError::failed(anyhow!("the statement's sums overflow: {e}")))?;
    if closing != s.closing_balance {
        return Err(CmdError::failed(anyhow!(
            "the statement does not add up: opening {} + in {} − out {} = {closing}, not the closing {}",
            s.opening_balance,
            s.money_in.total,
            s.money_out.total,
            s.closing_balance
        )));
    }
    Ok(())
}

fn text(s: &StatementView) -> String {
    let mut out = format!("{} ({}): statement {} to {}\n", s.name, s.fund, s.from, s.to);
    let mut last = "";
    for (section, item, detail, amount) in s.lines() {
        if section != last {
            out.push_str(&format!("\n{section}\n"));
            last = section;
        }
        let label = if detail.is_empty() { item } else { format!("{item} {detail}") };
        out.push_str(&format!("  {label:<60} {amount:>14}\n"));
    }
    out.push_str("\nopening + in − out = closing: checked to the cent.");
    out
}
