//! Witnesses: C2SP `tlog-cosignature` (cosignature/v1, Ed25519) and the
//! `add-checkpoint` call of C2SP `tlog-witness` (docs/WITNESS.md).
//!
//! A **witness** (here: a collective) keeps, per log it follows, the size and
//! root hash of the latest checkpoint it cosigned. It cosigns a new
//! checkpoint only if the log's key signed it and a consistency proof links
//! it to that state; so two checkpoints of one size with different roots (a
//! split view) never both carry its cosignature.
//!
//! * A **cosignature** is a signed-note signature line
//!   `— <witness name> base64(key id || timestamp || signature)`: the key id
//!   is `SHA-256(name || 0x0A || 0x04 || public key)[:4]`
//!   ([`cosignature_key_id`]), the timestamp a big-endian `u64` of POSIX
//!   seconds, and the signature Ed25519 over
//!   `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note
//!   text ([`signed_message`]).
//! * An **add-checkpoint request** ([`AddCheckpoint`]) is `old <size>\n`, up
//!   to [`PROOF_LINES_MAX`] base64 proof hashes one per line, a blank line,
//!   then the signed checkpoint.
//! * The witness's **decision** ([`Witness::decide`]) follows tlog-witness:
//!   404 for an unknown origin, 403 without a valid signature of the log's
//!   key, 400 for an old size above the checkpoint's, 409 (with the size it
//!   knows) for an old size other than the one it knows, 422 for a proof that
//!   does not verify (and for a checkpoint of the size it knows with another
//!   root). Only an accepted request changes the state ([`Accepted`]), and
//!   the caller must make that durable before it answers.
//! * Verifier keys (`--log`, `--witness`) are C2SP vkeys
//!   `<name>+<hex key id>+<base64(type || public key)>` (type 0x01 for a
//!   log's key, 0x04 for a witness's) or, in this repository's notation,
//!   `<name>+<64 hex digits of the public key>` ([`parse_key`]).
//! * [`check_quorum`] counts the configured witnesses whose cosignature on a
//!   note verifies; [`Cosigned`] holds the cosignatures a log has gathered for
//!   its latest checkpoint and adds them to the note it serves.

use std::collections::BTreeMap;
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::checkpoint::{self, Checkpoint, CheckpointError, SignatureLine, MAX_NOTE_LEN};
use crate::merkle::{self, Hash};

/// The C2SP `tlog-cosignature` signature type of Ed25519 cosignatures
/// (cosignature/v1), used in their key ids and vkeys.
pub const COSIGNATURE_TYPE: u8 = 0x04;

/// The C2SP `signed-note` signature type of a log's Ed25519 key.
pub const LOG_KEY_TYPE: u8 = 0x01;

/// The most consistency proof lines an add-checkpoint request may carry.
pub const PROOF_LINES_MAX: usize = 63;

/// The largest add-checkpoint request body accepted, in bytes: the old size
/// line, 63 proof lines and the largest note.
pub const REQUEST_LEN_MAX: usize = 32 + PROOF_LINES_MAX * 45 + 1 + MAX_NOTE_LEN;

/// The `Content-Type` of a 409 answer (its body is the known size and `\n`).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The latest timestamp a cosignature may carry (2^63 - 1).
const TIMESTAMP_MAX: u64 = i64::MAX as u64;

/// The start of every signature line: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The key id of an Ed25519 cosigner `name`:
/// `SHA-256(name || 0x0A || 0x04 || public key)[:4]`.
pub fn cosignature_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', COSIGNATURE_TYPE]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The message a cosignature/v1 signs: `cosignature/v1\ntime <t>\n` and the
/// checkpoint's note text (ending in `\n`, without the signature lines).
pub fn signed_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A cosignature line (ending in `\n`) by `key` named `name` over the note
/// text `text`, made at `timestamp` (POSIX seconds).
pub fn cosign(text: &str, name: &str, key: &SigningKey, timestamp: u64) -> String {
    let signature = key.sign(signed_message(text, timestamp).as_bytes());
    let mut blob = Vec::with_capacity(4 + 8 + 64);
    blob.extend_from_slice(&cosignature_key_id(name, &key.verifying_key()));
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&signature.to_bytes());
    format!("{SIGNATURE_PREFIX}{name} {}\n", STANDARD.encode(blob))
}

