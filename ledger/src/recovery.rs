//! Key recovery (SPEC §4.5): a registrar records `key.recover` {member,
//! new_key, reason} for a member whose key is lost or stolen. The new key is
//! in force seven days after the `key.recover` was received, unless the
//! member's current key cancels it first (`key.recover.cancel`); where the
//! register has two or more registrars, a second registrar must co-sign
//! (`key.recover.approve`) — then the key is in force from the later of the
//! seven days and the approval.
//!
//! The state is a pure function of the log, and nothing is written when no
//! entry arrives: from the moment a recovery is in force, the register
//! accepts the new key and refuses the old one ([`Register::check_key_at`]),
//! and the first record accepted after that moment makes it the member's
//! current key ([`Register::settle`]). Decisions: docs/DOMAIN.md, "The register".

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::entry::{KeyRecover, RecoveryRef};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, MemberId, Seq};
use crate::register::{Member, MemberStatus, Register};
use crate::time::Timestamp;

/// How long the current key has to cancel a recovery: seven days.
pub const RECOVERY_DELAY_SECONDS: i64 = 7 * 86_400;

/// Where a recovery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryStatus {
    /// Waiting for its seven days (and, where needed, a second registrar).
    Pending,
    /// Cancelled by the member's current key.
    Cancelled,
    /// The new key is the member's key.
    InForce,
}

/// One key recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// The `key.recover` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The member whose key is replaced.
    pub member: MemberId,
    /// The key that replaces it.
    pub new_key: PublicKey,
    /// Why (public).
    pub reason: String,
    /// The registrar who recorded it.
    pub by: MemberId,
    /// When it was received.
    pub requested_at: Timestamp,
    /// Seven days later: the earliest moment it can be in force.
    pub effective_from: Timestamp,
    /// Whether a second registrar must co-sign (two or more registrars at the request).
    pub needs_approval: bool,
    /// The second registrar who co-signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<MemberId>,
    /// Pending, cancelled or in force.
    pub status: RecoveryStatus,
    /// The record that cancelled it, or the first record after it came in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_seq: Option<Seq>,
}

impl Recovery {
    /// Whether the new key is in force at `at` (pending, its days passed, co-signed where needed).
    pub fn in_force_at(&self, at: &Timestamp) -> bool {
        match self.status {
            RecoveryStatus::InForce => true,
            RecoveryStatus::Cancelled => false,
            RecoveryStatus::Pending => {
                at.instant() >= self.effective_from.instant() && (!self.needs_approval || self.approved_by.is_some())
            }
        }
    }
}

fn not_registrar(author: &MemberId, what: &str) -> Refusal {
    Refusal::new(Code::NotRegistrar, format!("{author} is not a registrar; only registrars {what}"))
}

impl Register {
    /// A recovery by id.
    pub fn recovery(&self, id: &EntryId) -> Option<&Recovery> {
        self.recoveries.get(id)
    }

    /// The member's pending recovery, if any (found through the member, so
    /// judging an entry costs one lookup however many recoveries there were).
    pub fn pending_recovery(&self, member: &MemberId) -> Option<&Recovery> {
        let id = self.members.get(member)?.pending_recovery?;
        self.recoveries.get(&id).filter(|r| r.status == RecoveryStatus::Pending)
    }

    /// Like [`Register::check_key`], at `at`: a recovery in force replaces the member's key.
    pub fn check_key_at(&self, author: &MemberId, key: &PublicKey, at: &Timestamp) -> Result<&Member, Refusal> {
        if let Some(r) = self.pending_recovery(author).filter(|r| r.in_force_at(at)) {
            let m = self
                .members
                .get(author)
                .ok_or_else(|| Refusal::new(Code::UnknownAuthor, format!("author {author} is not in the register")))?;
            if &r.new_key != key {
                return Err(Refusal::new(
                    Code::WrongKey,
                    format!("entry is signed with a key of {author} that recovery {} replaced", r.id),
                ));
            }
            return Ok(m);
        }
        self.check_key(author, key)
    }

    /// Make every recovery in force at `at` the member's current key (after an accepted record `seq`).
    pub(crate) fn settle(&mut self, seq: Seq, at: &Timestamp) {
        let due: Vec<EntryId> = self
            .recoveries
            .values()
            .filter(|r| r.status == RecoveryStatus::Pending && r.in_force_at(at))
            .map(|r| r.id)
            .collect();
        for id in due {
            let Some(r) = self.recoveries.get_mut(&id) else { continue };
            r.status = RecoveryStatus::InForce;
            r.ended_seq = Some(seq);
            let new_key = r.new_key;
            if let Some(m) = self.members.get_mut(&r.member) {
                let old = std::mem::replace(&mut m.key, new_key);
                m.previous_keys.push(old);
                m.key_changes.push(seq);
                m.pending_recovery = None;
            }
        }
    }

