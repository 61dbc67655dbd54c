//! Proposals, votes and closes (SPEC §4.2): one member, one vote; the members
//! counted are the fund's members when the proposal is appended; quorum on all
//! votes cast; a strict threshold on yes / (yes + no); votes replaceable until
//! the close; deadlines judged on `received_at`.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{money, payouts, Balances, Ctx, Dissolution, Fund, FundStatus, Funds, Refund};
use crate::entry::{Charter, Choice, Proposal, ProposalClose, ProposalKind, RoundRule, Vote};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::money::{Amount, Balance, Fraction};
use crate::time::Timestamp;

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Taking votes.
    Open,
    /// Decided.
    Closed,
}

/// How a proposal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Quorum reached and yes / (yes + no) above the threshold (and, for an allocation, the money is there).
    Passed,
    /// Quorum reached, threshold not.
    Rejected,
    /// Too few votes cast.
    RejectedNoQuorum,
    /// Voted through, but the allocation (or a round's budget) is above the available balance at the close.
    RejectedInsufficientFunds,
    /// Withdrawn by its author while open (`proposal.withdraw`).
    Withdrawn,
}

/// What a `round` proposal opens when it passes (SPEC §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTerms {
    /// The budget, committed at the close.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// Days for projects, counted from the close.
    pub projects_days: u32,
    /// Days for ballots, after the projects.
    pub voting_days: u32,
}

/// Votes cast, by choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Yes.
    pub yes: u64,
    /// No.
    pub no: u64,
    /// Abstain.
    pub abstain: u64,
}

/// What a proposal decides besides its kind.
#[derive(Debug, Clone, Default)]
pub(super) struct Terms {
    pub amount: Option<Amount>,
    pub recipient: Option<MemberId>,
    pub member: Option<MemberId>,
    pub charter: Option<Charter>,
    pub round_terms: Option<RoundTerms>,
    pub round: Option<EntryId>,
    pub reason: Option<String>,
    /// Neither votes nor counts in the quorum.
    pub conflicted: Option<MemberId>,
    pub allocation: Option<EntryId>,
}

/// One proposal and its vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalState {
    /// The proposal entry (or the `fund.join` that opened an admission vote).
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The fund.
    pub fund: FundId,
    /// Who proposed it.
    pub author: MemberId,
    /// Allocation, admission, charter or dissolution.
    pub proposal_kind: ProposalKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// An allocation's amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// An allocation's recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<MemberId>,
    /// An admission's candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberId>,
    /// A charter proposal's new charter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charter: Option<Charter>,
    /// `received_at` of the proposal.
    pub opened_at: Timestamp,
    /// `opened_at + voting_period_seconds`: votes received at or after it are refused.
    pub closes_at: Timestamp,
    /// The quorum of the charter at opening.
    pub quorum: Fraction,
    /// The threshold of the charter at opening.
    pub threshold: Fraction,
    /// The fund's members at opening: only they vote, and they are the quorum's base.
    pub counted: BTreeSet<MemberId>,
    /// The counted vote of each member (a later vote replaces an earlier one).
    pub votes: BTreeMap<MemberId, Choice>,
    /// The record of each counted vote (its entry id and time).
    #[serde(default)]
    pub vote_records: BTreeMap<MemberId, crate::record::RecordRef>,
    /// Open or closed.
    pub status: ProposalStatus,
    /// The outcome, once closed.
    pub outcome: Option<Outcome>,
    /// The record that closed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_seq: Option<Seq>,
    /// When it closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Why it closed without its own close entry (e.g. the fund was dissolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// A passed allocation: requested in disbursements not reversed (pending or executed).
    pub requested: Balance,
    /// A passed allocation: paid out (executed disbursements).
    pub paid: Balance,
    /// A round proposal's terms; the round it opens has the proposal's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_terms: Option<RoundTerms>,
    /// A cancellation's round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<EntryId>,
    /// An exclusion's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The member with a conflict of interest (an allocation's recipient, the
    /// member an exclusion is about): it neither votes nor counts in the quorum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicted: Option<MemberId>,
    /// A cancellation's target allocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<EntryId>,
}

