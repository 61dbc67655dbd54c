//! The solidarity funds (SPEC §4): charters, membership, contributions,
//! matching pledges, proposals and votes, budgeting rounds, payouts,
//! reconciliation, reversal and dissolution — a pure function of the log.
//!
//! Every handler works in two phases: first it checks every rule and computes
//! every new value (balances, statuses, sums — all checked arithmetic), then it
//! writes them, with nothing left that can fail. So a refused entry changes
//! nothing. Every handler that moves money computes the fund's new
//! [`Balances`] and checks conservation (`confirmed = available + committed +
//! disbursed`, nothing negative) before it writes; a violation is refused with
//! `conservation_violated` naming the fund, which `meent verify` reports as the
//! first bad record.
//!
//! The decisions the spec leaves open are in `docs/DOMAIN.md`.

mod charter;
mod confirm;
mod contribution;
mod contribution_log;
mod dissolution;
mod exclusion;
mod governance;
mod income;
mod matching;
mod payouts;
mod release;
mod returns;
mod round_decision;
mod rounds;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::derived::Derived;
use crate::entry::{
    Admission, Body, Charter, Contribution, FundCreate, FundRef, ProposalKind, Reconciliation, Reversal,
};
use crate::error::{Code, Refusal};
use crate::ids::{Author, EntryId, FundId, MemberId, Seq};
use crate::money::{Balance, MoneyError};
use crate::register::Register;
use crate::time::{Date, Timestamp};

pub use charter::validate as validate_charter;
pub use contribution::{ContributionExtra, ContributionState, ContributionStatus};
pub use contribution_log::{ContributionLog, Position};
pub use dissolution::{pro_rata, refund_weights, Dissolution, Refund};
pub use exclusion::ExclusionRecord;
pub use governance::{Outcome, ProposalState, ProposalStatus, RoundTerms, Tally};
pub use income::{IncomeState, IncomeStatus};
pub use matching::MatchingPledge;
pub use payouts::{DisbursementState, DisbursementStatus, PayoutKind};
pub use release::{Release, ReleaseKind};
pub use round_decision::DAY_SECONDS;
pub use rounds::{
    BallotState, ProjectPayment, ProjectStatus, RoundOutcome, RoundPhase, RoundProjectState, RoundState, RoundStatus,
};

/// What a handler needs to know about the entry besides its body.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The record the entry becomes.
    pub seq: Seq,
    /// The server's clock when it accepted the entry.
    pub received_at: &'a Timestamp,
    /// The entry's id.
    pub id: EntryId,
    /// Its author.
    pub author: &'a Author,
    /// The register, to check members and their kinds.
    pub register: &'a Register,
}

impl Ctx<'_> {
    /// The author as a member; the operator may author only closes.
    fn member(&self, kind: &str) -> Result<&MemberId, Refusal> {
        self.author
            .member()
            .ok_or_else(|| Refusal::new(Code::MemberOnly, format!("{kind} entries are authored by members")))
    }
}

/// A fund's balances (SPEC §4.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    /// Contributions not yet confirmed and not reversed.
    pub pledged: Balance,
    /// Contributions confirmed by a reconciliation.
    pub confirmed: Balance,
    /// Passed allocations (and a dissolution's refunds) not yet paid out.
    pub committed: Balance,
    /// Disbursements with enough approvals.
    pub disbursed: Balance,
    /// `confirmed − committed − disbursed`, kept separately and checked.
    pub available: Balance,
}

impl Balances {
    /// Conservation: `confirmed = available + committed + disbursed`, to the cent, and nothing negative.
    pub fn check(&self, fund: &FundId) -> Result<(), Refusal> {
        let sum = self.available.checked_add(self.committed).and_then(|s| s.checked_add(self.disbursed));
        let negative = [self.pledged, self.confirmed, self.committed, self.disbursed, self.available]
            .iter()
            .any(Balance::is_negative);
        match sum {
            Ok(sum) if sum == self.confirmed && !negative => Ok(()),
            _ => Err(Refusal::new(
                Code::ConservationViolated,
                format!(
                    "fund {fund} would break conservation: confirmed {} must equal available {} + committed {} + disbursed {}, none negative (pledged {})",
                    self.confirmed, self.available, self.committed, self.disbursed, self.pledged
                ),
            )),
        }
    }
}

