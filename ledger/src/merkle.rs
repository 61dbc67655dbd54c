//! The log's Merkle tree: RFC 9162 §2.1, also known as C2SP `merkle-tree`.
//!
//! Hashing (SPEC §3.3):
//!
//! ```text
//! leaf hash   = SHA-256(0x00 || leaf_bytes)
//! node hash   = SHA-256(0x01 || left || right)
//! empty tree  = SHA-256("")
//! ```
//!
//! The server stores only the hashes of *complete, aligned* subtrees, addressed
//! by `(level, index)`: the node at `(level, index)` covers the leaves
//! `[index·2^level, (index+1)·2^level)`, and level 0 holds the leaf hashes.
//! Everything here that reads the tree does so through [`NodeSource`], asking
//! only for such nodes; the incomplete subtrees on the right edge of a tree are
//! recomputed from complete ones. A root costs at most 64 `node` calls and a
//! proof O(log² n) calls.
//!
//! Proof generation follows the recursive definitions `PATH` (§2.1.3.1) and
//! `PROOF`/`SUBPROOF` (§2.1.4.1); verification follows the algorithms of
//! §2.1.3.2 and §2.1.4.2 step by step. [`Frontier`] is the compact state that
//! lets the server append without replaying the log, and [`MemoryTree`] is an
//! in-memory [`NodeSource`] for tools and tests.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 || leaf_bytes)`.
pub fn leaf_hash(leaf_bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(leaf_bytes);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Where the hashes of complete, aligned subtrees come from (the server's node
/// store, or a [`MemoryTree`]).
pub trait NodeSource {
    /// Why a node could not be read.
    type Error;

    /// The hash of the complete subtree covering the leaves
    /// `[index·2^level, (index+1)·2^level)`; level 0 is the leaf hashes.
    ///
    /// Callers in this module only ask for nodes whose leaves all lie inside
    /// the tree size they were given.
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;

    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }
}

/// Why a root or a proof could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MerkleError<E> {
    /// The leaf index is not inside the tree.
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("old size {old_size} is greater than new size {new_size}")]
    SizeOrder {
        /// The old (first) tree size.
        old_size: u64,
        /// The new (second) tree size.
        new_size: u64,
    },
    /// The node source failed to produce a node.
    #[error("reading a tree node failed")]
    Source(#[source] E),
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The leaf index is not inside the tree (this includes every index of
    /// the empty tree).
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The old tree is larger than the new one.
    #[error("old size {old_size} is greater than new size {new_size}")]
    SizeOrder {
        /// The claimed old size.
        old_size: u64,
        /// The claimed new size.
        new_size: u64,
    },
    /// The proof does not have the number of hashes the sizes call for.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes a proof for these sizes/index has.
        expected: usize,
    },
    /// The inclusion proof leads to a different root.
    #[error("computed root does not match")]
    RootMismatch,
    /// The consistency proof leads to a different old root (for an old size
    /// of 0: the old root is not the empty tree's root).
    #[error("computed old root does not match")]
    OldRootMismatch,
    /// The consistency proof leads to a different new root (for two empty
    /// trees: the new root is not the empty tree's root).
    #[error("computed new root does not match")]
    NewRootMismatch,
    /// Two trees of the same size have different roots.
    #[error("trees of equal size {size} have different roots")]
    RootsDiffer {
        /// The common size.
        size: u64,
    },
}

/// The largest power of two strictly below `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start : start+len])`, `len >= 1`, from the complete subtrees that
/// make it up (its "peaks", largest first). `start` must be a multiple of the
/// smallest power of two that is at least `len`, which holds for every
/// subtree the RFC recursions visit.
fn subtree_root<S: NodeSource>(src: &S, start: u64, len: u64) -> Result<Hash, S::Error> {
    debug_assert!(len >= 1);
    let mut peaks: Vec<Hash> = Vec::with_capacity(len.count_ones() as usize);
    let mut offset = start;
    for level in (0..64u32).rev() {
        let width = 1u64 << level;
        if len & width != 0 {
            debug_assert_eq!(offset % width, 0, "subtree is not aligned");
            peaks.push(src.node(level, offset >> level)?);
            // Cannot overflow: offset + width <= start + len <= tree size.
            offset += width;
        }
    }
    let mut acc = peaks.pop().expect("len >= 1 has at least one peak");
    while let Some(left) = peaks.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The subtrees `(start, len)` whose roots form `PATH(index, D[0:size])`, in
/// proof order (nearest the leaf first). Requires `index < size`.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    debug_assert!(index < size);
    // Walk down from the root; each step appends one hash *after* the
    // recursive part, so the outermost hash ends up last.
    let mut outer_first = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            outer_first.push((start + k, n - k));
            n = k;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            outer_first.push((start, k));
            start += k;
            m -= k;
            n -= k;
        }
    }
    outer_first.reverse();
    outer_first
}

/// The subtrees `(start, len)` whose roots form `PROOF(old, D[0:new])`, in
/// proof order. Requires `0 < old < new`.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    debug_assert!(0 < old && old < new);
    let mut outer_first = Vec::new();
    let mut first = None;
    let (mut start, mut n, mut m, mut b) = (0u64, new, old, true);
    loop {
        if m == n {
            // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
            if !b {
                first = Some((start, m));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            outer_first.push((start + k, n - k));
            n = k;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            outer_first.push((start, k));
            start += k;
            m -= k;
            n -= k;
            b = false;
        }
    }
    first.into_iter().chain(outer_first.into_iter().rev()).collect()
}

/// The Merkle tree hash `MTH(D[0:size])` of the first `size` leaves.
///
/// Size 0 gives [`empty_root`] without reading any node.
pub fn root<S: NodeSource>(src: &S, size: u64) -> Result<Hash, MerkleError<S::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    subtree_root(src, 0, size).map_err(MerkleError::Source)
}