/// Why a key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{key:?} is not a key: {reason}; give NAME+KEYID+BASE64 (a C2SP vkey) or NAME+HEX (64 hex digits)")]
pub struct KeyError {
    /// The string (at most 200 characters of it).
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A named public key: a log's (type 0x01) or a witness's (type 0x04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedKey {
    /// The key name: a log's origin, or a witness's name.
    pub name: String,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
}

impl NamedKey {
    /// The C2SP vkey of this key as a witness's cosigning key:
    /// `<name>+<hex key id>+<base64(0x04 || key)>`.
    pub fn witness_vkey(&self) -> String {
        let mut material = vec![COSIGNATURE_TYPE];
        material.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.key_id()), STANDARD.encode(material))
    }

    /// The key id of this key as a witness's cosigning key.
    pub fn key_id(&self) -> [u8; 4] {
        cosignature_key_id(&self.name, &self.key)
    }
}

/// Parses `<name>+<hex key id>+<base64(key_type || key)>` (a C2SP vkey, whose
/// key id must be the one of `key_type`) or `<name>+<hex public key>`.
/// `key_type` is [`LOG_KEY_TYPE`] for a log, [`COSIGNATURE_TYPE`] for a
/// witness.
pub fn parse_key(s: &str, key_type: u8) -> Result<NamedKey, KeyError> {
    let fail = |reason: &str| KeyError { key: s.chars().take(200).collect(), reason: reason.to_owned() };
    let (name, rest) = s.split_once('+').ok_or_else(|| fail("it has no '+' after the name"))?;
    checkpoint::check_origin(name).map_err(|e| fail(&e.to_string()))?;
    let key = match rest.split_once('+') {
        None => {
            let bytes: [u8; 32] = hex::decode(rest)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| fail("the key is not 64 hex digits"))?;
            VerifyingKey::from_bytes(&bytes).map_err(|_| fail("the key is not an Ed25519 public key"))?
        }
        Some((id, material)) => {
            let id: [u8; 4] = hex::decode(id)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| fail("the key id is not 8 hex digits"))?;
            let material = STANDARD.decode(material).map_err(|_| fail("the key is not base64"))?;
            let Some((&ty, bytes)) = material.split_first() else { return Err(fail("the key is empty")) };
            if ty != key_type {
                return Err(fail(&format!("its signature type is {ty:#04x}, expected {key_type:#04x}")));
            }
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| fail("the key is not 32 bytes"))?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|_| fail("the key is not an Ed25519 public key"))?;
            let want =
                if key_type == LOG_KEY_TYPE { checkpoint::key_id(name, &key) } else { cosignature_key_id(name, &key) };
            if id != want {
                return Err(fail(&format!("its key id {} should be {}", hex::encode(id), hex::encode(want))));
            }
            key
        }
    };
    Ok(NamedKey { name: name.to_owned(), key })
}

/// Why a cosignature line does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CosignatureError {
    /// Not 8 bytes of timestamp and 64 of signature.
    #[error("cosignature by {name} is {len} bytes after its key id, expected 72")]
    BadLength {
        /// The witness.
        name: String,
        /// The length found.
        len: usize,
    },
    /// A timestamp of 0 or above 2^63 - 1.
    #[error("cosignature by {name} has the timestamp {timestamp}, which is 0 or above 2^63-1")]
    BadTimestamp {
        /// The witness.
        name: String,
        /// The timestamp.
        timestamp: u64,
    },
    /// The signature does not verify.
    #[error("cosignature by {name} does not verify")]
    Invalid {
        /// The witness.
        name: String,
    },
}

/// Checks one signature line that carries `witness`'s name and key id: a
/// cosignature/v1 over `text`. Returns its timestamp.
pub fn verify_cosignature(text: &str, line: &SignatureLine, witness: &NamedKey) -> Result<u64, CosignatureError> {
    let name = witness.name.clone();
    if line.signature.len() != 72 {
        return Err(CosignatureError::BadLength { name, len: line.signature.len() });
    }
    let timestamp = u64::from_be_bytes(line.signature[..8].try_into().expect("8 bytes"));
    if timestamp == 0 || timestamp > TIMESTAMP_MAX {
        return Err(CosignatureError::BadTimestamp { name, timestamp });
    }
    let sig =
        Signature::from_slice(&line.signature[8..]).map_err(|_| CosignatureError::Invalid { name: name.clone() })?;
    witness
        .key
        .verify_strict(signed_message(text, timestamp).as_bytes(), &sig)
        .map_err(|_| CosignatureError::Invalid { name })?;
    Ok(timestamp)
}