/// Whether a fund still works or has been dissolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundStatus {
    /// Takes members, contributions and proposals.
    Active,
    /// Ended by a passed dissolution proposal.
    Dissolved,
}

/// A recorded bank reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationRecord {
    /// The reconciliation entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The treasurer who recorded it.
    pub author: MemberId,
    /// SHA-256 of the bank statement file.
    pub statement_sha256: String,
    /// First day of the statement.
    pub period_from: Date,
    /// Last day of the statement.
    pub period_to: Date,
    /// The bank's opening balance.
    pub opening_balance: Balance,
    /// The bank's closing balance.
    pub closing_balance: Balance,
    /// How many entries it confirmed.
    pub confirmed: usize,
    /// How many entries it recorded as returned by the bank.
    #[serde(default)]
    pub returned: usize,
    /// Bank lines matched to no entry.
    pub unmatched_bank_lines: u64,
}

/// One fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fund {
    /// Its id.
    pub id: FundId,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub purpose: String,
    /// The current charter.
    pub charter: Charter,
    /// The record that set the current charter (`fund.create` or a charter proposal's close).
    pub charter_seq: Seq,
    /// Who created it.
    pub creator: MemberId,
    /// The `fund.create` record.
    pub created_seq: Seq,
    /// When it was created.
    pub created_at: Timestamp,
    /// The members: one member, one vote.
    pub members: BTreeSet<MemberId>,
    /// Active or dissolved.
    pub status: FundStatus,
    /// The dissolution and its refunds, once dissolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dissolution: Option<Dissolution>,
    /// The balances.
    pub balances: Balances,
    /// Confirmed contributions per contributor (the weights of a pro-rata refund).
    pub contributed: BTreeMap<MemberId, Balance>,
    /// The municipality's matching pledges.
    pub matching: Vec<MatchingPledge>,
    /// Proposals, in log order.
    pub proposals: Vec<EntryId>,
    /// Contributions, in log order: their places in [`Funds::contributions`]
    /// (see [`Funds::contributions_of`]).
    pub contributions: Vec<Position>,
    /// Disbursements, in log order.
    pub disbursements: Vec<EntryId>,
    /// Reconciliations, in log order.
    pub reconciliations: Vec<ReconciliationRecord>,
    /// Budgeting rounds, in log order.
    #[serde(default)]
    pub rounds: Vec<EntryId>,
    /// Members excluded by a vote and not admitted again since: they rejoin only by an admission vote.
    #[serde(default)]
    pub excluded: BTreeMap<MemberId, ExclusionRecord>,
    /// Incomes, in log order.
    #[serde(default)]
    pub incomes: Vec<EntryId>,
}

impl Fund {
    /// Whether `m` is a treasurer under the current charter.
    pub fn is_treasurer(&self, m: &MemberId) -> bool {
        self.charter.treasurers.contains(m)
    }
    /// Whether `m` is a member.
    pub fn is_member(&self, m: &MemberId) -> bool {
        self.members.contains(m)
    }
}

