//! The log's reads: records with their entry id and leaf hash, pages of them,
//! the receipt of a submission, proofs, and the error body every refusal has.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{hex32, EntryId};
use crate::record::{Record, RecordError};
use crate::time::Timestamp;

/// One record as read (`GET /v1/entries…`): the stored record
/// `{entry, received_at, seq}` plus the entry's `id` and the record's
/// `leaf_hash`, which [`Record::from_value`] checks when it reads one back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordView {
    /// The entry's id (SHA-256 of its signing bytes).
    pub id: EntryId,
    /// The record's Merkle leaf hash, lowercase hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub leaf_hash: String,
    /// The signed entry, as submitted.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::views::schema::Envelope))]
    pub entry: Value,
    /// The server's clock when it accepted the entry.
    pub received_at: Timestamp,
    /// Its position, from 0.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub seq: u64,
}

impl RecordView {
    /// The JSON of a record read from its stored (leaf) bytes: the stored
    /// bytes with `id` and `leaf_hash` put in front, so the entry stays byte
    /// for byte as it was signed.
    pub fn json_of_leaf(bytes: &[u8]) -> Result<Vec<u8>, RecordError> {
        let (id, leaf) = Record::ids_of_leaf(bytes)?;
        let rest = bytes
            .strip_prefix(b"{")
            .filter(|r| r.first() == Some(&b'"'))
            .ok_or_else(|| RecordError::Malformed("a stored record is a non-empty JSON object".into()))?;
        let mut out = Vec::with_capacity(bytes.len() + 160);
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(hex32(&id.0).as_str().as_bytes());
        out.extend_from_slice(b"\",\"leaf_hash\":\"");
        out.extend_from_slice(hex32(&leaf).as_str().as_bytes());
        out.extend_from_slice(b"\",");
        out.extend_from_slice(rest);
        Ok(out)
    }

    /// The stored (leaf) bytes of a record as read: `JCS` of the record
    /// without `id` and `leaf_hash`, after checking both against it (the
    /// entry's signature is left to the caller, e.g. the auditor).
    pub fn leaf_bytes_of(v: &Value) -> Result<Vec<u8>, RecordError> {
        let Value::Object(m) = v else {
            return Err(RecordError::Malformed("a record is a JSON object".into()));
        };
        let mut stored = m.clone();
        let id = stored.remove("id");
        let leaf = stored.remove("leaf_hash");
        let bytes = crate::jcs::to_vec(&Value::Object(stored)).map_err(|e| RecordError::Malformed(e.to_string()))?;
        let (real_id, real_leaf) = Record::ids_of_leaf(&bytes)?;
        let seq = &m["seq"];
        if id.as_ref().and_then(Value::as_str).is_none_or(|c| c != real_id.to_hex()) {
            return Err(RecordError::Malformed(format!(
                "record {seq}: its id is missing or not its entry's id {real_id}"
            )));
        }
        let real_leaf = hex32(&real_leaf);
        if leaf.as_ref().and_then(Value::as_str).is_none_or(|c| c != real_leaf.as_str()) {
            return Err(RecordError::Malformed(format!(
                "record {seq}: its leaf_hash is missing or not its leaf hash {}",
                real_leaf.as_str()
            )));
        }
        Ok(bytes)
    }
}

/// A page of the log (`GET /v1/entries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryList {
    /// The records, in order.
    pub entries: Vec<RecordView>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl EntryList {
    /// The JSON of a page from stored records (see [`RecordView::json_of_leaf`]).
    pub fn json_of_leaves(records: &[Vec<u8>], next: Option<u64>) -> Result<Vec<u8>, RecordError> {
        let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 170).sum::<usize>() + 32);
        out.extend_from_slice(b"{\"entries\":[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&RecordView::json_of_leaf(r)?);
        }
        out.extend_from_slice(b"],\"next\":");
        out.extend_from_slice(next.map(|n| n.to_string()).unwrap_or_else(|| "null".into()).as_bytes());
        out.push(b'}');
        Ok(out)
    }
}

/// The answer to a submission: where the entry is in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitReceipt {
    /// Its record.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub seq: u64,
    /// The entry's id.
    pub id: EntryId,
    /// The record's leaf hash.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub leaf_hash: String,
    /// The log's size once it was appended.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub tree_size: u64,
}

/// `GET /v1/proofs/inclusion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProofView {
    /// The record.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub seq: u64,
    /// The tree size the proof is for.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub size: u64,
    /// The record's leaf hash.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub leaf_hash: String,
    /// The audit path, lowercase hex hashes.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::views::schema::HashHex>))]
    pub proof: Vec<String>,
}

/// `GET /v1/proofs/consistency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProofView {
    /// The older size.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub from: u64,
    /// The newer size.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub to: u64,
    /// The proof, lowercase hex hashes.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::views::schema::HashHex>))]
    pub proof: Vec<String>,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `insufficient_funds`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_]+$"))]
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Extra structured detail (an object, often empty).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: Value,
}

/// Every response that is not a success (SPEC §5): `{"error": {code, message, detail}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> (Record, Vec<u8>) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        let at: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let body = serde_json::json!({"id": "buurt-kas", "name": "Buurt \"Kas\" €", "member_kind": "collective", "legal_form": "informal"});
        let e =
            crate::entry::sign_entry(crate::entry::Kind::MemberApply, &"buurt-kas".parse().unwrap(), &key, &at, body)
                .unwrap();
        let r = Record { seq: 7, received_at: "2026-11-27T12:00:01.123Z".parse().unwrap(), entry: e };
        let bytes = r.leaf_bytes();
        (r, bytes)
    }

    #[test]
    fn a_read_record_carries_its_ids_and_gives_back_its_leaf_bytes() {
        let (r, bytes) = stored();
        let read: Value = serde_json::from_slice(&RecordView::json_of_leaf(&bytes).unwrap()).unwrap();
        assert_eq!(read["id"], r.entry.id.to_hex());
        assert_eq!(read["leaf_hash"], hex::encode(crate::merkle::leaf_hash(&bytes)));
        let view: RecordView = serde_json::from_value(read.clone()).unwrap();
        assert_eq!((view.seq, view.id), (7, r.entry.id));
        assert_eq!(RecordView::leaf_bytes_of(&read).unwrap(), bytes);
        assert_eq!(Record::from_value(read.clone()).unwrap().leaf_bytes(), bytes);
        for field in ["id", "leaf_hash"] {
            let mut wrong = read.clone();
            wrong[field] = serde_json::json!("00".repeat(32));
            assert!(RecordView::leaf_bytes_of(&wrong).is_err(), "{field}");
            assert!(Record::from_value(wrong).is_err(), "{field}");
            let mut missing = read.clone();
            missing.as_object_mut().unwrap().remove(field);
            assert!(RecordView::leaf_bytes_of(&missing).is_err(), "{field}");
        }
    }
}