    /// `key.recover` by a registrar, for an admitted member without a pending recovery.
    pub fn recover(
        &mut self,
        seq: Seq,
        id: EntryId,
        at: &Timestamp,
        author: &MemberId,
        b: &KeyRecover,
    ) -> Result<(), Refusal> {
        if !self.is_registrar(author) {
            return Err(not_registrar(author, "recover keys"));
        }
        match self.members.get(&b.member) {
            Some(m) if m.status == MemberStatus::Admitted => {}
            _ => {
                return Err(Refusal::new(
                    Code::UnknownMember,
                    format!("{} is not an admitted member of the register", b.member),
                ))
            }
        }
        if let Some(r) = self.pending_recovery(&b.member) {
            return Err(Refusal::new(
                Code::RecoveryPending,
                format!("a recovery of {}'s key is already pending ({}); it must be cancelled first", b.member, r.id),
            ));
        }
        self.check_new_key(&b.new_key)?;
        let effective = chrono::TimeDelta::try_seconds(RECOVERY_DELAY_SECONDS)
            .and_then(|d| at.instant().checked_add_signed(d))
            .map(Timestamp::from_instant)
            .ok_or_else(|| Refusal::new(Code::Malformed, format!("seven days after {at} is out of range")))?;
        let needs_approval = self.registrars().count() >= 2;
        self.keys_seen.insert(b.new_key.to_bytes());
        if let Some(m) = self.members.get_mut(&b.member) {
            m.pending_recovery = Some(id);
        }
        self.recoveries.insert(
            id,
            Recovery {
                id,
                seq,
                member: b.member.clone(),
                new_key: b.new_key,
                reason: b.reason.clone(),
                by: author.clone(),
                requested_at: at.clone(),
                effective_from: effective,
                needs_approval,
                approved_by: None,
                status: RecoveryStatus::Pending,
                ended_seq: None,
            },
        );
        Ok(())
    }

    fn pending(&self, id: &EntryId, at: &Timestamp) -> Result<&Recovery, Refusal> {
        let r = self
            .recoveries
            .get(id)
            .ok_or_else(|| Refusal::new(Code::UnknownRecovery, format!("no key recovery {id}")))?;
        match r.status {
            RecoveryStatus::Cancelled => {
                Err(Refusal::new(Code::RecoveryCancelled, format!("key recovery {id} was cancelled")))
            }
            _ if r.in_force_at(at) => Err(Refusal::new(
                Code::RecoveryInForce,
                format!("key recovery {id} is in force since {}; it can no longer change", r.effective_from),
            )),
            _ => Ok(r),
        }
    }

    /// `key.recover.cancel` by the member, with its current key, before the recovery is in force.
    pub fn cancel_recovery(
        &mut self,
        seq: Seq,
        at: &Timestamp,
        author: &MemberId,
        b: &RecoveryRef,
    ) -> Result<(), Refusal> {
        let r = self.pending(&b.recovery, at)?;
        if &r.member != author {
            return Err(Refusal::new(
                Code::NotRecoveredMember,
                format!("only {} itself, with its current key, cancels the recovery of its key", r.member),
            ));
        }
        if let Some(r) = self.recoveries.get_mut(&b.recovery) {
            r.status = RecoveryStatus::Cancelled;
            r.ended_seq = Some(seq);
        }
        if let Some(m) = self.members.get_mut(author) {
            m.pending_recovery = None;
        }
        Ok(())
    }

    /// `key.recover.approve` by a second registrar, where two or more registrars must agree.
    pub fn approve_recovery(&mut self, at: &Timestamp, author: &MemberId, b: &RecoveryRef) -> Result<(), Refusal> {
        if !self.is_registrar(author) {
            return Err(not_registrar(author, "co-sign a key recovery"));
        }
        let r = self.pending(&b.recovery, at)?;
        if !r.needs_approval {
            return Err(Refusal::new(
                Code::ApprovalNotNeeded,
                format!("key recovery {} was recorded when there was one registrar; it needs no co-signature", r.id),
            ));
        }
        if &r.by == author {
            return Err(Refusal::new(
                Code::SameRegistrar,
                format!("{author} recorded key recovery {}; a second registrar must co-sign it", r.id),
            ));
        }
        if let Some(other) = &r.approved_by {
            return Err(Refusal::new(
                Code::AlreadyApproved,
                format!("key recovery {} was already co-signed by {other}", r.id),
            ));
        }
        if let Some(r) = self.recoveries.get_mut(&b.recovery) {
            r.approved_by = Some(author.clone());
        }
        Ok(())
    }
}
