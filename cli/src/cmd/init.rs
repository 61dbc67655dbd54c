//! `meent init --data DIR --origin NAME [--registrar ID=PUBKEY]…`

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use ledger::entry::Registrar;
use ledger::log::Log;

use crate::exit::{CmdError, CmdResult, InputContext};

/// Arguments of `meent init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create.
    #[arg(long)]
    data: PathBuf,
    /// The log's name in checkpoints, e.g. meent.example.org/amsterdam.
    #[arg(long)]
    origin: String,
    /// A registrar who admits members: ID=PUBKEY (64 hex). Repeat for more.
    #[arg(long = "registrar", value_name = "ID=PUBKEY")]
    registrars: Vec<String>,
}

/// Parse `ID=PUBKEY`.
pub fn parse_registrar(s: &str) -> CmdResult<Registrar> {
    let (id, key) =
        s.split_once('=').ok_or_else(|| CmdError::input(anyhow!("--registrar {s:?}: expected ID=PUBKEY")))?;
    Ok(Registrar {
        id: id.parse().input_ctx(format!("--registrar {s:?}"))?,
        key: key.parse().input_ctx(format!("--registrar {s:?}"))?,
    })
}

/// Create the ledger and print what was made.
pub fn run(a: InitArgs) -> CmdResult {
    let registrars = a.registrars.iter().map(|s| parse_registrar(s)).collect::<CmdResult<Vec<_>>>()?;
    let log = Log::create(&a.data, &a.origin, registrars, crate::clock::now())
        .input_ctx(format!("cannot create a ledger in {}", a.data.display()))?;
    println!("created ledger {} in {}", log.origin(), a.data.display());
    println!(
        "operator key: {} (secret in {})",
        log.operator_key(),
        a.data.join(ledger::log::OPERATOR_KEY_FILE).display()
    );
    print!("{}", log.checkpoint().0);
    Ok(())
}
