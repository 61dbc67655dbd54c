//! The verifiable log: appends records in groups (one flush and one checkpoint
//! signature serve many entries), publishes signed checkpoints, serves records
//! and proofs, and checks the store against its last checkpoint when it opens.
//!
//! Invariants:
//! - a record is served, and an entry acknowledged, only once it is on disk and
//!   covered by a signed checkpoint that is itself on disk (same atomic commit);
//! - the log never signs a checkpoint smaller than, or inconsistent with, the last
//!   one: the tree only grows by appending to the persisted frontier;
//! - opening a store whose records do not hash to the signed root fails, naming
//!   the first bad record;
//! - a panic while the state is being changed, a failed write or flush, or a
//!   lock poisoned by a panic puts the log in a failed state ([`Log::failure`]):
//!   it refuses every write from then on, and the state it holds may be ahead
//!   of the disk or half-changed, so reads derived from it must be refused too;
//!   a restart rebuilds the state from the store. Its records, proofs and
//!   checkpoint (read from the store and the last published checkpoint) stay
//!   readable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LockResult, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::checkpoint::{self, Checkpoint};
use crate::crypto::{self, PublicKey};
use crate::entry::{self, Kind, Registrar, VerifiedEntry};
use crate::error::{Code, Refusal};
use crate::ids::{Author, EntryId, Seq};
use crate::merkle::{self, Frontier, Hash, NodeSource};
use crate::record::Record;
use crate::snapshot;
use crate::state::State;
use crate::store::sled_store::SledStore;
use crate::store::{meta, Commit, LeafRef, Store, StoreError};
use crate::time::Timestamp;

/// A snapshot of the state is taken after at least this many new records (or a
/// third of the log, whichever is more, so that its cost per record stays
/// constant as the state grows); opening replays only the records after it.
pub const SNAPSHOT_EVERY_RECORDS: u64 = 8192;

/// File name of the operator's key inside a data directory.
pub const OPERATOR_KEY_FILE: &str = "operator.pem";
/// Directory of the store inside a data directory.
pub const STORE_DIR: &str = "store";

/// Why a log could not be created or opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No ledger in that directory.
    #[error("{0} holds no meent ledger (create one with `meent init`)")]
    NotALedger(String),
    /// A ledger exists already.
    #[error("{0} already holds a meent ledger")]
    Exists(String),
    /// The operator key file.
    #[error(transparent)]
    Key(#[from] crypto::CryptoError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store does not match its checkpoint, or a record is bad.
    #[error("corrupt ledger: {0}")]
    Corrupt(String),
    /// Genesis was refused.
    #[error("genesis refused: {0}")]
    Genesis(Refusal),
    /// Other I/O.
    #[error("{path}: {err}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        err: std::io::Error,
    },
}

/// Why a submission did not make it into the log.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The rules refused it; nothing changed.
    #[error(transparent)]
    Refused(Refusal),
    /// The store is not writable (HTTP 503).
    #[error("the ledger is not writable: {0}")]
    Unavailable(String),
}

/// The answer to an accepted (or already present) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Its position.
    pub seq: Seq,
    /// Its id.
    pub id: EntryId,
    /// Its Merkle leaf hash.
    pub leaf_hash: Hash,
    /// The size of the checkpoint that covers it.
    pub tree_size: u64,
    /// `false` when the identical entry was already in the log.
    pub created: bool,
}

/// Why a proof could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Bad sizes or positions.
    #[error("{0}")]
    Range(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Writer {
    frontier: Frontier,
    since_snapshot: u64,
}

struct Published {
    note: String,
    checkpoint: Checkpoint,
}

/// An open log.
pub struct Log {
    store: Arc<dyn Store>,
    operator: SigningKey,
    origin: String,
    writer: Mutex<Writer>,
    /// The failure and the snapshot hand-off, shared with the snapshot thread.
    shared: Arc<Shared>,
    /// The snapshot thread (none if the system would not start it: then no
    /// snapshot is taken, and opening replays more).
    snapshotter: Option<JoinHandle<()>>,
    /// Entries judged by [`Log::prepare`] whose group [`Log::write`] has not yet
    /// stored, by id: their position and leaf hash (so a resubmission is found).
    pending: Mutex<HashMap<EntryId, (Seq, Hash)>>,
    state: RwLock<State>,
    published: RwLock<Published>,
}

/// What the log shares with its snapshot thread.
struct Shared {
    /// Why the log failed (set once; only a restart clears it).
    failed: OnceLock<String>,
    snapshots: Mutex<Snapshots>,
    /// Wakes the snapshot thread: a copy to write, records written, failure, closing.
    wake: Condvar,
}

/// The hand-off between the writer and the snapshot thread.
#[derive(Default)]
struct Snapshots {
    /// A copy of the state for the snapshot thread to write.
    copy: Option<State>,
    /// A copy was handed over and its snapshot is not yet written (or given
    /// up): no other is taken meanwhile.
    busy: bool,
    /// How many records the store holds (all groups written so far).
    written: u64,
    /// The snapshot thread waits until `written` reaches this.
    waiting_for: Option<u64>,
    /// The log is being dropped: the thread ends.
    closing: bool,
}

impl Shared {
    /// Fail the log with this reason unless it failed before; the reason it failed with.
    fn fail(&self, msg: String) -> String {
        let why = self.failed.get_or_init(|| msg).clone();
        // Taking the lock orders this with the snapshot thread's check and
        // wait, so it cannot miss the wake.
        drop(self.snapshots.lock());
        self.wake.notify_all();
        why
    }

    /// A lock's guard; a poisoned lock (a thread panicked holding it, so what
    /// it guards may be half-changed) fails the log, and the caller, which
    /// then refuses, may still finish its bookkeeping with the guard.
    fn unpoisoned<G>(&self, r: LockResult<G>, what: &str) -> G {
        r.unwrap_or_else(|p| {
            self.fail(format!(
                "internal error: a thread panicked holding the {what}; restart the server to rebuild the state from the store"
            ));
            p.into_inner()
        })
    }

    fn snapshots(&self) -> MutexGuard<'_, Snapshots> {
        self.snapshots.lock().unwrap_or_else(|p| {
            // As `unpoisoned`, without taking this lock again to wake the thread
            // (holding it orders the wake with the thread's wait just the same).
            self.failed.get_or_init(|| "internal error: a thread panicked holding the snapshot hand-off".into());
            self.wake.notify_all();
            p.into_inner()
        })
    }

    fn wait<'a>(&self, g: MutexGuard<'a, Snapshots>) -> MutexGuard<'a, Snapshots> {
        self.wake.wait(g).unwrap_or_else(|p| {
            self.failed.get_or_init(|| "internal error: a thread panicked holding the snapshot hand-off".into());
            p.into_inner()
        })
    }
}

/// Fails the log if dropped by a panic: held while the state is being changed,
/// and declared after the state's guard, so the log has failed before the
/// state (perhaps half-changed) can be read again.
struct FailOnPanic<'a>(&'a Shared);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail(
                "internal error: the writer panicked while judging a group (the server's log has the message); \
                 restart the server to rebuild the state from the store"
                    .into(),
            );
        }
    }
}

/// The tree nodes of a store, as a [`NodeSource`] (a missing node is an error).
pub struct NodesOf<'a>(pub &'a dyn Store);

impl NodeSource for NodesOf<'_> {
    type Error = StoreError;
    fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        self.0
            .node(level, index)?
            .ok_or_else(|| StoreError::Corrupt(format!("tree node ({level}, {index}) is missing")))
    }
}

/// A ledger being rebuilt from exported records ([`Log::restore`]).
pub struct Restore {
    store: SledStore,
    operator: SigningKey,
    frontier: Frontier,
    state: State,
    seen: std::collections::HashSet<EntryId>,
}

