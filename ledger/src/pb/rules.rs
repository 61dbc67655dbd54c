//! The budgeting rules of PB.md and their outcomes.

use std::fmt;
use std::str::FromStr;
use std::sync::mpsc;

use num_bigint::BigUint;

use super::cost::Cost;
use super::fast::Fast;
use super::greedy;
use super::instance::{cmp_int_ids, parse_int_id, Instance};
use super::mes::{Mes, MesRun, Pick};
use super::prep::{Base, Groups, Utility};
use super::rational::Rational;
use super::small;
use super::tiny::{self, Tiny};

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

/// Kind of Add1 loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Stop when over budget or exhaustive.
    Exhaustive,
    /// Stop when over budget or everything is selected.
    AllSelected,
}

/// A finished MES computation, in exact values (scaled units).
struct MesResult {
    /// The voters' total budget `B + k·n·10^scale` of the kept run, and `k`.
    budget: Option<(BigUint, u64)>,
    /// Per bought project: (project index, share, full payers, capped payers,
    /// what the capped ones paid).
    details: Vec<(usize, Rational, u64, u64, Rational)>,
}

fn details_of(base: &Base, g: &Groups, run: &MesRun) -> Vec<(usize, Rational, u64, u64, Rational)> {
    let unit = num_traits::pow(BigUint::from(10u32), base.scale as usize);
    run.picks
        .iter()
        .map(|p| {
            // Scaled units over `den`; one currency unit is 10^scale.
            let den = &p.den * &unit;
            let share = Rational::from_parts(&p.share_num, &(&den * p.full));
            let capped = Rational::from_parts(&p.capped_num, &den);
            (g.cand[p.cand], share, p.full, p.capped, capped)
        })
        .collect()
}

/// The picks (candidate indices) of MES when the voters hold `total`
/// together: the fast certified engine when it can decide, else the exact one.
fn picks_for(fast: &mut Option<Fast<'_>>, exact: &mut Mes<'_>, total: &BigUint, n: u64) -> Vec<usize> {
    if exact.inputs().1.sup_items.len() <= small::TINY_SUPPORTS {
        if let Some(p) = small_picks(exact, total, n) {
            return p;
        }
    }
    if let (Some(f), Ok(t)) = (fast.as_mut(), u128::try_from(total)) {
        if let Ok(p) = f.run(t, t, n) {
            #[cfg(debug_assertions)]
            check_fast(exact, total, n, &p);
            return p;
        }
    }
    if let Some(p) = small_picks(exact, total, n) {
        return p;
    }
    exact.run(total, n).picks.iter().map(|p| p.cand).collect()
}

/// Debug builds: the certified picks are those of the exact engine (on
/// instances small enough for it to be quick).
#[cfg(debug_assertions)]
fn check_fast(exact: &mut Mes<'_>, total: &BigUint, n: u64, picks: &[usize]) {
    if exact.inputs().1.sup_items.len() <= 20_000 {
        let want: Vec<usize> = exact.run(total, n).picks.iter().map(|p| p.cand).collect();
        assert_eq!(picks, &want[..], "certified MES differs from the exact one");
    }
}

/// The exact picks on machine integers, when the instance is small and
/// nothing overflows.
fn small_picks(exact: &mut Mes<'_>, total: &BigUint, n: u64) -> Option<Vec<usize>> {
    let (base, g) = exact.inputs();
    if g.sup_items.len() > small::SMALL_SUPPORTS {
        return None;
    }
    let picks = small::run(base, g, u128::try_from(total).ok()?, n)?;
    #[cfg(debug_assertions)]
    {
        let want: Vec<usize> = exact.run(total, n).picks.iter().map(|p| p.cand).collect();
        assert_eq!(picks, want, "machine-integer MES differs from the exact one");
    }
    Some(picks)
}

