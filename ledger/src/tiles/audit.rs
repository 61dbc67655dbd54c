//! `meent verify --tiles`: the full audit of [`crate::audit`] from a tiles
//! copy alone (a URL or a directory, behind [`TileReader`]).
//!
//! Every entry bundle up to the checkpoint's size is read and replayed
//! (records parsed in canonical form, signatures, every rule); every hash tile
//! of that tree is read and compared with the hashes the records give: a
//! level-0 tile with the leaf hashes of its bundle, a tile one level up with
//! the roots of the full tiles below. Then the checkpoint's signature (the
//! operator key of genesis), its root and consistency with a trusted
//! checkpoint are checked as `meent verify` does. The first difference is
//! reported with the path of the tile it is in.

use rayon::prelude::*;

use super::{decode_bundle, encode_bundle, full_tile_root, tile_hashes, TileId, TileKind, TILE_WIDTH};
use crate::audit::{AuditError, AuditReport, Auditor};
use crate::checkpoint;
use crate::merkle::{self, Frontier, Hash};
use crate::record::Record;
use crate::state::State;

/// Bundles fetched at once (in parallel) before they are replayed in order.
const BATCH_BUNDLES: usize = 16;

/// A bundle and its level-0 tile, with their bytes.
type Fetched = (TileId, Vec<u8>, TileId, Vec<u8>);

