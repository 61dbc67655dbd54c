//! `/{lang}/proposals/{id}` and `/{lang}/rounds/{id}`: a vote with its
//! arithmetic, and a budgeting round with its projects, ballots and outcome.

use askama::Template;
use ledger::entry::{Choice, ProposalKind};
use ledger::funds::{Outcome, ProjectStatus, ProposalStatus, RoundPhase, RoundStatus};
use ledger::ids::EntryId;
use ledger::state::State;
use ledger::time::Timestamp;
use ledger::views::{ProposalView, RoundView};
use rust_decimal::Decimal;

use super::{origin_of, Ctx, EntryLink, Head, MemberLink, PageError, W};
use crate::format;

/// One vote.
pub struct VoteRow {
    /// The vote entry (a member's last vote counts).
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// Who.
    pub m: MemberLink,
    /// Yes, no, abstain.
    pub choice: String,
    /// When the ledger received it.
    pub when: String,
}

/// The proposal page.
#[derive(Template)]
#[template(path = "proposal.html")]
pub struct ProposalPage {
    /// The frame.
    pub c: Head,
    /// The proposal.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// Its fund.
    pub fund: String,
    /// The fund's name.
    pub fund_name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Allocation, admission, …
    pub kind: String,
    /// Who proposed it.
    pub author: MemberLink,
    /// When it opened.
    pub opened_at: String,
    /// What it asks, in words (amount and recipient, the member, the round's terms).
    pub asks: Vec<String>,
    /// The recipient or member it is about.
    pub about: Option<MemberLink>,
    /// Where the vote stands in time: open until, ended (closing), closed at.
    pub when_line: String,
    /// The votes.
    pub votes: Vec<VoteRow>,
    /// The quorum arithmetic, in words.
    pub quorum_line: String,
    /// The threshold arithmetic, in words.
    pub threshold_line: String,
    /// Yes, no, abstain.
    pub tally: String,
    /// The outcome and why, once closed.
    pub outcome: Option<String>,
    /// Why, in words.
    pub why: String,
    /// The record that closed it.
    pub closed_seq: Option<u64>,
    /// The round it opened.
    pub round: Option<String>,
}

fn choice(w: &W<'_>, c: Choice) -> String {
    w.tr.t(match c {
        Choice::Yes => "vote-yes",
        Choice::No => "vote-no",
        Choice::Abstain => "vote-abstain",
    })
}

pub(crate) fn proposal_kind(w: &W<'_>, k: ProposalKind) -> String {
    w.tr.t(match k {
        ProposalKind::Allocation => "kind-allocation",
        ProposalKind::Admission => "kind-admission",
        ProposalKind::Charter => "kind-charter",
        ProposalKind::Dissolution => "kind-dissolution",
        ProposalKind::Round => "kind-round",
        ProposalKind::Cancellation => "kind-cancellation",
        ProposalKind::Exclusion => "kind-exclusion",
    })
}

pub(crate) fn outcome(w: &W<'_>, o: Outcome) -> String {
    w.tr.t(match o {
        Outcome::Passed => "outcome-passed",
        Outcome::Rejected => "outcome-rejected",
        Outcome::RejectedNoQuorum => "outcome-rejected-no-quorum",
        Outcome::RejectedInsufficientFunds => "outcome-rejected-insufficient-funds",
        Outcome::Withdrawn => "outcome-withdrawn",
    })
}

pub(crate) fn round_status(w: &W<'_>, s: RoundStatus) -> String {
    w.tr.t(match s {
        RoundStatus::Open => "round-open",
        RoundStatus::Closed => "round-closed",
        RoundStatus::Cancelled => "round-cancelled",
    })
}

fn entry_id(w: &W<'_>, id: &str, what: &str) -> Result<EntryId, PageError> {
    id.parse().map_err(|_| PageError::NotFound(w.tr.t1(what, "id", &id)))
}

