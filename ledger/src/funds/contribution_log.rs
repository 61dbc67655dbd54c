//! Every contribution, in log order: most of a busy ledger's state (nine in
//! ten records of the million-record benchmark are contributions).
//!
//! Kept in chunks of [`CHUNK`] that copies of the state share: copying the
//! log (for the snapshot thread) copies one pointer per chunk, and a chunk
//! is copied only when one side changes it while the other still holds it
//! (a new contribution changes only the last chunk; a reconciliation the
//! chunks of what it confirms). Two indexes find a contribution: by its id,
//! and, while it is pledged, by its fund and payment reference. Each is a
//! table of positions and hashes (16 bytes a contribution; the key itself is
//! read from the contribution), [derived](Derived) from the log and so
//! neither copied nor written into snapshots. Its serialised form is the list of
//! contributions.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ContributionState, ContributionStatus};
use crate::derived::Derived;
use crate::ids::{EntryId, FundId};

/// A contribution's place in the log: 0 for the first contribution.
pub type Position = u64;

/// Contributions per chunk: about 50 KiB. Small enough that a
/// reconciliation confirming its most (1 000) scattered contributions while
/// a snapshot is being written copies ~50 MiB at worst; large enough that
/// a copy of the log is a few thousand pointers at a million contributions.
pub const CHUNK: usize = 256;

type Chunks = [Arc<Vec<ContributionState>>];

/// Every contribution, in log order; see the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContributionLog {
    chunks: Vec<Arc<Vec<ContributionState>>>,
    /// Every contribution by its id.
    by_id: Derived<Places>,
    /// The pledged ones by their fund and payment reference.
    pledged: Derived<Places>,
}

fn at(chunks: &Chunks, pos: Position) -> Option<&ContributionState> {
    let pos = usize::try_from(pos).ok()?;
    chunks.get(pos / CHUNK)?.get(pos % CHUNK)
}

/// Positions found by a key of the contribution there, hashed with this
/// process's own keys (so that no client can choose ids or references that
/// collide). Each position is kept with its key's hash: growing the table
/// then reads no contribution (it did, and stalled the writer 180 ms at
/// 460 000 contributions).
#[derive(Default)]
struct Places {
    table: HashTable<(u64, Position)>,
    keys: RandomState,
}

/// What the indexes key a contribution by.
trait Key {
    fn hash(keys: &RandomState, c: &ContributionState) -> u64;
}

/// Its id.
struct ById;
impl Key for ById {
    fn hash(keys: &RandomState, c: &ContributionState) -> u64 {
        keys.hash_one(c.id)
    }
}

/// Its fund and payment reference.
struct ByReference;
impl ByReference {
    fn hash_of(keys: &RandomState, fund: &FundId, reference: &str) -> u64 {
        keys.hash_one((fund.as_str(), reference))
    }
}
impl Key for ByReference {
    fn hash(keys: &RandomState, c: &ContributionState) -> u64 {
        Self::hash_of(keys, &c.fund, &c.reference)
    }
}

impl Places {
    fn build<K: Key>(chunks: &Chunks, keep: impl Fn(&ContributionState) -> bool) -> Places {
        let all = || chunks.iter().flat_map(|c| c.iter());
        // Sized once: growing rehashes every key, reading each from its contribution.
        let n = all().filter(|c| keep(c)).count();
        let mut places = Places { table: HashTable::with_capacity(n), keys: RandomState::new() };
        for (pos, c) in all().enumerate() {
            if keep(c) {
                places.add::<K>(c, pos as Position);
            }
        }
        places
    }

    fn find(&self, chunks: &Chunks, hash: u64, is: impl Fn(&ContributionState) -> bool) -> Option<Position> {
        self.table.find(hash, |&(_, pos)| at(chunks, pos).is_some_and(&is)).map(|&(_, pos)| pos)
    }

    /// Index `c`, which is at `pos`.
    fn add<K: Key>(&mut self, c: &ContributionState, pos: Position) {
        let hash = K::hash(&self.keys, c);
        self.table.insert_unique(hash, (hash, pos), |&(hash, _)| hash);
    }

    /// Drop `c`, which is at `pos`, from the index.
    fn drop<K: Key>(&mut self, c: &ContributionState, pos: Position) {
        if let Ok(entry) = self.table.find_entry(K::hash(&self.keys, c), |&(_, p)| p == pos) {
            entry.remove();
        }
    }
}

