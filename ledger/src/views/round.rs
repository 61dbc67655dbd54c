//! `GET /v1/rounds` and `/v1/rounds/{id}`: budgeting rounds, their projects,
//! ballots and outcome. Approval counts and the ballots are shown once voting
//! has closed; before that only how many ballots were cast (the ballots are in
//! the public log all the same, this read just does not tally them while
//! people still vote).

use std::collections::HashMap;
use std::str::FromStr;

use num_rational::BigRational;
use num_traits::Zero;
use serde::{Deserialize, Serialize};

use crate::entry::RoundRule;
use crate::funds::{ProjectPayment, ProjectStatus, RoundOutcome, RoundPhase, RoundState, RoundStatus};
use crate::ids::{EntryId, FundId, MemberId};
use crate::money::{Amount, Balance};
use crate::state::State;
use crate::time::Timestamp;
use crate::views::Page;

/// A round in a list (a fund's, or `GET /v1/rounds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundSummary {
    /// The round's id: the `round` proposal that opened it.
    pub id: EntryId,
    /// Its record: its position in the list.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// The budget.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// Open, closed or cancelled.
    pub status: RoundStatus,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Projects until.
    pub projects_until: Timestamp,
    /// Ballots until.
    pub closes_at: Timestamp,
    /// How many projects were submitted.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub project_count: u64,
    /// How many ballots are counted.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub ballot_count: u64,
}

impl RoundSummary {
    /// The summary of round `r`.
    pub fn of(r: &RoundState) -> RoundSummary {
        RoundSummary {
            id: r.id,
            seq: r.seq,
            fund: r.fund.clone(),
            budget: r.budget,
            rule: r.rule,
            status: r.status,
            opened_at: r.opened_at.clone(),
            projects_until: r.projects_until.clone(),
            closes_at: r.closes_at.clone(),
            project_count: r.projects.len() as u64,
            ballot_count: r.ballots.len() as u64,
        }
    }
}

/// One project of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    /// The `round.project` entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// Who submitted it.
    pub author: MemberId,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// What it costs.
    pub cost: Amount,
    /// Who is paid if it is selected.
    pub recipient: MemberId,
    /// When the ledger received it.
    pub submitted_at: Timestamp,
    /// Candidate, selected or not selected.
    pub status: ProjectStatus,
    /// Selected: requested in disbursements not reversed.
    pub requested: Balance,
    /// Selected: paid out.
    pub paid: Balance,
    /// Ballots approving it, once voting has closed; null before.
    pub approvals: Option<u64>,
}

/// A member's counted ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BallotView {
    /// The member.
    pub member: MemberId,
    /// The ballot entry.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// When the ledger received it.
    pub cast_at: Timestamp,
    /// The projects it approves.
    pub approve: Vec<EntryId>,
    /// Equal shares, once closed: what this voter paid for each project
    /// bought by equal shares that it approves, in selection order (empty
    /// otherwise, and for projects taken from the common budget).
    pub payments: Vec<VoterPayment>,
    /// Equal shares, once closed: what it paid in all, exact; null otherwise.
    pub paid: Option<String>,
}

/// What one voter paid for one project bought by equal shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoterPayment {
    /// The project.
    pub project: EntryId,
    /// What the voter paid for it, exact (a fraction such as `"700/3"` or an
    /// integer): the project's share, or all the voter had left if less.
    pub amount: String,
}

/// The exact payments of the Method of Equal Shares for one ballot, as the
/// exact engine (`pb::exact`) made them: every voter starts with `budget`
/// (the kept run's per-voter budget) and, for each project bought by equal
/// shares in selection order (`bought`: its id and its share), each
/// supporter pays the smaller of the share and what it has left. Returns the
/// payments for the projects `approves` says yes to.
pub fn voter_payments<'a, P>(
    budget: &BigRational,
    bought: &'a [(P, BigRational)],
    approves: impl Fn(&P) -> bool,
) -> Vec<(&'a P, BigRational)> {
    let mut left = budget.clone();
    let mut out = Vec::new();
    for (p, share) in bought {
        if !approves(p) {
            continue;
        }
        let pay = if *share < left { share.clone() } else { left.clone() };
        left -= &pay;
        out.push((p, pay));
    }
    out
}