/// When the vote closes or closed (and whether early).
fn when_line(w: &W<'_>, v: &ProposalView, now: &Timestamp) -> String {
    let tr = &w.tr;
    match (v.status, &v.closed_at) {
        (ProposalStatus::Closed, Some(at)) if at.instant() < v.closes_at.instant() => {
            tr.t1("vote-closed-at", "when", &w.time(at))
                + " "
                + &tr.t1("vote-closed-early", "when", &w.time(&v.closes_at))
        }
        (ProposalStatus::Closed, Some(at)) => tr.t1("vote-closed-at", "when", &w.time(at)),
        (ProposalStatus::Closed, None) => tr.t("vote-closed"),
        (ProposalStatus::Open, _) if now.instant() < v.closes_at.instant() => {
            tr.t1("vote-open-until", "when", &w.time(&v.closes_at))
        }
        (ProposalStatus::Open, _) => tr.t1("vote-ended-closing", "when", &w.time(&v.closes_at)),
    }
}

/// The quorum's and the threshold's arithmetic, each with whether it was met.
fn arithmetic(w: &W<'_>, v: &ProposalView) -> (String, String) {
    let (tr, l) = (&w.tr, w.lang);
    let counted = Decimal::from(v.counted.len() as u64);
    let cast = v.tally.yes + v.tally.no + v.tally.abstain;
    let needed = v.quorum.as_decimal() * counted;
    let quorum_met = Decimal::from(cast) >= needed;
    let quorum_line = format!(
        "{} {}",
        tr.ta(
            "quorum-arith",
            &[
                ("pct", format::percent(l, v.quorum.as_decimal())),
                ("counted", v.counted.len().to_string()),
                ("needed", format::decimal(l, needed, 4)),
                ("cast", cast.to_string()),
            ]
        ),
        tr.t(if quorum_met { "quorum-met" } else { "quorum-not-met" })
    );
    let decided = v.tally.yes + v.tally.no;
    let share = if decided > 0 { Decimal::from(v.tally.yes) / Decimal::from(decided) } else { Decimal::ZERO };
    let above = decided > 0 && Decimal::from(v.tally.yes) > v.threshold.as_decimal() * Decimal::from(decided);
    let threshold_line = format!(
        "{} {}",
        tr.ta(
            "threshold-arith",
            &[
                ("pct", format::percent(l, v.threshold.as_decimal())),
                ("yes", v.tally.yes.to_string()),
                ("decided", decided.to_string()),
                ("share", format::percent(l, share)),
            ]
        ),
        tr.t(if above { "threshold-met" } else { "threshold-not-met" })
    );
    (quorum_line, threshold_line)
}

/// Why the proposal ended as it did (and the closer's reason).
fn why(w: &W<'_>, v: &ProposalView) -> String {
    let tr = &w.tr;
    let why = match v.outcome {
        Some(Outcome::Passed) => tr.t("why-passed"),
        Some(Outcome::Rejected) => tr.t("why-rejected"),
        Some(Outcome::RejectedNoQuorum) => tr.t("why-no-quorum"),
        Some(Outcome::RejectedInsufficientFunds) => tr.t("why-insufficient-funds"),
        Some(Outcome::Withdrawn) => tr.t("why-withdrawn"),
        None => String::new(),
    };
    match &v.close_reason {
        Some(r) if !r.is_empty() => format!("{why} ({r})"),
        _ => why,
    }
}

/// What the proposal asks for, in words.
fn asks(w: &W<'_>, v: &ProposalView) -> Vec<String> {
    let tr = &w.tr;
    let mut asks = Vec::new();
    if let Some(a) = v.amount {
        asks.push(tr.t1("asks-amount", "amount", &w.euro_d(a.as_decimal())));
    }
    if let Some(t) = &v.round_terms {
        asks.push(tr.t1("asks-round-budget", "amount", &w.euro_d(t.budget.as_decimal())));
        asks.push(tr.ta(
            "asks-round-days",
            &[("projects", t.projects_days.to_string()), ("voting", t.voting_days.to_string())],
        ));
    }
    if let Some(r) = &v.reason {
        asks.push(r.clone());
    }
    asks
}

