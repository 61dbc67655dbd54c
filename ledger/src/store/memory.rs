//! A [`Store`] in memory, for tests: it keeps what was written apart from what
//! was flushed, so that [`MemStore::crash`] loses exactly what a crash may lose
//! (every write since the last flush) and a test can then reopen the log over
//! what remains. A handle: clones share one store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Commit, LeafIter, Store, StoreError};
use crate::ids::{EntryId, Seq};
use crate::merkle::Hash;

/// What the store holds at one moment.
#[derive(Debug, Clone, Default)]
struct Contents {
    /// Position → entry id, leaf bytes.
    records: BTreeMap<Seq, (EntryId, Vec<u8>)>,
    ids: HashMap<EntryId, Seq>,
    /// Every node, leaves (level 0) included.
    nodes: HashMap<(u32, u64), Hash>,
    meta: HashMap<String, Vec<u8>>,
}

impl Contents {
    fn apply(&mut self, c: &Commit) {
        for (seq, id, bytes) in &c.records {
            if let Some((old, _)) = self.records.insert(*seq, (*id, bytes.clone())) {
                self.ids.remove(&old);
            }
            self.ids.insert(*id, *seq);
        }
        for (level, index, hash) in &c.nodes {
            self.nodes.insert((*level, *index), *hash);
        }
        for (name, value) in &c.meta {
            self.meta.insert((*name).to_string(), value.clone());
        }
    }
}

#[derive(Debug, Default)]
struct Mem {
    /// Everything written (what reads see, as with a real engine).
    live: Contents,
    /// Everything flushed: what survives [`MemStore::crash`].
    durable: Contents,
    /// Writes since the last flush, in order.
    unflushed: Vec<Commit>,
    snapshot: Option<Vec<u8>>,
}

/// A store in memory; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct MemStore(Arc<Mutex<Mem>>);

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Lose every write since the last flush, as a crash would.
    pub fn crash(&self) {
        let mut m = self.mem();
        m.live = m.durable.clone();
        m.unflushed.clear();
    }

    /// How many records are durable (flushed).
    pub fn durable_records(&self) -> usize {
        self.mem().durable.records.len()
    }

    /// A test store is used from tests only: a panic elsewhere while it was
    /// held leaves it as it was (every change is made whole under the lock).
    fn mem(&self) -> MutexGuard<'_, Mem> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn write(&self, c: &Commit) -> Result<(), StoreError> {
        let mut m = self.mem();
        m.live.apply(c);
        m.unflushed.push(c.clone());
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        let mut m = self.mem();
        let Mem { durable, unflushed, .. } = &mut *m;
        for c in unflushed.drain(..) {
            durable.apply(&c);
        }
        Ok(())
    }

    fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.mem().live.records.get(&seq).map(|r| r.1.clone()))
    }

    fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        Ok(self.mem().live.ids.get(id).copied())
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.mem().live.nodes.get(&(level, index)).copied())
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.mem().live.meta.get(name).cloned())
    }

    fn leaves_from(&self, from: Seq) -> LeafIter<'_> {
        Box::new(Leaves { store: self, next: from, buf: Vec::new().into_iter(), done: false })
    }

    fn stores_level(&self, _level: u32) -> bool {
        true
    }

    fn put_snapshot(
        &self,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        self.flush()?;
        let mut bytes = Vec::new();
        write(&mut bytes).map_err(|e| StoreError::Engine(format!("snapshot: {e}")))?;
        self.mem().snapshot = Some(bytes);
        Ok(())
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.mem().snapshot.clone())
    }

    fn last_seq(&self) -> Result<Option<Seq>, StoreError> {
        Ok(self.mem().live.records.keys().next_back().copied())
    }
}

/// Records from a seq on, read [`LEAVES_CHUNK`] at a time under the lock (a
/// reader of one page does not copy the whole log).
struct Leaves<'a> {
    store: &'a MemStore,
    next: Seq,
    buf: std::vec::IntoIter<Leaf>,
    done: bool,
}

/// One record read back: its seq, leaf hash and leaf bytes.
type Leaf = Result<(Seq, Hash, Vec<u8>), StoreError>;

const LEAVES_CHUNK: usize = 256;

impl Iterator for Leaves<'_> {
    type Item = Leaf;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(x) = self.buf.next() {
            return Some(x);
        }
        if self.done {
            return None;
        }
        let m = self.store.mem();
        let chunk: Vec<_> = m
            .live
            .records
            .range(self.next..)
            .take(LEAVES_CHUNK)
            .map(|(seq, (_, bytes))| match m.live.nodes.get(&(0, *seq)) {
                Some(h) => Ok((*seq, *h, bytes.clone())),
                None => Err(StoreError::Corrupt(format!("record {seq} has no leaf hash"))),
            })
            .collect();
        drop(m);
        self.done = chunk.len() < LEAVES_CHUNK;
        match chunk.last() {
            Some(Ok((seq, _, _))) => self.next = seq + 1,
            Some(Err(_)) => self.done = true,
            None => {}
        }
        self.buf = chunk.into_iter();
        self.buf.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(seq: Seq) -> Commit {
        let id = EntryId([seq as u8; 32]);
        Commit {
            records: vec![(seq, id, vec![seq as u8; 3])],
            nodes: vec![(0, seq, [seq as u8; 32])],
            meta: vec![("checkpoint", vec![seq as u8])],
        }
    }

    /// What was flushed survives a crash; what was only written does not.
    #[test]
    fn a_crash_loses_exactly_the_unflushed_writes() {
        let s = MemStore::new();
        s.commit(&commit(0)).unwrap();
        s.write(&commit(1)).unwrap();
        assert_eq!(s.record(1).unwrap(), Some(vec![1; 3]));
        assert_eq!(s.last_seq().unwrap(), Some(1));
        s.crash();
        assert_eq!(s.record(1).unwrap(), None);
        assert_eq!(s.seq_of(&EntryId([1; 32])).unwrap(), None);
        assert_eq!(s.meta("checkpoint").unwrap(), Some(vec![0]));
        assert_eq!(s.leaves_from(0).map(|r| r.unwrap().0).collect::<Vec<_>>(), vec![0]);
        assert_eq!(s.durable_records(), 1);
    }
}
