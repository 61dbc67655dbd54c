//! `meent fund create|join|leave|show|list`

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use ledger::entry::{Charter, Kind};
use ledger::money::Fraction;
use ledger::views::{FlowsView, FundList, FundSummary, FundView, ProposalList, ProposalView};
use serde::Serialize;
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
    #[arg(long, value_name = "FILE", conflicts_with_all = ["treasurers", "approvals_required", "quorum", "threshold", "voting_period_seconds", "max_request", "max_cost", "admission"])]
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
    /// The largest cost (bank fee, administration…) a treasurer may pay without a vote (default 100.00).
    #[arg(long = "max-cost")]
    pub max_cost: Option<String>,
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
        let max_request = match &self.max_request {
            Some(m) => crate::input::amount("--max-request", m)?.to_string(),
            None => "25000.00".to_string(),
        };
        let admission = match self.admission.unwrap_or(AdmissionArg::Open) {
            AdmissionArg::Open => "open",
            AdmissionArg::Vote => "vote",
        };
        // A charter needs approvals + 1 treasurers, so a treasurer can be paid by the others.
        let approvals = self.approvals_required.unwrap_or(if self.treasurers.len() >= 3 { 2 } else { 1 });
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
        let mut v = v;
        if let Some(m) = &self.max_cost {
            let m = crate::input::amount("--max-cost", m)?;
            v["max_cost"] = json!(m.to_string());
        }
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
// Parsed once per run: the size of the Create variant (its charter flags) does not matter.
#[allow(clippy::large_enum_variant)]
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
                let f: FundView = client.get(&format!("/v1/funds/{fund}"))?;
                if !f.members.iter().any(|m| m.as_str() == sign.as_id.as_str()) {
                    println!("{fund} admits by vote: admission proposal {} is open", acc.receipt.id);
                }
            }
        }
        FundCommand::Leave { sign, fund } => {
            sign.submit(Kind::FundLeave, json!({"fund": fund}))?;
        }
        FundCommand::Show { fund, read } => {
            let client = Client::new(&read.server)?;
            let fund: ledger::ids::FundId = fund.parse().input_ctx("the fund id")?;
            let f: FundView = client.get(&format!("/v1/funds/{fund}"))?;
            let pages = client.get_pages(&format!("/v1/proposals?fund={fund}"), |p: &ProposalList| p.next)?;
            let proposals: Vec<ProposalView> = pages.into_iter().flat_map(|p| p.proposals).collect();
            let flows: FlowsView = client.get(&format!("/v1/funds/{fund}/flows"))?;
            let costs: Vec<_> = flows.disbursements.iter().filter(|d| d.cost.is_some()).collect();
            if read.json {
                println!(
                    "{}",
                    json!({"fund": f, "proposals": proposals, "incomes": flows.incomes, "releases": flows.releases, "costs": costs})
                );
            } else {
                print!("{}", fund_text(&f, &proposals, &flows));
            }
        }
        FundCommand::List { read } => {
            let pages = Client::new(&read.server)?.get_pages("/v1/funds", |p: &FundList| p.next)?;
            let funds: Vec<FundSummary> = pages.into_iter().flat_map(|p| p.funds).collect();
            if read.json {
                println!("{}", json!({"funds": funds, "next": null}));
            } else {
                println!(
                    "{:<28} {:<10} {:>7} {:>14} {:>14} {:>14}",
                    "fund", "status", "members", "confirmed", "committed", "available"
                );
                for f in &funds {
                    let b = &f.balances;
                    println!(
                        "{:<28} {:<10} {:>7} {:>14} {:>14} {:>14}",
                        f.id.as_str(),
                        wire(&f.status),
                        f.members.len(),
                        b.confirmed.to_string(),
                        b.committed.to_string(),
                        b.available.to_string()
                    );
                }
            }
        }
    }
    Ok(())
}

/// A value's wire name (an enum's snake_case name), for printing.
pub fn wire<T: Serialize>(t: &T) -> String {
    match serde_json::to_value(t) {
        Ok(Value::String(s)) => s,
        Ok(Value::Null) | Err(_) => String::new(),
        Ok(v) => v.to_string(),
    }
}

