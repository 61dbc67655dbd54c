//! `GET /v1/proposals` and `/v1/proposals/{id}`: tally, status, outcome, and
//! every counted vote with its entry and time.

use serde::{Deserialize, Serialize};

use crate::entry::{Choice, ProposalKind, RoundRule};
use crate::funds::{Outcome, ProposalState, ProposalStatus, Tally};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Amount, Balance, Fraction};
use crate::state::State;
use crate::time::Timestamp;
use crate::views::{CharterView, Page};

/// Votes cast, by choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TallyView {
    /// Yes.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub yes: u64,
    /// No.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub no: u64,
    /// Abstain.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub abstain: u64,
}

impl From<Tally> for TallyView {
    fn from(t: Tally) -> Self {
        TallyView { yes: t.yes, no: t.no, abstain: t.abstain }
    }
}

/// A member's counted vote (its latest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoteView {
    /// The member.
    pub member: MemberId,
    /// Its choice.
    pub choice: Choice,
    /// The `vote` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// When the ledger received it.
    pub received_at: Timestamp,
}

/// One proposal and its vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalView {
    /// The proposal entry (or the `fund.join` that opened an admission vote).
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
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
    pub amount: Option<Amount>,
    /// An allocation's recipient.
    pub recipient: Option<MemberId>,
    /// An admission's candidate.
    pub member: Option<MemberId>,
    /// A charter proposal's new charter.
    pub charter: Option<CharterView>,
    /// When it was received.
    pub opened_at: Timestamp,
    /// Votes received at or after this are refused.
    pub closes_at: Timestamp,
    /// The quorum of the charter at opening.
    pub quorum: Fraction,
    /// The threshold of the charter at opening.
    pub threshold: Fraction,
    /// The members who vote on it (the fund's members at opening).
    pub counted: Vec<MemberId>,
    /// The counted votes, by member id.
    pub votes: Vec<VoteView>,
    /// How many counted members voted.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub votes_cast: u64,
    /// Whether every counted member voted (the proposal may close early).
    pub all_voted: bool,
    /// The votes by choice.
    pub tally: TallyView,
    /// Open or closed.
    pub status: ProposalStatus,
    /// The outcome once closed, null while open.
    pub outcome: Option<Outcome>,
    /// The record that closed it.
    pub closed_seq: Option<u64>,
    /// When it closed.
    pub closed_at: Option<Timestamp>,
    /// Why it closed without its own close entry.
    pub close_reason: Option<String>,
    /// A passed allocation: requested in disbursements not reversed.
    pub requested: Balance,
    /// A passed allocation: paid out.
    pub paid: Balance,
    /// A round proposal's terms; its round has the proposal's id.
    pub round_terms: Option<RoundTermsView>,
    /// A cancellation's round.
    pub round: Option<EntryId>,
    /// An exclusion's reason.
    pub reason: Option<String>,
    /// A member who neither votes nor counts in the quorum (the allocation's
    /// recipient, the member an exclusion is about).
    pub conflicted: Option<MemberId>,
}

/// What a `round` proposal opens when it passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundTermsView {
    /// The budget, committed at the close.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// Days for projects, from the close.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub projects_days: u32,
    /// Days for ballots, after the projects.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub voting_days: u32,
}

impl ProposalView {
    /// The view of proposal `p`.
    pub fn of(p: &ProposalState) -> ProposalView {
        let votes = p
            .votes
            .iter()
            .filter_map(|(m, c)| {
                let r = p.vote_records.get(m)?;
                Some(VoteView {
                    member: m.clone(),
                    choice: *c,
                    id: r.id,
                    seq: r.seq,
                    received_at: r.received_at.clone(),
                })
            })
            .collect();
        ProposalView {
            id: p.id,
            seq: p.seq,
            fund: p.fund.clone(),
            author: p.author.clone(),
            proposal_kind: p.proposal_kind,
            title: p.title.clone(),
            description: p.description.clone(),
            amount: p.amount,
            recipient: p.recipient.clone(),
            member: p.member.clone(),
            charter: p.charter.as_ref().map(CharterView::from),
            opened_at: p.opened_at.clone(),
            closes_at: p.closes_at.clone(),
            quorum: p.quorum.clone(),
            threshold: p.threshold.clone(),
            counted: p.counted.iter().cloned().collect(),
            votes,
            votes_cast: p.votes.len() as u64,
            all_voted: p.all_voted(),
            tally: p.tally().into(),
            status: p.status,
            outcome: p.outcome,
            closed_seq: p.closed_seq,
            closed_at: p.closed_at.clone(),
            close_reason: p.close_reason.clone(),
            requested: p.requested,
            paid: p.paid,
            round_terms: p.round_terms.as_ref().map(|t| RoundTermsView {
                budget: t.budget,
                rule: t.rule,
                projects_days: t.projects_days,
                voting_days: t.voting_days,
            }),
            round: p.round,
            reason: p.reason.clone(),
            conflicted: p.conflicted.clone(),
        }
    }
}

/// A page of proposals, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalList {
    /// The proposals.
    pub proposals: Vec<ProposalView>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl ProposalList {
    /// The proposals of `fund` (all funds when `None`) with the given status, paged.
    pub fn of(state: &State, fund: Option<&FundId>, status: Option<ProposalStatus>, page: Page) -> ProposalList {
        let mut all: Vec<&ProposalState> = state
            .funds
            .proposals
            .values()
            .filter(|p| fund.is_none_or(|f| &p.fund == f))
            .filter(|p| status.is_none_or(|s| p.status == s))
            .collect();
        all.sort_by_key(|p| p.seq);
        let (proposals, next) = page.take(all.into_iter().map(|p| (p.seq, ProposalView::of(p))));
        ProposalList { proposals, next }
    }
}
