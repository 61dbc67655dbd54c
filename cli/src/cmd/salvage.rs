//! `meent salvage --data DIR --out FILE`: export every intact record of a
//! damaged store, in order up to the first bad one, as a JSONL log (and
//! `FILE.checkpoint`) that `meent verify --log FILE` accepts and
//! `meent init --from-log FILE` restores. The store is opened read-only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use ledger::audit::Auditor;
use ledger::checkpoint::{self, Checkpoint};
use ledger::log::NodesOf;
use ledger::merkle::{self, Frontier};
use ledger::store::sled_store::SledStore;
use ledger::store::{meta, Store};
use serde_json::json;

use super::source::sibling_checkpoint;
use crate::exit::{CmdError, CmdResult, InputContext};

/// Arguments of `meent salvage`.
#[derive(Debug, Args)]
pub struct SalvageArgs {
    /// The damaged data directory (read, never written; the server must not be running on it).
    #[arg(long)]
    data: PathBuf,
    /// The JSONL log to write; its checkpoint goes to FILE.checkpoint.
    #[arg(long)]
    out: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// An I/O error on the output, with what was being done (exit 2).
trait IoContext<T> {
    fn failed_ctx(self, what: impl std::fmt::Display) -> CmdResult<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn failed_ctx(self, what: impl std::fmt::Display) -> CmdResult<T> {
        self.map_err(|e| CmdError::io(anyhow::Error::from(e).context(what.to_string())))
    }
}

/// What the salvage read.
struct Salvaged {
    /// Records written, each checked (leaf hash, canonical form, signature, rules).
    size: u64,
    /// Why the next record could not be taken, if the store holds more.
    stopped: Option<String>,
}

/// The store's last signed checkpoint, verified with the operator key, or why not.
fn last_checkpoint(store: &SledStore, key: &ed25519_dalek::VerifyingKey) -> Result<(String, Checkpoint), String> {
    let read = |name: &str| -> Result<String, String> {
        let b = store.meta(name).map_err(|e| e.to_string())?.ok_or_else(|| format!("the store has no {name}"))?;
        String::from_utf8(b).map_err(|_| format!("the stored {name} is not UTF-8"))
    };
    let origin = read(meta::ORIGIN)?;
    let stored = read(meta::CHECKPOINT).and_then(|n| {
        checkpoint::open(&n, &origin, key).map(|cp| (n, cp)).map_err(|e| format!("the stored checkpoint: {e}"))
    });
    // The last acknowledged checkpoint, when the store lost the records after its own.
    let acked = store
        .acknowledged_note()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|n| checkpoint::open(&n, &origin, key).ok().map(|cp| (n, cp)));
    match (stored, acked) {
        (Ok(s), Some(a)) if a.1.size > s.1.size => Ok(a),
        (Ok(s), _) => Ok(s),
        (Err(_), Some(a)) => Ok(a),
        (Err(e), None) => Err(e),
    }
}

/// Write every intact record from genesis on to `out`, checking each.
fn copy_records(
    store: &SledStore,
    limit: Option<u64>,
    out: &mut dyn Write,
    frontier: &mut Frontier,
) -> CmdResult<Salvaged> {
    let db = store.path().join("db");
    let mut auditor = Auditor::new();
    let mut stopped = None;
    for item in store.leaves_from(0) {
        let n = frontier.size();
        if limit.is_some_and(|l| n >= l) {
            stopped = Some(format!(
                "record {n} and later are stored but not covered by the signed checkpoint (never acknowledged)"
            ));
            break;
        }
        let (seq, stored_leaf, bytes) = match item {
            Ok(r) => r,
            Err(e) => {
                stopped = Some(format!("record {n} cannot be read from {}: {e}", db.display()));
                break;
            }
        };
        let lh = merkle::leaf_hash(&bytes);
        let bad = if seq != n {
            Some(format!("record {n} is missing from {} (the next stored record is {seq})", db.display()))
        } else if stored_leaf != lh {
            Some(format!("record {n} in {} does not match its leaf hash (altered on disk)", db.display()))
        } else {
            auditor.push(std::slice::from_ref(&bytes)).err().map(|e| format!("{e} (in {})", db.display()))
        };
        if let Some(why) = bad {
            stopped = Some(why);
            break;
        }
        out.write_all(&bytes).and_then(|_| out.write_all(b"\n")).failed_ctx("writing the salvaged log")?;
        frontier.push(lh).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    }
    let n = frontier.size();
    if stopped.is_none() && limit.is_some_and(|l| n < l) {
        stopped = Some(match store.damage() {
            Some(d) => d.to_string(),
            None => format!("{} holds no record {n} or later", db.display()),
        });
    }
    Ok(Salvaged { size: n, stopped })
}

