//! Participatory budgeting rounds (SPEC §4.4, §4.5): a passed `round`
//! proposal opens a round (`round_decision.rs`) with a budget taken from the
//! fund's available balance (committed while the round runs); members submit projects until `projects_until`,
//! then cast approval ballots until `closes_at`; at the close the round's
//! rule — `greedy` (`greedy_av`) or `equal_shares` (`mes_cost_add1_noex`),
//! computed by [`crate::pb::run`], the same code as `meent pb` — selects
//! projects. Each selected project becomes an allocation that the
//! disbursement rules pay out to its recipient; the rest of the budget goes
//! back to `available`.
//!
//! The round as a pabulib instance ([`Funds::round_instance`]) is what the
//! rule runs on and what `meent export --format pabulib` writes, so anyone
//! can recompute an outcome from the exported file. Decisions where the spec
//! is silent: docs/DOMAIN.md, "Budgeting rounds".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{money, Balances, Ctx, FundStatus, Funds};
use crate::entry::{Ballot, RoundClose, RoundOpen, RoundProject, RoundRule};
use crate::error::{Code, Refusal};
use crate::ids::{EntryId, FundId, MemberId, Seq};
use crate::limits::ROUND_PROJECTS_MAX;
use crate::money::{Amount, Balance};
use crate::pb;
use crate::time::Timestamp;

/// Where a round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Taking projects, then ballots, until its close.
    Open,
    /// Closed by a `round.close`: the outcome is recorded.
    Closed,
    /// Ended without an outcome: its fund was dissolved (the budget went
    /// into the dissolution's pool) or a cancellation passed (the budget went
    /// back to `available`).
    Cancelled,
}

/// Where a round is in time (for reads; the rules judge `received_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundPhase {
    /// Before `projects_until`: projects may be submitted.
    Projects,
    /// From `projects_until` until `closes_at`: ballots may be cast.
    Voting,
    /// At or after `closes_at`, before the `round.close` is recorded.
    Counting,
    /// Closed: the outcome is recorded.
    Closed,
    /// Cancelled by the fund's dissolution or by a cancellation proposal.
    Cancelled,
}

/// A project's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// In a round that has not closed.
    Candidate,
    /// Selected at the close: an allocation that can be paid out.
    Selected,
    /// Not selected (or its round was cancelled).
    NotSelected,
}

/// One member's ballot (the latest it cast).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotState {
    /// The ballot entry.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// When the ledger received it.
    pub cast_at: Timestamp,
    /// The projects it approves, as given (no duplicates).
    pub approve: Vec<EntryId>,
}

/// What the supporters of one selected project paid (equal shares), or how
/// greedy took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPayment {
    /// The project.
    pub project: EntryId,
    /// Its cost.
    pub cost: Amount,
    /// `equal_shares` (bought by its supporters' shares), `greedy` (taken
    /// from the common budget) or `free`.
    pub funding: String,
    /// Ballots that approve it.
    pub supporters: u64,
    /// Equal shares: what each supporter paid unless it had less left, exact
    /// (a fraction such as `"4000/3"` or an integer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<String>,
    /// Supporters who paid the full share.
    pub full_share_payers: u64,
    /// Supporters who paid less than the share (all they had left).
    pub capped_payers: u64,
    /// What the capped payers paid together, exact.
    pub capped_total: String,
    /// For people: e.g. `"6000.00 paid by 4 supporters: 4 paid 1500.00 each"`.
    pub display: String,
}