/// The inclusion proof `PATH(index, D[0:size])` of RFC 9162 §2.1.3.1: the
/// sibling hashes from the leaf up to the root.
pub fn inclusion_proof<S: NodeSource>(src: &S, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError<S::Error>> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    inclusion_ranges(index, size)
        .into_iter()
        .map(|(start, len)| subtree_root(src, start, len).map_err(MerkleError::Source))
        .collect()
}

/// The consistency proof `PROOF(old_size, D[0:new_size])` of RFC 9162
/// §2.1.4.1.
///
/// The proof is empty when `old_size` is 0 or equal to `new_size`.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, MerkleError<S::Error>> {
    if old_size > new_size {
        return Err(MerkleError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    consistency_ranges(old_size, new_size)
        .into_iter()
        .map(|(start, len)| subtree_root(src, start, len).map_err(MerkleError::Source))
        .collect()
}

/// Checks an inclusion proof with the algorithm of RFC 9162 §2.1.3.2.
///
/// `leaf` is the leaf *hash* (see [`leaf_hash`]). The proof length is
/// checked against the one `index` and `size` call for before running the
/// algorithm; this only makes the error more precise, since the algorithm
/// refuses any other length itself.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), VerifyError> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_ranges(index, size).len();
    let wrong_length = VerifyError::WrongProofLength { got: proof.len(), expected };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // 2. fn = leaf_index, sn = tree_size - 1.
    let (mut fnode, mut snode) = (index, size - 1);
    // 3. r = hash.
    let mut r = *leaf;
    // 4. For each p in the inclusion path:
    for p in proof {
        // a. If sn is 0, fail.
        if snode == 0 {
            return Err(wrong_length);
        }
        // b. If LSB(fn) is set, or fn == sn:
        if fnode & 1 == 1 || fnode == snode {
            // i. r = HASH(0x01 || p || r)
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, right-shift fn and sn equally until
            //     either LSB(fn) is set or fn is 0.
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            // Otherwise: r = HASH(0x01 || r || p)
            r = node_hash(&r, p);
        }
        // c. Right-shift fn and sn once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. sn must be 0 and r must equal the root.
    if snode != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof with the algorithm of RFC 9162 §2.1.4.2.
///
/// The RFC's algorithm covers `0 < old_size < new_size`. The other cases are
/// decided as follows:
///
/// * `old_size > new_size`: refused ([`VerifyError::SizeOrder`]).
/// * `old_size == 0`: the empty tree is a prefix of every tree, so this
///   succeeds, but only with an **empty** proof and only if `old_root` is
///   [`empty_root`] (and, if `new_size` is also 0, `new_root` too).
/// * `old_size == new_size > 0`: succeeds only with an empty proof and
///   `old_root == new_root`.
///
/// As with [`verify_inclusion`], the proof length is checked up front for a
/// precise error; the algorithm refuses any other length itself.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::WrongProofLength { got: proof.len(), expected: 0 });
        }
        if old_size == 0 {
            let empty = empty_root();
            if *old_root != empty {
                return Err(VerifyError::OldRootMismatch);
            }
            if new_size == 0 && *new_root != empty {
                return Err(VerifyError::NewRootMismatch);
            }
        } else if old_root != new_root {
            return Err(VerifyError::RootsDiffer { size: old_size });
        }
        return Ok(());
    }
    let expected = consistency_ranges(old_size, new_size).len();
    let wrong_length = VerifyError::WrongProofLength { got: proof.len(), expected };
    // 1. An empty consistency path fails.
    if proof.len() != expected || proof.is_empty() {
        return Err(wrong_length);
    }
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let prefix = old_size.is_power_of_two().then_some(old_root);
    let mut path = prefix.into_iter().chain(proof.iter());
    // 3. fn = first - 1, sn = second - 1.
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    // 4. If LSB(fn) is set, right-shift fn and sn equally until it is not.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. fr = sr = the first value of the path.
    let first = *path.next().expect("the path is not empty");
    let (mut fr, mut sr) = (first, first);
    // 6. For each subsequent value c in the path:
    for c in path {
        // a. If sn is 0, fail.
        if snode == 0 {
            return Err(wrong_length);
        }
        // b. If LSB(fn) is set, or fn == sn:
        if fnode & 1 == 1 || fnode == snode {
            // i. fr = HASH(0x01 || c || fr); ii. sr = HASH(0x01 || c || sr)
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            // iii. If LSB(fn) is not set, right-shift fn and sn equally until
            //      either LSB(fn) is set or fn is 0.
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            // Otherwise: sr = HASH(0x01 || sr || c)
            sr = node_hash(&sr, c);
        }
        // c. Right-shift fn and sn once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 7. sn must be 0, fr must equal first_hash and sr second_hash.
    if snode != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

/// Why a [`Frontier`] could not be decoded or grown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrontierError {
    /// The encoding is shorter than its header.
    #[error("frontier encoding is {got} bytes, shorter than its {FRONTIER_HEADER_LEN}-byte header")]
    TooShort {
        /// Bytes given.
        got: usize,
    },
    /// The encoding's version byte is not one this code reads.
    #[error("frontier encoding version {0} is not supported")]
    UnknownVersion(u8),
    /// The encoding does not hold exactly one hash per complete subtree.
    #[error("frontier encoding is {got} bytes, expected {expected} for its size")]
    WrongLength {
        /// Bytes given.
        got: usize,
        /// Bytes the encoded size calls for.
        expected: usize,
    },
    /// The tree already has `u64::MAX` leaves.
    #[error("tree of size {size} cannot grow")]
    Full {
        /// The tree size.
        size: u64,
    },
}

/// The version byte of the [`Frontier`] encoding.
const FRONTIER_VERSION: u8 = 1;
/// Version byte plus the 8-byte size.
const FRONTIER_HEADER_LEN: usize = 9;

