//! Durable storage behind a trait of plain Rust types, so that another engine can
//! be added without touching the log or the domain. Only [`sled_store`] knows sled.
//!
//! What is stored: each record's leaf bytes by `seq`, with its entry id and leaf
//! hash; the entry-id → `seq` index (idempotent resubmission); the complete
//! aligned Merkle nodes (an engine may store only some levels and recompute
//! the others from leaf hashes: [`Store::stores_level`]); named metadata (the
//! last signed checkpoint, the tree frontier); and, apart, a snapshot of the
//! state. One [`Commit`] is applied atomically
//! ([`Store::write`]) and is durable once [`Store::flush`] returns; the log
//! acknowledges nothing before that flush.
//!
//! [`sled_store`] is the engine the server uses; the log opens any store
//! (`Log::open_with`). For tests (and with the `test-stores` feature),
//! [`memory`] keeps a store in memory that can lose its unflushed writes as a
//! crash would, and [`faulty`] wraps a store to fail or panic at chosen calls.

#[cfg(any(test, feature = "test-stores"))]
pub mod faulty;
#[cfg(any(test, feature = "test-stores"))]
pub mod memory;
pub mod sled_store;

use crate::ids::{EntryId, Seq};
use crate::merkle::Hash;

/// A storage failure: I/O, or bytes on disk that are not what was written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (I/O, lock held by another process …).
    #[error("storage engine: {0}")]
    Engine(String),
    /// Stored bytes are malformed.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

/// Metadata names.
pub mod meta {
    /// The last signed checkpoint (signed note text).
    pub const CHECKPOINT: &str = "checkpoint";
    /// The Merkle frontier at the checkpoint's size.
    pub const FRONTIER: &str = "frontier";
    /// The log's origin.
    pub const ORIGIN: &str = "origin";
}

/// One atomic, durable group of writes.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// New records: position, entry id, leaf bytes.
    pub records: Vec<(Seq, EntryId, Vec<u8>)>,
    /// New complete Merkle nodes: level, index, hash.
    pub nodes: Vec<(u32, u64, Hash)>,
    /// Metadata to set.
    pub meta: Vec<(&'static str, Vec<u8>)>,
}

/// Records in order, as (seq, leaf bytes).
pub type RecordIter<'a> = Box<dyn Iterator<Item = Result<(Seq, Vec<u8>), StoreError>> + 'a>;

/// Records in order with their stored leaf hashes, as (seq, leaf hash, leaf bytes).
pub type LeafIter<'a> = Box<dyn Iterator<Item = Result<(Seq, Hash, Vec<u8>), StoreError>> + 'a>;

/// One stored record, lent for a visit ([`Store::scan_records`]).
#[derive(Debug, Clone, Copy)]
pub struct LeafRef<'a> {
    /// Its position.
    pub seq: Seq,
    /// The leaf hash stored for it (level 0 of the tree).
    pub leaf: Hash,
    /// Its leaf bytes.
    pub bytes: &'a [u8],
}

/// What [`Store::scan_records`] calls with each run of records: `Break` stops the scan.
pub type Visit<'v> = dyn FnMut(&[LeafRef<'_>]) -> std::ops::ControlFlow<()> + 'v;

/// How many records [`Store::scan_records`]'s default hands over at a time.
pub const SCAN_BATCH: usize = 512;

/// A log store.
pub trait Store: Send + Sync {
    /// Apply `c` atomically; it is durable after the next [`Store::flush`].
    /// After a crash the store holds a prefix of the writes, each whole or absent.
    fn write(&self, c: &Commit) -> Result<(), StoreError>;
    /// Make every write so far durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Write and flush: when this returns `Ok`, `c` is on disk.
    fn commit(&self, c: &Commit) -> Result<(), StoreError> {
        self.write(c)?;
        self.flush()
    }
    /// The leaf bytes of record `seq`.
    fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError>;
    /// The position of the entry with this id.
    fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError>;
    /// A complete aligned Merkle node.
    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError>;
    /// Named metadata.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Records from `from` on, in order, as (seq, leaf bytes).
    fn records_from(&self, from: Seq) -> RecordIter<'_> {
        Box::new(self.leaves_from(from).map(|r| r.map(|(seq, _, bytes)| (seq, bytes))))
    }
    /// Records from `from` on, in order, with the leaf hash stored for each.
    fn leaves_from(&self, from: Seq) -> LeafIter<'_>;
    /// Every stored record from genesis on, in order, lent to `visit` in
    /// runs (each non-empty, no copy of the bytes) until it returns `Break`:
    /// the one pass of opening, which checks each record. A store that keeps
    /// its entry-id index in memory builds it in this pass, and fails the
    /// scan (after visiting the records before) at a record whose entry id an
    /// earlier record carries. `Ok` when every record was visited or `visit`
    /// stopped; an error for a record the store cannot read. `visit` must not
    /// call [`Store::seq_of`] or [`Store::write`] (an engine may hold its
    /// index locked while it scans).
    fn scan_records(&self, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let mut owned: Vec<(Seq, Hash, Vec<u8>)> = Vec::with_capacity(SCAN_BATCH);
        let mut leaves = self.leaves_from(0);
        loop {
            owned.clear();
            let mut failed = None;
            for item in leaves.by_ref() {
                match item {
                    Ok(leaf) => {
                        owned.push(leaf);
                        if owned.len() == SCAN_BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if !owned.is_empty() {
                let batch: Vec<LeafRef<'_>> =
                    owned.iter().map(|(seq, leaf, bytes)| LeafRef { seq: *seq, leaf: *leaf, bytes }).collect();
                if visit(&batch).is_break() {
                    return Ok(());
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
            if owned.len() < SCAN_BATCH {
                return Ok(());
            }
        }
    }
    /// Whether complete tree nodes of `level` are stored as written; the
    /// others are recomputed from stored leaf hashes when asked for.
    fn stores_level(&self, level: u32) -> bool;
    /// Replace the state snapshot with what `write` writes, durably and atomically,
    /// after making every record written so far durable (so a snapshot never
    /// covers records that a crash could lose).
    fn put_snapshot(
        &self,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError>;
    /// The last state snapshot, if there is one.
    fn snapshot(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// The highest stored record position, if any.
    fn last_seq(&self) -> Result<Option<Seq>, StoreError>;
    /// Whether the disk has room to write about `bytes` more and still keep
    /// the reserve the engine needs for itself (to reorganise its pages as it
    /// reads, to open again). The log asks before it judges a group: a group
    /// refused here changes nothing, so the log stays healthy and takes
    /// writes again as soon as there is room. An engine that fills the disk
    /// anyway (another process took the space) fails its write.
    fn room_for(&self, bytes: u64) -> Result<(), StoreError> {
        let _ = bytes;
        Ok(())
    }
}

/// The free bytes an engine keeps on its disk, of a filesystem of `total`
/// bytes: a sixteenth of it, between 1 MiB and 64 MiB.
pub fn reserve_bytes(total: u64) -> u64 {
    (total / 16).clamp(1 << 20, 64 << 20)
}
