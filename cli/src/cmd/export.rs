//! `meent export --format jsonl|csv|beancount|hledger|pabulib (--server URL | --data DIR)
//! [--fund F | --round R] [--out FILE]`
//!
//! * `jsonl`: the whole log, one canonical record per line, and its signed checkpoint;
//! * `csv`: a fund's contributions and payouts, one row each, for a spreadsheet;
//! * `hledger`, `beancount`: a fund's books as a double-entry journal with balance
//!   assertions at every reconciled statement (see `crate::journal` and docs/TREASURER.md);
//! * `pabulib`: a budgeting round as a pabulib `.pb` file — the very instance the
//!   round's rule ran on, rebuilt by replaying and verifying the whole log, so
//!   `meent pb FILE --rule R` (or pabutools) recomputes the recorded outcome.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use ledger::audit::Auditor;
use ledger::ids::EntryId;
use ledger::pb;

use super::source::{claimed_size, sibling_checkpoint, LogSource};
use crate::books::{self, FundBooks};
use crate::client::Client;
use crate::exit::{CmdError, CmdResult, InputContext};
use crate::progress;
use ledger::books::journal::{self, Syntax};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The whole log, one canonical JSON record per line.
    Jsonl,
    /// A fund's flows as CSV (needs --fund).
    Csv,
    /// A fund's books as a beancount journal (needs --fund).
    Beancount,
    /// A fund's books as an hledger journal (needs --fund).
    Hledger,
    /// A budgeting round as a pabulib .pb file (needs --round).
    Pabulib,
}

/// Arguments of `meent export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum)]
    format: Format,
    /// A running server's URL (default: $MEENT_SERVER, else http://127.0.0.1:8080, unless --data is given).
    #[arg(long)]
    server: Option<String>,
    /// A data directory (the server must not be running on it).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The fund (csv, beancount, hledger).
    #[arg(long)]
    fund: Option<String>,
    /// The round, by its id (the round proposal that opened it) (pabulib).
    #[arg(long)]
    round: Option<String>,
    /// Write here instead of standard output (with jsonl, the checkpoint goes to FILE.checkpoint).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Write the export.
pub fn run(mut a: ExportArgs) -> CmdResult {
    a.server = super::source::default_server(a.server.take(), a.data.is_some());
    if a.round.is_some() && a.format != Format::Pabulib {
        return Err(CmdError::usage(anyhow!("--round is for --format pabulib")));
    }
    match a.format {
        Format::Pabulib => {
            if a.fund.is_some() {
                return Err(CmdError::usage(anyhow!("--format pabulib exports a round: give --round R, not --fund")));
            }
            let round =
                a.round.as_deref().ok_or_else(|| CmdError::usage(anyhow!("--format pabulib needs --round R")))?;
            pabulib(&a, round)
        }
        Format::Jsonl => {
            if a.fund.is_some() {
                return Err(CmdError::usage(anyhow!(
                    "--format jsonl exports the whole log; --fund is for csv, beancount and hledger"
                )));
            }
            jsonl(&a)
        }
        Format::Csv | Format::Beancount | Format::Hledger => {
            let fund = a
                .fund
                .as_deref()
                .ok_or_else(|| CmdError::usage(anyhow!("--format {} needs --fund F", format_name(a.format))))?;
            let books = read_books(&a, fund)?;
            let text = match a.format {
                Format::Csv => journal::flows_csv(&books),
                Format::Hledger => {
                    journal::journal(&books, Syntax::Hledger).map_err(|e| CmdError::failed(anyhow!("{e}")))?
                }
                _ => journal::journal(&books, Syntax::Beancount).map_err(|e| CmdError::failed(anyhow!("{e}")))?,
            };
            match &a.out {
                Some(p) => {
                    std::fs::write(p, text).input_ctx(format!("cannot write {}", p.display()))?;
                    eprintln!(
                        "wrote fund {} ({} contributions, {} payouts, {} reconciliations) to {}",
                        books.id,
                        books.contributions.len(),
                        books.disbursements.len(),
                        books.reconciliations.len(),
                        p.display()
                    );
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(text.as_bytes()).input_ctx("writing")?;
                    out.flush().input_ctx("writing")?;
                }
            }
            Ok(())
        }
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Jsonl => "jsonl",
        Format::Csv => "csv",
        Format::Beancount => "beancount",
        Format::Hledger => "hledger",
        Format::Pabulib => "pabulib",
    }
}