/// Every fund and what happens in them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funds {
    /// The funds, by id.
    pub funds: BTreeMap<FundId, Fund>,
    /// Every proposal, by entry id.
    #[serde(deserialize_with = "crate::snapshot::sorted_map")]
    pub proposals: BTreeMap<EntryId, ProposalState>,
    /// Every contribution, in log order, found by entry id.
    pub contributions: ContributionLog,
    /// Every disbursement, by entry id.
    #[serde(deserialize_with = "crate::snapshot::sorted_map")]
    pub disbursements: BTreeMap<EntryId, DisbursementState>,
    /// The proposals still open (an index, so closes and admission checks stay cheap).
    #[serde(default)]
    open: BTreeSet<EntryId>,
    /// Every budgeting round, by the id of the `round` proposal that opened it.
    #[serde(default, deserialize_with = "crate::snapshot::sorted_map")]
    pub rounds: BTreeMap<EntryId, RoundState>,
    /// Every round project, by the id of its `round.project`.
    #[serde(default, deserialize_with = "crate::snapshot::sorted_map")]
    pub projects: BTreeMap<EntryId, RoundProjectState>,
    /// The rounds still open (an index for the closer).
    #[serde(default)]
    open_rounds: BTreeSet<EntryId>,
    /// Allocations ended early (released or cancelled), by allocation id.
    #[serde(default, deserialize_with = "crate::snapshot::sorted_map")]
    pub releases: BTreeMap<EntryId, Release>,
    /// Every income (money from outside the members), by entry id.
    #[serde(default, deserialize_with = "crate::snapshot::sorted_map")]
    pub incomes: BTreeMap<EntryId, IncomeState>,
    /// Each fund's payment references of its pledged (unconfirmed,
    /// unreversed) incomes; those of the contributions are indexed in
    /// [`ContributionLog`]. A bank line must tell them apart.
    #[serde(skip)]
    pledged_incomes: Derived<PledgedIncomes>,
}

/// Fund → payment reference → the pledged income that carries it.
type PledgedIncomes = HashMap<FundId, HashMap<CompactString, EntryId>>;

/// A money error as a refusal (checked arithmetic overflowed or went negative).
pub(crate) fn money<T>(r: Result<T, MoneyError>, what: &str) -> Result<T, Refusal> {
    r.map_err(|e| Refusal::new(Code::MoneyOverflow, format!("{what}: {e}")))
}

impl Funds {
    /// Apply a fund entry (any of the kinds of SPEC §4.1 but genesis and the register).
    pub fn apply(&mut self, ctx: &Ctx<'_>, body: &Body) -> Result<(), Refusal> {
        match body {
            Body::FundCreate(b) => self.create(ctx, b),
            Body::FundJoin(b) => self.join(ctx, b),
            Body::FundLeave(b) => self.leave(ctx, b),
            Body::Contribution(b) => self.contribute(ctx, b),
            Body::PledgeMatching(b) => self.pledge(ctx, b),
            Body::Proposal(b) => self.propose(ctx, b),
            Body::Vote(b) => self.vote(ctx, b),
            Body::ProposalClose(b) => self.close(ctx, b),
            Body::Disbursement(b) => self.disburse(ctx, b),
            Body::DisbursementApprove(b) => self.approve(ctx, b),
            Body::Reconciliation(b) => self.reconcile(ctx, b),
            Body::Reversal(b) => self.reverse(ctx, b),
            Body::RoundOpen(b) => self.open_round_entry(ctx, b),
            Body::RoundProject(b) => self.add_project(ctx, b),
            Body::Ballot(b) => self.cast_ballot(ctx, b),
            Body::RoundClose(b) => self.close_round(ctx, b),
            Body::AllocationRelease(b) => self.release(ctx, b),
            Body::ProposalWithdraw(b) => self.withdraw(ctx, b),
            Body::Income(b) => self.income(ctx, b),
            Body::Genesis(_)
            | Body::MemberApply(_)
            | Body::MemberAdmit(_)
            | Body::MemberReject(_)
            | Body::KeyRotate(_)
            | Body::MemberUpdate(_)
            | Body::KeyRecover(_)
            | Body::KeyRecoverCancel(_)
            | Body::KeyRecoverApprove(_)
            | Body::RegistrarPropose(_)
            | Body::RegistrarApprove(_) => Err(Refusal::new(Code::UnsupportedKind, "not a fund entry")),
        }
    }

    /// A fund by id.
    pub fn fund(&self, id: &FundId) -> Option<&Fund> {
        self.funds.get(id)
    }

