//! The [`Store`] on sled 0.34: one tree, keys prefixed by what they hold, each
//! [`Commit`] one atomic `apply_batch`; `flush` is sled's (fsync of its log,
//! which sled recovers as a prefix).
//!
//! Records are stored in *segments*: consecutive records of one commit, in
//! runs of about [`SEGMENT_BYTES`] (a larger record is a segment alone), under
//! the key of their first position. A segment
//! holds, per record, its position, its entry id, its leaf hash (the tree's
//! level 0) and its leaf bytes. Tree nodes of levels 1 to
//! [`UNSTORED_LEVELS`] are not stored: each is recomputed from at most 8 leaf
//! hashes of neighbouring records when a proof needs it; nodes from level
//! `UNSTORED_LEVELS + 1` up are stored under their own keys. sled's cost is
//! per key (tree walk, page deltas, node copies): one key per run of records
//! and about one per 8 records for nodes, instead of about four per record
//! (record, id index, leaf and interior nodes), made the writer several times
//! cheaper under load (docs/PERFORMANCE.md).
//!
//! The entry id → position index is kept in memory, compact: an id's first
//! 8 bytes → its position (about 17 to 34 bytes per entry in a hash table;
//! ids sharing their first 8 bytes are kept whole apart), a hit confirmed by
//! the id stored beside the record, a miss answered without a read. Opening
//! does not read the records: the log's check of opening reads every segment
//! once ([`Store::scan_records`]), checking each record while the index is
//! built in the same pass (two records with one id fail it); a store opened
//! without that check builds the index at its first lookup.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use super::{Commit, LeafIter, LeafRef, Store, StoreError, Visit};
use crate::ids::{EntryId, Seq};
use crate::merkle::Hash;

/// Segments of records, by first position.
const SEGMENT: u8 = b's';
/// The per-record layout of development versions before segments.
const OLD_RECORD: u8 = b'r';
const NODE: u8 = b'n';
const META: u8 = b'm';

/// A commit's records are cut into segments of about this many bytes (a
/// record larger than this is a segment alone). It keeps sled's leaf nodes
/// (up to 16 keys) well under its 128 KiB inline-message limit.
pub const SEGMENT_BYTES: usize = 6 * 1024;

/// Per record in a segment: position (8), entry id (32), leaf hash (32),
/// length (4), then the leaf bytes.
const RECORD_HEADER: usize = 8 + 32 + 32 + 4;

/// sled's page cache. Its default (1 GiB) filled with the whole store when
/// opening scans every segment, and stayed resident: 1.8 GiB after a restart
/// at 1 000 000 records. Writes and reads touch the newest pages and the few
/// an audit asks for, which this holds many times over (32 MiB: the node
/// benchmark's ingest and restart no slower than at 64, 27 MiB less resident).
pub const CACHE_BYTES: u64 = 32 << 20;

/// Tree levels 1 to this one are recomputed from leaf hashes, not stored.
pub const UNSTORED_LEVELS: u32 = 3;

/// One record of a segment: position, entry id, leaf hash, leaf bytes.
type SegRecord<'a> = (Seq, EntryId, Hash, &'a [u8]);

/// What a commit changes in the id index: the replaced records and the new ones, as (id, position) pairs.
type IdChanges = (Vec<(EntryId, Seq)>, Vec<(EntryId, Seq)>);

/// How many segments [`SledStore::scan_records`] lends at a time (about 400 KiB of records).
const SCAN_SEGMENTS: usize = 64;

/// A run of segments read by the scan: the records of the first `records`
/// of them may be lent; `stop` is why the scan ends after them, if it does.
struct Run {
    segments: Vec<(Seq, sled::IVec)>,
    records: usize,
    stop: Option<StoreError>,
}

impl Run {
    /// Whether this is the last run: an error, or the segments ran out.
    fn end(&self) -> bool {
        self.stop.is_some() || self.segments.len() < SCAN_SEGMENTS
    }
}

/// The position in [`Ids::by_prefix`] of a prefix that several ids share.
const SHARED: Seq = Seq::MAX;

/// The entry-id → position index, in memory: an id's first 8 bytes → its
/// position, about 17 to 34 bytes per entry. A hit is confirmed by reading
/// the id stored beside that record ([`SledStore::seq_of`]); a miss costs no
/// read. Ids are SHA-256 digests, so two sharing 8 bytes are rare, but a
/// client can make such a pair: they are kept, exactly, in [`Ids::exact`].
#[derive(Debug, Default)]
struct Ids {
    /// First 8 bytes of an id → its position, or [`SHARED`] (then see `exact`).
    by_prefix: HashMap<u64, Seq>,
    /// The ids whose first 8 bytes another id shares → their positions.
    exact: HashMap<EntryId, Seq>,
}

/// Where [`Ids`] says an id may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Nowhere: no id has its first 8 bytes.
    Absent,
    /// At this position, if the record there carries it (its first 8 bytes do).
    Maybe(Seq),
    /// At this position (a shared prefix: looked up exactly).
    At(Seq),
}

fn prefix(id: &EntryId) -> u64 {
    u64::from_le_bytes(id.0[..8].try_into().expect("8 bytes"))
}

impl Ids {
    fn with_capacity(n: usize) -> Ids {
        Ids { by_prefix: HashMap::with_capacity(n), exact: HashMap::new() }
    }

    fn find(&self, id: &EntryId) -> Found {
        match self.by_prefix.get(&prefix(id)) {
            None => Found::Absent,
            Some(&SHARED) => self.exact.get(id).map_or(Found::Absent, |&seq| Found::At(seq)),
            Some(&seq) => Found::Maybe(seq),
        }
    }

    /// Index `id` at `seq`; `id_at` reads the entry id of the record at
    /// another position (needed only when two ids share their first 8
    /// bytes). The position another record with this id had, if one had.
    fn insert(
        &mut self,
        id: EntryId,
        seq: Seq,
        id_at: impl FnOnce(Seq) -> Result<Option<EntryId>, StoreError>,
    ) -> Result<Option<Seq>, StoreError> {
        let p = prefix(&id);
        match self.by_prefix.get(&p).copied() {
            None => {
                self.by_prefix.insert(p, seq);
                Ok(None)
            }
            Some(SHARED) => Ok(self.exact.insert(id, seq).filter(|&other| other != seq)),
            Some(other) if other == seq => Ok(None),
            Some(other) => match id_at(other)? {
                Some(there) if there == id => {
                    self.by_prefix.insert(p, seq);
                    Ok(Some(other))
                }
                Some(there) => {
                    self.exact.insert(there, other);
                    self.exact.insert(id, seq);
                    self.by_prefix.insert(p, SHARED);
                    Ok(None)
                }
                // The index pointed at a record that is gone: only this one has the prefix.
                None => {
                    self.by_prefix.insert(p, seq);
                    Ok(None)
                }
            },
        }
    }

    /// Drop `id`, which the record at `seq` carried.
    fn remove(&mut self, id: &EntryId, seq: Seq) {
        let p = prefix(id);
        match self.by_prefix.get(&p).copied() {
            Some(SHARED) if self.exact.get(id) == Some(&seq) => {
                self.exact.remove(id);
            }
            Some(s) if s == seq => {
                self.by_prefix.remove(&p);
            }
            _ => {}
        }
    }
}

