//! `/{lang}/funds/{id}`: a fund — its charter in plain words, balances, the
//! money trail in and out (the latest [`TRAIL`] of each), contributors,
//! matching pledges, allocations, costs, refunds, rounds, reconciliations,
//! and three charts. Built from the state's fund views: the cost grows with
//! the fund's members, proposals, payouts and reconciliations, not with the
//! log, and its contributions are read only for the latest [`TRAIL`].

use std::collections::BTreeMap;

use askama::Template;
use ledger::entry::ProposalKind;
use ledger::funds::{ContributionStatus, DisbursementStatus, Fund, IncomeStatus, Outcome, PayoutKind};
use ledger::ids::FundId;
use ledger::state::State;
use ledger::views::FundView;
use rust_decimal::Decimal;

use super::{origin_of, Ctx, EntryLink, Head, MemberLink, PageError, W};
use crate::charts::{BarChart, LineChart};
use crate::format;

/// How many of the latest movements in and out the fund page lists.
pub const TRAIL: usize = 25;
/// How many bars a chart draws (the rest together in one "others" bar).
const BARS: usize = 10;

/// One line of the charter, in plain words.
pub struct CharterLine {
    /// What it is about.
    pub term: String,
    /// What it says.
    pub text: String,
}

/// Money in: a contribution or an income.
pub struct InRow {
    /// The entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// When it was received.
    pub when: String,
    /// From a member…
    pub from: Option<MemberLink>,
    /// …or from outside (an income's source).
    pub source: String,
    /// How much.
    pub amount: String,
    /// Pledged, confirmed, …
    pub status: String,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryLink>,
    /// The payment reference.
    pub reference: String,
}

/// An approval of a payout.
pub struct Approver {
    /// Who.
    pub m: MemberLink,
    /// When.
    pub when: String,
    /// The approval entry.
    pub e: EntryLink,
}

/// Money out: a disbursement.
pub struct OutRow {
    /// The entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// When it was requested.
    pub when: String,
    /// To a member…
    pub to: Option<MemberLink>,
    /// …or to a payee (a cost).
    pub payee: String,
    /// What for: the allocation, a refund, a cost's category and description.
    pub what: String,
    /// The allocation it pays.
    pub allocation: Option<EntryLink>,
    /// How much.
    pub amount: String,
    /// Pending, executed, confirmed, …
    pub status: String,
    /// Who requested it.
    pub requested_by: MemberLink,
    /// Who approved it.
    pub approvers: Vec<Approver>,
    /// `2 / 2`.
    pub approvals: String,
    /// The reconciliation that confirmed it.
    pub confirmed_by: Option<EntryLink>,
}

/// A contributor and their confirmed total.
pub struct ContributorRow {
    /// Who.
    pub m: MemberLink,
    /// Confirmed, in total.
    pub total: String,
}

/// A matching pledge.
pub struct PledgeRow {
    /// The pledge entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// The municipality.
    pub m: MemberLink,
    /// `1 : 1` and the cap, in words.
    pub terms: String,
    /// Owed, paid, outstanding.
    pub owed: String,
    /// Paid.
    pub paid: String,
    /// Outstanding.
    pub outstanding: String,
}

/// A passed allocation.
pub struct AllocationRow {
    /// The proposal.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// Its title.
    pub title: String,
    /// The recipient.
    pub to: Option<MemberLink>,
    /// The amount granted.
    pub amount: String,
    /// Paid so far.
    pub paid: String,
}

/// A refund of a dissolution.
pub struct RefundRow {
    /// To whom.
    pub m: MemberLink,
    /// Owed.
    pub owed: String,
    /// Paid.
    pub paid: String,
    /// Outstanding.
    pub outstanding: String,
}

/// A round of the fund.
pub struct RoundRow {
    /// The round (its proposal).
    pub e: EntryLink,
    /// The proposal's record.
    pub seq: u64,
    /// Budget.
    pub budget: String,
    /// Open, closed, cancelled.
    pub status: String,
    /// Projects and ballots.
    pub counts: String,
}

/// A reconciliation.
pub struct ReconRow {
    /// The entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// The treasurer.
    pub by: MemberLink,
    /// The statement's period.
    pub period: String,
    /// Opening balance.
    pub opening: String,
    /// Closing balance.
    pub closing: String,
    /// Entries it confirmed.
    pub confirmed: u64,
    /// Bank lines it matched to nothing.
    pub unmatched: u64,
    /// SHA-256 of the statement file.
    pub sha256: String,
}

