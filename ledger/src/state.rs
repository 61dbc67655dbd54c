//! The ledger's state as a pure function of the log.
//!
//! [`State::apply`] takes one verified entry with its position and the server's
//! `received_at`, and either changes the state or refuses with a [`Refusal`] —
//! in which case nothing changed (every rule is checked before anything is
//! written). No I/O, no clock, no randomness: the server, `meent verify` and any
//! independent auditor replaying the same records reach the same state.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::entry::{Body, VerifiedEntry};
use crate::error::{Code, Refusal};
use crate::funds::{Ctx, Funds};
use crate::ids::{Author, EntryId, Seq};
use crate::limits::CLOCK_SKEW_SECONDS_MAX;
use crate::register::{MemberStatus, Register};
use crate::time::Timestamp;

/// Everything the rules need to judge the next entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The log's origin, from genesis.
    pub origin: Option<String>,
    /// The operator's key, from genesis.
    pub operator_key: Option<PublicKey>,
    /// Number of records applied.
    pub size: u64,
    /// `received_at` of the last record applied.
    pub last_received_at: Option<Timestamp>,
    /// The register of members.
    pub register: Register,
    /// The funds: charters, members, money, proposals and payouts.
    #[serde(default)]
    pub funds: Funds,
}

impl State {
    /// An empty state, before genesis.
    pub fn new() -> Self {
        State::default()
    }

    /// Apply the entry that is to become record `seq`, received at `received_at`.
    /// On `Err`, the state is unchanged.
    pub fn apply(&mut self, seq: Seq, received_at: &Timestamp, e: &VerifiedEntry) -> Result<(), Refusal> {
        if seq != self.size {
            return Err(Refusal::new(
                Code::BadSeq,
                format!("record {seq} is out of order: {} records so far", self.size),
            ));
        }
        if let Some(last) = &self.last_received_at {
            if received_at.instant() < last.instant() {
                return Err(Refusal::new(
                    Code::ClockBackwards,
                    format!("received_at {received_at} is before the previous record's {last}"),
                ));
            }
        }
        let skew_ms = (e.at.instant() - received_at.instant()).num_milliseconds().abs();
        let skew = skew_ms / 1000;
        if skew_ms > CLOCK_SKEW_SECONDS_MAX * 1000 {
            return Err(Refusal::new(
                Code::ClockSkew,
                format!("entry time {} is {skew} s away from the server's clock {received_at}; at most {CLOCK_SKEW_SECONDS_MAX} s allowed", e.at),
            ));
        }
        if seq == 0 {
            self.apply_genesis(e)?;
        } else {
            self.apply_entry(seq, received_at, e)?;
            // Key recoveries whose seven days passed take effect from this record on.
            self.register.settle(seq, received_at);
        }
        self.size += 1;
        self.last_received_at = Some(received_at.clone());
        Ok(())
    }

    fn apply_genesis(&mut self, e: &VerifiedEntry) -> Result<(), Refusal> {
        let Body::Genesis(g) = &e.body else {
            return Err(Refusal::new(
                Code::GenesisExpected,
                format!("record 0 must be a genesis entry, not {}", e.kind.as_str()),
            ));
        };
        if e.author != Author::Operator {
            return Err(Refusal::new(Code::OperatorOnly, "genesis is authored by the operator"));
        }
        if g.operator_key != e.key {
            return Err(Refusal::new(Code::WrongKey, "genesis must be signed with its operator_key"));
        }
        if g.currency != "EUR" {
            return Err(Refusal::new(
                Code::BadCurrency,
                format!("currency {:?} is not supported; meent keeps euros (\"EUR\")", g.currency),
            ));
        }
        if g.origin.is_empty() || g.origin.contains('\n') || g.origin.chars().any(char::is_whitespace) {
            return Err(Refusal::new(Code::BadOrigin, "origin must be a non-empty name without whitespace"));
        }
        let mut register = Register::default();
        register.reserve_key(&g.operator_key)?;
        for r in &g.registrars {
            register.add_registrar(&r.id, &r.key)?;
        }
        self.origin = Some(g.origin.clone());
        self.operator_key = Some(g.operator_key);
        self.register = register;
        Ok(())
    }