impl std::fmt::Debug for Places {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Places({})", self.table.len())
    }
}

fn pledged(c: &ContributionState) -> bool {
    c.status == ContributionStatus::Pledged
}

impl ContributionLog {
    /// How many contributions there are.
    pub fn len(&self) -> usize {
        self.chunks.last().map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The contribution at `pos`.
    pub fn at(&self, pos: Position) -> Option<&ContributionState> {
        at(&self.chunks, pos)
    }

    /// The place of contribution `id`.
    pub fn position(&self, id: &EntryId) -> Option<Position> {
        let ix = self.id_index();
        ix.find(&self.chunks, ix.keys.hash_one(id), |c| &c.id == id)
    }

    fn id_index(&self) -> &Places {
        self.by_id.get(|| Places::build::<ById>(&self.chunks, |_| true))
    }

    /// Contribution `id`.
    pub fn get(&self, id: &EntryId) -> Option<&ContributionState> {
        self.position(id).and_then(|pos| self.at(pos))
    }

    /// The pledged contribution to `fund` whose payment reference is `reference`.
    pub fn pledged_with(&self, fund: &FundId, reference: &str) -> Option<&ContributionState> {
        let ix = self.pledged_index();
        let hash = ByReference::hash_of(&ix.keys, fund, reference);
        ix.find(&self.chunks, hash, |c| &c.fund == fund && c.reference == reference).and_then(|pos| self.at(pos))
    }

    /// How many contributions to `fund` are pledged.
    pub fn pledged_count(&self, fund: &FundId) -> usize {
        self.pledged_index().table.iter().filter(|&&(_, pos)| self.at(pos).is_some_and(|c| &c.fund == fund)).count()
    }

    fn pledged_index(&self) -> &Places {
        self.pledged.get(|| Places::build::<ByReference>(&self.chunks, pledged))
    }

    /// Build the indexes now (opening does, so that the first request does not).
    pub fn build_indexes(&self) {
        self.id_index();
        self.pledged_index();
    }

    /// Add a new contribution (its id is new to the log); its place.
    pub fn push(&mut self, c: ContributionState) -> Position {
        let pos = self.len() as Position;
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(c),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(c);
                self.chunks.push(Arc::new(chunk));
            }
        }
        if let Some(c) = at(&self.chunks, pos) {
            if let Some(ix) = self.by_id.built_mut() {
                ix.add::<ById>(c, pos);
            }
            if let Some(ix) = self.pledged.built_mut().filter(|_| pledged(c)) {
                ix.add::<ByReference>(c, pos);
            }
        }
        pos
    }

    /// Change contribution `id` (its chunk is copied first if a copy of the
    /// state shares it), but not its id; the index of pledged references
    /// follows. `None` if there is no such contribution.
    pub fn update<R>(&mut self, id: &EntryId, change: impl FnOnce(&mut ContributionState) -> R) -> Option<R> {
        let pos = self.position(id)?;
        let i = usize::try_from(pos).ok()?;
        let was_pledged = self.at(pos).is_some_and(pledged);
        if let (Some(ix), Some(c)) = (self.pledged.built_mut().filter(|_| was_pledged), at(&self.chunks, pos)) {
            ix.drop::<ByReference>(c, pos);
        }
        let c = Arc::make_mut(self.chunks.get_mut(i / CHUNK)?).get_mut(i % CHUNK)?;
        let r = change(c);
        debug_assert_eq!(&c.id, id, "a contribution keeps its id");
        if let (Some(ix), Some(c)) = (self.pledged.built_mut(), at(&self.chunks, pos).filter(|c| pledged(c))) {
            ix.add::<ByReference>(c, pos);
        }
        Some(r)
    }

    /// Every contribution, in log order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &ContributionState> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl Serialize for ContributionLog {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for c in self.iter() {
            seq.serialize_element(c)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ContributionLog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = ContributionLog;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of contributions")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<ContributionLog, A::Error> {
                let mut log = ContributionLog::default();
                while let Some(c) = items.next_element()? {
                    log.push(c);
                }
                Ok(log)
            }
        }
        d.deserialize_seq(List)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contribution(n: u32, fund: &str) -> ContributionState {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&n.to_le_bytes());
        serde_json::from_value(serde_json::json!({
            "id": EntryId(id).to_hex(), "seq": n, "fund": fund, "author": "energie-coop-noord",
            "amount": "10.00", "reference": format!("MEENT-{n}"), "received_at": "2026-12-07T06:00:00.000Z",
            "status": "pledged",
        }))
        .unwrap()
    }

    fn fund(name: &str) -> FundId {
        name.parse().unwrap()
    }

    /// Contributions 0..n, alternating between two funds, each with its own reference.
    fn log(n: u32) -> ContributionLog {
        let mut log = ContributionLog::default();
        for i in 0..n {
            assert_eq!(log.push(contribution(i, ["noord", "zuid"][i as usize % 2])), u64::from(i));
        }
        log
    }

    #[test]
    fn found_by_id_and_by_reference_in_log_order_across_chunks() {
        let n = (2 * CHUNK + 5) as u32;
        for built_first in [false, true] {
            let mut log = log(1);
            if built_first {
                // Built, then kept up to date by every push.
                log.build_indexes();
            }
            for i in 1..n {
                log.push(contribution(i, ["noord", "zuid"][i as usize % 2]));
            }
            assert_eq!(log.len(), n as usize);
            for i in [0, 1, CHUNK as u32, n - 1] {
                let c = contribution(i, "noord");
                assert_eq!(log.get(&c.id).map(|c| c.seq), Some(u64::from(i)));
            }
            assert_eq!(log.get(&EntryId([0xff; 32])), None);
            assert!(log.iter().map(|c| c.seq).eq(0..u64::from(n)));
            assert_eq!(log.pledged_with(&fund("zuid"), "MEENT-7").map(|c| c.seq), Some(7));
            assert_eq!(log.pledged_with(&fund("noord"), "MEENT-7"), None, "another fund's reference");
            assert_eq!(log.pledged_count(&fund("noord")), (n as usize).div_ceil(2));
        }
    }

    #[test]
    fn a_copy_shares_its_chunks_until_one_side_changes_one() {
        let mut log = log((2 * CHUNK) as u32);
        let copy = log.clone();
        assert!(Arc::ptr_eq(&copy.chunks[0], &log.chunks[0]), "a copy shares the chunks");
        let first = contribution(0, "noord").id;
        log.update(&first, |c| c.status = ContributionStatus::Confirmed).unwrap();
        assert!(!Arc::ptr_eq(&copy.chunks[0], &log.chunks[0]), "a change copies the chunk it changes");
        assert!(Arc::ptr_eq(&copy.chunks[1], &log.chunks[1]), "and only that one");
        assert_eq!(copy.get(&first).unwrap().status, ContributionStatus::Pledged, "the copy keeps what it had");
        assert_ne!(copy, log);
        assert_eq!(log.update(&EntryId([0xff; 32]), |_| ()), None);
    }

    #[test]
    fn a_confirmed_or_reversed_contribution_frees_its_reference() {
        let mut log = log(10);
        log.build_indexes();
        let (noord, c4) = (fund("noord"), contribution(4, "noord"));
        assert_eq!(log.pledged_with(&noord, "MEENT-4").map(|c| c.id), Some(c4.id));
        log.update(&c4.id, |c| c.status = ContributionStatus::Confirmed);
        assert_eq!(log.pledged_with(&noord, "MEENT-4"), None);
        assert_eq!(log.pledged_count(&noord), 4);
        // The reference may be pledged again; the same answers from a log that builds its indexes anew.
        let again = ContributionState { id: EntryId([0xee; 32]), ..c4.clone() };
        log.push(again.clone());
        for l in [&log, &log.clone()] {
            assert_eq!(l.pledged_with(&noord, "MEENT-4").map(|c| c.id), Some(again.id));
            assert_eq!(l.pledged_count(&noord), 5);
            assert_eq!(l.get(&c4.id).map(|c| c.status), Some(ContributionStatus::Confirmed));
        }
    }

    #[test]
    fn serialised_as_the_list_of_contributions() {
        let mut log = log(3);
        log.update(&contribution(1, "zuid").id, |c| c.status = ContributionStatus::Reversed);
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(3));
        assert_eq!(json[1]["status"], "reversed");
        let back: ContributionLog = serde_json::from_value(json).unwrap();
        assert_eq!(back, log);
        assert_eq!(back.pledged_count(&fund("zuid")), 0);
        assert_eq!(back.pledged_count(&fund("noord")), 2);
    }
}