impl ProposalState {
    /// The votes, counted by choice.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for c in self.votes.values() {
            match c {
                Choice::Yes => t.yes += 1,
                Choice::No => t.no += 1,
                Choice::Abstain => t.abstain += 1,
            }
        }
        t
    }

    /// Whether every member counted at opening has voted.
    pub fn all_voted(&self) -> bool {
        self.votes.len() >= self.counted.len()
    }

    /// The outcome if it closed now, with `available` in the fund.
    pub fn decide(&self, available: Balance) -> Outcome {
        let t = self.tally();
        let cast = Decimal::from(t.yes + t.no + t.abstain);
        // quorum <= 1 with 4 decimals times a member count cannot overflow a Decimal.
        let needed =
            self.quorum.as_decimal().checked_mul(Decimal::from(self.counted.len() as u64)).unwrap_or(Decimal::MAX);
        if cast < needed {
            return Outcome::RejectedNoQuorum;
        }
        let decided = t.yes + t.no;
        let above = decided > 0
            && Decimal::from(t.yes)
                > self.threshold.as_decimal().checked_mul(Decimal::from(decided)).unwrap_or(Decimal::MAX);
        if !above {
            return Outcome::Rejected;
        }
        if self.proposal_kind == ProposalKind::Allocation {
            if let Some(a) = self.amount {
                if Balance::from(a) > available {
                    return Outcome::RejectedInsufficientFunds;
                }
            }
        }
        if let (ProposalKind::Round, Some(t)) = (self.proposal_kind, &self.round_terms) {
            if Balance::from(t.budget) > available {
                return Outcome::RejectedInsufficientFunds;
            }
        }
        Outcome::Passed
    }

    /// A new open proposal in `fund` by `author`, counted over the fund's members now.
    pub(super) fn open(
        ctx: &Ctx<'_>,
        fund: &Fund,
        author: &MemberId,
        kind: ProposalKind,
        title: String,
        description: String,
        terms: Terms,
    ) -> Result<Self, Refusal> {
        let period = i64::try_from(fund.charter.voting_period_seconds).ok().and_then(chrono::TimeDelta::try_seconds);
        let closes = period.and_then(|d| ctx.received_at.instant().checked_add_signed(d));
        let Some(closes) = closes else {
            return Err(Refusal::new(
                Code::BadVotingPeriod,
                format!("voting period of {} seconds is out of range", fund.charter.voting_period_seconds),
            ));
        };
        // Where the agreement itself changes, the charter's stronger majority applies.
        let threshold = match kind {
            ProposalKind::Charter | ProposalKind::Dissolution | ProposalKind::Exclusion => {
                fund.charter.amend_threshold()
            }
            _ => fund.charter.threshold.clone(),
        };
        let mut counted = fund.members.clone();
        if let Some(c) = &terms.conflicted {
            counted.remove(c);
        }
        Ok(ProposalState {
            id: ctx.id,
            seq: ctx.seq,
            fund: fund.id.clone(),
            author: author.clone(),
            proposal_kind: kind,
            title,
            description,
            amount: terms.amount,
            recipient: terms.recipient,
            member: terms.member,
            charter: terms.charter,
            opened_at: ctx.received_at.clone(),
            closes_at: Timestamp::from_instant(closes),
            quorum: fund.charter.quorum.clone(),
            threshold,
            counted,
            votes: BTreeMap::new(),
            vote_records: BTreeMap::new(),
            status: ProposalStatus::Open,
            outcome: None,
            closed_seq: None,
            closed_at: None,
            close_reason: None,
            requested: Balance::ZERO,
            paid: Balance::ZERO,
            round_terms: terms.round_terms,
            round: terms.round,
            reason: terms.reason,
            conflicted: terms.conflicted,
            allocation: terms.allocation,
        })
    }
}

/// What a close will write, computed before anything is written.
struct ClosePlan {
    outcome: Outcome,
    balances: Balances,
    effect: Effect,
}