impl Restore {
    /// Records stored so far.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Check and store the next records, given as leaf bytes, in order.
    pub fn push(&mut self, leaves: &[Vec<u8>]) -> Result<(), OpenError> {
        let mut commit = Commit::default();
        for bytes in leaves {
            let seq = self.frontier.size();
            let rec = Record::from_leaf_bytes(bytes).map_err(|e| corrupt(format!("record {seq}: {e}")))?;
            if rec.seq != seq {
                return Err(corrupt(format!("record {seq} says it is record {}", rec.seq)));
            }
            if !self.seen.insert(rec.entry.id) {
                return Err(corrupt(format!("record {seq} repeats entry {}", rec.entry.id)));
            }
            self.state
                .apply(seq, &rec.received_at, &rec.entry)
                .map_err(|e| corrupt(format!("record {seq} breaks a rule: {e}")))?;
            commit.nodes.extend(self.frontier.push(merkle::leaf_hash(bytes)).map_err(corrupt)?);
            commit.records.push((seq, rec.entry.id, bytes.clone()));
        }
        if seq_is_genesis(&commit) && self.state.operator_key != Some(PublicKey::from(self.operator.verifying_key())) {
            return Err(corrupt("the operator key given is not the operator_key of the log's genesis"));
        }
        self.store.write(&commit)?;
        Ok(())
    }

    /// Check the records against the export's signed checkpoint `note`,
    /// store it, and open the ledger. Nothing is served before this returns.
    pub fn finish(self, note: &str) -> Result<Log, OpenError> {
        let origin = self.state.origin.clone().ok_or_else(|| corrupt("the log is empty: no genesis"))?;
        let cp = checkpoint::open(note, &origin, &self.operator.verifying_key())
            .map_err(|e| corrupt(format!("the checkpoint does not verify with the operator key: {e}")))?;
        if cp.size != self.frontier.size() || cp.root != self.frontier.root() {
            return Err(corrupt(format!(
                "the {} records do not hash to the signed checkpoint (size {})",
                self.frontier.size(),
                cp.size
            )));
        }
        let commit = Commit {
            meta: vec![
                (meta::ORIGIN, origin.into_bytes()),
                (meta::CHECKPOINT, note.as_bytes().to_vec()),
                (meta::FRONTIER, self.frontier.to_bytes()),
            ],
            ..Commit::default()
        };
        self.store.commit(&commit)?;
        let state = self.state;
        self.store.put_snapshot(&mut |w| snapshot::write(&state, w))?;
        Log::open_store(Box::new(self.store), self.operator)
    }
}

/// Whether this commit holds genesis.
fn seq_is_genesis(c: &Commit) -> bool {
    c.records.first().is_some_and(|r| r.0 == 0)
}

/// A storage failure is the store's (503), anything else the caller's range (400).
fn proof_error(e: merkle::MerkleError<StoreError>) -> ProofError {
    match e {
        merkle::MerkleError::Source(s) => ProofError::Store(s),
        other => ProofError::Range(other.to_string()),
    }
}

/// A corrupt store's error names the file its records are in.
pub fn in_file(e: OpenError, file: &Path) -> OpenError {
    let name = file.display().to_string();
    match e {
        OpenError::Corrupt(m) if !m.contains(&name) => OpenError::Corrupt(format!("{name}: {m}")),
        OpenError::Store(StoreError::Corrupt(m)) if !m.contains(&name) => {
            OpenError::Store(StoreError::Corrupt(format!("{name}: {m}")))
        }
        other => other,
    }
}

fn corrupt(e: impl std::fmt::Display) -> OpenError {
    OpenError::Corrupt(e.to_string())
}

impl Log {
    /// Create a new ledger in `dir`: an operator key, the store (sled), and genesis.
    pub fn create(dir: &Path, origin: &str, registrars: Vec<Registrar>, now: DateTime<Utc>) -> Result<Log, OpenError> {
        let key_path = dir.join(OPERATOR_KEY_FILE);
        if key_path.exists() || dir.join(STORE_DIR).exists() {
            return Err(OpenError::Exists(dir.display().to_string()));
        }
        let operator = crypto::generate_key();
        // Genesis is judged before anything is written.
        let (record, state) = Self::genesis(origin, registrars, &operator, now)?;
        std::fs::create_dir_all(dir).map_err(|err| OpenError::Io { path: dir.display().to_string(), err })?;
        crypto::write_key_file(&key_path, &operator)?;
        let store = SledStore::open(&dir.join(STORE_DIR))?;
        // This handle is reused: sled releases its file lock only when its background threads end.
        Self::init_store(Box::new(store), operator, record, state)
    }

    /// Create a new ledger in an empty `store`, with genesis signed by `operator`
    /// (whose key the caller keeps: opening the store again needs it).
    pub fn create_in(
        store: impl Store + 'static,
        operator: SigningKey,
        origin: &str,
        registrars: Vec<Registrar>,
        now: DateTime<Utc>,
    ) -> Result<Log, OpenError> {
        let (record, state) = Self::genesis(origin, registrars, &operator, now)?;
        Self::init_store(Box::new(store), operator, record, state)
    }

    /// The genesis record of a new ledger, and the state after it.
    fn genesis(
        origin: &str,
        registrars: Vec<Registrar>,
        operator: &SigningKey,
        now: DateTime<Utc>,
    ) -> Result<(Record, State), OpenError> {
        checkpoint::check_origin(origin)
            .map_err(|e| OpenError::Genesis(Refusal::new(Code::BadOrigin, format!("origin {origin:?}: {e}"))))?;
        let operator_key = PublicKey::from(operator.verifying_key());
        let at = Timestamp::from_instant(now);
        let body = json!({
            "origin": origin,
            "operator_key": operator_key.to_hex(),
            "registrars": registrars,
            "currency": "EUR",
        });
        let genesis = entry::sign_entry(Kind::Genesis, &Author::Operator, operator, &at, body)
            .map_err(|e| OpenError::Genesis(Refusal::new(Code::Malformed, e.to_string())))?;
        let mut state = State::new();
        state.apply(0, &at, &genesis).map_err(OpenError::Genesis)?;
        Ok((Record { seq: 0, received_at: at, entry: genesis }, state))
    }

    /// Store genesis, its checkpoint and the first snapshot in an empty store, and open it.
    fn init_store(store: Box<dyn Store>, operator: SigningKey, record: Record, state: State) -> Result<Log, OpenError> {
        if store.last_seq()?.is_some() || store.meta(meta::CHECKPOINT)?.is_some() {
            return Err(OpenError::Exists("the store".into()));
        }
        let origin = state.origin.clone().unwrap_or_default();
        let bytes = record.leaf_bytes();
        let mut frontier = Frontier::default();
        let nodes = frontier.push(merkle::leaf_hash(&bytes)).map_err(corrupt)?;
        let cp = Checkpoint { origin: origin.clone(), size: frontier.size(), root: frontier.root() };
        let note = cp.sign(&operator);
        let commit = Commit {
            records: vec![(0, record.entry.id, bytes)],
            nodes,
            meta: vec![
                (meta::ORIGIN, origin.into_bytes()),
                (meta::CHECKPOINT, note.into_bytes()),
                (meta::FRONTIER, frontier.to_bytes()),
            ],
        };
        store.commit(&commit)?;
        store.put_snapshot(&mut |w| snapshot::write(&state, w))?;
        Self::open_store(store, operator)
    }