/// `budget_per_voter` and the bought projects' shares of an outcome, exact;
/// `None` unless equal shares bought something.
fn bought_of(o: &RoundOutcome) -> Option<(BigRational, Vec<(EntryId, BigRational)>)> {
    let budget = BigRational::from_str(o.budget_per_voter.as_deref()?).ok()?;
    let bought: Vec<(EntryId, BigRational)> = o
        .payments
        .iter()
        .filter(|p| p.funding == "equal_shares")
        .filter_map(|p| Some((p.project, BigRational::from_str(p.share.as_deref()?).ok()?)))
        .collect();
    (!bought.is_empty()).then_some((budget, bought))
}

/// The ballots of a closed round with what each voter paid: voters with the
/// same ballot pay the same, so each distinct ballot is computed once.
fn ballots_with_payments(r: &RoundState) -> Vec<BallotView> {
    let bought = r.outcome.as_ref().and_then(bought_of);
    let mut memo: HashMap<&[EntryId], (Vec<VoterPayment>, String)> = HashMap::new();
    r.ballots
        .iter()
        .map(|(m, b)| {
            let (payments, paid) = match &bought {
                None => (Vec::new(), None),
                Some((budget, bought)) => {
                    let (payments, paid) = memo.entry(b.approve.as_slice()).or_insert_with(|| {
                        let paid = voter_payments(budget, bought, |p| b.approve.contains(p));
                        let total: BigRational = paid.iter().fold(BigRational::zero(), |t, (_, x)| t + x);
                        let payments = paid
                            .into_iter()
                            .map(|(p, x)| VoterPayment { project: *p, amount: x.to_string() })
                            .collect();
                        (payments, total.to_string())
                    });
                    (payments.clone(), Some(paid.clone()))
                }
            };
            BallotView {
                member: m.clone(),
                id: b.id,
                seq: b.seq,
                cast_at: b.cast_at.clone(),
                approve: b.approve.clone(),
                payments,
                paid,
            }
        })
        .collect()
}

/// What the supporters of one selected project paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    /// The project.
    pub project: EntryId,
    /// Its title.
    pub title: String,
    /// Its cost.
    pub cost: Amount,
    /// `equal_shares`, `greedy` or `free`.
    pub funding: String,
    /// Ballots that approve it.
    pub supporters: u64,
    /// Equal shares: what each supporter paid unless it had less left, exact.
    pub share: Option<String>,
    /// Supporters who paid the full share.
    pub full_share_payers: u64,
    /// Supporters who paid less than the share.
    pub capped_payers: u64,
    /// What the capped payers paid together, exact.
    pub capped_total: String,
    /// For people.
    pub display: String,
}

impl PaymentView {
    fn of(state: &State, p: &ProjectPayment) -> PaymentView {
        PaymentView {
            project: p.project,
            title: state.funds.project(&p.project).map(|x| x.title.clone()).unwrap_or_default(),
            cost: p.cost,
            funding: p.funding.clone(),
            supporters: p.supporters,
            share: p.share.clone(),
            full_share_payers: p.full_share_payers,
            capped_payers: p.capped_payers,
            capped_total: p.capped_total.clone(),
            display: p.display.clone(),
        }
    }
}

/// A closed round's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundOutcomeView {
    /// The rule that ran, by its pabutools name.
    pub rule: String,
    /// Number of ballots.
    pub voters: u64,
    /// The selected projects, sorted by id.
    pub selected: Vec<EntryId>,
    /// The selected projects in the order the rule selected them.
    pub selection_order: Vec<EntryId>,
    /// Their total cost.
    pub total_cost: Balance,
    /// The budget not spent.
    pub released: Balance,
    /// Equal shares: the per-voter budget that was kept, exact.
    pub budget_per_voter: Option<String>,
    /// The same, for people.
    pub budget_per_voter_display: Option<String>,
    /// Equal shares: whole euros Add1 added to every voter's share.
    pub add1_steps: Option<u64>,
    /// Equal shares: each voter's share of the budget, `budget / voters`,
    /// exact (Add1 then adds `add1_steps` euros to it); null otherwise.
    pub share_per_voter: Option<String>,
    /// Per selected project, in selection order.
    pub payments: Vec<PaymentView>,
}