/// The picks of MES for the Add1 steps `k, k+1, …, k+span−1` when the fast
/// engine proves they are all the same, trying shorter spans on doubt; at
/// worst the exact picks of step `k` alone. Returns the picks and how many
/// steps they cover.
fn picks_from(
    fast: &mut Option<Fast<'_>>,
    exact: &mut Mes<'_>,
    total_at: &(dyn Fn(u64) -> BigUint + Sync),
    n: u64,
    k: u64,
    span: u64,
) -> (Vec<usize>, u64) {
    if let Some(f) = fast.as_mut() {
        let lo = u128::try_from(&total_at(k)).ok();
        let mut s = span.max(1);
        while let Some(lo) = lo {
            let Ok(hi) = u128::try_from(&total_at(k + (s - 1))) else {
                s = (s / 2).max(1);
                if s == 1 && u128::try_from(&total_at(k)).is_err() {
                    break;
                }
                continue;
            };
            match f.run(lo, hi, n) {
                Ok(p) => {
                    #[cfg(debug_assertions)]
                    {
                        check_fast(exact, &total_at(k), n, &p);
                        check_fast(exact, &total_at(k + (s - 1)), n, &p);
                    }
                    return (p, s);
                }
                // Not proved whole: a quarter of it next (halving wasted more
                // failed runs than the shorter spans it found saved).
                Err(_) if s > 1 => s = (s / 4).max(1),
                Err(_) => break,
            }
        }
    }
    let total = total_at(k);
    if let Some(p) = small_picks(exact, &total, n) {
        return (p, 1);
    }
    (exact.run(&total, n).picks.iter().map(|p| p.cand).collect(), 1)
}

/// The exact payments of known picks on machine integers, when nothing
/// overflows.
fn small_replay(base: &Base, g: &Groups, picks: &[usize], total: &BigUint) -> Option<MesRun> {
    if g.group_w.len() > small::REPLAY_GROUPS && !small::replay_fits(base, g, picks, total) {
        return None;
    }
    let done = small::replay(base, g, u128::try_from(total).ok()?, base.n, picks)?;
    let picks = done
        .into_iter()
        .map(|(cand, share, full, capped, capped_num, den)| Pick {
            cand,
            share_num: BigUint::from(share),
            full,
            capped,
            capped_num: BigUint::from(capped_num),
            den: BigUint::from(den),
        })
        .collect();
    Some(MesRun { picks })
}

fn mes_result(base: &Base, g: &Groups, exact: &mut Mes<'_>, picks: &[usize], total: BigUint, k: u64) -> MesResult {
    if let Some(run) = small_replay(base, g, picks, &total) {
        let details = details_of(base, g, &run);
        #[cfg(debug_assertions)]
        {
            let want = exact.replay(&total, base.n, picks).map(|r| details_of(base, g, &r));
            assert_eq!(Some(&details), want.as_ref(), "machine-integer payments differ from the exact ones");
        }
        return MesResult { budget: Some((total, k)), details };
    }
    let run = match exact.replay(&total, base.n, picks) {
        Some(run) => run,
        None => {
            // Cannot happen (the fast engine only takes proved decisions);
            // should it, the exact engine decides alone.
            debug_assert!(false, "replay of certified picks failed");
            exact.run(&total, base.n)
        }
    };
    MesResult { budget: Some((total, k)), details: details_of(base, g, &run) }
}

fn mes_plain(base: &Base, g: &Groups) -> MesPick {
    if base.n == 0 {
        return MesPick { projects: g.zero_supported.clone(), kept: None };
    }
    let mut exact = Mes::new(base, g);
    let mut fast = Fast::new(base, g);
    let total = base.budget.clone();
    let picks = picks_for(&mut fast, &mut exact, &total, base.n);
    kept_of(g, &picks, 0)
}

/// Instances with at least this many (group, candidate) supports run the
/// Add1 steps on two threads.
const PARALLEL_FROM: usize = 50_000;

/// Picks from a step on and the steps they cover (see [`picks_from`]).
type Segment = (Vec<usize>, u64);
/// A segment with the (first step, span tried) it answers.
type Answer = ((u64, u64), Segment);
/// The link to the helper thread: requests out, answers in.
type Helper = (mpsc::Sender<(u64, u64)>, mpsc::Receiver<Answer>);

