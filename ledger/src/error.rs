//! Why the ledger refuses an entry: one error type with a stable code and the
//! class of fault, which the API maps to a status and the CLI to an exit code.

use std::fmt;

/// The class of a refusal (whose fault, and what it conflicts with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The entry is malformed (HTTP 400).
    Malformed,
    /// Bad signature, or not signed with the author's current key (401).
    Unauthenticated,
    /// The author may not do this (403).
    Forbidden,
    /// Something it refers to does not exist (404).
    NotFound,
    /// It conflicts with the log: closed vote, duplicate id (409).
    Conflict,
    /// A domain rule refuses it: insufficient funds, over a limit (422).
    Rule,
}

/// A refusal by the ledger's rules. A refused entry changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The class.
    pub kind: RefusalKind,
    /// A stable machine-readable code, e.g. `insufficient_funds`.
    pub code: &'static str,
    /// A human sentence naming what is wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal.
    pub fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Refusal { kind, code, message: message.into() }
    }
    /// 400.
    pub fn malformed(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::Malformed, code, m)
    }
    /// 401.
    pub fn unauthenticated(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::Unauthenticated, code, m)
    }
    /// 403.
    pub fn forbidden(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::Forbidden, code, m)
    }
    /// 404.
    pub fn not_found(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::NotFound, code, m)
    }
    /// 409.
    pub fn conflict(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::Conflict, code, m)
    }
    /// 422.
    pub fn rule(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(RefusalKind::Rule, code, m)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Refusal {}
