//! Participatory budgeting: the pabulib `.pb` format and the budgeting rules
//! of `PB.md` (greedy and the Method of Equal Shares with its completions),
//! in exact arithmetic, reproducing pabutools 1.2.3.
//!
//! How the rules are computed (all exact, no floating point):
//!
//! - costs and the budget are scaled to integers over a common power of ten
//!   (`prep`); greedy compares densities as integer products (`greedy`);
//! - MES has one exact engine, `exact`: budgets are big integers over one
//!   common denominator, voters with the same ballot form a group and groups
//!   with the same budget a class. It is the reference, and it computes the
//!   exact payments of every outcome (`run` replays the kept run's picks);
//! - one fast path, `interval`: budgets are *certified intervals* of `u128`
//!   fixed-point numbers that surely hold the exact values, and a decision is
//!   taken only when the intervals prove it (exact ties without capped
//!   supporters are decided exactly); when in doubt it gives up and the exact
//!   engine runs that MES run instead. One interval run can prove a whole
//!   span of Add1 steps alike; a run that fails still proves its first
//!   picks for the span, and the span's steps start from them (replaying
//!   them on their own intervals); on large instances two runs go at once
//!   on two threads;
//! - `ledger/tests/pb_engines.rs` checks in CI that both engines select the
//!   same on seeded random instances, and `pb_conformance.rs` every row of
//!   pabutools' reference outcomes.
//!
//! ```no_run
//! use ledger::pb::{self, Rule};
//! let inst = pb::parse_file("Netherlands_Assen_2024.pb").expect("a valid file");
//! let out = pb::run(&inst, "equal_shares".parse::<Rule>().expect("a rule"));
//! println!("{}", pb::sorted_ids(&inst, &out.selected).join(" "));
//! ```

#![warn(missing_docs)]

mod classes;
mod cost;
mod csv;
mod exact;
mod greedy;
mod instance;
mod interval;
mod parse;
mod prep;
mod rational;
mod rules;
mod write;

pub use cost::{Cost, CostError, MAX_SCALE};
pub use instance::{Instance, InstanceError, Project};
pub use parse::{parse, parse_bytes, parse_file, ParseError};
pub use rational::Rational;
pub use rules::{
    run, select, select_with, sorted_ids, Engine, Funding, Outcome, Payment, Rule, Selection, UnknownRule,
};
pub use write::write;