    /// Start rebuilding, in the new directory `dir`, a ledger from its
    /// exported records (`meent init --from-log`): feed every record with
    /// [`Restore::push`], in order from genesis, then [`Restore::finish`]
    /// with the export's signed checkpoint. Each record is checked again as
    /// it is stored (canonical form, signature, every rule); `operator` must
    /// be the key genesis names, as it signs the checkpoints from now on.
    pub fn restore(dir: &Path, operator: SigningKey) -> Result<Restore, OpenError> {
        let key_path = dir.join(OPERATOR_KEY_FILE);
        if key_path.exists() || dir.join(STORE_DIR).exists() {
            return Err(OpenError::Exists(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir).map_err(|err| OpenError::Io { path: dir.display().to_string(), err })?;
        crypto::write_key_file(&key_path, &operator)?;
        let store = SledStore::open(&dir.join(STORE_DIR))?;
        Ok(Restore {
            store,
            operator,
            frontier: Frontier::default(),
            state: State::new(),
            seen: std::collections::HashSet::new(),
        })
    }

    /// Open the ledger in `dir` (its sled store and operator key), checking every
    /// record against the signed checkpoint.
    pub fn open(dir: &Path) -> Result<Log, OpenError> {
        let key_path = dir.join(OPERATOR_KEY_FILE);
        let store_path = dir.join(STORE_DIR);
        if !store_path.exists() {
            return Err(OpenError::NotALedger(dir.display().to_string()));
        }
        let operator = crypto::read_key_file(&key_path)?;
        let store = SledStore::open(&store_path)?;
        Self::open_store(Box::new(store), operator).map_err(|e| in_file(e, &store_path.join("db")))
    }

    /// Open the ledger in any `store`, checking every record against the signed
    /// checkpoint, which must verify with `operator`'s key.
    pub fn open_with(store: impl Store + 'static, operator: SigningKey) -> Result<Log, OpenError> {
        Self::open_store(Box::new(store), operator)
    }

    fn open_store(store: Box<dyn Store>, operator: SigningKey) -> Result<Log, OpenError> {
        let store: Arc<dyn Store> = Arc::from(store);
        let origin = store.meta(meta::ORIGIN)?.ok_or_else(|| corrupt("the store has no origin"))?;
        let origin = String::from_utf8(origin).map_err(|_| corrupt("the stored origin is not UTF-8"))?;
        let note = store.meta(meta::CHECKPOINT)?.ok_or_else(|| corrupt("the store has no signed checkpoint"))?;
        let note = String::from_utf8(note).map_err(|_| corrupt("the stored checkpoint is not UTF-8"))?;
        let cp = checkpoint::open(&note, &origin, &operator.verifying_key())
            .map_err(|e| corrupt(format!("the stored checkpoint does not verify with the operator key: {e}")))?;

        // The records are checked against the signed root while a second
        // thread reads and parses the state snapshot (each a large share of
        // a restart at 1 000 000 records). The records are the truth: a
        // missing, unreadable or impossible snapshot only means a longer
        // replay, from genesis.
        let started = std::time::Instant::now();
        let timed_load = || {
            let t = std::time::Instant::now();
            (load_snapshot(store.as_ref()), t.elapsed())
        };
        let (checked, checked_in, (snapshot, snapshot_in)) = std::thread::scope(|s| {
            let loading = std::thread::Builder::new().name("meent-open".into()).spawn_scoped(s, timed_load);
            let checked = check_records(store.as_ref(), &cp);
            let checked_in = started.elapsed();
            // No thread: read it here; a panic while parsing: replay from genesis.
            let snapshot = match loading {
                Ok(thread) => thread.join().unwrap_or((Ok(None), std::time::Duration::ZERO)),
                Err(_) => timed_load(),
            };
            (checked, checked_in, snapshot)
        });
        let frontier = checked?;
        let mut state: State = match snapshot? {
            Some(s) if s.size <= cp.size => s,
            _ => State::new(),
        };
        let replayed = cp.size - state.size;
        for item in store.records_from(state.size) {
            let (seq, bytes) = item?;
            let rec = Record::from_leaf_bytes(&bytes).map_err(|e| corrupt(format!("record {seq}: {e}")))?;
            if rec.seq != seq {
                return Err(corrupt(format!("record {seq} says it is record {}", rec.seq)));
            }
            state
                .apply(seq, &rec.received_at, &rec.entry)
                .map_err(|e| corrupt(format!("record {seq} breaks a rule on replay: {e}")))?;
        }
        // After a replay without a snapshot, here rather than under the
        // writer's lock at the first reversal or reconciliation.
        state.funds.build_indexes();
        tracing::info!(
            "opened the log of {} records in {:.2?}: records checked in {:.2?}, snapshot read in {:.2?}, {replayed} records replayed",
            cp.size,
            started.elapsed(),
            checked_in,
            snapshot_in
        );
        if state.origin.as_deref() != Some(origin.as_str()) {
            return Err(corrupt("genesis origin does not match the store's origin"));
        }
        if state.operator_key != Some(PublicKey::from(operator.verifying_key())) {
            return Err(corrupt("the operator key file does not match the genesis operator_key"));
        }
        let shared = Arc::new(Shared {
            failed: OnceLock::new(),
            snapshots: Mutex::new(Snapshots { written: cp.size, ..Snapshots::default() }),
            wake: Condvar::new(),
        });
        Ok(Log {
            snapshotter: spawn_snapshotter(store.clone(), shared.clone()),
            shared,
            store,
            operator,
            origin,
            writer: Mutex::new(Writer { frontier, since_snapshot: replayed }),
            pending: Mutex::new(HashMap::new()),
            state: RwLock::new(state),
            published: RwLock::new(Published { note, checkpoint: cp }),
        })
    }

    /// The log's origin (its name in checkpoints).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The operator's public key.
    pub fn operator_key(&self) -> PublicKey {
        PublicKey::from(self.operator.verifying_key())
    }

    /// Sign an entry as the operator (automatic closes).
    pub fn operator_entry(
        &self,
        kind: Kind,
        body: Value,
        now: DateTime<Utc>,
    ) -> Result<VerifiedEntry, entry::EntryError> {
        entry::sign_entry(kind, &Author::Operator, &self.operator, &Timestamp::from_instant(now), body)
    }

    /// Read access to the state (register, funds). It may include entries whose
    /// group is not yet written or is being flushed.
    ///
    /// Once the log has failed ([`Log::failure`]) the state may be ahead of the
    /// disk or half-changed, and reads derived from it must be refused. The
    /// log fails before a state half-changed by a panic can be read again, so
    /// a caller that checks [`Log::failure`] after it has read the state (and
    /// refuses what it read if it is set) never serves such a state.
    pub fn state(&self) -> RwLockReadGuard<'_, State> {
        self.shared.unpoisoned(self.state.read(), "state")
    }

    /// Why the log refuses writes and derived reads, if it does: a panic while
    /// judging, a failed write or flush, a poisoned lock. Only a restart (which
    /// rebuilds the state from the store) clears it.
    pub fn failure(&self) -> Option<String> {
        if self.state.is_poisoned() {
            self.fail("internal error: a thread panicked holding the state; restart the server to rebuild it".into());
        }
        self.shared.failed.get().cloned()
    }

    /// The latest signed checkpoint: the note text and its parsed form.
    pub fn checkpoint(&self) -> (String, Checkpoint) {
        let p = self.published();
        (p.note.clone(), p.checkpoint.clone())
    }

    /// Size of the latest signed checkpoint.
    pub fn size(&self) -> u64 {
        self.published().checkpoint.size
    }

    /// The published checkpoint. It is replaced whole, so a panic cannot leave
    /// it half-changed, but a poisoned lock fails the log all the same.
    fn published(&self) -> RwLockReadGuard<'_, Published> {
        self.shared.unpoisoned(self.published.read(), "published checkpoint")
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<EntryId, (Seq, Hash)>> {
        self.shared.unpoisoned(self.pending.lock(), "index of entries being written")
    }

    /// Leaf bytes of record `seq`, if the signed checkpoint covers it.
    pub fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        if seq >= self.size() {
            return Ok(None);
        }
        self.store.record(seq)
    }

