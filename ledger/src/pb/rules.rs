//! The budgeting rules of PB.md and their outcomes.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use num_bigint::BigUint;

use super::cost::Cost;
use super::exact::{Exact, Pick};
use super::greedy;
use super::instance::{cmp_int_ids, parse_int_id, Instance};
use super::interval::{Interval, Prefix};
use super::prep::{Base, Groups, Utility};
use super::rational::Rational;

/// A budgeting rule (PB.md). `FromStr` also accepts the round rule names
/// `greedy` (= [`Rule::GreedyAv`]) and `equal_shares` (= [`Rule::MesCostAdd1Noex`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `greedy_av`: greedy by number of votes.
    GreedyAv,
    /// `greedy_card`: greedy by votes per unit of cost.
    GreedyCard,
    /// `mes_cost`: Method of Equal Shares, cost utility, `b = B/n`.
    MesCost,
    /// `mes_card`: Method of Equal Shares, cardinality utility, `b = B/n`.
    MesCard,
    /// `mes_cost_add1`: MES (cost) with the Add1 completion.
    MesCostAdd1,
    /// `mes_card_add1`: MES (cardinality) with the Add1 completion.
    MesCardAdd1,
    /// `mes_cost_add1_noex`: Add1 without the exhaustiveness stop (the
    /// variant of real elections; the round rule `equal_shares`).
    MesCostAdd1Noex,
    /// `mes_cost_add1u`: `mes_cost_add1`, then greedy.
    MesCostAdd1u,
    /// `mes_card_add1u`: `mes_card_add1`, then greedy.
    MesCardAdd1u,
    /// `mes_cost_add1u_cmp`: `mes_cost_add1u` unless more voters prefer `greedy_av`.
    MesCostAdd1uCmp,
}

impl Rule {
    /// Every rule, in PB.md order.
    pub const ALL: [Rule; 10] = [
        Rule::GreedyAv,
        Rule::GreedyCard,
        Rule::MesCost,
        Rule::MesCard,
        Rule::MesCostAdd1,
        Rule::MesCardAdd1,
        Rule::MesCostAdd1Noex,
        Rule::MesCostAdd1u,
        Rule::MesCardAdd1u,
        Rule::MesCostAdd1uCmp,
    ];

    /// The round rule `greedy`.
    pub const GREEDY: Rule = Rule::GreedyAv;
    /// The round rule `equal_shares`.
    pub const EQUAL_SHARES: Rule = Rule::MesCostAdd1Noex;

    /// The rule's canonical name, e.g. `"mes_cost_add1"`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::GreedyAv => "greedy_av",
            Rule::GreedyCard => "greedy_card",
            Rule::MesCost => "mes_cost",
            Rule::MesCard => "mes_card",
            Rule::MesCostAdd1 => "mes_cost_add1",
            Rule::MesCardAdd1 => "mes_card_add1",
            Rule::MesCostAdd1Noex => "mes_cost_add1_noex",
            Rule::MesCostAdd1u => "mes_cost_add1u",
            Rule::MesCardAdd1u => "mes_card_add1u",
            Rule::MesCostAdd1uCmp => "mes_cost_add1u_cmp",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown rule name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule {0:?}; valid rules: greedy_av, greedy_card, mes_cost, mes_card, mes_cost_add1, mes_card_add1, mes_cost_add1_noex, mes_cost_add1u, mes_card_add1u, mes_cost_add1u_cmp, greedy (= greedy_av), equal_shares (= mes_cost_add1_noex)")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Rule, UnknownRule> {
        let t = s.trim();
        match t {
            "greedy" => return Ok(Rule::GREEDY),
            "equal_shares" => return Ok(Rule::EQUAL_SHARES),
            _ => {}
        }
        Rule::ALL.iter().copied().find(|r| r.name() == t).ok_or_else(|| UnknownRule(s.to_string()))
    }
}

/// How a selected project was funded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Funding {
    /// Bought by the Method of Equal Shares from its supporters' budgets.
    EqualShares,
    /// Costs nothing (selected first under cardinality utility).
    Free,
    /// Taken by a greedy rule or a greedy completion, from the common budget.
    Greedy,
}

