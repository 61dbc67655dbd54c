//! The rules against a naive, obviously-PB.md implementation (big rationals,
//! no grouping, no laziness, no fixed point), on hand-made edge cases and on
//! random instances; plus the public API around outcomes.

use std::cmp::Ordering;

use ledger::pb::{self, Cost, Funding, Instance, Project, Rule};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use proptest::prelude::*;

type Q = BigRational;

fn q_cost(c: &Cost) -> Q {
    Q::new(BigInt::from(c.units()), num_traits::pow(BigInt::from(10u32), c.scale() as usize))
}

#[derive(Clone, Copy, PartialEq)]
enum U {
    Cost,
    Card,
}

/// Project indices in id (string) order.
fn id_order(inst: &Instance) -> Vec<usize> {
    let mut v: Vec<usize> = (0..inst.projects().len()).collect();
    v.sort_by(|&a, &b| inst.projects()[a].id.cmp(&inst.projects()[b].id));
    v
}

fn votes(inst: &Instance) -> Vec<u64> {
    inst.vote_counts()
}

fn naive_greedy(inst: &Instance, u: U, start: Vec<usize>) -> Vec<usize> {
    let v = votes(inst);
    let cost: Vec<Q> = inst.projects().iter().map(|p| q_cost(&p.cost)).collect();
    // density: None = infinite
    let density = |p: usize| -> Option<Q> {
        let util = match u {
            U::Cost => cost[p].clone(),
            U::Card => Q::one(),
        };
        let num = util * Q::from_integer(BigInt::from(v[p]));
        if num.is_zero() {
            Some(Q::zero())
        } else if cost[p].is_zero() {
            None
        } else {
            Some(num / &cost[p])
        }
    };
    let mut ord = id_order(inst);
    ord.sort_by(|&a, &b| match (density(a), density(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
    });
    let mut sel = start;
    let mut left = q_cost(&inst.budget()) - sel.iter().map(|&p| cost[p].clone()).sum::<Q>();
    for p in ord {
        if !sel.contains(&p) && cost[p] <= left {
            left -= &cost[p];
            sel.push(p);
        }
    }
    sel
}

fn naive_mes(inst: &Instance, u: U, b: &Q) -> Vec<usize> {
    let np = inst.projects().len();
    let n = inst.num_voters();
    let cost: Vec<Q> = inst.projects().iter().map(|p| q_cost(&p.cost)).collect();
    let util = |p: usize| match u {
        U::Cost => cost[p].clone(),
        U::Card => Q::one(),
    };
    let sup: Vec<Vec<usize>> = (0..np)
        .map(|p| {
            if util(p).is_zero() {
                Vec::new()
            } else {
                (0..n).filter(|&i| inst.ballot(i).contains(&(p as u32))).collect()
            }
        })
        .collect();
    let mut out = Vec::new();
    if u == U::Card {
        for p in id_order(inst) {
            if cost[p].is_zero() && !sup[p].is_empty() {
                out.push(p);
            }
        }
    }
    let mut beta = vec![b.clone(); n];
    let mut cand: Vec<usize> =
        id_order(inst).into_iter().filter(|&p| !cost[p].is_zero() && !sup[p].is_empty()).collect();
    loop {
        cand.retain(|&p| sup[p].iter().map(|&i| beta[i].clone()).sum::<Q>() >= cost[p]);
        let mut best: Option<(usize, Q)> = None;
        for &p in &cand {
            let mut s = sup[p].clone();
            s.sort_by(|&a, &b| beta[a].cmp(&beta[b]));
            let mut paid = Q::zero();
            let mut big_u = util(p) * Q::from_integer(BigInt::from(s.len()));
            let mut rho = None;
            for &i in &s {
                let r = (&cost[p] - &paid) / &big_u;
                if &r * util(p) <= beta[i] {
                    rho = Some(r);
                    break;
                }
                paid += &beta[i];
                big_u -= util(p);
            }
            let rho = rho.expect("affordable");
            if best.as_ref().map(|(_, r)| rho < *r).unwrap_or(true) {
                best = Some((p, rho));
            }
        }
        let Some((p, rho)) = best else { return out };
        for &i in &sup[p] {
            let pay = std::cmp::min(beta[i].clone(), &rho * util(p));
            beta[i] -= pay;
        }
        out.push(p);
        cand.retain(|&x| x != p);
    }
}

fn total(inst: &Instance, sel: &[usize]) -> Q {
    sel.iter().map(|&p| q_cost(&inst.projects()[p].cost)).sum()
}

fn naive_add1(inst: &Instance, u: U, exhaustive_stop: bool) -> Vec<usize> {
    let n = inst.num_voters();
    let bud = q_cost(&inst.budget());
    let np = inst.projects().len();
    let cost: Vec<Q> = inst.projects().iter().map(|p| q_cost(&p.cost)).collect();
    let v = votes(inst);
    let positive: Vec<usize> = (0..np).filter(|&p| !cost[p].is_zero() && v[p] > 0).collect();
    let mut prev: Vec<usize> = if u == U::Card {
        id_order(inst).into_iter().filter(|&p| cost[p].is_zero() && v[p] > 0).collect()
    } else {
        Vec::new()
    };
    if n == 0 {
        return prev;
    }
    let mut b = &bud / Q::from_integer(BigInt::from(n));
    for _ in 0..100_000 {
        let out = naive_mes(inst, u, &b);
        let t = total(inst, &out);
        if t > bud {
            return prev;
        }
        let done = if exhaustive_stop {
            positive.iter().all(|&p| out.contains(&p) || &t + &cost[p] > bud)
        } else {
            positive.iter().all(|p| out.contains(p))
        };
        if done {
            return out;
        }
        prev = out;
        b += Q::one();
    }
    panic!("naive add1 did not stop");
}

fn naive(inst: &Instance, rule: Rule) -> Vec<usize> {
    match rule {
        Rule::GreedyAv => naive_greedy(inst, U::Cost, Vec::new()),
        Rule::GreedyCard => naive_greedy(inst, U::Card, Vec::new()),
        Rule::MesCost | Rule::MesCard => {
            let u = if rule == Rule::MesCost { U::Cost } else { U::Card };
            if inst.num_voters() == 0 {
                return Vec::new();
            }
            let b = q_cost(&inst.budget()) / Q::from_integer(BigInt::from(inst.num_voters()));
            naive_mes(inst, u, &b)
        }
        Rule::MesCostAdd1 => naive_add1(inst, U::Cost, true),
        Rule::MesCardAdd1 => naive_add1(inst, U::Card, true),
        Rule::MesCostAdd1Noex => naive_add1(inst, U::Cost, false),
        Rule::MesCostAdd1u => naive_greedy(inst, U::Cost, naive_add1(inst, U::Cost, true)),
        Rule::MesCardAdd1u => naive_greedy(inst, U::Cost, naive_add1(inst, U::Card, true)),
        Rule::MesCostAdd1uCmp => {
            let m = naive_greedy(inst, U::Cost, naive_add1(inst, U::Cost, true));
            let g = naive_greedy(inst, U::Cost, Vec::new());
            let (mut more_g, mut more_m) = (0, 0);
            for i in 0..inst.num_voters() {
                let b = inst.ballot(i);
                let cg = g.iter().filter(|&&p| b.contains(&(p as u32))).count();
                let cm = m.iter().filter(|&&p| b.contains(&(p as u32))).count();
                match cg.cmp(&cm) {
                    Ordering::Greater => more_g += 1,
                    Ordering::Less => more_m += 1,
                    Ordering::Equal => {}
                }
            }
            if more_g > more_m {
                g
            } else {
                m
            }
        }
    }
}

fn ids(inst: &Instance, sel: &[usize]) -> Vec<String> {
    sel.iter().map(|&p| inst.projects()[p].id.clone()).collect()
}

/// Builds an instance from (id, cost) pairs and ballots of ids.
fn instance(budget: &str, projects: &[(&str, &str)], ballots: &[&[&str]]) -> Instance {
    let mut inst = Instance::new(Cost::parse(budget).expect("budget"));
    for (id, cost) in projects {
        inst.add_project(Project::new(*id, Cost::parse(cost).expect("cost"))).expect("project");
    }
    for (i, b) in ballots.iter().enumerate() {
        inst.add_ballot(&format!("v{i}"), b).expect("ballot");
    }
    inst
}

fn check_all_rules(inst: &Instance) {
    for rule in Rule::ALL {
        let out = pb::run(inst, rule);
        assert_eq!(pb::select(inst, rule).ids(inst), out.selected, "select and run differ for {rule}");
        let expected = ids(inst, &naive(inst, rule));
        let mut got = out.selected.clone();
        let mut exp = expected.clone();
        got.sort();
        exp.sort();
        assert_eq!(got, exp, "rule {rule} on\n{}", pb::write(inst));
    }
}

#[test]
fn ties_go_to_the_smallest_id_as_a_string() {
    // Equal votes and costs: "10" < "100" < "9" in code-point order.
    let inst =
        instance("100", &[("9", "100"), ("10", "100"), ("100", "100")], &[&["9", "10", "100"], &["9", "10", "100"]]);
    for rule in [Rule::GreedyAv, Rule::GreedyCard, Rule::MesCost, Rule::MesCard, Rule::MesCostAdd1, Rule::EQUAL_SHARES]
    {
        assert_eq!(pb::run(&inst, rule).selected, vec!["10"], "{rule}");
    }
    check_all_rules(&inst);
}

#[test]
fn zero_cost_projects() {
    let inst =
        instance("10", &[("a", "0"), ("b", "0"), ("c", "10"), ("d", "5")], &[&["a", "c"], &["a"], &["c", "d"], &[]]);
    // Cost utility: a zero-cost project has no supporters under MES.
    let cost = pb::run(&inst, Rule::MesCost);
    assert!(!cost.selected.contains(&"a".to_string()));
    // Cardinality: supported zero-cost projects come first, free.
    let card = pb::run(&inst, Rule::MesCard);
    assert_eq!(card.selected.first().map(String::as_str), Some("a"));
    assert!(!card.selected.contains(&"b".to_string()));
    let free = card.payments.iter().find(|p| p.project == "a").expect("a is paid for");
    assert_eq!(free.funding, Funding::Free);
    // Greedy takes every zero-cost project, voted or not.
    let greedy = pb::run(&inst, Rule::GreedyAv);
    assert!(greedy.selected.contains(&"a".to_string()) && greedy.selected.contains(&"b".to_string()));
    check_all_rules(&inst);
}

#[test]
fn no_voters_and_zero_budget() {
    let empty = instance("100", &[("1", "10")], &[]);
    check_all_rules(&empty);
    assert!(pb::run(&empty, Rule::MesCost).selected.is_empty());
    assert!(pb::run(&empty, Rule::MesCost).budget_per_voter.is_none());
    let broke = instance("0", &[("1", "10"), ("2", "0")], &[&["1", "2"], &["1"]]);
    check_all_rules(&broke);
}

#[test]
fn exact_budget_and_share_equalities() {
    // B/n = 50 exactly equals the share of each project: β == x ties in payments.
    let inst = instance("100", &[("p", "100"), ("q", "50")], &[&["p", "q"], &["p"]]);
    check_all_rules(&inst);
    // Decimal costs and budget, with comma marks.
    let dec =
        instance("300,75", &[("a", "100,5"), ("b", "50.25"), ("c", "120")], &[&["a", "c"], &["b"], &["a", "b", "c"]]);
    check_all_rules(&dec);
}

#[test]
fn payments_add_up_to_the_cost() {
    let inst = pb::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pabulib/Netherlands_Assen_2024.pb"))
        .expect("parses");
    let out = pb::run(&inst, Rule::EQUAL_SHARES);
    assert_eq!(out.rule, Rule::MesCostAdd1Noex);
    assert!(out.add1_steps.is_some());
    let b = out.budget_per_voter.as_ref().expect("a per-voter budget");
    assert!(out.budget_per_voter_display.as_deref().unwrap_or("").contains(&b.to_decimal(2)));
    assert_eq!(out.payments.len(), out.selected.len());
    for pay in &out.payments {
        assert_eq!(pay.funding, Funding::EqualShares);
        let share = pay.share.as_ref().expect("a share");
        let sum =
            pay.capped_total.as_big() + share.as_big() * BigRational::from_integer(BigInt::from(pay.full_share_payers));
        let cost = BigRational::new(
            BigInt::from(pay.cost.units()),
            num_traits::pow(BigInt::from(10u32), pay.cost.scale() as usize),
        );
        assert_eq!(sum, cost, "{}", pay.display());
        assert!(pay.display().contains("supporters"), "{}", pay.display());
        assert_eq!(pay.total.as_big(), &cost);
        assert_eq!(pay.full_share_payers + pay.capped_payers, pay.supporters);
    }
    let sum: BigRational = out
        .payments
        .iter()
        .map(|p| {
            BigRational::new(
                BigInt::from(p.cost.units()),
                num_traits::pow(BigInt::from(10u32), p.cost.scale() as usize),
            )
        })
        .sum();
    assert_eq!(out.total_cost.as_big(), &sum);
}

#[test]
fn rule_names() {
    for rule in Rule::ALL {
        assert_eq!(rule.name().parse::<Rule>(), Ok(rule));
    }
    assert_eq!("greedy".parse::<Rule>(), Ok(Rule::GreedyAv));
    assert_eq!("equal_shares".parse::<Rule>(), Ok(Rule::MesCostAdd1Noex));
    let err = "mes".parse::<Rule>().expect_err("unknown").to_string();
    for rule in Rule::ALL {
        assert!(err.contains(rule.name()), "{err}");
    }
    assert!(err.contains("equal_shares") && err.contains("greedy"));
}

#[test]
fn sorted_ids_numeric_or_string() {
    let nums = instance("1", &[("9", "1"), ("10", "1"), ("100", "1"), ("-2", "1")], &[]);
    let sel: Vec<String> = ["100", "9", "10", "-2"].iter().map(|s| s.to_string()).collect();
    assert_eq!(pb::sorted_ids(&nums, &sel), vec!["-2", "9", "10", "100"]);
    let mixed = instance("1", &[("9", "1"), ("10", "1"), ("a", "1")], &[]);
    let sel: Vec<String> = ["9", "a", "10"].iter().map(|s| s.to_string()).collect();
    assert_eq!(pb::sorted_ids(&mixed, &sel), vec!["10", "9", "a"]);
}

fn arb_instance(max_cost: u64, decimals: bool) -> impl Strategy<Value = Instance> {
    arb_sized(1..7, 0..14, max_cost, decimals)
}

fn arb_sized(
    projects: std::ops::Range<usize>,
    voters: std::ops::Range<usize>,
    max_cost: u64,
    decimals: bool,
) -> impl Strategy<Value = Instance> {
    (projects, voters).prop_flat_map(move |(np, nv)| {
        (
            prop::collection::vec(0..=max_cost, np),
            prop::collection::vec(prop::collection::vec(any::<bool>(), np), nv),
            0..=(max_cost * 3),
            prop::collection::vec(0u64..3, np),
        )
            .prop_map(move |(costs, ballots, budget, ids)| {
                let scale = if decimals { 2 } else { 0 };
                let mut inst = Instance::new(Cost::new(budget as u128, scale).expect("scale"));
                for (i, c) in costs.iter().enumerate() {
                    // Ids that tie-break differently as strings and numbers.
                    let id = format!("{}{}", [1, 10, 100][ids[i] as usize], i);
                    inst.add_project(Project::new(id, Cost::new(*c as u128, scale).expect("scale"))).expect("unique");
                }
                for (v, b) in ballots.iter().enumerate() {
                    let idx: Vec<String> =
                        b.iter().enumerate().filter(|(_, &x)| x).map(|(i, _)| inst.projects()[i].id.clone()).collect();
                    inst.add_ballot(&format!("v{v}"), &idx).expect("known projects");
                }
                inst
            })
    })
}

/// The instance with every voter repeated `r` times and every cost and the
/// budget multiplied by `r`: the per-voter budget, every share and every
/// comparison of the rules stay the same, so the selection must too.
fn replicate(inst: &Instance, r: u128) -> Instance {
    let times = |c: Cost| Cost::new(c.units() * r, c.scale()).expect("same scale");
    let mut out = Instance::new(times(inst.budget()));
    for p in inst.projects() {
        out.add_project(Project::new(p.id.clone(), times(p.cost))).expect("unique");
    }
    for copy in 0..r {
        for v in 0..inst.num_voters() {
            let ids: Vec<&str> = inst.ballot(v).iter().map(|&p| inst.projects()[p as usize].id.as_str()).collect();
            out.add_ballot(&format!("{}-{copy}", inst.voter_id(v)), &ids).expect("known projects");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Many voters: the grouping of identical ballots is used.
    #[test]
    fn replicated_instances_select_the_same(inst in arb_instance(2_000, true)) {
        prop_assume!(inst.num_voters() > 0);
        let r = (4200 / inst.num_voters() as u128) + 1;
        let big = replicate(&inst, r);
        for rule in Rule::ALL {
            prop_assert_eq!(pb::run(&big, rule).selected, pb::run(&inst, rule).selected, "rule {}", rule);
        }
    }
}

proptest! {
    /// Small integers: many exact ties.
    #[test]
    fn rules_match_the_naive_definition_small(inst in arb_instance(6, false)) {
        check_all_rules(&inst);
    }

    /// Larger costs with decimals: capped supporters, fixed point at work.
    #[test]
    fn rules_match_the_naive_definition_decimals(inst in arb_instance(20_000, true)) {
        check_all_rules(&inst);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// More voters and projects: longer runs of the interval engine (and
    /// `select` gives the selection of `run`).
    #[test]
    fn rules_match_the_naive_definition_medium(inst in arb_sized(8..14, 40..70, 300, false)) {
        check_all_rules(&inst);
    }
}