/// Picks for Add1 steps, one segment `[k, k + covered − 1]` at a time,
/// optionally computing the next segment on a second thread meanwhile.
struct Producer<'s, 'a> {
    fast: Option<Fast<'a>>,
    exact: Mes<'a>,
    total_at: &'s (dyn Fn(u64) -> BigUint + Sync),
    n: u64,
    /// With a helper thread: where to send requests and read answers.
    helper: Option<Helper>,
    /// An answer computed ahead, for (k, span).
    ahead: Option<Answer>,
}

impl Producer<'_, '_> {
    /// The picks from step `k` on, how many steps they cover, and the span
    /// that was tried (an answer computed ahead may have tried another one).
    fn get(&mut self, k: u64, span: u64) -> (Vec<usize>, u64, u64) {
        if let Some((key, res)) = self.ahead.take() {
            if key.0 == k {
                return (res.0, res.1, key.1);
            }
        }
        // Ask the helper for the segment after this one, if this one is proved whole.
        let asked = match &self.helper {
            Some((tx, _)) => k.checked_add(span).filter(|next| tx.send((*next, span)).is_ok()),
            None => None,
        };
        let res = picks_from(&mut self.fast, &mut self.exact, self.total_at, self.n, k, span);
        if let (Some(next), Some((_, rx))) = (asked, &self.helper) {
            if let Ok(answer) = rx.recv() {
                if answer.0 == (next, span) {
                    self.ahead = Some(answer);
                }
            }
        }
        (res.0, res.1, span)
    }
}

fn mes_add1(base: &Base, g: &Groups, stop: Stop) -> MesPick {
    let start = || MesPick { projects: g.zero_supported.clone(), kept: None };
    if base.n == 0 {
        return start();
    }
    // One currency unit more per voter: n · 10^scale more in total.
    let step = num_traits::pow(BigUint::from(10u32), base.scale as usize) * base.n;
    let total_at = |k: u64| &base.budget + &step * k;
    let two_threads = g.sup_items.len() >= PARALLEL_FROM
        && std::thread::available_parallelism().map(|p| p.get() >= 2).unwrap_or(false);
    if !two_threads {
        let producer = Producer {
            fast: Fast::new(base, g),
            exact: Mes::new(base, g),
            total_at: &total_at,
            n: base.n,
            helper: None,
            ahead: None,
        };
        return add1_loop(base, g, stop, producer);
    }
    std::thread::scope(|scope| {
        let (req_tx, req_rx) = mpsc::channel::<(u64, u64)>();
        let (res_tx, res_rx) = mpsc::channel();
        let total_ref = &total_at;
        scope.spawn(move || {
            let mut fast = Fast::new(base, g);
            let mut exact = Mes::new(base, g);
            for (k, span) in req_rx {
                let res = picks_from(&mut fast, &mut exact, total_ref, base.n, k, span);
                if res_tx.send(((k, span), res)).is_err() {
                    break;
                }
            }
        });
        let producer = Producer {
            fast: Fast::new(base, g),
            exact: Mes::new(base, g),
            total_at: &total_at,
            n: base.n,
            helper: Some((req_tx, res_rx)),
            ahead: None,
        };
        // Dropping the producer closes the request channel: the helper ends.
        add1_loop(base, g, stop, producer)
    })
}

/// Which span of Add1 steps to try next. Spans are tried when they pay off:
/// twice as far after a wholly proved span, what worked after a shorter one;
/// after a failed try, single steps for `cooldown` steps (doubling on each
/// failure) before trying two again.
struct Spans {
    cooldown: u64,
    wait: u64,
    max: u64,
}

impl Spans {
    fn new(max: u64) -> Spans {
        Spans { cooldown: 1, wait: 0, max }
    }

    /// The next span, after `covered` of `tried` steps were proved alike.
    fn next(&mut self, covered: u64, tried: u64) -> u64 {
        if covered == tried && tried > 1 {
            self.cooldown = 1;
            tried.saturating_mul(2).min(self.max)
        } else if covered < tried {
            self.cooldown = self.cooldown.saturating_mul(2).min(1 << 20);
            self.wait = self.cooldown;
            covered
        } else if self.wait > 0 {
            self.wait -= 1;
            1
        } else {
            2
        }
    }
}

