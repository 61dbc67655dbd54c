//! `meent fund create|join|leave|show|list`

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use ledger::entry::{Charter, Kind};
use ledger::money::{Amount, Fraction};
use serde_json::{json, Value};

use super::member::SignArgs;
use crate::client::{Client, DEFAULT_SERVER};
use crate::exit::{CmdError, CmdResult, InputContext};

/// Where to read from: shared by the reading commands.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The meent server.
    #[arg(long, default_value = DEFAULT_SERVER, env = "MEENT_SERVER")]
    pub server: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How a fund admits members.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AdmissionArg {
    /// Anyone admitted to the register joins at once.
    Open,
    /// Joining opens an admission vote.
    Vote,
}

/// A charter, from a JSON file or from flags.
#[derive(Debug, Args)]
pub struct CharterArgs {
    /// The charter as a JSON file (SPEC §4.2); the flags below are then not used.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["treasurers", "approvals_required", "quorum", "threshold", "voting_period_seconds", "max_request", "admission"])]
    pub charter: Option<PathBuf>,
    /// Open admission, or admission by vote.
    #[arg(long, value_enum)]
    pub admission: Option<AdmissionArg>,
    /// A treasurer (member id); repeat for more.
    #[arg(long = "treasurer", value_name = "ID")]
    pub treasurers: Vec<String>,
    /// Distinct treasurer approvals a payout needs (default: 2, or 1 with one treasurer).
    #[arg(long = "approvals")]
    pub approvals_required: Option<u32>,
    /// Share of the members at opening that must vote (default 0.5).
    #[arg(long)]
    pub quorum: Option<String>,
    /// yes / (yes + no) must be above this (default 0.5).
    #[arg(long)]
    pub threshold: Option<String>,
    /// How long a vote stays open, in seconds (default 604800, a week).
    #[arg(long = "voting-period-seconds")]
    pub voting_period_seconds: Option<u64>,
    /// The largest allocation one proposal may ask (default 25000.00).
    #[arg(long = "max-request")]
    pub max_request: Option<String>,
}

impl CharterArgs {
    /// The charter as JSON, checked locally so that a typo is a usage error, not a refusal.
    pub fn to_json(&self) -> CmdResult<Option<Value>> {
        if let Some(path) = &self.charter {
            return read_charter(path).map(Some);
        }
        if self.treasurers.is_empty() && self.admission.is_none() && self.approvals_required.is_none() {
            return Ok(None);
        }
        if self.treasurers.is_empty() {
            return Err(CmdError::input(anyhow!(
                "a charter needs at least one --treasurer (or give it as --charter FILE)"
            )));
        }
        let quorum = self.quorum.clone().unwrap_or_else(|| "0.5".into());
        let threshold = self.threshold.clone().unwrap_or_else(|| "0.5".into());
        quorum.parse::<Fraction>().input_ctx("--quorum")?;
        threshold.parse::<Fraction>().input_ctx("--threshold")?;
        let max_request = self.max_request.clone().unwrap_or_else(|| "25000.00".into());
        max_request.parse::<Amount>().input_ctx("--max-request")?;
        let admission = match self.admission.unwrap_or(AdmissionArg::Open) {
            AdmissionArg::Open => "open",
            AdmissionArg::Vote => "vote",
        };
        let approvals = self.approvals_required.unwrap_or(if self.treasurers.len() >= 2 { 2 } else { 1 });
        let v = json!({
            "admission": admission,
            "treasurers": self.treasurers,
            "approvals_required": approvals,
            "quorum": quorum,
            "threshold": threshold,
            "voting_period_seconds": self.voting_period_seconds.unwrap_or(604_800),
            "max_request": max_request,
            "dissolution": "pro_rata_refund",
        });
        serde_json::from_value::<Charter>(v.clone()).input_ctx("charter")?;
        Ok(Some(v))
    }
}

