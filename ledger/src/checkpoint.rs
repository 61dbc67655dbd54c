//! Checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note` form
//! (SPEC §3.3).
//!
//! ```text
//! meent.example.org/amsterdam
//! 42
//! <base64 root hash>
//!
//! — meent.example.org/amsterdam <base64(key id || signature)>
//! ```
//!
//! * The **note text** is the body lines, each ending in `\n`: the origin, the
//!   tree size in canonical decimal, the standard base64 (RFC 4648 §4, padded)
//!   of the 32-byte root, then optional non-empty **extension lines**. This
//!   module never writes extension lines; when reading it accepts and
//!   ignores them (they are covered by the signature but not returned), as
//!   C2SP `tlog-checkpoint` allows.
//! * A blank line separates the text from the signature lines: the text ends
//!   at the *last* blank line of the note.
//! * A **signature line** is `U+2014 EM DASH`, a space, the key name, a space
//!   and the base64 of the 4-byte key id followed by the signature.
//!   Here the key name is the log's origin and the signature is Ed25519 over
//!   the note text; the key id is
//!   `SHA-256(origin || 0x0A || 0x01 || 32-byte public key)[:4]` ([`key_id`]).
//! * As C2SP `signed-note` requires, signature lines whose name *and* key id
//!   do not both match the expected key are ignored (after a syntax check),
//!   every line that does match must verify (with `verify_strict`), and at
//!   least one must.
//! * The whole note must be valid UTF-8 without ASCII control characters
//!   other than newline, at most [`MAX_NOTE_LEN`] bytes, with at most
//!   [`MAX_SIGNATURES`] signature lines.

use crate::merkle::Hash;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 64 * 1024;

/// The most signature lines accepted in one note (C2SP `signed-note` asks
/// verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// The start of every signature line: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The C2SP `signed-note` signature type byte of Ed25519.
const ED25519_TYPE: u8 = 0x01;

/// Why a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    /// The note is longer than [`MAX_NOTE_LEN`].
    #[error("note is {len} bytes, more than the {max} allowed")]
    NoteTooLarge {
        /// The note's length.
        len: usize,
        /// [`MAX_NOTE_LEN`].
        max: usize,
    },
    /// The note contains an ASCII control character other than newline.
    #[error("note contains control character {code:#04x} at byte {offset}")]
    ControlCharacter {
        /// The character's code.
        code: u8,
        /// Its byte offset in the note.
        offset: usize,
    },
    /// The note does not end with a newline.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// No blank line separates the text from the signatures.
    #[error("note has no blank line before its signatures")]
    MissingBlankLine,
    /// Nothing follows the blank line.
    #[error("note has no signature lines")]
    NoSignatures,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {count} signature lines, more than the {max} allowed")]
    TooManySignatures {
        /// Signature lines in the note.
        count: usize,
        /// [`MAX_SIGNATURES`].
        max: usize,
    },
    /// A signature line does not have the `— <name> <base64>` form.
    #[error("signature line {line} is malformed: {reason}")]
    MalformedSignatureLine {
        /// 1-based position among the signature lines.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The checkpoint body has fewer than three lines.
    #[error("checkpoint body has {got} lines, expected at least 3")]
    TooFewLines {
        /// Body lines found.
        got: usize,
    },
    /// A body line is empty.
    #[error("checkpoint body line {line} is empty")]
    EmptyLine {
        /// 1-based line number.
        line: usize,
    },
    /// The size line is not a canonical decimal `u64`.
    #[error("tree size {text:?} is not a canonical decimal number")]
    BadSize {
        /// The size line (at most 40 characters of it).
        text: String,
    },
    /// The root line is not standard, padded base64.
    #[error("root hash is not valid base64")]
    BadRootBase64,
    /// The root does not decode to 32 bytes.
    #[error("root hash is {got} bytes, expected 32")]
    BadRootLength {
        /// Decoded length.
        got: usize,
    },
    /// The checkpoint is for another log.
    #[error("checkpoint origin is {got:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin asked for.
        expected: String,
        /// The origin in the note (at most 200 characters of it).
        got: String,
    },
    /// No signature line carries the expected key's name and key id.
    #[error("note has no signature by key {name} with id {key_id}")]
    NoSignatureForKey {
        /// The key name looked for.
        name: String,
        /// The key id looked for, in hex.
        key_id: String,
    },
    /// A signature line of the expected key does not verify.
    #[error("signature by key {name} with id {key_id} does not verify")]
    InvalidSignature {
        /// The key name.
        name: String,
        /// The key id, in hex.
        key_id: String,
    },
    /// An origin that cannot be a key name (see [`check_origin`]).
    #[error("origin is not a valid key name: {reason}")]
    InvalidOrigin {
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A log's tree head: its origin, size and root hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's origin, also the signing key's name.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The Merkle tree root of the first `size` leaves.
    pub root: Hash,
}