/// A closed round's outcome, computed from the log alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundOutcome {
    /// The rule that ran, by its pabutools name (`greedy_av`, `mes_cost_add1_noex`).
    pub rule: String,
    /// Number of ballots (`n`).
    pub voters: u64,
    /// The selected projects, in the order the rule selected them.
    pub selected: Vec<EntryId>,
    /// Their total cost: committed as allocations.
    pub total_cost: Balance,
    /// The budget not spent: back to `available`.
    pub released: Balance,
    /// Equal shares: the per-voter budget of the run that was kept
    /// (`budget / n` plus the Add1 euros), exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_per_voter: Option<String>,
    /// The same, for people: `"2833"` or `"392.21 (exactly 24186815/61668)"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_per_voter_display: Option<String>,
    /// Equal shares: how many whole euros Add1 added to every voter's share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add1_steps: Option<u64>,
    /// Per selected project, in the order of `selected`.
    pub payments: Vec<ProjectPayment>,
}

/// One budgeting round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundState {
    /// The round's id: the `round` proposal that opened it.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The fund.
    pub fund: FundId,
    /// Who proposed it.
    pub author: MemberId,
    /// The budget, committed while the round runs.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// When it opened: `received_at` of the proposal's close.
    pub opened_at: Timestamp,
    /// Projects received at or after this are refused; ballots before it are refused.
    pub projects_until: Timestamp,
    /// Ballots received at or after this are refused; the close is allowed from it on.
    pub closes_at: Timestamp,
    /// The projects, in log order.
    pub projects: Vec<EntryId>,
    /// The counted ballot of each member (a later ballot replaces an earlier one).
    pub ballots: BTreeMap<MemberId, BallotState>,
    /// Open, closed or cancelled.
    pub status: RoundStatus,
    /// The outcome, once closed.
    pub outcome: Option<RoundOutcome>,
    /// The record that closed (or cancelled) it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_seq: Option<Seq>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// Why it ended without its own close (the fund was dissolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
}

impl RoundState {
    /// The rule of [`crate::pb`] this round runs.
    pub fn pb_rule(&self) -> pb::Rule {
        match self.rule {
            RoundRule::Greedy => pb::Rule::GREEDY,
            RoundRule::EqualShares => pb::Rule::EQUAL_SHARES,
        }
    }

    /// Where the round is at `now`.
    pub fn phase(&self, now: &Timestamp) -> RoundPhase {
        match self.status {
            RoundStatus::Closed => RoundPhase::Closed,
            RoundStatus::Cancelled => RoundPhase::Cancelled,
            RoundStatus::Open if now.instant() < self.projects_until.instant() => RoundPhase::Projects,
            RoundStatus::Open if now.instant() < self.closes_at.instant() => RoundPhase::Voting,
            RoundStatus::Open => RoundPhase::Counting,
        }
    }

    /// The number of counted ballots approving each project of the round.
    pub fn approvals(&self) -> BTreeMap<EntryId, u64> {
        let mut count: BTreeMap<EntryId, u64> = self.projects.iter().map(|p| (*p, 0)).collect();
        for b in self.ballots.values() {
            for p in &b.approve {
                if let Some(c) = count.get_mut(p) {
                    *c += 1;
                }
            }
        }
        count
    }
}

/// One project of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundProjectState {
    /// The `round.project` entry: the project's id, and the `allocation` of its payouts.
    pub id: EntryId,
    /// Its record.
    pub seq: Seq,
    /// The round.
    pub round: EntryId,
    /// The round's fund.
    pub fund: FundId,
    /// Who submitted it.
    pub author: MemberId,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// What it costs: the allocation if selected.
    pub cost: Amount,
    /// Who is paid if it is selected.
    pub recipient: MemberId,
    /// When the ledger received it.
    pub submitted_at: Timestamp,
    /// Candidate, selected or not selected.
    pub status: ProjectStatus,
    /// Selected: requested in disbursements not reversed (pending or executed).
    pub requested: Balance,
    /// Selected: paid out (executed disbursements).
    pub paid: Balance,
}

/// A round amount as an exact pabulib cost.
fn cost_of(a: Amount) -> Result<pb::Cost, Refusal> {
    pb::Cost::parse(&a.to_string())
        .map_err(|e| Refusal::new(Code::MoneyOverflow, format!("{a} is not a cost the rules can use: {e:?}")))
}

