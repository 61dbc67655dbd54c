//! Paths against the examples of c2sp.org/tlog-tiles; tiles, roots and
//! proofs against Cloudflare's `tlog_tiles` (a port of Go's
//! `golang.org/x/mod/sumdb/tlog`) on random trees; checkpoints against its
//! `signed_note`; and a store's tiles written, updated and audited.

use super::*;
use crate::merkle::MemoryTree;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------
// Paths (c2sp.org/tlog-tiles, "Merkle Tree" and "Partial Tiles").
// ---------------------------------------------------------------------------

#[test]
fn index_is_encoded_in_groups_of_three_digits() {
    // The spec's example: "index 1234067 will be encoded as x001/x234/067".
    assert_eq!(encode_index(1_234_067), "x001/x234/067");
    assert_eq!(encode_index(0), "000");
    assert_eq!(encode_index(5), "005");
    assert_eq!(encode_index(999), "999");
    assert_eq!(encode_index(1000), "x001/000");
    assert_eq!(encode_index(273), "273");
    assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
}

#[test]
fn tile_paths_round_trip() {
    let cases = [
        (TileId::hashes(0, 1_234_067, 256), "tile/0/x001/x234/067"),
        (TileId::hashes(4, 1_234_067, 1), "tile/4/x001/x234/067.p/1"),
        (TileId::hashes(0, 273, 112), "tile/0/273.p/112"),
        (TileId::hashes(1, 1, 17), "tile/1/001.p/17"),
        (TileId::hashes(63, 0, 255), "tile/63/000.p/255"),
        (TileId::entries(0, 256), "tile/entries/000"),
        (TileId::entries(1_234_067, 5), "tile/entries/x001/x234/067.p/5"),
    ];
    for (tile, path) in cases {
        assert_eq!(tile.path(), path);
        assert_eq!(TileId::parse(path), Ok(tile), "{path}");
    }
}

#[test]
fn non_canonical_tile_paths_are_refused() {
    for path in [
        "tile/00/000",                              // leading zero in L
        "tile/64/000",                              // L above 63
        "tile/-1/000",                              // not a number
        "tile/0/1234",                              // not three digits
        "tile/0/01",                                // not three digits
        "tile/0/x000/001",                          // superfluous group
        "tile/0/001/234",                           // a non-last group without x
        "tile/0/x001",                              // the last group with x
        "tile/0/000.p/0",                           // empty partial
        "tile/0/000.p/256",                         // a full tile is never partial
        "tile/0/000.p/05",                          // leading zero in W
        "tile/0/000.p/",                            // no width
        "tile/0/000/",                              // trailing slash
        "tile/entry/000",                           // not entries
        "tile/data/000",                            // Go sumdb's name, not C2SP's
        "tile/8/0/000",                             // Go sumdb's height element
        "tile/0",                                   // no index
        "checkpoint",                               // not a tile
        "tile/0/x018/x446/x744/x073/x709/x551/616", // above u64
    ] {
        assert!(TileId::parse(path).is_err(), "{path} should be refused");
    }
}