/// Write `bytes` to `path` through a temporary file, synced and renamed.
fn write_atomically(path: &Path, bytes: &[u8]) -> CmdResult {
    let tmp = path.with_extension("salvage-tmp");
    let mut f = std::fs::File::create(&tmp).failed_ctx(format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).failed_ctx(format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).failed_ctx(format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// Salvage and print what was saved and what was not.
pub fn run(a: SalvageArgs) -> CmdResult {
    let store_dir = ledger::log::store_path(&a.data);
    if !store_dir.exists() {
        return Err(CmdError::input(anyhow!("{} holds no meent ledger", a.data.display())));
    }
    let key_path = a.data.join(ledger::log::OPERATOR_KEY_FILE);
    let operator = ledger::crypto::read_key_file(&key_path)
        .input_ctx(format!("the operator key {} signs the salvaged checkpoint", key_path.display()))?;
    let store = SledStore::open_read_only(&store_dir).map_err(|e| {
        crate::exit::store_error(
            &a.data,
            anyhow!("cannot open the store in {}: {e}; nothing was salvaged", a.data.display()),
        )
    })?;
    for note in store.notes() {
        eprintln!("note: {note}");
    }
    if let Some(d) = store.damage() {
        eprintln!("warning: {d}");
    }
    let last = last_checkpoint(&store, &operator.verifying_key());
    if let Err(e) = &last {
        eprintln!("warning: {e}; the records are checked against their own signatures and rules only");
    }
    let limit = last.as_ref().ok().map(|(_, cp)| cp.size);

    let tmp_log = a.out.with_extension("salvage-tmp-log");
    let file = std::fs::File::create(&tmp_log).failed_ctx(format!("cannot create {}", tmp_log.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut frontier = Frontier::default();
    let salvaged = copy_records(&store, limit, &mut out, &mut frontier)?;
    let file =
        out.into_inner().map_err(|e| CmdError::failed(anyhow!("writing {}: {}", tmp_log.display(), e.error())))?;
    file.sync_all().failed_ctx(format!("writing {}", tmp_log.display()))?;
    if salvaged.size == 0 {
        let _ = std::fs::remove_file(&tmp_log);
        return Err(CmdError::failed(anyhow!(
            "no record could be salvaged: {}",
            salvaged.stopped.unwrap_or_else(|| "the store holds no records".into())
        )));
    }
    let (note, consistent) = salvaged_checkpoint(&store, &last, &salvaged, frontier.root(), &operator)?;
    std::fs::rename(&tmp_log, &a.out).failed_ctx(format!(
        "cannot rename {} to {}",
        tmp_log.display(),
        a.out.display()
    ))?;
    let cp_path = sibling_checkpoint(&a.out);
    write_atomically(&cp_path, note.as_bytes())?;

    report(&a, &salvaged, last.as_ref().ok().map(|(_, cp)| cp.size), &consistent, &cp_path);
    Ok(())
}

/// The checkpoint of the salvaged log: the stored one when every record it
/// covers was read; else one over the intact records, signed with the
/// operator key, with whether they are proven a prefix of the stored one
/// (where the tree nodes allow).
fn salvaged_checkpoint(
    store: &SledStore,
    last: &Result<(String, Checkpoint), String>,
    salvaged: &Salvaged,
    root: merkle::Hash,
    operator: &ed25519_dalek::SigningKey,
) -> Result<(String, Result<(), String>), CmdError> {
    Ok(match last {
        Ok((note, cp)) if cp.size == salvaged.size && cp.root == root => (note.clone(), Ok(())),
        Ok((_, cp)) => {
            let proven = merkle::consistency_proof(&NodesOf(store), salvaged.size, cp.size)
                .map_err(|e| e.to_string())
                .and_then(|p| {
                    merkle::verify_consistency(salvaged.size, cp.size, &p, &root, &cp.root).map_err(|e| e.to_string())
                });
            let origin = cp.origin.clone();
            (Checkpoint { origin, size: salvaged.size, root }.sign(operator), proven)
        }
        Err(e) => {
            let origin = store
                .meta(meta::ORIGIN)
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| CmdError::failed(anyhow!("{e}, and the store's origin cannot be read either")))?;
            (Checkpoint { origin, size: salvaged.size, root }.sign(operator), Err(e.clone()))
        }
    })
}

/// Print what was saved, and what was not.
fn report(
    a: &SalvageArgs,
    salvaged: &Salvaged,
    last_size: Option<u64>,
    consistent: &Result<(), String>,
    cp_path: &Path,
) {
    if a.json {
        println!(
            "{}",
            json!({"salvaged": salvaged.size, "checkpoint_size": last_size, "complete": Some(salvaged.size) == last_size,
                   "stopped": salvaged.stopped, "consistent_with_checkpoint": consistent.is_ok(),
                   "out": a.out, "checkpoint": cp_path})
        );
    } else {
        println!("salvaged {} records to {} (checkpoint {})", salvaged.size, a.out.display(), cp_path.display());
        match (last_size, &consistent) {
            (Some(s), Ok(())) if s == salvaged.size => {
                println!("  every record of the last signed checkpoint (size {s})")
            }
            (Some(s), Ok(())) => {
                println!("  a prefix of the last signed checkpoint (size {s}): proven consistent with it")
            }
            (Some(s), Err(e)) => println!("  NOT proven a prefix of the last signed checkpoint (size {s}): {e}"),
            (None, _) => println!("  the store's checkpoint could not be read: checked by signatures and rules only"),
        }
    }
    if let Some(why) = &salvaged.stopped {
        eprintln!("could not salvage past record {}: {why}", salvaged.size);
        if let Some(s) = last_size.filter(|s| *s > salvaged.size) {
            eprintln!(
                "records {} to {} of the signed checkpoint are not in the salvaged log: restore them from a backup or an export",
                salvaged.size,
                s - 1
            );
        }
    }
}
