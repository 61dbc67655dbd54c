//! `meent pb FILE.pb --rule RULE [--json]`: run a budgeting rule on a pabulib file.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use ledger::pb::{self, Funding, Rule};
use serde_json::json;

use crate::exit::{CmdError, CmdResult};

/// Arguments of `meent pb`.
#[derive(Debug, Args)]
pub struct PbArgs {
    /// A pabulib `.pb` file (Decidim, OpenStad and CONSUL export them).
    file: PathBuf,
    /// greedy_av, greedy_card, mes_cost, mes_card, mes_cost_add1, mes_card_add1,
    /// mes_cost_add1_noex, mes_cost_add1u, mes_card_add1u, mes_cost_add1u_cmp,
    /// or the round rules greedy (= greedy_av) and equal_shares (= mes_cost_add1_noex).
    #[arg(long)]
    rule: String,
    /// Print the cost, the per-voter budget reached and what each project's supporters paid, as JSON.
    #[arg(long)]
    json: bool,
}

/// Print the selected project ids, sorted as PB.md says.
pub fn run(a: PbArgs) -> CmdResult {
    let rule: Rule = a.rule.parse().map_err(|e| CmdError::input(anyhow!("--rule: {e}")))?;
    let inst = pb::parse_file(&a.file).map_err(|e| CmdError::input(anyhow!("{e}")))?;
    let out = pb::run(&inst, rule);
    let ids = pb::sorted_ids(&inst, &out.selected);
    if !a.json {
        println!("{}", ids.join(" "));
        return Ok(());
    }
    let payments: Vec<_> = out
        .payments
        .iter()
        .map(|p| {
            json!({
                "project": p.project,
                "cost": p.cost.to_string(),
                "funding": match p.funding { Funding::EqualShares => "equal_shares", Funding::Free => "free", Funding::Greedy => "greedy" },
                "supporters": p.supporters,
                "share": p.share.as_ref().map(|s| s.to_string()),
                "full_share_payers": p.full_share_payers,
                "capped_payers": p.capped_payers,
                "capped_total": p.capped_total.to_string(),
                "paid_by_supporters": p.total.to_string(),
                "summary": p.display(),
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "file": a.file.display().to_string(),
            "rule": out.rule.name(),
            "budget": inst.budget().to_string(),
            "voters": inst.num_voters(),
            "selected": ids,
            "total_cost": out.total_cost_display,
            "budget_per_voter": out.budget_per_voter_display,
            "payments": payments,
        }))
        .map_err(|e| CmdError::input(anyhow!("{e}")))?
    );
    Ok(())
}