/// The proposal page of `id`.
pub fn proposal(state: &State, ctx: &Ctx, id: &str) -> Result<String, PageError> {
    let w = W::new(ctx.lang, state);
    let tr = &w.tr;
    let pid = entry_id(&w, id, "not-found-proposal")?;
    let p = state.funds.proposal(&pid).ok_or_else(|| PageError::NotFound(tr.t1("not-found-proposal", "id", &id)))?;
    let v = ProposalView::of(p);
    let now = Timestamp::from_instant(ctx.now);
    let when_line = when_line(&w, &v, &now);
    let (quorum_line, threshold_line) = arithmetic(&w, &v);
    let (why, asks) = (why(&w, &v), asks(&w, &v));
    let fund_name = state.funds.fund(&v.fund).map(|f| f.name.clone()).unwrap_or_default();
    let page = ProposalPage {
        c: Head::new(ctx, &origin_of(state), v.title.clone()),
        e: w.entry(&v.id, Some(v.seq)),
        seq: v.seq,
        fund: v.fund.as_str().to_string(),
        fund_name,
        title: v.title.clone(),
        description: v.description.clone(),
        kind: proposal_kind(&w, v.proposal_kind),
        author: w.member(&v.author),
        opened_at: w.time(&v.opened_at),
        asks,
        about: v.recipient.as_ref().or(v.member.as_ref()).map(|m| w.member(m)),
        when_line,
        votes: {
            let mut votes: Vec<_> = v.votes.iter().collect();
            votes.sort_by_key(|x| x.seq);
            votes
        }
        .into_iter()
        .map(|x| VoteRow {
            e: w.entry(&x.id, Some(x.seq)),
            seq: x.seq,
            m: w.member(&x.member),
            choice: choice(&w, x.choice),
            when: w.time(&x.received_at),
        })
        .collect(),
        quorum_line,
        threshold_line,
        tally: tr.ta(
            "tally",
            &[
                ("yes", v.tally.yes.to_string()),
                ("no", v.tally.no.to_string()),
                ("abstain", v.tally.abstain.to_string()),
            ],
        ),
        outcome: v.outcome.map(|o| outcome(&w, o)),
        why,
        closed_seq: v.closed_seq,
        round: v.round.map(|r| r.to_hex()),
    };
    Ok(page.render()?)
}

/// A project of a round.
pub struct ProjectRow {
    /// The project entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// Title.
    pub title: String,
    /// Cost.
    pub cost: String,
    /// Who is paid.
    pub to: MemberLink,
    /// Approving ballots, once voting closed.
    pub approvals: String,
    /// Candidate, selected, not selected.
    pub status: String,
    /// Paid so far.
    pub paid: String,
}

/// A counted ballot.
pub struct BallotRow {
    /// The ballot entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// Who.
    pub m: MemberLink,
    /// When.
    pub when: String,
    /// The selected projects it approved (what this voter helped pay for),
    /// with what each cost this voter under equal shares.
    pub paid_for: Vec<String>,
    /// Equal shares: what it paid of its share, in words; empty otherwise.
    pub paid: String,
    /// How many projects it approved.
    pub approved: usize,
}

/// What one selected project cost its supporters.
pub struct PaymentRow {
    /// The project.
    pub title: String,
    /// Cost.
    pub cost: String,
    /// Supporters.
    pub supporters: u64,
    /// What its supporters paid, in words: how many paid the share, and
    /// what the ones with less left paid together.
    pub share: String,
}

/// What the supporters of a selected project paid, in words.
fn payment_words(w: &W<'_>, p: &ledger::views::PaymentView) -> String {
    let tr = &w.tr;
    match (p.funding.as_str(), &p.share) {
        ("equal_shares", Some(share)) => {
            let mut words =
                vec![tr.ta("share-full", &[("n", p.full_share_payers.to_string()), ("amount", w.exact(share))])];
            if p.capped_payers > 0 {
                words.push(
                    tr.ta("share-capped", &[("n", p.capped_payers.to_string()), ("amount", w.exact(&p.capped_total))]),
                );
            }
            words.join("; ")
        }
        ("free", _) => tr.t("share-free"),
        _ => tr.t("share-greedy"),
    }
}

