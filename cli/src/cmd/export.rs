//! `meent export --format jsonl (--server URL | --data DIR) [--out FILE]`

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::source::{claimed_size, sibling_checkpoint, LogSource};
use crate::exit::{CmdResult, InputContext};
use crate::progress;

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// The whole log, one canonical JSON record per line.
    Jsonl,
}

/// Arguments of `meent export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum)]
    format: Format,
    /// A running server's URL.
    #[arg(long)]
    server: Option<String>,
    /// A data directory (the server must not be running on it).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write here instead of standard output (with jsonl, the checkpoint goes to FILE.checkpoint).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Write the export.
pub fn run(a: ExportArgs) -> CmdResult {
    let source = LogSource::from_args(a.data.as_deref(), a.server.as_deref(), None)?;
    match a.format {
        Format::Jsonl => {
            let note = source.checkpoint(None)?;
            let size = claimed_size(&note)?;
            let mut out: Box<dyn Write> = match &a.out {
                Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).input_ctx(format!("cannot create {}", p.display()))?)),
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
        }
    }
    Ok(())
}