    /// Position of the entry with id `id`, if the signed checkpoint covers it.
    pub fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        let size = self.size();
        Ok(self.indexed_seq(id)?.filter(|s| *s < size))
    }

    /// The store's position for `id`, checked against the record there (the
    /// index is not covered by the tree: a record that does not carry this id
    /// means a corrupt store, never a wrong answer).
    fn indexed_seq(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        let Some(seq) = self.store.seq_of(id)? else { return Ok(None) };
        let bytes = self.store.record(seq)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the id index points entry {id} at record {seq}, which is missing"))
        })?;
        let rec = Record::from_leaf_bytes(&bytes).map_err(|e| StoreError::Corrupt(format!("record {seq}: {e}")))?;
        if rec.entry.id != *id {
            return Err(StoreError::Corrupt(format!(
                "the id index points entry {id} at record {seq}, which holds entry {}",
                rec.entry.id
            )));
        }
        Ok(Some(seq))
    }

    /// Up to `limit` records from `from` on, and the next position if there are more.
    pub fn records(&self, from: Seq, limit: u64) -> Result<(Vec<Vec<u8>>, Option<Seq>), StoreError> {
        let size = self.size();
        let end = from.saturating_add(limit).min(size);
        let mut out = Vec::new();
        if from < end {
            for item in self.store.records_from(from) {
                let (seq, bytes) = item?;
                if seq >= end {
                    break;
                }
                out.push(bytes);
            }
        }
        Ok((out, if end < size { Some(end) } else { None }))
    }

    /// Leaf hash of record `seq`.
    pub fn leaf_hash(&self, seq: Seq) -> Result<Hash, StoreError> {
        NodesOf(self.store.as_ref()).node(0, seq)
    }

    /// Inclusion proof of record `seq` in the tree of size `size`.
    pub fn inclusion_proof(&self, seq: Seq, size: u64) -> Result<(Hash, Vec<Hash>), ProofError> {
        let current = self.size();
        if size > current || size == 0 {
            return Err(ProofError::Range(format!(
                "size {size} must be between 1 and the current tree size {current}"
            )));
        }
        if seq >= size {
            return Err(ProofError::Range(format!("seq {seq} must be below size {size}")));
        }
        let src = NodesOf(self.store.as_ref());
        let proof = merkle::inclusion_proof(&src, seq, size).map_err(proof_error)?;
        Ok((src.node(0, seq)?, proof))
    }

    /// Consistency proof between tree sizes `from` and `to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        let current = self.size();
        if to > current || from > to {
            return Err(ProofError::Range(format!(
                "need 0 <= from <= to <= current tree size {current}; got from={from}, to={to}"
            )));
        }
        let src = NodesOf(self.store.as_ref());
        merkle::consistency_proof(&src, from, to).map_err(proof_error)
    }

    /// Root hash of the tree of size `size` (at most the current size).
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        let current = self.size();
        if size > current {
            return Err(ProofError::Range(format!("size {size} is above the current tree size {current}")));
        }
        merkle::root(&NodesOf(self.store.as_ref()), size).map_err(proof_error)
    }

    /// The published tree as tlog-tiles ([`crate::tiles`]): tiles and entry
    /// bundles of the tree of the latest signed checkpoint.
    pub fn tiles(&self) -> crate::tiles::StoreTiles<'_> {
        crate::tiles::StoreTiles::new(self.store.as_ref(), self.size())
    }

    /// Append a group of verified entries and make it durable, in one call
    /// (the server's writer uses [`crate::ingest::Ingest`], which overlaps the
    /// judging of one group with the writing of the last). Returns one result
    /// per entry, in order.
    pub fn append(&self, batch: Vec<VerifiedEntry>, now: DateTime<Utc>) -> Vec<Result<Ack, SubmitError>> {
        let mut prepared = self.prepare(batch, now);
        self.write(&mut prepared);
        let flushed = self.flush();
        self.publish(prepared, &flushed)
    }

    /// Judge a group of entries against the state in order, and make the
    /// accepted ones, their tree nodes and a new signed checkpoint into one
    /// commit for [`Log::write`] — not yet stored, not yet durable, not yet
    /// published: nobody is answered before [`Log::flush`] and
    /// [`Log::publish`]. Groups must be written and published in the order
    /// they were prepared (the ingest pipeline does), so that the next group
    /// can be judged while the previous one is being written and flushed.
    pub(crate) fn prepare(&self, batch: Vec<VerifiedEntry>, now: DateTime<Utc>) -> Prepared {
        let mut w = self.shared.unpoisoned(self.writer.lock(), "writer");
        if let Some(f) = self.failure() {
            return Prepared::failed(batch.len(), &f);
        }
        // Refused before judging, so the state is untouched and the log stays
        // healthy: a full disk refuses writes (503) and nothing else.
        let bytes: u64 = batch.iter().map(|e| e.canonical().len() as u64 + 512).sum();
        if let Err(e) = self.store.room_for(bytes) {
            return Prepared::failed(batch.len(), &e.to_string());
        }
        let mut results: Vec<Option<Result<Ack, SubmitError>>> = Vec::with_capacity(batch.len());
        let mut commit = Commit::default();
        let mut fresh: HashMap<EntryId, (Seq, Hash)> = HashMap::new();
        let mut dup_of_fresh: Vec<(usize, EntryId)> = Vec::new();
        let mut new_frontier = w.frontier.clone();
        let mut note = String::new();
        let mut snapshot = None;
        {
            let mut state = self.shared.unpoisoned(self.state.write(), "state");
            // After the state's guard: a panic from here on fails the log before
            // the state's lock is released.
            let _fail = FailOnPanic(&self.shared);
            let received_at = match &state.last_received_at {
                Some(last) if last.instant() > now => last.clone(),
                _ => Timestamp::from_instant(now),
            };
            for e in batch {
                if fresh.contains_key(&e.id) {
                    dup_of_fresh.push((results.len(), e.id));
                    results.push(None);
                    continue;
                }
                if let Some(known) = self.already_logged(e.id) {
                    results.push(Some(known));
                    continue;
                }
                let seq = state.size;
                let judged = match state.apply(seq, &received_at, &e) {
                    Err(r) => Err(SubmitError::Refused(r)),
                    Ok(()) => {
                        let record = Record { seq, received_at: received_at.clone(), entry: e };
                        add_record(record, &mut new_frontier, &mut commit, &mut fresh)
                    }
                };
                results.push(Some(judged));
            }
            if !commit.records.is_empty() {
                let cp =
                    Checkpoint { origin: self.origin.clone(), size: new_frontier.size(), root: new_frontier.root() };
                note = cp.sign(&self.operator);
                commit.meta.push((meta::CHECKPOINT, note.clone().into_bytes()));
                commit.meta.push((meta::FRONTIER, new_frontier.to_bytes()));
                // The state now holds exactly the prepared records: a copy of it
                // for a snapshot when one is due (one at a time).
                let due = w.since_snapshot + commit.records.len() as u64 >= SNAPSHOT_EVERY_RECORDS.max(state.size / 3);
                if due && self.snapshotter.is_some() && !self.shared.snapshots().busy {
                    snapshot = Some(state.clone());
                }
            }
        }
        let tree_size = new_frontier.size();
        let mut publish = None;
        let mut to_write = None;
        if !commit.records.is_empty() {
            self.pending().extend(fresh.iter().map(|(id, v)| (*id, *v)));
            w.since_snapshot += commit.records.len() as u64;
            to_write = Some(commit);
            publish = Some(Published {
                note,
                checkpoint: Checkpoint { origin: self.origin.clone(), size: tree_size, root: new_frontier.root() },
            });
            w.frontier = new_frontier;
        }
        if let Some(copy) = snapshot {
            // The snapshot thread waits until these records are written and
            // flushes the store before writing, so a snapshot never gets ahead
            // of the durable records.
            let mut s = self.shared.snapshots();
            s.copy = Some(copy);
            s.busy = true;
            drop(s);
            self.shared.wake.notify_all();
            w.since_snapshot = 0;
        }
        Prepared { results, dup_of_fresh, fresh, tree_size, publish, commit: to_write }
    }

    /// The answer for an entry already in the log, if it is: stored, or in a
    /// group still being written or flushed (that answer is published after
    /// the group's flush, as groups publish in order).
    fn already_logged(&self, id: EntryId) -> Option<Result<Ack, SubmitError>> {
        if let Some(&(seq, leaf_hash)) = self.pending().get(&id) {
            return Some(Ok(Ack { seq, id, leaf_hash, tree_size: 0, created: false }));
        }
        match self.indexed_seq(&id) {
            Err(err) => Some(Err(SubmitError::Unavailable(err.to_string()))),
            Ok(Some(seq)) => Some(
                self.leaf_hash(seq)
                    .map(|leaf_hash| Ack { seq, id, leaf_hash, tree_size: 0, created: false })
                    .map_err(|err| SubmitError::Unavailable(err.to_string())),
            ),
            Ok(None) => None,
        }
    }

    /// Refuse every write and derived read from now on (until a restart
    /// rebuilds the state from the store), with this reason unless one was
    /// given before; returns the reason.
    pub(crate) fn fail(&self, msg: String) -> String {
        self.shared.fail(msg)
    }

    /// Store a prepared group as one atomic write (not yet durable). Groups
    /// must be written in the order they were prepared, each right after the
    /// last record stored (checked: anything else fails the log rather than
    /// leave a gap); this runs apart from [`Log::prepare`] because the
    /// engine's write waits for a flush in progress, and the next group can be
    /// judged meanwhile. A failure fails the group and stops all later writes.
    pub(crate) fn write(&self, p: &mut Prepared) {
        let Some(commit) = p.commit.take() else { return };
        let first = p.tree_size - commit.records.len() as u64;
        let stored = self.shared.snapshots().written;
        let result = match self.failure() {
            Some(f) => Err(f),
            None if first != stored => Err(self.fail(format!(
                "internal: a group starting at record {first} came to be written after record {} (groups out of order); restart the server",
                stored.saturating_sub(1)
            ))),
            None => self.store.write(&commit).map_err(|e| self.fail(format!("write failed, restart the server to recheck the store: {e}"))),
        };
        // Stored (the store's index finds them now) or never to be: no longer pending.
        {
            let mut pending = self.pending();
            for id in p.fresh.keys() {
                pending.remove(id);
            }
        }
        match result {
            Ok(()) => {
                let mut s = self.shared.snapshots();
                s.written = p.tree_size;
                if s.waiting_for.is_some_and(|size| p.tree_size >= size) {
                    drop(s);
                    self.shared.wake.notify_all();
                }
            }
            Err(msg) => *p = Prepared::failed(p.results.len(), &msg),
        }
    }

    /// Write a snapshot of the state now, if it holds records that the last
    /// snapshot does not (the server calls this as it stops, so that the
    /// next start replays nothing). The state is serialised as it stands,
    /// under its lock and the writer's, without a copy; a snapshot being
    /// written by the snapshot thread is waited for first, so that it cannot
    /// replace this newer one. Nothing is written by a failed log, or while
    /// a judged group is not yet written (its records are not on disk).
    /// Returns whether a snapshot was written.
    pub fn snapshot_now(&self) -> Result<bool, StoreError> {
        let mut w = self.shared.unpoisoned(self.writer.lock(), "writer");
        if w.since_snapshot == 0 || self.snapshotter.is_none() || self.failure().is_some() {
            return Ok(false);
        }
        let mut s = self.shared.snapshots();
        while s.busy && self.shared.failed.get().is_none() {
            s = self.shared.wait(s);
        }
        let state = self.state();
        if s.busy || s.written != state.size || self.shared.failed.get().is_some() {
            return Ok(false);
        }
        s.busy = true;
        drop(s);
        let written = self.store.put_snapshot(&mut |out| snapshot::write(&state, out));
        drop(state);
        self.shared.snapshots().busy = false;
        self.shared.wake.notify_all();
        written?;
        w.since_snapshot = 0;
        Ok(true)
    }

    /// Make every written group durable. A failure stops all later writes.
    pub(crate) fn flush(&self) -> Result<(), String> {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        self.store.flush().map_err(|e| self.fail(format!("flush failed, restart the server to recheck the store: {e}")))
    }

    /// After the flush that covers it: publish a prepared group's checkpoint and
    /// give its answers.
    pub(crate) fn publish(&self, p: Prepared, flushed: &Result<(), String>) -> Vec<Result<Ack, SubmitError>> {
        if let Err(msg) = flushed {
            return p.results.iter().map(|_| Err(SubmitError::Unavailable(msg.clone()))).collect();
        }
        if let Some(next) = p.publish {
            let mut published = self.shared.unpoisoned(self.published.write(), "published checkpoint");
            if next.checkpoint.size > published.checkpoint.size {
                *published = next;
            }
        }
        let Prepared { mut results, dup_of_fresh, fresh, tree_size, .. } = p;
        for (i, id) in dup_of_fresh {
            if let Some((seq, lh)) = fresh.get(&id) {
                results[i] = Some(Ok(Ack { seq: *seq, id, leaf_hash: *lh, tree_size, created: false }));
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(SubmitError::Unavailable("internal: unanswered submission".into()))).map(
                    |mut a| {
                        a.tree_size = tree_size;
                        a
                    },
                )
            })
            .collect()
    }
}

