//! # cli — the `meent` command
//!
//! A thin command-line layer over the `ledger` library and the `api` server: one
//! module per command (`cmd/`), each parsing its arguments, calling the library
//! (or the HTTP API) and printing. Errors decide the exit status: 0 success,
//! 1 a check failed or the ledger refused, 2 a usage, input or I/O error.

pub mod books;
pub mod client;
pub mod cmd;
pub mod desk;
pub mod exit;
pub mod journal;
pub mod progress;
pub mod treasurer;

use clap::Parser;

/// Parse the process arguments, run the command, return the exit status.
pub fn main_entry() -> i32 {
    let args = cmd::Cli::parse();
    match cmd::run(args) {
        Ok(()) => 0,
        Err(e) => e.report(),
    }
}
