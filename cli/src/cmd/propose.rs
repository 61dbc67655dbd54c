//! `meent propose`, `meent vote`, `meent close`: the governance commands.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use ledger::entry::Kind;
use ledger::ids::EntryId;
use ledger::money::Amount;
use serde_json::json;

use super::fund::{read_charter, wire};
use super::member::SignArgs;
use crate::client::Client;
use crate::exit::{CmdError, CmdResult};
use ledger::funds::ProposalStatus;
use ledger::views::ProposalView;

/// What a proposal decides.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProposalKindArg {
    /// Money for a recipient: needs --amount and --recipient.
    Allocation,
    /// A new member: needs --member.
    Admission,
    /// A new charter: needs --charter FILE.
    Charter,
    /// End the fund and refund the contributors.
    Dissolution,
}

/// `meent propose`
#[derive(Debug, Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The fund.
    #[arg(long)]
    fund: String,
    /// What it decides.
    #[arg(long = "kind", value_enum)]
    kind: ProposalKindArg,
    /// A short title.
    #[arg(long)]
    title: String,
    /// The description.
    #[arg(long, default_value = "")]
    description: String,
    /// Allocation: the amount (e.g. 1200.00).
    #[arg(long)]
    amount: Option<String>,
    /// Allocation: who receives it.
    #[arg(long)]
    recipient: Option<String>,
    /// Admission: the member to admit.
    #[arg(long)]
    member: Option<String>,
    /// Charter: the new charter as a JSON file.
    #[arg(long, value_name = "FILE")]
    charter: Option<PathBuf>,
}

fn need<T>(v: Option<T>, flag: &str, kind: &str) -> CmdResult<T> {
    v.ok_or_else(|| CmdError::input(anyhow!("a {kind} proposal needs {flag}")))
}

/// Sign and submit a proposal.
pub fn propose(a: ProposeArgs) -> CmdResult {
    let mut body = json!({"fund": a.fund, "title": a.title, "description": a.description});
    let kind = match a.kind {
        ProposalKindArg::Allocation => {
            let amount: Amount = crate::input::amount("--amount", &need(a.amount, "--amount", "allocation")?)?;
            body["amount"] = json!(amount.to_string());
            body["recipient"] = json!(need(a.recipient, "--recipient", "allocation")?);
            "allocation"
        }
        ProposalKindArg::Admission => {
            body["member"] = json!(need(a.member, "--member", "admission")?);
            "admission"
        }
        ProposalKindArg::Charter => {
            body["charter"] = read_charter(&need(a.charter, "--charter FILE", "charter")?)?;
            "charter"
        }
        ProposalKindArg::Dissolution => "dissolution",
    };
    body["proposal_kind"] = json!(kind);
    a.sign.submit(Kind::Proposal, body)?;
    Ok(())
}

/// A vote's choice.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChoiceArg {
    /// For.
    Yes,
    /// Against.
    No,
    /// Counted for the quorum only.
    Abstain,
}

/// `meent vote`: a later vote before the close replaces your earlier one.
#[derive(Debug, Args)]
pub struct VoteArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The proposal's entry id.
    #[arg(long)]
    proposal: String,
    /// Your choice.
    #[arg(long, value_enum)]
    choice: ChoiceArg,
}

/// Sign and submit a vote.
pub fn vote(a: VoteArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--proposal", &a.proposal)?;
    let choice = match a.choice {
        ChoiceArg::Yes => "yes",
        ChoiceArg::No => "no",
        ChoiceArg::Abstain => "abstain",
    };
    let before = Client::new(&a.sign.server)?.get::<ProposalView>(&format!("/v1/proposals/{id}")).ok();
    let earlier = before.and_then(|p| p.votes.into_iter().find(|v| v.member.as_str() == a.sign.as_id));
    a.sign.submit(Kind::Vote, json!({"proposal": id.to_hex(), "choice": choice}))?;
    if let Some(v) = earlier {
        eprintln!("this replaces your vote of {} (entry {}, record {})", wire(&v.choice), v.id, v.seq);
    }
    Ok(())
}

/// `meent close`: record a proposal's outcome once its deadline passed or every counted member voted.
#[derive(Debug, Args)]
pub struct CloseArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The proposal's entry id.
    #[arg(long)]
    proposal: String,
}

/// Sign and submit a close, then show the outcome.
pub fn close(a: CloseArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--proposal", &a.proposal)?;
    let client = Client::new(&a.sign.server)?;
    let before: ProposalView = client.get(&format!("/v1/proposals/{id}"))?;
    if before.status == ProposalStatus::Closed {
        // Closed already (the server closes proposals when they are due): nothing to sign.
        if a.sign.json {
            println!("{}", json!(before));
        } else {
            println!("already closed by record {}", before.closed_seq.map(|s| s.to_string()).unwrap_or_default());
            print_outcome(&before);
        }
        return Ok(());
    }
    a.sign.submit(Kind::ProposalClose, json!({"proposal": id.to_hex()}))?;
    if !a.sign.json {
        print_outcome(&client.get(&format!("/v1/proposals/{id}"))?);
    }
    Ok(())
}

fn print_outcome(p: &ProposalView) {
    let t = &p.tally;
    println!(
        "{}: {} (yes {}, no {}, abstain {} of {} counted)",
        p.title,
        p.outcome.map(|o| wire(&o)).unwrap_or_default(),
        t.yes,
        t.no,
        t.abstain,
        p.counted.len()
    );
}
