//! Where a command reads a whole log from: a data directory, a server, or an exported file.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use ledger::checkpoint;
use ledger::jcs;
use ledger::store::sled_store::SledStore;
use ledger::store::{meta, Store};
use serde_json::Value;

use crate::client::{Client, DEFAULT_SERVER};
use crate::exit::{CmdError, CmdResult, InputContext};

/// Records are read and checked in chunks of this many.
pub const CHUNK_RECORDS: usize = 4096;

/// A readable log: its signed checkpoint and its records as leaf bytes, in order.
pub enum LogSource {
    /// A data directory's store (opened read-only, without the operator key).
    Data(Box<SledStore>),
    /// A server.
    Server(Client),
    /// An exported JSONL file.
    File(PathBuf),
}

/// `--server`, else, when no other source (`--data`, `--log`) is given,
/// `$MEENT_SERVER`, else the default server: as every other command.
pub fn default_server(server: Option<String>, other_source: bool) -> Option<String> {
    if server.is_some() || other_source {
        return server;
    }
    Some(std::env::var("MEENT_SERVER").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_SERVER.to_string()))
}

impl LogSource {
    /// Pick the source from the three exclusive options.
    pub fn from_args(data: Option<&Path>, server: Option<&str>, log: Option<&Path>) -> CmdResult<LogSource> {
        match (data, server, log) {
            (Some(d), None, None) => {
                if !ledger::log::store_path(d).exists() {
                    return Err(CmdError::input(anyhow!("{} holds no meent ledger", d.display())));
                }
                // Read-only: nothing in DIR is written (a copy is opened), so a
                // full disk, a read-only mount or a store kept as evidence can be audited.
                let store = SledStore::open_read_only(&ledger::log::store_path(d)).map_err(|e| {
                    crate::exit::store_error(
                        d,
                        anyhow!(
                            "cannot open the store in {}: {e} (if the server is running on it, use --server)",
                            d.display()
                        ),
                    )
                })?;
                for note in store.notes() {
                    eprintln!("note: {note}");
                }
                if let Some(d) = store.damage() {
                    return Err(CmdError::failed(anyhow!("{d}")));
                }
                if store.meta(meta::CHECKPOINT).ok().flatten().is_none() {
                    return Err(CmdError::input(anyhow!("{} holds no meent ledger", d.display())));
                }
                Ok(LogSource::Data(Box::new(store)))
            }
            (None, Some(s), None) => Ok(LogSource::Server(Client::new(s)?)),
            (None, None, Some(f)) => Ok(LogSource::File(f.to_path_buf())),
            _ => Err(CmdError::input(anyhow!("give exactly one of --data DIR, --server URL, --log FILE"))),
        }
    }

    /// The signed checkpoint (for a file: `checkpoint_file`, or FILE.checkpoint beside it).
    pub fn checkpoint(&self, checkpoint_file: Option<&Path>) -> CmdResult<String> {
        match self {
            LogSource::Data(store) => {
                let b = store
                    .meta(meta::CHECKPOINT)
                    .input_ctx("reading the checkpoint")?
                    .ok_or_else(|| CmdError::input(anyhow!("the store has no checkpoint")))?;
                String::from_utf8(b).map_err(|_| CmdError::failed(anyhow!("the stored checkpoint is not UTF-8")))
            }
            LogSource::Server(c) => c.checkpoint(),
            LogSource::File(f) => {
                let p = checkpoint_file.map(Path::to_path_buf).unwrap_or_else(|| sibling_checkpoint(f));
                std::fs::read_to_string(&p)
                    .input_ctx(format!("cannot read the checkpoint {} (give it with --checkpoint FILE)", p.display()))
            }
        }
    }

    /// Call `each` with chunks of leaf bytes, records 0..size in order.
    pub fn for_each_chunk(&self, size: u64, mut each: impl FnMut(&[Vec<u8>]) -> CmdResult) -> CmdResult {
        let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(CHUNK_RECORDS);
        let mut count: u64 = 0;
        match self {
            LogSource::Data(store) => {
                for item in store.records_from(0) {
                    if count >= size {
                        break;
                    }
                    let (_, bytes) = item.map_err(|e| {
                        CmdError::failed(anyhow!(
                            "record {count} cannot be read from {}: {e}",
                            store.path().join("db").display()
                        ))
                    })?;
                    chunk.push(bytes);
                    count += 1;
                    if chunk.len() == CHUNK_RECORDS {
                        each(&chunk)?;
                        chunk.clear();
                    }
                }
            }
            LogSource::Server(c) => {
                while count < size {
                    let limit = (size - count).min(ledger::limits::PAGE_RECORDS_MAX);
                    let page = c.get_json(&format!("/v1/entries?from={count}&limit={limit}"))?;
                    let entries = page["entries"]
                        .as_array()
                        .ok_or_else(|| CmdError::io(anyhow!("the server's page at {count} has no entries")))?;
                    if entries.is_empty() {
                        break;
                    }
                    let leaves: Vec<Vec<u8>> = entries
                        .iter()
                        .map(ledger::views::RecordView::leaf_bytes_of)
                        .collect::<Result<_, _>>()
                        .map_err(|e| CmdError::failed(anyhow!("record near {count}: {e}")))?;
                    count += leaves.len() as u64;
                    each(&leaves)?;
                }
            }
            LogSource::File(f) => {
                let file = std::fs::File::open(f).input_ctx(format!("cannot open {}", f.display()))?;
                let mut reader = std::io::BufReader::new(file);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    let n = reader.read_until(b'\n', &mut line).input_ctx(format!("reading {}", f.display()))?;
                    if n == 0 {
                        break;
                    }
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    } else {
                        return Err(CmdError::failed(anyhow!(
                            "record {count}: the last line does not end with a newline (truncated file?)"
                        )));
                    }
                    chunk.push(line.clone());
                    count += 1;
                    if chunk.len() == CHUNK_RECORDS {
                        each(&chunk)?;
                        chunk.clear();
                    }
                }
            }
        }
        if !chunk.is_empty() {
            each(&chunk)?;
        }
        Ok(())
    }
}

/// `FILE.checkpoint`.
pub fn sibling_checkpoint(f: &Path) -> PathBuf {
    let mut s = f.as_os_str().to_owned();
    s.push(".checkpoint");
    PathBuf::from(s)
}

/// The size a checkpoint note claims (signature checked later, against genesis).
pub fn claimed_size(note: &str) -> CmdResult<u64> {
    let (cp, _) = checkpoint::parse_unverified(note).map_err(|e| CmdError::failed(anyhow!("checkpoint: {e}")))?;
    Ok(cp.size)
}

/// Parse a JSON value (for tests and tools).
pub fn leaf_of(v: &Value) -> CmdResult<Vec<u8>> {
    jcs::to_vec(v).map_err(|e| CmdError::failed(anyhow!("{e}")))
}
