//! One contribution as the state keeps it: the fields every contribution has
//! inline, and what only some come to have (a confirmation, a reversal, a
//! return by the bank, the matching pledge it settles) in one box, so that a
//! million pledged contributions cost about 200 bytes each instead of 600.
//! Its JSON (the API's, the CLI's) is one flat object, as it always was.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::money::Amount;
use crate::time::Timestamp;

/// Whether a contribution is still expected, arrived, or undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributionStatus {
    /// Announced, not yet seen on a bank statement.
    Pledged,
    /// Confirmed by a reconciliation.
    Confirmed,
    /// Reversed: it never arrived.
    Reversed,
    /// Confirmed, then returned by the bank (a reconciliation's `returned`).
    Returned,
}

/// One contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Flat", into = "Flat")]
pub struct ContributionState {
    /// The contribution entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The fund.
    pub fund: FundId,
    /// Who gives.
    pub author: MemberId,
    /// How much.
    pub amount: Amount,
    /// The payment reference on the bank transfer.
    pub reference: CompactString,
    /// A note.
    pub note: Option<Box<str>>,
    /// When the ledger received it.
    pub received_at: Timestamp,
    /// Pledged, confirmed or reversed.
    pub status: ContributionStatus,
    /// What only some contributions have; `None` while it has none of it.
    pub extra: Option<Box<ContributionExtra>>,
}

/// What only some contributions come to have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContributionExtra {
    /// The matching pledge this payment settles (a municipality's contribution).
    pub matching: Option<EntryId>,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryId>,
    /// When the reconciliation that confirmed it was received.
    pub confirmed_at: Option<Timestamp>,
    /// The reversal that undid it.
    pub reversed_by: Option<EntryId>,
    /// When it was reversed.
    pub reversed_at: Option<Timestamp>,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// The reconciliation that recorded the bank returning it.
    pub returned_by: Option<EntryId>,
    /// When.
    pub returned_at: Option<Timestamp>,
}

impl ContributionState {
    fn extra(&self) -> Option<&ContributionExtra> {
        self.extra.as_deref()
    }
    /// Its rare fields, to set one (made when first set).
    pub fn extra_mut(&mut self) -> &mut ContributionExtra {
        self.extra.get_or_insert_with(Default::default)
    }
    /// The matching pledge this payment settles (a municipality's contribution).
    pub fn matching(&self) -> Option<EntryId> {
        self.extra().and_then(|x| x.matching)
    }
    /// The reconciliation that confirmed it.
    pub fn confirmed_by(&self) -> Option<EntryId> {
        self.extra().and_then(|x| x.confirmed_by)
    }
    /// When the reconciliation that confirmed it was received.
    pub fn confirmed_at(&self) -> Option<&Timestamp> {
        self.extra().and_then(|x| x.confirmed_at.as_ref())
    }
    /// The reversal that undid it.
    pub fn reversed_by(&self) -> Option<EntryId> {
        self.extra().and_then(|x| x.reversed_by)
    }
    /// When it was reversed.
    pub fn reversed_at(&self) -> Option<&Timestamp> {
        self.extra().and_then(|x| x.reversed_at.as_ref())
    }
    /// Why it was reversed.
    pub fn reversal_reason(&self) -> Option<&str> {
        self.extra().and_then(|x| x.reversal_reason.as_deref())
    }
    /// The reconciliation that recorded the bank returning it.
    pub fn returned_by(&self) -> Option<EntryId> {
        self.extra().and_then(|x| x.returned_by)
    }
    /// When the bank returned it.
    pub fn returned_at(&self) -> Option<&Timestamp> {
        self.extra().and_then(|x| x.returned_at.as_ref())
    }
}

/// The flat form: one object with every field, absent ones left out.
#[derive(Serialize, Deserialize)]
struct Flat {
    id: EntryId,
    seq: Seq,
    fund: FundId,
    author: MemberId,
    amount: Amount,
    reference: CompactString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<Box<str>>,
    received_at: Timestamp,
    status: ContributionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirmed_by: Option<EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reversed_by: Option<EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reversal_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    matching: Option<EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirmed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reversed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    returned_by: Option<EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    returned_at: Option<Timestamp>,
}

impl From<Flat> for ContributionState {
    fn from(f: Flat) -> Self {
        let extra = ContributionExtra {
            matching: f.matching,
            confirmed_by: f.confirmed_by,
            confirmed_at: f.confirmed_at,
            reversed_by: f.reversed_by,
            reversed_at: f.reversed_at,
            reversal_reason: f.reversal_reason,
            returned_by: f.returned_by,
            returned_at: f.returned_at,
        };
        ContributionState {
            id: f.id,
            seq: f.seq,
            fund: f.fund,
            author: f.author,
            amount: f.amount,
            reference: f.reference,
            note: f.note,
            received_at: f.received_at,
            status: f.status,
            extra: (extra != ContributionExtra::default()).then(|| Box::new(extra)),
        }
    }
}

impl From<ContributionState> for Flat {
    fn from(c: ContributionState) -> Self {
        let x = c.extra.map(|b| *b).unwrap_or_default();
        Flat {
            id: c.id,
            seq: c.seq,
            fund: c.fund,
            author: c.author,
            amount: c.amount,
            reference: c.reference,
            note: c.note,
            received_at: c.received_at,
            status: c.status,
            confirmed_by: x.confirmed_by,
            reversed_by: x.reversed_by,
            reversal_reason: x.reversal_reason,
            matching: x.matching,
            confirmed_at: x.confirmed_at,
            reversed_at: x.reversed_at,
            returned_by: x.returned_by,
            returned_at: x.returned_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pledged_contribution_is_small_and_its_json_flat() {
        // The inline part of a pledged contribution; it allocates nothing more
        // while its reference and ids are at most 24 bytes.
        assert!(std::mem::size_of::<ContributionState>() <= 216, "{}", std::mem::size_of::<ContributionState>());
        let json = serde_json::json!({
            "id": "ab".repeat(32), "seq": 7, "fund": "buurtkas", "author": "energie-coop-noord",
            "amount": "12.50", "reference": "MEENT-7", "received_at": "2026-12-07T06:00:00.000Z",
            "status": "confirmed", "confirmed_by": "cd".repeat(32), "confirmed_at": "2026-12-08T09:00:00.000Z",
        });
        let c: ContributionState = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(c.confirmed_by().map(|i| i.to_hex()), Some("cd".repeat(32)));
        assert_eq!(c.reversed_by(), None);
        assert_eq!(serde_json::to_value(&c).unwrap(), json);
        let mut pledged = c.clone();
        pledged.extra = None;
        let back: ContributionState = serde_json::from_value(serde_json::to_value(&pledged).unwrap()).unwrap();
        assert_eq!(back, pledged, "no fields: no box");
    }
}