impl RoundOutcomeView {
    fn of(state: &State, r: &RoundState, o: &RoundOutcome) -> RoundOutcomeView {
        let share_per_voter = (o.budget_per_voter.is_some() && o.voters > 0).then(|| {
            let budget = BigRational::new(
                r.budget.as_decimal().mantissa().into(),
                num_bigint::BigInt::from(10u32).pow(r.budget.as_decimal().scale()),
            );
            (budget / num_bigint::BigInt::from(o.voters)).to_string()
        });
        let mut selected = o.selected.clone();
        selected.sort();
        RoundOutcomeView {
            rule: o.rule.clone(),
            voters: o.voters,
            selected,
            selection_order: o.selected.clone(),
            total_cost: o.total_cost,
            released: o.released,
            budget_per_voter: o.budget_per_voter.clone(),
            budget_per_voter_display: o.budget_per_voter_display.clone(),
            add1_steps: o.add1_steps,
            share_per_voter,
            payments: o.payments.iter().map(|p| PaymentView::of(state, p)).collect(),
        }
    }
}

/// Everything about a round (`GET /v1/rounds/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundView {
    /// The round's id: the `round` proposal that opened it.
    pub id: EntryId,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: FundId,
    /// Who opened it.
    pub author: MemberId,
    /// The budget.
    pub budget: Amount,
    /// The selection rule.
    pub rule: RoundRule,
    /// The rule's pabutools name.
    pub rule_name: String,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Projects until.
    pub projects_until: Timestamp,
    /// Ballots until.
    pub closes_at: Timestamp,
    /// Open, closed or cancelled.
    pub status: RoundStatus,
    /// Where it is in time now.
    pub phase: RoundPhase,
    /// Whether voting has closed (tallies and ballots shown).
    pub voting_closed: bool,
    /// The projects, in log order.
    pub projects: Vec<ProjectView>,
    /// How many ballots are counted.
    pub ballot_count: u64,
    /// The counted ballots, once voting has closed; null before.
    pub ballots: Option<Vec<BallotView>>,
    /// The outcome, once closed.
    pub outcome: Option<RoundOutcomeView>,
    /// The record that closed (or cancelled) it.
    pub closed_seq: Option<u64>,
    /// When.
    pub closed_at: Option<Timestamp>,
    /// Why it ended without its own close.
    pub close_reason: Option<String>,
}

impl RoundView {
    /// The view of round `r` at time `now`.
    pub fn of(state: &State, r: &RoundState, now: &Timestamp) -> RoundView {
        let phase = r.phase(now);
        let voting_closed = !matches!(phase, RoundPhase::Projects | RoundPhase::Voting);
        let approvals = r.approvals();
        let projects = r
            .projects
            .iter()
            .filter_map(|id| state.funds.project(id))
            .map(|p| ProjectView {
                id: p.id,
                seq: p.seq,
                author: p.author.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                cost: p.cost,
                recipient: p.recipient.clone(),
                submitted_at: p.submitted_at.clone(),
                status: p.status,
                requested: p.requested,
                paid: p.paid,
                approvals: voting_closed.then(|| approvals.get(&p.id).copied().unwrap_or(0)),
            })
            .collect();
        let ballots = voting_closed.then(|| ballots_with_payments(r));
        RoundView {
            id: r.id,
            seq: r.seq,
            fund: r.fund.clone(),
            author: r.author.clone(),
            budget: r.budget,
            rule: r.rule,
            rule_name: r.pb_rule().name().to_string(),
            opened_at: r.opened_at.clone(),
            projects_until: r.projects_until.clone(),
            closes_at: r.closes_at.clone(),
            status: r.status,
            phase,
            voting_closed,
            projects,
            ballot_count: r.ballots.len() as u64,
            ballots,
            outcome: r.outcome.as_ref().map(|o| RoundOutcomeView::of(state, r, o)),
            closed_seq: r.closed_seq,
            closed_at: r.closed_at.clone(),
            close_reason: r.close_reason.clone(),
        }
    }
}

