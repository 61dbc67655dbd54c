//! `meent registrar add|remove|approve`: the registrars change by a majority
//! of the current registrars, each signing (SPEC §4.5). `add` and `remove`
//! propose the change and count as the proposer's approval; the others
//! `approve` it; it takes effect with the approval that makes a majority.

use clap::Subcommand;
use ledger::entry::Kind;
use ledger::ids::{EntryId, MemberId};
use serde_json::json;

use super::member::SignArgs;
use crate::exit::{CmdResult, InputContext};

const REGISTRAR_EXAMPLES: &str = "Examples:
  meent registrar add --key kamer.pem --as kamer-van-commons --member gemeente-amsterdam --reason 'a second registrar'
  meent registrar approve --key gemeente.pem --as gemeente-amsterdam --proposal <registrar.propose id>
  meent registrar remove --key kamer.pem --as kamer-van-commons --member oude-kamer
A change takes effect when more than half of the registrars (at the proposal) have signed it;
the last registrar cannot be removed.";

/// `meent registrar …`
#[derive(Debug, Subcommand)]
#[command(after_help = REGISTRAR_EXAMPLES)]
pub enum RegistrarCommand {
    /// Propose to make an admitted member a registrar (registrars only).
    #[command(after_help = REGISTRAR_EXAMPLES)]
    Add {
        #[command(flatten)]
        sign: SignArgs,
        /// The member.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Propose to remove a registrar (registrars only; never the last).
    #[command(after_help = REGISTRAR_EXAMPLES)]
    Remove {
        #[command(flatten)]
        sign: SignArgs,
        /// The registrar.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approve another registrar's proposed change.
    #[command(after_help = REGISTRAR_EXAMPLES)]
    Approve {
        #[command(flatten)]
        sign: SignArgs,
        /// The change (the id of its registrar.propose entry).
        #[arg(long)]
        proposal: String,
    },
}

fn propose(sign: SignArgs, action: &str, member: String, reason: Option<String>) -> CmdResult {
    let member: MemberId = member.parse().input_ctx("--member")?;
    let mut body = json!({"action": action, "member": member});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    sign.submit(Kind::RegistrarPropose, body)?;
    Ok(())
}

/// Run a registrar command.
pub fn run(c: RegistrarCommand) -> CmdResult {
    match c {
        RegistrarCommand::Add { sign, member, reason } => propose(sign, "add", member, reason),
        RegistrarCommand::Remove { sign, member, reason } => propose(sign, "remove", member, reason),
        RegistrarCommand::Approve { sign, proposal } => {
            let id: EntryId = proposal.parse().input_ctx("--proposal")?;
            sign.submit(Kind::RegistrarApprove, json!({"proposal": id.to_hex()}))?;
            Ok(())
        }
    }
}
