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
    /// A budgeting round, opened when the vote passes: needs --budget, --rule, --projects-days, --voting-days.
    Round,
    /// End a passed allocation against its recipient's will (--allocation), or a running round and release its budget (--round).
    Cancellation,
    /// Remove a member from the fund: needs --member and --reason.
    Exclusion,
}

const PROPOSE_EXAMPLES: &str = "Examples:
  meent propose --key coop.pem --as energie-coop-noord --fund warmtefonds-noord --kind allocation \\
      --title 'Tools for the repair café' --amount 1200.00 --recipient buurtwerkplaats-zuid
  meent propose --key coop.pem --as energie-coop-noord --fund warmtefonds-noord --kind round \\
      --title 'Winter budget' --budget 2000.00 --rule equal_shares --projects-days 7 --voting-days 7
  meent propose --key coop.pem --as energie-coop-noord --fund warmtefonds-noord --kind cancellation \\
      --title 'Stop the winter round' --round <round id>
  meent propose --key coop.pem --as energie-coop-noord --fund warmtefonds-noord --kind exclusion \\
      --title 'Exclude a dormant member' --member slapend-collectief --reason 'no sign of life for a year'

A round opens when its proposal passes; its windows count in whole days from the close.
The recipient of an allocation, and the member an exclusion is about, do not vote on it.";

/// `meent propose`
#[derive(Debug, Args)]
#[command(after_help = PROPOSE_EXAMPLES)]
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
    /// Admission: the member to admit; exclusion: the member to exclude.
    #[arg(long)]
    member: Option<String>,
    /// Charter: the new charter as a JSON file.
    #[arg(long, value_name = "FILE")]
    charter: Option<PathBuf>,
    /// Round: the budget (e.g. 2000.00), committed when the vote passes.
    #[arg(long)]
    budget: Option<String>,
    /// Round: how projects are selected.
    #[arg(long, value_enum)]
    rule: Option<super::round::RuleArg>,
    /// Round: days for projects, from the vote's close (at least 1).
    #[arg(long)]
    projects_days: Option<u32>,
    /// Round: days for ballots, after the projects (at least 1).
    #[arg(long)]
    voting_days: Option<u32>,
    /// Cancellation: the running round to end (or give --allocation).
    #[arg(long)]
    round: Option<String>,
    /// Exclusion: why (public, in the log for ever; no personal data).
    #[arg(long)]
    reason: Option<String>,
    /// Cancellation: the passed allocation (or selected project) to end.
    #[arg(long)]
    allocation: Option<String>,
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
        ProposalKindArg::Round => {
            let budget: Amount = crate::input::amount("--budget", &need(a.budget, "--budget", "round")?)?;
            body["budget"] = json!(budget.to_string());
            body["rule"] = json!(match need(a.rule, "--rule", "round")? {
                super::round::RuleArg::Greedy => "greedy",
                super::round::RuleArg::EqualShares => "equal_shares",
            });
            body["projects_days"] = json!(need(a.projects_days, "--projects-days", "round")?);
            body["voting_days"] = json!(need(a.voting_days, "--voting-days", "round")?);
            "round"
        }
        ProposalKindArg::Cancellation => {
            match (a.allocation, a.round) {
                (Some(allocation), None) => {
                    let id: EntryId = crate::input::entry_id(&a.sign.server, "--allocation", &allocation)?;
                    body["allocation"] = json!(id.to_hex());
                }
                (None, Some(round)) => {
                    let id: EntryId = crate::input::entry_id(&a.sign.server, "--round", &round)?;
                    body["round"] = json!(id.to_hex());
                }
                _ => {
                    return Err(CmdError::input(anyhow!(
                        "a cancellation needs exactly one of --allocation (a passed allocation) and --round (a running round)"
                    )))
                }
            }
            "cancellation"
        }
        ProposalKindArg::Exclusion => {
            body["member"] = json!(need(a.member, "--member", "exclusion")?);
            body["reason"] = json!(need(a.reason, "--reason", "exclusion")?);
            "exclusion"
        }
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

/// `meent withdraw`: take back your own proposal while it is open.
#[derive(Debug, Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    sign: SignArgs,
    /// The proposal's entry id.
    #[arg(long)]
    proposal: String,
}

/// Sign and submit a `proposal.withdraw`.
pub fn withdraw(a: WithdrawArgs) -> CmdResult {
    let id: EntryId = crate::input::entry_id(&a.sign.server, "--proposal", &a.proposal)?;
    a.sign.submit(Kind::ProposalWithdraw, json!({"proposal": id.to_hex()}))?;
    Ok(())
}