/// What the supporters of one selected project paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The project id.
    pub project: String,
    /// Its cost.
    pub cost: Cost,
    /// How it was funded.
    pub funding: Funding,
    /// Number of supporters (voters whose ballot contains it).
    pub supporters: u64,
    /// For [`Funding::EqualShares`]: the equal share `ρ · u(p)`; each
    /// supporter paid the smaller of this and what was left of their budget.
    pub share: Option<Rational>,
    /// Supporters who paid the full share.
    pub full_share_payers: u64,
    /// Supporters who paid less than the share (all they had left).
    pub capped_payers: u64,
    /// What the capped payers paid together.
    pub capped_total: Rational,
    /// What all supporters paid together (the cost, for equal shares; zero
    /// otherwise).
    pub total: Rational,
}

impl Payment {
    /// A line for people, e.g. `"1200.00 paid by 3000 supporters: 2990 paid
    /// 0.40 each, 10 paid 4.00 together (all they had left)"`.
    pub fn display(&self) -> String {
        match self.funding {
            Funding::Free => "free: costs nothing".to_string(),
            Funding::Greedy => format!("{} paid from the common budget", self.cost),
            Funding::EqualShares => {
                let share = self.share.as_ref().map(fmt_amount).unwrap_or_default();
                let mut line = format!(
                    "{} paid by {} supporters: {} paid {} each",
                    fmt_amount(&self.total),
                    self.full_share_payers + self.capped_payers,
                    self.full_share_payers,
                    share
                );
                if self.capped_payers > 0 {
                    line.push_str(&format!(
                        ", {} paid {} together (all they had left)",
                        self.capped_payers,
                        fmt_amount(&self.capped_total)
                    ));
                }
                line
            }
        }
    }
}

/// The outcome of a rule on an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The rule that was run (aliases resolved).
    pub rule: Rule,
    /// The selected project ids, in selection order.
    pub selected: Vec<String>,
    /// Sum of their costs (exact).
    pub total_cost: Rational,
    /// The same, for people (exact decimal, e.g. `"24186815.00"`).
    pub total_cost_display: String,
    /// For MES rules: the per-voter budget of the MES run whose outcome was
    /// kept (`B/n`, plus `k` currency units for Add1 variants). `None` for
    /// greedy rules, without voters, or when Add1 kept the empty start.
    pub budget_per_voter: Option<Rational>,
    /// The same, for people: `"392.21 (exactly 24186815/61668)"`.
    pub budget_per_voter_display: Option<String>,
    /// For Add1 variants: the `k` of the kept run.
    pub add1_steps: Option<u64>,
    /// One entry per selected project, in the order of `selected`.
    pub payments: Vec<Payment>,
}

/// Which MES engine computes a selection ([`select_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The certified interval engine, and the exact one for each MES run it
    /// cannot decide: what [`select`] and [`run`] use.
    Certified,
    /// The exact engine alone (big integers): the reference, slower.
    Exact,
    /// The certified interval engine alone: no selection when it cannot
    /// decide a run (to test it against [`Engine::Exact`]).
    IntervalOnly,
}

/// The longest span of Add1 steps the interval engine is asked to prove alike.
const SPAN_MAX: u64 = 1 << 40;

/// The MES runs of one rule on one instance, by the engine asked for.
struct Runs<'a> {
    base: &'a Base,
    engine: Engine,
    interval: Option<Interval<'a>>,
    /// A second interval engine, and the spans of steps it proved meanwhile
    /// (first step, number of steps, picks).
    ahead: Option<Interval<'a>>,
    next: Vec<(u64, u64, Vec<usize>)>,
    /// What failed interval runs proved for spans of steps (first step,
    /// last step, prefix): the runs of steps in a span start from there.
    proved: Vec<(u64, u64, Prefix)>,
    exact: Exact<'a>,
}

/// From this many (voter group, candidate) supports on, the Add1 steps run
/// two at a time, on two threads.
const PAIRS_FROM: usize = 50_000;