/// The id index of a [`SledStore`]: built by the check of opening
/// ([`Store::scan_records`]) or else at the first [`Store::seq_of`].
#[derive(Debug)]
enum IdIndex {
    /// Not built yet: writes leave it alone (building reads them from the store).
    Unbuilt,
    Built(Ids),
    /// Building it met a bad segment or two records with one id: why.
    Broken(String),
}

/// Records with their leaf hashes, as (seq, leaf hash, leaf bytes).
type Leaves = Box<dyn Iterator<Item = Result<(Seq, Hash, Vec<u8>), StoreError>>>;

/// A sled-backed store.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    /// Entry id → position, for every stored record, once built.
    ids: RwLock<IdIndex>,
    /// The state snapshot lives beside sled's files, as a plain file replaced by rename.
    snapshot_path: std::path::PathBuf,
    /// What opening found and set aside (leftovers of an interrupted snapshot).
    notes: Vec<String>,
    /// The directory named in messages: the one opened, or the original of a copy.
    named: std::path::PathBuf,
    /// The last signed checkpoint written, until the flush after which
    /// [`HIGH_WATER_FILE`] records it.
    unflushed_note: std::sync::Mutex<Option<Vec<u8>>>,
    /// [`HIGH_WATER_FILE`], open for writing in place once first written,
    /// with the length written last.
    high_water: std::sync::Mutex<Option<(std::fs::File, usize)>>,
    /// A read-only open that found records missing (see [`HIGH_WATER_FILE`]): what.
    damage: Option<String>,
    /// A write or a flush failed. sled then refuses every later write, and
    /// also a read that meets a page it would reorganise (a split or merge
    /// that the failed write made due): such reads are answered from
    /// [`SledStore::after_failure`]'s copy.
    write_failed: std::sync::atomic::AtomicBool,
    /// The read-only copy of the store as it is on disk, opened at the first
    /// read that failed after a failed write (see [`SledStore::after_failure`]).
    fallback: std::sync::OnceLock<Box<SledStore>>,
    /// Held while the copy is being made (one copy at a time).
    opening_fallback: std::sync::Mutex<()>,
    /// For a read-only open: the private copy the store was opened from,
    /// removed when the store is dropped (declared last: dropped after sled).
    _copy: Option<tempfile::TempDir>,
}

/// Beside sled's files: the last checkpoint that a flush made durable (so
/// acknowledged), written after each flush. sled reads its log up to the
/// first damaged message and silently drops the rest; the store's own
/// checkpoint then is an older one and the shorter log is consistent. This
/// file is how opening sees that records were lost. It is written in place
/// after each flush, without its own fsync (it may lag after a crash, never
/// lead: it is written after the flush); an empty one (a crash right after
/// it was created) is ignored.
pub const HIGH_WATER_FILE: &str = "acknowledged.checkpoint";

/// The size a checkpoint note claims (its first lines: origin, size, root).
fn note_size(note: &[u8]) -> Option<u64> {
    std::str::from_utf8(note).ok()?.lines().nth(1)?.parse().ok()
}

/// Compare the store's checkpoint with the last acknowledged one; why the
/// store lost records, if it did.
fn lost_records(tree: &sled::Tree, dir: &Path, named: &Path) -> Result<Option<String>, StoreError> {
    let file = named.join(HIGH_WATER_FILE);
    let high = match std::fs::read(dir.join(HIGH_WATER_FILE)) {
        Ok(b) if b.is_empty() => return Ok(None),
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&format!("cannot read {}", file.display()), e)),
    };
    let Some(acked) = note_size(&high) else {
        return Ok(Some(format!(
            "{} is damaged (not a checkpoint); if `meent verify --data` finds nothing else, remove it",
            file.display()
        )));
    };
    let stored = tree.get(meta_key(super::meta::CHECKPOINT)).map_err(engine)?;
    let size = stored.as_deref().and_then(note_size).unwrap_or(0);
    if size < acked {
        return Ok(Some(format!(
            "{}: the store ends at record {} but {acked} records were acknowledged ({}): records {size} to {} \
             were lost (a damaged page of the store, or files from an older copy); `meent salvage` exports \
             the intact ones",
            named.join("db").display(),
            size,
            file.display(),
            acked - 1
        )));
    }
    if size == acked && stored.as_deref() != Some(high.as_slice()) && stored.is_some() {
        let (a, b) = (String::from_utf8_lossy(&high), String::from_utf8_lossy(stored.as_deref().unwrap_or(&[])));
        // Same size: the same tree, so the same root line (signatures may differ only if re-signed).
        if a.lines().nth(2) != b.lines().nth(2) {
            return Ok(Some(format!(
                "{}: the checkpoint of size {size} in the store does not have the root acknowledged in {}",
                named.join("db").display(),
                file.display()
            )));
        }
    }
    Ok(None)
}

/// Whether `name` is a file that an interrupted snapshot leaves behind:
/// sled's `snap.<lsn>.generating` (written, synced, then renamed to
/// `snap.<lsn>`) or our own `state-snapshot.bin.tmp`. Neither is ever the
/// current snapshot: the rename is what makes one current, and the previous
/// snapshot stays until then. sled 0.34 reads the highest-named `snap.*`
/// file, `.generating` included, so an empty one left by a full disk made
/// the store unopenable ("corrupt store") once space returned.
fn is_leftover(name: &str) -> bool {
    (name.starts_with("snap.") && name.ends_with(".generating"))
        || name == "state-snapshot.bin.tmp"
        || name == "state-snapshot.json.tmp"
        || name == "acknowledged.checkpoint.tmp"
}

/// The leftovers of interrupted snapshots in `dir`.
fn leftovers(dir: &Path) -> Result<Vec<std::path::PathBuf>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&format!("cannot list {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(&format!("cannot list {}", dir.display()), e))?;
        if entry.file_name().to_str().is_some_and(is_leftover) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Free bytes (for an unprivileged user) and total bytes of the filesystem
/// holding `dir`, if the system says.
#[allow(clippy::unnecessary_cast)] // the statvfs fields are u64 on some systems only
fn disk_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is NUL-terminated; statvfs fills `st` when it returns 0.
    if unsafe { libc::statvfs(path.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so `st` is initialised.
    let st = unsafe { st.assume_init() };
    let block = st.f_frsize as u64;
    Some((st.f_bavail as u64 * block, st.f_blocks as u64 * block))
}

/// Copy the store files in `from` (not the leftovers) into `to`, recursively.
fn copy_store(from: &Path, to: &Path) -> std::io::Result<u64> {
    let mut bytes = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_str().is_some_and(is_leftover) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&dst)?;
            bytes += copy_store(&src, &dst)?;
        } else {
            bytes += std::fs::copy(&src, &dst)?;
        }
    }
    Ok(bytes)
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Engine(format!("{what}: {e}"))
}

/// A thread panicked while it changed the id index: it may be half-changed.
fn poisoned() -> StoreError {
    StoreError::Engine("the entry-id index was left half-changed by a panic; restart the server to rebuild it".into())
}

fn engine(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
        other => StoreError::Engine(other.to_string()),
    }
}

fn segment_key(first: Seq) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = SEGMENT;
    k[1..].copy_from_slice(&first.to_be_bytes());
    k
}

/// The first position of a segment key.
fn segment_first(key: &[u8]) -> Result<Seq, StoreError> {
    let b: [u8; 8] = key
        .get(1..9)
        .filter(|_| key.len() == 9)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("segment key is not 9 bytes".into()))?;
    Ok(u64::from_be_bytes(b))
}