/// One signature line of a note, as written (not verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// The key name.
    pub name: String,
    /// The 4-byte key id.
    pub key_id: [u8; 4],
    /// The signature bytes after the key id (at least one byte).
    pub signature: Vec<u8>,
}

impl Checkpoint {
    /// The note text: origin, size and base64 root, each followed by `\n`.
    pub fn body_text(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    /// The whole signed note, signed by `key` under the key name
    /// [`origin`](Checkpoint::origin).
    ///
    /// The origin must be a valid key name ([`check_origin`]); the server
    /// checks that once, when configured. A note made with an invalid origin
    /// does not [`open`].
    pub fn sign(&self, key: &SigningKey) -> String {
        sign_note(&self.body_text(), &self.origin, key)
    }
}

/// The C2SP `signed-note` key id of an Ed25519 key named `origin`:
/// `SHA-256(origin || 0x0A || 0x01 || public key)[:4]`.
pub fn key_id(origin: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The verifier key string of Go's `golang.org/x/mod/sumdb/note` and its
/// descendants: `<origin>+<hex key id>+<base64(0x01 || public key)>`, for
/// witnesses and monitors that want the log's key in that form.
pub fn verifier_key(origin: &str, key: &VerifyingKey) -> String {
    let mut material = Vec::with_capacity(33);
    material.push(ED25519_TYPE);
    material.extend_from_slice(key.as_bytes());
    format!("{origin}+{}+{}", hex::encode(key_id(origin, key)), STANDARD.encode(material))
}

/// Checks that `origin` can be the key name of a note and the first line of
/// a checkpoint: non-empty, no Unicode white space, no `+`, no control
/// characters.
pub fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    name_problem(origin).map_or(Ok(()), |reason| Err(CheckpointError::InvalidOrigin { reason }))
}

/// Why `name` is not a valid key name, if it is not.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("the key name is empty")
    } else if name.chars().any(char::is_whitespace) {
        Some("the key name contains white space")
    } else if name.contains('+') {
        Some("the key name contains '+'")
    } else if name.chars().any(char::is_control) {
        Some("the key name contains a control character")
    } else {
        None
    }
}

/// Signs `text` (which must end in `\n`) as a note with one Ed25519
/// signature line by `key` named `name`.
fn sign_note(text: &str, name: &str, key: &SigningKey) -> String {
    let signature = key.sign(text.as_bytes());
    let mut blob = Vec::with_capacity(4 + 64);
    blob.extend_from_slice(&key_id(name, &key.verifying_key()));
    blob.extend_from_slice(&signature.to_bytes());
    format!("{text}\n{SIGNATURE_PREFIX}{name} {}\n", STANDARD.encode(blob))
}