/// The incremental state of the tree: its size and the roots of the complete
/// subtrees it decomposes into (one per set bit of the size, largest first).
///
/// This is what the server persists to append without replaying the log: each
/// [`push`](Frontier::push) returns the nodes that became complete, to be
/// stored so that a [`NodeSource`] can serve them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the complete subtrees, left to right (highest level first).
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the complete subtrees, left to right: one per set bit of
    /// [`size`](Frontier::size), from the highest bit down.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// The tree's root hash ([`empty_root`] for size 0).
    pub fn root(&self) -> Hash {
        let mut iter = self.peaks.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }

    /// Appends a leaf hash and returns every node `(level, index, hash)` that
    /// became complete: the leaf itself at level 0 first, then its ancestors
    /// upwards.
    ///
    /// Fails only when the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) -> Result<Vec<(u32, u64, Hash)>, FrontierError> {
        if self.size == u64::MAX {
            return Err(FrontierError::Full { size: self.size });
        }
        let mut out = Vec::with_capacity(1 + self.size.trailing_ones() as usize);
        let (mut level, mut index, mut node) = (0u32, self.size, leaf);
        out.push((level, index, node));
        // Each trailing 1 bit of the old size is a complete left sibling.
        while index & 1 == 1 {
            let left = self.peaks.pop().expect("every set bit of the size has a peak");
            node = node_hash(&left, &node);
            level += 1;
            index >>= 1;
            out.push((level, index, node));
        }
        self.peaks.push(node);
        self.size += 1;
        Ok(out)
    }

    /// Rebuilds the frontier of a tree of `size` leaves from stored nodes
    /// (`popcount(size)` calls to [`NodeSource::node`]).
    pub fn from_source<S: NodeSource>(src: &S, size: u64) -> Result<Self, MerkleError<S::Error>> {
        let mut peaks = Vec::with_capacity(size.count_ones() as usize);
        let mut offset = 0u64;
        for level in (0..64u32).rev() {
            let width = 1u64 << level;
            if size & width != 0 {
                peaks.push(src.node(level, offset >> level).map_err(MerkleError::Source)?);
                offset += width;
            }
        }
        Ok(Self { size, peaks })
    }

    /// Encodes the frontier:
    ///
    /// ```text
    /// byte 0        version, 0x01
    /// bytes 1..9    size, unsigned 64-bit big-endian
    /// then          popcount(size) hashes of 32 bytes, left to right
    ///               (the largest complete subtree first)
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRONTIER_HEADER_LEN + 32 * self.peaks.len());
        out.push(FRONTIER_VERSION);
        out.extend_from_slice(&self.size.to_be_bytes());
        for peak in &self.peaks {
            out.extend_from_slice(peak);
        }
        out
    }

    /// Decodes the encoding of [`to_bytes`](Frontier::to_bytes), refusing
    /// any other version, and any length other than exactly the header plus
    /// one hash per set bit of the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FrontierError> {
        if bytes.len() < FRONTIER_HEADER_LEN {
            return Err(FrontierError::TooShort { got: bytes.len() });
        }
        if bytes[0] != FRONTIER_VERSION {
            return Err(FrontierError::UnknownVersion(bytes[0]));
        }
        let mut size_bytes = [0u8; 8];
        size_bytes.copy_from_slice(&bytes[1..FRONTIER_HEADER_LEN]);
        let size = u64::from_be_bytes(size_bytes);
        let count = size.count_ones() as usize;
        let expected = FRONTIER_HEADER_LEN + 32 * count;
        if bytes.len() != expected {
            return Err(FrontierError::WrongLength { got: bytes.len(), expected });
        }
        let peaks = bytes[FRONTIER_HEADER_LEN..]
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(Self { size, peaks })
    }
}

/// [`MemoryTree::node`] was asked for a node that is not complete in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no complete node at level {level} index {index}")]
pub struct MissingNode {
    /// The level asked for.
    pub level: u32,
    /// The index asked for.
    pub index: u64,
}