fn encode_segment(records: &[SegRecord<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.iter().map(|r| RECORD_HEADER + r.3.len()).sum());
    for (seq, id, leaf, bytes) in records {
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&id.0);
        out.extend_from_slice(leaf);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The records of the segment stored under position `first`: they must be
/// consecutive from `first` on, and fill the value exactly.
fn decode_segment(first: Seq, v: &[u8]) -> Result<Vec<SegRecord<'_>>, StoreError> {
    let bad = |what: String| StoreError::Corrupt(format!("segment at record {first}: {what}"));
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < v.len() {
        let expected =
            first.checked_add(out.len() as u64).ok_or_else(|| bad("it runs past the last position".into()))?;
        let head = v.get(at..at + RECORD_HEADER).ok_or_else(|| bad(format!("record {expected} is cut short")))?;
        let seq = u64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
        if seq != expected {
            return Err(bad(format!("holds record {seq} where record {expected} belongs")));
        }
        let id = EntryId(head[8..40].try_into().expect("32 bytes"));
        let leaf: Hash = head[40..72].try_into().expect("32 bytes");
        let len = u32::from_be_bytes(head[72..76].try_into().expect("4 bytes")) as usize;
        let start = at + RECORD_HEADER;
        let bytes = v.get(start..start + len).ok_or_else(|| bad(format!("record {seq} is cut short")))?;
        out.push((seq, id, leaf, bytes));
        at = start + len;
    }
    if out.is_empty() {
        return Err(bad("it is empty".into()));
    }
    Ok(out)
}

fn node_key(level: u32, index: u64) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = NODE;
    k[1..5].copy_from_slice(&level.to_be_bytes());
    k[5..].copy_from_slice(&index.to_be_bytes());
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![META];
    k.extend_from_slice(name.as_bytes());
    k
}

