//! Log records (SPEC §3.3): `{seq, received_at, entry}`; the Merkle leaf is `JCS(record)`.
//!
//! Reads (`GET /v1/entries…`) add the entry's `id` and the record's
//! `leaf_hash`; [`Record::from_value`] accepts them and checks them against the
//! record, so a client never trusts them blindly.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::{EntryError, VerifiedEntry};
use crate::ids::{EntryId, Seq};
use crate::jcs;
use crate::time::Timestamp;

/// Why stored or downloaded record bytes are not a valid record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Not JSON of the record's shape.
    #[error("not a record: {0}")]
    Malformed(String),
    /// Valid JSON but not in canonical (JCS) form, so its leaf hash is ambiguous.
    #[error("record bytes are not in canonical JSON form")]
    NotCanonical,
    /// The entry inside does not verify.
    #[error("entry: {0}")]
    Entry(#[from] EntryError),
}

/// Which record an action arrived in: the entry's id, its position and the
/// server's time (a vote, a payout approval).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordRef {
    /// The entry's id.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// When the ledger received it.
    pub received_at: Timestamp,
}

/// One record of the log.
#[derive(Debug, Clone)]
pub struct Record {
    /// Position, from 0.
    pub seq: Seq,
    /// The server's clock when it accepted the entry.
    pub received_at: Timestamp,
    /// The entry, verified.
    pub entry: VerifiedEntry,
}

impl Record {
    /// The record as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::json!({"seq": self.seq, "received_at": self.received_at.as_str(), "entry": self.entry.json})
    }

    /// `leaf_bytes = JCS(record)`: members in order `entry`, `received_at`, `seq`,
    /// built from the entry's canonical bytes (the timestamp needs no escaping).
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let c = self.entry.canonical();
        let mut out = Vec::with_capacity(c.len() + 80);
        out.extend_from_slice(b"{\"entry\":");
        out.extend_from_slice(c);
        out.extend_from_slice(b",\"received_at\":\"");
        out.extend_from_slice(self.received_at.as_str().as_bytes());
        out.extend_from_slice(b"\",\"seq\":");
        out.extend_from_slice(self.seq.to_string().as_bytes());
        out.push(b'}');
        out
    }

    /// Parse leaf bytes: canonical JSON of exactly `{entry, received_at, seq}`, and verify the entry's signature.
    pub fn from_leaf_bytes(bytes: &[u8]) -> Result<Record, RecordError> {
        let v = jcs::parse_strict(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
        let canon = jcs::to_vec(&v).map_err(|e| RecordError::Malformed(e.to_string()))?;
        if canon != bytes {
            return Err(RecordError::NotCanonical);
        }
        Self::from_value(v)
    }

    /// Parse a record given as JSON (e.g. a page of `GET /v1/entries`), verifying the entry.
    pub fn from_value(v: Value) -> Result<Record, RecordError> {
        let Value::Object(mut m) = v else {
            return Err(RecordError::Malformed("a record is a JSON object".into()));
        };
        let claimed_id = m.remove("id");
        let claimed_leaf = m.remove("leaf_hash");
        if m.len() != 3 {
            let keys: Vec<&String> = m.keys().collect();
            return Err(RecordError::Malformed(format!(
                "a record has the fields entry, received_at, seq (and, in reads, id and leaf_hash); found {keys:?}"
            )));
        }
        let seq = m
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| RecordError::Malformed("seq must be a non-negative integer".into()))?;
        let received_at: Timestamp = m
            .get("received_at")
            .and_then(Value::as_str)
            .ok_or_else(|| RecordError::Malformed("received_at must be a string".into()))?
            .parse()
            .map_err(|e: crate::time::TimeError| RecordError::Malformed(e.to_string()))?;
        let entry = m.remove("entry").ok_or_else(|| RecordError::Malformed("entry is missing".into()))?;
        let entry = VerifiedEntry::from_value(entry)?;
        let record = Record { seq, received_at, entry };
        if let Some(claimed) = claimed_id {
            if claimed.as_str() != Some(record.entry.id.to_hex().as_str()) {
                return Err(RecordError::Malformed(format!(
                    "record {seq}: id {claimed} is not the entry's id {}",
                    record.entry.id
                )));
            }
        }
        if let Some(claimed) = claimed_leaf {
            let leaf = hex::encode(crate::merkle::leaf_hash(&record.leaf_bytes()));
            if claimed.as_str() != Some(leaf.as_str()) {
                return Err(RecordError::Malformed(format!(
                    "record {seq}: leaf_hash {claimed} is not its leaf hash {leaf}"
                )));
            }
        }
        Ok(record)
    }

    /// The entry's id and the record's leaf hash, from its stored (leaf) bytes.
    /// The bytes are canonical, so the signing bytes are cut out of them
    /// directly (the entry's members sort as `…,"nonce":…,"sig":…,"v":1}`);
    /// bytes of any other shape are parsed.
    pub fn ids_of_leaf(bytes: &[u8]) -> Result<(EntryId, crate::merkle::Hash), RecordError> {
        let id = match signing_bytes_of_leaf(bytes) {
            Some(sb) => crate::entry::entry_id(&sb),
            None => {
                let v: Value = serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
                crate::entry::entry_id(&crate::entry::signing_bytes(&v["entry"])?)
            }
        };
        Ok((id, crate::merkle::leaf_hash(bytes)))
    }
}