/// A group that [`Log::prepare`] judged, waiting for [`Log::write`] and its flush.
pub(crate) struct Prepared {
    results: Vec<Option<Result<Ack, SubmitError>>>,
    dup_of_fresh: Vec<(usize, EntryId)>,
    fresh: HashMap<EntryId, (Seq, Hash)>,
    tree_size: u64,
    publish: Option<Published>,
    /// What [`Log::write`] stores (taken when it does).
    commit: Option<Commit>,
}

impl Prepared {
    /// Every one of `n` submissions answered 503 with `msg`.
    pub(crate) fn failed(n: usize, msg: &str) -> Prepared {
        Prepared {
            results: (0..n).map(|_| Some(Err(SubmitError::Unavailable(msg.to_string())))).collect(),
            dup_of_fresh: vec![],
            fresh: HashMap::new(),
            tree_size: 0,
            publish: None,
            commit: None,
        }
    }
}

/// Check every record of `store` against the signed checkpoint `cp`: each
/// present, in order, hashing to its stored leaf hash; every stored tree
/// node the one the records give; together the signed root. The frontier
/// of the tree they make. The records are read once, lent by the store
/// ([`Store::scan_records`], which builds the store's id index and refuses
/// two records with one entry id in the same pass).
fn check_records(store: &dyn Store, cp: &Checkpoint) -> Result<Frontier, OpenError> {
    let mut frontier = Frontier::default();
    let mut failed: Option<OpenError> = None;
    let mut hashes: Vec<Hash> = Vec::new();
    store.scan_records(&mut |records| {
        leaf_hashes(records, &mut hashes);
        for (r, lh) in records.iter().zip(&hashes) {
            if let Err(e) = check_record(store, cp, &mut frontier, r, *lh) {
                failed = Some(e);
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if frontier.size() != cp.size {
        return Err(corrupt(format!(
            "record {} is missing: the signed checkpoint covers {} records",
            frontier.size(),
            cp.size
        )));
    }
    if frontier.root() != cp.root {
        return Err(corrupt("the records do not hash to the root of the signed checkpoint"));
    }
    let src = NodesOf(store);
    let stored_root = merkle::root(&src, cp.size).map_err(|e| corrupt(format!("tree nodes: {e}")))?;
    if stored_root != cp.root {
        return Err(corrupt("the stored tree nodes do not give the signed root"));
    }
    Ok(frontier)
}

/// The leaf hashes of `records`, into `out`. On one core: the store reads
/// the next records on the other meanwhile (and the snapshot is parsed
/// beside both); hashing each run on two cores with rayon as well made the
/// check slower at 1 000 000 records while the snapshot was parsed, and
/// gained under 0.1 s (of 1.5 s) when it was not.
fn leaf_hashes(records: &[LeafRef<'_>], out: &mut Vec<Hash>) {
    out.clear();
    out.extend(records.iter().map(|r| merkle::leaf_hash(r.bytes)));
}

/// Check the next record `r`, whose leaf hash is `lh`, and add it to `frontier`.
fn check_record(
    store: &dyn Store,
    cp: &Checkpoint,
    frontier: &mut Frontier,
    r: &LeafRef<'_>,
    lh: Hash,
) -> Result<(), OpenError> {
    let (seq, expected) = (r.seq, frontier.size());
    if seq != expected {
        return Err(corrupt(format!("record {expected} is missing (next stored record is {seq})")));
    }
    if seq >= cp.size {
        return Err(corrupt(format!("record {seq} is beyond the signed checkpoint of size {}", cp.size)));
    }
    if r.leaf != lh {
        return Err(corrupt(format!("record {seq} does not match its leaf hash in the tree (altered on disk)")));
    }
    // Every stored node that proofs are built from must be the one the records give
    // (the unstored ones are recomputed from the leaf hashes just checked).
    for (level, index, hash) in frontier.push(lh).map_err(corrupt)? {
        if level > 0 && store.stores_level(level) && store.node(level, index)? != Some(hash) {
            return Err(corrupt(format!(
                "tree node ({level}, {index}) above record {seq} does not match the records (altered on disk)"
            )));
        }
    }
    Ok(())
}

/// The last state snapshot, read; `None` if there is none or it does not
/// read (named in the server's log: opening then replays from genesis).
fn load_snapshot(store: &dyn Store) -> Result<Option<State>, StoreError> {
    let Some(bytes) = store.snapshot()? else { return Ok(None) };
    match snapshot::decode(&bytes) {
        Ok(state) => {
            // Here, beside the check of the records, not at the first request.
            state.funds.build_indexes();
            Ok(Some(state))
        }
        Err(e) => {
            tracing::warn!("the state snapshot is not used, {e}: the log is replayed from genesis");
            Ok(None)
        }
    }
}

/// Start the thread that writes state snapshots. A snapshot is only an
/// optimisation of opening (the records are the truth), so a failed one is
/// simply replaced by the next, and without the thread opening replays more.
fn spawn_snapshotter(store: Arc<dyn Store>, shared: Arc<Shared>) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("meent-snapshot".into())
        .spawn(move || write_snapshots(store.as_ref(), &shared))
        .ok()
}

/// The snapshot thread: an ordinary thread, asleep on the condition variable
/// until the writer hands it a copy of the state; it serialises the copy
/// (holding no lock), waits until the copy's records are written, and writes
/// the snapshot (which flushes those records first).
fn write_snapshots(store: &dyn Store, shared: &Shared) {
    loop {
        let copy = {
            let mut s = shared.snapshots();
            loop {
                if s.closing {
                    return;
                }
                if let Some(copy) = s.copy.take() {
                    break copy;
                }
                s = shared.wait(s);
            }
        };
        let size = copy.size;
        // Wait until the copy's records are written; a write that fails
        // never gets there, and a failed log writes no more snapshots.
        let mut s = shared.snapshots();
        s.waiting_for = Some(size);
        // For whoever waits for the thread to wait (tests).
        shared.wake.notify_all();
        while s.written < size && !s.closing && shared.failed.get().is_none() {
            s = shared.wait(s);
        }
        s.waiting_for = None;
        let ready = s.written >= size && !s.closing && shared.failed.get().is_none();
        drop(s);
        if ready {
            // Encoded straight into the file: no copy of its bytes in memory.
            let _ = store.put_snapshot(&mut |w| snapshot::write(&copy, w));
        }
        drop(copy);
        shared.snapshots().busy = false;
        // For whoever waits for the snapshot (tests).
        shared.wake.notify_all();
    }
}

impl Drop for Log {
    /// Stops the snapshot thread (waiting for a snapshot being serialised), so
    /// that the store is released when the log is.
    fn drop(&mut self) {
        self.shared.snapshots().closing = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.snapshotter.take() {
            let _ = t.join();
        }
    }
}

/// The data directory layout, for tools.
pub fn store_path(dir: &Path) -> PathBuf {
    dir.join(STORE_DIR)
}

/// An accepted record into the commit being prepared: its leaf and the tree
/// nodes it completes, and its answer (sent once the commit is flushed).
fn add_record(
    record: Record,
    frontier: &mut Frontier,
    commit: &mut Commit,
    fresh: &mut HashMap<EntryId, (Seq, Hash)>,
) -> Result<Ack, SubmitError> {
    let bytes = record.leaf_bytes();
    let lh = merkle::leaf_hash(&bytes);
    let nodes = frontier.push(lh).map_err(|e| SubmitError::Unavailable(e.to_string()))?;
    commit.nodes.extend(nodes);
    let (seq, id) = (record.seq, record.entry.id);
    fresh.insert(id, (seq, lh));
    commit.records.push((seq, id, bytes));
    Ok(Ack { seq, id, leaf_hash: lh, tree_size: 0, created: true })
}
#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use super::*;
    use crate::store::faulty::{Effect, FaultyStore, Op, Times};
    use crate::store::memory::MemStore;

    fn application(id: &str) -> VerifiedEntry {
        let key = crypto::generate_key();
        let at = Timestamp::from_instant(Utc::now());
        let body = json!({"id": id, "name": "Energie Coöperatie Noord", "member_kind": "collective", "legal_form": "cooperatie"});
        entry::sign_entry(Kind::MemberApply, &id.parse().unwrap(), &key, &at, body).unwrap()
    }

    fn created(r: &Result<Ack, SubmitError>) -> (Seq, Hash, bool) {
        let a = r.as_ref().unwrap();
        (a.seq, a.leaf_hash, a.created)
    }

    fn new_log() -> (tempfile::TempDir, Log) {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::create(dir.path(), "meent.test/log", vec![], Utc::now()).unwrap();
        (dir, log)
    }

    /// Two groups of one new application each, judged one after the other.
    fn two_groups(log: &Log) -> (Prepared, Prepared) {
        (
            log.prepare(vec![application("energie-coop-noord")], Utc::now()),
            log.prepare(vec![application("voedselbank-west")], Utc::now()),
        )
    }

    /// Every answer is a 503 giving `why`, and nothing beyond genesis was stored or published.
    fn assert_all_refused<const N: usize>(log: &Log, answers: [Vec<Result<Ack, SubmitError>>; N], why: &str) {
        for r in answers.into_iter().flatten() {
            assert!(matches!(&r, Err(SubmitError::Unavailable(m)) if m.contains(why)), "{r:?}");
        }
        assert_eq!(log.size(), 1);
        assert_eq!(log.store.last_seq().unwrap(), Some(0));
    }

    /// A resubmission judged while the first group is still waiting to be
    /// written (the pipeline judges the next group meanwhile) gets the first
    /// position, and so does one judged after the write.
    #[test]
    fn resubmission_while_the_first_is_not_yet_written() {
        let (_dir, log) = new_log();
        let e = application("energie-coop-noord");
        let mut first = log.prepare(vec![e.clone()], Utc::now());
        let mut again = log.prepare(vec![e.clone(), application("voedselbank-west")], Utc::now());
        log.write(&mut first);
        log.write(&mut again);
        let flushed = log.flush();
        let a = log.publish(first, &flushed);
        let b = log.publish(again, &flushed);
        assert_eq!(created(&a[0]), (1, created(&a[0]).1, true));
        assert_eq!(created(&b[0]), (1, created(&a[0]).1, false));
        assert_eq!(created(&b[1]).0, 2);
        assert_eq!(log.size(), 3);
        let later = log.append(vec![e], Utc::now());
        assert_eq!(created(&later[0]), (1, created(&a[0]).1, false));
        assert_eq!(log.leaf_hash(1).unwrap(), created(&a[0]).1);
    }

    /// A group prepared after a failed write is refused, not written with a
    /// gap before it.
    #[test]
    fn nothing_is_written_after_a_failed_write() {
        let (_dir, log) = new_log();
        let (mut first, mut second) = two_groups(&log);
        log.fail("write failed: disk full (test)".into());
        log.write(&mut first);
        log.write(&mut second);
        let flushed = log.flush();
        assert_all_refused(&log, [log.publish(first, &flushed), log.publish(second, &flushed)], "disk full");
    }

    /// Groups written out of the order they were judged would leave a gap
    /// (or rewind the stored checkpoint): the log refuses them and stops.
    #[test]
    fn groups_out_of_order_are_refused() {
        let (_dir, log) = new_log();
        let (mut first, mut second) = two_groups(&log);
        log.write(&mut second);
        log.write(&mut first);
        let flushed = log.flush();
        assert_all_refused(&log, [log.publish(second, &flushed), log.publish(first, &flushed)], "out of order");
        // A resubmission is not answered from the lost groups.
        assert!(log.pending.lock().unwrap().is_empty());
    }

    /// Past [`SNAPSHOT_EVERY_RECORDS`] the background threads (one of them at
    /// the lowest priority) write a snapshot equal to the state; and again
    /// after as many more (so each snapshot frees the way for the next).
    #[test]
    fn snapshots_are_written_in_the_background() {
        let (_dir, log) = new_log();
        let n = SNAPSHOT_EVERY_RECORDS as usize;
        for round in 1..=2 {
            for chunk in 0..n / 512 {
                let group = (0..512).map(|i| application(&format!("collectief-{round}-{chunk}-{i}"))).collect();
                assert!(log.append(group, Utc::now()).iter().all(|r| r.is_ok()));
            }
            let size = log.size();
            assert_eq!(size, (round * n) as u64 + 1);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            let snapshot = || log.store.snapshot().unwrap().map(|b| snapshot::decode(&b).unwrap());
            loop {
                match snapshot() {
                    Some(s) if s.size == size => {
                        assert_eq!(s, *log.state());
                        assert_eq!(s.register.len(), round * n);
                        break;
                    }
                    last => assert!(
                        std::time::Instant::now() < deadline,
                        "no snapshot of {size} records written (last: {:?})",
                        last.map(|s| s.size)
                    ),
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    /// As the server stops it asks for a snapshot of the whole state (so the
    /// next start replays nothing); there is none to write when nothing
    /// changed since, and a failed log writes none.
    #[test]
    fn a_snapshot_on_request_covers_every_record() {
        let (store, _key, log) = faulty_log();
        let group = applications(&["energie-coop-noord", "voedselbank-west"]);
        assert!(log.append(group, Utc::now()).iter().all(|r| r.is_ok()));
        assert!(log.snapshot_now().unwrap());
        let snapshot = || snapshot::decode(&store.inner().snapshot().unwrap().unwrap()).unwrap();
        assert_eq!((snapshot().size, &snapshot()), (3, &*log.state()));
        assert!(!log.snapshot_now().unwrap(), "nothing new to write");
        assert!(log.append(applications(&["buurtfonds-oost"]), Utc::now()).iter().all(|r| r.is_ok()));
        log.fail("write failed: disk full (test)".into());
        assert!(!log.snapshot_now().unwrap());
        assert_eq!(snapshot().size, 3);
        assert_eq!(store.calls(Op::PutSnapshot), 2, "genesis's snapshot and the one asked for");
    }

    /// A log over a fault-injecting store in memory, and its operator key
    /// (to open the store again, as a restart would).
    fn faulty_log() -> (FaultyStore<MemStore>, SigningKey, Log) {
        let store = FaultyStore::new(MemStore::new());
        let key = crypto::generate_key();
        let log = Log::create_in(store.clone(), key.clone(), "meent.test/log", vec![], Utc::now()).unwrap();
        (store, key, log)
    }

    fn applications(ids: &[&str]) -> Vec<VerifiedEntry> {
        ids.iter().map(|id| application(id)).collect()
    }

    fn registered(log: &Log) -> Vec<String> {
        let mut ids: Vec<String> = log.state().register.members().map(|m| m.id.to_string()).collect();
        ids.sort();
        ids
    }

    fn assert_unavailable(answers: &[Result<Ack, SubmitError>], why: &str) {
        for r in answers {
            assert!(matches!(r, Err(SubmitError::Unavailable(m)) if m.contains(why)), "{r:?}");
        }
    }

    /// A panic in the middle of judging a group leaves a half-changed state:
    /// the log fails (refusing every later write), keeps serving what it
    /// acknowledged, and a restart rebuilds the state from the store.
    #[test]
    fn a_panic_while_judging_fails_the_log_until_a_restart() {
        let (store, key, log) = faulty_log();
        assert!(log.append(applications(&["energie-coop-noord"]), Utc::now()).iter().all(|r| r.is_ok()));
        let (note, _) = log.checkpoint();
        // The store is asked for each entry's id while the state is changed:
        // the first entry is applied, the second panics.
        store.inject(Op::Read, 2, Effect::Panic, Times::Once);
        let group = applications(&["voedselbank-west", "buurtfonds-oost"]);
        assert!(std::panic::catch_unwind(AssertUnwindSafe(|| log.append(group, Utc::now()))).is_err());
        assert!(log.failure().is_some_and(|f| f.contains("panicked")), "{:?}", log.failure());
        // Half-changed indeed (what derived reads must no longer serve).
        assert_eq!(registered(&log), ["energie-coop-noord", "voedselbank-west"]);
        assert_unavailable(&log.append(applications(&["wijkraad-zuid"]), Utc::now()), "panicked");
        // What was acknowledged is still served, with its proofs and checkpoint.
        assert_eq!((log.size(), log.checkpoint().0), (2, note));
        assert!(log.record(1).unwrap().is_some());
        assert!(log.inclusion_proof(1, 2).is_ok() && log.consistency_proof(1, 2).is_ok());
        drop(log);

        let log = Log::open_with(store.inner().clone(), key).unwrap();
        assert_eq!(log.failure(), None);
        assert_eq!(registered(&log), ["energie-coop-noord"]);
        assert!(log.append(applications(&["voedselbank-west"]), Utc::now()).iter().all(|r| r.is_ok()));
        assert_eq!(log.size(), 3);
    }

    /// A failed flush fails the log; the group is not acknowledged and may be
    /// lost by a crash, every acknowledged record survives it, and once
    /// restarted the log takes writes again.
    #[test]
    fn a_failed_flush_fails_the_log_and_loses_nothing_acknowledged() {
        let (store, key, log) = faulty_log();
        let acked = log.append(applications(&["energie-coop-noord", "voedselbank-west"]), Utc::now());
        assert!(acked.iter().all(|r| r.is_ok()));
        store.inject(Op::Flush, 1, Effect::Fail, Times::Once);
        assert_unavailable(&log.append(applications(&["buurtfonds-oost"]), Utc::now()), "injected fault");
        // The disk works again, but the log stays failed until a restart.
        assert_unavailable(&log.append(applications(&["wijkraad-zuid"]), Utc::now()), "injected fault");
        assert!(log.failure().is_some());
        assert_eq!(log.size(), 3);
        assert_eq!(log.seq_of(&acked[1].as_ref().unwrap().id).unwrap(), Some(2));
        drop(log);

        store.inner().crash();
        let log = Log::open_with(store.inner().clone(), key).unwrap();
        assert_eq!(log.size(), 3);
        assert_eq!(registered(&log), ["energie-coop-noord", "voedselbank-west"]);
        for (seq, ack) in acked.iter().enumerate() {
            let ack = ack.as_ref().unwrap();
            assert_eq!(
                (log.seq_of(&ack.id).unwrap(), log.leaf_hash(ack.seq).unwrap()),
                (Some(seq as u64 + 1), ack.leaf_hash)
            );
        }
        assert!(log.append(applications(&["buurtfonds-oost"]), Utc::now()).iter().all(|r| r.is_ok()));
    }

    /// The same over sled: a failed flush fails the log, and every
    /// acknowledged record is there when the data directory is opened again.
    #[test]
    fn a_failed_flush_on_sled_loses_nothing_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let key = crypto::generate_key();
        crypto::write_key_file(&dir.path().join(OPERATOR_KEY_FILE), &key).unwrap();
        let store = FaultyStore::new(SledStore::open(&store_path(dir.path())).unwrap());
        let log = Log::create_in(store.clone(), key, "meent.test/log", vec![], Utc::now()).unwrap();
        let acked = log.append(applications(&["energie-coop-noord", "voedselbank-west"]), Utc::now());
        store.inject(Op::Flush, 1, Effect::Fail, Times::FromThenOn);
        assert_unavailable(&log.append(applications(&["buurtfonds-oost"]), Utc::now()), "injected fault");
        assert!(log.failure().is_some());
        drop((log, store));

        // sled lets go of its lock once its own threads end.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let log = loop {
            match Log::open(dir.path()) {
                Ok(log) => break log,
                Err(e) if e.to_string().contains("lock") && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(log.failure(), None);
        for ack in &acked {
            let ack = ack.as_ref().unwrap();
            assert_eq!(log.seq_of(&ack.id).unwrap(), Some(ack.seq));
            assert_eq!(log.leaf_hash(ack.seq).unwrap(), ack.leaf_hash);
        }
        // The group whose flush failed was never acknowledged; sled may still have kept it.
        let members = registered(&log);
        assert!(["energie-coop-noord", "voedselbank-west"].iter().all(|m| members.contains(&m.to_string())));
        assert!(log.append(applications(&["wijkraad-zuid"]), Utc::now()).iter().all(|r| r.is_ok()));
    }

    /// `open` again until sled's threads of the last handle have let go of its lock.
    fn unlocked<T, E: std::fmt::Display>(open: impl Fn() -> Result<T, E>) -> Result<T, E> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match open() {
                Err(e) if e.to_string().contains("lock") && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                other => return other,
            }
        }
    }

    /// Opening reads the records once: that one pass names a record altered
    /// on disk and two records carrying one entry id, and builds the index
    /// that finds every entry.
    #[test]
    fn the_one_scan_of_opening_names_an_altered_record_and_a_repeated_id() {
        let dir = tempfile::tempdir().unwrap();
        let acked = {
            let log = Log::create(dir.path(), "meent.test/log", vec![], Utc::now()).unwrap();
            log.append(applications(&["energie-coop-noord", "voedselbank-west", "buurtfonds-oost"]), Utc::now())
        };
        let acked: Vec<Ack> = acked.into_iter().map(|a| a.unwrap()).collect();
        let (id2, id3) = (acked[1].id, acked[2].id);
        let tamper = |records: Vec<(Seq, EntryId, Vec<u8>)>| {
            let store = unlocked(|| SledStore::open(&store_path(dir.path()))).unwrap();
            store.commit(&Commit { records, ..Commit::default() }).unwrap();
        };
        let refusal = || match unlocked(|| Log::open(dir.path())) {
            Ok(_) => panic!("a tampered store was opened"),
            Err(e) => e.to_string(),
        };
        let third = {
            let log = unlocked(|| Log::open(dir.path())).unwrap();
            for ack in &acked {
                assert_eq!(log.seq_of(&ack.id).unwrap(), Some(ack.seq));
            }
            log.record(3).unwrap().unwrap()
        };
        // Record 3's bytes changed on disk (its stored leaf hash kept).
        let altered = String::from_utf8(third.clone()).unwrap().replacen("buurtfonds-oost", "buurtfonds-west", 1);
        tamper(vec![(3, id3, altered.into_bytes())]);
        let e = refusal();
        assert!(e.contains("record 3 does not match its leaf hash in the tree (altered on disk)"), "{e}");
        // Put back, it opens again.
        tamper(vec![(3, id3, third.clone())]);
        drop(unlocked(|| Log::open(dir.path())).unwrap());
        // Record 3, its bytes intact, stored under record 2's entry id.
        tamper(vec![(3, id2, third)]);
        let e = refusal();
        assert!(e.contains(&format!("records 2 and 3 carry the same entry id {id2}")), "{e}");
    }

    /// The snapshot thread waits for its copy's records to be written; if
    /// their write fails it is woken, writes no snapshot of them, and is free
    /// again (a snapshot covering records that are not on disk would make a
    /// restart serve a state the records do not give).
    #[test]
    fn no_snapshot_covers_a_failed_write() {
        let (store, _key, log) = faulty_log();
        let n = SNAPSHOT_EVERY_RECORDS as usize - 1;
        let group = (0..n).map(|i| application(&format!("collectief-{i}"))).collect();
        assert!(log.append(group, Utc::now()).iter().all(|r| r.is_ok()));
        // This group makes a snapshot due: its copy is handed to the thread,
        // which waits for the group to be written.
        let mut p = log.prepare(applications(&["buurtfonds-oost"]), Utc::now());
        let wait_for = |what: &str, until: &dyn Fn(&Snapshots) -> bool| {
            let guard = log.shared.snapshots();
            let timeout = std::time::Duration::from_secs(60);
            let (guard, _) = log.shared.wake.wait_timeout_while(guard, timeout, |s| !until(s)).unwrap();
            assert!(until(&guard), "{what}");
        };
        wait_for("the snapshot thread waits for the records", &|s| s.waiting_for == Some(SNAPSHOT_EVERY_RECORDS + 1));
        store.inject(Op::Write, 1, Effect::Fail, Times::Once);
        log.write(&mut p);
        let flushed = log.flush();
        assert_unavailable(&log.publish(p, &flushed), "injected fault");
        wait_for("the snapshot thread was not woken by the failure", &|s| !s.busy);
        let snapshot: State = snapshot::decode(&store.inner().snapshot().unwrap().unwrap()).unwrap();
        assert_eq!(snapshot.size, 1, "a snapshot was written over records whose write failed");
        assert_eq!(store.calls(Op::PutSnapshot), 1, "only genesis's snapshot was written");
    }
}