/// A tree with every complete node held in memory, built by pushing leaf
/// hashes; a [`NodeSource`] for verification tools and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is the node at level `l`, index `i`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (see [`leaf_hash`]) and the nodes it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0usize;
        let mut node = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(node);
            if row.len() % 2 == 1 {
                break;
            }
            node = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| u64::try_from(leaves.len()).expect("usize fits in u64"))
    }

    /// The root hash of the whole tree.
    pub fn root(&self) -> Hash {
        root(self, self.size()).expect("a memory tree holds every complete node")
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;

    fn node(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        usize::try_from(level)
            .ok()
            .and_then(|l| self.levels.get(l))
            .zip(usize::try_from(index).ok())
            .and_then(|(row, i)| row.get(i))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::collections::{HashMap, HashSet};

    fn h(s: &str) -> Hash {
        hex::decode(s).expect("hex").try_into().expect("32 bytes")
    }

    fn flip(hash: &Hash, bit: usize) -> Hash {
        let mut out = *hash;
        out[(bit / 8) % 32] ^= 1 << (bit % 8);
        out
    }

    // ----------------------------------------------------------------------
    // Golden vectors from transparency-dev/merkle (Apache-2.0):
    //   testonly/constants.go  — LeafInputs, NodeHashes, RootHashes, CompactTrees
    //   proof/verify_test.go   — inclusionProofs, consistencyProofs
    // The same vectors appear in certificate-transparency-go's merkle tests.
    // ----------------------------------------------------------------------

    const LEAF_INPUTS: [&str; 8] =
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    /// NodeHashes(): [level][index] for the 8-leaf tree.
    const NODE_HASHES: [&[&str]; 4] = [
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        &[
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ];

    /// RootHashes(): index = tree size.
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// inclusionProofs (upstream uses 1-based leaf numbers; these are 0-based
    /// indexes): (index, size, proof).
    const INCLUSION: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    /// consistencyProofs: (old size, new size, proof).
    const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn golden_tree() -> MemoryTree {
        let mut t = MemoryTree::new();
        for leaf in LEAF_INPUTS {
            t.push(leaf_hash(&hex::decode(leaf).expect("hex")));
        }
        t
    }

    fn hashes(list: &[&str]) -> Vec<Hash> {
        list.iter().map(|s| h(s)).collect()
    }

    /// Serves only the nodes that are complete in a tree of `size` leaves,
    /// so that asking for an incomplete (right-edge) node is caught.
    struct Bounded<'a> {
        tree: &'a MemoryTree,
        size: u64,
        calls: Cell<u64>,
    }

    impl<'a> Bounded<'a> {
        fn new(tree: &'a MemoryTree, size: u64) -> Self {
            Self { tree, size, calls: Cell::new(0) }
        }
    }

    impl NodeSource for Bounded<'_> {
        type Error = MissingNode;
        fn node(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
            self.calls.set(self.calls.get() + 1);
            let end = index.checked_add(1).and_then(|i| i.checked_mul(1u64 << level));
            match end {
                Some(end) if end <= self.size => self.tree.node(level, index),
                _ => panic!("asked for node ({level}, {index}) outside tree size {}", self.size),
            }
        }
    }

    #[test]
    fn empty_root_and_hashing_primitives() {
        assert_eq!(empty_root(), h(ROOTS[0]));
        assert_eq!(leaf_hash(b""), h(NODE_HASHES[0][0]));
        assert_eq!(node_hash(&h(NODE_HASHES[0][0]), &h(NODE_HASHES[0][1])), h(NODE_HASHES[1][0]));
    }

    #[test]
    fn golden_nodes_roots_and_frontiers() {
        let tree = golden_tree();
        for (level, row) in NODE_HASHES.iter().enumerate() {
            for (index, want) in row.iter().enumerate() {
                assert_eq!(tree.node(level as u32, index as u64), Ok(h(want)));
            }
        }
        // CompactTrees(): the frontier peaks are the complete subtrees.
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), h(ROOTS[0]));
        for size in 0..=8u64 {
            assert_eq!(root(&Bounded::new(&tree, size), size), Ok(h(ROOTS[size as usize])));
            let rebuilt = Frontier::from_source(&Bounded::new(&tree, size), size).expect("nodes");
            assert_eq!(rebuilt, frontier, "size {size}");
            assert_eq!(frontier.root(), h(ROOTS[size as usize]));
            let mut want_peaks = Vec::new();
            let mut offset = 0u64;
            for level in (0..4u32).rev() {
                if size & (1 << level) != 0 {
                    want_peaks.push(h(NODE_HASHES[level as usize][(offset >> level) as usize]));
                    offset += 1 << level;
                }
            }
            assert_eq!(frontier.peaks(), &want_peaks[..]);
            if size < 8 {
                let leaf = leaf_hash(&hex::decode(LEAF_INPUTS[size as usize]).expect("hex"));
                frontier.push(leaf).expect("push");
            }
        }
    }

    #[test]
    fn golden_inclusion_proofs() {
        let tree = golden_tree();
        for (index, size, want) in INCLUSION {
            let want = hashes(want);
            let got = inclusion_proof(&Bounded::new(&tree, size), index, size).expect("proof");
            assert_eq!(got, want, "inclusion {index} in {size}");
            let leaf = tree.node(0, index).expect("leaf");
            let root = h(ROOTS[size as usize]);
            verify_inclusion(&leaf, index, size, &want, &root).expect("verifies");
            // The probes of transparency-dev's corruptInclusionProof.
            let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
            let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash)> = vec![
                (index.wrapping_sub(1), size, leaf, want.clone(), root),
                (index + 1, size, leaf, want.clone(), root),
                (index ^ 2, size, leaf, want.clone(), root),
                (index, size * 2, leaf, want.clone(), root),
                (index, size / 2, leaf, want.clone(), root),
                (index, size, leaf_hash(b"WrongLeaf"), want.clone(), root),
                (index, size, leaf, want.clone(), empty_root()),
                (index, size, leaf, want.clone(), some),
                (index, size, leaf, [&want[..], &[root]].concat(), root),
                (index, size, leaf, [&[root], &want[..]].concat(), root),
            ];
            for i in 0..want.len() {
                let mut p = want.clone();
                p[i][0] ^= 8;
                probes.push((index, size, leaf, p, root));
            }
            if !want.is_empty() {
                probes.push((index, size, leaf, want[..want.len() - 1].to_vec(), root));
            }
            if want.len() > 1 {
                let p = [&[want[0], some][..], &want[1..]].concat();
                probes.push((index, size, leaf, p, root));
            }
            for (i, s, l, p, r) in probes {
                assert!(
                    verify_inclusion(&l, i, s, &p, &r).is_err(),
                    "probe ({i}, {s}) accepted for golden ({index}, {size})"
                );
            }
        }
    }

    #[test]
    fn golden_consistency_proofs() {
        let tree = golden_tree();
        for (old, new, want) in CONSISTENCY {
            let want = hashes(want);
            let got = consistency_proof(&Bounded::new(&tree, new), old, new).expect("proof");
            assert_eq!(got, want, "consistency {old} -> {new}");
            let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
            verify_consistency(old, new, &want, &r1, &r2).expect("verifies");
            if want.is_empty() {
                continue;
            }
            // The probes of transparency-dev's corruptConsistencyProof.
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (old - 1, new, r1, r2, want.clone()),
                (old + 1, new, r1, r2, want.clone()),
                (old ^ 2, new, r1, r2, want.clone()),
                (old, new * 2, r1, r2, want.clone()),
                (old, new / 2, r1, r2, want.clone()),
                (old, new, leaf_hash(b"WrongRoot"), r2, want.clone()),
                (old, new, r1, leaf_hash(b"WrongRoot"), want.clone()),
                (old, new, r2, r1, want.clone()),
                (old, new, r1, r2, Vec::new()),
                (old, new, r1, r2, [&want[..], &[r1]].concat()),
                (old, new, r1, r2, [&want[..], &[r2]].concat()),
                (old, new, r1, r2, [&[r1], &want[..]].concat()),
                (old, new, r1, r2, [&[r2], &want[..]].concat()),
                (old, new, r1, r2, [&[want[0]], &want[..]].concat()),
                (old, new, r1, r2, want[..want.len() - 1].to_vec()),
            ];
            for i in 0..want.len() {
                let mut p = want.clone();
                p[i][0] ^= 16;
                probes.push((old, new, r1, r2, p));
            }
            for (o, n, a, b, p) in probes {
                assert!(
                    verify_consistency(o, n, &p, &a, &b).is_err(),
                    "probe ({o}, {n}) accepted for golden ({old}, {new})"
                );
            }
        }
    }

    /// TestVerifyConsistency of transparency-dev, adapted to the stricter
    /// rule that an old size of 0 needs the empty tree's root.
    #[test]
    fn consistency_special_cases() {
        let r1 = leaf_hash(b"don't care 1");
        let r2 = leaf_hash(b"don't care 2");
        let e = empty_root();
        type Case<'a> = (u64, u64, Hash, Hash, &'a [Hash], bool);
        let cases: [Case; 16] = [
            (0, 0, r1, r2, &[], false),
            (1, 1, r1, r2, &[], false),
            (0, 0, e, e, &[], true),
            (0, 1, e, r2, &[], true),
            (0, 5, e, r2, &[], true),
            (0, 1, r1, r2, &[], false), // old root is not the empty root
            (0, 0, e, r1, &[], false),
            (1, 1, r2, r2, &[], true),
            (1, 0, r1, r2, &[], false),
            (2, 1, r1, r2, &[], false),
            (1, 2, r1, r2, &[], false),
            (0, 0, e, r2, &[], false),
            (1, 1, e, r2, &[], false),
            (0, 0, e, e, &[e], false),
            (0, 1, e, e, &[e], false),
            (1, 1, e, e, &[e], false),
        ];
        for (old, new, a, b, proof, ok) in cases {
            assert_eq!(
                verify_consistency(old, new, proof, &a, &b).is_ok(),
                ok,
                "({old}, {new}) proof len {}",
                proof.len()
            );
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(VerifyError::IndexOutOfRange { index: 7, size: 5 }.to_string(), "index 7 is not below tree size 5");
        let leaf = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(&leaf, 0, 5, &[leaf; 2], &leaf),
            Err(VerifyError::WrongProofLength { got: 2, expected: 3 })
        );
        assert_eq!(VerifyError::WrongProofLength { got: 3, expected: 4 }.to_string(), "proof has 3 hashes, expected 4");
        assert_eq!(VerifyError::RootMismatch.to_string(), "computed root does not match");
        let tree = golden_tree();
        assert_eq!(inclusion_proof(&tree, 7, 5), Err(MerkleError::IndexOutOfRange { index: 7, size: 5 }));
        assert_eq!(inclusion_proof(&tree, 7, 5).unwrap_err().to_string(), "index 7 is not below tree size 5");
        assert_eq!(consistency_proof(&tree, 6, 5), Err(MerkleError::SizeOrder { old_size: 6, new_size: 5 }));
        // The tree has 8 leaves; asking for more is a clean source error.
        assert_eq!(root(&tree, 9), Err(MerkleError::Source(MissingNode { level: 0, index: 8 })));
        assert!(inclusion_proof(&tree, 3, 1000).is_err());
        assert!(consistency_proof(&tree, 3, 1000).is_err());
        assert!(Frontier::from_source(&tree, 1000).is_err());
    }

    // ----------------------------------------------------------------------
    // Naive reference, straight from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1,
    // over the list of leaf inputs D. MTH is memoised by range only to keep
    // the exhaustive tests fast.
    // ----------------------------------------------------------------------

    struct Reference {
        d: Vec<Vec<u8>>,
        memo: RefCell<HashMap<(usize, usize), Hash>>,
    }

    impl Reference {
        fn new(n: usize) -> Self {
            let d = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
            Self { d, memo: RefCell::new(HashMap::new()) }
        }

        /// k: the largest power of two smaller than n.
        fn k(n: usize) -> usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            k
        }

        /// MTH(D[lo:hi]).
        fn mth(&self, lo: usize, hi: usize) -> Hash {
            if let Some(v) = self.memo.borrow().get(&(lo, hi)) {
                return *v;
            }
            let n = hi - lo;
            let v = match n {
                0 => Sha256::digest([]).into(),
                1 => {
                    let mut x = vec![0u8];
                    x.extend_from_slice(&self.d[lo]);
                    Sha256::digest(&x).into()
                }
                _ => {
                    let k = Self::k(n);
                    let mut x = vec![1u8];
                    x.extend_from_slice(&self.mth(lo, lo + k));
                    x.extend_from_slice(&self.mth(lo + k, hi));
                    Sha256::digest(&x).into()
                }
            };
            self.memo.borrow_mut().insert((lo, hi), v);
            v
        }

        /// PATH(m, D[lo:hi]).
        fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
            let n = hi - lo;
            if n == 1 {
                return vec![];
            }
            let k = Self::k(n);
            if m < k {
                let mut p = self.path(m, lo, lo + k);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.path(m - k, lo + k, hi);
                p.push(self.mth(lo, lo + k));
                p
            }
        }

        /// PROOF(m, D[0:n]).
        fn proof(&self, m: usize, n: usize) -> Vec<Hash> {
            if m == 0 || m == n {
                return vec![];
            }
            self.subproof(m, 0, n, true)
        }

        /// SUBPROOF(m, D[lo:hi], b).
        fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
            let n = hi - lo;
            if m == n {
                return if b { vec![] } else { vec![self.mth(lo, hi)] };
            }
            let k = Self::k(n);
            if m <= k {
                let mut p = self.subproof(m, lo, lo + k, b);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.subproof(m - k, lo + k, hi, false);
                p.push(self.mth(lo, lo + k));
                p
            }
        }
    }

    const MAX_N: usize = 300;

    /// The reference's leaves pushed into a MemoryTree and a Frontier; checks
    /// that each push emits exactly the nodes that became complete.
    fn build(reference: &Reference) -> MemoryTree {
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        let mut emitted = HashSet::new();
        for (i, d) in reference.d.iter().enumerate() {
            let leaf = leaf_hash(d);
            tree.push(leaf);
            let nodes = frontier.push(leaf).expect("push");
            assert_eq!(nodes[0], (0, i as u64, leaf));
            for (level, index, hash) in nodes {
                assert_eq!(tree.node(level, index), Ok(hash), "node ({level}, {index})");
                assert!(emitted.insert((level, index)), "node ({level}, {index}) emitted twice");
            }
            assert_eq!(frontier.size(), tree.size());
            assert_eq!(frontier.root(), reference.mth(0, i + 1));
            assert_eq!(tree.root(), reference.mth(0, i + 1));
            let decoded = Frontier::from_bytes(&frontier.to_bytes()).expect("decodes");
            assert_eq!(decoded, frontier);
            let size = tree.size();
            assert_eq!(Frontier::from_source(&Bounded::new(&tree, size), size).expect("from source"), frontier);
        }
        // Every complete node of the tree was emitted exactly once.
        let mut all = 0usize;
        let mut level = 0u32;
        while tree.node(level, 0).is_ok() {
            let mut index = 0u64;
            while tree.node(level, index).is_ok() {
                assert!(emitted.contains(&(level, index)), "node ({level}, {index}) never emitted");
                index += 1;
                all += 1;
            }
            level += 1;
        }
        assert_eq!(all, emitted.len());
        tree
    }

    /// log2(n) rounded up, plus one.
    fn depth(n: u64) -> u64 {
        u64::from(64 - n.leading_zeros())
    }

    #[test]
    fn exhaustive_roots_and_inclusion_against_reference() {
        let reference = Reference::new(MAX_N);
        let tree = build(&reference);
        for n in 1..=MAX_N {
            let src = Bounded::new(&tree, n as u64);
            let want_root = reference.mth(0, n);
            assert_eq!(root(&src, n as u64), Ok(want_root));
            assert!(src.calls.get() <= depth(n as u64));
            for m in 0..n {
                let calls_before = src.calls.get();
                let proof = inclusion_proof(&src, m as u64, n as u64).expect("proof");
                // O(log² n) node reads.
                assert!(src.calls.get() - calls_before <= depth(n as u64) * depth(n as u64));
                assert_eq!(proof, reference.path(m, 0, n), "PATH({m}, D[{n}])");
                let leaf = tree.node(0, m as u64).expect("leaf");
                verify_inclusion(&leaf, m as u64, n as u64, &proof, &want_root).expect("valid proof verifies");
                // Corruptions: every (m, n) up to size 128, a third beyond.
                if n <= 128 || mix(m as u64, n as u64).is_multiple_of(3) {
                    refuse_corrupt_inclusion(&reference, &leaf, m as u64, n as u64, &proof, &want_root);
                }
            }
        }
    }

    /// Small deterministic sampler (no rand dependency in the hot loop).
    fn mix(a: u64, b: u64) -> u64 {
        let mut x = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        x ^= x >> 31;
        x.wrapping_mul(0x94d0_49bb_1331_11eb) >> 7
    }

    fn refuse_corrupt_inclusion(reference: &Reference, leaf: &Hash, m: u64, n: u64, proof: &[Hash], root: &Hash) {
        let refuse = |leaf: &Hash, m: u64, n: u64, proof: &[Hash], root: &Hash, what: &str| {
            assert!(verify_inclusion(leaf, m, n, proof, root).is_err(), "{what} accepted for inclusion of {m} in {n}");
        };
        let seed = mix(m, n);
        // One flipped bit in each position for small trees, one sampled
        // position for larger ones; the bit varies with (m, n).
        let positions: Vec<usize> = if n <= 64 {
            (0..proof.len()).collect()
        } else if proof.is_empty() {
            vec![]
        } else {
            vec![(seed % proof.len() as u64) as usize]
        };
        for i in positions {
            let mut p = proof.to_vec();
            p[i] = flip(&p[i], (seed >> 8) as usize % 256);
            refuse(leaf, m, n, &p, root, "flipped proof bit");
        }
        refuse(&flip(leaf, seed as usize % 256), m, n, proof, root, "flipped leaf bit");
        refuse(leaf, m, n, proof, &flip(root, (seed >> 16) as usize % 256), "flipped root bit");
        if n > 1 {
            refuse(leaf, (m + 1) % n, n, proof, root, "index + 1");
            refuse(leaf, (m + n - 1) % n, n, proof, root, "index - 1");
        }
        refuse(leaf, n, n, proof, root, "index == size");
        // Wrong size, with the root of the tree of that size.
        let n_us = n as usize;
        if n_us < MAX_N {
            refuse(leaf, m, n + 1, proof, &reference.mth(0, n_us + 1), "size + 1");
        }
        if m + 1 < n {
            refuse(leaf, m, n - 1, proof, &reference.mth(0, n_us - 1), "size - 1");
        }
        refuse(leaf, m, n * 2, proof, root, "size * 2");
        let mut longer = proof.to_vec();
        longer.push(*root);
        refuse(leaf, m, n, &longer, root, "extra hash");
        if !proof.is_empty() {
            refuse(leaf, m, n, &proof[1..], root, "missing hash");
        }
    }

    #[test]
    fn exhaustive_consistency_against_reference() {
        let reference = Reference::new(MAX_N);
        let tree = build(&reference);
        let roots: Vec<Hash> = (0..=MAX_N).map(|n| reference.mth(0, n)).collect();
        for n in 1..=MAX_N {
            let src = Bounded::new(&tree, n as u64);
            for m in 0..=n {
                let calls_before = src.calls.get();
                let proof = consistency_proof(&src, m as u64, n as u64).expect("proof");
                assert!(src.calls.get() - calls_before <= depth(n as u64) * depth(n as u64));
                assert_eq!(proof, reference.proof(m, n), "PROOF({m}, D[{n}])");
                verify_consistency(m as u64, n as u64, &proof, &roots[m], &roots[n]).expect("valid proof verifies");
                // Corruptions: every pair up to size 100, a quarter beyond.
                if n <= 100 || mix(n as u64, m as u64) % 4 == 1 {
                    refuse_corrupt_consistency(m as u64, n as u64, &proof, &roots);
                }
            }
        }
    }

    fn refuse_corrupt_consistency(m: u64, n: u64, proof: &[Hash], roots: &[Hash]) {
        let refuse = |m: u64, n: u64, proof: &[Hash], r1: &Hash, r2: &Hash, what: &str| {
            assert!(verify_consistency(m, n, proof, r1, r2).is_err(), "{what} accepted for consistency {m} -> {n}");
        };
        let (r1, r2) = (&roots[m as usize], &roots[n as usize]);
        let seed = mix(n, m);
        let positions: Vec<usize> = if n <= 48 {
            (0..proof.len()).collect()
        } else if proof.is_empty() {
            vec![]
        } else {
            vec![((seed >> 3) % proof.len() as u64) as usize]
        };
        for i in positions {
            let mut p = proof.to_vec();
            p[i] = flip(&p[i], (seed >> 8) as usize % 256);
            refuse(m, n, &p, r1, r2, "flipped proof bit");
        }
        refuse(m, n, proof, &flip(r1, seed as usize % 256), r2, "flipped old root bit");
        if m > 0 || n == 0 {
            // (Every tree extends the empty one, whatever its root.)
            refuse(m, n, proof, r1, &flip(r2, (seed >> 16) as usize % 256), "flipped new root bit");
        }
        if m == 0 {
            refuse(m, n, &[*r2], r1, r2, "non-empty proof from the empty tree");
        } else if m < n {
            // Sizes off by one, with the roots of those sizes.
            refuse(m - 1, n, proof, &roots[m as usize - 1], r2, "old size - 1");
            if m + 1 < n {
                refuse(m + 1, n, proof, &roots[m as usize + 1], r2, "old size + 1");
                refuse(m, n - 1, proof, r1, &roots[n as usize - 1], "new size - 1");
            }
            if (n as usize) + 1 < roots.len() {
                refuse(m, n + 1, proof, r1, &roots[n as usize + 1], "new size + 1");
            }
            refuse(m, n, proof, r2, r1, "swapped roots");
            let mut longer = proof.to_vec();
            longer.push(*r2);
            refuse(m, n, &longer, r1, r2, "extra hash");
            refuse(m, n, &proof[1..], r1, r2, "missing hash");
        } else {
            refuse(m, n, &[*r1], r1, r2, "non-empty proof between equal sizes");
        }
        refuse(n + 1, n, proof, r1, r2, "old size above new size");
    }

    // ----------------------------------------------------------------------
    // Absurd inputs.
    // ----------------------------------------------------------------------

    /// A real tree of any size (up to 2^64 - 1 leaves) that is cheap to
    /// evaluate: every leaf is the same filler except a few "special" ones,
    /// so a subtree without special leaves has a hash that depends only on
    /// its level. Calls are counted.
    struct Fake {
        specials: Vec<u64>,
        filler: [Hash; 64],
        calls: Cell<u64>,
    }

    impl Fake {
        fn new(specials: &[u64]) -> Self {
            let mut filler = [leaf_hash(b"filler"); 64];
            for l in 1..64 {
                filler[l] = node_hash(&filler[l - 1], &filler[l - 1]);
            }
            Self { specials: specials.to_vec(), filler, calls: Cell::new(0) }
        }

        fn leaf(&self, index: u64) -> Hash {
            if self.specials.contains(&index) {
                leaf_hash(&index.to_be_bytes())
            } else {
                self.filler[0]
            }
        }

        fn eval(&self, level: u32, index: u64) -> Hash {
            let first = index << level;
            let last = first + ((1u64 << level) - 1);
            if !self.specials.iter().any(|&s| first <= s && s <= last) {
                return self.filler[level as usize];
            }
            if level == 0 {
                return self.leaf(index);
            }
            node_hash(&self.eval(level - 1, 2 * index), &self.eval(level - 1, 2 * index + 1))
        }
    }

    impl NodeSource for Fake {
        type Error = std::convert::Infallible;
        fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
            self.calls.set(self.calls.get() + 1);
            assert!(level < 64, "level {level}");
            assert!(index <= (u64::MAX - ((1u64 << level) - 1)) >> level, "index {index} at level {level}");
            Ok(self.eval(level, index))
        }
    }

    #[test]
    fn huge_trees_work_and_read_few_nodes() {
        let sizes = [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1, (1 << 63) - 1, 0x5555_5555_5555_5555];
        for size in sizes {
            let specials = [0, 1, 2, size / 3, size / 2, size - 3, size - 2, size - 1];
            let src = Fake::new(&specials);
            let r = root(&src, size).expect("root");
            assert!(src.calls.get() <= 64);
            for index in [0, 1, size / 3, size - 2, size - 1] {
                src.calls.set(0);
                let proof = inclusion_proof(&src, index, size).expect("proof");
                assert!(src.calls.get() <= 64 * 64, "{} calls", src.calls.get());
                let leaf = src.node(0, index).expect("leaf");
                verify_inclusion(&leaf, index, size, &proof, &r).expect("verifies");
                assert!(verify_inclusion(&leaf, index ^ 1, size, &proof, &r).is_err());
                let wrong = flip(&proof[proof.len() / 2], 77);
                let mut bad = proof.clone();
                bad[proof.len() / 2] = wrong;
                assert!(verify_inclusion(&leaf, index, size, &bad, &r).is_err());
            }
            for old in [1, 2, 3, size / 2, size - 2, size - 1] {
                src.calls.set(0);
                let proof = consistency_proof(&src, old, size).expect("proof");
                assert!(src.calls.get() <= 64 * 64, "{} calls", src.calls.get());
                let old_root = root(&src, old).expect("root");
                verify_consistency(old, size, &proof, &old_root, &r).expect("verifies");
                assert!(verify_consistency(old, size, &proof, &r, &r).is_err());
            }
            let frontier = Frontier::from_source(&src, size).expect("frontier");
            assert_eq!(frontier.root(), r);
            assert_eq!(Frontier::from_bytes(&frontier.to_bytes()), Ok(frontier));
        }
        let src = Fake::new(&[]);
        let mut full = Frontier::from_source(&src, u64::MAX).expect("frontier");
        assert_eq!(full.push([0; 32]), Err(FrontierError::Full { size: u64::MAX }));
        let mut almost = Frontier::from_source(&src, u64::MAX - 1).expect("frontier");
        let nodes = almost.push([0; 32]).expect("last push");
        assert_eq!(nodes.len(), 1);
        assert_eq!(almost.peaks().len(), 64);
    }

    #[test]
    fn absurd_inputs_are_clean_errors() {
        let src = Fake::new(&[0, 5]);
        let x = leaf_hash(b"x");
        let long = vec![x; 100];
        for (index, size) in
            [(0, 0), (u64::MAX, u64::MAX), (u64::MAX, 0), (u64::MAX - 1, u64::MAX), (0, u64::MAX), (5, 3)]
        {
            let _ = verify_inclusion(&x, index, size, &long, &x).expect_err("refused");
            let _ = verify_inclusion(&x, index, size, &[], &x).expect_err("refused");
            assert!(matches!(inclusion_proof(&src, index, size), Ok(_) | Err(MerkleError::IndexOutOfRange { .. })));
            let _ = verify_consistency(index, size, &long, &x, &x).expect_err("refused");
            assert!(consistency_proof(&src, index, size).is_ok() == (index <= size));
        }
        assert_eq!(
            verify_inclusion(&x, 0, 0, &[], &empty_root()),
            Err(VerifyError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(consistency_proof(&src, 0, u64::MAX), Ok(vec![]));
        assert_eq!(consistency_proof(&src, u64::MAX, u64::MAX), Ok(vec![]));
        assert_eq!(verify_consistency(u64::MAX, u64::MAX, &[], &x, &x), Ok(()));
    }

    #[test]
    fn frontier_bytes_are_strict() {
        let mut f = Frontier::new();
        assert_eq!(f.to_bytes(), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
        for i in 0..5u8 {
            f.push(leaf_hash(&[i])).expect("push");
        }
        let bytes = f.to_bytes();
        assert_eq!(bytes.len(), 9 + 2 * 32);
        assert_eq!(&bytes[..9], &[1, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(Frontier::from_bytes(&bytes), Ok(f.clone()));
        assert_eq!(Frontier::from_bytes(&[]), Err(FrontierError::TooShort { got: 0 }));
        assert_eq!(Frontier::from_bytes(&bytes[..8]), Err(FrontierError::TooShort { got: 8 }));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(Frontier::from_bytes(&v2), Err(FrontierError::UnknownVersion(2)));
        assert_eq!(
            Frontier::from_bytes(&bytes[..bytes.len() - 1]),
            Err(FrontierError::WrongLength { got: 72, expected: 73 })
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Frontier::from_bytes(&longer).is_err());
        let mut wrong_size = bytes;
        wrong_size[8] = 6; // 6 also has two set bits: decodes, different tree.
        assert!(Frontier::from_bytes(&wrong_size).is_ok());
        wrong_size[8] = 7;
        assert!(Frontier::from_bytes(&wrong_size).is_err());
    }

    proptest! {
        #[test]
        fn frontier_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(f) = Frontier::from_bytes(&bytes) {
                prop_assert_eq!(f.to_bytes(), bytes);
                let _ = f.root();
            }
        }

        #[test]
        fn verification_never_panics(
            index in any::<u64>(),
            size in any::<u64>(),
            len in 0usize..80,
            seed in any::<u8>(),
        ) {
            let proof: Vec<Hash> = (0..len).map(|i| [seed.wrapping_add(i as u8); 32]).collect();
            let r = [seed; 32];
            prop_assert!(verify_inclusion(&r, index, size, &proof, &r).is_err() || len == 0);
            let _ = verify_consistency(index, size, &proof, &r, &r);
            let src = Fake::new(&[index, index ^ 1, size / 2, size.saturating_sub(1)]);
            if index < size {
                let p = inclusion_proof(&src, index, size).expect("proof");
                let leaf = src.node(0, index).expect("leaf");
                let root = root(&src, size).expect("root");
                prop_assert!(verify_inclusion(&leaf, index, size, &p, &root).is_ok());
            }
            if index <= size {
                let p = consistency_proof(&src, index, size).expect("proof");
                let r1 = root(&src, index).expect("root");
                let r2 = root(&src, size).expect("root");
                prop_assert!(verify_consistency(index, size, &p, &r1, &r2).is_ok());
            }
        }
    }
}