/// The round as a `.pb` file, from the state reached by replaying (and
/// verifying against the signed checkpoint) the whole log.
fn pabulib(a: &ExportArgs, round: &str) -> CmdResult {
    let id: EntryId = match &a.server {
        Some(server) => crate::input::entry_id(server, "--round", round)?,
        None => round.parse().input_ctx(format!("--round {round}"))?,
    };
    let source = match (&a.data, &a.server) {
        (Some(_), None) | (None, Some(_)) => LogSource::from_args(a.data.as_deref(), a.server.as_deref(), None)?,
        _ => return Err(CmdError::usage(anyhow!("give exactly one of --data DIR, --server URL"))),
    };
    let note = source.checkpoint(None)?;
    let size = claimed_size(&note)?;
    let bar = progress::bar(size, "reading");
    let mut auditor = Auditor::new();
    let result = source.for_each_chunk(size, |chunk| {
        auditor.push(chunk).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
        bar.set_position(auditor.size());
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    let report = auditor.finish(&note, None).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    let state = report.state;
    let r = state.funds.round(&id).ok_or_else(|| CmdError::refused(anyhow!("no round {id} in the log")))?;
    let inst = state.funds.round_instance(&id).map_err(|e| CmdError::failed(anyhow!("round {id}: {e}")))?;
    let text = pb::write(&inst);
    match &a.out {
        Some(p) => {
            std::fs::write(p, &text).input_ctx(format!("cannot write {}", p.display()))?;
            let status = match &r.outcome {
                Some(o) => format!("closed, {} selected", o.selected.len()),
                None => format!("{:?}", r.status).to_lowercase(),
            };
            eprintln!(
                "wrote round {id} of {} ({} projects, {} ballots, {status}) to {}; check it with: meent pb {} --rule {}",
                r.fund,
                r.projects.len(),
                r.ballots.len(),
                p.display(),
                p.display(),
                r.pb_rule().name()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).input_ctx("writing")?;
            out.flush().input_ctx("writing")?;
        }
    }
    Ok(())
}

fn read_books(a: &ExportArgs, fund: &str) -> CmdResult<FundBooks> {
    match (&a.data, &a.server) {
        (Some(d), None) => books::from_data(d, fund),
        (None, Some(s)) => books::from_server(&Client::new(s)?, fund, true),
        _ => Err(CmdError::usage(anyhow!("give exactly one of --data DIR, --server URL"))),
    }
}

fn jsonl(a: &ExportArgs) -> CmdResult {
    let source = LogSource::from_args(a.data.as_deref(), a.server.as_deref(), None)?;
    let note = source.checkpoint(None)?;
    let size = claimed_size(&note)?;
    let mut out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).input_ctx(format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let bar = progress::bar(size, "exporting");
    source.for_each_chunk(size, |chunk| {
        for leaf in chunk {
            out.write_all(leaf).input_ctx("writing")?;
            out.write_all(b"\n").input_ctx("writing")?;
        }
        bar.inc(chunk.len() as u64);
        Ok(())
    })?;
    out.flush().input_ctx("writing")?;
    bar.finish_and_clear();
    if let Some(p) = &a.out {
        let cp = sibling_checkpoint(p);
        std::fs::write(&cp, note).input_ctx(format!("cannot write {}", cp.display()))?;
        eprintln!("wrote {size} records to {} and the signed checkpoint to {}", p.display(), cp.display());
    }
    Ok(())
}