fn instance_error(e: pb::InstanceError) -> Refusal {
    Refusal::new(Code::RoundTooLarge, format!("the round cannot be counted: {e}"))
}

/// `dd.mm.yyyy`, as pabulib writes dates.
fn pabulib_date(t: &Timestamp) -> String {
    t.date().format("%d.%m.%Y").to_string()
}

impl Funds {
    /// A round by id.
    pub fn round(&self, id: &EntryId) -> Option<&RoundState> {
        self.rounds.get(id)
    }

    /// A project by id.
    pub fn project(&self, id: &EntryId) -> Option<&RoundProjectState> {
        self.projects.get(id)
    }

    /// The rounds not yet closed or cancelled.
    pub fn open_rounds(&self) -> impl Iterator<Item = &RoundState> {
        self.open_rounds.iter().filter_map(|id| self.rounds.get(id))
    }

    /// The open rounds whose `round.close` is due at `now` (`closes_at`
    /// passed), earliest deadline first. The server submits a close for each.
    pub fn due_round_closes(&self, now: &Timestamp) -> Vec<EntryId> {
        let mut due: Vec<(&Timestamp, EntryId)> = self
            .open_rounds()
            .filter(|r| r.closes_at.instant() <= now.instant())
            .map(|r| (&r.closes_at, r.id))
            .collect();
        due.sort();
        due.into_iter().map(|(_, id)| id).collect()
    }

    fn known_round(&self, id: &EntryId) -> Result<&RoundState, Refusal> {
        self.rounds.get(id).ok_or_else(|| Refusal::new(Code::UnknownRound, format!("no round {id}")))
    }

    pub(super) fn open_round(&self, id: &EntryId) -> Result<&RoundState, Refusal> {
        let r = self.known_round(id)?;
        match r.status {
            RoundStatus::Open => Ok(r),
            RoundStatus::Closed => Err(Refusal::new(Code::RoundClosed, format!("round {id} is closed"))),
            RoundStatus::Cancelled => {
                Err(Refusal::new(Code::RoundClosed, format!("round {id} was cancelled: its fund was dissolved")))
            }
        }
    }

    /// The round as a pabulib instance: its budget; its projects in log
    /// order with their entry ids (lowercase hex) and costs; one voter per
    /// counted ballot, the member id as voter id, in member-id order. This is
    /// exactly what [`crate::pb::run`] is given at the close, and what
    /// `meent export --format pabulib` writes.
    pub fn round_instance(&self, id: &EntryId) -> Result<pb::Instance, Refusal> {
        let r = self.known_round(id)?;
        let mut inst = pb::Instance::new(cost_of(r.budget)?);
        let rule = match r.rule {
            RoundRule::Greedy => "greedy",
            RoundRule::EqualShares => "equalshares/add1",
        };
        let description = format!("meent budgeting round {} of fund {}", r.id, r.fund);
        let meta = [
            ("description", description.as_str()),
            ("unit", r.fund.as_str()),
            ("instance", &r.id.to_hex()),
            ("num_projects", &r.projects.len().to_string()),
            ("num_votes", &r.ballots.len().to_string()),
            ("vote_type", "approval"),
            ("rule", rule),
            (
                "meent_rule",
                match r.rule {
                    RoundRule::Greedy => "greedy",
                    RoundRule::EqualShares => "equal_shares",
                },
            ),
            ("pabutools_rule", r.pb_rule().name()),
            ("date_begin", &pabulib_date(&r.opened_at)),
            ("date_end", &pabulib_date(&r.closes_at)),
            ("currency", "EUR"),
        ];
        for (k, v) in meta {
            inst.set_meta(k, v);
        }
        for pid in &r.projects {
            let p = self.projects.get(pid).ok_or_else(|| {
                Refusal::new(Code::UnknownProject, format!("round {id} lists a project {pid} that is missing"))
            })?;
            let mut project = pb::Project::new(pid.to_hex(), cost_of(p.cost)?);
            project.extra = vec![
                ("name".into(), p.title.clone()),
                ("recipient".into(), p.recipient.to_string()),
                ("proposer".into(), p.author.to_string()),
                ("description".into(), p.description.clone()),
            ];
            match p.status {
                ProjectStatus::Candidate => {}
                ProjectStatus::Selected => project.extra.push(("selected".into(), "1".into())),
                ProjectStatus::NotSelected => project.extra.push(("selected".into(), "0".into())),
            }
            inst.add_project(project).map_err(instance_error)?;
        }
        for (member, ballot) in &r.ballots {
            let approve: Vec<String> = ballot.approve.iter().map(EntryId::to_hex).collect();
            inst.add_ballot(member.as_str(), &approve).map_err(instance_error)?;
        }
        Ok(inst)
    }

