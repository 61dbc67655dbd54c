//! `meent verify (--server URL | --data DIR | --log FILE) [--trusted CHECKPOINT]`

use std::path::PathBuf;

use anyhow::anyhow;
use base64::Engine;
use clap::Args;
use ledger::audit::Auditor;
use serde_json::json;

use super::source::{claimed_size, LogSource};
use crate::exit::{CmdError, CmdResult, InputContext};
use crate::progress;

/// Arguments of `meent verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A running server's URL (default: $MEENT_SERVER, else http://127.0.0.1:8080, when neither --data nor --log is given).
    #[arg(long)]
    server: Option<String>,
    /// A data directory (the server must not be running on it).
    #[arg(long)]
    data: Option<PathBuf>,
    /// An exported JSONL log (`meent export --format jsonl`).
    #[arg(long)]
    log: Option<PathBuf>,
    /// With --log: the signed checkpoint file (default: LOG.checkpoint).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// A checkpoint saved earlier: the log must be consistent with it.
    #[arg(long)]
    trusted: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Audit the log; exit 1 naming the first bad record.
pub fn run(a: VerifyArgs) -> CmdResult {
    let server = super::source::default_server(a.server.clone(), a.data.is_some() || a.log.is_some());
    let source = LogSource::from_args(a.data.as_deref(), server.as_deref(), a.log.as_deref())?;
    let trusted = match &a.trusted {
        Some(p) => {
            Some(std::fs::read_to_string(p).input_ctx(format!("cannot read the trusted checkpoint {}", p.display()))?)
        }
        None => None,
    };
    let note = source.checkpoint(a.checkpoint.as_deref())?;
    let size = claimed_size(&note)?;
    let bar = progress::bar(size, "verifying");
    let mut auditor = Auditor::new();
    let result = source.for_each_chunk(size, |chunk| {
        auditor.push(chunk).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
        bar.set_position(auditor.size());
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    let report = auditor.finish(&note, trusted.as_deref()).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    let root = base64::engine::general_purpose::STANDARD.encode(report.root);
    if a.json {
        println!(
            "{}",
            json!({"ok": true, "origin": report.checkpoint.origin, "size": report.size, "root": root,
                   "trusted_size": report.trusted.as_ref().map(|t| t.size), "members": report.state.register.len()})
        );
    } else {
        println!("ok: {} records of {} verified", report.size, report.checkpoint.origin);
        println!("  every signature (ed25519, strict), every rule replayed from genesis");
        println!("  root {root} matches the checkpoint signed by the operator");
        if let Some(t) = &report.trusted {
            println!("  consistent with the trusted checkpoint of size {}", t.size);
        }
    }
    Ok(())
}
