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

/// Give the pages freed so far back to the system at once. Opening a large
/// log frees hundreds of MiB (the snapshot's bytes, the records read, the
/// parse's temporaries); jemalloc keeps freed pages for reuse and returns
/// them only as later allocations tick its decay clock, so a server that
/// opened a million records and then sat idle stayed ~350 MiB larger than
/// what it holds (docs/PERFORMANCE.md). Without jemalloc this does nothing.
pub fn release_freed_memory() {
    // `arena.<MALLCTL_ARENAS_ALL>.purge`: every arena.
    let name = c"arena.4096.purge";
    // SAFETY: a documented jemalloc control that takes and returns no value
    // (null old and new pointers, zero lengths).
    let err = unsafe {
        tikv_jemalloc_sys::mallctl(name.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0)
    };
    if err != 0 {
        tracing::debug!("jemalloc did not purge its arenas (error {err})");
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