    /// `round.open`: gone in v2 (SPEC §4.5) — a round is opened by a passed
    /// `round` proposal, so no single member can lock the pool.
    pub(super) fn open_round_entry(&mut self, ctx: &Ctx<'_>, b: &RoundOpen) -> Result<(), Refusal> {
        ctx.member("round.open")?;
        Err(Refusal::new(
            Code::RoundNeedsProposal,
            format!(
                "a member can no longer open a round alone: propose it to fund {} (proposal_kind \"round\" with budget, rule, projects_days and voting_days); it opens when the vote passes",
                b.fund
            ),
        ))
    }

    /// `round.project`: by a fund member, before `projects_until`.
    pub(super) fn add_project(&mut self, ctx: &Ctx<'_>, b: &RoundProject) -> Result<(), Refusal> {
        let author = ctx.member("round.project")?;
        let r = self.open_round(&b.round)?;
        let fund = self.known_fund(&r.fund)?;
        if !fund.is_member(author) {
            return Err(Refusal::new(
                Code::NotFundMember,
                format!("{author} is not a member of {}; only members submit projects", r.fund),
            ));
        }
        if ctx.received_at.instant() >= r.projects_until.instant() {
            return Err(Refusal::new(
                Code::ProjectsClosed,
                format!(
                    "round {} took projects until {}; this one was received at {}",
                    b.round, r.projects_until, ctx.received_at
                ),
            ));
        }
        if r.projects.len() >= ROUND_PROJECTS_MAX {
            return Err(Refusal::new(
                Code::TooManyProjects,
                format!("round {} already has {ROUND_PROJECTS_MAX} projects, the most a round may have", b.round),
            ));
        }
        if b.cost > r.budget {
            return Err(Refusal::new(
                Code::CostAboveBudget,
                format!("cost {} is above the round's budget {}; no rule could ever select it", b.cost, r.budget),
            ));
        }
        if b.cost > fund.charter.max_request {
            return Err(Refusal::new(
                Code::OverMaxRequest,
                format!("cost {} is above the charter's max_request of {}", b.cost, fund.charter.max_request),
            ));
        }
        if !ctx.register.is_admitted(&b.recipient) {
            return Err(Refusal::new(
                Code::UnknownMember,
                format!("recipient {} is not an admitted member", b.recipient),
            ));
        }
        let project = RoundProjectState {
            id: ctx.id,
            seq: ctx.seq,
            round: b.round,
            fund: r.fund.clone(),
            author: author.clone(),
            title: b.title.clone(),
            description: b.description.clone(),
            cost: b.cost,
            recipient: b.recipient.clone(),
            submitted_at: ctx.received_at.clone(),
            status: ProjectStatus::Candidate,
            requested: Balance::ZERO,
            paid: Balance::ZERO,
        };
        if let Some(r) = self.rounds.get_mut(&b.round) {
            r.projects.push(ctx.id);
        }
        self.projects.insert(ctx.id, project);
        Ok(())
    }