enum Effect {
    None,
    Admit(MemberId),
    Charter { charter: Charter, execute: payouts::Executions },
    Dissolve { dissolution: Dissolution, also_closed: Vec<EntryId>, cancelled_rounds: Vec<EntryId> },
    OpenRound(Box<super::RoundState>),
    CancelRound(EntryId),
    Exclude(MemberId, super::ExclusionRecord),
    Release(Box<super::release::ReleasePlan>),
}

pub(super) fn bad_fields(kind: &str, msg: &str) -> Refusal {
    Refusal::new(Code::BadProposal, format!("a {kind} proposal {msg}"))
}

/// The fields a proposal of each kind may carry: any other is refused.
fn check_fields(b: &Proposal) -> Result<(), Refusal> {
    let present = [
        ("amount", b.amount.is_some()),
        ("recipient", b.recipient.is_some()),
        ("member", b.member.is_some()),
        ("charter", b.charter.is_some()),
        ("budget", b.budget.is_some()),
        ("rule", b.rule.is_some()),
        ("projects_days", b.projects_days.is_some()),
        ("voting_days", b.voting_days.is_some()),
        ("round", b.round.is_some()),
        ("allocation", b.allocation.is_some()),
        ("reason", b.reason.is_some()),
    ];
    let (kind, allowed): (&str, &[&str]) = match b.proposal_kind {
        ProposalKind::Allocation => ("allocation", &["amount", "recipient"]),
        ProposalKind::Admission => ("admission", &["member"]),
        ProposalKind::Charter => ("charter", &["charter"]),
        ProposalKind::Dissolution => ("dissolution", &[]),
        ProposalKind::Round => ("round", &["budget", "rule", "projects_days", "voting_days"]),
        ProposalKind::Cancellation => ("cancellation", &["round", "allocation"]),
        ProposalKind::Exclusion => ("exclusion", &["member", "reason"]),
    };
    for (field, is) in present {
        if is && !allowed.contains(&field) {
            let list = if allowed.is_empty() { "no fields".to_string() } else { allowed.join(", ") };
            return Err(bad_fields(kind, &format!("carries {list}, not {field}")));
        }
    }
    Ok(())
}

impl Funds {
    pub(super) fn insert_proposal(&mut self, p: ProposalState) -> Result<(), Refusal> {
        let fund = self.fund_mut(&p.fund)?;
        fund.proposals.push(p.id);
        self.open.insert(p.id);
        self.proposals.insert(p.id, p);
        Ok(())
    }

    pub(super) fn check_no_pending_admission(&self, fund: &FundId, member: &MemberId) -> Result<(), Refusal> {
        let pending = self.open_proposals().find(|p| {
            &p.fund == fund && p.proposal_kind == ProposalKind::Admission && p.member.as_ref() == Some(member)
        });
        match pending {
            Some(p) => Err(Refusal::new(
                Code::AdmissionPending,
                format!("the admission of {member} to {fund} is already being voted on in {}", p.id),
            )),
            None => Ok(()),
        }
    }