/// The round page.
#[derive(Template)]
#[template(path = "round.html")]
pub struct RoundPage {
    /// The frame.
    pub c: Head,
    /// The round (its proposal).
    pub e: EntryLink,
    /// The proposal's record.
    pub seq: u64,
    /// The fund.
    pub fund: String,
    /// Budget.
    pub budget: String,
    /// The rule, in words, and its pabutools name.
    pub rule: String,
    /// The rule's pabutools name.
    pub rule_name: String,
    /// Where it is in time, in words.
    pub phase: String,
    /// The windows.
    pub windows: String,
    /// Projects.
    pub projects: Vec<ProjectRow>,
    /// Whether voting has closed (ballots and approvals shown).
    pub voting_closed: bool,
    /// How many ballots.
    pub ballot_count: u64,
    /// The ballots, once voting has closed (at most [`BALLOTS`]).
    pub ballots: Vec<BallotRow>,
    /// The outcome, in words.
    pub outcome: Vec<String>,
    /// What each selected project cost its supporters.
    pub payments: Vec<PaymentRow>,
    /// Whether equal shares bought projects from the voters' shares (the
    /// ballots then show what each voter paid).
    pub equal_shares: bool,
    /// The commands that recompute the outcome.
    pub commands: String,
}

/// At most this many ballots are listed on a round page.
pub const BALLOTS: usize = 500;

/// The outcome of a round in lines: voters, cost, what was released, the
/// equal shares, the selection order, the closer's reason.
fn outcome_lines(w: &W<'_>, v: &RoundView, title_of: &dyn Fn(&EntryId) -> String) -> Vec<String> {
    let tr = &w.tr;
    let mut outcome = Vec::new();
    if let Some(o) = &v.outcome {
        outcome.push(tr.t1("round-voters", "n", &o.voters));
        outcome.push(tr.t1("round-total-cost", "amount", &w.euro(o.total_cost)));
        outcome.push(tr.t1("round-released", "amount", &w.euro(o.released)));
        if let Some(s) = &o.share_per_voter {
            outcome.push(tr.ta(
                "round-voter-share",
                &[("budget", w.euro_d(v.budget.as_decimal())), ("n", o.voters.to_string()), ("share", w.exact(s))],
            ));
        }
        if let Some(b) = &o.budget_per_voter {
            outcome.push(tr.t1("round-per-voter", "share", &w.exact(b)));
        }
        if let Some(s) = o.add1_steps {
            outcome.push(tr.t1("round-add1", "n", &s));
        }
        let order: Vec<String> = o.selection_order.iter().map(title_of).collect();
        outcome.push(tr.t1("round-order", "list", &order.join(" → ")));
    }
    if let Some(reason) = &v.close_reason {
        outcome.push(reason.clone());
    }
    outcome
}

/// The projects of a round, with their approvals and what was paid.
fn project_rows(w: &W<'_>, v: &RoundView) -> Vec<ProjectRow> {
    let tr = &w.tr;
    v.projects
        .iter()
        .map(|p| ProjectRow {
            e: w.entry(&p.id, Some(p.seq)),
            seq: p.seq,
            title: p.title.clone(),
            cost: w.euro_d(p.cost.as_decimal()),
            to: w.member(&p.recipient),
            approvals: p.approvals.map(|a| a.to_string()).unwrap_or_else(|| "–".into()),
            status: tr.t(match p.status {
                ProjectStatus::Candidate => "project-candidate",
                ProjectStatus::Selected => "project-selected",
                ProjectStatus::NotSelected => "project-not-selected",
            }),
            paid: w.euro(p.paid),
        })
        .collect()
}

