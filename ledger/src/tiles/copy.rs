//! A static copy of the log as tiles (`meent tiles --data DIR --out DIR`):
//! a directory any web server can serve as the log's tlog-tiles prefix.
//!
//! The first run writes every tile; each later run writes only the tiles the
//! log gained since the copy's checkpoint ([`super::tiles_for`]) and then the
//! new checkpoint. A full tile the copy's checkpoint covers is never written
//! again. Each file is written to a temporary name and renamed, every new file
//! is synced before the checkpoint that covers it is renamed into place, and
//! the checkpoint is written last: a reader (or a crash) sees the old copy or
//! the new one. After the new checkpoint, the partial tiles of tiles that are
//! now full are removed (tlog-tiles allows it; a client falls back to the
//! full tile).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{tiles_for, StoreTiles, TileError, TileId, TileKind};
use crate::checkpoint::{self, Checkpoint};
use crate::store::{meta, Store, StoreError};

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The size of the copy's checkpoint before the run (0 for a new copy).
    pub old_size: u64,
    /// The size of its checkpoint now.
    pub size: u64,
    /// Tiles and bundles written.
    pub written: usize,
    /// Tiles and bundles already there with the right content (left a run
    /// that stopped before its checkpoint).
    pub unchanged: usize,
    /// Partial tiles removed because their full tile is now there.
    pub removed_partials: usize,
}

/// Why a copy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading a tile from the store failed.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// The store or the copy is not what it should be; nothing was written.
    #[error("{0}")]
    Refused(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |error| CopyError::Io { path: path.to_path_buf(), error }
}

/// The copy's checkpoint, if it has one.
fn copy_checkpoint(out: &Path) -> Result<Option<Checkpoint>, CopyError> {
    let path = out.join("checkpoint");
    let note = match std::fs::read_to_string(&path) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
    };
    let (cp, _) = checkpoint::parse_unverified(&note)
        .map_err(|e| CopyError::Refused(format!("{}: not a checkpoint: {e}", path.display())))?;
    Ok(Some(cp))
}

/// Write `bytes` to `path` through a temporary file and a rename, unless it
/// already holds them. Returns whether it wrote.
fn put(path: &Path, bytes: &[u8]) -> Result<bool, CopyError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path.parent().expect("a tile path has a parent");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = tmp_path(path);
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(true)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("a file name").to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Make `path`'s content durable.
fn sync(path: &Path) -> Result<(), CopyError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))
}

/// The signed checkpoint `note` of a log held in a store (`meent tiles` reads
/// it from the store's metadata), and the store's tiles of that size.
pub fn store_checkpoint<'a>(store: &'a dyn Store) -> Result<(String, StoreTiles<'a>), CopyError> {
    let note = store.meta(meta::CHECKPOINT)?.ok_or_else(|| CopyError::Refused("the store has no checkpoint".into()))?;
    let note = String::from_utf8(note).map_err(|_| CopyError::Refused("the store's checkpoint is not UTF-8".into()))?;
    let (cp, _) =
        checkpoint::parse_unverified(&note).map_err(|e| CopyError::Refused(format!("the store's checkpoint: {e}")))?;
    Ok((note, StoreTiles::new(store, cp.size)))
}

/// Write or update, in the directory `out`, the copy of the log whose signed
/// checkpoint is `note` and whose tiles of that size are `tiles`. `progress`
/// is called with the records covered so far and the total.
///
/// Refused, with nothing written: tiles whose tree does not give the
/// checkpoint's root; a copy of another log (another origin), one ahead of
/// this log, or one whose checkpoint is not a prefix of this log's tree.
pub fn update(
    tiles: &StoreTiles<'_>,
    note: &str,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CopyReport, CopyError> {
    let (cp, _) =
        checkpoint::parse_unverified(note).map_err(|e| CopyError::Refused(format!("the log's checkpoint: {e}")))?;
    if cp.size != tiles.size() || tiles.root()? != cp.root {
        return Err(CopyError::Refused("the store's tree does not give the root of its checkpoint".into()));
    }
    let old_size = match copy_checkpoint(out)? {
        None => 0,
        Some(old) => {
            check_prefix(tiles, out, &old, &cp)?;
            old.size
        }
    };
    let todo = tiles_for(old_size, cp.size);
    let mut report = CopyReport { old_size, size: cp.size, written: 0, unchanged: 0, removed_partials: 0 };
    let mut written: Vec<PathBuf> = Vec::new();
    let mut tally = |path: PathBuf, wrote: bool| {
        if wrote {
            report.written += 1;
            written.push(path);
        } else {
            report.unchanged += 1;
        }
    };
    // Level 0: each bundle and its hash tile from one read of their records.
    for tile in todo.iter().filter(|t| t.kind == TileKind::Hashes(0)) {
        let leaves = tiles.leaves(*tile)?;
        let hashes: Vec<u8> = leaves.iter().flat_map(|l| l.0).collect();
        let bundle = super::encode_bundle(tile.index * super::TILE_WIDTH, leaves.iter().map(|l| l.1.as_slice()))?;
        for (t, bytes) in [(*tile, hashes), (TileId::entries(tile.index, tile.width), bundle)] {
            let path = out.join(t.path());
            let wrote = put(&path, &bytes)?;
            tally(path, wrote);
        }
        progress(tile.index * super::TILE_WIDTH + u64::from(tile.width), cp.size);
    }
    for tile in todo.iter().filter(|t| t.level() > 0) {
        let path = out.join(tile.path());
        let wrote = put(&path, &tiles.read(*tile)?)?;
        tally(path, wrote);
    }
    written.par_iter().try_for_each(|p| sync(p))?;
    let cp_path = out.join("checkpoint");
    let tmp = tmp_path(&cp_path);
    std::fs::write(&tmp, note.as_bytes()).map_err(io(&tmp))?;
    sync(&tmp)?;
    std::fs::rename(&tmp, &cp_path).map_err(io(&cp_path))?;
    std::fs::File::open(out).and_then(|d| d.sync_all()).map_err(io(out))?;
    for tile in todo.iter().filter(|t| t.is_full()) {
        let mut partials = out.join(tile.path()).into_os_string();
        partials.push(".p");
        let partials = PathBuf::from(partials);
        if partials.is_dir() {
            report.removed_partials += std::fs::read_dir(&partials).map_err(io(&partials))?.count();
            std::fs::remove_dir_all(&partials).map_err(io(&partials))?;
        }
    }
    Ok(report)
}

/// The copy's checkpoint `old` must be of the same log as `cp`, not ahead of
/// it, and its tree a prefix of the store's.
fn check_prefix(tiles: &StoreTiles<'_>, out: &Path, old: &Checkpoint, cp: &Checkpoint) -> Result<(), CopyError> {
    let shown = out.display();
    if old.origin != cp.origin {
        return Err(CopyError::Refused(format!(
            "{shown} is a copy of the log {:?}, not of {:?}; give an empty directory",
            old.origin, cp.origin
        )));
    }
    if old.size > cp.size {
        return Err(CopyError::Refused(format!(
            "{shown} holds {} records, more than the {} of this data directory (an older copy of the data?)",
            old.size, cp.size
        )));
    }
    if tiles.at(old.size).root()? != old.root {
        return Err(CopyError::Refused(format!(
            "{shown}'s checkpoint of size {} is not a prefix of this log: the log's tree of that size has another root",
            old.size
        )));
    }
    Ok(())
}
