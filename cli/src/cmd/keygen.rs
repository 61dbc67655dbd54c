//! `meent keygen --out FILE`

use std::path::PathBuf;

use clap::Args;
use ledger::crypto::{self, PublicKey};

use crate::exit::{CmdResult, InputContext};

/// Arguments of `meent keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the new key (refuses to overwrite).
    #[arg(long)]
    out: PathBuf,
}

/// Write a new key and print its public key in hex.
pub fn run(a: KeygenArgs) -> CmdResult {
    let key = crypto::generate_key();
    crypto::write_key_file(&a.out, &key).input_ctx("cannot write the key")?;
    println!("{}", PublicKey::from(key.verifying_key()));
    Ok(())
}