/// The voters' total budget at Add1 step `k`: `B + k · n` currency units (scaled).
fn total_at(base: &Base, k: u64) -> BigUint {
    &base.budget + base.unit() * base.n * k
}

/// The longest prefix proved for the steps `a..=b`, and the last step of
/// its span.
fn longest(proved: &[(u64, u64, Prefix)], a: u64, b: u64) -> Option<(&Prefix, u64)> {
    let holds = proved.iter().filter(|(lo, hi, _)| *lo <= a && b <= *hi);
    holds.max_by_key(|(_, _, p)| p.len()).map(|(_, hi, p)| (p, *hi))
}

/// An interval run to make: the steps `a..=b` (voters' totals `lo..=hi`)
/// from a proved prefix.
type Job<'p> = (u64, u64, u128, u128, &'p Prefix);

impl<'a> Runs<'a> {
    /// `add1`: runs for many steps follow, so on large instances a second
    /// interval engine computes later steps on another thread meanwhile.
    fn new(base: &'a Base, g: &'a Groups, engine: Engine, add1: bool) -> Runs<'a> {
        let interval = if engine == Engine::Exact { None } else { Interval::new(&base.cost, g) };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let ahead = interval.as_ref().filter(|_| add1 && cores > 1 && g.supports() >= PAIRS_FROM);
        let ahead = ahead.and_then(|_| Interval::new(&base.cost, g));
        let (next, proved, exact) = (Vec::new(), Vec::new(), Exact::new(base, g));
        Runs { base, engine, interval, ahead, next, proved, exact }
    }

    /// The picks (candidate indices) of MES at the Add1 steps `k..k + span`
    /// when the interval engine proves them alike, trying halves on doubt
    /// (each from what the longer run proved; inside a span partly proved,
    /// its rest first); else the exact picks of step `k` alone. Returns the
    /// picks and the number of steps they cover; `None` only for
    /// [`Engine::IntervalOnly`], when the interval engine cannot decide.
    fn picks(&mut self, k: u64, span: u64) -> Option<(Vec<usize>, u64)> {
        // Spans and prefixes behind step k are done with.
        self.next.retain(|(at, _, _)| *at >= k);
        self.proved.retain(|(_, hi, _)| *hi >= k);
        if let Some(i) = self.next.iter().position(|(at, s, _)| *at == k && *s <= span) {
            let (_, s, picks) = self.next.swap_remove(i);
            return Some((picks, s));
        }
        let mut s = longest(&self.proved, k, k).map_or(span, |(_, hi)| span.min(hi - k + 1));
        while self.interval.is_some() {
            if let Some(picks) = self.run_span(k, s) {
                return Some((picks, s));
            }
            if s == 1 {
                break;
            }
            // Not proved whole: its first half next, from what was proved.
            s = s.div_ceil(2);
        }
        if self.engine == Engine::IntervalOnly {
            return None;
        }
        Some((self.exact.run(&total_at(self.base, k), self.base.n).iter().map(|p| p.cand).collect(), 1))
    }

    /// Runs the interval engine on the steps `k..k + s` (from the longest
    /// prefix proved for them) and meanwhile, if there is a second engine
    /// and a proved prefix for step `k + s`, on the rest of its span. The
    /// picks of the first, if proved; what else either proves is kept (in
    /// `next`, `proved`).
    fn run_span(&mut self, k: u64, s: u64) -> Option<Vec<usize>> {
        let (base, proved) = (self.base, &self.proved);
        let total = |k| u128::try_from(total_at(base, k)).ok();
        let (lo, hi) = (total(k)?, total(k + s - 1)?);
        let from = longest(proved, k, k + s - 1).map(|(p, _)| p);
        let rest = longest(proved, k + s, k + s).filter(|_| from.is_some() && self.ahead.is_some());
        let rest: Option<Job<'_>> = rest.and_then(|(p, b)| Some((k + s, b, total(k + s)?, total(b)?, p)));
        let (iv, ahead) = (self.interval.as_mut()?, self.ahead.as_mut());
        let (now, later) = std::thread::scope(|scope| {
            let later = ahead.zip(rest).map(|(iv2, (a, b, lo2, hi2, p))| {
                scope.spawn(move || (a, b - a + 1, iv2.run(lo2, hi2, base.n, Some(p))))
            });
            (iv.run(lo, hi, base.n, from), later.map(|h| h.join()))
        });
        if let Some((a, s, result)) = later.and_then(Result::ok) {
            match result {
                Ok(picks) => self.next.push((a, s, picks)),
                Err(Some(p)) if s > 1 => self.proved.push((a, a + s - 1, *p)),
                Err(_) => {}
            }
        }
        match now {
            Ok(picks) => Some(picks),
            Err(p) => {
                self.proved.extend(p.filter(|_| s > 1).map(|p| (k, k + s - 1, *p)));
                None
            }
        }
    }
}