/// Splits a note into its text (with its final newline) and its signature
/// lines, checking the syntax of C2SP `signed-note`.
fn parse_note(note: &str) -> Result<(&str, Vec<SignatureLine>), CheckpointError> {
    if note.len() > MAX_NOTE_LEN {
        return Err(CheckpointError::NoteTooLarge { len: note.len(), max: MAX_NOTE_LEN });
    }
    if let Some((offset, &code)) = note.as_bytes().iter().enumerate().find(|&(_, &b)| b < 0x20 && b != b'\n') {
        return Err(CheckpointError::ControlCharacter { code, offset });
    }
    if !note.ends_with('\n') {
        return Err(CheckpointError::MissingFinalNewline);
    }
    let split = note.rfind("\n\n").ok_or(CheckpointError::MissingBlankLine)?;
    let text = &note[..split + 1];
    let block = &note[split + 2..];
    let Some(block) = block.strip_suffix('\n') else {
        return Err(CheckpointError::NoSignatures);
    };
    let count = block.split('\n').count();
    if count > MAX_SIGNATURES {
        return Err(CheckpointError::TooManySignatures { count, max: MAX_SIGNATURES });
    }
    let signatures = block
        .split('\n')
        .enumerate()
        .map(|(i, line)| parse_signature_line(line, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((text, signatures))
}

/// Parses `— <name> <base64(key id || signature)>` (without its newline).
fn parse_signature_line(line: &str, number: usize) -> Result<SignatureLine, CheckpointError> {
    let malformed = |reason| CheckpointError::MalformedSignatureLine { line: number, reason };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| malformed("it does not start with an em dash and a space"))?;
    let (name, encoded) =
        rest.split_once(' ').ok_or_else(|| malformed("it has no space between key name and signature"))?;
    if let Some(reason) = name_problem(name) {
        return Err(malformed(reason));
    }
    let blob = STANDARD.decode(encoded).map_err(|_| malformed("the signature is not valid base64"))?;
    if blob.len() < 5 {
        return Err(malformed("the signature is shorter than a key id and one byte"));
    }
    let mut key_id = [0u8; 4];
    key_id.copy_from_slice(&blob[..4]);
    Ok(SignatureLine { name: name.to_owned(), key_id, signature: blob[4..].to_vec() })
}

/// Checks the signature lines of `name`/`key` over `text`: every line with
/// both the name and the key id must verify, and there must be one.
fn verify_signatures(
    text: &str,
    signatures: &[SignatureLine],
    name: &str,
    key: &VerifyingKey,
) -> Result<(), CheckpointError> {
    let id = key_id(name, key);
    let mut verified = false;
    for line in signatures.iter().filter(|l| l.name == name && l.key_id == id) {
        let ok = Signature::from_slice(&line.signature)
            .map(|sig| key.verify_strict(text.as_bytes(), &sig).is_ok())
            .unwrap_or(false);
        if !ok {
            return Err(CheckpointError::InvalidSignature { name: name.to_owned(), key_id: hex::encode(id) });
        }
        verified = true;
    }
    if verified {
        Ok(())
    } else {
        Err(CheckpointError::NoSignatureForKey { name: name.to_owned(), key_id: hex::encode(id) })
    }
}

/// The first `max` characters of `s`, for error messages.
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Parses a checkpoint note text (ending in `\n`), ignoring extension lines.
fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<&str> = body.split('\n').collect();
    if let Some(i) = lines.iter().position(|l| l.is_empty()) {
        return Err(CheckpointError::EmptyLine { line: i + 1 });
    }
    let [origin, size_line, root_line, ..] = lines[..] else {
        return Err(CheckpointError::TooFewLines { got: lines.len() });
    };
    let size = parse_size(size_line).ok_or_else(|| CheckpointError::BadSize { text: clip(size_line, 40) })?;
    let decoded = STANDARD.decode(root_line).map_err(|_| CheckpointError::BadRootBase64)?;
    let root: Hash =
        decoded.as_slice().try_into().map_err(|_| CheckpointError::BadRootLength { got: decoded.len() })?;
    Ok(Checkpoint { origin: origin.to_owned(), size, root })
}

/// ASCII decimal without sign or leading zeros ("0" alone for zero), within
/// `u64`.
fn parse_size(s: &str) -> Option<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a signed checkpoint and verifies it was signed by `key` under the
/// key name `origin`, for the log `origin`.
///
/// Refuses any syntax error of the note or the body (see the module
/// documentation), a checkpoint of another origin, a note with no signature
/// line carrying both `origin` and `key`'s key id, and a note where such a
/// line does not verify. Signature lines of other keys are ignored, and so
/// are extension lines.
pub fn open(note: &str, origin: &str, key: &VerifyingKey) -> Result<Checkpoint, CheckpointError> {
    let (text, signatures) = parse_note(note)?;
    let checkpoint = parse_body(text)?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::WrongOrigin { expected: origin.to_owned(), got: clip(&checkpoint.origin, 200) });
    }
    verify_signatures(text, &signatures, origin, key)?;
    Ok(checkpoint)
}

/// Parses a signed checkpoint **without verifying any signature**, for tools
/// that only display it. Its content must not be trusted; use [`open`] for
/// that.
pub fn parse_unverified(note: &str) -> Result<(Checkpoint, Vec<SignatureLine>), CheckpointError> {
    let (text, signatures) = parse_note(note)?;
    Ok((parse_body(text)?, signatures))
}

