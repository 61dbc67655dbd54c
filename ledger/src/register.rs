//! The register of members ("Chamber of Commons", SPEC §4.1): applications,
//! admissions, rejections and key rotations.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::entry::{KeyRotate, LegalForm, MemberApply, MemberDecision, MemberKind};
use crate::error::{Code, Refusal};
use crate::ids::{Author, MemberId, Seq};
use crate::limits::{APPLICATION_EXPIRY_SECONDS, PENDING_APPLICATIONS_MAX};
use crate::time::Timestamp;

/// Where a member stands in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Applied, not yet decided.
    Pending,
    /// Admitted by a registrar (or named as registrar in genesis).
    Admitted,
    /// Rejected by a registrar.
    Rejected,
}

/// One member of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its id.
    pub id: MemberId,
    /// Its name (registrars from genesis have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Collective, municipality or partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_kind: Option<MemberKind>,
    /// Legal form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_form: Option<LegalForm>,
    /// Chamber of commerce number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvk: Option<String>,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Whether it is a registrar named in genesis.
    pub registrar: bool,
    /// Pending, admitted or rejected.
    pub status: MemberStatus,
    /// Its current key.
    pub key: PublicKey,
    /// Keys it used before, oldest first.
    pub previous_keys: Vec<PublicKey>,
    /// When each key after the first came into force: `key_changes[i]` is
    /// the first record signed with the key that replaced
    /// `previous_keys[i]` (a rotation's next record; the record a recovery
    /// came into force at). `previous_keys[i]` signed the records before it.
    /// Always written and required: a state snapshot from before it existed
    /// does not load, so the log is replayed and the history is complete.
    pub key_changes: Vec<Seq>,
    /// The record of its application (or genesis).
    pub applied_seq: Seq,
    /// The record that admitted or rejected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_seq: Option<Seq>,
    /// The reason given with the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A key recovery waiting for its seven days (the id of its `key.recover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_recovery: Option<crate::ids::EntryId>,
    /// When its `member.apply` was received (none for registrars from genesis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
}

impl Member {
    /// When its application expires, while it is pending: [`APPLICATION_EXPIRY_SECONDS`]
    /// after its `received_at`.
    pub fn expires_at(&self) -> Option<Timestamp> {
        if self.status != MemberStatus::Pending {
            return None;
        }
        let at = self.applied_at.as_ref()?;
        Some(Timestamp::from_instant(at.instant() + chrono::Duration::seconds(APPLICATION_EXPIRY_SECONDS)))
    }

    /// Whether its application is pending and expired at `now`.
    pub fn expired_at(&self, now: &Timestamp) -> bool {
        self.expires_at().is_some_and(|e| now.instant() >= e.instant())
    }
}

/// The register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub(crate) members: BTreeMap<MemberId, Member>,
    /// Every key ever registered (operator, registrars, members, rotated): a key is never reused.
    pub(crate) keys_seen: HashSet<[u8; 32]>,
    /// Key recoveries (SPEC §4.5), by the id of their `key.recover`.
    #[serde(default)]
    pub recoveries: BTreeMap<crate::ids::EntryId, crate::recovery::Recovery>,
    /// Changes of the registrars, by the id of their `registrar.propose`.
    #[serde(default)]
    pub registrar_changes: BTreeMap<crate::ids::EntryId, crate::registrars::RegistrarChange>,
    /// The pending applications by their record, oldest first (at most
    /// [`PENDING_APPLICATIONS_MAX`]); the expired ones at the front are dropped
    /// when counted. Required in a snapshot: one taken before applications
    /// expired lacks it and is replayed instead.
    pub(crate) pending: BTreeSet<(Seq, MemberId)>,
}

