//! The registrars can change (SPEC §4.5): a registrar proposes to add an
//! admitted member as registrar, or to remove one (`registrar.propose`, which
//! counts as its own approval); the other registrars approve
//! (`registrar.approve`). The change takes effect in the record whose
//! approval makes a majority — more than half of the registrars when it was
//! proposed, each signing with its own key. The last registrar cannot be
//! removed. Decisions: docs/DOMAIN.md, "The register".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::entry::{RegistrarAction, RegistrarApprove, RegistrarPropose};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, MemberId, Seq};
use crate::register::{MemberStatus, Register};

/// One proposed change of the registrars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrarChange {
    /// The `registrar.propose` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// Add or remove.
    pub action: RegistrarAction,
    /// The member concerned.
    pub member: MemberId,
    /// Why, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The registrars when it was proposed: only they approve, and a majority of them decides.
    pub counted: BTreeSet<MemberId>,
    /// The registrars who signed it (the proposer first), with the record of each signature.
    pub approvals: BTreeMap<MemberId, Seq>,
    /// The record that made it take effect, once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_seq: Option<Seq>,
}

impl RegistrarChange {
    /// Whether its approvals are more than half of the registrars counted.
    pub fn has_majority(&self) -> bool {
        self.approvals.len() * 2 > self.counted.len()
    }
}

impl Register {
    /// `registrar.propose` by a registrar.
    pub fn propose_registrar(
        &mut self,
        seq: Seq,
        id: EntryId,
        author: &MemberId,
        b: &RegistrarPropose,
    ) -> Result<(), Refusal> {
        if !self.is_registrar(author) {
            return Err(Refusal::new(
                Code::NotRegistrar,
                format!("{author} is not a registrar; only registrars propose a change of the registrars"),
            ));
        }
        let admitted = self.members.get(&b.member).is_some_and(|m| m.status == MemberStatus::Admitted);
        if !admitted {
            return Err(Refusal::new(
                Code::UnknownMember,
                format!("{} is not an admitted member of the register", b.member),
            ));
        }
        let is = self.is_registrar(&b.member);
        match b.action {
            RegistrarAction::Add if is => {
                return Err(Refusal::new(Code::AlreadyRegistrar, format!("{} is already a registrar", b.member)))
            }
            RegistrarAction::Remove if !is => {
                return Err(Refusal::new(Code::NotARegistrar, format!("{} is not a registrar", b.member)))
            }
            RegistrarAction::Remove if self.registrars().count() < 2 => {
                return Err(Refusal::new(
                    Code::LastRegistrar,
                    format!("{} is the last registrar; nobody could admit members or recover keys", b.member),
                ))
            }
            _ => {}
        }
        if let Some(p) = self.registrar_changes.values().find(|c| c.done_seq.is_none() && c.member == b.member) {
            return Err(Refusal::new(
                Code::RegistrarChangePending,
                format!("a change of registrar {} is already waiting for approvals ({})", b.member, p.id),
            ));
        }
        let change = RegistrarChange {
            id,
            seq,
            action: b.action,
            member: b.member.clone(),
            reason: b.reason.clone(),
            counted: self.registrars().map(|m| m.id.clone()).collect(),
            approvals: BTreeMap::from([(author.clone(), seq)]),
            done_seq: None,
        };
        self.decide_change(change, seq)
    }

    /// `registrar.approve` by another registrar counted on the change.
    pub fn approve_registrar(&mut self, seq: Seq, author: &MemberId, b: &RegistrarApprove) -> Result<(), Refusal> {
        let c = self
            .registrar_changes
            .get(&b.proposal)
            .ok_or_else(|| Refusal::new(Code::UnknownRegistrarChange, format!("no registrar change {}", b.proposal)))?;
        if c.done_seq.is_some() {
            return Err(Refusal::new(
                Code::RegistrarChangeDone,
                format!("registrar change {} already took effect", b.proposal),
            ));
        }
        if !c.counted.contains(author) || !self.is_registrar(author) {
            return Err(Refusal::new(
                Code::NotRegistrar,
                format!("{author} is not one of the registrars who decide change {}", b.proposal),
            ));
        }
        if c.approvals.contains_key(author) {
            return Err(Refusal::new(
                Code::AlreadyApproved,
                format!("{author} already signed registrar change {}", b.proposal),
            ));
        }
        let mut c = c.clone();
        c.approvals.insert(author.clone(), seq);
        self.decide_change(c, seq)
    }

    /// Store `c`; with a majority, apply it (checking the last registrar again).
    fn decide_change(&mut self, mut c: RegistrarChange, seq: Seq) -> Result<(), Refusal> {
        if c.has_majority() {
            if c.action == RegistrarAction::Remove && self.registrars().count() < 2 {
                return Err(Refusal::new(
                    Code::LastRegistrar,
                    format!("{} is the last registrar; nobody could admit members or recover keys", c.member),
                ));
            }
            c.done_seq = Some(seq);
            if let Some(m) = self.members.get_mut(&c.member) {
                m.registrar = c.action == RegistrarAction::Add;
            }
        }
        self.registrar_changes.insert(c.id, c);
        Ok(())
    }
}
