//! The certified interval engine against the exact one: on random
//! instances from a fixed seed (many ties, capped supporters, Add1
//! completions over many steps, zero-cost and unvoted projects, empty
//! ballots), every rule selects the same with either engine.

use ledger::pb::{self, Cost, Engine, Instance, Project, Rule};

/// A small deterministic generator (xorshift), so that a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A random instance: 1–12 projects with costs from a few values (so that
/// ratios tie), some free, with decimals; 0–80 voters, some of them
/// with the same ballot, some with none; a budget from a tenth of the total
/// cost to all of it.
fn random_instance(rng: &mut Rng, round: usize) -> Instance {
    let np = 1 + rng.below(12) as usize;
    // Up to a few hundred currency units: Add1 takes at most that many steps
    // (the exact engine runs each one); long integers in the last.
    let (top, scale) = [(4u64, 0), (50, 0), (1_000, 1), (20_000, 2), (100_000_000_000_000, 12)][round % 5];
    let values: Vec<u64> = (0..3).map(|_| 1 + rng.below(top)).collect();
    let costs: Vec<u128> =
        (0..np).map(|_| if rng.below(8) == 0 { 0 } else { values[rng.below(3) as usize] as u128 }).collect();
    let sum = costs.iter().sum::<u128>().max(1);
    let budget = sum / 10 + rng.below(u64::MAX) as u128 % sum;
    let mut inst = Instance::new(Cost::new(budget, scale).expect("scale"));
    for (i, &c) in costs.iter().enumerate() {
        // Ids whose string order is not their numeric order ("10" < "9").
        let id = [i, 9 + i, 100 - i][round % 3].to_string();
        inst.add_project(Project::new(id, Cost::new(c, scale).expect("scale"))).expect("unique");
    }
    let ids: Vec<String> = inst.projects().iter().map(|p| p.id.clone()).collect();
    let nv = rng.below(81) as usize;
    let mut last: Vec<&str> = Vec::new();
    for v in 0..nv {
        if v == 0 || rng.below(3) != 0 {
            let density = 1 + rng.below(4);
            last = ids.iter().filter(|_| rng.below(4) < density).map(String::as_str).collect();
        }
        inst.add_ballot(&format!("v{v}"), &last).expect("known projects");
    }
    inst
}

#[test]
fn the_interval_engine_selects_what_the_exact_engine_selects() {
    let mut rng = Rng(0x6A09_E667_F3BC_C908);
    let (mut runs, mut decided, mut add1_steps) = (0, 0, 0);
    for round in 0..1000 {
        let inst = random_instance(&mut rng, round);
        for rule in Rule::ALL {
            let exact = pb::select_with(&inst, rule, Engine::Exact).expect("the exact engine decides");
            let certified = pb::select_with(&inst, rule, Engine::Certified).expect("it falls back on the exact one");
            assert_eq!(certified, exact, "round {round}, {rule}, on\n{}", pb::write(&inst));
            assert_eq!(pb::select(&inst, rule), exact, "round {round}, {rule}");
            if let Some(alone) = pb::select_with(&inst, rule, Engine::IntervalOnly) {
                assert_eq!(alone, exact, "round {round}, {rule} (interval engine alone)");
                decided += 1;
            }
            runs += 1;
            add1_steps += pb::run(&inst, rule).add1_steps.unwrap_or(0);
        }
    }
    println!("{decided} of {runs} decided by the interval engine alone; {add1_steps} Add1 steps");
    // The interval engine decides most selections alone; the Add1 loops
    // take many steps (proved in spans).
    assert!(decided * 10 > runs * 7, "the interval engine alone decided {decided} of {runs}");
    assert!(add1_steps > 10_000, "{add1_steps} Add1 steps in all");
}
