//! `meent round project|ballot|close|show`: participatory budgeting rounds
//! (SPEC §4.4, §4.5). A round is opened by a vote: `meent propose --kind
//! round` (a member can no longer open one alone). The rules and the outcome are the ledger's; these
//! commands sign entries and render the server's `GET /v1/rounds/{id}`.

use anyhow::anyhow;
use clap::{Subcommand, ValueEnum};
use ledger::entry::Kind;
use ledger::funds::{ProjectStatus, RoundStatus};
use ledger::ids::{EntryId, MemberId};
use ledger::money::Amount;
use ledger::views::{RoundList, RoundSummary, RoundView};
use serde_json::json;

use super::fund::{wire, ReadArgs};
use super::member::SignArgs;
use crate::client::Client;
use crate::exit::{CmdError, CmdResult, InputContext};

/// A round's selection rule.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleArg {
    /// Projects by number of approvals, each taken while it fits (pabutools greedy_av).
    Greedy,
    /// The Method of Equal Shares with Add1 (pabutools mes_cost_add1_noex).
    #[value(name = "equal_shares", alias = "equal-shares")]
    EqualShares,
}

/// `meent round …`
#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// Submit a project to a round (until its projects_until).
    Project {
        #[command(flatten)]
        sign: SignArgs,
        /// The round (the id of the round proposal that opened it).
        #[arg(long)]
        round: String,
        /// A short title.
        #[arg(long)]
        title: String,
        /// The description.
        #[arg(long, default_value = "")]
        description: String,
        /// What it costs (e.g. 4000.00): paid to the recipient if selected.
        #[arg(long)]
        cost: String,
        /// Who is paid if it is selected (a member id).
        #[arg(long)]
        recipient: String,
    },
    /// Cast your approval ballot (between projects_until and closes_at); a later ballot replaces it.
    Ballot {
        #[command(flatten)]
        sign: SignArgs,
        /// The round.
        #[arg(long)]
        round: String,
        /// A project you approve (repeat, or separate with commas).
        #[arg(long, value_delimiter = ',', value_name = "PROJECT")]
        approve: Vec<String>,
        /// Approve nothing: an empty ballot still counts you as a voter.
        #[arg(long, conflicts_with = "approve")]
        none: bool,
    },
    /// Close a round whose closes_at has passed (the server does it by itself) and show the outcome.
    Close {
        #[command(flatten)]
        sign: SignArgs,
        /// The round.
        #[arg(long)]
        round: String,
    },
    /// List budgeting rounds: id, fund, budget, status.
    #[command(after_help = "Examples:
  meent round list --fund warmtefonds-noord
  meent round list --open --json
  meent round show 5be0c3a1        # a prefix of 8+ hex")]
    List {
        /// Only this fund's rounds.
        #[arg(long)]
        fund: Option<String>,
        /// Only the rounds still open.
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// A round: its projects, ballots and, once closed, the outcome and what each supporter group paid.
    Show {
        /// The round (the id of the round proposal that opened it).
        round: String,
        #[command(flatten)]
        read: ReadArgs,
    },
}

/// Run a round command.
pub fn run(c: RoundCommand) -> CmdResult {
    match c {
        RoundCommand::Project { sign, round, title, description, cost, recipient } => {
            let round: EntryId = crate::input::entry_id(&sign.server, "--round", &round)?;
            let cost: Amount = crate::input::amount("--cost", &cost)?;
            let recipient: MemberId = recipient.parse().input_ctx("--recipient")?;
            sign.submit(Kind::RoundProject, json!({"round": round.to_hex(), "title": title, "description": description, "cost": cost.to_string(), "recipient": recipient}))?;
        }
        RoundCommand::Ballot { sign, round, approve, none } => {
            let round: EntryId = crate::input::entry_id(&sign.server, "--round", &round)?;
            let approve: Vec<String> = approve
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| crate::input::entry_id(&sign.server, "--approve", p).map(|id| id.to_hex()))
                .collect::<CmdResult<_>>()?;
            if approve.is_empty() && !none {
                return Err(CmdError::input(anyhow!(
                    "give the projects you approve with --approve ID (or --none for an empty ballot)"
                )));
            }
            sign.submit(Kind::Ballot, json!({"round": round.to_hex(), "approve": approve}))?;
        }
        RoundCommand::Close { sign, round } => {
            let id: EntryId = crate::input::entry_id(&sign.server, "--round", &round)?;
            let client = Client::new(&sign.server)?;
            let before: RoundView = client.get(&format!("/v1/rounds/{id}"))?;
            if before.status != RoundStatus::Open {
                // Closed already (the server closes rounds when they are due): nothing to sign.
                if sign.json {
                    println!("{}", json!(before));
                } else {
                    print_round(&before);
                }
                return Ok(());
            }
            sign.submit(Kind::RoundClose, json!({"round": id.to_hex()}))?;
            if !sign.json {
                print_round(&client.get(&format!("/v1/rounds/{id}"))?);
            }
        }
        RoundCommand::List { fund, open, read } => list(fund, open, read)?,
        RoundCommand::Show { round, read } => {
            let id: EntryId = crate::input::entry_id(&read.server, "the round id", &round)?;
            let v: RoundView = Client::new(&read.server)?.get(&format!("/v1/rounds/{id}"))?;
            if read.json {
                println!("{}", json!(v));
            } else {
                print_round(&v);
            }
        }
    }
    Ok(())
}