fn add1_loop(base: &Base, g: &Groups, stop: Stop, mut producer: Producer<'_, '_>) -> MesPick {
    let start = || MesPick { projects: g.zero_supported.clone(), kept: None };
    let mut prev: Option<(Vec<usize>, u64)> = None;
    let mut k: u64 = 0;
    let mut next_span: u64 = 1;
    let mut spans = Spans::new(1 << 40);
    let mut chosen = vec![false; base.cost.len()];
    loop {
        let (picks, covered, tried) = producer.get(k, next_span);
        let span = tried;
        // Same picks for every step of [k, k + covered − 1]: decide at k.
        let projects = g.projects(picks.iter().copied());
        if base.over_budget(&projects) {
            return match prev {
                Some((picks, k)) => kept_of(g, &picks, k),
                None => start(),
            };
        }
        let done = match stop {
            Stop::Exhaustive => {
                chosen.iter_mut().for_each(|c| *c = false);
                for &p in &projects {
                    chosen[p] = true;
                }
                let small_spent = base
                    .small
                    .as_ref()
                    .and_then(|sm| Some((sm, projects.iter().try_fold(0u128, |a, &p| a.checked_add(sm.cost[p]))?)));
                match small_spent {
                    // Machine integers; a sum that overflows is surely over the budget (< 2^120).
                    Some((sm, spent)) => g
                        .positive_voted
                        .iter()
                        .all(|&p| chosen[p] || spent.checked_add(sm.cost[p]).is_none_or(|t| t > sm.budget)),
                    None => {
                        let spent = base.total(&projects);
                        g.positive_voted.iter().all(|&p| chosen[p] || &spent + &base.cost[p] > base.budget)
                    }
                }
            }
            Stop::AllSelected => picks.len() == g.positive_voted.len(),
        };
        if done {
            return kept_of(g, &picks, k);
        }
        next_span = spans.next(covered, span);
        prev = Some((picks, k + (covered - 1)));
        k += covered;
    }
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

fn total_cost(inst: &Instance, projects: &[usize]) -> Rational {
    let scale = projects.iter().map(|&p| inst.projects()[p].cost.scale()).max().unwrap_or(0);
    let small = projects
        .iter()
        .try_fold(0u128, |acc, &p| inst.projects()[p].cost.scaled_u128(scale).and_then(|v| acc.checked_add(v)));
    if let (Some(sum), Some(unit)) = (small, 10u128.checked_pow(scale)) {
        return Rational::from_parts(&BigUint::from(sum), &BigUint::from(unit));
    }
    let sum: BigUint = projects.iter().map(|&p| inst.projects()[p].cost.scaled_biguint(scale)).sum();
    Rational::from_parts(&sum, &num_traits::pow(BigUint::from(10u32), scale as usize))
}

fn build(inst: &Instance, base: &Base, rule: Rule, projects: &[usize], mes: Option<MesResult>) -> Outcome {
    let mut payments = Vec::with_capacity(projects.len());
    let (kept, details) = match mes {
        Some(r) => (r.budget, r.details),
        None => (None, Vec::new()),
    };
    // The details by project, taken (not cloned) as the payments are built.
    let mut detail_of: Vec<Option<(Rational, u64, u64, Rational)>> = Vec::new();
    if !details.is_empty() {
        detail_of.resize_with(inst.projects().len(), || None);
        for (p, share, full, capped, capped_total) in details {
            if let Some(slot) = detail_of.get_mut(p) {
                *slot = Some((share, full, capped, capped_total));
            }
        }
    }
    for &p in projects {
        let proj = &inst.projects()[p];
        let detail = detail_of.get_mut(p).and_then(Option::take);
        let supporters = base.votes[p];
        let payment = match detail {
            Some((share, full, capped, capped_total)) => {
                // Water-filling: the payments add up to the cost exactly.
                let total = match 10u128.checked_pow(proj.cost.scale()) {
                    Some(unit) => Rational::from_parts(&BigUint::from(proj.cost.units()), &BigUint::from(unit)),
                    None => Rational::from_parts(
                        &BigUint::from(proj.cost.units()),
                        &num_traits::pow(BigUint::from(10u32), proj.cost.scale() as usize),
                    ),
                };
                Payment {
                    project: proj.id.clone(),
                    cost: proj.cost,
                    funding: Funding::EqualShares,
                    supporters,
                    share: Some(share),
                    full_share_payers: full,
                    capped_payers: capped,
                    capped_total,
                    total,
                }
            }
            None => {
                let funding = if proj.cost.is_zero() { Funding::Free } else { Funding::Greedy };
                Payment {
                    project: proj.id.clone(),
                    cost: proj.cost,
                    funding,
                    supporters,
                    share: None,
                    full_share_payers: 0,
                    capped_payers: 0,
                    capped_total: Rational::from_integer(0),
                    total: Rational::from_integer(0),
                }
            }
        };
        payments.push(payment);
    }
    let kept = kept.as_ref();
    let budget_per_voter = kept.map(|(total, _)| {
        let den = num_traits::pow(BigUint::from(10u32), base.scale as usize) * base.n;
        Rational::from_parts(total, &den)
    });
    let total = total_cost(inst, projects);
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
        add1_steps: if is_add1 { kept.map(|(_, k)| *k) } else { None },
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

/// The MES run kept by a rule: its bought projects (project indices, in
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

/// A finished MES selection: the projects, and the kept run if any.
struct MesPick {
    projects: Vec<usize>,
    kept: Option<Kept>,
}

fn kept_of(g: &Groups, picks: &[usize], k: u64) -> MesPick {
    MesPick {
        projects: g.projects(picks.iter().copied()),
        kept: Some(Kept { picks: picks.iter().map(|&c| g.cand[c]).collect(), k }),
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
    if !matches!(rule, Rule::GreedyAv | Rule::GreedyCard) {
        if let Some(sel) = select_tiny(inst, rule) {
            return sel;
        }
    }
    select_general(inst, rule)
}

/// [`select`] without the tiny engine.
fn select_general(inst: &Instance, rule: Rule) -> Selection {
    let base = Base::new(inst);
    let util = util_of(rule);
    match rule {
        Rule::GreedyAv | Rule::GreedyCard => {
            let ord = greedy::order(&base, util);
            let mut sel = Vec::new();
            greedy::fill(&base, &ord, &mut sel);
            Selection { rule, projects: sel, kept: None }
        }
        Rule::MesCost | Rule::MesCard => {
            let g = Groups::new(inst, &base, util);
            let r = mes_plain(&base, &g);
            Selection { rule, projects: r.projects, kept: r.kept }
        }
        Rule::MesCostAdd1 | Rule::MesCardAdd1 | Rule::MesCostAdd1Noex => {
            let stop = if rule == Rule::MesCostAdd1Noex { Stop::AllSelected } else { Stop::Exhaustive };
            let g = Groups::new_grouped(inst, &base, util);
            let r = mes_add1(&base, &g, stop);
            Selection { rule, projects: r.projects, kept: r.kept }
        }
        Rule::MesCostAdd1u | Rule::MesCardAdd1u | Rule::MesCostAdd1uCmp => {
            let g = Groups::new_grouped(inst, &base, util);
            let r = mes_add1(&base, &g, Stop::Exhaustive);
            let mut sel = r.projects;
            let ord = greedy::order(&base, Utility::Cost);
            greedy::fill(&base, &ord, &mut sel);
            if rule == Rule::MesCostAdd1uCmp {
                let mut gr = Vec::new();
                greedy::fill(&base, &ord, &mut gr);
                if prefer_greedy(inst, &gr, &sel) {
                    return Selection { rule, projects: gr, kept: None };
                }
            }
            Selection { rule, projects: sel, kept: r.kept }
        }
    }
}

/// [`select`] for the MES rules on a tiny instance ([`Tiny`]); `None` when
/// the instance is not tiny or a value overflows.
fn select_tiny(inst: &Instance, rule: Rule) -> Option<Selection> {
    let add1 = !matches!(rule, Rule::MesCost | Rule::MesCard);
    if add1 && inst.num_approvals() > tiny::TINY_ADD1_APPROVALS {
        // Many Add1 steps: the certified engine, proving spans of steps, is faster.
        return None;
    }
    tiny::with_scratch(|scratch| {
        let t = Tiny::new_in(inst, scratch)?;
        let sel = select_tiny_in(inst, rule, &t, scratch);
        t.give_back(scratch);
        sel
    })
}

/// [`select_tiny`] once `inst` is made tiny (`t`), with this thread's buffers.
fn select_tiny_in(inst: &Instance, rule: Rule, t: &Tiny, scratch: &mut tiny::Scratch) -> Option<Selection> {
    let util = util_of(rule);
    Some(match rule {
        Rule::GreedyAv | Rule::GreedyCard => return None,
        Rule::MesCost | Rule::MesCard => {
            if t.n == 0 {
                return Some(Selection { rule, projects: t.projects(util, &[]), kept: None });
            }
            let picks = t.mes(util, t.budget, scratch)?;
            Selection { rule, projects: t.projects(util, &picks), kept: Some(Kept { picks, k: 0 }) }
        }
        Rule::MesCostAdd1 | Rule::MesCardAdd1 | Rule::MesCostAdd1Noex => {
            let stop = if rule == Rule::MesCostAdd1Noex { Stop::AllSelected } else { Stop::Exhaustive };
            let (projects, kept) = tiny_add1(t, util, stop, scratch)?;
            Selection { rule, projects, kept }
        }
        Rule::MesCostAdd1u | Rule::MesCardAdd1u | Rule::MesCostAdd1uCmp => {
            let (mut sel, kept) = tiny_add1(t, util, Stop::Exhaustive, scratch)?;
            t.greedy_fill(&mut sel);
            if rule == Rule::MesCostAdd1uCmp {
                let mut gr = Vec::new();
                t.greedy_fill(&mut gr);
                if t.prefer_greedy(inst, &gr, &sel) {
                    return Some(Selection { rule, projects: gr, kept: None });
                }
            }
            Selection { rule, projects: sel, kept }
        }
    })
}

/// The Add1 loop of [`mes_add1`] on a tiny instance.
fn tiny_add1(t: &Tiny, util: Utility, stop: Stop, scratch: &mut tiny::Scratch) -> Option<(Vec<usize>, Option<Kept>)> {
    let start = || (t.projects(util, &[]), None);
    if t.n == 0 {
        return Some(start());
    }
    // One currency unit more per voter.
    let step = t.unit.checked_mul(t.n as u128)?;
    let mut prev: Option<(Vec<usize>, u64)> = None;
    let mut k: u64 = 0;
    // Steps are taken in spans over which the run's decisions are the same
    // (`mes_span`, each run resuming at the first pick whose decisions
    // changed); should one overflow, single steps for a while (doubling).
    // Step 0 is spanned too, though the loop may end there: a span run then
    // costs ~150 ns more than a single step, and saves the single step
    // otherwise.
    let (mut cooldown, mut wait) = (1u64, 0u64);
    loop {
        let spanned = if wait == 0 {
            match t.mes_span(util, k, k.saturating_add(TINY_SPAN_MAX), scratch) {
                Ok(r) => Some(r),
                Err(_) => {
                    wait = cooldown;
                    cooldown = cooldown.saturating_mul(2);
                    None
                }
            }
        } else {
            wait -= 1;
            None
        };
        let (picks, last) = match spanned {
            Some((p, last)) => {
                #[cfg(debug_assertions)]
                check_span(t, util, k, last, &p, scratch);
                (p, last)
            }
            None => {
                let total = step.checked_mul(k as u128)?.checked_add(t.budget)?;
                (t.mes(util, total, scratch)?, k)
            }
        };
        // The zero-cost projects selected with the picks change neither test.
        if t.over_budget(&picks) {
            return Some(match prev {
                Some((picks, k)) => (t.projects(util, &picks), Some(Kept { picks, k })),
                None => start(),
            });
        }
        if stop_here(t, stop, &picks) {
            return Some((t.projects(util, &picks), Some(Kept { picks, k })));
        }
        prev = Some((picks, last));
        k = last.checked_add(1)?;
    }
}

/// Debug builds: the picks of a proved span of Add1 steps are those of
/// the exact engine at its ends and middle.
#[cfg(debug_assertions)]
fn check_span(t: &Tiny, util: Utility, k: u64, last: u64, picks: &[usize], scratch: &mut tiny::Scratch) {
    let Some(step) = t.unit.checked_mul(t.n as u128) else { return };
    for at in [k, k + (last - k) / 2, last] {
        if let Some(total) = step.checked_mul(at as u128).and_then(|s| s.checked_add(t.budget)) {
            if let Some(want) = t.mes(util, total, scratch) {
                assert_eq!(picks, &want[..], "Add1 span [{k}, {last}] differs at {at}");
            }
        }
    }
}

/// Whether the Add1 loop on a tiny instance stops at these picks (when
/// they fit in the budget).
fn stop_here(t: &Tiny, stop: Stop, picks: &[usize]) -> bool {
    match stop {
        Stop::Exhaustive => t.exhaustive(picks),
        Stop::AllSelected => picks.len() == t.num_candidates(),
    }
}

/// The longest span of Add1 steps [`Tiny::mes_span`] is asked for.
const TINY_SPAN_MAX: u64 = 1 << 40;

/// Runs a rule on an instance, exactly as PB.md (and pabutools 1.2.3)
/// defines it: the selection of [`select`] and the exact payments.
pub fn run(inst: &Instance, rule: Rule) -> Outcome {
    let sel = select(inst, rule);
    let base = Base::new(inst);
    let mes = sel.kept.as_ref().map(|kept| {
        let g = Groups::new(inst, &base, util_of(rule));
        let mut cand_of = vec![usize::MAX; inst.projects().len()];
        for (c, &p) in g.cand.iter().enumerate() {
            cand_of[p] = c;
        }
        let picks: Vec<usize> = kept.picks.iter().map(|&p| cand_of[p]).collect();
        let step = num_traits::pow(BigUint::from(10u32), base.scale as usize) * base.n;
        let total = &base.budget + &step * kept.k;
        let mut exact = Mes::new(&base, &g);
        mes_result(&base, &g, &mut exact, &picks, total, kept.k)
    });
    build(inst, &base, rule, &sel.projects, mes)
}

/// Whether strictly more voters approve more projects of `greedy` than of
/// `mes` than the other way round.
fn prefer_greedy(inst: &Instance, greedy: &[usize], mes: &[usize]) -> bool {
    let n = inst.projects().len();
    let mut in_g = vec![false; n];
    let mut in_m = vec![false; n];
    for &p in greedy {
        in_g[p] = true;
    }
    for &p in mes {
        in_m[p] = true;
    }
    let (mut more_g, mut more_m) = (0u64, 0u64);
    for ballot in inst.ballots() {
        let g = ballot.iter().filter(|&&p| in_g[p as usize]).count();
        let m = ballot.iter().filter(|&&p| in_m[p as usize]).count();
        if g > m {
            more_g += 1;
        } else if m > g {
            more_m += 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::tiny::tests::{random_instance, Rng};

    /// The tiny engine (its buffers kept on this thread from instance to
    /// instance and rule to rule, its Add1 span runs resuming each other)
    /// selects what the general engines select, for every MES rule, on
    /// random tiny instances with small and very large costs.
    #[test]
    fn tiny_engine_selects_what_the_general_engines_select() {
        let mut rng = Rng(0x6A09_E667_F3BC_C908);
        let mut tiny_runs = 0;
        for round in 0..300 {
            let max_cost = [10, 1_000, 1_000_000, 1_000_000_000_000, 1_000_000_000_000_000][round % 5];
            let inst = random_instance(&mut rng, max_cost);
            // (The greedy rules never take the tiny engine.)
            for rule in Rule::ALL {
                let general = select_general(&inst, rule);
                if let Some(tiny) = select_tiny(&inst, rule) {
                    tiny_runs += 1;
                    assert_eq!(tiny.projects, general.projects, "round {round}, {rule}");
                }
                assert_eq!(select(&inst, rule).projects, general.projects, "round {round}, {rule}");
            }
        }
        assert!(tiny_runs > 2000, "the tiny engine ran {tiny_runs} times");
    }
}
