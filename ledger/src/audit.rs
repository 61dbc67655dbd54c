//! The full audit behind `meent verify`: every record parsed in canonical form,
//! every signature checked (in parallel), every rule replayed from genesis, the
//! Merkle root compared with the signed checkpoint, and consistency with a
//! checkpoint the auditor trusted earlier.

use rayon::prelude::*;

use crate::checkpoint::{self, Checkpoint};
use crate::ids::Seq;
use crate::merkle::{self, Frontier, Hash, MemoryTree};
use crate::record::Record;
use crate::state::State;

/// The first problem found, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// A record is bad.
    #[error("record {seq}: {reason}")]
    Record {
        /// The first bad record.
        seq: Seq,
        /// Why.
        reason: String,
    },
    /// The log as a whole does not match a checkpoint.
    #[error("{0}")]
    Log(String),
}

/// What a successful audit establishes.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// Records checked.
    pub size: u64,
    /// Their Merkle root.
    pub root: Hash,
    /// The signed checkpoint they match.
    pub checkpoint: Checkpoint,
    /// The trusted checkpoint they are consistent with, if one was given.
    pub trusted: Option<Checkpoint>,
    /// The state reached by replaying every record.
    pub state: State,
}

/// Replays records in order. Feed it with [`Auditor::push`] in chunks, then [`Auditor::finish`].
pub struct Auditor {
    state: State,
    tree: MemoryTree,
    frontier: Frontier,
    /// Where each entry id first appeared: an entry is in the log once
    /// (a resubmission is answered with its first position).
    seen: std::collections::HashMap<crate::ids::EntryId, Seq>,
}

impl Default for Auditor {
    fn default() -> Self {
        Self::new()
    }
}

impl Auditor {
    /// Before genesis.
    pub fn new() -> Self {
        Auditor {
            state: State::new(),
            tree: MemoryTree::default(),
            frontier: Frontier::default(),
            seen: Default::default(),
        }
    }

    /// Records checked so far.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Check the next records, given as leaf bytes (canonical JSON), in order.
    pub fn push(&mut self, leaves: &[Vec<u8>]) -> Result<(), AuditError> {
        let base = self.size();
        let parsed: Vec<Result<Record, String>> =
            leaves.par_iter().map(|b| Record::from_leaf_bytes(b).map_err(|e| e.to_string())).collect();
        for (i, (bytes, rec)) in leaves.iter().zip(parsed).enumerate() {
            let seq = base + i as u64;
            let rec = rec.map_err(|reason| AuditError::Record { seq, reason })?;
            if rec.seq != seq {
                return Err(AuditError::Record { seq, reason: format!("says it is record {}", rec.seq) });
            }
            if let Some(first) = self.seen.insert(rec.entry.id, seq) {
                return Err(AuditError::Record {
                    seq,
                    reason: format!("repeats entry {} of record {first}", rec.entry.id),
                });
            }
            self.state
                .apply(seq, &rec.received_at, &rec.entry)
                .map_err(|r| AuditError::Record { seq, reason: format!("breaks a rule: {r}") })?;
            let lh = merkle::leaf_hash(bytes);
            self.tree.push(lh);
            self.frontier.push(lh).map_err(|e| AuditError::Record { seq, reason: e.to_string() })?;
        }
        Ok(())
    }

    /// Compare with the signed checkpoint (`note`) and, if given, a trusted older one.
    pub fn finish(self, note: &str, trusted: Option<&str>) -> Result<AuditReport, AuditError> {
        let origin = self.state.origin.clone().ok_or_else(|| AuditError::Log("the log is empty: no genesis".into()))?;
        let key = self.state.operator_key.ok_or_else(|| AuditError::Log("the log has no operator key".into()))?;
        let cp = checkpoint::open(note, &origin, key.verifying_key())
            .map_err(|e| AuditError::Log(format!("checkpoint: {e}")))?;
        let size = self.frontier.size();
        if cp.size != size {
            return Err(AuditError::Log(format!(
                "the signed checkpoint covers {} records but the log has {size}",
                cp.size
            )));
        }
        let root = self.frontier.root();
        if cp.root != root {
            return Err(AuditError::Log(
                "the records do not hash to the root of the signed checkpoint: some record was altered".into(),
            ));
        }
        let trusted_cp = match trusted {
            None => None,
            Some(t) => {
                let t = checkpoint::open(t, &origin, key.verifying_key())
                    .map_err(|e| AuditError::Log(format!("trusted checkpoint: {e}")))?;
                if t.size > size {
                    return Err(AuditError::Log(format!("the log has {size} records, fewer than the {} of the trusted checkpoint: it was truncated or rolled back", t.size)));
                }
                let proof = merkle::consistency_proof(&self.tree, t.size, size)
                    .map_err(|e| AuditError::Log(format!("consistency proof: {e}")))?;
                merkle::verify_consistency(t.size, size, &proof, &t.root, &root).map_err(|e| {
                    AuditError::Log(format!(
                        "the log is not consistent with the trusted checkpoint of size {}: history was rewritten ({e})",
                        t.size
                    ))
                })?;
                Some(t)
            }
        };
        Ok(AuditReport { size, root, checkpoint: cp, trusted: trusted_cp, state: self.state })
    }
}
