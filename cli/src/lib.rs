//! # cli — the `meent` command
//!
//! A thin command-line layer over the `ledger` library and the `api` server: one
//! module per command (`cmd/`), each parsing its arguments, calling the library
//! (or the HTTP API) and printing. Errors decide the exit status: 0 success,
//! 1 a check failed or the ledger refused, 2 a usage, input or I/O error.

pub mod books;
pub mod client;
pub mod clock;
pub mod cmd;
pub mod exit;
pub mod input;
pub mod keyfile;
pub mod progress;
pub mod treasurer;

use clap::Parser;

/// Parse the process arguments, run the command, return the exit status.
pub fn main_entry() -> i32 {
    let args = cmd::Cli::parse();
    if !args.is_server() {
        restore_default_sigpipe();
    }
    match cmd::run(args) {
        Ok(()) => 0,
        Err(e) => e.report(),
    }
}

/// A command whose output is piped into `head` should end quietly when the pipe
/// closes, as other Unix tools do (Rust ignores SIGPIPE by default). The server
/// keeps ignoring it: a client hanging up must never end the server.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread is spawned; resets one signal disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
