//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs`
//! (coverage-guided, `cargo fuzz run <target>`) and
//! `tests/tests/fuzz_seeded.rs` (a short seeded run in every `cargo test`,
//! on stable, which also replays every input in `fuzz/regressions/`).
//!
//! Each target feeds arbitrary bytes to one parser and checks, besides "no
//! panic", what the parser promises when it accepts: what it read back is
//! what it writes. The `apply` target (`apply.rs`) feeds sequences of signed
//! entries through `State::apply` and checks the books after every step.

use ledger::entry::VerifiedEntry;
use ledger::record::Record;
use ledger::{bank, checkpoint, jcs, pb, privacy};

#[path = "apply.rs"]
pub mod apply;
pub use apply::apply;

/// The origin and the checkpoint key (seed `[7; 32]`) of the `checkpoint`
/// target's seeds.
pub const CHECKPOINT_ORIGIN: &str = "meent.test/fuzz";
/// The secret seed of the checkpoint target's key.
pub const CHECKPOINT_KEY_SEED: [u8; 32] = [7; 32];

/// A fuzz target: bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("entry", entry),
    ("record", record),
    ("jcs", jcs_text),
    ("checkpoint", checkpoint_note),
    ("pabulib", pabulib),
    ("camt053", camt053),
    ("mt940", mt940),
    ("bank", bank_any),
    ("apply", apply),
];

/// An entry as submitted: parse, check shape and limits, verify the
/// signature; an accepted entry verifies again from its canonical form, with
/// the same id, and its free text goes through the personal-data check.
pub fn entry(data: &[u8]) {
    let Ok(e) = VerifiedEntry::from_json(data) else { return };
    let canon = jcs::to_vec(&e.json).expect("a verified entry serializes");
    let again = VerifiedEntry::from_json(&canon).expect("a verified entry's canonical form verifies");
    assert_eq!(again.id, e.id, "the id is the same from the canonical form");
    let _ = e.body.check_personal_data();
}

/// A stored record (leaf bytes): an accepted one writes back byte for byte.
pub fn record(data: &[u8]) {
    let Ok(r) = Record::from_leaf_bytes(data) else { return };
    assert_eq!(r.leaf_bytes(), data, "a record read from its leaf bytes writes them back");
}

/// JCS (RFC 8785) strict parsing and canonical writing: a canonical form
/// parses to the same value and is its own canonical form. And the
/// personal-data detector, on the same bytes as text.
pub fn jcs_text(data: &[u8]) {
    let _ = privacy::find(&String::from_utf8_lossy(data));
    let Ok(v) = jcs::parse_strict(data) else { return };
    let Ok(c) = jcs::to_vec(&v) else { return };
    let v2 = jcs::parse_strict(&c).expect("a canonical form parses");
    assert_eq!(v2, v, "the canonical form holds the same value");
    assert_eq!(jcs::to_vec(&v2).expect("writes again"), c, "canonical twice is canonical once");
}

/// A signed checkpoint note, read without and with verification: a note that
/// opens under the fuzz key has the same body unverified.
pub fn checkpoint_note(data: &[u8]) {
    let Ok(note) = std::str::from_utf8(data) else { return };
    let unverified = checkpoint::parse_unverified(note);
    let key = ed25519_dalek::SigningKey::from_bytes(&CHECKPOINT_KEY_SEED).verifying_key();
    if let Ok(cp) = checkpoint::open(note, CHECKPOINT_ORIGIN, &key) {
        let (u, _) = unverified.expect("a note that opens parses unverified");
        assert_eq!(u.body_text(), cp.body_text());
    }
}

/// A pabulib `.pb` file.
pub fn pabulib(data: &[u8]) {
    let _ = pb::parse_bytes(data);
}

/// A CAMT.053 bank statement.
pub fn camt053(data: &[u8]) {
    let _ = bank::camt053::parse(data);
}

/// An MT940 bank statement.
pub fn mt940(data: &[u8]) {
    let _ = bank::mt940::parse(data);
}

/// A bank statement of either format, told apart by its content.
pub fn bank_any(data: &[u8]) {
    let _ = bank::parse(data);
}
