//! `meent-e2e`: the `meent` command built for the end-to-end tests, with one
//! difference: when `MEENT_E2E_CLOCK_FILE` names a file, the process's clock
//! (entries' `at`, the server's `received_at` and deadlines) runs ahead of the
//! system clock by the whole number of seconds written in that file, read
//! afresh on every call. A test moves time forward by rewriting the file, so a
//! seven-day vote closes without waiting (tests/tests/common/mod.rs,
//! `TestClock`). The `meent` binary has no such clock.

use std::sync::Arc;

fn main() {
    if let Some(path) = std::env::var_os("MEENT_E2E_CLOCK_FILE") {
        let path = std::path::PathBuf::from(path);
        cli::clock::install(Arc::new(move || {
            let offset = std::fs::read_to_string(&path).ok().and_then(|t| t.trim().parse::<i64>().ok()).unwrap_or(0);
            chrono::Utc::now() + chrono::Duration::seconds(offset)
        }));
    }
    std::process::exit(cli::main_entry())
}