impl Register {
    /// A member by id.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members.get(id)
    }
    /// All members, by id.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }
    /// Number of members (any status).
    pub fn len(&self) -> usize {
        self.members.len()
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// Whether `id` is an admitted member.
    pub fn is_admitted(&self, id: &MemberId) -> bool {
        self.members.get(id).is_some_and(|m| m.status == MemberStatus::Admitted)
    }

    pub(crate) fn check_new_key(&self, key: &PublicKey) -> Result<(), Refusal> {
        if key.is_weak() {
            return Err(Refusal::new(Code::WeakKey, format!("key {key} is a weak (small-order) key")));
        }
        if self.keys_seen.contains(&key.to_bytes()) {
            return Err(Refusal::new(
                Code::KeyReused,
                format!("key {key} is already registered; every member needs its own new key"),
            ));
        }
        Ok(())
    }

    /// Note a key that is in use outside the member list (the operator's).
    pub(crate) fn reserve_key(&mut self, key: &PublicKey) -> Result<(), Refusal> {
        self.check_new_key(key)?;
        self.keys_seen.insert(key.to_bytes());
        Ok(())
    }

    /// Add a registrar named in genesis.
    pub(crate) fn add_registrar(&mut self, id: &MemberId, key: &PublicKey) -> Result<(), Refusal> {
        if self.members.contains_key(id) {
            return Err(Refusal::new(Code::DuplicateMember, format!("registrar {id} is named twice")));
        }
        self.check_new_key(key)?;
        self.keys_seen.insert(key.to_bytes());
        self.members.insert(
            id.clone(),
            Member {
                id: id.clone(),
                name: None,
                member_kind: None,
                legal_form: None,
                kvk: None,
                purpose: None,
                registrar: true,
                status: MemberStatus::Admitted,
                key: *key,
                previous_keys: vec![],
                key_changes: vec![],
                applied_seq: 0,
                decided_seq: Some(0),
                reason: None,
                pending_recovery: None,
                applied_at: None,
            },
        );
        Ok(())
    }

    /// Check that `author` may sign with `key`: the member's current key.
    /// An applicant's own `member.apply` is checked by [`Register::apply`] instead.
    pub fn check_key(&self, author: &MemberId, key: &PublicKey) -> Result<&Member, Refusal> {
        let m = self
            .members
            .get(author)
            .ok_or_else(|| Refusal::new(Code::UnknownAuthor, format!("author {author} is not in the register")))?;
        if &m.key != key {
            let why = if m.previous_keys.contains(key) { "a rotated-out key" } else { "not its current key" };
            return Err(Refusal::new(Code::WrongKey, format!("entry is signed with {why} of {author}")));
        }
        Ok(m)
    }

    /// `member.apply`: the applicant, signing with its own new key, received at
    /// `received_at`. Refused while [`PENDING_APPLICATIONS_MAX`] applications are
    /// pending; a member id whose application expired may apply again.
    pub fn apply(
        &mut self,
        seq: Seq,
        received_at: &Timestamp,
        author: &Author,
        key: &PublicKey,
        b: &MemberApply,
    ) -> Result<(), Refusal> {
        if author.member() != Some(&b.id) {
            return Err(Refusal::new(
                Code::AuthorMismatch,
                format!("member.apply for {} must be authored by {} itself", b.id, b.id),
            ));
        }
        if self.members.get(&b.id).is_some_and(|m| !m.expired_at(received_at)) {
            return Err(Refusal::new(Code::DuplicateMember, format!("member id {} is already taken", b.id)));
        }
        self.check_new_key(key)?;
        let pending = self.count_pending(received_at);
        if pending >= PENDING_APPLICATIONS_MAX {
            return Err(Refusal::new(
                Code::TooManyPending,
                format!(
                    "the register holds {pending} pending applications, its most ({PENDING_APPLICATIONS_MAX}); \
                     apply again when the registrars have decided some, or some have expired (after {} days)",
                    APPLICATION_EXPIRY_SECONDS / 86_400
                ),
            ));
        }
        self.keys_seen.insert(key.to_bytes());
        self.pending.insert((seq, b.id.clone()));
        self.members.insert(
            b.id.clone(),
            Member {
                id: b.id.clone(),
                name: Some(b.name.clone()),
                member_kind: Some(b.member_kind),
                legal_form: Some(b.legal_form),
                kvk: b.kvk.clone(),
                purpose: b.purpose.clone(),
                registrar: false,
                status: MemberStatus::Pending,
                key: *key,
                previous_keys: vec![],
                key_changes: vec![],
                applied_seq: seq,
                decided_seq: None,
                reason: None,
                pending_recovery: None,
                applied_at: Some(received_at.clone()),
            },
        );
        Ok(())
    }

    /// Forget the applications expired at `now` and count those left. The
    /// oldest expire first (`received_at` never goes back), so only the front
    /// of the set is looked at.
    fn count_pending(&mut self, now: &Timestamp) -> usize {
        while let Some((_, id)) = self.pending.first() {
            if self.members.get(id).is_some_and(|m| m.status == MemberStatus::Pending && !m.expired_at(now)) {
                break;
            }
            self.pending.pop_first();
        }
        self.pending.len()
    }

    /// The applications pending and not expired at `now`.
    pub fn pending_applications(&self, now: &Timestamp) -> usize {
        let expired = self
            .pending
            .iter()
            .take_while(|(_, id)| {
                self.members.get(id).is_none_or(|m| m.status != MemberStatus::Pending || m.expired_at(now))
            })
            .count();
        self.pending.len() - expired
    }

    /// `member.admit` / `member.reject` by a registrar, received at `received_at`:
    /// only a pending application that has not expired.
    pub fn decide(
        &mut self,
        seq: Seq,
        received_at: &Timestamp,
        author: &MemberId,
        b: &MemberDecision,
        admit: bool,
    ) -> Result<(), Refusal> {
        let is_registrar = self.members.get(author).is_some_and(|m| m.registrar);
        if !is_registrar {
            return Err(Refusal::new(
                Code::NotRegistrar,
                format!("{author} is not a registrar; only registrars named in genesis admit or reject members"),
            ));
        }
        let m = self
            .members
            .get_mut(&b.member)
            .ok_or_else(|| Refusal::new(Code::UnknownMember, format!("no application from {}", b.member)))?;
        if m.status != MemberStatus::Pending {
            return Err(Refusal::new(
                Code::AlreadyDecided,
                format!("{} is not pending (it is {:?})", b.member, m.status).to_lowercase(),
            ));
        }
        if let Some(expired) = m.expires_at().filter(|_| m.expired_at(received_at)) {
            return Err(Refusal::new(
                Code::ApplicationExpired,
                format!(
                    "the application of {} expired at {expired} ({} days after it was received); it may apply again",
                    b.member,
                    APPLICATION_EXPIRY_SECONDS / 86_400
                ),
            ));
        }
        self.pending.remove(&(m.applied_seq, b.member.clone()));
        m.status = if admit { MemberStatus::Admitted } else { MemberStatus::Rejected };
        m.decided_seq = Some(seq);
        m.reason = b.reason.clone();
        Ok(())
    }

    /// `key.rotate` by the member itself, signed with its current key.
    pub fn rotate(&mut self, seq: Seq, author: &MemberId, b: &KeyRotate) -> Result<(), Refusal> {
        let status = self.members.get(author).map(|m| m.status);
        if status == Some(MemberStatus::Rejected) {
            return Err(Refusal::new(Code::RejectedMember, format!("{author} was rejected and cannot rotate keys")));
        }
        self.check_new_key(&b.new_key)?;
        let m = self
            .members
            .get_mut(author)
            .ok_or_else(|| Refusal::new(Code::UnknownMember, format!("{author} is not in the register")))?;
        self.keys_seen.insert(b.new_key.to_bytes());
        let old = std::mem::replace(&mut m.key, b.new_key);
        m.previous_keys.push(old);
        m.key_changes.push(seq + 1);
        Ok(())
    }

    /// `member.update` by the member itself: the fields given replace the register's.
    pub fn update(&mut self, author: &MemberId, b: &crate::entry::MemberUpdate) -> Result<(), Refusal> {
        let m = self
            .members
            .get_mut(author)
            .ok_or_else(|| Refusal::new(Code::UnknownMember, format!("{author} is not in the register")))?;
        if let Some(n) = &b.name {
            m.name = Some(n.clone());
        }
        if let Some(f) = b.legal_form {
            m.legal_form = Some(f);
        }
        if let Some(p) = &b.purpose {
            m.purpose = Some(p.clone());
        }
        if let Some(k) = &b.kvk {
            m.kvk = Some(k.clone());
        }
        Ok(())
    }

    /// The registrars now.
    pub fn registrars(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.registrar && m.status == MemberStatus::Admitted)
    }

    /// Whether `id` is a registrar now.
    pub fn is_registrar(&self, id: &MemberId) -> bool {
        self.members.get(id).is_some_and(|m| m.registrar && m.status == MemberStatus::Admitted)
    }
}
