//! `meent key recover|cancel|approve`: key recovery (SPEC §4.5). A registrar
//! records a new key for a member who lost its own; it is in force after seven
//! days unless the member's current key cancels it; with two or more
//! registrars a second registrar co-signs.

use std::path::PathBuf;

use clap::Subcommand;
use ledger::entry::Kind;
use ledger::ids::{EntryId, MemberId};
use serde_json::json;

use super::member::SignArgs;
use crate::exit::{CmdResult, InputContext};

const KEY_EXAMPLES: &str = "Examples:
  # the member makes a new key and hands the registrar its public part (or the file)
  meent keygen --out groen-new.pem
  # a registrar records the recovery: in force after 7 days
  meent key recover --key kamer.pem --as kamer-van-commons --member groene-daken-nieuw-west \\
      --new-key groen-new.pem --reason 'laptop with the key was stolen'
  # with two or more registrars, a second one co-signs
  meent key approve --key registrar2.pem --as tweede-kamer --recovery <recovery id>
  # the member, still holding its current key, stops a recovery it did not ask for
  meent key cancel --key groen.pem --as groene-daken-nieuw-west --recovery <recovery id>";

/// `meent key …`
#[derive(Debug, Subcommand)]
#[command(after_help = KEY_EXAMPLES)]
pub enum KeyCommand {
    /// Record a new key for a member who lost its own (registrars only; in force after 7 days).
    #[command(after_help = KEY_EXAMPLES)]
    Recover {
        #[command(flatten)]
        sign: SignArgs,
        /// The member whose key is replaced.
        #[arg(long)]
        member: String,
        /// The new key: a key file (from `meent keygen`) or its public key in hex.
        #[arg(long = "new-key", value_name = "FILE|HEX")]
        new_key: String,
        /// Why (public, in the log for ever).
        #[arg(long)]
        reason: String,
    },
    /// Cancel a recovery of your key, signing with your current key (within its 7 days).
    #[command(after_help = KEY_EXAMPLES)]
    Cancel {
        #[command(flatten)]
        sign: SignArgs,
        /// The recovery (the id of its key.recover entry).
        #[arg(long)]
        recovery: String,
    },
    /// Co-sign a recovery recorded by another registrar.
    #[command(after_help = KEY_EXAMPLES)]
    Approve {
        #[command(flatten)]
        sign: SignArgs,
        /// The recovery (the id of its key.recover entry).
        #[arg(long)]
        recovery: String,
    },
}

/// A public key given as a key file or as hex.
fn public_key(text: &str) -> CmdResult<String> {
    let path = PathBuf::from(text);
    if path.exists() {
        let key = ledger::crypto::read_key_file(&path).input_ctx("--new-key")?;
        return Ok(ledger::crypto::PublicKey::from(key.verifying_key()).to_hex());
    }
    let k: ledger::crypto::PublicKey = text.parse().input_ctx("--new-key (neither a key file nor a public key)")?;
    Ok(k.to_hex())
}

/// Run a key command.
pub fn run(c: KeyCommand) -> CmdResult {
    match c {
        KeyCommand::Recover { sign, member, new_key, reason } => {
            let member: MemberId = member.parse().input_ctx("--member")?;
            let body = json!({"member": member, "new_key": public_key(&new_key)?, "reason": reason});
            sign.submit(Kind::KeyRecover, body)?;
        }
        KeyCommand::Cancel { sign, recovery } => {
            let id: EntryId = recovery.parse().input_ctx("--recovery")?;
            sign.submit(Kind::KeyRecoverCancel, json!({"recovery": id.to_hex()}))?;
        }
        KeyCommand::Approve { sign, recovery } => {
            let id: EntryId = recovery.parse().input_ctx("--recovery")?;
            sign.submit(Kind::KeyRecoverApprove, json!({"recovery": id.to_hex()}))?;
        }
    }
    Ok(())
}
