//! `GET /v1/members` and `/v1/members/{id}`: the register.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::entry::{LegalForm, MemberKind};
use crate::ids::{EntryId, MemberId};
use crate::register::{Member, MemberStatus};
use crate::state::State;
use crate::time::Timestamp;
use crate::views::Page;

/// One member of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    /// Its id.
    pub id: MemberId,
    /// Its name (registrars from genesis have none).
    pub name: Option<String>,
    /// Collective, municipality or partner.
    pub member_kind: Option<MemberKind>,
    /// Legal form.
    pub legal_form: Option<LegalForm>,
    /// Chamber of commerce number.
    pub kvk: Option<String>,
    /// What it does.
    pub purpose: Option<String>,
    /// Whether it is a registrar (named in genesis, or added by the registrars).
    pub registrar: bool,
    /// Pending, admitted or rejected.
    pub status: MemberStatus,
    /// Its current key.
    pub key: PublicKey,
    /// Keys it used before, oldest first.
    pub previous_keys: Vec<PublicKey>,
    /// When each later key came into force, one per previous key:
    /// `key_changes[i]` is the first record signed with the key that
    /// replaced `previous_keys[i]`; `previous_keys[i]` was in force for the
    /// records before it (from `key_changes[i-1]`, or the member's start).
    pub key_changes: Vec<u64>,
    /// The record of its application (or genesis): its position in the list.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub applied_seq: u64,
    /// The record that admitted or rejected it.
    pub decided_seq: Option<u64>,
    /// The reason given with the decision.
    pub reason: Option<String>,
    /// A key recovery waiting for its seven days (its `key.recover` entry), if any.
    pub pending_recovery: Option<EntryId>,
    /// While its application is pending: when it expires (`limits::APPLICATION_EXPIRY_SECONDS`
    /// after it was received); from then on it can no longer be admitted or rejected.
    pub expires_at: Option<Timestamp>,
}

impl MemberView {
    /// The view of a member.
    pub fn of(m: &Member) -> MemberView {
        MemberView {
            id: m.id.clone(),
            name: m.name.clone(),
            member_kind: m.member_kind,
            legal_form: m.legal_form,
            kvk: m.kvk.clone(),
            purpose: m.purpose.clone(),
            registrar: m.registrar,
            status: m.status,
            key: m.key,
            previous_keys: m.previous_keys.clone(),
            key_changes: m.key_changes.clone(),
            applied_seq: m.applied_seq,
            decided_seq: m.decided_seq,
            reason: m.reason.clone(),
            pending_recovery: m.pending_recovery,
            expires_at: m.expires_at(),
        }
    }
}

/// A page of the register, in the order of application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberList {
    /// The members.
    pub members: Vec<MemberView>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl MemberList {
    /// The members with the given status (any when `None`) that are members of
    /// `fund`'s member set when given, paged.
    pub fn of(state: &State, status: Option<MemberStatus>, in_fund: Option<&[MemberId]>, page: Page) -> MemberList {
        let mut all: Vec<&Member> = state
            .register
            .members()
            .filter(|m| status.is_none_or(|s| m.status == s))
            .filter(|m| in_fund.is_none_or(|f| f.contains(&m.id)))
            .collect();
        all.sort_by_key(|m| m.applied_seq);
        let (members, next) = page.take(all.into_iter().map(|m| (m.applied_seq, MemberView::of(m))));
        MemberList { members, next }
    }
}