impl SledStore {
    /// Open (or create) the store in `dir`. Leftovers of a snapshot that was
    /// being written when the process stopped or the disk filled are removed
    /// first, each with a warning (and in [`SledStore::notes`]).
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let mut notes = Vec::new();
        for path in leftovers(dir)? {
            std::fs::remove_file(&path)
                .map_err(|e| io(&format!("cannot remove the unfinished snapshot {}", path.display()), e))?;
            let note = format!(
                "removed {}, a snapshot whose writing was interrupted (a full disk or a crash); \
                 the previous snapshot and the log are intact",
                path.display()
            );
            tracing::warn!("{note}");
            notes.push(note);
        }
        // Earlier versions' JSON snapshot is no longer read (a binary one
        // replaces it as the server runs): removed, not left to take room.
        let old = dir.join("state-snapshot.json");
        if old.exists() {
            std::fs::remove_file(&old).map_err(|e| io(&format!("cannot remove {}", old.display()), e))?;
            let note = format!("removed {}, the state snapshot of an earlier meent version", old.display());
            tracing::info!("{note}");
            notes.push(note);
        }
        let mut store = Self::open_dir(dir, dir, false)?;
        store.notes = notes;
        Ok(store)
    }

    /// Open the store in `dir` without writing anything there: its files are
    /// copied to a private temporary directory (in `$TMPDIR`, which must have
    /// room for them) and the copy is opened, as sled writes while it opens.
    /// Refused while another process (a server) has the store open.
    pub fn open_read_only(dir: &Path) -> Result<SledStore, StoreError> {
        let db_file = dir.join("db");
        match std::fs::File::open(&db_file) {
            Ok(f) => {
                if let Err(std::fs::TryLockError::WouldBlock) = f.try_lock_shared() {
                    return Err(StoreError::Engine(format!(
                        "could not acquire lock on {}: another process has the store open (WouldBlock)",
                        db_file.display()
                    )));
                }
            }
            Err(e) => return Err(io(&format!("cannot read {}", db_file.display()), e)),
        }
        let mut store = Self::open_copy(dir)?;
        let mut notes = Vec::new();
        for path in leftovers(dir)? {
            notes.push(format!(
                "{} is a snapshot whose writing was interrupted (a full disk or a crash); it was not read, \
                 and the next `meent serve` removes it",
                path.display()
            ));
        }
        store.notes = notes;
        Ok(store)
    }

    /// A private copy of the store files in `dir` (in `$TMPDIR`), opened
    /// leniently (see [`SledStore::damage`]) and removed when dropped.
    fn open_copy(dir: &Path) -> Result<SledStore, StoreError> {
        let copy = tempfile::Builder::new()
            .prefix("meent-store-copy.")
            .tempdir()
            .map_err(|e| io(&format!("cannot make a temporary directory in {}", std::env::temp_dir().display()), e))?;
        copy_store(dir, copy.path()).map_err(|e| {
            io(
                &format!(
                    "cannot copy the store {} to {} to open it read-only (set TMPDIR to a directory with room \
                     for a copy of the store)",
                    dir.display(),
                    copy.path().display()
                ),
                e,
            )
        })?;
        let mut store = Self::open_dir(copy.path(), dir, true)?;
        store._copy = Some(copy);
        Ok(store)
    }

    /// The store's directory (for a read-only open, the original, not the copy).
    pub fn path(&self) -> &Path {
        &self.named
    }

    /// The last checkpoint recorded as acknowledged ([`HIGH_WATER_FILE`]), if any.
    pub fn acknowledged_note(&self) -> Option<Vec<u8>> {
        std::fs::read(self.snapshot_path.with_file_name(HIGH_WATER_FILE)).ok().filter(|b| !b.is_empty())
    }

    /// For a read-only open: records the store lost, if it did (an open for
    /// writing refuses such a store).
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// What opening found and set aside, for the operator.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Open the sled files in `dir`; `named` is the directory named in errors.
    fn open_dir(dir: &Path, named: &Path, lenient: bool) -> Result<SledStore, StoreError> {
        let db_file = named.join("db");
        let config = sled::Config::new().path(dir).mode(sled::Mode::HighThroughput).cache_capacity(CACHE_BYTES);
        let db = config.open().map_err(|e| match e {
            sled::Error::Corruption { .. } => StoreError::Corrupt(format!(
                "{}: {e} (sled found a damaged page or snapshot; `meent salvage` exports the records it can still read)",
                db_file.display()
            )),
            other => engine(other),
        })?;
        let tree = db.open_tree("log").map_err(engine)?;
        if tree.scan_prefix([OLD_RECORD]).next().is_some() {
            return Err(StoreError::Engine(
                "this store keeps one key per record, the layout of meent development versions before record segments; \
                 export it with that version (`meent export --format jsonl`) and import the entries into a new ledger"
                    .into(),
            ));
        }
        let damage = lost_records(&tree, dir, named)?;
        if let (Some(d), false) = (&damage, lenient) {
            return Err(StoreError::Corrupt(d.clone()));
        }
        Ok(SledStore {
            unflushed_note: std::sync::Mutex::new(None),
            high_water: std::sync::Mutex::new(None),
            damage,
            db,
            tree,
            ids: RwLock::new(IdIndex::Unbuilt),
            snapshot_path: dir.join("state-snapshot.bin"),
            notes: Vec::new(),
            named: named.to_path_buf(),
            write_failed: Default::default(),
            fallback: Default::default(),
            opening_fallback: Default::default(),
            _copy: None,
        })
    }

    /// The store as the disk holds it, for reads after a failed write: a
    /// private copy of its files (in `$TMPDIR`) opened read-only, made at
    /// the first read that fails after a failed write and kept until the
    /// store is dropped. sled keeps the error of a failed write for good and
    /// fails every operation that would write, which includes a read that
    /// meets a page the failed write left due for a split: without the copy
    /// such records could not be read or proven until a restart. Everything
    /// flushed, so everything acknowledged, is in the copy.
    fn after_failure(&self) -> Result<&SledStore, StoreError> {
        let _one = self.opening_fallback.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(copy) = self.fallback.get() {
            return Ok(copy);
        }
        let copy = Self::open_copy(&self.named)?;
        tracing::warn!(
            "a write to {} failed; reads the failed store refuses are answered from a read-only copy of it",
            self.named.display()
        );
        Ok(self.fallback.get_or_init(|| Box::new(copy)))
    }

    /// Read with `read`; if that fails after a failed write, from the copy of
    /// [`SledStore::after_failure`].
    fn read<T>(&self, read: impl Fn(&SledStore) -> Result<T, StoreError>) -> Result<T, StoreError> {
        match read(self) {
            Err(e) if self.write_failed.load(std::sync::atomic::Ordering::Acquire) => match self.after_failure() {
                Ok(copy) => read(copy),
                Err(why) => Err(StoreError::Engine(format!(
                    "{e} (a write failed before; and a read-only copy of the store could not be opened: {why})"
                ))),
            },
            other => other,
        }
    }

    /// Note a failed write or flush (see [`SledStore::read`]).
    fn failed<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_err() {
            self.write_failed.store(true, std::sync::atomic::Ordering::Release);
        }
        r
    }

    /// The segment holding record `seq`: its first position and value.
    fn segment_of(&self, seq: Seq) -> Result<Option<(Seq, sled::IVec)>, StoreError> {
        let start = [SEGMENT];
        let end = segment_key(seq);
        match self.tree.range(start.as_slice()..=end.as_slice()).next_back() {
            None => Ok(None),
            Some(kv) => {
                let (k, v) = kv.map_err(engine)?;
                Ok(Some((segment_first(&k)?, v)))
            }
        }
    }

    /// Add `records` (consecutive positions) to `batch` as segments. Records
    /// that replace stored ones (the log never does; tests that tamper with a
    /// store do) rewrite the segments they fall in. Returns the ids to drop from and add to the index.
    ///
    /// `leaves` are the level-0 nodes of the commit: a record's leaf hash; a
    /// record without one keeps the leaf hash stored for its position, or
    /// else gets the hash of its bytes.
    fn put_records(
        &self,
        batch: &mut sled::Batch,
        records: &[(Seq, EntryId, Vec<u8>)],
        leaves: &HashMap<Seq, Hash>,
    ) -> Result<IdChanges, StoreError> {
        let Some(first) = records.first().map(|r| r.0) else {
            return match leaves.keys().next() {
                Some(seq) => Err(StoreError::Engine(format!(
                    "the leaf hash of record {seq} can only be written with the record"
                ))),
                None => Ok((Vec::new(), Vec::new())),
            };
        };
        if let Some(seq) = leaves.keys().find(|&&s| s < first || s >= first + records.len() as u64) {
            return Err(StoreError::Engine(format!(
                "the leaf hash of record {seq} can only be written with the record"
            )));
        }
        for (i, r) in records.iter().enumerate() {
            if r.0 != first + i as u64 {
                return Err(StoreError::Engine(format!(
                    "the records of one commit must be consecutive: record {} follows record {first}",
                    r.0
                )));
            }
        }
        let last = first + (records.len() as u64 - 1);
        // Stored segments that overlap [first, last].
        let mut old: Vec<(Seq, sled::IVec)> = Vec::new();
        if let Some((f, v)) = self.segment_of(first)? {
            let n = decode_segment(f, &v)?.len() as u64;
            if f + n > first {
                old.push((f, v));
            }
        }
        let (from, to) = (segment_key(first.saturating_add(1)), segment_key(last));
        if first < last {
            for kv in self.tree.range(from.as_slice()..=to.as_slice()) {
                let (k, v) = kv.map_err(engine)?;
                old.push((segment_first(&k)?, v));
            }
        }
        let mut dropped: Vec<(EntryId, Seq)> = Vec::new();
        let mut merged: Vec<SegRecord<'_>> = Vec::new();
        let mut old_leaf: HashMap<Seq, Hash> = HashMap::new();
        let decoded: Vec<Vec<SegRecord<'_>>> =
            old.iter().map(|(f, v)| decode_segment(*f, v)).collect::<Result<_, _>>()?;
        for ((f, _), recs) in old.iter().zip(&decoded) {
            batch.remove(&segment_key(*f)[..]);
            for &(seq, id, leaf, bytes) in recs {
                if seq < first || seq > last {
                    merged.push((seq, id, leaf, bytes));
                } else {
                    dropped.push((id, seq));
                    old_leaf.insert(seq, leaf);
                }
            }
        }
        merged.extend(records.iter().map(|(seq, id, b)| {
            let leaf =
                leaves.get(seq).or_else(|| old_leaf.get(seq)).copied().unwrap_or_else(|| crate::merkle::leaf_hash(b));
            (*seq, *id, leaf, b.as_slice())
        }));
        merged.sort_by_key(|r| r.0);
        // Cut into segments of about SEGMENT_BYTES.
        let mut start = 0;
        let mut size = 0;
        for i in 0..merged.len() {
            let len = RECORD_HEADER + merged[i].3.len();
            let gap = i > start && merged[i].0 != merged[i - 1].0 + 1;
            if i > start && (size + len > SEGMENT_BYTES || gap) {
                batch.insert(&segment_key(merged[start].0)[..], encode_segment(&merged[start..i]));
                start = i;
                size = 0;
            }
            size += len;
        }
        if start < merged.len() {
            batch.insert(&segment_key(merged[start].0)[..], encode_segment(&merged[start..]));
        }
        let added = records.iter().map(|(seq, id, _)| (*id, *seq)).collect();
        Ok((dropped, added))
    }
}

