//! `meent verify (--server URL | --data DIR | --log FILE | --tiles URL_OR_DIR) [--trusted CHECKPOINT]
//! [--witness NAME+KEY… [--quorum N]]`

use std::path::PathBuf;

use anyhow::anyhow;
use base64::Engine;
use clap::Args;
use ledger::audit::{AuditReport, Auditor};
use ledger::tiles::audit::TilesAuditError;
use ledger::witness::{parse_key, NamedKey, COSIGNATURE_TYPE};
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
    /// A witness whose cosignature counts: NAME+HEXKEY or its verifier key
    /// NAME+KEYID+BASE64 (`meent witness key`). Repeat for more witnesses.
    #[arg(long = "witness", value_name = "NAME+KEY")]
    witnesses: Vec<String>,
    /// How many of the --witness witnesses must have cosigned the checkpoint
    /// (default: all of them).
    #[arg(long, value_name = "N", requires = "witnesses")]
    quorum: Option<usize>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

impl VerifyArgs {
    /// The witnesses and the quorum, checked.
    fn witness_policy(&self) -> CmdResult<(Vec<NamedKey>, usize)> {
        let ws = self
            .witnesses
            .iter()
            .map(|w| parse_key(w, COSIGNATURE_TYPE).map_err(|e| CmdError::usage(anyhow!("--witness: {e}"))))
            .collect::<CmdResult<Vec<_>>>()?;
        let quorum = self.quorum.unwrap_or(ws.len());
        if quorum > ws.len() {
            return Err(CmdError::usage(anyhow!("--quorum {quorum} is more than the {} --witness given", ws.len())));
        }
        Ok((ws, quorum))
    }
}

/// Checks the witnesses' cosignatures on `note`: the names of those that
/// cosigned, if any witness is required.
fn check_cosignatures(note: &str, ws: &[NamedKey], quorum: usize) -> CmdResult<Option<Vec<String>>> {
    if ws.is_empty() {
        return Ok(None);
    }
    ledger::witness::check_quorum(note, ws, quorum).map(Some).map_err(|e| CmdError::failed(anyhow!("{e}")))
}

/// How long a live log's newest checkpoint is waited for when it lacks the
/// cosignatures asked for: a log publishes a checkpoint at once and its
/// witnesses' cosignatures attach as they arrive (within milliseconds when
/// they are up), so a check right after a write would otherwise fail.
const COSIGNATURE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The checkpoint from `fetch` with the names of the witnesses that cosigned
/// it; from a `live` log, fetched again for up to [`COSIGNATURE_WAIT`] while
/// the quorum is not met.
fn cosigned_checkpoint(
    fetch: impl Fn() -> CmdResult<String>,
    ws: &[NamedKey],
    quorum: usize,
    live: bool,
) -> CmdResult<(String, Option<Vec<String>>)> {
    let deadline = std::time::Instant::now() + COSIGNATURE_WAIT;
    let mut said = false;
    loop {
        let note = fetch()?;
        match check_cosignatures(&note, ws, quorum) {
            Ok(cosigned) => return Ok((note, cosigned)),
            Err(e) if !live || std::time::Instant::now() >= deadline => return Err(e),
            Err(_) => {
                if !said {
                    eprintln!("waiting for the witnesses' cosignatures of the newest checkpoint (up to 5 s)…");
                    said = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }
}

/// Audit the log; exit 1 naming the first bad record.
pub fn run(a: VerifyArgs) -> CmdResult {
    let (witnesses, quorum) = a.witness_policy()?;
    if let Some(location) = &a.tiles {
        let cosigned = if witnesses.is_empty() {
            None
        } else {
            Some(cosigned_checkpoint(|| tiles_checkpoint(location), &witnesses, quorum, location.starts_with("http"))?)
        };
        let report = verify_tiles(location, read_trusted(&a)?.as_deref())?;
        if let Some((note, _)) = &cosigned {
            let (cp, _) = ledger::checkpoint::parse_unverified(note).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
            if cp != report.checkpoint {
                return Err(CmdError::failed(anyhow!(
                    "the checkpoint changed while it was verified (size {} cosigned, size {} audited); run again",
                    cp.size,
                    report.checkpoint.size
                )));
            }
        }
        print_report(&report, cosigned.and_then(|c| c.1).as_deref(), a.json);
        return Ok(());
    }
    let server = super::source::default_server(a.server.clone(), a.data.is_some() || a.log.is_some());
    let source = LogSource::from_args(a.data.as_deref(), server.as_deref(), a.log.as_deref())?;
    let trusted = read_trusted(&a)?;
    // A server's newest checkpoint may still be waiting for its cosignatures.
    let live = server.is_some() && a.data.is_none() && a.log.is_none() && a.checkpoint.is_none();
    let (note, cosigned) =
        cosigned_checkpoint(|| source.checkpoint(a.checkpoint.as_deref()), &witnesses, quorum, live)?;
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
    print_report(&report, cosigned.as_deref(), a.json);
    Ok(())
}

/// The checkpoint of a tiles copy.
fn tiles_checkpoint(location: &str) -> CmdResult<String> {
    use ledger::tiles::audit::TileReader;
    let reader = super::tiles::Tiles::open(location)?;
    let bytes = reader
        .read("checkpoint")
        .map_err(|e| CmdError::io(anyhow!("{e}")))?
        .ok_or_else(|| CmdError::failed(anyhow!("{location} has no checkpoint")))?;
    String::from_utf8(bytes).map_err(|_| CmdError::failed(anyhow!("the checkpoint of {location} is not UTF-8")))
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

fn print_report(report: &AuditReport, cosigned: Option<&[String]>, json: bool) {
    let root = base64::engine::general_purpose::STANDARD.encode(report.root);
    if json {
        println!(
            "{}",
            json!({"ok": true, "origin": report.checkpoint.origin, "size": report.size, "root": root,
                   "trusted_size": report.trusted.as_ref().map(|t| t.size), "members": report.state.register.len(),
                   "cosigned_by": cosigned})
        );
    } else {
        println!("ok: {} records of {} verified", report.size, report.checkpoint.origin);
        println!("  every signature (ed25519, strict), every rule replayed from genesis");
        println!("  root {root} matches the checkpoint signed by the operator");
        if let Some(t) = &report.trusted {
            println!("  consistent with the trusted checkpoint of size {}", t.size);
        }
        if let Some(names) = cosigned {
            println!("  cosigned by {} witnesses: {}", names.len(), names.join(", "));
        }
    }
}