/// The spec's example: "a tree of size 70,000 will be represented by 273
/// full level 0 tiles, one partial level 0 tile of width 112, one full level
/// 1 tile, one partial level 1 tile of width 17, and one partial level 2
/// tile of width 1", and "a tree of size 256 will be represented by a full
/// level 0 tile and a partial level 1 tile of width 1".
#[test]
fn tiles_of_a_tree_match_the_spec_examples() {
    let tiles = tiles_for(0, 70_000);
    let hashes =
        |level: u8| -> Vec<TileId> { tiles.iter().copied().filter(|t| t.kind == TileKind::Hashes(level)).collect() };
    let l0 = hashes(0);
    assert_eq!(l0.len(), 274);
    assert_eq!(l0.iter().filter(|t| t.is_full()).count(), 273);
    assert_eq!(l0[273], TileId::hashes(0, 273, 112));
    assert_eq!(hashes(1), vec![TileId::hashes(1, 0, 256), TileId::hashes(1, 1, 17)]);
    assert_eq!(hashes(2), vec![TileId::hashes(2, 0, 1)]);
    assert!(hashes(3).is_empty());
    let bundles: Vec<TileId> = tiles.iter().copied().filter(|t| t.kind == TileKind::Entries).collect();
    assert_eq!(bundles.len(), 274);
    assert_eq!(bundles[273], TileId::entries(273, 112));

    assert_eq!(tiles_for(0, 256), vec![TileId::hashes(0, 0, 256), TileId::entries(0, 256), TileId::hashes(1, 0, 1)]);
    assert!(tiles_for(5, 5).is_empty());
    assert!(tiles_for(6, 5).is_empty());
    // Growing from 70,000 to 70,100: only the last level-0 tile changes.
    assert_eq!(tiles_for(70_000, 70_100), vec![TileId::hashes(0, 273, 212), TileId::entries(273, 212)]);
    // Every tile listed is in the tree, and the tree of every size has all it lists.
    for t in &tiles {
        assert!(t.in_tree(70_000), "{t:?}");
    }
    assert!(!TileId::hashes(0, 273, 113).in_tree(70_000));
    assert!(!TileId::hashes(2, 0, 2).in_tree(70_000));
    assert!(TileId::hashes(0, 10, 3).in_tree(70_000), "an older partial tile stays available");
}

/// Growing a tree in random steps, the union of the tiles of each step
/// (the last written for each place) is the set of tiles of the final tree.
#[test]
fn incremental_tiles_add_up_to_the_whole() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    for _ in 0..20 {
        let mut size = 0u64;
        let mut latest: std::collections::BTreeMap<(TileKind, u64), u16> = Default::default();
        for _ in 0..8 {
            let new = size + rng.gen_range(0..70_000);
            for t in tiles_for(size, new) {
                let before = latest.insert((t.kind, t.index), t.width);
                assert!(before.is_none_or(|w| w < 256), "full tile {t:?} listed again");
            }
            size = new;
        }
        let whole: std::collections::BTreeMap<(TileKind, u64), u16> =
            tiles_for(0, size).into_iter().map(|t| ((t.kind, t.index), t.width)).collect();
        assert_eq!(latest, whole);
    }
}

#[test]
fn bundles_round_trip_and_refuse_what_is_not_one() {
    let entries: Vec<&[u8]> = vec![b"{}", b"", &[7u8; 300]];
    let bytes = encode_bundle(0, entries.iter().copied()).unwrap();
    assert_eq!(&bytes[..4], &[0, 2, b'{', b'}']);
    assert_eq!(&bytes[4..8], &[0, 0, 1, 44]);
    assert_eq!(decode_bundle(&bytes, 3).unwrap(), entries);
    assert_eq!(decode_bundle(&bytes, 2), Err(BundleError::WrongCount { got: 3, expected: 2 }));
    assert_eq!(decode_bundle(&bytes[..bytes.len() - 1], 3), Err(BundleError::CutShort { entry: 2 }));
    assert_eq!(decode_bundle(&bytes[..5], 3), Err(BundleError::CutShort { entry: 1 }));
    let long = vec![0u8; ENTRY_LEN_MAX + 1];
    let err = encode_bundle(512, [b"x".as_slice(), long.as_slice()]).unwrap_err();
    assert!(matches!(err, TileError::EntryTooLong { seq: 513, len: 65536 }), "{err}");
}

// ---------------------------------------------------------------------------
// Equal to Cloudflare's tlog_tiles (Go sumdb/tlog) on random trees.
// ---------------------------------------------------------------------------

/// tlog's hash storage: every stored hash, at `stored_hash_index`.
struct TheirStore(Vec<tlog_tiles::Hash>);

impl tlog_tiles::HashReader for TheirStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes.iter().map(|&i| self.0.get(i as usize).copied().ok_or(tlog_tiles::Error::IndexesNotInTree)).collect()
    }
}

/// Our tiles, served to tlog's tile client.
struct OurTiles<'a>(&'a MemoryTree, u64);