    /// `proposal`: by a member of a fund that still works.
    pub(super) fn propose(&mut self, ctx: &Ctx<'_>, b: &Proposal) -> Result<(), Refusal> {
        let author = ctx.member("proposal")?;
        let fund = self.active_fund(&b.fund)?;
        if !fund.is_member(author) {
            return Err(Refusal::new(
                Code::NotFundMember,
                format!("{author} is not a member of {}; only members propose", b.fund),
            ));
        }
        check_fields(b)?;
        let mut terms = Terms::default();
        if b.proposal_kind != ProposalKind::Cancellation && (b.allocation.is_some() || b.round.is_some()) {
            return Err(bad_fields("non-cancellation", "has no allocation or round"));
        }
        match b.proposal_kind {
            ProposalKind::Allocation => {
                let (Some(amount), Some(recipient), None, None) = (b.amount, &b.recipient, &b.member, &b.charter)
                else {
                    return Err(bad_fields("allocation", "has an amount and a recipient, and no member or charter"));
                };
                if amount > fund.charter.max_request {
                    return Err(Refusal::new(
                        Code::OverMaxRequest,
                        format!("{amount} is above the charter's max_request of {}", fund.charter.max_request),
                    ));
                }
                if !ctx.register.is_admitted(recipient) {
                    return Err(Refusal::new(
                        Code::UnknownMember,
                        format!("recipient {recipient} is not an admitted member"),
                    ));
                }
                terms.amount = Some(amount);
                terms.recipient = Some(recipient.clone());
            }
            ProposalKind::Admission => {
                let (None, None, Some(member), None) = (b.amount, &b.recipient, &b.member, &b.charter) else {
                    return Err(bad_fields("admission", "has a member, and no amount, recipient or charter"));
                };
                if !ctx.register.is_admitted(member) {
                    return Err(Refusal::new(
                        Code::UnknownMember,
                        format!("{member} is not an admitted member of the register"),
                    ));
                }
                if fund.is_member(member) {
                    return Err(Refusal::new(
                        Code::AlreadyMember,
                        format!("{member} is already a member of {}", b.fund),
                    ));
                }
                self.check_no_pending_admission(&b.fund, member)?;
                terms.member = Some(member.clone());
            }
            ProposalKind::Charter => {
                let (None, None, None, Some(charter)) = (b.amount, &b.recipient, &b.member, &b.charter) else {
                    return Err(bad_fields("charter", "has a charter, and no amount, recipient or member"));
                };
                super::charter::validate(charter, ctx.register)?;
                terms.charter = Some(charter.clone());
            }
            ProposalKind::Dissolution => {
                if b.amount.is_some() || b.recipient.is_some() || b.member.is_some() || b.charter.is_some() {
                    return Err(bad_fields("dissolution", "has no amount, recipient, member or charter"));
                }
            }
            ProposalKind::Round => terms.round_terms = Some(super::round_decision::terms(b)?),
            ProposalKind::Cancellation => match (b.round, b.allocation) {
                (Some(_), None) => terms.round = Some(self.cancellation_target(fund, b)?),
                (None, Some(_)) => {
                    let allocation = super::release::cancellation_target(self, b)?;
                    // The recipient neither votes on nor counts in the quorum of its allocation's end.
                    terms.conflicted = self.allocation_recipient(&allocation);
                    terms.allocation = Some(allocation);
                }
                _ => return Err(bad_fields("cancellation", "names exactly one of round and allocation")),
            },
            ProposalKind::Exclusion => {
                let (member, reason) = self.exclusion_terms(fund, author, b)?;
                terms.member = Some(member.clone());
                terms.conflicted = Some(member);
                terms.reason = Some(reason);
            }
        }
        if b.proposal_kind == ProposalKind::Allocation {
            terms.conflicted = terms.recipient.clone();
        }
        let p = ProposalState::open(ctx, fund, author, b.proposal_kind, b.title.clone(), b.description.clone(), terms)?;
        self.insert_proposal(p)
    }

    /// `vote`: by a counted member, before the deadline and the close.
    pub(super) fn vote(&mut self, ctx: &Ctx<'_>, b: &Vote) -> Result<(), Refusal> {
        let author = ctx.member("vote")?;
        let p = self
            .proposals
            .get(&b.proposal)
            .ok_or_else(|| Refusal::new(Code::UnknownProposal, format!("no proposal {}", b.proposal)))?;
        if p.status == ProposalStatus::Closed {
            return Err(Refusal::new(Code::ProposalClosed, format!("proposal {} is closed", b.proposal)));
        }
        if p.conflicted.as_ref() == Some(author) {
            return Err(Refusal::new(
                Code::ConflictOfInterest,
                format!(
                    "{author} has a conflict of interest in proposal {} (it is about {author}); it neither votes nor counts in the quorum",
                    b.proposal
                ),
            ));
        }
        if !p.counted.contains(author) {
            let member_now = self.funds.get(&p.fund).is_some_and(|f| f.is_member(author));
            return Err(if member_now {
                Refusal::new(
                    Code::NotCounted,
                    format!(
                        "{author} joined {} after proposal {} opened; only the members at opening vote",
                        p.fund, b.proposal
                    ),
                )
            } else {
                Refusal::new(
                    Code::NotFundMember,
                    format!("{author} is not a member of {}; only its members vote", p.fund),
                )
            });
        }
        if ctx.received_at.instant() >= p.closes_at.instant() {
            return Err(Refusal::new(
                Code::VotingClosed,
                format!(
                    "voting on {} ended at {}; this vote was received at {}",
                    b.proposal, p.closes_at, ctx.received_at
                ),
            ));
        }
        if let Some(p) = self.proposals.get_mut(&b.proposal) {
            p.votes.insert(author.clone(), b.choice);
            let at = ctx.received_at.clone();
            p.vote_records
                .insert(author.clone(), crate::record::RecordRef { id: ctx.id, seq: ctx.seq, received_at: at });
        }
        Ok(())
    }