/// A rule's MES outcome: the selected projects and the kept run (if any).
type MesPick = (Vec<usize>, Option<Kept>);

/// Plain MES: one run at `b = B / n`.
fn mes_plain(base: &Base, g: &Groups, runs: &mut Runs<'_>) -> Option<MesPick> {
    if base.n == 0 {
        return Some((g.zero_supported.clone(), None));
    }
    let (picks, _) = runs.picks(0, 1)?;
    Some((g.projects(&picks), Some(Kept { picks, k: 0 })))
}

/// The Add1 completion (PB.md): runs for `k = 0, 1, …`, taken a proved
/// span of steps at a time (the same picks on the whole span, so the tests
/// below give the same answer at each of its steps).
fn mes_add1(base: &Base, g: &Groups, runs: &mut Runs<'_>, exhaustive: bool) -> Option<MesPick> {
    let mut prev: Option<Kept> = None;
    let (mut k, mut span) = (0u64, 1u64);
    let mut chosen = vec![false; base.cost.len()];
    while base.n > 0 && k < u64::MAX {
        let (picks, covered) = runs.picks(k, span)?;
        let projects = g.projects(&picks);
        let spent = base.total(&projects);
        if spent > base.budget {
            break;
        }
        // Exhaustive: every candidate selected or too expensive for what is
        // left; else (`mes_cost_add1_noex`) every candidate selected.
        let left = &base.budget - &spent;
        chosen.iter_mut().for_each(|c| *c = false);
        projects.iter().for_each(|&p| chosen[p] = true);
        let done = g.cand.iter().all(|&p| chosen[p] || (exhaustive && base.cost[p] > left));
        if done {
            return Some((projects, Some(Kept { picks, k })));
        }
        // Twice as far after a wholly proved span; after a failed one, as
        // far again (its proved rest first, see `Runs::picks`).
        if covered == span {
            span = (span * 2).min(SPAN_MAX);
        }
        prev = Some(Kept { picks, k: k + covered - 1 });
        k += covered;
    }
    Some(match prev {
        Some(kept) => (g.projects(&kept.picks), Some(kept)),
        None => (g.zero_supported.clone(), None),
    })
}

/// A finished MES computation: the voters' total budget of the kept run, its
/// Add1 step `k`, and its exact picks with the project index of each.
type MesResult = (BigUint, u64, Vec<(usize, Pick)>);

/// What the supporters of project `p` paid; `bought`: its pick, when equal
/// shares bought it.
fn payment(inst: &Instance, base: &Base, p: usize, bought: Option<&Pick>) -> Payment {
    let proj = &inst.projects()[p];
    let zero = Rational::from_integer(0);
    let mut pay = Payment {
        project: proj.id.clone(),
        cost: proj.cost,
        funding: if proj.cost.is_zero() { Funding::Free } else { Funding::Greedy },
        supporters: base.votes[p],
        share: None,
        full_share_payers: 0,
        capped_payers: 0,
        capped_total: zero.clone(),
        total: zero,
    };
    if let Some(pick) = bought {
        // Scaled units over `den`; one currency unit is 10^scale.
        let (unit, den) = (base.unit(), &pick.den * base.unit());
        (pay.funding, pay.share) =
            (Funding::EqualShares, Some(Rational::from_parts(&pick.rho.share_num, &(&den * pick.rho.full))));
        (pay.full_share_payers, pay.capped_payers) = (pick.rho.full, pick.rho.capped);
        pay.capped_total = Rational::from_parts(&pick.rho.capped_num, &den);
        // Water-filling: the payments add up to the cost exactly.
        pay.total = Rational::from_parts(&base.cost[p], &unit);
    }
    pay
}

