//! `meent verify (--server URL | --data DIR | --log FILE | --tiles URL_OR_DIR) [--trusted CHECKPOINT]`

use std::path::PathBuf;

use anyhow::anyhow;
use base64::Engine;
use clap::Args;
use ledger::audit::{AuditReport, Auditor};
use ledger::tiles::audit::TilesAuditError;
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
    /// A tlog-tiles copy of the log: its URL prefix (http://HOST/tiles) or a directory `meent tiles` wrote.
    #[arg(long, conflicts_with_all = ["server", "data", "log", "checkpoint"])]
    tiles: Option<String>,
    /// A checkpoint saved earlier: the log must be consistent with it.
    #[arg(long)]
    trusted: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Audit the log; exit 1 naming the first bad record.
pub fn run(a: VerifyArgs) -> CmdResult {
    if let Some(location) = &a.tiles {
        let report = verify_tiles(location, read_trusted(&a)?.as_deref())?;
        print_report(&report, a.json);
        return Ok(());
    }
    let server = super::source::default_server(a.server.clone(), a.data.is_some() || a.log.is_some());
    let source = LogSource::from_args(a.data.as_deref(), server.as_deref(), a.log.as_deref())?;
    let trusted = read_trusted(&a)?;
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
    print_report(&report, a.json);
    Ok(())
}

/// The `--trusted` checkpoint's text, if given.
fn read_trusted(a: &VerifyArgs) -> CmdResult<Option<String>> {
    match &a.trusted {
        Some(p) => Ok(Some(
            std::fs::read_to_string(p).input_ctx(format!("cannot read the trusted checkpoint {}", p.display()))?,
        )),
        None => Ok(None),
    }
}

/// Audit a tiles copy: every bundle and tile, then as above.
fn verify_tiles(location: &str, trusted: Option<&str>) -> CmdResult<AuditReport> {
    let reader = super::tiles::Tiles::open(location)?;
    let bar = progress::bar(0, "verifying");
    let result = ledger::tiles::audit::audit(&reader, trusted, &mut |done, size| {
        bar.set_length(size);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result.map_err(|e| match e {
        TilesAuditError::Read { .. } => CmdError::io(anyhow!("{e}")),
        _ => CmdError::failed(anyhow!("{e}")),
    })
}

fn print_report(report: &AuditReport, json: bool) {
    let root = base64::engine::general_purpose::STANDARD.encode(report.root);
    if json {
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
}