    /// The open proposals whose `proposal.close` is due at `now`: their deadline
    /// has passed, or every member counted at opening has voted.
    pub fn due_closes(&self, now: &Timestamp) -> Vec<EntryId> {
        self.funds.due_closes(now)
    }

    /// The open budgeting rounds whose `round.close` is due at `now`: their
    /// `closes_at` has passed.
    pub fn due_round_closes(&self, now: &Timestamp) -> Vec<EntryId> {
        self.funds.due_round_closes(now)
    }

    fn apply_entry(&mut self, seq: Seq, received_at: &Timestamp, e: &VerifiedEntry) -> Result<(), Refusal> {
        let kind = e.kind.as_str();
        // Who signs: the operator with its key, an applicant with its new key, anyone else with its current key.
        match (&e.author, &e.body) {
            (_, Body::Genesis(_)) => {
                return Err(Refusal::new(Code::GenesisExists, "the log already has its genesis at record 0"))
            }
            (Author::Operator, body) => {
                if Some(e.key) != self.operator_key {
                    return Err(Refusal::new(Code::WrongKey, "operator entries must be signed with the operator key"));
                }
                if !matches!(body, Body::ProposalClose(_) | Body::RoundClose(_)) {
                    return Err(Refusal::new(
                        Code::OperatorNotAllowed,
                        format!("the operator may not author {kind} entries"),
                    ));
                }
            }
            (Author::Member(_), Body::MemberApply(_)) => {}
            (Author::Member(m), body) => {
                let member = self.register.check_key_at(m, &e.key, received_at)?;
                let may_act = match member.status {
                    MemberStatus::Admitted => true,
                    MemberStatus::Pending => matches!(body, Body::KeyRotate(_)) && !member.expired_at(received_at),
                    MemberStatus::Rejected => false,
                };
                if !may_act {
                    return Err(Refusal::new(
                        Code::NotAdmitted,
                        format!("{m} is not an admitted member and may not author {kind} entries"),
                    ));
                }
            }
        }
        match &e.body {
            Body::MemberApply(b) => self.register.apply(seq, received_at, &e.author, &e.key, b),
            Body::MemberAdmit(b) => self.register.decide(seq, received_at, author_member(e)?, b, true),
            Body::MemberReject(b) => self.register.decide(seq, received_at, author_member(e)?, b, false),
            Body::KeyRotate(b) => self.register.rotate(seq, author_member(e)?, b),
            Body::MemberUpdate(b) => self.register.update(author_member(e)?, b),
            Body::KeyRecover(b) => self.register.recover(seq, e.id, received_at, author_member(e)?, b),
            Body::KeyRecoverCancel(b) => self.register.cancel_recovery(seq, received_at, author_member(e)?, b),
            Body::KeyRecoverApprove(b) => self.register.approve_recovery(received_at, author_member(e)?, b),
            Body::RegistrarPropose(b) => self.register.propose_registrar(seq, e.id, author_member(e)?, b),
            Body::RegistrarApprove(b) => self.register.approve_registrar(seq, author_member(e)?, b),
            Body::FundCreate(_)
            | Body::FundJoin(_)
            | Body::FundLeave(_)
            | Body::Contribution(_)
            | Body::PledgeMatching(_)
            | Body::Proposal(_)
            | Body::Vote(_)
            | Body::ProposalClose(_)
            | Body::Disbursement(_)
            | Body::DisbursementApprove(_)
            | Body::Reconciliation(_)
            | Body::Reversal(_)
            | Body::RoundOpen(_)
            | Body::RoundProject(_)
            | Body::Ballot(_)
            | Body::RoundClose(_)
            | Body::AllocationRelease(_)
            | Body::ProposalWithdraw(_)
            | Body::Income(_) => {
                let ctx = Ctx { seq, received_at, id: e.id, author: &e.author, register: &self.register };
                self.funds.apply(&ctx, &e.body)
            }
            Body::Genesis(_) => Err(Refusal::new(Code::GenesisExists, "the log already has its genesis at record 0")),
        }
    }
}

fn author_member(e: &VerifiedEntry) -> Result<&crate::ids::MemberId, Refusal> {
    e.author
        .member()
        .ok_or_else(|| Refusal::new(Code::MemberOnly, format!("{} entries are authored by members", e.kind.as_str())))
}
