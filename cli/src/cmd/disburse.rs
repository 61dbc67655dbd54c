//! `meent disburse`, `meent approve`, `meent reverse`: money out, and undoing.

use clap::Args;
use ledger::entry::Kind;
use ledger::ids::EntryId;
use ledger::money::Amount;
use serde_json::json;

use super::member::SignArgs;
use crate::exit::CmdResult;

/// `meent disburse`: request a payout of a passed allocation or a selected project (your request is your approval).
#[derive(Debug, Args)]
pub struct DisburseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The passed allocation (or dissolution) proposal's entry id, or a project selected in a budgeting round.
    #[arg(long)]
    allocation: String,
    /// The amount (e.g. 800.00): at most what is left of the allocation.
    #[arg(long)]
    amount: String,
    /// The bank payment's end-to-end id.
    #[arg(long)]
    reference: String,
}

/// Sign and submit a disbursement.
pub fn disburse(a: DisburseArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--allocation", &a.allocation)?;
    let amount: Amount = crate::input::amount("--amount", &a.amount)?;
    a.sign.submit(
        Kind::Disbursement,
        json!({"allocation": id.to_hex(), "amount": amount.to_string(), "reference": a.reference}),
    )?;
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