/// `meent round list`.
fn list(fund: Option<String>, open: bool, read: ReadArgs) -> CmdResult {
    let mut q = Vec::new();
    if let Some(f) = &fund {
        q.push(format!("fund={f}"));
    }
    if open {
        q.push("status=open".to_string());
    }
    let path = if q.is_empty() { "/v1/rounds".to_string() } else { format!("/v1/rounds?{}", q.join("&")) };
    let pages = Client::new(&read.server)?.get_pages(&path, |p: &RoundList| p.next)?;
    let rounds: Vec<RoundSummary> = pages.into_iter().flat_map(|p| p.rounds).collect();
    if read.json {
        println!("{}", json!({"rounds": rounds, "next": null}));
        return Ok(());
    }
    if rounds.is_empty() {
        println!("no rounds{}", if open { " open" } else { "" });
    }
    for r in &rounds {
        println!(
            "{}  {:<24} {:>12} EUR  {:<12} {:<10} {} projects, {} ballots, closes {}",
            short(&r.id.to_hex()),
            r.fund.as_str(),
            r.budget.to_string(),
            wire(&r.rule),
            wire(&r.status),
            r.project_count,
            r.ballot_count,
            r.closes_at
        );
    }
    Ok(())
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

fn print_round(r: &RoundView) {
    println!(
        "round {} of {} — budget {} EUR, rule {} ({})",
        r.id,
        r.fund.as_str(),
        r.budget,
        wire(&r.rule),
        r.rule_name
    );
    println!("  projects until {}, ballots until {}", r.projects_until, r.closes_at);
    let status = match r.status {
        RoundStatus::Cancelled => format!("cancelled: {}", r.close_reason.as_deref().unwrap_or("")),
        RoundStatus::Closed => format!(
            "closed by record {} at {}",
            r.closed_seq.map(|s| s.to_string()).unwrap_or_default(),
            r.closed_at.as_ref().map(|t| t.to_string()).unwrap_or_default()
        ),
        RoundStatus::Open => format!("open ({})", wire(&r.phase)),
    };
    println!("  {status}; {} ballots", r.ballot_count);
    if !r.projects.is_empty() {
        println!("projects");
        for p in &r.projects {
            let approvals = match p.approvals {
                Some(n) => format!("{n:>4} approvals"),
                None => String::new(),
            };
            let mark = match p.status {
                ProjectStatus::Selected => "selected",
                ProjectStatus::NotSelected => "-",
                ProjectStatus::Candidate => "",
            };
            println!(
                "  {}  {:>14}  {approvals:<14} {mark:<8}  {} → {}",
                short(&p.id.to_hex()),
                p.cost.to_string(),
                p.title,
                p.recipient.as_str()
            );
        }
    }
    if let Some(o) = &r.outcome {
        println!(
            "outcome ({}, {} voters): {} selected for {} EUR, {} EUR back to the fund",
            o.rule,
            o.voters,
            o.selected.len(),
            o.total_cost,
            o.released
        );
        if let Some(b) = &o.budget_per_voter_display {
            let add1 = o.add1_steps.map(|k| format!(" (the equal share plus {k} EUR of Add1)")).unwrap_or_default();
            println!("  per-voter budget reached: {b}{add1}");
        }
        for p in &o.payments {
            println!("  {}  {}: {}", short(&p.project.to_hex()), p.title, p.display);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use ledger::time::Timestamp;

    /// Deadlines as `round open` reads them (`crate::input::when`).
    fn when(text: &str, now: DateTime<Utc>) -> anyhow::Result<Timestamp> {
        crate::input::when(text, now).map(|(t, _)| t)
    }

    #[test]
    fn deadlines_absolute_and_relative() {
        let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap();
        assert_eq!(when("2026-12-01T12:00:00Z", now).unwrap().as_str(), "2026-12-01T12:00:00Z");
        assert_eq!(when("+90s", now).unwrap().as_str(), "2026-11-27T12:01:30.000Z");
        assert_eq!(when("+2h", now).unwrap().as_str(), "2026-11-27T14:00:00.000Z");
        assert_eq!(when("+14d", now).unwrap().as_str(), "2026-12-11T12:00:00.000Z");
        for bad in ["+", "+5", "+5w", "+-5s", "tomorrow", "2026-12-01T12:00:00+01:00", "+99999999999999999d"] {
            assert!(when(bad, now).is_err(), "{bad}");
        }
    }
}
