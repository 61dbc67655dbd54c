//! The state snapshot's bytes: a cache of [`State`] that lets opening skip
//! replaying the records it covers (the records stay the truth).
//!
//! Layout: the line `meent-state/3\n`, the state as MessagePack
//! (`rmp-serde`, structs as maps, so a field added later reads as its
//! default), then its length (8 bytes) and CRC-32 (4 bytes), little-endian.
//! Binary because a million-record state read from JSON took three
//! seconds; entry ids are 32 raw bytes there, not 64 hex characters. It is
//! written as a stream (no copy of its bytes in memory: the checksum comes
//! last). A snapshot whose length, checksum or contents do not read is
//! named in the server's log and ignored: opening then replays from genesis.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use std::io::Write;

use crc32fast::Hasher;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::state::State;

/// The first bytes of every snapshot of this layout.
pub const MAGIC: &[u8] = b"meent-state/3\n";

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not this layout (another version's snapshot, or not a snapshot).
    #[error("it is not a meent-state/3 snapshot")]
    Layout,
    /// Not as long as it says (a write that did not finish).
    #[error("it is cut short: it holds {held} bytes of state, its end says {said}")]
    Short {
        /// Bytes between the first line and the end.
        held: u64,
        /// What the end says.
        said: u64,
    },
    /// The bytes changed after they were written.
    #[error("its checksum does not match its contents (damaged on disk)")]
    Checksum,
    /// The checksum matches but the contents are not a state.
    #[error("its contents are not a state: {0}")]
    Contents(String),
}

/// The end: length and CRC-32 of the state's bytes.
const TRAILER: usize = 8 + 4;

/// Write `state`'s snapshot to `w`, as a stream.
pub fn write(state: &State, w: &mut dyn Write) -> std::io::Result<()> {
    w.write_all(MAGIC)?;
    let mut body = std::io::BufWriter::with_capacity(1 << 16, Counted { inner: &mut *w, crc: Hasher::new(), len: 0 });
    let mut ser = rmp_serde::Serializer::new(&mut body).with_struct_map();
    state.serialize(&mut ser).map_err(std::io::Error::other)?;
    let counted = body.into_inner().map_err(|e| e.into_error())?;
    let (len, crc) = (counted.len, counted.crc.finalize());
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&crc.to_le_bytes())
}

/// Encode `state` as a snapshot, appending to `out`.
pub fn encode(state: &State, out: &mut Vec<u8>) -> std::io::Result<()> {
    write(state, out)
}

/// The state a snapshot holds.
pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(SnapshotError::Layout)?;
    let Some(split) = rest.len().checked_sub(TRAILER) else {
        return Err(SnapshotError::Short { held: rest.len() as u64, said: 0 });
    };
    let (body, end) = rest.split_at(split);
    let said = u64::from_le_bytes(end[..8].try_into().map_err(|_| SnapshotError::Layout)?);
    let crc = u32::from_le_bytes(end[8..].try_into().map_err(|_| SnapshotError::Layout)?);
    if said != body.len() as u64 {
        return Err(SnapshotError::Short { held: body.len() as u64, said });
    }
    if crc32fast::hash(body) != crc {
        return Err(SnapshotError::Checksum);
    }
    rmp_serde::from_slice(body).map_err(|e| SnapshotError::Contents(e.to_string()))
}

/// Read a map written in key order (as serde writes a `BTreeMap`) in one
/// bulk build: linear, and with full nodes, where inserting one by one
/// searched the tree for each key and left nodes a third empty. For the
/// state's large maps (`#[serde(deserialize_with = "crate::snapshot::sorted_map")]`).
pub(crate) fn sorted_map<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Ord + Deserialize<'de>,
    V: Deserialize<'de>,
{
    struct Pairs<K, V>(PhantomData<(K, V)>);
    impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Pairs<K, V> {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(pair) = m.next_entry()? {
                pairs.push(pair);
            }
            // `from_iter` sorts (linear on sorted pairs) and builds in bulk; a
            // repeated key keeps its last value, as inserting would.
            Ok(pairs.into_iter().collect())
        }
    }
    d.deserialize_map(Pairs(PhantomData))
}

/// A writer that counts and checksums what it writes.
struct Counted<W> {
    inner: W,
    crc: Hasher,
    len: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_state() -> State {
        // Every kind of entry, in many states, goes through the `apply` fuzz
        // target, which checks each state it reaches reads back from its
        // snapshot; here, a small state by hand.
        let mut s = State::new();
        s.size = 7;
        s.origin = Some("meent.test/snapshot".into());
        s.last_received_at = Some("2026-12-07T06:00:00.123Z".parse().unwrap());
        s
    }

    #[test]
    fn a_snapshot_reads_back_the_same_state() {
        let state = demo_state();
        let mut bytes = Vec::new();
        encode(&state, &mut bytes).unwrap();
        assert!(bytes.starts_with(MAGIC));
        assert_eq!(decode(&bytes).unwrap(), state);
    }

    #[test]
    fn a_damaged_or_foreign_snapshot_is_named_not_read() {
        let mut bytes = Vec::new();
        encode(&demo_state(), &mut bytes).unwrap();
        for at in [MAGIC.len(), MAGIC.len() + 3, bytes.len() - 13, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            assert!(matches!(decode(&bad), Err(SnapshotError::Checksum)), "byte {at}");
        }
        let mut bad = bytes.clone();
        bad[bytes.len() - 12] ^= 1;
        assert!(matches!(decode(&bad), Err(SnapshotError::Short { .. })), "the length itself");
        assert!(matches!(decode(b"{\"size\":3}"), Err(SnapshotError::Layout)));
        // An earlier layout (contributions as a map, indexes inside) is not read, whatever it holds.
        let mut earlier = b"meent-state/2\n".to_vec();
        earlier.extend_from_slice(&bytes[MAGIC.len()..]);
        assert!(matches!(decode(&earlier), Err(SnapshotError::Layout)));
        assert!(matches!(decode(&bytes[..MAGIC.len() + 10]), Err(SnapshotError::Short { .. })));
        assert!(matches!(decode(&bytes[..bytes.len() - 2]), Err(SnapshotError::Short { .. })));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode(&longer), Err(SnapshotError::Short { .. })));
        // A right length and checksum over bytes that are no state.
        let junk = b"\x93\x01\x02\x03";
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(junk);
        bad.extend_from_slice(&(junk.len() as u64).to_le_bytes());
        bad.extend_from_slice(&crc32fast::hash(junk).to_le_bytes());
        assert!(matches!(decode(&bad), Err(SnapshotError::Contents(_))));
    }
}
