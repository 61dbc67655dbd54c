//! The command error type: its class decides the exit status (SPEC §6), in one
//! place ([`Failure::status`]), so the same failure exits the same way in every
//! command.

use std::fmt::Display;

use anyhow::anyhow;

/// The class of a failed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A check failed: `verify` found a bad record, a reconciliation leaves
    /// something unexplained, a log read from `--data` does not verify.
    CheckFailed,
    /// The ledger refused: a submitted entry was refused (any 4xx answer of the
    /// server, an unknown fund or round included), or the same thing found
    /// locally before submitting (not a treasurer, no such fund in `--data`).
    Refused,
    /// The command line does not make sense (flags missing or in conflict).
    Usage,
    /// A file or value given by the user is unreadable or malformed.
    Input,
    /// The server cannot be reached, failed (5xx) or answered something this
    /// meent does not understand; a local write failed.
    Io,
}

impl Failure {
    /// The exit status: 1 a check failed or the ledger refused; 2 usage, input or I/O.
    pub const fn status(self) -> i32 {
        match self {
            Failure::CheckFailed | Failure::Refused => 1,
            Failure::Usage | Failure::Input | Failure::Io => 2,
        }
    }
}

/// A failed command.
#[derive(Debug)]
pub struct CmdError {
    /// The class; it gives the exit status.
    pub class: Failure,
    /// What to tell the user.
    pub error: anyhow::Error,
}

impl CmdError {
    /// An error of `class`.
    pub fn new(class: Failure, e: impl Into<anyhow::Error>) -> Self {
        CmdError { class, error: e.into() }
    }
    /// A check failed (exit 1).
    pub fn failed(e: impl Into<anyhow::Error>) -> Self {
        Self::new(Failure::CheckFailed, e)
    }
    /// The ledger refused (exit 1).
    pub fn refused(e: impl Into<anyhow::Error>) -> Self {
        Self::new(Failure::Refused, e)
    }
    /// The command line does not make sense (exit 2).
    pub fn usage(e: impl Into<anyhow::Error>) -> Self {
        Self::new(Failure::Usage, e)
    }
    /// Bad input: a file or value (exit 2).
    pub fn input(e: impl Into<anyhow::Error>) -> Self {
        Self::new(Failure::Input, e)
    }
    /// The server or the disk failed (exit 2).
    pub fn io(e: impl Into<anyhow::Error>) -> Self {
        Self::new(Failure::Io, e)
    }
    /// The exit status.
    pub fn status(&self) -> i32 {
        self.class.status()
    }
    /// Print to stderr and give the exit status. A closed pipe is not an error.
    pub fn report(&self) -> i32 {
        if let Some(io) = self.error.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return 0;
            }
        }
        eprintln!("meent: {:#}", self.error);
        self.status()
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

/// The error for a store that cannot be opened: when another process holds
/// its lock, say which one (from `/proc/locks`) and what to do.
pub fn store_error(dir: &std::path::Path, e: anyhow::Error) -> CmdError {
    let text = format!("{e:#}");
    if !(text.contains("could not acquire lock") || text.contains("WouldBlock")) {
        return CmdError::input(e);
    }
    let db = ledger::log::store_path(dir).join("db");
    let who = lock_holder(&db)
        .map(|(pid, cmd)| format!("process {pid} ({cmd})"))
        .unwrap_or_else(|| "another process (another meent serve or verify)".to_string());
    CmdError::input(anyhow!(
        "the ledger in {} is in use by {who}: only one process may open it at a time; stop that process, \
         or ask the running server with --server URL instead of --data",
        dir.display()
    ))
}

/// The pid and command line of the process holding a lock on `file`, read from
/// `/proc/locks` (Linux); `None` elsewhere or when not found.
pub fn lock_holder(file: &std::path::Path) -> Option<(u32, String)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(file).ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        let pid = locks.lines().find_map(|l| {
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
            let f: Vec<&str> = l.split_whitespace().collect();
            let dev_ino = f.iter().find(|w| w.matches(':').count() == 2)?;
            let ino: u64 = dev_ino.rsplit(':').next()?.parse().ok()?;
            let i = f.iter().position(|w| w == dev_ino)?;
            (ino == inode).then(|| f.get(i.checked_sub(1)?)?.parse::<u32>().ok()).flatten()
        })?;
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        Some((pid, if cmd.is_empty() { "command line unknown".to_string() } else { cmd }))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_has_the_status_of_spec_6() {
        assert_eq!(CmdError::failed(anyhow!("x")).status(), 1);
        assert_eq!(CmdError::refused(anyhow!("x")).status(), 1);
        assert_eq!(CmdError::usage(anyhow!("x")).status(), 2);
        assert_eq!(CmdError::input(anyhow!("x")).status(), 2);
        assert_eq!(CmdError::io(anyhow!("x")).status(), 2);
        let e: CmdResult = Err(std::io::Error::other("disk")).input_ctx("writing");
        assert_eq!(e.unwrap_err().status(), 2);
    }

    #[test]
    fn a_closed_pipe_ends_quietly() {
        let e = CmdError::io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(e.report(), 0);
    }
}