/// The entry's signing bytes cut out of canonical leaf bytes
/// `{"entry":{…,"sig":"<128 hex>","v":1},"received_at":"…","seq":N}`, or `None`
/// when the bytes do not have that shape.
fn signing_bytes_of_leaf(bytes: &[u8]) -> Option<Vec<u8>> {
    let entry = bytes.strip_prefix(b"{\"entry\":")?;
    let end = find_last(entry, b",\"received_at\":\"")?;
    let entry = &entry[..end];
    let head = entry.strip_suffix(b"\",\"v\":1}")?;
    let (head, sig) = head.split_at(head.len().checked_sub(128)?);
    let head = head.strip_suffix(b",\"sig\":\"")?;
    if !sig.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(crate::entry::SIGNING_PREFIX.len() + head.len() + 8);
    out.extend_from_slice(crate::entry::SIGNING_PREFIX);
    out.extend_from_slice(head);
    out.extend_from_slice(b",\"v\":1}");
    Some(out)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_bytes_are_jcs_of_the_record() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let body = serde_json::json!({"id": "buurt-kas", "name": "Buurt \"Kas\" \u{1f}€", "member_kind": "collective", "legal_form": "informal"});
        let e =
            crate::entry::sign_entry(crate::entry::Kind::MemberApply, &"buurt-kas".parse().unwrap(), &key, &at, body)
                .unwrap();
        let r =
            Record { seq: 9_007_199_254_740_991, received_at: "2026-11-27T12:00:01.123Z".parse().unwrap(), entry: e };
        assert_eq!(r.leaf_bytes(), jcs::to_vec(&r.to_value()).unwrap());
        let back = Record::from_leaf_bytes(&r.leaf_bytes()).unwrap();
        assert_eq!(back.seq, r.seq);
        // The id cut out of the leaf bytes is the id of the parsed entry, and
        // bytes of another shape take the parsing path to the same id.
        let leaf = r.leaf_bytes();
        assert!(signing_bytes_of_leaf(&leaf).is_some());
        assert_eq!(Record::ids_of_leaf(&leaf).unwrap().0, r.entry.id);
        let spaced = serde_json::to_vec_pretty(&r.to_value()).unwrap();
        assert!(signing_bytes_of_leaf(&spaced).is_none());
        assert_eq!(Record::ids_of_leaf(&spaced).unwrap().0, r.entry.id);
    }
}