/// Read and check a charter JSON file.
pub fn read_charter(path: &Path) -> CmdResult<Value> {
    let text = std::fs::read_to_string(path).input_ctx(format!("cannot read the charter {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).input_ctx(format!("{} is not JSON", path.display()))?;
    serde_json::from_value::<Charter>(v.clone()).input_ctx(format!("{} is not a charter", path.display()))?;
    Ok(v)
}

/// `meent fund …`
#[derive(Debug, Subcommand)]
pub enum FundCommand {
    /// Create a fund with its charter; you become its first member.
    Create {
        #[command(flatten)]
        sign: SignArgs,
        /// The fund's id (3-64 of a-z, 0-9, '-').
        #[arg(long)]
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        purpose: String,
        #[command(flatten)]
        charter: CharterArgs,
    },
    /// Join a fund (under vote admission this opens an admission vote).
    Join {
        #[command(flatten)]
        sign: SignArgs,
        /// The fund.
        #[arg(long)]
        fund: String,
    },
    /// Leave a fund.
    Leave {
        #[command(flatten)]
        sign: SignArgs,
        /// The fund.
        #[arg(long)]
        fund: String,
    },
    /// A fund's charter, members, balances, matching pledges and proposals.
    Show {
        /// The fund.
        fund: String,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Every fund with its balances.
    List {
        #[command(flatten)]
        read: ReadArgs,
    },
}

/// Run a fund command.
pub fn run(c: FundCommand) -> CmdResult {
    match c {
        FundCommand::Create { sign, id, name, purpose, charter } => {
            let charter = charter.to_json()?.ok_or_else(|| {
                CmdError::input(anyhow!("give the charter: --charter FILE, or at least one --treasurer"))
            })?;
            sign.submit(Kind::FundCreate, json!({"id": id, "name": name, "purpose": purpose, "charter": charter}))?;
        }
        FundCommand::Join { sign, fund } => {
            let acc = sign.submit(Kind::FundJoin, json!({"fund": fund}))?;
            if !sign.json {
                let client = Client::new(&sign.server)?;
                let f = client.get_json(&format!("/v1/funds/{fund}"))?;
                let member =
                    f["members"].as_array().is_some_and(|m| m.iter().any(|x| x.as_str() == Some(sign.as_id.as_str())));
                if !member {
                    println!(
                        "{fund} admits by vote: admission proposal {} is open",
                        acc.body["id"].as_str().unwrap_or("")
                    );
                }
            }
        }
        FundCommand::Leave { sign, fund } => {
            sign.submit(Kind::FundLeave, json!({"fund": fund}))?;
        }
        FundCommand::Show { fund, read } => {
            let client = Client::new(&read.server)?;
            let f = client.get_json(&format!("/v1/funds/{fund}"))?;
            let p = client.get_json(&format!("/v1/proposals?fund={fund}"))?;
            if read.json {
                println!("{}", json!({"fund": f, "proposals": p["proposals"]}));
            } else {
                print_fund(&f, &p["proposals"]);
            }
        }
        FundCommand::List { read } => {
            let v = Client::new(&read.server)?.get_json("/v1/funds")?;
            if read.json {
                println!("{v}");
            } else {
                println!(
                    "{:<28} {:<10} {:>7} {:>14} {:>14} {:>14}",
                    "fund", "status", "members", "confirmed", "committed", "available"
                );
                for f in v["funds"].as_array().into_iter().flatten() {
                    let b = &f["balances"];
                    println!(
                        "{:<28} {:<10} {:>7} {:>14} {:>14} {:>14}",
                        s(&f["id"]),
                        s(&f["status"]),
                        f["members"].as_array().map_or(0, Vec::len),
                        s(&b["confirmed"]),
                        s(&b["committed"]),
                        s(&b["available"])
                    );
                }
            }
        }
    }
    Ok(())
}

/// A JSON string's text, or "" (for printing).
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn print_fund(f: &Value, proposals: &Value) {
    let c = &f["charter"];
    println!("{} — {} ({})", s(&f["id"]), s(&f["name"]), s(&f["status"]));
    if !s(&f["purpose"]).is_empty() {
        println!("  {}", s(&f["purpose"]));
    }
    let list =
        |v: &Value| v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or("")).collect::<Vec<_>>().join(", ");
    println!("members     {}", list(&f["members"]));
    println!("treasurers  {} ({} approvals per payout)", list(&f["treasurers"]), c["approvals_required"]);
    println!(
        "charter     admission {}, quorum {}, threshold {}, voting period {} s, max request {}",
        s(&c["admission"]),
        s(&c["quorum"]),
        s(&c["threshold"]),
        c["voting_period_seconds"],
        s(&c["max_request"])
    );
    let b = &f["balances"];
    println!("balances (EUR)");
    for k in ["pledged", "confirmed", "committed", "disbursed", "available"] {
        println!("  {k:<10} {:>16}", s(&b[k]));
    }
    for m in f["matching_pledges"].as_array().into_iter().flatten() {
        println!(
            "matching    {} × {} up to {} until {}: owed {}, paid {}, outstanding {}",
            s(&m["municipality"]),
            s(&m["ratio"]),
            s(&m["cap"]),
            s(&m["until"]),
            s(&m["owed"]),
            s(&m["paid"]),
            s(&m["outstanding"])
        );
    }
    if let Some(d) = f["dissolution"].as_object() {
        println!("dissolved by {}: {} shared among the contributors", s(&d["proposal"]), s(&d["pool"]));
        for r in d["refunds"].as_array().into_iter().flatten() {
            println!("  {:<28} owed {:>14}  paid {:>14}", s(&r["member"]), s(&r["owed"]), s(&r["paid"]));
        }
    }
    let ps = proposals.as_array().map(Vec::as_slice).unwrap_or_default();
    if !ps.is_empty() {
        println!("proposals");
        for p in ps {
            let t = &p["tally"];
            let state = if p["status"] == "open" {
                format!("open until {}", s(&p["closes_at"]))
            } else {
                s(&p["outcome"]).to_string()
            };
            println!(
                "  {} {:<11} {:<40} yes {} no {} abstain {}  {state}",
                &s(&p["id"])[..12.min(s(&p["id"]).len())],
                s(&p["proposal_kind"]),
                s(&p["title"]),
                t["yes"],
                t["no"],
                t["abstain"]
            );
        }
    }
}