/// Why a note does not carry the cosignatures a client requires.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuorumError {
    /// The note is not a signed note.
    #[error("the checkpoint is malformed: {0}")]
    Note(#[from] CheckpointError),
    /// A line with a configured witness's name and key id does not verify:
    /// the note is malformed (C2SP signed-note).
    #[error(transparent)]
    Cosignature(#[from] CosignatureError),
    /// Fewer valid cosignatures than required.
    #[error(
        "the checkpoint has valid cosignatures from {got} of the {required} witnesses required \
         (cosigned by: {cosigned}; not by: {missing})"
    )]
    TooFew {
        /// Witnesses that cosigned.
        got: usize,
        /// The quorum.
        required: usize,
        /// Their names, comma-separated ("none" if none).
        cosigned: String,
        /// The configured witnesses that did not, comma-separated.
        missing: String,
    },
}

/// The witnesses, among `witnesses`, whose cosignature on `note` verifies,
/// with the timestamp of each, in the order given. Lines of other keys are
/// ignored; a line with a configured witness's name and key id that does not
/// verify is an error.
pub fn cosigners(note: &str, witnesses: &[NamedKey]) -> Result<Vec<(String, u64)>, QuorumError> {
    let (text, lines) = checkpoint::split_note(note)?;
    let mut found = Vec::new();
    for w in witnesses {
        let id = w.key_id();
        let mut newest = None;
        for line in lines.iter().filter(|l| l.name == w.name && l.key_id == id) {
            let t = verify_cosignature(text, line, w)?;
            newest = newest.max(Some(t));
        }
        if let Some(t) = newest {
            found.push((w.name.clone(), t));
        }
    }
    Ok(found)
}

/// Checks that at least `quorum` of `witnesses` cosigned `note`; returns the
/// names of those that did.
pub fn check_quorum(note: &str, witnesses: &[NamedKey], quorum: usize) -> Result<Vec<String>, QuorumError> {
    let found: Vec<String> = cosigners(note, witnesses)?.into_iter().map(|(n, _)| n).collect();
    if found.len() >= quorum {
        return Ok(found);
    }
    let list = |names: Vec<&str>| if names.is_empty() { "none".to_owned() } else { names.join(", ") };
    let missing = witnesses.iter().map(|w| w.name.as_str()).filter(|n| !found.iter().any(|f| f == n)).collect();
    Err(QuorumError::TooFew {
        got: found.len(),
        required: quorum,
        cosigned: list(found.iter().map(String::as_str).collect()),
        missing: list(missing),
    })
}

/// Why an add-checkpoint request body is malformed (400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Longer than [`REQUEST_LEN_MAX`].
    #[error("the request is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Its length.
        len: usize,
        /// [`REQUEST_LEN_MAX`].
        max: usize,
    },
    /// The first line is not `old <canonical decimal>`.
    #[error("the first line must be \"old <size>\" with the size in decimal without leading zeros")]
    BadOldSize,
    /// A proof line is not the base64 of 32 bytes.
    #[error("consistency proof line {line} is not the base64 of a 32-byte hash")]
    BadProofLine {
        /// 1-based position among the proof lines.
        line: usize,
    },
    /// More than [`PROOF_LINES_MAX`] proof lines.
    #[error("more than {PROOF_LINES_MAX} consistency proof lines")]
    TooManyProofLines,
    /// No blank line after the proof.
    #[error("no blank line between the consistency proof and the checkpoint")]
    MissingBlankLine,
}

/// An add-checkpoint request (C2SP tlog-witness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the log believes the witness knows.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint (it may carry other signatures).
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// Parses a request body. The checkpoint itself is checked by
    /// [`Witness::decide`].
    pub fn parse(body: &str) -> Result<AddCheckpoint, RequestError> {
        if body.len() > REQUEST_LEN_MAX {
            return Err(RequestError::TooLarge { len: body.len(), max: REQUEST_LEN_MAX });
        }
        let (first, mut rest) = body.split_once('\n').ok_or(RequestError::BadOldSize)?;
        let old_size = first.strip_prefix("old ").and_then(parse_size).ok_or(RequestError::BadOldSize)?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest.split_once('\n').ok_or(RequestError::MissingBlankLine)?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == PROOF_LINES_MAX {
                return Err(RequestError::TooManyProofLines);
            }
            let hash: Hash = STANDARD
                .decode(line)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(RequestError::BadProofLine { line: proof.len() + 1 })?;
            proof.push(hash);
        }
        Ok(AddCheckpoint { old_size, proof, checkpoint: rest.to_owned() })
    }

    /// The request body.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for h in &self.proof {
            body.push_str(&STANDARD.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }
}