impl tlog_tiles::TileReader for OurTiles<'_> {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let ours = TileId::hashes(t.level(), t.level_index(), t.width() as u16);
                assert!(ours.in_tree(self.1), "tlog asked for {t:?}, not in the tree of size {}", self.1);
                Ok(hash_tile(self.0, ours).unwrap())
            })
            .collect()
    }
    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

fn theirs(h: &Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(*h)
}

/// Random trees (sizes up to past 65,536, so that level-2 tiles exist): our
/// roots, inclusion and consistency proofs equal tlog's, each side accepts
/// the other's proofs, our tiles equal tlog's tiles and paths, and tlog's
/// tile client, fed our tiles, authenticates them against our root.
#[test]
fn equal_to_cloudflare_tlog_tiles_on_random_trees() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(9162);
    let mut sizes: Vec<u64> = (0..12).map(|_| rng.gen_range(1..3000)).collect();
    sizes.extend([1, 255, 256, 257, 65_535, 65_536, 65_537 + rng.gen_range(0..9000)]);
    let max = *sizes.iter().max().unwrap();
    let mut ours = MemoryTree::new();
    let mut store = TheirStore(Vec::new());
    let mut sizes_seen = Vec::new();
    for n in 0..max {
        let data: Vec<u8> = (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect();
        ours.push(merkle::leaf_hash(&data));
        let new = tlog_tiles::stored_hashes(n, &data, &store).unwrap();
        store.0.extend(new);
        let size = n + 1;
        if sizes.contains(&size) {
            sizes_seen.push(size);
            check_tree(&ours, &store, size, &mut rng);
        }
    }
    assert_eq!(sizes_seen.len(), sizes.iter().collect::<std::collections::BTreeSet<_>>().len());
}

fn check_tree(ours: &MemoryTree, store: &TheirStore, size: u64, rng: &mut impl Rng) {
    let root = merkle::root(ours, size).unwrap();
    let their_root = tlog_tiles::tree_hash(size, store).unwrap();
    assert_eq!(theirs(&root), their_root, "root of size {size}");

    for _ in 0..20 {
        let index = rng.gen_range(0..size);
        let proof = merkle::inclusion_proof(ours, index, size).unwrap();
        let their_proof = tlog_tiles::prove_record(size, index, store).unwrap();
        assert_eq!(proof.iter().map(theirs).collect::<Vec<_>>(), their_proof, "inclusion {index} in {size}");
        let leaf = ours.node(0, index).unwrap();
        tlog_tiles::check_record(&proof.iter().map(theirs).collect(), size, their_root, index, theirs(&leaf)).unwrap();
        let their_as_ours: Vec<Hash> = their_proof.iter().map(|h| h.0).collect();
        merkle::verify_inclusion(&leaf, index, size, &their_as_ours, &root).unwrap();

        let old = rng.gen_range(1..=size);
        let proof = merkle::consistency_proof(ours, old, size).unwrap();
        let their_proof = tlog_tiles::prove_tree(size, old, store).unwrap();
        assert_eq!(proof.iter().map(theirs).collect::<Vec<_>>(), their_proof, "consistency {old} to {size}");
        let old_root = merkle::root(ours, old).unwrap();
        tlog_tiles::check_tree(&proof.iter().map(theirs).collect(), size, their_root, old, theirs(&old_root)).unwrap();
        let their_as_ours: Vec<Hash> = their_proof.iter().map(|h| h.0).collect();
        merkle::verify_consistency(old, size, &their_as_ours, &old_root, &root).unwrap();
    }

    // Every tile of the tree: the same bytes as tlog reads from its storage,
    // and the same path once tlog's height element (`8/`) is taken out.
    let ours_tiles: Vec<TileId> = tiles_for(0, size).into_iter().filter(|t| t.kind != TileKind::Entries).collect();
    let their_tiles = tlog_tiles::Tile::new_tiles(8, 0, size);
    assert_eq!(ours_tiles.len(), their_tiles.len(), "tiles of size {size}");
    for (mine, their) in ours_tiles.iter().zip(&their_tiles) {
        assert_eq!(mine.path(), their.path().replacen("tile/8/", "tile/", 1));
        assert_eq!(hash_tile(ours, *mine).unwrap(), their.read_data(store).unwrap(), "{}", mine.path());
    }

    // tlog's client reads hashes through our tiles, checking them against the root.
    let reader = OurTiles(ours, size);
    let thr = tlog_tiles::TileHashReader::new(size, their_root, &reader);
    assert_eq!(tlog_tiles::tree_hash(size, &thr).unwrap(), their_root);
    let index = rng.gen_range(0..size);
    let via_tiles = tlog_tiles::prove_record(size, index, &thr).unwrap();
    assert_eq!(via_tiles, tlog_tiles::prove_record(size, index, store).unwrap());
}

