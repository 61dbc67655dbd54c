//! `meent proposal list [--fund F] [--open]`: the proposals, with the ids to vote on.

use clap::{Args, Subcommand};
use ledger::funds::ProposalStatus;
use ledger::views::{ProposalList, ProposalView};
use serde_json::json;

use super::fund::{wire, ReadArgs};
use crate::client::Client;
use crate::exit::CmdResult;

/// `meent proposal …`
#[derive(Debug, Subcommand)]
pub enum ProposalCommand {
    /// List proposals in log order: id, fund, kind, status, tally, title.
    #[command(after_help = "Examples:
  meent proposal list --fund warmtefonds-noord --open
  meent proposal list --json | jq -r '.proposals[] | select(.status == \"open\") | .id'
  meent vote --key coop.pem --as energie-coop-noord --proposal 3f2a91c0 --choice yes   # a prefix of 8+ hex")]
    List(ListArgs),
}

/// Arguments of `meent proposal list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this fund's proposals.
    #[arg(long)]
    fund: Option<String>,
    /// Only the proposals still open for votes.
    #[arg(long)]
    open: bool,
    #[command(flatten)]
    read: ReadArgs,
}

/// Run a proposal command.
pub fn run(c: ProposalCommand) -> CmdResult {
    match c {
        ProposalCommand::List(a) => list(a),
    }
}

fn list(a: ListArgs) -> CmdResult {
    let mut query = Vec::new();
    if let Some(f) = &a.fund {
        query.push(format!("fund={f}"));
    }
    if a.open {
        query.push("status=open".to_string());
    }
    let path =
        if query.is_empty() { "/v1/proposals".to_string() } else { format!("/v1/proposals?{}", query.join("&")) };
    let pages = Client::new(&a.read.server)?.get_pages(&path, |p: &ProposalList| p.next)?;
    let proposals: Vec<ProposalView> = pages.into_iter().flat_map(|p| p.proposals).collect();
    if a.read.json {
        println!("{}", json!({"proposals": proposals, "next": null}));
        return Ok(());
    }
    if proposals.is_empty() {
        println!("no proposals{}", if a.open { " open" } else { "" });
        return Ok(());
    }
    println!("{:<12}  {:<24} {:<12} {:<22} {:<16} title", "id", "fund", "kind", "status", "yes/no/abstain");
    for p in &proposals {
        let status = match p.status {
            ProposalStatus::Open => {
                format!("open until {}", &p.closes_at.as_str()[..10.min(p.closes_at.as_str().len())])
            }
            _ => p.outcome.map(|o| wire(&o)).unwrap_or_else(|| wire(&p.status)),
        };
        let tally = format!("{}/{}/{} of {}", p.tally.yes, p.tally.no, p.tally.abstain, p.counted.len());
        let amount = p.amount.map(|a| format!(" ({a} EUR)")).unwrap_or_default();
        println!(
            "{:<12}  {:<24} {:<12} {:<22} {:<16} {}{amount}",
            &p.id.to_hex()[..12],
            p.fund.as_str(),
            wire(&p.proposal_kind),
            status,
            tally,
            p.title
        );
    }
    Ok(())
}
