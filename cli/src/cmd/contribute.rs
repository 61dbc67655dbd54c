//! `meent contribute` and `meent pledge`: money in.

use clap::Args;
use ledger::entry::Kind;
use ledger::money::{Amount, Ratio};
use ledger::time::Date;
use serde_json::json;

use super::member::SignArgs;
use crate::exit::{CmdResult, InputContext};

/// `meent contribute`: announce a bank transfer to a fund (pledged until a reconciliation confirms it).
#[derive(Debug, Args)]
pub struct ContributeArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The fund.
    #[arg(long)]
    fund: String,
    /// The amount in euros (250, 250.00, 12,50 or € 12,50; echoed as signed).
    #[arg(long)]
    amount: String,
    /// The payment reference you put on the bank transfer.
    #[arg(long)]
    reference: String,
    /// A note (public: no personal data).
    #[arg(long)]
    note: Option<String>,
    /// A municipality's payment that settles its matching pledge: the pledge's entry id.
    #[arg(long)]
    matching: Option<String>,
}

/// Sign and submit a contribution.
pub fn contribute(a: ContributeArgs) -> CmdResult {
    let amount: Amount = crate::input::amount("--amount", &a.amount)?;
    let mut body = json!({"fund": a.fund, "amount": amount.to_string(), "reference": a.reference});
    if let Some(n) = a.note {
        body["note"] = json!(n);
    }
    if let Some(m) = a.matching {
        let id: ledger::ids::EntryId = m.parse().input_ctx("--matching")?;
        body["matching"] = json!(id.to_hex());
    }
    a.sign.submit(Kind::Contribution, body)?;
    Ok(())
}

/// `meent pledge`: the municipality's matching pledge.
#[derive(Debug, Args)]
pub struct PledgeArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The fund.
    #[arg(long)]
    fund: String,
    /// Euros matched per euro the collectives give (e.g. 1.0).
    #[arg(long)]
    ratio: String,
    /// The most the pledge will owe (e.g. 50000.00).
    #[arg(long)]
    cap: String,
    /// The last day of the pledge, YYYY-MM-DD.
    #[arg(long)]
    until: String,
}

/// Sign and submit a matching pledge.
pub fn pledge(a: PledgeArgs) -> CmdResult {
    let ratio: Ratio = a.ratio.parse().input_ctx("--ratio")?;
    let cap: Amount = crate::input::amount("--cap", &a.cap)?;
    let until: Date = a.until.parse().input_ctx("--until")?;
    a.sign.submit(
        Kind::PledgeMatching,
        json!({"fund": a.fund, "ratio": ratio.to_string(), "cap": cap.to_string(), "until": until.to_string()}),
    )?;
    Ok(())
}

/// Where outside money comes from.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SourceKindArg {
    /// A gift.
    Donation,
    /// A grant from a foundation or a government.
    Grant,
    /// Interest paid by the bank.
    Interest,
    /// Anything else.
    Other,
}

/// `meent income`: money from outside the members (treasurers), pledged until reconciled.
#[derive(Debug, Args)]
pub struct IncomeArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The fund.
    #[arg(long)]
    fund: String,
    /// The amount (e.g. 5000.00).
    #[arg(long)]
    amount: String,
    /// Donation, grant, interest or other.
    #[arg(long = "source-kind", value_enum)]
    source_kind: SourceKindArg,
    /// A public label of the source (a foundation's name, never a private person's), at most 80 characters.
    #[arg(long)]
    source: String,
    /// The payment reference on the bank line.
    #[arg(long)]
    reference: String,
}

/// Sign and submit an income.
pub fn income(a: IncomeArgs) -> CmdResult {
    let amount: Amount = a.amount.parse().input_ctx("--amount")?;
    let kind = match a.source_kind {
        SourceKindArg::Donation => "donation",
        SourceKindArg::Grant => "grant",
        SourceKindArg::Interest => "interest",
        SourceKindArg::Other => "other",
    };
    let body = json!({"fund": a.fund, "amount": amount.to_string(), "source_kind": kind, "source": a.source, "reference": a.reference});
    a.sign.submit(Kind::Income, body)?;
    Ok(())
}