/// Shows an amount for people: its exact decimal expansion with at least
/// two places when it has one, otherwise the value rounded to two places
/// followed by the exact fraction.
pub(crate) fn fmt_amount(v: &Rational) -> String {
    match v.decimal_places() {
        Some(places) if places <= 30 => v.to_decimal(places.max(2)),
        _ => format!("{} (exactly {v})", v.to_decimal(2)),
    }
}

fn build(inst: &Instance, base: &Base, rule: Rule, projects: &[usize], mes: Option<MesResult>) -> Outcome {
    let value = |scaled: &BigUint| Rational::from_parts(scaled, &base.unit());
    let (kept, picks) = mes.map_or((None, Vec::new()), |(total, k, picks)| (Some((total, k)), picks));
    let bought = |p: usize| picks.iter().find(|(q, _)| *q == p).map(|(_, pick)| pick);
    let payments = projects.iter().map(|&p| payment(inst, base, p, bought(p))).collect();
    let budget_per_voter = kept.as_ref().map(|(total, _)| Rational::from_parts(total, &(base.unit() * base.n)));
    let total = value(&base.total(projects));
    let is_add1 = !matches!(rule, Rule::MesCost | Rule::MesCard | Rule::GreedyAv | Rule::GreedyCard);
    Outcome {
        rule,
        selected: projects.iter().map(|&p| inst.projects()[p].id.clone()).collect(),
        total_cost_display: fmt_amount(&total),
        total_cost: total,
        budget_per_voter_display: budget_per_voter.as_ref().map(|b| {
            if b.is_integer() {
                b.to_string()
            } else {
                format!("{} (exactly {b})", b.to_decimal(2))
            }
        }),
        budget_per_voter,
        add1_steps: if is_add1 { kept.map(|(_, k)| k) } else { None },
        payments,
    }
}

/// The selection of a rule on an instance, without the payments: what
/// pabutools' rule call computes. [`run`] completes it into an [`Outcome`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The rule that was run (aliases resolved).
    pub rule: Rule,
    /// The selected projects (indices into [`Instance::projects`]), in
    /// selection order.
    pub projects: Vec<usize>,
    /// The MES run whose outcome was kept, to compute its payments.
    kept: Option<Kept>,
}

/// The MES run kept by a rule: its bought projects (candidate indices, in
/// order) and its Add1 step `k` (0 for plain MES).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Kept {
    picks: Vec<usize>,
    k: u64,
}

impl Selection {
    /// The selected project ids, in selection order.
    pub fn ids(&self, inst: &Instance) -> Vec<String> {
        self.projects.iter().map(|&p| inst.projects()[p].id.clone()).collect()
    }
}

fn util_of(rule: Rule) -> Utility {
    match rule {
        Rule::GreedyCard | Rule::MesCard | Rule::MesCardAdd1 | Rule::MesCardAdd1u => Utility::Card,
        _ => Utility::Cost,
    }
}

/// Selects the projects of a rule on an instance, exactly as PB.md (and
/// pabutools 1.2.3) defines it, without computing the payments.
pub fn select(inst: &Instance, rule: Rule) -> Selection {
    select_with(inst, rule, Engine::Certified).expect("the certified engine falls back on the exact one")
}

/// [`select`] with the MES runs computed by `engine`; `None` only for
/// [`Engine::IntervalOnly`] when the interval engine cannot decide a run.
/// Every engine gives the same selection.
pub fn select_with(inst: &Instance, rule: Rule, engine: Engine) -> Option<Selection> {
    select_in(inst, &Base::new(inst), rule, engine).map(|(sel, _)| sel)
}