    /// A fund's contributions, in log order.
    pub fn contributions_of<'a>(&'a self, f: &'a Fund) -> impl DoubleEndedIterator<Item = &'a ContributionState> + 'a {
        f.contributions.iter().filter_map(|&pos| self.contributions.at(pos))
    }

    /// The pledged contribution or income of `fund` whose payment reference is `reference`.
    pub fn pledged_with(&self, fund: &FundId, reference: &str) -> Option<EntryId> {
        match self.contributions.pledged_with(fund, reference) {
            Some(c) => Some(c.id),
            None => self.pledged_incomes().get(fund)?.get(reference).copied(),
        }
    }

    /// How many payment references of `fund` are pledged.
    pub fn pledged_count(&self, fund: &FundId) -> usize {
        self.contributions.pledged_count(fund) + self.pledged_incomes().get(fund).map_or(0, HashMap::len)
    }

    fn pledged_incomes(&self) -> &PledgedIncomes {
        self.pledged_incomes.get(|| {
            let mut refs = PledgedIncomes::new();
            for i in self.incomes.values().filter(|i| i.status == IncomeStatus::Pledged) {
                refs.entry(i.fund.clone()).or_default().insert(i.reference.as_str().into(), i.id);
            }
            refs
        })
    }

    /// Record that income `id`, pledged to `fund`, carries `reference`
    /// (after its check with [`Funds::pledged_with`]).
    fn pledge_income_reference(&mut self, fund: &FundId, reference: &str, id: EntryId) {
        if let Some(refs) = self.pledged_incomes.built_mut() {
            refs.entry(fund.clone()).or_default().insert(reference.into(), id);
        }
    }

    /// Forget an income's `reference` of `fund`: it is no longer pledged.
    fn unpledge_income_reference(&mut self, fund: &FundId, reference: &str) {
        if let Some(refs) = self.pledged_incomes.built_mut().and_then(|r| r.get_mut(fund)) {
            refs.remove(reference);
        }
    }

    /// Build the indexes derived from the data now (opening does, so that
    /// the first request does not).
    pub fn build_indexes(&self) {
        self.contributions.build_indexes();
        self.pledged_incomes();
    }

    /// A proposal by id.
    pub fn proposal(&self, id: &EntryId) -> Option<&ProposalState> {
        self.proposals.get(id)
    }

    /// The open proposals, by id.
    pub fn open_proposals(&self) -> impl Iterator<Item = &ProposalState> {
        self.open.iter().filter_map(|id| self.proposals.get(id))
    }

    fn known_fund(&self, id: &FundId) -> Result<&Fund, Refusal> {
        self.funds.get(id).ok_or_else(|| Refusal::new(Code::UnknownFund, format!("no fund {id}")))
    }

    fn active_fund(&self, id: &FundId) -> Result<&Fund, Refusal> {
        let f = self.known_fund(id)?;
        if f.status == FundStatus::Dissolved {
            return Err(Refusal::new(
                Code::FundDissolved,
                format!("fund {id} is dissolved: it takes no new members, contributions, proposals or rounds"),
            ));
        }
        Ok(f)
    }

    fn fund_mut(&mut self, id: &FundId) -> Result<&mut Fund, Refusal> {
        self.funds.get_mut(id).ok_or_else(|| Refusal::new(Code::UnknownFund, format!("no fund {id}")))
    }

    /// `fund.create`: the author becomes the first member.
    fn create(&mut self, ctx: &Ctx<'_>, b: &FundCreate) -> Result<(), Refusal> {
        let author = ctx.member("fund.create")?;
        if self.funds.contains_key(&b.id) {
            return Err(Refusal::new(Code::DuplicateFund, format!("fund id {} is already taken", b.id)));
        }
        charter::validate(&b.charter, ctx.register)?;
        let fund = Fund {
            id: b.id.clone(),
            name: b.name.clone(),
            purpose: b.purpose.clone(),
            charter: b.charter.clone(),
            charter_seq: ctx.seq,
            creator: author.clone(),
            created_seq: ctx.seq,
            created_at: ctx.received_at.clone(),
            members: BTreeSet::from([author.clone()]),
            status: FundStatus::Active,
            dissolution: None,
            balances: Balances::default(),
            contributed: BTreeMap::new(),
            matching: Vec::new(),
            proposals: Vec::new(),
            contributions: Vec::new(),
            disbursements: Vec::new(),
            reconciliations: Vec::new(),
            rounds: Vec::new(),
            excluded: BTreeMap::new(),
            incomes: Vec::new(),
        };
        self.funds.insert(b.id.clone(), fund);
        Ok(())
    }

    /// `fund.join`: immediate under open admission, an admission proposal under vote admission.
    fn join(&mut self, ctx: &Ctx<'_>, b: &FundRef) -> Result<(), Refusal> {
        let author = ctx.member("fund.join")?;
        let fund = self.active_fund(&b.fund)?;
        if fund.is_member(author) {
            return Err(Refusal::new(Code::AlreadyMember, format!("{author} is already a member of {}", b.fund)));
        }
        // A member excluded by a vote comes back only by a vote, whatever the admission rule.
        let admission = if fund.excluded.contains_key(author) { Admission::Vote } else { fund.charter.admission };
        match admission {
            Admission::Open => {
                self.fund_mut(&b.fund)?.members.insert(author.clone());
                Ok(())
            }
            Admission::Vote => {
                self.check_no_pending_admission(&b.fund, author)?;
                let p = ProposalState::open(
                    ctx,
                    fund,
                    author,
                    ProposalKind::Admission,
                    format!("admission of {author} to {}", b.fund),
                    format!("{author} asked to join {} (fund.join); the members vote on its admission", b.fund),
                    governance::Terms { member: Some(author.clone()), ..Default::default() },
                )?;
                self.insert_proposal(p)
            }
        }
    }

    /// `fund.leave`: the member's vote ends; proposals it was counted on keep counting it.
    fn leave(&mut self, ctx: &Ctx<'_>, b: &FundRef) -> Result<(), Refusal> {
        let author = ctx.member("fund.leave")?;
        let fund = self.known_fund(&b.fund)?;
        if !fund.is_member(author) {
            return Err(Refusal::new(Code::NotFundMember, format!("{author} is not a member of {}", b.fund)));
        }
        if fund.members.len() == 1 {
            return Err(Refusal::new(
                Code::LastMember,
                format!("{author} is the last member of {}; a fund without members could never decide again (dissolve it instead)", b.fund),
            ));
        }
        self.fund_mut(&b.fund)?.members.remove(author);
        Ok(())
    }

    /// `contribution`: pledged until a reconciliation confirms it.
    fn contribute(&mut self, ctx: &Ctx<'_>, b: &Contribution) -> Result<(), Refusal> {
        let author = ctx.member("contribution")?;
        let fund = self.active_fund(&b.fund)?;
        if let Some(other) = self.pledged_with(&b.fund, b.reference.as_str()) {
            return Err(Refusal::new(
                Code::DuplicateReference,
                format!("payment reference {:?} is already used by pledged contribution {other} to {}; a bank line could not tell them apart", b.reference, b.fund),
            ));
        }
        fund.check_matching(author, b.matching)?;
        let mut balances = fund.balances;
        balances.pledged = money(balances.pledged.plus(b.amount), "pledged")?;
        balances.check(&b.fund)?;
        let c = ContributionState {
            id: ctx.id,
            seq: ctx.seq,
            fund: b.fund.clone(),
            author: author.clone(),
            amount: b.amount,
            reference: b.reference.as_str().into(),
            note: b.note.as_deref().map(Box::from),
            received_at: ctx.received_at.clone(),
            status: ContributionStatus::Pledged,
            extra: b.matching.map(|m| Box::new(ContributionExtra { matching: Some(m), ..Default::default() })),
        };
        let place = self.contributions.len() as Position;
        let fund = self.fund_mut(&b.fund)?;
        fund.balances = balances;
        fund.contributions.push(place);
        self.contributions.push(c);
        Ok(())
    }

    /// `reconciliation`: confirms the listed contributions, incomes and disbursements, each
    /// at most once, and undoes the `returned` ones (confirm.rs, returns.rs): checked in
    /// full, then written.
    fn reconcile(&mut self, ctx: &Ctx<'_>, b: &Reconciliation) -> Result<(), Refusal> {
        let author = ctx.member("reconciliation")?;
        let fund = self.known_fund(&b.fund)?;
        confirm::check(fund, author, b)?;
        let mut plan = self.plan_confirmations(ctx, fund, b)?;
        let returns = self.plan_returns(ctx, fund, &b.returned, &b.confirmed, plan.pending())?;
        plan.check_balances(&b.fund)?;
        self.write_confirmations(ctx, b, author, plan, returns)
    }

    /// `reversal`: undoes a pledge that never arrived, or a pending disbursement.
    fn reverse(&mut self, ctx: &Ctx<'_>, b: &Reversal) -> Result<(), Refusal> {
        let author = ctx.member("reversal")?;
        if let Some(c) = self.contributions.get(&b.entry) {
            let fund = self.known_fund(&c.fund)?;
            if &c.author != author && !fund.is_treasurer(author) {
                return Err(Refusal::new(
                    Code::NotAllowedToReverse,
                    format!("only {} or a treasurer of {} may reverse contribution {}", c.author, c.fund, b.entry),
                ));
            }
            match c.status {
                ContributionStatus::Pledged => {}
                ContributionStatus::Confirmed | ContributionStatus::Returned => {
                    return Err(Refusal::new(
                        Code::ContributionConfirmed,
                        format!("contribution {} was confirmed by the bank statement of {}; money that arrived cannot be reversed", b.entry, opt_id(c.confirmed_by())),
                    ));
                }
                ContributionStatus::Reversed => {
                    return Err(Refusal::new(
                        Code::AlreadyReversed,
                        format!("contribution {} was already reversed by {}", b.entry, opt_id(c.reversed_by())),
                    ));
                }
            }
            let mut balances = fund.balances;
            balances.pledged = money(balances.pledged.minus(c.amount), "pledged")?;
            balances.check(&c.fund)?;
            let fund_id = c.fund.clone();
            let f = self.fund_mut(&fund_id)?;
            f.balances = balances;
            self.contributions.update(&b.entry, |c| {
                c.status = ContributionStatus::Reversed;
                let x = c.extra_mut();
                x.reversed_by = Some(ctx.id);
                x.reversal_reason = Some(b.reason.clone());
                x.reversed_at = Some(ctx.received_at.clone());
            });
            return Ok(());
        }
        if self.incomes.contains_key(&b.entry) {
            return self.reverse_income(ctx, author, b);
        }
        if self.disbursements.contains_key(&b.entry) {
            return self.reverse_disbursement(ctx, author, b);
        }
        Err(Refusal::new(
            Code::UnknownEntry,
            format!("no contribution, income or disbursement {}; only those can be reversed", b.entry),
        ))
    }

    /// The proposals whose close is due at `now`: the deadline has passed, or
    /// every member counted at opening has voted. The server submits a
    /// `proposal.close` for each.
    pub fn due_closes(&self, now: &Timestamp) -> Vec<EntryId> {
        let mut due: Vec<(&Timestamp, EntryId)> = self
            .open_proposals()
            .filter(|p| p.closes_at.instant() <= now.instant() || p.all_voted())
            .map(|p| (&p.closes_at, p.id))
            .collect();
        due.sort();
        due.into_iter().map(|(_, id)| id).collect()
    }
}

fn opt_id(id: Option<EntryId>) -> String {
    id.map(|i| i.to_hex()).unwrap_or_else(|| "an earlier entry".into())
}