    /// `proposal.close`: by anyone once the deadline passed or every counted member voted.
    pub(super) fn close(&mut self, ctx: &Ctx<'_>, b: &ProposalClose) -> Result<(), Refusal> {
        let p = self
            .proposals
            .get(&b.proposal)
            .ok_or_else(|| Refusal::new(Code::UnknownProposal, format!("no proposal {}", b.proposal)))?;
        if p.status == ProposalStatus::Closed {
            return Err(Refusal::new(Code::ProposalClosed, format!("proposal {} is already closed", b.proposal)));
        }
        if ctx.received_at.instant() < p.closes_at.instant() && !p.all_voted() {
            return Err(Refusal::new(
                Code::TooEarlyToClose,
                format!(
                    "proposal {} is open until {}, and {} of {} counted members have voted",
                    b.proposal,
                    p.closes_at,
                    p.votes.len(),
                    p.counted.len()
                ),
            ));
        }
        let plan = self.plan_close(ctx, p)?;
        plan.balances.check(&p.fund)?;
        let fund_id = p.fund.clone();
        let id = p.id;
        let p_kind = p.proposal_kind;

        // Write: nothing below can fail (the fund was found by plan_close).
        let Some(fund) = self.funds.get_mut(&fund_id) else {
            return Err(Refusal::new(Code::UnknownFund, format!("no fund {fund_id}")));
        };
        fund.balances = plan.balances;
        let mut executions = None;
        let mut also_closed = Vec::new();
        let mut cancelled_rounds = Vec::new();
        match plan.effect {
            Effect::None => {}
            Effect::Admit(m) => {
                fund.excluded.remove(&m);
                fund.members.insert(m);
            }
            Effect::OpenRound(r) => {
                fund.rounds.push(r.id);
                self.open_rounds.insert(r.id);
                self.rounds.insert(r.id, *r);
            }
            Effect::CancelRound(round) => cancelled_rounds.push(round),
            Effect::Exclude(m, record) => {
                fund.members.remove(&m);
                fund.excluded.insert(m, record);
            }
            Effect::Charter { charter, execute } => {
                fund.charter = charter;
                fund.charter_seq = ctx.seq;
                executions = Some(execute);
            }
            Effect::Dissolve { dissolution, also_closed: others, cancelled_rounds: rounds } => {
                fund.status = FundStatus::Dissolved;
                fund.dissolution = Some(dissolution);
                also_closed = others;
                cancelled_rounds = rounds;
            }
            Effect::Release(plan) => self.write_release(*plan),
        }
        self.mark_closed(id, plan.outcome, ctx, None);
        for other in also_closed {
            self.mark_closed(other, Outcome::Rejected, ctx, Some("the fund was dissolved".into()));
        }
        let why = if p_kind == ProposalKind::Cancellation {
            format!("cancelled by proposal {id}")
        } else {
            "the fund was dissolved".to_string()
        };
        for round in cancelled_rounds {
            self.cancel_round(round, ctx, &why);
        }
        if let Some(e) = executions {
            self.write_executions(e, ctx.seq, ctx.received_at);
        }
        Ok(())
    }

    pub(super) fn mark_closed(&mut self, id: EntryId, outcome: Outcome, ctx: &Ctx<'_>, reason: Option<String>) {
        self.open.remove(&id);
        if let Some(p) = self.proposals.get_mut(&id) {
            p.status = ProposalStatus::Closed;
            p.outcome = Some(outcome);
            p.closed_seq = Some(ctx.seq);
            p.closed_at = Some(ctx.received_at.clone());
            p.close_reason = reason;
        }
    }