/// One row of a chart's table.
pub struct ChartRow {
    /// What.
    pub label: String,
    /// How much.
    pub value: String,
}

/// A period statement to download (`GET /v1/funds/{id}/statement`).
pub struct StatementLink {
    /// What period, in words.
    pub label: String,
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, `YYYY-MM-DD`.
    pub to: String,
}

/// This year's statement up to today and, when the fund was created before
/// this year, last year's (UTC days, as the statement counts them).
fn statement_links(w: &W<'_>, ctx: &Ctx, created: chrono::DateTime<chrono::Utc>) -> Vec<StatementLink> {
    use chrono::Datelike;
    let today = ctx.now.date_naive();
    let year = today.year();
    let mut links = vec![StatementLink {
        label: w.tr.t1("statement-year-so-far", "year", &year),
        from: format!("{year}-01-01"),
        to: today.format("%Y-%m-%d").to_string(),
    }];
    if created.year() < year {
        let last = year - 1;
        links.push(StatementLink {
            label: w.tr.t1("statement-year", "year", &last),
            from: format!("{last}-01-01"),
            to: format!("{last}-12-31"),
        });
    }
    links
}

/// The fund page.
#[derive(Template)]
#[template(path = "fund.html")]
pub struct FundPage {
    /// The frame.
    pub c: Head,
    /// Period statements to download: this year so far, and last year when
    /// the fund existed then.
    pub statements: Vec<StatementLink>,
    /// The fund's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Purpose.
    pub purpose: String,
    /// Active or dissolved.
    pub status: String,
    /// The fund.create entry's record.
    pub created_seq: u64,
    /// Who created it.
    pub creator: MemberLink,
    /// When.
    pub created_at: String,
    /// The charter, in words.
    pub charter: Vec<CharterLine>,
    /// Treasurers.
    pub treasurers: Vec<MemberLink>,
    /// Members.
    pub members: Vec<MemberLink>,
    /// Balances: pledged, confirmed, committed, disbursed, available.
    pub balances: Vec<ChartRow>,
    /// Money in, newest first.
    pub money_in: Vec<InRow>,
    /// How many movements in there are in all.
    pub in_total: usize,
    /// The cursor (`in_before`) of the older money in, if there is any.
    pub in_older: Option<u64>,
    /// Whether this page shows older money in (not the latest).
    pub in_paged: bool,
    /// Money out, newest first.
    pub money_out: Vec<OutRow>,
    /// How many in all.
    pub out_total: usize,
    /// The cursor (`out_before`) of the older money out, if there is any.
    pub out_older: Option<u64>,
    /// Whether this page shows older money out (not the latest).
    pub out_paged: bool,
    /// Contributors, largest first.
    pub contributors: Vec<ContributorRow>,
    /// Matching pledges.
    pub pledges: Vec<PledgeRow>,
    /// Passed allocations.
    pub allocations: Vec<AllocationRow>,
    /// Costs by category.
    pub costs: Vec<ChartRow>,
    /// A dissolution's refunds.
    pub refunds: Vec<RefundRow>,
    /// Rounds.
    pub rounds: Vec<RoundRow>,
    /// The latest reconciliations, newest first.
    pub reconciliations: Vec<ReconRow>,
    /// How many in all.
    pub recon_total: usize,
    /// The balance per reconciled bank statement.
    pub balance_chart: Option<LineChart>,
    /// Its numbers.
    pub balance_rows: Vec<ChartRow>,
    /// Money in by contributor.
    pub in_chart: BarChart,
    /// Its numbers.
    pub in_rows: Vec<ChartRow>,
    /// Money out by recipient.
    pub out_chart: BarChart,
    /// Its numbers.
    pub out_rows: Vec<ChartRow>,
}

fn contribution_status(w: &W<'_>, s: ContributionStatus) -> String {
    w.tr.t(match s {
        ContributionStatus::Pledged => "status-pledged",
        ContributionStatus::Confirmed => "status-confirmed",
        ContributionStatus::Reversed => "status-reversed",
        ContributionStatus::Returned => "status-returned",
    })
}

fn income_status(w: &W<'_>, s: IncomeStatus) -> String {
    w.tr.t(match s {
        IncomeStatus::Pledged => "status-pledged",
        IncomeStatus::Confirmed => "status-confirmed",
        IncomeStatus::Reversed => "status-reversed",
        IncomeStatus::Returned => "status-returned",
    })
}

