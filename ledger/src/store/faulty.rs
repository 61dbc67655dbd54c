//! A [`Store`] that wraps another and fails (or panics) at chosen calls, for
//! tests of what the log does when its storage fails: a write or a flush that
//! fails once, a disk that stays full, a panic inside the writer. Faults are
//! deterministic: "the 2nd flush from now", counted per kind of call. A handle:
//! clones share the inner store, the counts and the faults, so a test keeps
//! one clone to arm faults while the log uses another.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Commit, LeafIter, Store, StoreError, Visit};
use crate::ids::{EntryId, Seq};
use crate::merkle::Hash;

/// The kinds of call a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// [`Store::write`] (and the write half of [`Store::commit`]).
    Write,
    /// [`Store::flush`] (and the flush half of [`Store::commit`]).
    Flush,
    /// The point reads: [`Store::record`], [`Store::seq_of`], [`Store::node`],
    /// [`Store::meta`], [`Store::snapshot`], [`Store::last_seq`]
    /// ([`Store::leaves_from`] and [`Store::scan_records`], the scan of
    /// opening, are never faulted).
    Read,
    /// [`Store::put_snapshot`].
    PutSnapshot,
}

impl Op {
    fn index(self) -> usize {
        self as usize
    }
}

/// What a fault does to the call it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The call fails with [`StoreError::Engine`] without reaching the inner store.
    Fail,
    /// The call reaches the inner store, then reports failure (a write that
    /// landed, a flush that was done, though the engine said otherwise).
    FailAfter,
    /// The call panics without reaching the inner store.
    Panic,
}

/// How many calls a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// Only the chosen call.
    Once,
    /// The chosen call and every later one (a disk that stays full), until
    /// [`FaultyStore::heal`].
    FromThenOn,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    op: Op,
    /// The call number (counted per kind since the store was made) it hits.
    at: u64,
    effect: Effect,
    times: Times,
}

#[derive(Debug, Default)]
struct Faults {
    calls: [AtomicU64; 4],
    armed: Mutex<Vec<Fault>>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: Arc<S>,
    faults: Arc<Faults>,
}

impl<S> Clone for FaultyStore<S> {
    fn clone(&self) -> Self {
        FaultyStore { inner: self.inner.clone(), faults: self.faults.clone() }
    }
}

impl<S: Store> FaultyStore<S> {
    /// `inner`, with no fault armed.
    pub fn new(inner: S) -> FaultyStore<S> {
        FaultyStore { inner: Arc::new(inner), faults: Arc::default() }
    }

    /// Arm a fault: the `nth` call of `op` from now on (1 is the next one)
    /// has `effect`, once or from then on.
    pub fn inject(&self, op: Op, nth: u64, effect: Effect, times: Times) {
        let at = self.calls(op) + nth.max(1);
        self.armed().push(Fault { op, at, effect, times });
    }

    /// Disarm every fault.
    pub fn heal(&self) {
        self.armed().clear();
    }

    /// How many calls of `op` were made so far.
    pub fn calls(&self, op: Op) -> u64 {
        self.faults.calls[op.index()].load(Ordering::Acquire)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn armed(&self) -> MutexGuard<'_, Vec<Fault>> {
        // Nothing panics while it is held; a plain list either way.
        self.faults.armed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a call of `op` and give the effect of the fault it hits, if any.
    fn hit(&self, op: Op) -> Option<(Effect, u64)> {
        let n = self.faults.calls[op.index()].fetch_add(1, Ordering::AcqRel) + 1;
        let effect = self
            .armed()
            .iter()
            .find(|f| f.op == op && (f.at == n || (f.times == Times::FromThenOn && n > f.at)))
            .map(|f| f.effect);
        effect.map(|e| (e, n))
    }

    /// Run `call` on the inner store under the fault `op` may hit.
    fn faulted<T>(&self, op: Op, call: impl FnOnce(&S) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let injected = |n: u64| StoreError::Engine(format!("injected fault: {op:?} call {n} failed"));
        match self.hit(op) {
            None => call(&self.inner),
            Some((Effect::Fail, n)) => Err(injected(n)),
            Some((Effect::FailAfter, n)) => call(&self.inner).and_then(|_| Err(injected(n))),
            Some((Effect::Panic, n)) => panic!("injected fault: {op:?} call {n} panicked"),
        }
    }
}

impl<S: Store> Store for FaultyStore<S> {
    fn write(&self, c: &Commit) -> Result<(), StoreError> {
        self.faulted(Op::Write, |s| s.write(c))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.faulted(Op::Flush, |s| s.flush())
    }

    fn record(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        self.faulted(Op::Read, |s| s.record(seq))
    }

    fn seq_of(&self, id: &EntryId) -> Result<Option<Seq>, StoreError> {
        self.faulted(Op::Read, |s| s.seq_of(id))
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>, StoreError> {
        self.faulted(Op::Read, |s| s.node(level, index))
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.faulted(Op::Read, |s| s.meta(name))
    }

    fn leaves_from(&self, from: Seq) -> LeafIter<'_> {
        self.inner.leaves_from(from)
    }

    fn scan_records(&self, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        self.inner.scan_records(visit)
    }

    fn stores_level(&self, level: u32) -> bool {
        self.inner.stores_level(level)
    }

    fn put_snapshot(
        &self,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        self.faulted(Op::PutSnapshot, |s| s.put_snapshot(write))
    }

    fn snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.faulted(Op::Read, |s| s.snapshot())
    }

    fn last_seq(&self) -> Result<Option<Seq>, StoreError> {
        self.faulted(Op::Read, |s| s.last_seq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemStore;

    /// Faults hit the chosen calls only (or every call from then on), and a
    /// failed write does not reach the inner store while a `FailAfter` one does.
    #[test]
    fn faults_hit_the_chosen_calls() {
        let s = FaultyStore::new(MemStore::new());
        let c = |seq: Seq| Commit { records: vec![(seq, EntryId([seq as u8; 32]), vec![1])], ..Commit::default() };
        s.inject(Op::Write, 2, Effect::Fail, Times::Once);
        s.inject(Op::Flush, 1, Effect::Fail, Times::FromThenOn);
        assert!(s.write(&c(0)).is_ok());
        assert!(s.write(&c(1)).unwrap_err().to_string().contains("Write call 2"));
        assert_eq!(s.inner().record(1).unwrap(), None);
        assert!(s.write(&c(1)).is_ok());
        assert!(s.flush().is_err() && s.flush().is_err());
        s.heal();
        assert!(s.flush().is_ok());
        s.inject(Op::Write, 1, Effect::FailAfter, Times::Once);
        assert!(s.write(&c(2)).is_err());
        assert_eq!(s.inner().record(2).unwrap(), Some(vec![1]));
        assert_eq!(s.calls(Op::Write), 4);
        s.inject(Op::Read, 1, Effect::Panic, Times::Once);
        let clone = s.clone();
        assert!(std::panic::catch_unwind(|| clone.record(0)).is_err());
        assert!(s.record(0).is_ok());
    }
}
