//! The [`Store`] on sled 0.34: one tree, keys prefixed by what they hold, each
//! [`Commit`] one atomic `apply_batch`; `flush` is sled's (fsync of its log,
//! which sled recovers as a prefix).

use std::path::Path;

use super::{Commit, RecordIter, Store, StoreError};
use crate::ids::{EntryId, Seq};
use crate::merkle::Hash;

const RECORD: u8 = b'r';
const ID: u8 = b'i';
const NODE: u8 = b'n';
const META: u8 = b'm';

/// A sled-backed store.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    /// The state snapshot lives beside sled's files, as a plain file replaced by rename.
    snapshot_path: std::path::PathBuf,
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Engine(format!("{what}: {e}"))
}

fn engine(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
        other => StoreError::Engine(other.to_string()),
    }
}

fn record_key(seq: Seq) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = RECORD;
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn node_key(level: u32, index: u64) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = NODE;
    k[1..5].copy_from_slice(&level.to_be_bytes());
    k[5..].copy_from_slice(&index.to_be_bytes());
    k
}

fn id_key(id: &EntryId) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = ID;
    k[1..].copy_from_slice(&id.0);
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![META];
    k.extend_from_slice(name.as_bytes());
    k
}

impl SledStore {
    /// Open (or create) the store in `dir`.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new().path(dir).mode(sled::Mode::HighThroughput).open().map_err(engine)?;
        let tree = db.open_tree("log").map_err(engine)?;
        Ok(SledStore { db, tree, snapshot_path: dir.join("state-snapshot.json") })
    }
}

impl Store for SledStore {
    fn write(&self, c: &Commit) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (seq, id, bytes) in &c.records {
            batch.insert(&record_key(*seq)[..], bytes.as_slice());
            batch.insert(&id_key(id)[..], &seq.to_be_bytes()[..]);
        }
        for (level, index, hash) in &c.nodes {
            batch.insert(&node_key(*level, *index)[..], &hash[..]);
        }
        for (name, value) in &c.meta {
            batch.insert(meta_key(name), value.as_slice());
        }
        self.tree.apply_batch(batch).map_err(engine)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(engine).map(|_| ())
    }

    fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(record_key(seq)).map_err(engine)?.map(|v| v.to_vec()))
    }

    fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        match self.tree.get(id_key(id)).map_err(engine)? {
            None => Ok(None),
            Some(v) => {
                let b: [u8; 8] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt(format!("index entry for {id} is not 8 bytes")))?;
                Ok(Some(u64::from_be_bytes(b)))
            }
        }
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError> {
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

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(meta_key(name)).map_err(engine)?.map(|v| v.to_vec()))
    }

    fn records_from(&self, from: Seq) -> RecordIter<'_> {
        let start = record_key(from);
        let end = [RECORD + 1];
        Box::new(self.tree.range(start.as_slice()..end.as_slice()).map(|kv| {
            let (k, v) = kv.map_err(engine)?;
            let b: [u8; 8] = k.get(1..9).and_then(|s| s.try_into().ok()).ok_or_else(|| StoreError::Corrupt("record key is not 9 bytes".into()))?;
            Ok((u64::from_be_bytes(b), v.to_vec()))
        }))
    }

    fn put_snapshot(&self, write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<(), StoreError> {
        use std::io::Write;
        self.flush()?;
        let tmp = self.snapshot_path.with_extension("json.tmp");
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

    fn last_seq(&self) -> Result<Option<Seq>, StoreError> {
        let start = [RECORD];
        let end = [RECORD + 1];
        match self.tree.range(start.as_slice()..end.as_slice()).next_back() {
            None => Ok(None),
            Some(kv) => {
                let (k, _) = kv.map_err(engine)?;
                let b: [u8; 8] = k.get(1..9).and_then(|s| s.try_into().ok()).ok_or_else(|| StoreError::Corrupt("record key is not 9 bytes".into()))?;
                Ok(Some(u64::from_be_bytes(b)))
            }
        }
    }
}