/// The first ballots, each with what its selected projects cost that voter.
fn ballot_rows(
    w: &W<'_>,
    v: &RoundView,
    selected: &std::collections::BTreeSet<EntryId>,
    title_of: &dyn Fn(&EntryId) -> String,
) -> Vec<BallotRow> {
    let tr = &w.tr;
    v.ballots
        .iter()
        .flatten()
        .take(BALLOTS)
        .map(|b| BallotRow {
            e: w.entry(&b.id, Some(b.seq)),
            seq: b.seq,
            m: w.member(&b.member),
            when: w.time(&b.cast_at),
            paid_for: b
                .approve
                .iter()
                .filter(|p| selected.contains(p))
                .map(|p| match b.payments.iter().find(|x| &x.project == p) {
                    Some(x) => format!("{}: {}", title_of(p), w.exact(&x.amount)),
                    None => title_of(p),
                })
                .collect(),
            paid: match (&b.paid, v.outcome.as_ref().and_then(|o| o.budget_per_voter.as_ref())) {
                (Some(paid), Some(share)) => {
                    tr.ta("voter-paid-of", &[("paid", w.exact(paid)), ("share", w.exact(share))])
                }
                _ => String::new(),
            },
            approved: b.approve.len(),
        })
        .collect()
}

/// The round page of `id`.
pub fn round(state: &State, ctx: &Ctx, id: &str) -> Result<String, PageError> {
    let w = W::new(ctx.lang, state);
    let tr = &w.tr;
    let rid = entry_id(&w, id, "not-found-round")?;
    let r = state.funds.round(&rid).ok_or_else(|| PageError::NotFound(tr.t1("not-found-round", "id", &id)))?;
    let now = Timestamp::from_instant(ctx.now);
    let v = RoundView::of(state, r, &now);
    let phase = tr.t(match v.phase {
        RoundPhase::Projects => "phase-projects",
        RoundPhase::Voting => "phase-voting",
        RoundPhase::Counting => "phase-counting",
        RoundPhase::Closed => "phase-closed",
        RoundPhase::Cancelled => "phase-cancelled",
    });
    let windows = tr.ta(
        "round-windows",
        &[("opened", w.time(&v.opened_at)), ("projects", w.time(&v.projects_until)), ("closes", w.time(&v.closes_at))],
    );
    let title_of = |p: &EntryId| state.funds.project(p).map(|x| x.title.clone()).unwrap_or_else(|| p.to_hex());
    let selected: std::collections::BTreeSet<EntryId> =
        v.outcome.as_ref().map(|o| o.selected.iter().copied().collect()).unwrap_or_default();
    let outcome = outcome_lines(&w, &v, &title_of);
    let rule = tr.t(match v.rule {
        ledger::entry::RoundRule::Greedy => "rule-greedy",
        ledger::entry::RoundRule::EqualShares => "rule-equal-shares",
    });
    let seq = state.funds.proposal(&v.id).map(|p| p.seq).unwrap_or(v.seq);
    let page = RoundPage {
        c: Head::new(ctx, &origin_of(state), tr.t("round-title")),
        e: w.entry(&v.id, Some(seq)),
        seq,
        fund: v.fund.as_str().to_string(),
        budget: w.euro_d(v.budget.as_decimal()),
        rule,
        rule_name: v.rule_name.clone(),
        phase,
        windows,
        projects: project_rows(&w, &v),
        voting_closed: v.voting_closed,
        ballot_count: v.ballot_count,
        ballots: ballot_rows(&w, &v, &selected, &title_of),
        outcome,
        equal_shares: v.outcome.as_ref().is_some_and(|o| o.budget_per_voter.is_some()),
        payments: v
            .outcome
            .iter()
            .flat_map(|o| o.payments.iter())
            .map(|p| PaymentRow {
                title: p.title.clone(),
                cost: w.euro_d(p.cost.as_decimal()),
                supporters: p.supporters,
                share: payment_words(&w, p),
            })
            .collect(),
        commands: format!(
            "meent export --format pabulib --round {id} --out {id}.pb\nmeent pb {id}.pb --rule {rule} --json",
            id = v.id.to_hex(),
            rule = v.rule_name
        ),
    };
    Ok(page.render()?)
}