/// Our signed checkpoints are notes Cloudflare's `signed_note` verifies with
/// the log's verifier key, and checkpoints its `tlog_tiles` parses to the
/// same origin, size and root.
#[test]
fn checkpoints_are_notes_cloudflare_reads() {
    let key = crate::crypto::generate_key();
    let cp = crate::checkpoint::Checkpoint { origin: "meent.test/tiles".into(), size: 70_000, root: [7u8; 32] };
    let note = cp.sign(&key);
    let vkey = crate::checkpoint::verifier_key(&cp.origin, &key.verifying_key());
    let verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
    let (verified, unverified) = parsed.verify(&signed_note::VerifierList::new(vec![Box::new(verifier)])).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 0));
    let theirs = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
    assert_eq!((theirs.origin(), theirs.size(), theirs.hash().0), ("meent.test/tiles", 70_000, [7u8; 32]));

    // A note signed by another key does not verify with the log's key.
    let other = crate::crypto::generate_key();
    let forged = signed_note::Note::from_bytes(cp.sign(&other).as_bytes()).unwrap();
    let verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    assert!(forged.verify(&signed_note::VerifierList::new(vec![Box::new(verifier)])).is_err());
}

// ---------------------------------------------------------------------------
// A real log: served tiles, a static copy written and updated, and audited.
// ---------------------------------------------------------------------------

mod log_copy {
    use super::super::audit::{audit, DirReader, TilesAuditError};
    use super::super::copy;
    use super::*;
    use crate::entry::{self, Kind, VerifiedEntry};
    use crate::log::Log;
    use crate::time::Timestamp;
    use chrono::Utc;
    use serde_json::json;

    fn application(id: &str) -> VerifiedEntry {
        let key = crate::crypto::generate_key();
        let at = Timestamp::from_instant(Utc::now());
        let body = json!({"id": id, "name": "Energie Coöperatie Noord", "member_kind": "collective", "legal_form": "cooperatie"});
        entry::sign_entry(Kind::MemberApply, &id.parse().unwrap(), &key, &at, body).unwrap()
    }

    fn grow(log: &Log, to: u64) {
        while log.size() < to {
            let n = (to - log.size()).min(200);
            let group = (0..n).map(|i| application(&format!("collectief-{}", log.size() + i))).collect();
            assert!(log.append(group, Utc::now()).iter().all(|r| r.is_ok()));
        }
    }

    fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.insert(rel, (std::fs::read(&p).unwrap(), p.metadata().unwrap().modified().unwrap()));
                }
            }
        }
        out
    }

    /// Every tile the log serves is the one tlog_tiles computes from the
    /// records; a copy written, grown and written again is audited clean,
    /// keeps its full tiles untouched and drops the partials they replace.
    #[test]
    fn a_copy_is_written_updated_and_audited() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::create(&dir.path().join("data"), "meent.test/tiles", vec![], Utc::now()).unwrap();
        grow(&log, 300);
        let out = dir.path().join("copy");
        let mut calls = 0;
        let (note, _) = log.checkpoint();
        let first = copy::update(&log.tiles(), &note, &out, &mut |_, _| calls += 1).unwrap();
        assert_eq!((first.old_size, first.size, first.written), (0, 300, 5), "{first:?}");
        assert_eq!(calls, 2);
        let before = files(&out);
        let names: Vec<&str> = before.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "checkpoint",
                "tile/0/000",
                "tile/0/001.p/44",
                "tile/1/000.p/1",
                "tile/entries/000",
                "tile/entries/001.p/44"
            ]
        );
        let report = audit(&DirReader(out.clone()), None, &mut |_, _| {}).unwrap();
        assert_eq!(report.size, 300);

        // Served tiles equal the copy's, and each record's leaf hash is in its tile.
        for (name, (bytes, _)) in &before {
            if name != "checkpoint" {
                assert_eq!(&log.tiles().read(TileId::parse(name).unwrap()).unwrap(), bytes, "{name}");
            }
        }
        assert_eq!(&before["tile/0/001.p/44"].0[..32], &log.leaf_hash(256).unwrap());
        let err = log.tiles().read(TileId::hashes(0, 1, 45)).unwrap_err();
        assert!(matches!(err, TileError::NotInTree { size: 300, .. }), "{err}");

        // Up to date: nothing written.
        let again = copy::update(&log.tiles(), &note, &out, &mut |_, _| {}).unwrap();
        assert_eq!((again.old_size, again.written, again.unchanged), (300, 0, 0), "nothing is even read again");

        let trusted = note;
        grow(&log, 600);
        let (note, _) = log.checkpoint();
        let second = copy::update(&log.tiles(), &note, &out, &mut |_, _| {}).unwrap();
        assert_eq!((second.old_size, second.size, second.removed_partials), (300, 600, 2), "{second:?}");
        assert_eq!(second.unchanged, 0, "only the tiles the log gained are considered");
        let after = files(&out);
        assert_eq!(after["tile/0/000"], before["tile/0/000"], "a full tile is never written again");
        assert!(!after.contains_key("tile/0/001.p/44"), "the partial is gone once the full tile is there");
        assert!(after.contains_key("tile/0/001") && after.contains_key("tile/0/002.p/88"));
        assert!(after.contains_key("tile/1/000.p/2") && after.contains_key("tile/1/000.p/1"));
        let report = audit(&DirReader(out.clone()), Some(&trusted), &mut |_, _| {}).unwrap();
        assert_eq!((report.size, report.trusted.map(|t| t.size)), (600, Some(300)));

        // A copy of another log is refused, and left as it was.
        let other = Log::create(&dir.path().join("other"), "meent.test/other", vec![], Utc::now()).unwrap();
        let err = copy::update(&other.tiles(), &other.checkpoint().0, &out, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("is a copy of the log \"meent.test/tiles\""), "{err}");
        assert_eq!(files(&out).keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    }

    /// One flipped byte anywhere in a tile, a bundle or the checkpoint fails
    /// the audit, naming that file.
    #[test]
    fn a_flipped_byte_fails_the_audit_naming_the_tile() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::create(&dir.path().join("data"), "meent.test/tiles", vec![], Utc::now()).unwrap();
        grow(&log, 70_000 / 200);
        let out = dir.path().join("copy");
        copy::update(&log.tiles(), &log.checkpoint().0, &out, &mut |_, _| {}).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (name, (bytes, _)) in files(&out) {
            for _ in 0..3 {
                let at = rng.gen_range(0..bytes.len());
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << rng.gen_range(0..8);
                std::fs::write(out.join(&name), &flipped).unwrap();
                let err = audit(&DirReader(out.clone()), None, &mut |_, _| {}).unwrap_err();
                let shown = err.to_string();
                match &err {
                    TilesAuditError::Tile { path, .. } => assert_eq!(path, &name, "byte {at}: {shown}"),
                    _ => panic!("{name} byte {at}: not named: {shown}"),
                }
            }
            std::fs::write(out.join(&name), &bytes).unwrap();
        }
        audit(&DirReader(out.clone()), None, &mut |_, _| {}).unwrap();
    }
}