impl SledStore {
    /// Record a flushed checkpoint in [`HIGH_WATER_FILE`]: written in place
    /// at its start, without its own fsync. Best effort: a file that lags only
    /// weakens the check at the next open. (Replacing the file by a new one
    /// and a rename after every flush cost the flusher about as much CPU as
    /// the flush itself, and made the file system write it at once.) A note
    /// only grows (its size line gains digits, the rest keeps its length);
    /// a shorter one cuts the file to its length.
    fn write_high_water(&self, note: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let mut hw = self.high_water.lock().unwrap_or_else(|p| p.into_inner());
        if hw.is_none() {
            let path = self.snapshot_path.with_file_name(HIGH_WATER_FILE);
            let file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&path)?;
            let len = file.metadata()?.len() as usize;
            *hw = Some((file, len));
        }
        let Some((file, len)) = hw.as_mut() else { return Ok(()) };
        file.write_all_at(note, 0)?;
        if note.len() < *len {
            file.set_len(note.len() as u64)?;
        }
        *len = note.len();
        Ok(())
    }

    fn write_here(&self, c: &Commit) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let leaves: HashMap<Seq, Hash> = c.nodes.iter().filter(|n| n.0 == 0).map(|n| (n.1, n.2)).collect();
        let (dropped, added) = self.put_records(&mut batch, &c.records, &leaves)?;
        for (level, index, hash) in c.nodes.iter().filter(|n| n.0 > UNSTORED_LEVELS) {
            batch.insert(&node_key(*level, *index)[..], &hash[..]);
        }
        for (name, value) in &c.meta {
            batch.insert(meta_key(name), value.as_slice());
        }
        self.tree.apply_batch(batch).map_err(engine)?;
        if let Some((_, note)) = c.meta.iter().find(|m| m.0 == super::meta::CHECKPOINT) {
            *self.unflushed_note.lock().unwrap_or_else(|p| p.into_inner()) = Some(note.clone());
        }
        if !dropped.is_empty() || !added.is_empty() {
            let mut index = self.ids.write().map_err(|_| poisoned())?;
            if let IdIndex::Built(ids) = &mut *index {
                for (id, seq) in &dropped {
                    ids.remove(id, *seq);
                }
                // A record that carries an id already indexed (the log never
                // writes one; the check of opening refuses it) takes its place.
                let updated =
                    added.into_iter().try_for_each(|(id, seq)| ids.insert(id, seq, |o| self.id_at(o)).map(drop));
                if updated.is_err() {
                    // The record a shared prefix points at is unreadable: build again when asked.
                    *index = IdIndex::Unbuilt;
                }
            }
        }
        Ok(())
    }

    fn flush_here(&self) -> Result<(), StoreError> {
        let note = self.unflushed_note.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.db.flush().map_err(engine)?;
        if let Some(note) = note {
            if let Err(e) = self.write_high_water(&note) {
                let path = self.snapshot_path.with_file_name(HIGH_WATER_FILE);
                tracing::warn!("cannot record the acknowledged checkpoint in {}: {e}", path.display());
            }
        }
        Ok(())
    }

    /// The entry id stored beside record `seq`.
    fn id_at(&self, seq: Seq) -> Result<Option<EntryId>, StoreError> {
        let Some((first, v)) = self.segment_of(seq)? else { return Ok(None) };
        Ok(decode_segment(first, &v)?.into_iter().find(|r| r.0 == seq).map(|r| r.1))
    }

    /// Build the id index from the segments, if no one has: for a store
    /// opened without the check of opening ([`Store::scan_records`]). A bad
    /// segment or a repeated id leaves it [`IdIndex::Broken`].
    fn build_index(&self) -> Result<(), StoreError> {
        let mut index = self.ids.write().map_err(|_| poisoned())?;
        if matches!(*index, IdIndex::Unbuilt) {
            let mut ids = Ids::default();
            *index = match self.scan_segments(&mut ids, None) {
                Ok(_) => IdIndex::Built(ids),
                Err(e) => IdIndex::Broken(e.to_string()),
            };
        }
        Ok(())
    }

    /// Read every segment in order, index each record's id in `ids`, and
    /// lend the records to `visit`, [`SCAN_SEGMENTS`] segments at a time.
    /// Whether every record was visited (`false`: `visit` stopped). A record
    /// whose id an earlier one carries fails the scan, once the records
    /// before it have been visited.
    ///
    /// With a visitor, a second thread reads the segments from sled and
    /// indexes their ids, a run ahead of `visit` (which checks them, at
    /// opening): sled's reads and the index take about half of the scan.
    fn scan_segments(&self, ids: &mut Ids, visit: Option<&mut Visit<'_>>) -> Result<bool, StoreError> {
        let Some(visit) = visit else {
            let mut segments = self.tree.scan_prefix([SEGMENT]);
            loop {
                let run = self.read_run(&mut segments, ids);
                let end = run.end();
                if let Some(e) = run.stop {
                    return Err(e);
                }
                if end {
                    return Ok(true);
                }
            }
        };
        let piped = std::thread::scope(|s| {
            let (runs, next) = std::sync::mpsc::sync_channel::<Run>(2);
            let ids = &mut *ids;
            let reader = std::thread::Builder::new().name("meent-scan".into()).spawn_scoped(s, move || {
                // A panic ends the runs early: the scan fails, nothing is installed.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut segments = self.tree.scan_prefix([SEGMENT]);
                    loop {
                        let run = self.read_run(&mut segments, ids);
                        let end = run.end();
                        if runs.send(run).is_err() || end {
                            return;
                        }
                    }
                }));
            });
            match reader {
                Ok(_) => Some(self.lend_runs(|| next.recv().ok(), visit)),
                Err(_) => None,
            }
        });
        match piped {
            Some(scanned) => scanned,
            // No second thread: read and lend in turn.
            None => {
                let mut segments = self.tree.scan_prefix([SEGMENT]);
                self.lend_runs(|| Some(self.read_run(&mut segments, ids)), visit)
            }
        }
    }

    /// Lend the records of each run `next` gives to `visit`, up to the end or
    /// the first error (see [`SledStore::scan_segments`]).
    fn lend_runs(&self, mut next: impl FnMut() -> Option<Run>, visit: &mut Visit<'_>) -> Result<bool, StoreError> {
        while let Some(run) = next() {
            let mut records: Vec<LeafRef<'_>> = Vec::with_capacity(run.records);
            for (first, v) in &run.segments {
                let Ok(recs) = decode_segment(*first, v) else { break };
                let room = run.records - records.len();
                records.extend(recs.into_iter().take(room).map(|(seq, _, leaf, bytes)| LeafRef { seq, leaf, bytes }));
            }
            if !records.is_empty() && visit(&records).is_break() {
                return Ok(false);
            }
            let end = run.end();
            if let Some(e) = run.stop {
                return Err(e);
            }
            if end {
                return Ok(true);
            }
        }
        Err(StoreError::Engine("the thread reading the store's segments stopped".into()))
    }

    /// The next run of up to [`SCAN_SEGMENTS`] segments of `segments`, their
    /// records' ids added to `ids`.
    fn read_run(&self, segments: &mut sled::Iter, ids: &mut Ids) -> Run {
        let mut run = Run { segments: Vec::with_capacity(SCAN_SEGMENTS), records: 0, stop: None };
        for kv in segments.by_ref() {
            match kv.map_err(engine).and_then(|(k, v)| Ok((segment_first(&k)?, v))) {
                Ok(seg) => run.segments.push(seg),
                Err(e) => {
                    run.stop = Some(e);
                    break;
                }
            }
            if run.segments.len() == SCAN_SEGMENTS {
                break;
            }
        }
        // An error in these segments comes before one reading the next key.
        if let Err(e) = self.index_run(&run.segments, ids, &mut run.records) {
            run.stop = Some(e);
        }
        run
    }

    /// Add the ids of the records in `segments` to `ids`, counting in
    /// `indexed` those before a bad segment or a repeated id.
    fn index_run(&self, segments: &[(Seq, sled::IVec)], ids: &mut Ids, indexed: &mut usize) -> Result<(), StoreError> {
        for (first, v) in segments {
            for (seq, id, _, _) in decode_segment(*first, v)? {
                if let Some(other) = ids.insert(id, seq, |o| self.id_at(o))? {
                    return Err(StoreError::Corrupt(format!("records {other} and {seq} carry the same entry id {id}")));
                }
                *indexed += 1;
            }
        }
        Ok(())
    }

    fn record_here(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        let Some((first, v)) = self.segment_of(seq)? else { return Ok(None) };
        Ok(decode_segment(first, &v)?.into_iter().find(|r| r.0 == seq).map(|r| r.3.to_vec()))
    }

    fn node_here(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError> {
        if level == 0 {
            let Some((first, v)) = self.segment_of(index)? else { return Ok(None) };
            return Ok(decode_segment(first, &v)?.into_iter().find(|r| r.0 == index).map(|r| r.2));
        }
        if level <= UNSTORED_LEVELS {
            // Recompute from the 2^level leaf hashes under it (all must be there).
            let width = 1u64 << level;
            let Some(start) = index.checked_mul(width) else { return Ok(None) };
            let mut hashes: Vec<Hash> = Vec::with_capacity(width as usize);
            for item in self.leaves_here(start).take(width as usize) {
                let (seq, leaf, _) = item?;
                if seq != start + hashes.len() as u64 {
                    return Ok(None);
                }
                hashes.push(leaf);
            }
            if hashes.len() as u64 != width {
                return Ok(None);
            }
            while hashes.len() > 1 {
                hashes = hashes.chunks(2).map(|p| crate::merkle::node_hash(&p[0], &p[1])).collect();
            }
            return Ok(hashes.pop());
        }
        match self.tree.get(node_key(level, index)).map_err(engine)? {
            None => Ok(None),
            Some(v) => {
                let h: Hash = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("tree node ({level}, {index}) is not 32 bytes")))?;
                Ok(Some(h))
            }
        }
    }

    fn meta_here(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(meta_key(name)).map_err(engine)?.map(|v| v.to_vec()))
    }

    fn leaves_here(&self, from: Seq) -> LeafIter<'_> {
        // From the segment that holds `from` (or the first after it) to the last.
        let start = match self.segment_of(from) {
            Ok(Some((first, _))) => segment_key(first),
            Ok(None) => segment_key(from),
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let end = [SEGMENT + 1];
        Box::new(
            self.tree
                .range(start.as_slice()..end.as_slice())
                .map(move |kv| -> Result<Vec<(Seq, Hash, Vec<u8>)>, StoreError> {
                    let (k, v) = kv.map_err(engine)?;
                    let recs = decode_segment(segment_first(&k)?, &v)?;
                    Ok(recs.into_iter().filter(|r| r.0 >= from).map(|r| (r.0, r.2, r.3.to_vec())).collect())
                })
                .flat_map(|seg| -> Leaves {
                    match seg {
                        Ok(recs) => Box::new(recs.into_iter().map(Ok)),
                        Err(e) => Box::new(std::iter::once(Err(e))),
                    }
                }),
        )
    }

    fn last_seq_here(&self) -> Result<Option<Seq>, StoreError> {
        let start = [SEGMENT];
        let end = [SEGMENT + 1];
        match self.tree.range(start.as_slice()..end.as_slice()).next_back() {
            None => Ok(None),
            Some(kv) => {
                let (k, v) = kv.map_err(engine)?;
                Ok(decode_segment(segment_first(&k)?, &v)?.last().map(|r| r.0))
            }
        }
    }
}