    fn plan_close(&self, ctx: &Ctx<'_>, p: &ProposalState) -> Result<ClosePlan, Refusal> {
        let fund = self.known_fund(&p.fund)?;
        let mut balances = fund.balances;
        if fund.status == FundStatus::Dissolved {
            // Cannot happen: a dissolution closes every other open proposal of its fund.
            return Ok(ClosePlan { outcome: Outcome::Rejected, balances, effect: Effect::None });
        }
        let outcome = p.decide(balances.available);
        if outcome != Outcome::Passed {
            return Ok(ClosePlan { outcome, balances, effect: Effect::None });
        }
        let effect = match p.proposal_kind {
            ProposalKind::Allocation => {
                let amount =
                    p.amount.ok_or_else(|| Refusal::new(Code::BadProposal, "an allocation without an amount"))?;
                balances.available = money(balances.available.minus(amount), "available")?;
                balances.committed = money(balances.committed.plus(amount), "committed")?;
                Effect::None
            }
            ProposalKind::Admission => match &p.member {
                Some(m) if !fund.is_member(m) && ctx.register.is_admitted(m) => Effect::Admit(m.clone()),
                _ => Effect::None,
            },
            ProposalKind::Charter => {
                let charter = p
                    .charter
                    .clone()
                    .ok_or_else(|| Refusal::new(Code::BadProposal, "a charter proposal without a charter"))?;
                let execute = self.executable(fund, &charter, &mut balances)?;
                Effect::Charter { charter, execute }
            }
            ProposalKind::Cancellation if p.allocation.is_some() => {
                // If the allocation was released or paid in full meanwhile, the cancellation has nothing left to end.
                let planned = p
                    .allocation
                    .map(|a| self.plan_release(ctx, a, super::release::ReleaseKind::Cancelled, p.id, p.title.clone()));
                match planned {
                    Some(Ok(plan)) => {
                        balances = plan.balances();
                        Effect::Release(Box::new(plan))
                    }
                    _ => Effect::None,
                }
            }
            ProposalKind::Dissolution => {
                // Running budgeting rounds end without an outcome: their budgets join the pool.
                let (cancelled_rounds, budgets) = self.open_rounds_of(&p.fund)?;
                super::rounds::release(&mut balances, budgets)?;
                let pool = balances.available;
                let weights = super::dissolution::refund_weights(&fund.contributed, &fund.members);
                let shares = money(super::pro_rata(pool, &weights), "refunds")?;
                let refunds = shares
                    .into_iter()
                    .map(|(m, owed)| {
                        let contributed = fund.contributed.get(&m).copied().unwrap_or_default();
                        (m, Refund { contributed, owed, requested: Balance::ZERO, paid: Balance::ZERO })
                    })
                    .collect();
                balances.committed = money(balances.committed.checked_add(pool), "committed")?;
                balances.available = Balance::ZERO;
                let also_closed =
                    self.open_proposals().filter(|o| o.fund == p.fund && o.id != p.id).map(|o| o.id).collect();
                Effect::Dissolve {
                    dissolution: Dissolution {
                        proposal: p.id,
                        seq: ctx.seq,
                        at: ctx.received_at.clone(),
                        pool,
                        refunds,
                    },
                    also_closed,
                    cancelled_rounds,
                }
            }
            ProposalKind::Round => {
                let round = super::round_decision::open(ctx, p)?;
                balances.available = money(balances.available.minus(round.budget), "available")?;
                balances.committed = money(balances.committed.plus(round.budget), "committed")?;
                Effect::OpenRound(Box::new(round))
            }
            ProposalKind::Cancellation => match p.round.and_then(|r| self.open_rounds().find(|o| o.id == r)) {
                Some(r) => {
                    super::rounds::release(&mut balances, Balance::from(r.budget))?;
                    Effect::CancelRound(r.id)
                }
                // The round closed before the vote did: its outcome stands.
                None => Effect::None,
            },
            ProposalKind::Exclusion => match self.exclusion_effect(ctx, fund, p) {
                Some((m, record)) => Effect::Exclude(m, record),
                None => Effect::None,
            },
        };
        Ok(ClosePlan { outcome, balances, effect })
    }
}