/// [`select_with`] on a prepared instance; also gives the MES view, for
/// the payments.
fn select_in(inst: &Instance, base: &Base, rule: Rule, engine: Engine) -> Option<(Selection, Option<Groups>)> {
    let util = util_of(rule);
    let selection = |projects, kept| Selection { rule, projects, kept };
    if matches!(rule, Rule::GreedyAv | Rule::GreedyCard) {
        let mut projects = Vec::new();
        greedy::fill(base, &greedy::order(base, util), &mut projects);
        return Some((selection(projects, None), None));
    }
    let g = Groups::new(inst, base, util);
    let (mut projects, kept) = {
        let mut runs = Runs::new(base, &g, engine, !matches!(rule, Rule::MesCost | Rule::MesCard));
        match rule {
            Rule::MesCost | Rule::MesCard => mes_plain(base, &g, &mut runs)?,
            Rule::MesCostAdd1Noex => mes_add1(base, &g, &mut runs, false)?,
            _ => mes_add1(base, &g, &mut runs, true)?,
        }
    };
    if matches!(rule, Rule::MesCostAdd1u | Rule::MesCardAdd1u | Rule::MesCostAdd1uCmp) {
        let ord = greedy::order(base, Utility::Cost);
        greedy::fill(base, &ord, &mut projects);
        if rule == Rule::MesCostAdd1uCmp {
            let mut gr = Vec::new();
            greedy::fill(base, &ord, &mut gr);
            if prefer_greedy(inst, &gr, &projects) {
                return Some((selection(gr, None), Some(g)));
            }
        }
    }
    Some((selection(projects, kept), Some(g)))
}

/// Runs a rule on an instance, exactly as PB.md (and pabutools 1.2.3)
/// defines it: the selection of [`select`] and the exact payments.
pub fn run(inst: &Instance, rule: Rule) -> Outcome {
    let base = Base::new(inst);
    let mut engine = Engine::Certified;
    loop {
        let (sel, g) = select_in(inst, &base, rule, engine).expect("the certified and exact engines always decide");
        let mes = match (&sel.kept, &g) {
            (Some(kept), Some(g)) => {
                let total = total_at(&base, kept.k);
                match Exact::new(&base, g).replay(&total, base.n, &kept.picks) {
                    Some(run) => Some((total, kept.k, run.into_iter().map(|pick| (g.cand[pick.cand], pick)).collect())),
                    // Certified picks are the exact ones, so this cannot
                    // happen; should it, the exact engine decides alone.
                    None if engine == Engine::Certified => {
                        engine = Engine::Exact;
                        continue;
                    }
                    None => None,
                }
            }
            _ => None,
        };
        return build(inst, &base, rule, &sel.projects, mes);
    }
}

/// Whether strictly more voters approve more projects of `greedy` than of
/// `mes` than the other way round.
fn prefer_greedy(inst: &Instance, greedy: &[usize], mes: &[usize]) -> bool {
    let chosen = |set: &[usize]| {
        let mut v = vec![false; inst.projects().len()];
        set.iter().for_each(|&p| v[p] = true);
        v
    };
    let (in_g, in_m) = (chosen(greedy), chosen(mes));
    let (mut more_g, mut more_m) = (0u64, 0u64);
    for ballot in inst.ballots() {
        let approved = |set: &[bool]| ballot.iter().filter(|&&p| set[p as usize]).count();
        match approved(&in_g).cmp(&approved(&in_m)) {
            Ordering::Greater => more_g += 1,
            Ordering::Less => more_m += 1,
            Ordering::Equal => {}
        }
    }
    more_g > more_m
}

/// The ids sorted for display: numerically when every project id of the
/// instance is an integer, otherwise in string (code-point) order.
pub fn sorted_ids(inst: &Instance, selected: &[String]) -> Vec<String> {
    let mut v = selected.to_vec();
    if inst.ids_are_integers() && v.iter().all(|s| parse_int_id(s).is_some()) {
        v.sort_by(|a, b| {
            let (pa, pb) = (parse_int_id(a).expect("checked"), parse_int_id(b).expect("checked"));
            cmp_int_ids(pa, pb).then_with(|| a.cmp(b))
        });
    } else {
        v.sort();
    }
    v
}