impl Store for SledStore {
    fn write(&self, c: &Commit) -> Result<(), StoreError> {
        self.failed(self.write_here(c))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.failed(self.flush_here())
    }

    fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.record_here(seq))
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError> {
        self.read(|s| s.node_here(level, index))
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.meta_here(name))
    }

    fn last_seq(&self) -> Result<Option<Seq>, StoreError> {
        self.read(|s| s.last_seq_here())
    }

    fn leaves_from(&self, from: Seq) -> LeafIter<'_> {
        let mut leaves = self.leaves_here(from);
        let mut next = from;
        let mut on_copy = false;
        // A record that the failed store refuses, and the rest, from the copy.
        Box::new(std::iter::from_fn(move || loop {
            match leaves.next() {
                Some(Ok(leaf)) => {
                    next = leaf.0 + 1;
                    return Some(Ok(leaf));
                }
                Some(Err(e)) if !on_copy && self.write_failed.load(std::sync::atomic::Ordering::Acquire) => {
                    on_copy = true;
                    match self.after_failure() {
                        Ok(copy) => leaves = copy.leaves_here(next),
                        Err(why) => {
                            return Some(Err(StoreError::Engine(format!(
                            "{e} (a write failed before; and a read-only copy of the store could not be opened: {why})"
                        ))))
                        }
                    }
                }
                other => return other,
            }
        }))
    }

    fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        let found = loop {
            match &*self.ids.read().map_err(|_| poisoned())? {
                IdIndex::Built(ids) => break ids.find(id),
                IdIndex::Broken(why) => return Err(StoreError::Corrupt(why.clone())),
                IdIndex::Unbuilt => {}
            }
            self.build_index()?;
        };
        match found {
            Found::Absent => Ok(None),
            Found::At(seq) => Ok(Some(seq)),
            Found::Maybe(seq) => Ok(self.read(|s| s.id_at(seq))?.filter(|there| there == id).map(|_| seq)),
        }
    }

    fn scan_records(&self, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        let mut index = self.ids.write().map_err(|_| poisoned())?;
        let expected = self.last_seq_here()?.map_or(0, |s| s.saturating_add(1));
        let mut ids = Ids::with_capacity(usize::try_from(expected).unwrap_or(0));
        if self.scan_segments(&mut ids, Some(visit))? {
            *index = IdIndex::Built(ids);
        }
        Ok(())
    }

    fn stores_level(&self, level: u32) -> bool {
        level == 0 || level > UNSTORED_LEVELS
    }

    fn put_snapshot(
        &self,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        use std::io::Write;
        self.flush()?;
        let tmp = self.snapshot_path.with_extension("bin.tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| io("snapshot", e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out).map_err(|e| io("snapshot", e))?;
        out.flush().map_err(|e| io("snapshot", e))?;
        let file = out.into_inner().map_err(|e| io("snapshot", e.into_error()))?;
        file.sync_all().map_err(|e| io("snapshot", e))?;
        std::fs::rename(&tmp, &self.snapshot_path).map_err(|e| io("snapshot", e))?;
        if let Some(dir) = self.snapshot_path.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("snapshot", e))?;
        }
        Ok(())
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(&self.snapshot_path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("snapshot", e)),
        }
    }

    fn room_for(&self, bytes: u64) -> Result<(), StoreError> {
        let Some((free, total)) = disk_space(&self.named) else { return Ok(()) };
        // sled writes a record about twice (its log, then its pages), and more while it reorganises.
        let need = bytes.saturating_mul(3).saturating_add(super::reserve_bytes(total));
        if free < need {
            return Err(StoreError::Engine(format!(
                "the disk of {} is full: {} KiB free, {} KiB needed for this group and the store's reserve; \
                 free space on that disk (nothing acknowledged is lost, reads keep working)",
                self.named.display(),
                free / 1024,
                need / 1024
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, Frontier};

    /// The positions a scan visited before it failed, and its error.
    fn failed_scan(store: &SledStore) -> (Vec<Seq>, String) {
        let mut seen = Vec::new();
        let e = store
            .scan_records(&mut |recs| {
                seen.extend(recs.iter().map(|r| r.seq));
                std::ops::ControlFlow::Continue(())
            })
            .unwrap_err()
            .to_string();
        (seen, e)
    }

    fn id(seq: Seq) -> EntryId {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&seq.to_be_bytes());
        b[31] = 0xee;
        EntryId(b)
    }

    fn bytes(seq: Seq) -> Vec<u8> {
        // Records of varied sizes, some larger than a segment.
        let len = if seq % 37 == 5 { SEGMENT_BYTES + 100 } else { 50 + (seq as usize * 97) % 900 };
        (0..len).map(|i| (seq as usize + i) as u8).collect()
    }

    /// Commits of the given sizes, as the log writes them; every node the frontier gives.
    fn fill(store: &SledStore, groups: &[usize]) -> Vec<(u32, u64, Hash)> {
        let mut frontier = Frontier::default();
        let mut all_nodes = Vec::new();
        let mut seq = 0;
        for &n in groups {
            let mut c = Commit::default();
            for _ in 0..n {
                let b = bytes(seq);
                c.nodes.extend(frontier.push(leaf_hash(&b)).unwrap());
                c.records.push((seq, id(seq), b));
                seq += 1;
            }
            all_nodes.extend(c.nodes.iter().copied());
            store.commit(&c).unwrap();
        }
        all_nodes
    }

    #[test]
    fn segments_give_back_every_record_leaf_node_and_id() {
        let dir = tempfile::tempdir().unwrap();
        let groups = [1, 1, 3, 64, 17, 200, 2, 90];
        let total: u64 = groups.iter().sum::<usize>() as u64;
        let nodes = {
            let store = SledStore::open(dir.path()).unwrap();
            fill(&store, &groups)
        };
        // Reopen: the id index is rebuilt from the segments.
        let store = loop {
            match SledStore::open(dir.path()) {
                Ok(s) => break s,
                Err(e) if e.to_string().contains("lock") => std::thread::sleep(std::time::Duration::from_millis(50)),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(store.last_seq().unwrap(), Some(total - 1));
        for seq in 0..total {
            assert_eq!(store.record(seq).unwrap(), Some(bytes(seq)), "record {seq}");
            assert_eq!(store.seq_of(&id(seq)).unwrap(), Some(seq));
        }
        assert_eq!(store.record(total).unwrap(), None);
        assert_eq!(store.seq_of(&id(total)).unwrap(), None);
        for from in [0, 1, 5, 63, 64, 100, total - 1, total, total + 5] {
            let got: Vec<Seq> = store.records_from(from).map(|r| r.unwrap().0).collect();
            assert_eq!(got, (from..total).collect::<Vec<_>>(), "from {from}");
        }
        // Every complete node, stored or recomputed, is the one the frontier gave.
        for (level, index, hash) in nodes {
            assert_eq!(store.node(level, index).unwrap(), Some(hash), "node ({level}, {index})");
        }
        // A node whose leaves are not all there yet is absent.
        assert_eq!(store.node(3, total / 8 + 1).unwrap(), None);
    }

    /// Every record, in order and in runs, as the scan of opening lends them.
    fn scanned(store: &SledStore) -> Result<Vec<(Seq, Hash, Vec<u8>)>, StoreError> {
        let mut seen = Vec::new();
        store.scan_records(&mut |recs| {
            assert!(!recs.is_empty());
            seen.extend(recs.iter().map(|r| (r.seq, r.leaf, r.bytes.to_vec())));
            std::ops::ControlFlow::Continue(())
        })?;
        Ok(seen)
    }

    #[test]
    fn the_scan_lends_every_record_once_and_builds_the_index() {
        let dir = tempfile::tempdir().unwrap();
        // More records than one run of segments.
        let groups = [1, 300, 2, 700, 1];
        let total: u64 = groups.iter().sum::<usize>() as u64;
        drop(fill(&SledStore::open(dir.path()).unwrap(), &groups));
        let store = reopen(dir.path()).unwrap();
        let seen = scanned(&store).unwrap();
        assert_eq!(seen.len() as u64, total);
        for (i, (seq, leaf, b)) in seen.into_iter().enumerate() {
            assert_eq!((seq, leaf, &b), (i as u64, crate::merkle::leaf_hash(&bytes(seq)), &bytes(seq)));
        }
        assert!(matches!(*store.ids.read().unwrap(), IdIndex::Built(_)));
        for seq in 0..total {
            assert_eq!(store.seq_of(&id(seq)).unwrap(), Some(seq));
        }
        // A visit that stops early leaves the index to be built when asked.
        let store = {
            drop(store);
            reopen(dir.path()).unwrap()
        };
        let mut runs = 0;
        store
            .scan_records(&mut |_| {
                runs += 1;
                std::ops::ControlFlow::Break(())
            })
            .unwrap();
        assert_eq!(runs, 1);
        assert!(matches!(*store.ids.read().unwrap(), IdIndex::Unbuilt));
        assert_eq!(store.seq_of(&id(total - 1)).unwrap(), Some(total - 1));
    }

    #[test]
    fn a_bad_segment_stops_the_scan_after_the_records_before() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            drop(fill(&store, &[200, 300]));
            // A segment of the second commit, cut short on disk.
            let (first, v) = store.segment_of(250).unwrap().unwrap();
            store.tree.insert(segment_key(first), &v[..v.len() - 1]).unwrap();
            store.flush().unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        let (seen, e) = failed_scan(&store);
        let first = seen.len() as u64;
        assert!(e.contains(&format!("segment at record {first}")) && e.contains("cut short"), "{e}");
        assert!((200..=250).contains(&first), "{first}");
        assert_eq!(seen, (0..first).collect::<Vec<_>>());
        // The index, built at the first lookup instead, answers with the same error.
        let e = store.seq_of(&id(0)).unwrap_err().to_string();
        assert!(e.contains(&format!("segment at record {first}")), "{e}");
    }

    /// Ids whose first 8 bytes are `b`, differing in their last byte.
    fn twin(b: u8, last: u8) -> EntryId {
        let mut id = [b; 32];
        id[31] = last;
        EntryId(id)
    }

    #[test]
    fn two_ids_sharing_their_first_8_bytes_are_both_found() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (twin(0x5a, 1), twin(0x5a, 2), twin(0x5a, 3));
        assert_eq!(a.0[..8], b.0[..8]);
        let ids = |seq: Seq| match seq {
            3 => a,
            7 => b,
            s => id(s),
        };
        let store = SledStore::open(dir.path()).unwrap();
        let records = (0..10).map(|s| (s, ids(s), bytes(s))).collect();
        store.commit(&Commit { records, ..Commit::default() }).unwrap();
        let found = |store: &SledStore, want: &[(EntryId, Option<Seq>)]| {
            for (id, seq) in want {
                assert_eq!(store.seq_of(id).unwrap(), *seq, "{id}");
            }
        };
        // Built at the first lookup, from the segments.
        found(&store, &[(a, Some(3)), (b, Some(7)), (c, None), (id(3), None), (id(5), Some(5))]);
        // An id sharing its first 8 bytes with a stored one, but not stored: no hit.
        let mut near = id(5);
        near.0[20] ^= 1;
        found(&store, &[(near, None)]);
        // A third twin written once the index is built; then record 3 replaced under another id.
        store.commit(&Commit { records: vec![(10, c, bytes(10))], ..Commit::default() }).unwrap();
        found(&store, &[(a, Some(3)), (b, Some(7)), (c, Some(10))]);
        store.commit(&Commit { records: vec![(3, id(3), bytes(3))], ..Commit::default() }).unwrap();
        found(&store, &[(a, None), (b, Some(7)), (c, Some(10)), (id(3), Some(3))]);
        // Two twins written after the index was built, the second finding the first in the store.
        let (d, e) = (twin(0x77, 1), twin(0x77, 2));
        store.commit(&Commit { records: vec![(11, d, bytes(11)), (12, e, bytes(12))], ..Commit::default() }).unwrap();
        found(&store, &[(d, Some(11)), (e, Some(12)), (twin(0x77, 3), None)]);
        drop(store);
        // Built by the scan of opening.
        let store = reopen(dir.path()).unwrap();
        assert_eq!(scanned(&store).unwrap().len(), 13);
        assert!(matches!(*store.ids.read().unwrap(), IdIndex::Built(_)));
        found(&store, &[(a, None), (b, Some(7)), (c, Some(10)), (d, Some(11)), (e, Some(12)), (id(3), Some(3))]);
    }

    #[test]
    fn two_records_with_one_id_fail_the_scan_after_the_records_before() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            // Record 6 carries record 2's id; records 4 and 5 are twins (not the same id).
            let ids = |seq: Seq| match seq {
                6 => id(2),
                4 => twin(0x33, 4),
                5 => twin(0x33, 5),
                s => id(s),
            };
            let records = (0..9).map(|s| (s, ids(s), bytes(s))).collect();
            store.commit(&Commit { records, ..Commit::default() }).unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        let (seen, e) = failed_scan(&store);
        assert!(e.contains("records 2 and 6 carry the same entry id"), "{e}");
        assert_eq!(seen, (0..6).collect::<Vec<_>>());
        // A store opened without the check answers lookups with the same error.
        drop(store);
        let store = reopen(dir.path()).unwrap();
        let e = store.seq_of(&id(0)).unwrap_err().to_string();
        assert!(e.contains("records 2 and 6 carry the same entry id"), "{e}");
    }

    #[test]
    fn a_replaced_record_rewrites_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        fill(&store, &[40]);
        let old_leaf = store.node(0, 7).unwrap().unwrap();
        let mut changed = bytes(7);
        changed[0] ^= 1;
        let new_id = EntryId([9; 32]);
        store.commit(&Commit { records: vec![(7, new_id, changed.clone())], ..Commit::default() }).unwrap();
        assert_eq!(store.record(7).unwrap(), Some(changed));
        // Without a new leaf hash, the stored one stays (and no longer matches: what `Log::open` detects).
        assert_eq!(store.node(0, 7).unwrap(), Some(old_leaf));
        assert_eq!(store.seq_of(&new_id).unwrap(), Some(7));
        assert_eq!(store.seq_of(&id(7)).unwrap(), None);
        let all: Vec<Seq> = store.records_from(0).map(|r| r.unwrap().0).collect();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
        // Records of one commit must be consecutive; a leaf hash comes with its record.
        let gap = Commit { records: vec![(40, id(40), bytes(40)), (42, id(42), bytes(42))], ..Commit::default() };
        assert!(store.write(&gap).is_err());
        let lone_leaf = Commit { nodes: vec![(0, 3, [1; 32])], ..Commit::default() };
        assert!(store.write(&lone_leaf).is_err());
        assert_eq!(store.last_seq().unwrap(), Some(39));
    }

    #[test]
    fn a_corrupt_segment_is_named() {
        assert!(decode_segment(4, &[]).is_err());
        let seg = encode_segment(&[(4, id(4), [1; 32], b"abc"), (5, id(5), [2; 32], b"de")]);
        assert_eq!(decode_segment(4, &seg).unwrap().len(), 2);
        let e = decode_segment(3, &seg).unwrap_err().to_string();
        assert!(e.contains("segment at record 3") && e.contains("record 4 where record 3"), "{e}");
        let e = decode_segment(4, &seg[..seg.len() - 1]).unwrap_err().to_string();
        assert!(e.contains("record 5 is cut short"), "{e}");
    }

    /// Open again once sled's threads of the last handle have let go of its lock.
    fn reopen(dir: &Path) -> Result<SledStore, StoreError> {
        loop {
            match SledStore::open(dir) {
                Err(e) if e.to_string().contains("lock") => std::thread::sleep(std::time::Duration::from_millis(50)),
                other => return other,
            }
        }
    }

    #[test]
    fn an_unfinished_snapshot_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(fill(&SledStore::open(dir.path()).unwrap(), &[5, 7]));
        // What a full disk left: sled reads the highest-named snap.* file, this one.
        let left = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
        std::fs::write(&left, b"").unwrap();
        std::fs::write(dir.path().join("state-snapshot.bin.tmp"), b"{\"half").unwrap();
        let ro = SledStore::open_read_only(dir.path()).unwrap();
        assert_eq!(ro.last_seq().unwrap(), Some(11));
        assert!(left.exists(), "a read-only open removed a file");
        assert!(ro.notes().iter().any(|n| n.contains("snap.FFFFFFFFFFFFFFFF.generating")), "{:?}", ro.notes());
        drop(ro);
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.last_seq().unwrap(), Some(11));
        assert!(!left.exists() && !dir.path().join("state-snapshot.bin.tmp").exists());
        assert_eq!(store.notes().len(), 2, "{:?}", store.notes());
    }

    #[test]
    fn records_lost_after_the_acknowledged_checkpoint_are_named() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            fill(&store, &[6]);
            let note = b"meent.test/x\n6\nROOT6=\n\n\xe2\x80\x94 meent.test/x AAAA\n".to_vec();
            store.commit(&Commit { meta: vec![(crate::store::meta::CHECKPOINT, note)], ..Commit::default() }).unwrap();
        }
        let high = dir.path().join(HIGH_WATER_FILE);
        assert!(std::fs::read_to_string(&high).unwrap().starts_with("meent.test/x\n6\n"));
        drop(reopen(dir.path()).unwrap());
        // As if sled had dropped the records after a damaged message: the store's checkpoint is older.
        std::fs::write(&high, "meent.test/x\n9\nROOT9=\n\n").unwrap();
        let e = reopen(dir.path()).err().expect("a store that lost acknowledged records opened").to_string();
        assert!(e.contains("ends at record 6") && e.contains("records 6 to 8 were lost") && e.contains("db"), "{e}");
        let ro = SledStore::open_read_only(dir.path()).unwrap();
        assert!(ro.damage().is_some_and(|d| d.contains("records 6 to 8")));
        // An empty file (a crash while it was written) is no evidence.
        drop(ro);
        std::fs::write(&high, "").unwrap();
        assert!(reopen(dir.path()).is_ok());
    }

    #[test]
    fn the_per_record_layout_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            let tree = db.open_tree("log").unwrap();
            tree.insert([OLD_RECORD, 0, 0, 0, 0, 0, 0, 0, 0], b"{}".as_slice()).unwrap();
            db.flush().unwrap();
        }
        let e = loop {
            match SledStore::open(dir.path()) {
                Err(e) if e.to_string().contains("lock") => std::thread::sleep(std::time::Duration::from_millis(50)),
                Err(e) => break e.to_string(),
                Ok(_) => panic!("the old layout was opened"),
            }
        };
        assert!(e.contains("one key per record"), "{e}");
    }
}
