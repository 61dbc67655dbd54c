//! The state snapshot's bytes: a cache of [`State`] that lets opening skip
//! replaying the records it covers (the records stay the truth).
//!
//! Layout: the line `meent-state/2\n`, the length of the rest (8 bytes,
//! little-endian), its CRC-32 (4 bytes, little-endian), then the state as
//! MessagePack (`rmp-serde`, structs as maps, so a field added later reads
//! as its default). Binary because a million-record state read from JSON
//! took three seconds; entry ids are 32 raw bytes there, not 64 hex
//! characters. It is read as a stream (no copy of the file in memory). A
//! snapshot whose length, checksum or contents do not read is named in the
//! server's log and ignored: opening then replays from genesis.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use std::io::{Read, Write};

use crc32fast::Hasher;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::state::State;

/// The first bytes of every snapshot of this layout.
pub const MAGIC: &[u8] = b"meent-state/2\n";

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not this layout (another version's snapshot, or not a snapshot).
    #[error("it is not a meent-state/2 snapshot")]
    Layout,
    /// Shorter than its header says (a write that did not finish).
    #[error("it is cut short: {0}")]
    Short(std::io::Error),
    /// The bytes changed after they were written.
    #[error("its checksum does not match its contents (damaged on disk)")]
    Checksum,
    /// The checksum matches but the contents are not a state.
    #[error("its contents are not a state: {0}")]
    Contents(String),
}

const HEADER: usize = MAGIC.len() + 8 + 4;

/// Encode `state` as a snapshot, appending to `out`.
pub fn encode(state: &State, out: &mut Vec<u8>) -> Result<(), rmp_serde::encode::Error> {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; 12]);
    let body = out.len();
    let mut ser = rmp_serde::Serializer::new(&mut *out).with_struct_map();
    serde::Serialize::serialize(state, &mut ser)?;
    let len = (out.len() - body) as u64;
    let crc = crc32fast::hash(&out[body..]);
    out[start + MAGIC.len()..start + MAGIC.len() + 8].copy_from_slice(&len.to_le_bytes());
    out[start + MAGIC.len() + 8..body].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Write `state`'s snapshot to `w`.
pub fn write(state: &State, w: &mut dyn Write) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    encode(state, &mut bytes).map_err(std::io::Error::other)?;
    w.write_all(&bytes)
}

/// The state a snapshot in memory holds.
pub fn decode(bytes: &[u8]) -> Result<State, SnapshotError> {
    let header = bytes.get(..HEADER).ok_or(SnapshotError::Layout)?;
    let (len, crc) = parse_header(header)?;
    let body = &bytes[HEADER..];
    let body = usize::try_from(len).ok().and_then(|n| body.get(..n)).ok_or_else(|| {
        let e =
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{len} bytes said, {} there", body.len()));
        SnapshotError::Short(e)
    })?;
    if crc32fast::hash(body) != crc {
        return Err(SnapshotError::Checksum);
    }
    rmp_serde::from_slice(body).map_err(|e| SnapshotError::Contents(e.to_string()))
}

/// The length and checksum a header gives.
fn parse_header(header: &[u8]) -> Result<(u64, u32), SnapshotError> {
    let field = |at: usize, n: usize| header.get(MAGIC.len() + at..MAGIC.len() + at + n).ok_or(SnapshotError::Layout);
    if !header.starts_with(MAGIC) {
        return Err(SnapshotError::Layout);
    }
    let len = u64::from_le_bytes(field(0, 8)?.try_into().map_err(|_| SnapshotError::Layout)?);
    let crc = u32::from_le_bytes(field(8, 4)?.try_into().map_err(|_| SnapshotError::Layout)?);
    Ok((len, crc))
}

/// The state the snapshot `r` holds, read as a stream. The state is only
/// returned once every byte matched the checksum.
pub fn read(mut r: impl Read) -> Result<State, SnapshotError> {
    let mut header = [0u8; HEADER];
    r.read_exact(&mut header).map_err(|_| SnapshotError::Layout)?;
    let (len, crc) = parse_header(&header)?;
    let mut body = std::io::BufReader::with_capacity(1 << 20, Checked { inner: r.take(len), crc: Hasher::new() });
    let state: Result<State, _> = rmp_serde::from_read(&mut body);
    // The rest of the body (none, if the state read): into the checksum.
    let rest = std::io::copy(&mut body, &mut std::io::sink()).map_err(SnapshotError::Short)?;
    let checked = body.into_inner();
    if checked.inner.limit() > 0 {
        let e = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{} of {len} bytes missing", checked.inner.limit()),
        );
        return Err(SnapshotError::Short(e));
    }
    if checked.crc.finalize() != crc {
        return Err(SnapshotError::Checksum);
    }
    let state = state.map_err(|e| SnapshotError::Contents(e.to_string()))?;
    if rest > 0 {
        return Err(SnapshotError::Contents(format!("{rest} bytes after the state")));
    }
    Ok(state)
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

/// A reader that checksums what it reads.
struct Checked<R> {
    inner: std::io::Take<R>,
    crc: Hasher,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
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
        for at in [HEADER, HEADER + 3, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            assert!(matches!(decode(&bad), Err(SnapshotError::Checksum)), "byte {at}");
        }
        let mut bad = bytes.clone();
        bad[MAGIC.len() + 9] ^= 1;
        assert!(matches!(decode(&bad), Err(SnapshotError::Checksum)), "the checksum itself");
        assert!(matches!(decode(b"{\"size\":3}"), Err(SnapshotError::Layout)));
        assert!(matches!(decode(&bytes[..MAGIC.len() + 10]), Err(SnapshotError::Layout)));
        assert!(matches!(decode(&bytes[..bytes.len() - 2]), Err(SnapshotError::Short(_))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_ok(), "bytes after the snapshot's length are not read");
        // A right checksum over bytes that are no state.
        let junk = b"\x93\x01\x02\x03";
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(&(junk.len() as u64).to_le_bytes());
        bad.extend_from_slice(&crc32fast::hash(junk).to_le_bytes());
        bad.extend_from_slice(junk);
        assert!(matches!(decode(&bad), Err(SnapshotError::Contents(_))));
    }
}
