//! One module per command: its arguments (`…Args`) and its `run`.

pub mod demo;
pub mod export;
pub mod source;
pub mod init;
pub mod keygen;
pub mod member;
pub mod serve;
pub mod verify;

use clap::{Parser, Subcommand};

use crate::exit::CmdResult;

/// meent — a solidarity fund pooling ledger: signed entries in a verifiable Merkle log.
#[derive(Debug, Parser)]
#[command(name = "meent", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new ed25519 key file (PKCS#8 PEM, mode 0600) and print its public key.
    Keygen(keygen::KeygenArgs),
    /// Create a new ledger: an operator key and the genesis entry.
    Init(init::InitArgs),
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// The register: apply, admit, reject, rotate a key.
    #[command(subcommand)]
    Member(member::MemberCommand),
    /// Audit a whole log: signatures, rules, Merkle root, checkpoints.
    Verify(verify::VerifyArgs),
    /// Write the log (or a fund, a round) in a format other tools read.
    Export(export::ExportArgs),
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::Init(a) => init::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Member(c) => member::run(c),
        Command::Verify(a) => verify::run(a),
        Command::Export(a) => export::run(a),
    }
}
