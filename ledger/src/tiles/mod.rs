//! The log as C2SP `tlog-tiles` (<https://c2sp.org/tlog-tiles>): static
//! resources any web server or CDN can serve, from which anyone can fetch the
//! checkpoint, the Merkle tree and every record (docs/TILES.md).
//!
//! ```text
//! <prefix>/checkpoint                    the signed note (checkpoint.rs)
//! <prefix>/tile/<L>/<N>[.p/<W>]          hash tiles: 256 hashes at tree level 8·L
//! <prefix>/tile/entries/<N>[.p/<W>]      entry bundles: the records' leaf bytes
//! ```
//!
//! * A **hash tile** at level `L`, index `N` holds the hashes of the tree
//!   nodes at level `8·L`, indices `N·256 .. N·256 + W` (level 0: the leaf
//!   hashes), 32 bytes each. A full tile has `W = 256` and no `.p/<W>`.
//! * An **entry bundle** holds the leaf bytes (`JCS(record)`) of records
//!   `N·256 .. N·256 + W`, each as a big-endian `u16` length and the bytes, so
//!   the leaf hash `SHA-256(0x00 || entry)` of each is the level-0 tile's hash.
//! * `<N>` is written in groups of three digits, all but the last prefixed
//!   with `x`: 1234067 is `x001/x234/067` ([`encode_index`]).
//! * A partial tile (`W < 256`) exists for every tree size that leaves
//!   `W` hashes in its last tile; its content never changes, but it is
//!   replaced by the full tile once the tree fills it.
//!
//! [`TileId`] names a tile and maps it to and from its path; [`tiles_for`]
//! lists the tiles a tree of one size has that a smaller one does not;
//! [`hash_tile`] builds a hash tile from any [`NodeSource`] and [`StoreTiles`]
//! builds every tile from a [`Store`] (the server, `meent tiles`) without
//! reading more than the tile covers. [`copy`] writes a static copy and
//! updates it; [`audit`] checks a log from such a copy alone.

pub mod audit;
pub mod copy;

use crate::merkle::{self, Hash, NodeSource};
use crate::store::{Store, StoreError};

/// Tree levels per tile: tiles of height 8.
pub const TILE_HEIGHT: u32 = 8;

/// Hashes (or entries) in a full tile: `2^TILE_HEIGHT`.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Bytes of one hash in a tile.
pub const HASH_SIZE: usize = 32;

/// The longest entry a bundle can hold: its length is a `u16`.
pub const ENTRY_LEN_MAX: usize = u16::MAX as usize;

/// The highest tile level the format allows.
pub const LEVEL_MAX: u8 = 63;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Hashes of the tree nodes at level `8·L` (`tile/<L>/…`).
    Hashes(u8),
    /// Records' leaf bytes (`tile/entries/…`).
    Entries,
}

/// One tile: what it holds, its index within its level, and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Hashes of a level, or entries.
    pub kind: TileKind,
    /// `<N>`: the tile's index within its level.
    pub index: u64,
    /// Hashes (or entries) in it: 1 to 256; 256 is a full tile.
    pub width: u16,
}

/// Why a path is not the path of a tile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?} is not a tile path ({reason}); tiles are tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")]
pub struct TilePathError {
    /// The path (at most 80 characters of it).
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Why a tile could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// The tree (at the size asked for) does not have this tile.
    #[error("{path}: not in the tree of size {size}")]
    NotInTree {
        /// The tile's path.
        path: String,
        /// The tree size.
        size: u64,
    },
    /// A record is too long for an entry bundle.
    #[error("record {seq} is {len} bytes, more than the {ENTRY_LEN_MAX} an entry bundle can hold")]
    EntryTooLong {
        /// The record.
        seq: u64,
        /// Its length.
        len: usize,
    },
    /// The store failed, or holds what it should not.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why bytes are not an entry bundle of the expected width.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// An entry's length prefix, or its bytes, run past the end.
    #[error("entry {entry} is cut short (the bundle ends inside it)")]
    CutShort {
        /// 0-based position of the entry in the bundle.
        entry: usize,
    },
    /// The bundle holds another number of entries than its width.
    #[error("holds {got} entries, its width is {expected}")]
    WrongCount {
        /// Entries found.
        got: usize,
        /// The tile's width.
        expected: usize,
    },
}

