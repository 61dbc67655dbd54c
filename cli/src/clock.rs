//! The command's clock: what client commands date their entries with and what
//! `meent serve` judges deadlines and stamps `received_at` with.
//!
//! It is the system clock. A binary that embeds this crate may install another
//! one once at start-up ([`install`]): the end-to-end test binary `meent-e2e`
//! installs a clock that runs ahead by an offset its tests control, so that a
//! vote's seven days or a round's windows pass without waiting. The `meent`
//! binary installs nothing.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use ledger::ingest::Clock;

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// Install the process's clock; only the first call counts (returns false after).
pub fn install(clock: Clock) -> bool {
    CLOCK.set(clock).is_ok()
}

/// The clock, shared with the server.
pub fn shared() -> Clock {
    CLOCK.get().cloned().unwrap_or_else(|| Arc::new(Utc::now))
}

/// Now, by the process's clock.
pub fn now() -> DateTime<Utc> {
    match CLOCK.get() {
        Some(c) => c(),
        None => Utc::now(),
    }
}