/// ASCII decimal without sign or leading zeros, within `u64`.
fn parse_size(s: &str) -> Option<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// What a witness knows of one log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    /// Its size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
}

/// A witness's state: per log origin, the latest checkpoint it cosigned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitnessState {
    /// By origin.
    pub logs: BTreeMap<String, LogState>,
}

/// The state file's format name.
const STATE_FORMAT: &str = "meent-witness-state/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    logs: Vec<StateLog>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateLog {
    origin: String,
    size: u64,
    root: String,
}

impl WitnessState {
    /// The state file's bytes (JSON, one log per origin).
    pub fn to_bytes(&self) -> Vec<u8> {
        let logs = self
            .logs
            .iter()
            .map(|(o, s)| StateLog { origin: o.clone(), size: s.size, root: STANDARD.encode(s.root) })
            .collect();
        let mut out = serde_json::to_vec_pretty(&StateFile { format: STATE_FORMAT.to_owned(), logs })
            .expect("the state serializes");
        out.push(b'\n');
        out
    }

    /// Reads a state file; the error says what is wrong with it.
    pub fn from_bytes(bytes: &[u8]) -> Result<WitnessState, String> {
        let file: StateFile = serde_json::from_slice(bytes).map_err(|e| format!("not a witness state file: {e}"))?;
        if file.format != STATE_FORMAT {
            return Err(format!("format is {:?}, expected {STATE_FORMAT:?}", file.format));
        }
        let mut logs = BTreeMap::new();
        for l in file.logs {
            let root: Hash = STANDARD
                .decode(&l.root)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("log {:?}: root is not the base64 of 32 bytes", l.origin))?;
            if l.size == 0 && root != merkle::empty_root() {
                return Err(format!("log {:?}: size 0 with a root other than the empty tree's", l.origin));
            }
            if logs.insert(l.origin.clone(), LogState { size: l.size, root }).is_some() {
                return Err(format!("log {:?} appears twice", l.origin));
            }
        }
        Ok(WitnessState { logs })
    }
}

/// Why a witness refuses an add-checkpoint request, each with its HTTP
/// status ([`Refusal::status`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// 400: the request or the checkpoint is malformed, or the old size is
    /// above the checkpoint's.
    #[error("{0}")]
    BadRequest(String),
    /// 404: the witness does not follow this log.
    #[error("this witness does not follow the log {0:?}")]
    UnknownLog(String),
    /// 403: no valid signature by the log's key.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    BadSignature(CheckpointError),
    /// 409: the old size is not the size the witness knows.
    #[error("the latest checkpoint this witness cosigned for the log has size {known}, not {old}")]
    Conflict {
        /// The size the request gave.
        old: u64,
        /// The size the witness knows.
        known: u64,
    },
    /// 422: the checkpoint is not consistent with what the witness knows.
    #[error("the checkpoint is not consistent with the one of size {known} this witness cosigned: {reason}")]
    Inconsistent {
        /// The size the witness knows.
        known: u64,
        /// Why.
        reason: String,
    },
}

impl Refusal {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::BadSignature(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::Conflict { .. } => 409,
            Refusal::Inconsistent { .. } => 422,
        }
    }
}

/// An accepted checkpoint: the witness's new state for its log, to be made
/// durable before the cosignature is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its note text, which the cosignature signs.
    pub text: String,
}

impl Accepted {
    /// The state for the log after this checkpoint.
    pub fn state(&self) -> LogState {
        LogState { size: self.checkpoint.size, root: self.checkpoint.root }
    }
}

/// A witness: its name and key, and the logs it follows (origin → key).
pub struct Witness {
    name: String,
    key: SigningKey,
    logs: BTreeMap<String, VerifyingKey>,
}

impl Witness {
    /// A witness named `name` (a valid key name) signing with `key`, following
    /// `logs` (one key per origin).
    pub fn new(name: &str, key: SigningKey, logs: &[NamedKey]) -> Result<Witness, String> {
        checkpoint::check_origin(name).map_err(|e| format!("witness name {name:?}: {e}"))?;
        let mut map = BTreeMap::new();
        for l in logs {
            if map.insert(l.name.clone(), l.key).is_some() {
                return Err(format!("log {:?} is given twice", l.name));
            }
        }
        Ok(Witness { name: name.to_owned(), key, logs: map })
    }

    /// Its public identity.
    pub fn public(&self) -> NamedKey {
        NamedKey { name: self.name.clone(), key: self.key.verifying_key() }
    }