    /// `ballot`: by a fund member, from `projects_until` until `closes_at`;
    /// replaces the member's earlier ballot.
    pub(super) fn cast_ballot(&mut self, ctx: &Ctx<'_>, b: &Ballot) -> Result<(), Refusal> {
        let author = ctx.member("ballot")?;
        let r = self.open_round(&b.round)?;
        let fund = self.known_fund(&r.fund)?;
        if !fund.is_member(author) {
            return Err(Refusal::new(
                Code::NotFundMember,
                format!("{author} is not a member of {}; only its members vote", r.fund),
            ));
        }
        let now = ctx.received_at.instant();
        if now < r.projects_until.instant() {
            return Err(Refusal::new(
                Code::VotingNotOpen,
                format!(
                    "voting in round {} opens at {} when the projects are in; this ballot was received at {}",
                    b.round, r.projects_until, ctx.received_at
                ),
            ));
        }
        if now >= r.closes_at.instant() {
            return Err(Refusal::new(
                Code::VotingClosed,
                format!(
                    "voting in round {} ended at {}; this ballot was received at {}",
                    b.round, r.closes_at, ctx.received_at
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &b.approve {
            if !seen.insert(*p) {
                return Err(Refusal::new(
                    Code::DuplicateApproval,
                    format!("project {p} is approved twice in one ballot"),
                ));
            }
            match self.projects.get(p) {
                Some(project) if project.round == b.round => {}
                Some(project) => {
                    return Err(Refusal::new(
                        Code::WrongRound,
                        format!("project {p} belongs to round {}, not {}", project.round, b.round),
                    ));
                }
                None => return Err(Refusal::new(Code::UnknownProject, format!("no project {p}"))),
            }
        }
        let ballot =
            BallotState { id: ctx.id, seq: ctx.seq, cast_at: ctx.received_at.clone(), approve: b.approve.clone() };
        if let Some(r) = self.rounds.get_mut(&b.round) {
            r.ballots.insert(author.clone(), ballot);
        }
        Ok(())
    }

    /// `round.close`: by anyone, at or after `closes_at`. Runs the round's
    /// rule on [`Funds::round_instance`]; selected projects stay committed as
    /// allocations, the rest of the budget returns to `available`.
    pub(super) fn close_round(&mut self, ctx: &Ctx<'_>, b: &RoundClose) -> Result<(), Refusal> {
        let r = self.open_round(&b.round)?;
        if ctx.received_at.instant() < r.closes_at.instant() {
            return Err(Refusal::new(
                Code::TooEarlyToClose,
                format!("round {} takes ballots until {}; {} cast so far", b.round, r.closes_at, r.ballots.len()),
            ));
        }
        let fund = self.known_fund(&r.fund)?;
        if fund.status == FundStatus::Dissolved {
            // Cannot happen: a dissolution cancels the fund's open rounds.
            return Err(Refusal::new(Code::FundDissolved, format!("fund {} is dissolved", r.fund)));
        }
        let inst = self.round_instance(&b.round)?;
        let result = pb::run(&inst, r.pb_rule());

        let mut selected = Vec::with_capacity(result.selected.len());
        let mut total = Balance::ZERO;
        for s in &result.selected {
            let id: EntryId = s.parse().map_err(|_| {
                Refusal::new(Code::RoundTooLarge, format!("the rule selected an unknown project {s:?}"))
            })?;
            let p = self.projects.get(&id).filter(|p| p.round == b.round).ok_or_else(|| {
                Refusal::new(
                    Code::UnknownProject,
                    format!("the rule selected {id}, not a project of round {}", b.round),
                )
            })?;
            total = money(total.plus(p.cost), "total cost")?;
            selected.push(id);
        }
        let budget = Balance::from(r.budget);
        if total > budget {
            // Cannot happen: both rules stay within the budget.
            return Err(Refusal::new(
                Code::ConservationViolated,
                format!("round {} would select {total}, above its budget {budget}", b.round),
            ));
        }
        let released = money(budget.checked_sub(total), "released")?;
        let mut balances = fund.balances;
        balances.committed = money(balances.committed.checked_sub(released), "committed")?;
        balances.available = money(balances.available.checked_add(released), "available")?;
        balances.check(&r.fund)?;

        let mut payments = Vec::with_capacity(result.payments.len());
        for (p, id) in result.payments.iter().zip(&selected) {
            let cost = self
                .projects
                .get(id)
                .map(|x| x.cost)
                .ok_or_else(|| Refusal::new(Code::UnknownProject, format!("no project {id}")))?;
            payments.push(ProjectPayment {
                project: *id,
                cost,
                funding: match p.funding {
                    pb::Funding::EqualShares => "equal_shares",
                    pb::Funding::Greedy => "greedy",
                    pb::Funding::Free => "free",
                }
                .to_string(),
                supporters: p.supporters,
                share: p.share.as_ref().map(|s| s.to_string()),
                full_share_payers: p.full_share_payers,
                capped_payers: p.capped_payers,
                capped_total: p.capped_total.to_string(),
                display: p.display(),
            });
        }
        let outcome = RoundOutcome {
            rule: result.rule.name().to_string(),
            voters: inst.num_voters() as u64,
            selected: selected.clone(),
            total_cost: total,
            released,
            budget_per_voter: result.budget_per_voter.as_ref().map(|b| b.to_string()),
            budget_per_voter_display: result.budget_per_voter_display.clone(),
            add1_steps: result.add1_steps,
            payments,
        };
        let (fund_id, projects) = (r.fund.clone(), r.projects.clone());

        // Write: nothing below can fail.
        self.fund_mut(&fund_id)?.balances = balances;
        for pid in &projects {
            if let Some(p) = self.projects.get_mut(pid) {
                p.status = if selected.contains(pid) { ProjectStatus::Selected } else { ProjectStatus::NotSelected };
            }
        }
        self.open_rounds.remove(&b.round);
        if let Some(r) = self.rounds.get_mut(&b.round) {
            r.status = RoundStatus::Closed;
            r.outcome = Some(outcome);
            r.closed_seq = Some(ctx.seq);
            r.closed_at = Some(ctx.received_at.clone());
        }
        Ok(())
    }

    /// The open rounds of `fund` and their budgets together: what a
    /// dissolution releases into its pool.
    pub(super) fn open_rounds_of(&self, fund: &FundId) -> Result<(Vec<EntryId>, Balance), Refusal> {
        let mut ids = Vec::new();
        let mut total = Balance::ZERO;
        for r in self.open_rounds().filter(|r| &r.fund == fund) {
            ids.push(r.id);
            total = money(total.plus(r.budget), "round budgets")?;
        }
        Ok((ids, total))
    }

    /// Marks a round cancelled (its budget was already moved by the caller).
    pub(super) fn cancel_round(&mut self, id: EntryId, ctx: &Ctx<'_>, reason: &str) {
        self.open_rounds.remove(&id);
        let projects = match self.rounds.get_mut(&id) {
            Some(r) => {
                r.status = RoundStatus::Cancelled;
                r.closed_seq = Some(ctx.seq);
                r.closed_at = Some(ctx.received_at.clone());
                r.close_reason = Some(reason.to_string());
                r.projects.clone()
            }
            None => Vec::new(),
        };
        for pid in projects {
            if let Some(p) = self.projects.get_mut(&pid) {
                p.status = ProjectStatus::NotSelected;
            }
        }
    }
}

/// Releases `released` (the budgets of cancelled rounds) from `committed` to `available`.
pub(super) fn release(balances: &mut Balances, released: Balance) -> Result<(), Refusal> {
    balances.committed = money(balances.committed.checked_sub(released), "committed")?;
    balances.available = money(balances.available.checked_add(released), "available")?;
    Ok(())
}
