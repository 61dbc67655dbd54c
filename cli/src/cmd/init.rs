//! `meent init --data DIR --origin NAME [--registrar ID=PUBKEY]…`, or
//! `meent init --data DIR --from-log FILE --operator-key KEY [--checkpoint CP]`:
//! rebuild a ledger from an exported or salvaged log (every record checked
//! again; the same records, so the same root).

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use ledger::entry::Registrar;
use ledger::log::Log;

use crate::exit::{CmdError, CmdResult, InputContext};

/// Arguments of `meent init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create.
    #[arg(long)]
    data: PathBuf,
    /// The log's name in checkpoints, e.g. meent.example.org/amsterdam.
    #[arg(long, required_unless_present = "from_log", conflicts_with = "from_log")]
    origin: Option<String>,
    /// A registrar who admits members: ID=PUBKEY (64 hex). Repeat for more.
    #[arg(long = "registrar", value_name = "ID=PUBKEY", conflicts_with = "from_log")]
    registrars: Vec<String>,
    /// Rebuild the ledger from this JSONL log (`meent export --format jsonl`
    /// or `meent salvage`), checking every record again.
    #[arg(long, value_name = "FILE", requires = "operator_key")]
    from_log: Option<PathBuf>,
    /// With --from-log: the operator's key file (operator.pem of the old
    /// data directory); it must be the key the log's genesis names.
    #[arg(long, value_name = "FILE", requires = "from_log")]
    operator_key: Option<PathBuf>,
    /// With --from-log: the log's signed checkpoint (default: FILE.checkpoint).
    #[arg(long, value_name = "FILE", requires = "from_log")]
    checkpoint: Option<PathBuf>,
}

/// Parse `ID=PUBKEY`.
pub fn parse_registrar(s: &str) -> CmdResult<Registrar> {
    let (id, key) =
        s.split_once('=').ok_or_else(|| CmdError::input(anyhow!("--registrar {s:?}: expected ID=PUBKEY")))?;
    Ok(Registrar {
        id: id.parse().input_ctx(format!("--registrar {s:?}"))?,
        key: key.parse().input_ctx(format!("--registrar {s:?}"))?,
    })
}

/// Rebuild a ledger in `data` from the log `file`: audit it first as
/// `meent verify --log` does, then store every record (checked again) and the
/// signed checkpoint.
fn from_log(
    data: &std::path::Path,
    file: &std::path::Path,
    key: &std::path::Path,
    cp: Option<&std::path::Path>,
) -> CmdResult<Log> {
    let source = super::source::LogSource::File(file.to_path_buf());
    let note = source.checkpoint(cp)?;
    let size = super::source::claimed_size(&note)?;
    let mut auditor = ledger::audit::Auditor::new();
    source.for_each_chunk(size, |chunk| {
        auditor.push(chunk).map_err(|e| CmdError::failed(anyhow!("{}: {e}", file.display())))
    })?;
    let report = auditor.finish(&note, None).map_err(|e| CmdError::failed(anyhow!("{}: {e}", file.display())))?;
    let operator = ledger::crypto::read_key_file(key).input_ctx("the operator key")?;
    if report.state.operator_key != Some(ledger::crypto::PublicKey::from(operator.verifying_key())) {
        return Err(CmdError::input(anyhow!(
            "{} is not the operator key the log's genesis names; give the operator.pem of the old data directory",
            key.display()
        )));
    }
    let mut restore =
        Log::restore(data, operator).input_ctx(format!("cannot create a ledger in {}", data.display()))?;
    let stored = source.for_each_chunk(size, |chunk| {
        restore.push(chunk).map_err(|e| CmdError::failed(anyhow!("{}: {e}", file.display())))
    });
    let log =
        stored.and_then(|()| restore.finish(&note).map_err(|e| CmdError::failed(anyhow!("{}: {e}", file.display()))));
    log.map_err(|e| {
        CmdError::new(
            e.class,
            e.error.context(format!(
                "the ledger in {} is incomplete: remove that directory before you try again",
                data.display()
            )),
        )
    })
}

/// Create the ledger and print what was made.
pub fn run(a: InitArgs) -> CmdResult {
    let log = match (&a.from_log, &a.operator_key, &a.origin) {
        (Some(file), Some(key), _) => {
            let log = from_log(&a.data, file, key, a.checkpoint.as_deref())?;
            println!(
                "restored ledger {} in {} from {} ({} records)",
                log.origin(),
                a.data.display(),
                file.display(),
                log.size()
            );
            log
        }
        (_, _, Some(origin)) => {
            let registrars = a.registrars.iter().map(|s| parse_registrar(s)).collect::<CmdResult<Vec<_>>>()?;
            let log = Log::create(&a.data, origin, registrars, crate::clock::now())
                .input_ctx(format!("cannot create a ledger in {}", a.data.display()))?;
            println!("created ledger {} in {}", log.origin(), a.data.display());
            log
        }
        _ => return Err(CmdError::usage(anyhow!("give --origin NAME, or --from-log FILE with --operator-key FILE"))),
    };
    println!(
        "operator key: {} (secret in {})",
        log.operator_key(),
        a.data.join(ledger::log::OPERATOR_KEY_FILE).display()
    );
    print!("{}", log.checkpoint().0);
    Ok(())
}