pub(crate) fn disbursement_status(w: &W<'_>, s: DisbursementStatus) -> String {
    w.tr.t(match s {
        DisbursementStatus::Pending => "status-pending",
        DisbursementStatus::Executed => "status-executed",
        DisbursementStatus::Confirmed => "status-confirmed",
        DisbursementStatus::Reversed => "status-reversed",
        DisbursementStatus::Lapsed => "status-lapsed",
        DisbursementStatus::Returned => "status-returned",
    })
}

fn charter_lines(w: &W<'_>, v: &FundView) -> Vec<CharterLine> {
    let c = &v.charter;
    let tr = &w.tr;
    let l = w.lang;
    let admission = match c.admission {
        ledger::entry::Admission::Open => tr.t("charter-admission-open"),
        ledger::entry::Admission::Vote => tr.t("charter-admission-vote"),
    };
    let hours = Decimal::from(c.voting_period_seconds) / Decimal::from(3600);
    vec![
        CharterLine { term: tr.t("charter-admission"), text: admission },
        CharterLine {
            term: tr.t("charter-approvals"),
            text: tr.t1("charter-approvals-text", "n", &c.approvals_required),
        },
        CharterLine {
            term: tr.t("charter-quorum"),
            text: tr.t1("charter-quorum-text", "pct", &format::percent(l, c.quorum.as_decimal())),
        },
        CharterLine {
            term: tr.t("charter-threshold"),
            text: tr.t1("charter-threshold-text", "pct", &format::percent(l, c.threshold.as_decimal())),
        },
        CharterLine {
            term: tr.t("charter-voting-period"),
            text: tr.t1("charter-voting-period-text", "hours", &format::decimal(l, hours, 2)),
        },
        CharterLine {
            term: tr.t("charter-max-request"),
            text: tr.t1("charter-max-request-text", "amount", &w.euro_d(c.max_request.as_decimal())),
        },
        CharterLine {
            term: tr.t("charter-max-cost"),
            text: tr.t1("charter-max-cost-text", "amount", &w.euro_d(c.max_cost.as_decimal())),
        },
        CharterLine {
            term: tr.t("charter-amend"),
            text: tr.t1("charter-amend-text", "pct", &format::percent(l, c.amend_threshold.as_decimal())),
        },
        CharterLine { term: tr.t("charter-dissolution"), text: tr.t("charter-dissolution-text") },
    ]
}

/// The largest `BARS - 1` of `totals` and the rest as one "others" bar.
fn top(w: &W<'_>, totals: BTreeMap<String, Decimal>) -> Vec<(String, Decimal)> {
    let mut all: Vec<(String, Decimal)> = totals.into_iter().filter(|(_, v)| *v > Decimal::ZERO).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if all.len() > BARS {
        let rest: Decimal = all[BARS - 1..].iter().map(|x| x.1).sum();
        let n = all.len() - (BARS - 1);
        all.truncate(BARS - 1);
        all.push((w.tr.t1("chart-others", "n", &n), rest));
    }
    all
}

fn rows(w: &W<'_>, items: &[(String, Decimal)]) -> Vec<ChartRow> {
    items.iter().map(|(l, v)| ChartRow { label: l.clone(), value: w.euro_d(*v) }).collect()
}

fn label_of(w: &W<'_>, m: &ledger::ids::MemberId) -> String {
    let l = w.member(m);
    if l.name.is_empty() {
        l.id
    } else {
        l.name
    }
}

/// Where a list of the money trail starts: its latest [`TRAIL`] records
/// before `before` (all when `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trail {
    /// Money in: only records before this position.
    pub in_before: Option<u64>,
    /// Money out: only records before this position.
    pub out_before: Option<u64>,
}

/// How many of `ids` (in log order) have a record before `before`.
fn before_count<T>(ids: &[T], before: Option<u64>, seq: impl Fn(&T) -> Option<u64>) -> usize {
    match before {
        None => ids.len(),
        Some(b) => ids.partition_point(|id| seq(id).is_some_and(|s| s < b)),
    }
}

