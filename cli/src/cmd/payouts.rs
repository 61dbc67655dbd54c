//! `meent payouts pending [--as ME] [--fund F]`: payout requests waiting for
//! approvals, or, with `--as`, the ones waiting for mine.

use clap::{Args, Subcommand};
use ledger::funds::DisbursementStatus;
use ledger::ids::{FundId, MemberId};
use ledger::views::{DisbursementView, FlowsView, FundList, FundSummary, FundView};
use serde_json::json;

use super::fund::{wire, ReadArgs};
use crate::client::Client;
use crate::exit::CmdResult;

/// `meent payouts …`
#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Payout requests still waiting for approvals; with --as, those you may approve.
    #[command(after_help = "A treasurer may approve a request they did not make and are not paid by.

Examples:
  meent payouts pending --as gemeente-amsterdam
  meent payouts pending --fund warmtefonds-noord --json
  meent approve --key gemeente.pem --as gemeente-amsterdam --disbursement 9c41d2e7   # a prefix of 8+ hex")]
    Pending(PendingArgs),
}

/// Arguments of `meent payouts pending`.
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Only the requests this member (a treasurer) may still approve.
    #[arg(long = "as", value_name = "ID")]
    as_id: Option<String>,
    /// Only this fund's requests.
    #[arg(long)]
    fund: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
}

/// Run a payouts command.
pub fn run(c: PayoutsCommand) -> CmdResult {
    match c {
        PayoutsCommand::Pending(a) => pending(a),
    }
}

/// Whether `me` may approve `d` in a fund with these treasurers: a treasurer
/// who has not approved it (a request is its requester's approval) and is not paid by it.
pub fn waits_for(d: &DisbursementView, treasurers: &[MemberId], me: &str) -> bool {
    d.status == DisbursementStatus::Pending
        && treasurers.iter().any(|t| t.as_str() == me)
        && d.recipient.as_ref().map(|r| r.as_str()) != Some(me)
        && d.requested_by.as_str() != me
        && !d.approvals.iter().any(|a| a.as_str() == me)
}

fn pending(a: PendingArgs) -> CmdResult {
    let client = Client::new(&a.read.server)?;
    let funds: Vec<(FundId, Vec<MemberId>)> = match &a.fund {
        Some(f) => {
            let v: FundView = client.get(&format!("/v1/funds/{f}"))?;
            vec![(v.id, v.treasurers)]
        }
        None => client
            .get_pages("/v1/funds", |p: &FundList| p.next)?
            .into_iter()
            .flat_map(|p| p.funds)
            .map(|f: FundSummary| (f.id, f.treasurers))
            .collect(),
    };
    let mut waiting: Vec<(DisbursementView, Vec<String>)> = Vec::new();
    for (id, treasurers) in &funds {
        if let Some(me) = &a.as_id {
            if !treasurers.iter().any(|t| t.as_str() == me) {
                continue;
            }
        }
        let flows: FlowsView = client.get(&format!("/v1/funds/{id}/flows"))?;
        for d in flows.disbursements {
            if d.status != DisbursementStatus::Pending {
                continue;
            }
            let may: Vec<String> = treasurers
                .iter()
                .filter(|t| waits_for(&d, treasurers, t.as_str()))
                .map(|t| t.as_str().to_string())
                .collect();
            if a.as_id.as_deref().is_none_or(|me| may.iter().any(|m| m == me)) {
                waiting.push((d, may));
            }
        }
    }
    if a.read.json {
        let items: Vec<_> = waiting.iter().map(|(d, may)| json!({"disbursement": d, "may_approve": may})).collect();
        println!("{}", json!({"pending": items}));
        return Ok(());
    }
    if waiting.is_empty() {
        match &a.as_id {
            Some(me) => println!("nothing waits for {me}'s approval"),
            None => println!("no payout request is waiting for approvals"),
        }
        return Ok(());
    }
    for (d, may) in &waiting {
        println!(
            "{}  {} EUR to {} from {} ({}), requested by {}; approvals {}/{} ({}); may approve: {}",
            &d.id.to_hex()[..12],
            d.amount,
            d.recipient.as_ref().map_or("(a cost)", |r| r.as_str()),
            d.fund.as_str(),
            wire(&d.payout),
            d.requested_by.as_str(),
            d.approvals.len(),
            d.approvals_required,
            d.approvals.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
            may.join(", ")
        );
    }
    Ok(())
}