/// Splits a note into its text (the body lines, each ending in `\n`) and
/// its signature lines, checking only the syntax of C2SP `signed-note`
/// (no signature is verified): what a cosigner signs over and what a
/// client checks cosignatures against (`crate::witness`).
pub fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine>), CheckpointError> {
    parse_note(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORIGIN: &str = "meent.example.org/amsterdam";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn sample() -> Checkpoint {
        Checkpoint { origin: ORIGIN.to_owned(), size: 42, root: crate::merkle::leaf_hash(b"forty-two") }
    }

    /// Builds `— name base64(id || sig)` by hand.
    fn line(name: &str, id: [u8; 4], sig: &[u8]) -> String {
        let mut blob = id.to_vec();
        blob.extend_from_slice(sig);
        format!("\u{2014} {name} {}\n", STANDARD.encode(blob))
    }

    #[test]
    fn round_trip() {
        let sk = key(1);
        let cp = sample();
        let note = cp.sign(&sk);
        assert!(note.starts_with(&cp.body_text()));
        assert_eq!(open(&note, ORIGIN, &sk.verifying_key()), Ok(cp.clone()));
        let (parsed, sigs) = parse_unverified(&note).expect("parses");
        assert_eq!(parsed, cp);
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].name, ORIGIN);
        assert_eq!(sigs[0].key_id, key_id(ORIGIN, &sk.verifying_key()));
        assert_eq!(sigs[0].signature.len(), 64);
        // Size 0 and the empty root.
        let empty = Checkpoint { origin: ORIGIN.to_owned(), size: 0, root: crate::merkle::empty_root() };
        assert_eq!(empty.body_text(), format!("{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"));
        assert_eq!(open(&empty.sign(&sk), ORIGIN, &sk.verifying_key()), Ok(empty));
        let max = Checkpoint { size: u64::MAX, ..sample() };
        assert_eq!(open(&max.sign(&sk), ORIGIN, &sk.verifying_key()), Ok(max));
    }

    /// Golden vector from the fixed seed [7; 32]: the key id is checked
    /// against a computation written out separately here, the signature
    /// against Ed25519 (RFC 8032 is deterministic) and the whole note is
    /// pinned.
    #[test]
    fn golden_seed_7() {
        let sk = key(7);
        let vk = sk.verifying_key();
        let mut preimage = Vec::new();
        preimage.extend_from_slice(ORIGIN.as_bytes());
        preimage.push(0x0a);
        preimage.push(0x01);
        preimage.extend_from_slice(vk.as_bytes());
        let digest = Sha256::digest(&preimage);
        assert_eq!(key_id(ORIGIN, &vk), digest[..4]);
        assert_eq!(hex::encode(vk.as_bytes()), GOLDEN_PUBLIC_KEY);
        assert_eq!(hex::encode(key_id(ORIGIN, &vk)), GOLDEN_KEY_ID);

        let cp = Checkpoint { origin: ORIGIN.to_owned(), size: 42, root: [0x42; 32] };
        let note = cp.sign(&sk);
        assert_eq!(note, GOLDEN_NOTE);
        // Rebuild the signature line independently.
        let text = format!("{ORIGIN}\n42\n{}\n", STANDARD.encode([0x42u8; 32]));
        let sig = sk.sign(text.as_bytes()).to_bytes();
        let want = format!("{text}\n{}", line(ORIGIN, digest[..4].try_into().expect("4"), &sig));
        assert_eq!(note, want);
        assert_eq!(open(GOLDEN_NOTE, ORIGIN, &vk), Ok(cp));
    }

    // Cross-checked once with an independent implementation (Python's
    // `cryptography` Ed25519 and `hashlib`), which produced the same bytes.
    const GOLDEN_PUBLIC_KEY: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
    const GOLDEN_KEY_ID: &str = "c9b7e29b";
    const GOLDEN_NOTE: &str = "meent.example.org/amsterdam\n42\n\
        QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n\n\
        \u{2014} meent.example.org/amsterdam \
        ybfim+kGKCgsahyRuxGA7dEDUV/pSbmW76Y151O1tNMMIDlVV8VDkbLP2e8ZHkYXxNeG0VYE93wvtzba87pG/6/xZwk=\n";

    /// The signed note example of golang.org/x/mod/sumdb/note (note.go doc
    /// comment and note_test.go), which C2SP signed-note is derived from:
    /// key name "PeterNeumann", key id c74f20a3.
    #[test]
    fn go_sumdb_note_vector() {
        let skey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let want = format!(
            "{text}\n\u{2014} PeterNeumann \
             x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        let decoded = STANDARD.decode(skey).expect("base64");
        assert_eq!(decoded[0], ED25519_TYPE);
        let seed: [u8; 32] = decoded[1..].try_into().expect("32-byte seed");
        let sk = SigningKey::from_bytes(&seed);
        let vk = sk.verifying_key();
        assert_eq!(verifier_key("PeterNeumann", &vk), vkey);
        assert_eq!(hex::encode(key_id("PeterNeumann", &vk)), "c74f20a3");
        assert_eq!(sign_note(text, "PeterNeumann", &sk), want);
        let (got_text, sigs) = parse_note(&want).expect("parses");
        assert_eq!(got_text, text);
        assert_eq!(verify_signatures(got_text, &sigs, "PeterNeumann", &vk), Ok(()));
        let altered = want.replace("cryptography", "cryptographY");
        let (t, s) = parse_note(&altered).expect("parses");
        assert!(matches!(verify_signatures(t, &s, "PeterNeumann", &vk), Err(CheckpointError::InvalidSignature { .. })));
        // Not a checkpoint: two body lines.
        assert_eq!(parse_unverified(&want), Err(CheckpointError::TooFewLines { got: 2 }));
    }

    /// The examples of the C2SP specs themselves (no public keys are given
    /// there, so only their syntax is checked).
    #[test]
    fn c2sp_examples_parse() {
        let checkpoint = "example.com/behind-the-sofa\n20852163\n\
            CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
            \u{2014} example.com/behind-the-sofa \
            Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        let (cp, sigs) = parse_unverified(checkpoint).expect("parses");
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20852163);
        assert_eq!(STANDARD.encode(cp.root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0].name, "example.com/behind-the-sofa");
        assert_eq!(hex::encode(sigs[0].key_id), "033de0ae");
        assert_eq!(sigs[0].signature.len(), 64);

        // signed-note's example: the text has an empty line of its own and
        // is separated from the signatures by the last one.
        let poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n\
            ed è subito sera.\n\n\
            \u{2014} quasimodo.example/salvatore \
            NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
        let (text, sigs) = parse_note(poem).expect("parses");
        assert!(text.ends_with("sole:\n\ned è subito sera.\n"));
        assert_eq!(sigs[0].name, "quasimodo.example/salvatore");
        assert_eq!(parse_unverified(poem), Err(CheckpointError::EmptyLine { line: 3 }));
    }

    #[test]
    fn tampering_is_refused() {
        let sk = key(1);
        let vk = sk.verifying_key();
        let note = sample().sign(&sk);
        let root_b64 = STANDARD.encode(sample().root);

        let bigger = note.replacen("\n42\n", "\n43\n", 1);
        assert!(matches!(open(&bigger, ORIGIN, &vk), Err(CheckpointError::InvalidSignature { .. })));

        let mut other_root = sample().root;
        other_root[31] ^= 1;
        let rerooted = note.replacen(&root_b64, &STANDARD.encode(other_root), 1);
        assert!(matches!(open(&rerooted, ORIGIN, &vk), Err(CheckpointError::InvalidSignature { .. })));

        // Another origin in the body only: refused as the wrong log.
        let moved = note.replacen(ORIGIN, "meent.example.org/utrecht", 1);
        assert_eq!(
            open(&moved, ORIGIN, &vk),
            Err(CheckpointError::WrongOrigin {
                expected: ORIGIN.to_owned(),
                got: "meent.example.org/utrecht".to_owned(),
            })
        );
        // The right note opened as another log.
        assert!(matches!(open(&note, "meent.example.org/utrecht", &vk), Err(CheckpointError::WrongOrigin { .. })));
        // Both origin and key name changed: no signature by our key.
        let renamed = note.replace(ORIGIN, "meent.example.org/utrecht");
        assert!(matches!(
            open(&renamed, "meent.example.org/utrecht", &vk),
            Err(CheckpointError::NoSignatureForKey { .. })
        ));

        // Every bit of the signature, one at a time.
        let (text, sigs) = parse_note(&note).expect("parses");
        for bit in 0..512 {
            let mut sig = sigs[0].signature.clone();
            sig[bit / 8] ^= 1 << (bit % 8);
            let bad = format!("{text}\n{}", line(ORIGIN, sigs[0].key_id, &sig));
            assert!(matches!(open(&bad, ORIGIN, &vk), Err(CheckpointError::InvalidSignature { .. })), "bit {bit}");
        }
        // Truncated or extended signature from our key.
        for sig in [&sigs[0].signature[..63], &[&sigs[0].signature[..], &[0]].concat()[..]] {
            let bad = format!("{text}\n{}", line(ORIGIN, sigs[0].key_id, sig));
            assert!(matches!(open(&bad, ORIGIN, &vk), Err(CheckpointError::InvalidSignature { .. })));
        }
    }

    #[test]
    fn wrong_key_is_refused() {
        let note = sample().sign(&key(1));
        let other = key(2).verifying_key();
        assert_eq!(
            open(&note, ORIGIN, &other),
            Err(CheckpointError::NoSignatureForKey {
                name: ORIGIN.to_owned(),
                key_id: hex::encode(key_id(ORIGIN, &other)),
            })
        );
        assert_eq!(
            open(&note, ORIGIN, &other).unwrap_err().to_string(),
            format!("note has no signature by key {ORIGIN} with id {}", hex::encode(key_id(ORIGIN, &other)))
        );
    }

    #[test]
    fn other_signatures_are_ignored() {
        let ours = key(1);
        let vk = ours.verifying_key();
        let note = sample().sign(&ours);
        let text = sample().body_text();
        let (_, sigs) = parse_note(&note).expect("parses");
        let our_line = line(ORIGIN, sigs[0].key_id, &sigs[0].signature);
        // A witness cosignature, a line with our name but another key id, a
        // line with our key id but another name: all ignored, before or
        // after ours.
        let witness = sign_note(&text, "witness.example/w1", &key(3));
        let witness_line = &witness[text.len() + 1..];
        let mut bogus_sig = sigs[0].signature.clone();
        bogus_sig[0] ^= 1;
        let same_name = line(ORIGIN, [0, 0, 0, 0], &bogus_sig);
        let same_id = line("someone.else/log", sigs[0].key_id, &bogus_sig);
        let odd_type = line("pq.example/log", [1, 2, 3, 4], &[9u8; 2420]);
        let many = format!("{text}\n{witness_line}{same_name}{same_id}{odd_type}{our_line}");
        assert_eq!(open(&many, ORIGIN, &vk), Ok(sample()));
        let first = format!("{text}\n{our_line}{witness_line}{same_name}");
        assert_eq!(open(&first, ORIGIN, &vk), Ok(sample()));
        // Only the others: refused.
        let without = format!("{text}\n{witness_line}{same_name}{same_id}");
        assert!(matches!(open(&without, ORIGIN, &vk), Err(CheckpointError::NoSignatureForKey { .. })));
        // A second line by our key that fails poisons the note.
        let bad_ours = line(ORIGIN, sigs[0].key_id, &bogus_sig);
        let mixed = format!("{text}\n{our_line}{bad_ours}");
        assert!(matches!(open(&mixed, ORIGIN, &vk), Err(CheckpointError::InvalidSignature { .. })));
        // 16 other signatures plus ours are accepted, as C2SP requires;
        // more than MAX_SIGNATURES lines are not.
        let sixteen: String = (0..16).map(|i| line(&format!("w{i}.example"), [i; 4], &[i; 64])).collect();
        let busy = format!("{text}\n{sixteen}{our_line}");
        assert_eq!(open(&busy, ORIGIN, &vk), Ok(sample()));
        let crowd: String =
            (0..MAX_SIGNATURES as u8).map(|i| line(&format!("w{i}.example"), [i; 4], &[i; 64])).collect();
        let crowded = format!("{text}\n{crowd}{our_line}");
        assert_eq!(
            open(&crowded, ORIGIN, &vk),
            Err(CheckpointError::TooManySignatures { count: MAX_SIGNATURES + 1, max: MAX_SIGNATURES })
        );
    }

    #[test]
    fn extension_lines_are_accepted_and_ignored() {
        let sk = key(1);
        let text = format!("{}extension one\nsecond: extension\n", sample().body_text());
        let note = sign_note(&text, ORIGIN, &sk);
        assert_eq!(open(&note, ORIGIN, &sk.verifying_key()), Ok(sample()));
        // Dropping an extension line breaks the signature.
        let dropped = note.replacen("extension one\n", "", 1);
        assert!(open(&dropped, ORIGIN, &sk.verifying_key()).is_err());
        // Extension lines must not be empty.
        let hollow = sign_note(&format!("{}ext\n\nmore\n", sample().body_text()), ORIGIN, &sk);
        assert_eq!(open(&hollow, ORIGIN, &sk.verifying_key()), Err(CheckpointError::EmptyLine { line: 5 }));
    }

    /// Signs `body` (the text lines, each ending in "\n") and opens it.
    fn open_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let sk = key(1);
        open(&sign_note(body, ORIGIN, &sk), ORIGIN, &sk.verifying_key())
    }

    #[test]
    fn body_syntax_is_strict() {
        let root = STANDARD.encode([7u8; 32]);
        let ok = |size: &str| open_body(&format!("{ORIGIN}\n{size}\n{root}\n"));
        assert_eq!(ok("0").map(|c| c.size), Ok(0));
        assert_eq!(ok("10").map(|c| c.size), Ok(10));
        assert_eq!(ok("18446744073709551615").map(|c| c.size), Ok(u64::MAX));
        for bad in ["042", "00", "+42", "-1", "4 2", " 42", "42 ", "4_2", "0x2a", "18446744073709551616", "٤٢", "42.0"]
        {
            assert_eq!(ok(bad), Err(CheckpointError::BadSize { text: bad.to_owned() }), "{bad:?}");
        }
        let body = |root: &str| open_body(&format!("{ORIGIN}\n42\n{root}\n"));
        assert_eq!(body(&STANDARD.encode([7u8; 31])), Err(CheckpointError::BadRootLength { got: 31 }));
        assert_eq!(body(&STANDARD.encode([7u8; 33])), Err(CheckpointError::BadRootLength { got: 33 }));
        let unpadded = root.trim_end_matches('=').to_owned();
        assert_eq!(body(&unpadded), Err(CheckpointError::BadRootBase64));
        let url_safe = STANDARD.encode([0xfb; 32]).replace('+', "-").replace('/', "_");
        assert_eq!(body(&url_safe), Err(CheckpointError::BadRootBase64));
        assert_eq!(body("not base64!"), Err(CheckpointError::BadRootBase64));
        // Non-canonical trailing bits: 'B' instead of 'A' before the padding.
        let mut sloppy = STANDARD.encode([0u8; 32]);
        sloppy.replace_range(42..43, "B");
        assert_eq!(body(&sloppy), Err(CheckpointError::BadRootBase64));

        assert_eq!(open_body(&format!("{ORIGIN}\n42\n")), Err(CheckpointError::TooFewLines { got: 2 }));
        assert_eq!(open_body(&format!("{ORIGIN}\n\n{root}\n")), Err(CheckpointError::EmptyLine { line: 2 }));
        assert_eq!(open_body(&format!("\n42\n{root}\n")), Err(CheckpointError::EmptyLine { line: 1 }));
    }

    #[test]
    fn note_syntax_is_strict() {
        let sk = key(1);
        let vk = sk.verifying_key();
        let note = sample().sign(&sk);
        let text = sample().body_text();
        let sig_line = &note[text.len() + 1..];

        assert_eq!(
            open(&format!("{text}{sig_line}"), ORIGIN, &vk),
            // Without the blank line the signature line is a body line and
            // there is no separator at all.
            Err(CheckpointError::MissingBlankLine)
        );
        assert_eq!(open(note.trim_end_matches('\n'), ORIGIN, &vk), Err(CheckpointError::MissingFinalNewline));
        assert_eq!(open(&format!("{text}\n"), ORIGIN, &vk), Err(CheckpointError::NoSignatures));
        assert_eq!(open("", ORIGIN, &vk), Err(CheckpointError::MissingFinalNewline));
        assert_eq!(open("\n", ORIGIN, &vk), Err(CheckpointError::MissingBlankLine));
        assert_eq!(open("\n\n", ORIGIN, &vk), Err(CheckpointError::NoSignatures));
        assert!(open(&format!("{note}\n"), ORIGIN, &vk).is_err());
        assert!(open(&format!("{text}\n\n{sig_line}"), ORIGIN, &vk).is_err());
        assert_eq!(
            open(&note.replace('\n', "\r\n"), ORIGIN, &vk),
            Err(CheckpointError::ControlCharacter { code: 0x0d, offset: ORIGIN.len() })
        );
        assert!(matches!(
            open(&note.replacen("42", "4\t2", 1), ORIGIN, &vk),
            Err(CheckpointError::ControlCharacter { code: 9, .. })
        ));
        let huge = format!("{}{note}", "x".repeat(MAX_NOTE_LEN));
        assert!(matches!(open(&huge, ORIGIN, &vk), Err(CheckpointError::NoteTooLarge { .. })));

        // Malformed signature lines (from any key) make the note malformed.
        let encoded = sig_line.trim_end_matches('\n').rsplit(' ').next().expect("base64").to_owned();
        let cases = [
            format!("- {ORIGIN} {encoded}\n"),
            format!("\u{2014}{ORIGIN} {encoded}\n"),
            format!("\u{2014} {ORIGIN}{encoded}\n"),
            format!("\u{2014}  {encoded}\n"),
            format!("\u{2014} {ORIGIN}  {encoded}\n"),
            format!("\u{2014} {ORIGIN} {encoded} \n"),
            format!("\u{2014} a+b {encoded}\n"),
            format!("\u{2014} {ORIGIN}\u{a0}x {encoded}\n"),
            format!("\u{2014} {ORIGIN} {}\n", &encoded[..encoded.len() - 1]),
            format!("\u{2014} {ORIGIN} {}\n", STANDARD.encode([1, 2, 3, 4])),
            format!("\u{2014} {ORIGIN} \n"),
        ];
        for case in &cases {
            let bad = format!("{text}\n{sig_line}{case}");
            assert!(
                matches!(open(&bad, ORIGIN, &vk), Err(CheckpointError::MalformedSignatureLine { line: 2, .. })),
                "{case:?} gave {:?}",
                open(&bad, ORIGIN, &vk)
            );
        }
    }

    #[test]
    fn origins() {
        assert_eq!(check_origin(ORIGIN), Ok(()));
        for bad in ["", "a b", "a+b", "a\u{3000}b", "a\u{7f}b", "a\nb"] {
            assert!(check_origin(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_origin("").unwrap_err().to_string(), "origin is not a valid key name: the key name is empty");
    }

    fn valid_note() -> String {
        sample().sign(&key(1))
    }

    proptest! {
        #[test]
        fn parsing_never_panics_on_any_string(s in ".*") {
            let vk = key(1).verifying_key();
            let _ = parse_unverified(&s);
            prop_assert!(open(&s, ORIGIN, &vk).is_err());
        }

        #[test]
        fn parsing_never_panics_on_note_like_strings(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("\n".to_owned()),
                    Just("\u{2014} ".to_owned()),
                    Just("\u{2014}".to_owned()),
                    Just(" ".to_owned()),
                    Just("+".to_owned()),
                    Just(ORIGIN.to_owned()),
                    "[0-9]{1,25}",
                    "[A-Za-z0-9+/]{0,92}={0,2}",
                ],
                0..24,
            )
        ) {
            let s: String = parts.concat();
            let vk = key(1).verifying_key();
            let _ = parse_unverified(&s);
            prop_assert!(open(&s, ORIGIN, &vk).is_err());
        }

        #[test]
        fn any_edit_of_a_valid_note_is_refused(
            at in any::<prop::sample::Index>(),
            edit in 0u8..3,
            c in prop_oneof![Just('\n'), Just(' '), Just('A'), Just('0'), Just('='), any::<char>()],
        ) {
            let note = valid_note();
            let mut chars: Vec<char> = note.chars().collect();
            let i = at.index(chars.len());
            match edit {
                0 => { chars.remove(i); }
                1 => chars.insert(i, c),
                _ => chars[i] = c,
            }
            let edited: String = chars.into_iter().collect();
            let vk = key(1).verifying_key();
            let result = open(&edited, ORIGIN, &vk);
            prop_assert!(result.is_err() || edited == note, "{:?} opened", edited);
        }

        #[test]
        fn random_checkpoints_round_trip(
            origin in "[a-z0-9./-]{1,40}",
            size in any::<u64>(),
            root in any::<[u8; 32]>(),
            seed in any::<[u8; 32]>(),
        ) {
            let sk = SigningKey::from_bytes(&seed);
            let cp = Checkpoint { origin: origin.clone(), size, root };
            prop_assert_eq!(open(&cp.sign(&sk), &origin, &sk.verifying_key()), Ok(cp));
        }
    }
}