/// `<N>` in three-digit path elements, all but the last prefixed with `x`:
/// 1234067 is `x001/x234/067`, 5 is `005`.
pub fn encode_index(n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        parts.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

/// `size >> (8·level)`: how many complete nodes a tree of `size` leaves has at
/// the tree level of tile level `level` (0 above level 7).
fn nodes_at(size: u64, level: u8) -> u64 {
    size.checked_shr(TILE_HEIGHT * u32::from(level)).unwrap_or(0)
}

impl TileId {
    /// A hash tile.
    pub fn hashes(level: u8, index: u64, width: u16) -> TileId {
        TileId { kind: TileKind::Hashes(level), index, width }
    }

    /// An entry bundle.
    pub fn entries(index: u64, width: u16) -> TileId {
        TileId { kind: TileKind::Entries, index, width }
    }

    /// Whether it is a full tile (256 wide).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The full tile at the same place.
    pub fn full(&self) -> TileId {
        TileId { width: TILE_WIDTH as u16, ..*self }
    }

    /// The tile level: `L` for hashes, 0 for entries.
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes(l) => l,
            TileKind::Entries => 0,
        }
    }

    /// The first node index (at tree level `8·L`) the tile holds: `N·256`.
    /// `None` past `u64`.
    pub fn first(&self) -> Option<u64> {
        self.index.checked_mul(TILE_WIDTH)
    }

    /// Whether a tree of `size` leaves has this tile: every node it holds is
    /// complete in that tree. (A partial tile of a smaller tree stays
    /// available: its content never changes.)
    pub fn in_tree(&self, size: u64) -> bool {
        let Some(first) = self.first() else { return false };
        first.checked_add(u64::from(self.width)).is_some_and(|end| end <= nodes_at(size, self.level()))
    }

    /// The path below the prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let partial = if self.is_full() { String::new() } else { format!(".p/{}", self.width) };
        format!("tile/{level}/{}{partial}", encode_index(self.index))
    }

    /// Parses a path below the prefix (`tile/…`). Only the canonical path of
    /// a tile is accepted: no leading zeros in `<L>` and `<W>`, no
    /// superfluous `x000` groups, `<L>` at most 63, `<W>` from 1 to 255.
    pub fn parse(path: &str) -> Result<TileId, TilePathError> {
        let bad = |reason| TilePathError { path: path.chars().take(80).collect(), reason };
        // 64-bit N is at most 7 groups; anything longer is not a tile.
        if path.len() > 64 {
            return Err(bad("too long"));
        }
        let rest = path.strip_prefix("tile/").ok_or_else(|| bad("it does not start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| bad("no index"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = canonical_decimal(level).ok_or_else(|| bad("the level is not a decimal number"))?;
            let l = u8::try_from(l).ok().filter(|l| *l <= LEVEL_MAX).ok_or_else(|| bad("the level is above 63"))?;
            TileKind::Hashes(l)
        };
        let (digits, width) = match rest.split_once(".p/") {
            None => (rest, TILE_WIDTH as u16),
            Some((digits, w)) => {
                let w = canonical_decimal(w).ok_or_else(|| bad("the width is not a decimal number"))?;
                let w = u16::try_from(w)
                    .ok()
                    .filter(|w| (1..TILE_WIDTH as u16).contains(w))
                    .ok_or_else(|| bad("a partial tile's width is 1 to 255"))?;
                (digits, w)
            }
        };
        let mut index: u64 = 0;
        let groups: Vec<&str> = digits.split('/').collect();
        for (i, group) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let three = if last { Some(*group) } else { group.strip_prefix('x') };
            let three = three
                .filter(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad("the index is not in groups of three digits (x001/x234/067)"))?;
            let value: u64 = three.parse().map_err(|_| bad("the index is not a number"))?;
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or_else(|| bad("the index is above 2^64"))?;
        }
        let tile = TileId { kind, index, width };
        if tile.path() != path {
            return Err(bad("not the canonical form of the index"));
        }
        Ok(tile)
    }
}

/// A decimal number without sign or leading zeros (`0` itself allowed).
fn canonical_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// The tiles a tree of `new` leaves has that a tree of `old` leaves lacks, or
/// holds with other content: at each level, the tiles that became full and the
/// new rightmost partial tile; entry bundles alongside the level-0 tiles.
/// Ordered by level (entries with level 0), then index. Empty if `new <= old`.
pub fn tiles_for(old: u64, new: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    if new <= old {
        return out;
    }
    for level in 0..=LEVEL_MAX {
        let (old_n, new_n) = (nodes_at(old, level), nodes_at(new, level));
        if new_n == 0 {
            break;
        }
        if old_n == new_n {
            continue;
        }
        let mut push = |index: u64, width: u16| {
            out.push(TileId::hashes(level, index, width));
            if level == 0 {
                out.push(TileId::entries(index, width));
            }
        };
        for index in old_n / TILE_WIDTH..new_n / TILE_WIDTH {
            push(index, TILE_WIDTH as u16);
        }
        let partial = (new_n % TILE_WIDTH) as u16;
        if partial > 0 {
            push(new_n / TILE_WIDTH, partial);
        }
    }
    out
}

/// The hash tile at `tile` (its kind must be hashes) from `src`: `width`
/// calls to [`NodeSource::node`] at tree level `8·L`. The caller checks that
/// the tile is in the tree ([`TileId::in_tree`]).
pub fn hash_tile<S: NodeSource>(src: &S, tile: TileId) -> Result<Vec<u8>, S::Error> {
    let level = TILE_HEIGHT * u32::from(tile.level());
    let first = tile.index * TILE_WIDTH;
    let mut out = Vec::with_capacity(usize::from(tile.width) * HASH_SIZE);
    for i in 0..u64::from(tile.width) {
        out.extend_from_slice(&src.node(level, first + i)?);
    }
    Ok(out)
}