/// Where the tiles come from.
pub trait TileReader: Sync {
    /// The resource at `path` below the prefix (`checkpoint`, `tile/…`);
    /// `Ok(None)` if there is none (HTTP 404, no such file).
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilesAuditError {
    /// A resource is missing, unreadable, or not what the records give.
    #[error("{path}: {reason}")]
    Tile {
        /// Its path below the prefix.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A resource could not be read (not a 404: a network or disk failure).
    #[error("{path}: cannot be read: {reason}")]
    Read {
        /// Its path below the prefix.
        path: String,
        /// Why.
        reason: String,
    },
    /// The records as a whole do not match the checkpoint.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

fn tile_error(tile: TileId, reason: impl Into<String>) -> TilesAuditError {
    TilesAuditError::Tile { path: tile.path(), reason: reason.into() }
}

/// The bytes of `tile`. A partial tile that is gone may be read as the
/// prefix of its full tile (tlog-tiles lets a log remove partial tiles once
/// the full one is there).
fn fetch<R: TileReader>(reader: &R, tile: TileId) -> Result<Vec<u8>, TilesAuditError> {
    let failed = |reason: String| TilesAuditError::Read { path: tile.path(), reason };
    if let Some(bytes) = reader.read(&tile.path()).map_err(failed)? {
        return Ok(bytes);
    }
    let missing = || tile_error(tile, "not found");
    if tile.is_full() {
        return Err(missing());
    }
    let full = tile.full();
    let Some(bytes) =
        reader.read(&full.path()).map_err(|reason| TilesAuditError::Read { path: full.path(), reason })?
    else {
        return Err(missing());
    };
    let width = usize::from(tile.width);
    match tile.kind {
        TileKind::Hashes(_) => {
            if bytes.len() != TILE_WIDTH as usize * super::HASH_SIZE {
                return Err(tile_error(full, format!("is {} bytes, a full tile is 8192", bytes.len())));
            }
            Ok(bytes[..width * super::HASH_SIZE].to_vec())
        }
        TileKind::Entries => {
            let entries =
                decode_bundle(&bytes, TILE_WIDTH as usize).map_err(|e| tile_error(full, format!("malformed: {e}")))?;
            encode_bundle(0, entries.into_iter().take(width)).map_err(|e| tile_error(full, e.to_string()))
        }
    }
}

/// Compare a hash tile's bytes with the hashes the records give.
fn check_hashes(
    tile: TileId,
    bytes: &[u8],
    expected: &[Hash],
    what: impl Fn(usize) -> String,
) -> Result<(), TilesAuditError> {
    let want = expected.len() * super::HASH_SIZE;
    let hashes = tile_hashes(bytes).filter(|_| bytes.len() == want).ok_or_else(|| {
        tile_error(tile, format!("is {} bytes, expected {want} ({} hashes)", bytes.len(), expected.len()))
    })?;
    match hashes.iter().zip(expected).position(|(got, want)| got != want) {
        None => Ok(()),
        Some(i) => Err(tile_error(tile, format!("hash {i} is not {}", what(i)))),
    }
}

/// Audit the log served by `reader`, consistent with `trusted` (a checkpoint
/// note) if given. `progress` is called with the records checked and the
/// checkpoint's size.
pub fn audit<R: TileReader>(
    reader: &R,
    trusted: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AuditReport, TilesAuditError> {
    let cp_error = |reason: String| TilesAuditError::Tile { path: "checkpoint".into(), reason };
    let note = reader
        .read("checkpoint")
        .map_err(|reason| TilesAuditError::Read { path: "checkpoint".into(), reason })?
        .ok_or_else(|| cp_error("not found".into()))?;
    let note = String::from_utf8(note).map_err(|_| cp_error("not UTF-8".into()))?;
    let (cp, _) = checkpoint::parse_unverified(&note).map_err(|e| cp_error(e.to_string()))?;
    let size = cp.size;
    if size == 0 {
        return Err(cp_error("claims an empty log; a meent log starts with its genesis record".into()));
    }

    let mut auditor = Auditor::new();
    // Every leaf hash, for the root; and the roots of the full level-0 tiles:
    // the hashes the level-1 tiles hold.
    let mut frontier = Frontier::new();
    let mut upper: Vec<Hash> = Vec::new();
    // The first level-0 tile that differs from its bundle: which of the two
    // is wrong is known once the records are compared with the checkpoint.
    let mut differs: Option<(TilesAuditError, TilesAuditError)> = None;
    let bundles = size.div_ceil(TILE_WIDTH);
    // The bundles from `start` on, BATCH_BUNDLES of them at most, fetched in parallel.
    let fetch_batch = |start: u64| -> Vec<Result<Fetched, TilesAuditError>> {
        (start..bundles.min(start + BATCH_BUNDLES as u64))
            .into_par_iter()
            .map(|n| {
                let width = (size - n * TILE_WIDTH).min(TILE_WIDTH) as u16;
                let (bundle, tile) = (TileId::entries(n, width), TileId::hashes(0, n, width));
                Ok((bundle, fetch(reader, bundle)?, tile, fetch(reader, tile)?))
            })
            .collect()
    };
    let mut next = 0u64;
    let mut fetched = fetch_batch(0);
    while !fetched.is_empty() {
        next += fetched.len() as u64;
        // The next batch is fetched while this one is replayed (the replay is
        // mostly one thread's work: the rules, in order).
        let (following, replayed) = std::thread::scope(|scope| {
            let following = scope.spawn(|| fetch_batch(next));
            let replayed = (|| -> Result<(), TilesAuditError> {
                for item in std::mem::take(&mut fetched) {
                    let (bundle, bundle_bytes, tile, tile_bytes) = item?;
                    let entries = decode_bundle(&bundle_bytes, usize::from(bundle.width))
                        .map_err(|e| tile_error(bundle, format!("malformed: {e}")))?;
                    let leaves: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
                    auditor.push(&leaves).map_err(|e| tile_error(bundle, e.to_string()))?;
                    if bundle.index == 0 {
                        check_signature(&note, &leaves[0]).map_err(cp_error)?;
                    }
                    let hashes: Vec<Hash> = leaves.par_iter().map(|l| merkle::leaf_hash(l)).collect();
                    for h in &hashes {
                        frontier.push(*h).map_err(|e| tile_error(bundle, e.to_string()))?;
                    }
                    let first = bundle.index * TILE_WIDTH;
                    if let Err(tile_wrong) = check_hashes(tile, &tile_bytes, &hashes, |i| {
                        format!("the leaf hash of record {} in {}", first + i as u64, bundle.path())
                    }) {
                        if differs.is_none() {
                            let seq = first + first_difference(&tile_bytes, &hashes) as u64;
                            let bundle_wrong = tile_error(
                        bundle,
                        format!(
                            "record {seq} was altered: its leaf hash is not the one in {}, and the records do not give the checkpoint's root",
                            tile.path()
                        ),
                    );
                            differs = Some((tile_wrong, bundle_wrong));
                        }
                    }
                    if tile.is_full() {
                        upper.push(full_tile_root(&hashes));
                    }
                    progress(auditor.size(), size);
                }
                Ok(())
            })();
            (following.join(), replayed)
        });
        replayed?;
        fetched = following.map_err(|_| TilesAuditError::Read {
            path: "tile/entries".into(),
            reason: "the fetching thread panicked".into(),
        })?;
    }
    if let Some((tile_wrong, bundle_wrong)) = differs {
        return Err(if frontier.root() == cp.root { tile_wrong } else { bundle_wrong });
    }
    let report = auditor.finish(&note, trusted)?;
    check_upper_levels(reader, upper)?;
    Ok(report)
}

/// The position of the first hash of a tile that is not the expected one (or
/// the first past a tile cut short).
fn first_difference(tile: &[u8], expected: &[Hash]) -> usize {
    let got = tile.chunks(super::HASH_SIZE);
    got.zip(expected).position(|(g, w)| g != w.as_slice()).unwrap_or(expected.len().min(tile.len() / super::HASH_SIZE))
}

/// The checkpoint's signature, by the operator key of genesis (record 0,
/// already audited): checked first, so that a checkpoint altered to claim
/// another size is named as such rather than as a missing tile.
fn check_signature(note: &str, genesis: &[u8]) -> Result<(), String> {
    let rec = Record::from_leaf_bytes(genesis).map_err(|e| format!("record 0: {e}"))?;
    let mut state = State::new();
    state.apply(0, &rec.received_at, &rec.entry).map_err(|e| format!("record 0: {e}"))?;
    let (Some(origin), Some(key)) = (state.origin, state.operator_key) else {
        return Err("record 0 is not a genesis naming the log's origin and operator key".into());
    };
    checkpoint::open(note, &origin, key.verifying_key()).map(|_| ()).map_err(|e| e.to_string())
}

/// Levels 1 and up: each tile against the roots of the full tiles below it.
fn check_upper_levels<R: TileReader>(reader: &R, mut upper: Vec<Hash>) -> Result<(), TilesAuditError> {
    let mut level: u8 = 1;
    while !upper.is_empty() {
        let mut above = Vec::new();
        for (n, chunk) in upper.chunks(TILE_WIDTH as usize).enumerate() {
            let tile = TileId::hashes(level, n as u64, chunk.len() as u16);
            let bytes = fetch(reader, tile)?;
            let below = |i: usize| TileId::hashes(level - 1, n as u64 * TILE_WIDTH + i as u64, TILE_WIDTH as u16);
            check_hashes(tile, &bytes, chunk, |i| format!("the root of {}", below(i).path()))?;
            if tile.is_full() {
                above.push(full_tile_root(chunk));
            }
        }
        upper = above;
        level += 1;
    }
    Ok(())
}

/// A [`TileReader`] over a directory (a copy written by [`super::copy`]).
pub struct DirReader(pub std::path::PathBuf);

impl TileReader for DirReader {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        match std::fs::read(self.0.join(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}