/// `meent fund show` as text: everything its `--json` shows.
fn fund_text(f: &FundView, proposals: &[ProposalView], flows: &FlowsView) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let c = &f.charter;
    let _ = writeln!(o, "{} — {} ({})", f.id.as_str(), f.name, wire(&f.status));
    if !f.purpose.is_empty() {
        let _ = writeln!(o, "  {}", f.purpose);
    }
    let list = |v: &[ledger::ids::MemberId]| v.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ");
    let _ = writeln!(o, "members     {}", list(&f.members));
    let _ = writeln!(o, "treasurers  {} ({} approvals per payout)", list(&f.treasurers), c.approvals_required);
    let _ = writeln!(
        o,
        "charter     admission {}, quorum {}, threshold {}, amend threshold {}, voting period {} s, max request {}, max cost {}",
        wire(&c.admission),
        wire(&c.quorum),
        wire(&c.threshold),
        wire(&c.amend_threshold),
        c.voting_period_seconds,
        c.max_request,
        c.max_cost
    );
    let b = &f.balances;
    let _ = writeln!(o, "balances (EUR)");
    for (k, v) in [
        ("pledged", b.pledged),
        ("confirmed", b.confirmed),
        ("committed", b.committed),
        ("disbursed", b.disbursed),
        ("available", b.available),
    ] {
        let _ = writeln!(o, "  {k:<10} {:>16}", v.to_string());
    }
    money_text(&mut o, f, flows);
    proposals_text(&mut o, proposals);
    o
}

/// Matching pledges, incomes, costs, releases and the dissolution's refunds.
fn money_text(o: &mut String, f: &FundView, flows: &FlowsView) {
    use std::fmt::Write as _;
    for m in &f.matching_pledges {
        let _ = writeln!(
            o,
            "matching    {} × {} up to {} until {}: matched {}, owed {}, paid {}, outstanding {}",
            m.municipality.as_str(),
            wire(&m.ratio),
            m.cap,
            wire(&m.until),
            m.matched,
            m.owed,
            m.paid,
            m.outstanding
        );
    }
    if !flows.incomes.is_empty() {
        let _ = writeln!(o, "incomes");
        for i in &flows.incomes {
            let _ = writeln!(
                o,
                "  {} {:<9} {:<30} {:>14}  {}",
                &i.id.to_hex()[..12],
                i.source_kind,
                i.source,
                i.amount.to_string(),
                i.status
            );
        }
    }
    let costs: Vec<_> = flows.disbursements.iter().filter_map(|d| d.cost.as_ref().map(|c| (d, c))).collect();
    if !costs.is_empty() {
        let _ = writeln!(o, "costs");
        for (d, c) in costs {
            let _ = writeln!(
                o,
                "  {} {:<14} {:<30} {:>14}  {}",
                &d.id.to_hex()[..12],
                c.category,
                c.payee,
                d.amount.to_string(),
                wire(&d.status)
            );
        }
    }
    if !flows.releases.is_empty() {
        let _ = writeln!(o, "releases");
        for r in &flows.releases {
            let _ = writeln!(
                o,
                "  allocation {} {} by {}: {} back to available  {}",
                &r.allocation.to_hex()[..12],
                r.how,
                &r.by.to_hex()[..12],
                r.amount,
                r.reason
            );
        }
    }
    if let Some(d) = &f.dissolution {
        let _ = writeln!(o, "dissolved by {}: {} shared among the contributors", d.proposal, d.pool);
        for r in &d.refunds {
            let _ = writeln!(
                o,
                "  refund {:<28} contributed {:>12}  owed {:>12}  requested {:>12}  paid {:>12}  outstanding {:>12}",
                r.member.as_str(),
                r.contributed.to_string(),
                r.owed.to_string(),
                r.requested.to_string(),
                r.paid.to_string(),
                r.outstanding.to_string()
            );
        }
    }
}

fn proposals_text(o: &mut String, proposals: &[ProposalView]) {
    use std::fmt::Write as _;
    if proposals.is_empty() {
        return;
    }
    let _ = writeln!(o, "proposals");
    for p in proposals {
        let t = &p.tally;
        let state = match p.outcome {
            None => format!("open until {}", p.closes_at),
            Some(outcome) => wire(&outcome),
        };
        let _ = writeln!(
            o,
            "  {} {:<11} {:<40} yes {} no {} abstain {}  {state}",
            &p.id.to_hex()[..12],
            wire(&p.proposal_kind),
            p.title,
            t.yes,
            t.no,
            t.abstain
        );
    }
}
