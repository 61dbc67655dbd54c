//! Participatory budgeting: the pabulib `.pb` format and the budgeting rules
//! of `PB.md` (greedy and the Method of Equal Shares with its completions),
//! in exact arithmetic, reproducing pabutools 1.2.3.
//!
//! How the rules are computed (all exact, no floating point):
//!
//! - costs and the budget are scaled to integers over a common power of ten;
//! - greedy rules compare densities with 256-bit integer products;
//! - MES runs first on a *certified fixed-point* engine (`fast`): every
//!   budget is an interval of `u128` fixed-point numbers that surely holds
//!   the exact value, and a decision is taken only when the intervals prove
//!   it; exact ties of projects without capped supporters are decided
//!   exactly. When in doubt it gives up and the exact engine (`mes`, big
//!   integers over one growing common denominator) runs instead. The exact
//!   payments of the kept run are always recomputed by the exact engine;
//! - the Add1 loop runs the fast engine over a whole *range* of `k` at once
//!   when it can prove that all of them give the same picks, and on big
//!   instances computes the next step on a second thread meanwhile;
//! - voters with the same ballot are grouped, and supporters with the same
//!   budget form one class, so a step of MES walks distinct budgets only.
//!
//! ```no_run
//! use ledger::pb::{self, Rule};
//! let inst = pb::parse_file("Netherlands_Assen_2024.pb").expect("a valid file");
//! let out = pb::run(&inst, "equal_shares".parse::<Rule>().expect("a rule"));
//! println!("{}", pb::sorted_ids(&inst, &out.selected).join(" "));
//! ```

#![warn(missing_docs)]

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
pub use rules::{run, select, select_with, sorted_ids, Engine, Funding, Outcome, Payment, Rule, Selection, UnknownRule};
pub use write::write;