/// The hash of a full tile's subtree: the Merkle tree hash of its 256
/// hashes, which is the hash the tile one level up holds for it.
pub fn full_tile_root(hashes: &[Hash]) -> Hash {
    debug_assert_eq!(hashes.len() as u64, TILE_WIDTH);
    let mut row: Vec<Hash> = hashes.to_vec();
    while row.len() > 1 {
        row = row.chunks(2).map(|p| merkle::node_hash(&p[0], &p[1])).collect();
    }
    row[0]
}

/// The hashes in a hash tile's bytes (`None` if not a whole number of hashes).
pub fn tile_hashes(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(HASH_SIZE) {
        return None;
    }
    Some(bytes.chunks_exact(HASH_SIZE).map(|c| c.try_into().expect("32 bytes")).collect())
}

/// An entry bundle: each entry as a big-endian `u16` length and its bytes.
/// `first` is the position of the first entry, to name a record too long.
pub fn encode_bundle<'a>(first: u64, entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        let len =
            u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong { seq: first + i as u64, len: e.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of a bundle that must hold exactly `width` of them.
pub fn decode_bundle(bytes: &[u8], width: usize) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::with_capacity(width);
    let mut at = 0usize;
    while at < bytes.len() {
        let entry = out.len();
        let len = bytes.get(at..at + 2).ok_or(BundleError::CutShort { entry })?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let e = bytes.get(at + 2..at + 2 + len).ok_or(BundleError::CutShort { entry })?;
        out.push(e);
        at += 2 + len;
    }
    if out.len() != width {
        return Err(BundleError::WrongCount { got: out.len(), expected: width });
    }
    Ok(out)
}

/// Every tile of a tree of `size` leaves, built from a [`Store`] that holds
/// at least that tree: level-0 tiles and entry bundles from one scan of the
/// records they cover, higher tiles from the stored nodes (256 reads).
pub struct StoreTiles<'a> {
    store: &'a dyn Store,
    size: u64,
}

struct NodesOf<'a>(&'a dyn Store);

impl NodeSource for NodesOf<'_> {
    type Error = StoreError;
    fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        self.0
            .node(level, index)?
            .ok_or_else(|| StoreError::Corrupt(format!("tree node ({level}, {index}) is missing")))
    }
}

impl<'a> StoreTiles<'a> {
    /// The tiles of the tree of `size` leaves held in `store`.
    pub fn new(store: &'a dyn Store, size: u64) -> Self {
        StoreTiles { store, size }
    }

    /// The tiles of the tree of `size` leaves, a prefix of this one (at
    /// most this size).
    pub fn at(&self, size: u64) -> StoreTiles<'a> {
        StoreTiles { store: self.store, size: size.min(self.size) }
    }

    /// The tree size the tiles are of.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes of `tile`, if the tree has it.
    pub fn read(&self, tile: TileId) -> Result<Vec<u8>, TileError> {
        if !tile.in_tree(self.size) {
            return Err(TileError::NotInTree { path: tile.path(), size: self.size });
        }
        match tile.kind {
            TileKind::Entries => {
                let leaves = self.leaves(tile)?;
                encode_bundle(tile.index * TILE_WIDTH, leaves.iter().map(|l| l.1.as_slice()))
            }
            TileKind::Hashes(0) => Ok(self.leaves(tile)?.iter().flat_map(|l| l.0).collect()),
            TileKind::Hashes(_) => Ok(hash_tile(&NodesOf(self.store), tile)?),
        }
    }

    /// The leaf hashes and leaf bytes of the records a level-0 tile covers,
    /// the stored hash of each checked against its bytes.
    pub fn leaves(&self, tile: TileId) -> Result<Vec<(Hash, Vec<u8>)>, TileError> {
        if !tile.in_tree(self.size) || tile.level() != 0 {
            return Err(TileError::NotInTree { path: tile.path(), size: self.size });
        }
        let first = tile.index * TILE_WIDTH;
        let width = usize::from(tile.width);
        let mut out = Vec::with_capacity(width);
        for item in self.store.leaves_from(first).take(width) {
            let (seq, hash, bytes) = item?;
            let expected = first + out.len() as u64;
            if seq != expected {
                return Err(StoreError::Corrupt(format!("record {expected} is missing (next stored is {seq})")).into());
            }
            if merkle::leaf_hash(&bytes) != hash {
                return Err(StoreError::Corrupt(format!("record {seq} does not match its stored leaf hash")).into());
            }
            out.push((hash, bytes));
        }
        if out.len() != width {
            let missing = first + out.len() as u64;
            return Err(StoreError::Corrupt(format!("record {missing} is missing")).into());
        }
        Ok(out)
    }

    /// The root of the tree from the stored nodes (to check it against the
    /// checkpoint before serving or copying).
    pub fn root(&self) -> Result<Hash, TileError> {
        merkle::root(&NodesOf(self.store), self.size).map_err(|e| match e {
            merkle::MerkleError::Source(s) => TileError::Store(s),
            other => TileError::Store(StoreError::Corrupt(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests;