/// A page of rounds, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundList {
    /// The rounds.
    pub rounds: Vec<RoundSummary>,
    /// The `from` of the next page, or null on the last.
    pub next: Option<u64>,
}

impl RoundList {
    /// The rounds of `fund` (all funds when `None`) with the given status, paged.
    pub fn of(state: &State, fund: Option<&FundId>, status: Option<RoundStatus>, page: Page) -> RoundList {
        let mut all: Vec<&RoundState> = state
            .funds
            .rounds
            .values()
            .filter(|r| fund.is_none_or(|f| &r.fund == f))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .collect();
        all.sort_by_key(|r| r.seq);
        let (rounds, next) = page.take(all.into_iter().map(|r| (r.seq, RoundSummary::of(r))));
        RoundList { rounds, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{self, Cost, Funding, Instance, Project, Rule};

    fn big(r: &pb::Rational) -> BigRational {
        r.as_big().clone()
    }

    /// Per voter, the payments re-derived from the engine's shares add up to
    /// each bought project's cost exactly, match the engine's full and capped
    /// payers and what the capped ones paid, and stay within the budget.
    #[test]
    fn voter_payments_are_the_exact_engines() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut capped_seen = 0;
        for case in 0..60 {
            let mut inst = Instance::new(Cost::parse(&format!("{}.00", 500 + next(3000))).unwrap());
            let projects = 2 + next(7) as usize;
            for p in 0..projects {
                let cost = format!("{}.{:02}", 50 + next(1500), next(100));
                inst.add_project(Project::new(format!("p{p}"), Cost::parse(&cost).unwrap())).unwrap();
            }
            let voters = 1 + next(40);
            let mut ballots = Vec::new();
            for v in 0..voters {
                let b: Vec<String> = (0..projects).filter(|_| next(3) == 0).map(|p| format!("p{p}")).collect();
                inst.add_ballot(&format!("v{v}"), &b).unwrap();
                ballots.push(b);
            }
            for rule in [Rule::EQUAL_SHARES, Rule::MesCost] {
                let out = pb::run(&inst, rule);
                let Some(budget) = out.budget_per_voter.as_ref().map(big) else { continue };
                let bought: Vec<(String, BigRational)> = out
                    .payments
                    .iter()
                    .filter(|p| p.funding == Funding::EqualShares)
                    .map(|p| (p.project.clone(), big(p.share.as_ref().unwrap())))
                    .collect();
                let mut paid: HashMap<&str, Vec<BigRational>> = HashMap::new();
                for b in &ballots {
                    let mine = voter_payments(&budget, &bought, |p| b.contains(p));
                    let total = mine.iter().fold(BigRational::zero(), |t, (_, x)| t + x);
                    assert!(total <= budget, "case {case}: a voter paid {total} of {budget}");
                    for (p, x) in mine {
                        paid.entry(p.as_str()).or_default().push(x);
                    }
                }
                for pay in out.payments.iter().filter(|p| p.funding == Funding::EqualShares) {
                    let share = big(pay.share.as_ref().unwrap());
                    let xs = &paid[pay.project.as_str()];
                    let sum = xs.iter().fold(BigRational::zero(), |t, x| t + x);
                    assert_eq!(
                        sum,
                        big(&pay.total),
                        "case {case} {rule:?} {}: the payments add up to the cost",
                        pay.project
                    );
                    let capped: Vec<&BigRational> = xs.iter().filter(|x| **x < share).collect();
                    assert_eq!(xs.len() as u64 - capped.len() as u64, pay.full_share_payers, "case {case}");
                    assert_eq!(capped.len() as u64, pay.capped_payers, "case {case}");
                    let capped_sum = capped.into_iter().fold(BigRational::zero(), |t, x| t + x);
                    assert_eq!(capped_sum, big(&pay.capped_total), "case {case}");
                    capped_seen += pay.capped_payers;
                }
            }
        }
        assert!(capped_seen > 0, "no case had a capped payer");
    }
}
