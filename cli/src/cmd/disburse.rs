//! `meent disburse`, `meent approve`, `meent reverse`: money out, and undoing.

use clap::{Args, ValueEnum};
use ledger::entry::Kind;
use ledger::ids::EntryId;
use ledger::money::Amount;
use serde_json::json;

use super::member::SignArgs;
use crate::exit::CmdResult;

/// What a cost pays for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CostCategoryArg {
    /// The bank's fees.
    BankFee,
    /// Administration.
    Administration,
    /// Insurance.
    Insurance,
    /// Anything else.
    Other,
}

/// `meent disburse`: request a payout of a passed allocation, a selected
/// project or a refund, or a cost (your request is your approval).
#[derive(Debug, Args)]
pub struct DisburseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The passed allocation (or dissolution) proposal's entry id, or a project selected in a budgeting round.
    #[arg(long, required_unless_present = "cost", conflicts_with = "cost")]
    allocation: Option<String>,
    /// The amount (e.g. 800.00): at most what is left of the allocation (or the charter's max_cost).
    #[arg(long)]
    amount: String,
    /// The bank payment's end-to-end id.
    #[arg(long)]
    reference: String,
    /// Who is paid: required for a refund after a dissolution; checked for an allocation.
    #[arg(long)]
    recipient: Option<String>,
    /// A cost instead of an allocation: its category (needs --fund, --payee).
    #[arg(long, value_enum, requires_all = ["fund", "payee"])]
    cost: Option<CostCategoryArg>,
    /// The fund (required with --cost).
    #[arg(long)]
    fund: Option<String>,
    /// A cost's payee (an organisation).
    #[arg(long)]
    payee: Option<String>,
    /// What a cost is for.
    #[arg(long, default_value = "")]
    description: String,
}

/// Sign and submit a disbursement.
pub fn disburse(a: DisburseArgs) -> CmdResult {
    let amount: Amount = crate::input::amount("--amount", &a.amount)?;
    let mut body = json!({"amount": amount.to_string(), "reference": a.reference});
    if let Some(alloc) = &a.allocation {
        let id: EntryId = crate::input::entry_id(&a.sign.server, "--allocation", alloc)?;
        body["allocation"] = json!(id.to_hex());
    }
    if let Some(r) = a.recipient {
        body["recipient"] = json!(r);
    }
    if let Some(f) = a.fund {
        body["fund"] = json!(f);
    }
    if let Some(c) = a.cost {
        let category = match c {
            CostCategoryArg::BankFee => "bank_fee",
            CostCategoryArg::Administration => "administration",
            CostCategoryArg::Insurance => "insurance",
            CostCategoryArg::Other => "other",
        };
        body["cost"] =
            json!({"category": category, "payee": a.payee.unwrap_or_default(), "description": a.description});
    }
    a.sign.submit(Kind::Disbursement, body)?;
    Ok(())
}

/// `meent release`: the recipient gives back what is unpaid of its allocation.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The allocation (passed proposal or selected project).
    #[arg(long)]
    allocation: String,
    /// Why (public).
    #[arg(long)]
    reason: String,
}

/// Sign and submit an `allocation.release`.
pub fn release(a: ReleaseArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--allocation", &a.allocation)?;
    a.sign.submit(Kind::AllocationRelease, json!({"allocation": id.to_hex(), "reason": a.reason}))?;
    Ok(())
}

/// `meent approve`: approve another treasurer's payout request.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The disbursement's entry id.
    #[arg(long)]
    disbursement: String,
}

/// Sign and submit an approval.
pub fn approve(a: ApproveArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--disbursement", &a.disbursement)?;
    a.sign.submit(Kind::DisbursementApprove, json!({"disbursement": id.to_hex()}))?;
    Ok(())
}

/// `meent reverse`: undo a contribution that never arrived, or a pending payout request.
#[derive(Debug, Args)]
pub struct ReverseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The contribution's or disbursement's entry id.
    #[arg(long)]
    entry: String,
    /// Why (public).
    #[arg(long)]
    reason: String,
}

/// Sign and submit a reversal.
pub fn reverse(a: ReverseArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--entry", &a.entry)?;
    a.sign.submit(Kind::Reversal, json!({"entry": id.to_hex(), "reason": a.reason}))?;
    Ok(())
}