    /// Decides on `req` given `state`, per C2SP tlog-witness. Changes
    /// nothing: on acceptance the caller stores [`Accepted::state`] durably,
    /// then answers with [`Witness::cosign`].
    pub fn decide(&self, state: &WitnessState, req: &AddCheckpoint) -> Result<Accepted, Refusal> {
        let (text, _) = checkpoint::split_note(&req.checkpoint).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let (cp, _) = checkpoint::parse_unverified(&req.checkpoint).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let log_key =
            self.logs.get(&cp.origin).ok_or_else(|| Refusal::UnknownLog(cp.origin.chars().take(200).collect()))?;
        checkpoint::open(&req.checkpoint, &cp.origin, log_key).map_err(Refusal::BadSignature)?;
        if req.old_size > cp.size {
            return Err(Refusal::BadRequest(format!(
                "the old size {} is above the checkpoint's size {}",
                req.old_size, cp.size
            )));
        }
        let known = state.logs.get(&cp.origin).copied().unwrap_or(LogState { size: 0, root: merkle::empty_root() });
        if req.old_size != known.size {
            return Err(Refusal::Conflict { old: req.old_size, known: known.size });
        }
        merkle::verify_consistency(known.size, cp.size, &req.proof, &known.root, &cp.root)
            .map_err(|e| Refusal::Inconsistent { known: known.size, reason: e.to_string() })?;
        Ok(Accepted { checkpoint: cp, text: text.to_owned() })
    }

    /// The cosignature line of an accepted checkpoint, at `timestamp` (POSIX
    /// seconds, at least 1).
    pub fn cosign(&self, accepted: &Accepted, timestamp: u64) -> String {
        cosign(&accepted.text, &self.name, &self.key, timestamp.clamp(1, TIMESTAMP_MAX))
    }
}

/// The cosignatures a log has gathered for its latest checkpoint, added to
/// the note it serves. Cosignatures of an older checkpoint are dropped when
/// one of a larger one arrives, never attached to another note, and one
/// that arrives late for a smaller checkpoint is ignored. It also names the
/// witnesses the log asks, and how many of them it wants: the public site
/// shows them and the reader's browser checks their cosignatures.
#[derive(Debug, Default)]
pub struct Cosigned {
    /// The checkpoint's size and note text and, per witness name, its
    /// cosignature line.
    inner: RwLock<(u64, String, BTreeMap<String, String>)>,
    /// The witnesses asked, and the quorum.
    asked: RwLock<(Vec<NamedKey>, usize)>,
}

impl Cosigned {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `line` (a signature line ending in `\n`), `witness`'s
    /// cosignature on the note text `text` of a checkpoint of `size`, in
    /// place of its earlier one. A cosignature of a larger checkpoint drops
    /// what was held; one of a smaller checkpoint is ignored.
    pub fn add(&self, text: &str, size: u64, witness: &str, line: &str) {
        let mut g = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if g.1 != text {
            if size < g.0 {
                return;
            }
            *g = (size, text.to_owned(), BTreeMap::new());
        }
        g.2.insert(witness.to_owned(), line.to_owned());
    }

    /// `note` with the cosignature lines held for its text appended (`note`
    /// unchanged if it is not a note or none are held for it).
    pub fn attach(&self, note: &str) -> String {
        let lines = match checkpoint::split_note(note) {
            Ok((text, _)) => self.lines_for(text),
            Err(_) => Vec::new(),
        };
        let mut out = note.to_owned();
        for l in lines {
            out.push_str(&l);
        }
        out
    }

    /// The cosignature lines held for the note text `text`, by witness name.
    pub fn lines_for(&self, text: &str) -> Vec<String> {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if g.1 == text {
            g.2.values().cloned().collect()
        } else {
            Vec::new()
        }
    }

    /// Records the witnesses the log asks for cosignatures and the quorum.
    pub fn ask(&self, witnesses: Vec<NamedKey>, quorum: usize) {
        *self.asked.write().unwrap_or_else(|e| e.into_inner()) = (witnesses, quorum);
    }

    /// The witnesses the log asks, and the quorum (none, 0 if it asks none).
    pub fn asked(&self) -> (Vec<NamedKey>, usize) {
        self.asked.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The names of the witnesses whose cosignature is held for `text`.
    pub fn witnesses_for(&self, text: &str) -> Vec<String> {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if g.1 == text {
            g.2.keys().cloned().collect()
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
#[path = "witness_tests.rs"]
mod tests;
