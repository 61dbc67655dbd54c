//! Exclusion by vote (SPEC §4.5, the agreement's "in- en uitsluiting"): an
//! `exclusion` proposal {member, reason} removes a member from the fund when
//! it passes by the charter's `amend_threshold`. The member concerned neither
//! votes nor counts in its quorum; a treasurer must first be taken out of the
//! charter; what it gave stays in the pool; it can come back only by an
//! admission vote. Decisions: docs/DOMAIN.md, "Exclusion".

use serde::{Deserialize, Serialize};

use super::governance::bad_fields;
use super::{Ctx, Fund, Funds, ProposalState};
use crate::entry::{Proposal, ProposalKind};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, MemberId, Seq};

/// Why and when a member was excluded from a fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionRecord {
    /// The exclusion proposal.
    pub proposal: EntryId,
    /// The reason it gave.
    pub reason: String,
    /// The record that closed it.
    pub seq: Seq,
}

impl Funds {
    /// The member and reason of an `exclusion` proposal by `author` in `fund`.
    pub(super) fn exclusion_terms(
        &self,
        fund: &Fund,
        author: &MemberId,
        b: &Proposal,
    ) -> Result<(MemberId, String), Refusal> {
        let (Some(member), Some(reason)) = (&b.member, &b.reason) else {
            return Err(bad_fields("exclusion", "has a member and a reason"));
        };
        if member == author {
            return Err(Refusal::new(
                Code::SelfExclusion,
                format!("{author} cannot propose its own exclusion from {}; it can leave (fund.leave)", fund.id),
            ));
        }
        if !fund.is_member(member) {
            return Err(Refusal::new(Code::MemberNotInFund, format!("{member} is not a member of {}", fund.id)));
        }
        if fund.is_treasurer(member) {
            return Err(Refusal::new(
                Code::MemberIsTreasurer,
                format!(
                    "{member} is a treasurer of {}; a charter proposal must first take it out of the treasurers",
                    fund.id
                ),
            ));
        }
        let pending = self.open_proposals().find(|p| {
            p.fund == fund.id && p.proposal_kind == ProposalKind::Exclusion && p.member.as_ref() == Some(member)
        });
        if let Some(p) = pending {
            return Err(Refusal::new(
                Code::ExclusionPending,
                format!("the exclusion of {member} from {} is already being voted on in {}", fund.id, p.id),
            ));
        }
        Ok((member.clone(), reason.clone()))
    }

    /// What a passed exclusion does at the close: removes the member, unless
    /// it left meanwhile or became a treasurer (then it changes nothing).
    pub(super) fn exclusion_effect(
        &self,
        ctx: &Ctx<'_>,
        fund: &Fund,
        p: &ProposalState,
    ) -> Option<(MemberId, ExclusionRecord)> {
        let m = p.member.as_ref()?;
        if !fund.is_member(m) || fund.is_treasurer(m) || fund.members.len() < 2 {
            return None;
        }
        let record = ExclusionRecord { proposal: p.id, reason: p.reason.clone().unwrap_or_default(), seq: ctx.seq };
        Some((m.clone(), record))
    }
}
