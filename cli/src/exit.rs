//! The command error type: it decides the exit status (SPEC §6).

use std::fmt::Display;

/// A failed command.
#[derive(Debug)]
pub struct CmdError {
    /// 1: a check failed or the ledger refused; 2: usage, input or I/O.
    pub status: i32,
    /// What to tell the user.
    pub error: anyhow::Error,
}

impl CmdError {
    /// Exit 1: a check failed or the ledger refused.
    pub fn failed(e: impl Into<anyhow::Error>) -> Self {
        CmdError { status: 1, error: e.into() }
    }
    /// Exit 2: bad input, usage or I/O.
    pub fn input(e: impl Into<anyhow::Error>) -> Self {
        CmdError { status: 2, error: e.into() }
    }
    /// Print to stderr and give the exit status. A closed pipe is not an error.
    pub fn report(&self) -> i32 {
        if let Some(io) = self.error.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
        }
        eprintln!("meent: {:#}", self.error);
        self.status
    }
}

/// Result of a command.
pub type CmdResult<T = ()> = Result<T, CmdError>;

/// Attach context and classify as input error.
pub trait InputContext<T> {
    /// Map the error to exit status 2 with a context message.
    fn input_ctx(self, what: impl Display) -> CmdResult<T>;
}

impl<T, E: Into<anyhow::Error>> InputContext<T> for Result<T, E> {
    fn input_ctx(self, what: impl Display) -> CmdResult<T> {
        self.map_err(|e| CmdError::input(e.into().context(what.to_string())))
    }
}