/// The money in before `before`, latest first (at most [`TRAIL`]), and the
/// cursor of the page of older ones if there are any.
fn money_in(w: &W<'_>, f: &Fund, before: Option<u64>) -> (Vec<InRow>, Option<u64>) {
    let s = w.state;
    let nc = before_count(&f.contributions, before, |&pos| s.funds.contributions.at(pos).map(|c| c.seq));
    let ni = before_count(&f.incomes, before, |id| s.funds.incomes.get(id).map(|i| i.seq));
    let mut rows: Vec<InRow> = f.contributions[..nc]
        .iter()
        .rev()
        .take(super::fund::TRAIL)
        .filter_map(|&pos| s.funds.contributions.at(pos))
        .map(|c| InRow {
            e: w.entry(&c.id, Some(c.seq)),
            seq: c.seq,
            when: w.time(&c.received_at),
            from: Some(w.member(&c.author)),
            source: String::new(),
            amount: w.euro_d(c.amount.as_decimal()),
            status: contribution_status(w, c.status),
            confirmed_by: c.confirmed_by().map(|r| w.entry(&r, None)),
            reference: c.reference.to_string(),
        })
        .collect();
    rows.extend(f.incomes[..ni].iter().rev().take(TRAIL).filter_map(|id| s.funds.incomes.get(id)).map(|i| InRow {
        e: w.entry(&i.id, Some(i.seq)),
        seq: i.seq,
        when: w.time(&i.received_at),
        from: None,
        source: format!("{} ({})", i.source, i.source_kind.as_str()),
        amount: w.euro_d(i.amount.as_decimal()),
        status: income_status(w, i.status),
        confirmed_by: i.confirmed_by.map(|r| w.entry(&r, None)),
        reference: i.reference.clone(),
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.seq));
    rows.truncate(TRAIL);
    let older = (nc + ni > rows.len()).then(|| rows.last().map(|r| r.seq)).flatten();
    (rows, older)
}

/// The money out before `before`, latest first (at most [`TRAIL`]), and the
/// cursor of the page of older ones if there are any.
fn money_out(w: &W<'_>, f: &Fund, before: Option<u64>) -> (Vec<OutRow>, Option<u64>) {
    let s = w.state;
    let nd = before_count(&f.disbursements, before, |id| s.funds.disbursements.get(id).map(|d| d.seq));
    let rows: Vec<OutRow> = f.disbursements[..nd]
        .iter()
        .rev()
        .take(TRAIL)
        .filter_map(|id| s.funds.disbursements.get(id))
        .map(|d| {
            let (payee, what) = match (&d.payout, &d.cost) {
                (PayoutKind::Cost, Some(c)) => {
                    (c.payee.clone(), format!("{}: {}", w.tr.t("payout-cost"), c.description))
                }
                (PayoutKind::Refund, _) => (String::new(), w.tr.t("payout-refund")),
                _ => (
                    String::new(),
                    d.allocation.and_then(|a| s.funds.proposal(&a)).map(|p| p.title.clone()).unwrap_or_default(),
                ),
            };
            let approvers = d
                .approvals
                .iter()
                .zip(&d.approval_records)
                .map(|(m, r)| Approver { m: w.member(m), when: w.time(&r.received_at), e: w.entry(&r.id, Some(r.seq)) })
                .collect();
            OutRow {
                e: w.entry(&d.id, Some(d.seq)),
                seq: d.seq,
                when: w.time(&d.requested_at),
                to: d.recipient.as_ref().map(|m| w.member(m)),
                payee,
                what,
                allocation: d.allocation.map(|a| w.entry(&a, s.funds.proposal(&a).map(|p| p.seq))),
                amount: w.euro_d(d.amount.as_decimal()),
                status: disbursement_status(w, d.status),
                requested_by: w.member(&d.requested_by),
                approvers,
                approvals: format!("{} / {}", d.approvals.len(), f.charter.approvals_required),
                confirmed_by: d.confirmed_by.map(|r| w.entry(&r, None)),
            }
        })
        .collect();
    let older = (nd > rows.len()).then(|| rows.last().map(|r| r.seq)).flatten();
    (rows, older)
}

/// Money out that left the fund (not reversed, lapsed or returned), by
/// recipient (a member, or a cost's payee); and costs by category.
fn out_totals(w: &W<'_>, f: &Fund) -> (BTreeMap<String, Decimal>, BTreeMap<String, Decimal>) {
    let mut by_recipient = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    for d in f.disbursements.iter().filter_map(|id| w.state.funds.disbursements.get(id)) {
        if !matches!(d.status, DisbursementStatus::Executed | DisbursementStatus::Confirmed) {
            continue;
        }
        let who = match (&d.recipient, &d.cost) {
            (Some(m), _) => label_of(w, m),
            (None, Some(c)) => c.payee.clone(),
            (None, None) => String::new(),
        };
        *by_recipient.entry(who).or_insert(Decimal::ZERO) += d.amount.as_decimal();
        if let Some(c) = &d.cost {
            *by_category.entry(c.category.as_str().to_string()).or_insert(Decimal::ZERO) += d.amount.as_decimal();
        }
    }
    (by_recipient, by_category)
}

/// The matching pledges with what is owed, paid and outstanding.
fn pledge_rows(w: &W<'_>, v: &FundView) -> Vec<PledgeRow> {
    let tr = &w.tr;
    v.matching_pledges
        .iter()
        .map(|p| PledgeRow {
            e: w.entry(&p.id, Some(p.seq)),
            seq: p.seq,
            m: w.member(&p.municipality),
            terms: tr.t1("pledge-terms", "ratio", &format::decimal(w.lang, p.ratio.as_decimal(), 4))
                + " "
                + &tr.t1("pledge-cap", "amount", &w.euro_d(p.cap.as_decimal())),
            owed: w.euro(p.owed),
            paid: w.euro(p.paid),
            outstanding: w.euro(p.outstanding),
        })
        .collect()
}

/// What a dissolved fund owes each contributor.
fn refund_rows(w: &W<'_>, v: &FundView) -> Vec<RefundRow> {
    v.dissolution
        .as_ref()
        .map(|d| {
            d.refunds
                .iter()
                .map(|r| RefundRow {
                    m: w.member(&r.member),
                    owed: w.euro(r.owed),
                    paid: w.euro(r.paid),
                    outstanding: w.euro(r.outstanding),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The fund's budgeting rounds.
fn round_rows(w: &W<'_>, state: &State, v: &FundView) -> Vec<RoundRow> {
    let tr = &w.tr;
    v.rounds
        .iter()
        .map(|r| {
            let seq = state.funds.proposal(&r.id).map(|p| p.seq).unwrap_or(r.seq);
            RoundRow {
                e: w.entry(&r.id, Some(seq)),
                seq,
                budget: w.euro_d(r.budget.as_decimal()),
                status: super::governance::round_status(w, r.status),
                counts: tr.t1("round-projects-n", "n", &r.project_count)
                    + ", "
                    + &tr.t1("round-ballots-n", "n", &r.ballot_count),
            }
        })
        .collect()
}

/// The latest reconciliations, newest first.
fn recon_rows(w: &W<'_>, v: &FundView) -> Vec<ReconRow> {
    v.reconciliations
        .iter()
        .rev()
        .take(TRAIL)
        .map(|r| ReconRow {
            e: w.entry(&r.id, Some(r.seq)),
            seq: r.seq,
            by: w.member(&r.author),
            period: format!("{} – {}", format::date(w.lang, r.period_from.0), format::date(w.lang, r.period_to.0)),
            opening: w.euro(r.opening_balance),
            closing: w.euro(r.closing_balance),
            confirmed: r.confirmed,
            unmatched: r.unmatched_bank_lines,
            sha256: r.statement_sha256.clone(),
        })
        .collect()
}

/// The passed allocations, with what was paid of each.
fn allocation_rows(w: &W<'_>, state: &State, f: &Fund) -> Vec<AllocationRow> {
    f.proposals
        .iter()
        .filter_map(|id| state.funds.proposal(id))
        .filter(|p| p.proposal_kind == ProposalKind::Allocation && p.outcome == Some(Outcome::Passed))
        .map(|p| AllocationRow {
            e: w.entry(&p.id, Some(p.seq)),
            seq: p.seq,
            title: p.title.clone(),
            to: p.recipient.as_ref().map(|m| w.member(m)),
            amount: p.amount.map(|a| w.euro_d(a.as_decimal())).unwrap_or_default(),
            paid: w.euro(p.paid),
        })
        .collect()
}

/// The fund page of `id`.
pub fn fund(state: &State, ctx: &Ctx, id: &str) -> Result<String, PageError> {
    fund_page(state, ctx, id, Trail::default())
}

/// The fund page of `id`, its money trail from `trail` back.
pub fn fund_page(state: &State, ctx: &Ctx, id: &str, trail: Trail) -> Result<String, PageError> {
    let w = W::new(ctx.lang, state);
    let tr = &w.tr;
    let not_found = || PageError::NotFound(tr.t1("not-found-fund", "id", &id));
    let fid: FundId = id.parse().map_err(|_| not_found())?;
    let f = state.funds.fund(&fid).ok_or_else(not_found)?;
    let v = FundView::of(state, f);
    let b = &v.balances;
    let balances = [
        ("balance-pledged", b.pledged),
        ("balance-confirmed", b.confirmed),
        ("balance-committed", b.committed),
        ("balance-disbursed", b.disbursed),
        ("balance-available", b.available),
    ]
    .iter()
    .map(|(k, x)| ChartRow { label: tr.t(k), value: w.euro(*x) })
    .collect();
    let mut contributors: Vec<(&ledger::ids::MemberId, Decimal)> =
        f.contributed.iter().map(|(m, b)| (m, b.as_decimal())).collect();
    contributors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let in_totals: BTreeMap<String, Decimal> = {
        let mut t = BTreeMap::new();
        for (m, x) in &contributors {
            *t.entry(label_of(&w, m)).or_insert(Decimal::ZERO) += *x;
        }
        for i in f.incomes.iter().filter_map(|i| state.funds.incomes.get(i)) {
            if i.status == IncomeStatus::Confirmed {
                *t.entry(i.source.clone()).or_insert(Decimal::ZERO) += i.amount.as_decimal();
            }
        }
        t
    };
    let (by_recipient, by_category) = out_totals(&w, f);
    let in_top = top(&w, in_totals);
    let out_top = top(&w, by_recipient);
    let mut balance_points: Vec<(i64, Decimal, String)> = f
        .reconciliations
        .iter()
        .filter_map(|r| {
            let day = r.period_to.0;
            let t = day.and_hms_opt(23, 59, 59)?.and_utc().timestamp();
            Some((t, r.closing_balance.as_decimal(), format::date(ctx.lang, day)))
        })
        .collect();
    balance_points.sort_by_key(|p| p.0);
    let allocations = allocation_rows(&w, state, f);
    let (money_in, in_older) = money_in(&w, f, trail.in_before);
    let (money_out, out_older) = money_out(&w, f, trail.out_before);
    let page = FundPage {
        c: Head::new(ctx, &origin_of(state), v.name.clone()),
        statements: statement_links(&w, ctx, v.created_at.instant()),
        id: v.id.as_str().to_string(),
        name: v.name.clone(),
        purpose: v.purpose.clone(),
        status: tr.t(match v.status {
            ledger::funds::FundStatus::Active => "fund-active",
            ledger::funds::FundStatus::Dissolved => "fund-dissolved",
        }),
        created_seq: v.created_seq,
        creator: w.member(&v.creator),
        created_at: w.time(&v.created_at),
        charter: charter_lines(&w, &v),
        treasurers: v.treasurers.iter().map(|m| w.member(m)).collect(),
        members: v.members.iter().map(|m| w.member(m)).collect(),
        balances,
        money_in,
        in_older,
        in_paged: trail.in_before.is_some(),
        in_total: f.contributions.len() + f.incomes.len(),
        money_out,
        out_older,
        out_paged: trail.out_before.is_some(),
        out_total: f.disbursements.len(),
        contributors: contributors
            .iter()
            .take(100)
            .map(|(m, x)| ContributorRow { m: w.member(m), total: w.euro_d(*x) })
            .collect(),
        pledges: pledge_rows(&w, &v),
        allocations,
        costs: rows(&w, &by_category.into_iter().collect::<Vec<_>>()),
        refunds: refund_rows(&w, &v),
        rounds: round_rows(&w, state, &v),
        recon_total: v.reconciliations.len(),
        reconciliations: recon_rows(&w, &v),
        balance_chart: (!balance_points.is_empty()).then(|| LineChart::new(ctx.lang, &balance_points)),
        balance_rows: balance_points
            .iter()
            .map(|(_, v, d)| ChartRow { label: d.clone(), value: w.euro_d(*v) })
            .collect(),
        in_chart: BarChart::new(ctx.lang, &in_top),
        in_rows: rows(&w, &in_top),
        out_chart: BarChart::new(ctx.lang, &out_top),
        out_rows: rows(&w, &out_top),
    };
    Ok(page.render()?)
}
