//! Participatory budgeting: the pabulib `.pb` format and the budgeting rules
//! of `PB.md` (greedy and the Method of Equal Shares with its completions),
//! in exact arithmetic, reproducing pabutools 1.2.3.
//!
//! ```no_run
//! use ledger::pb::{self, Rule};
//! let inst = pb::parse_file("Netherlands_Assen_2024.pb").expect("a valid file");
//! let out = pb::run(&inst, "equal_shares".parse::<Rule>().expect("a rule"));
//! println!("{}", pb::sorted_ids(&inst, &out.selected).join(" "));
//! ```

mod cost;
mod csv;
mod fast;
mod greedy;
mod instance;
mod mes;
mod parse;
mod prep;
pub mod rational;
mod rules;
mod wide;
mod write;

pub use cost::{Cost, CostError};
pub use instance::{Instance, InstanceError, Project};
pub use parse::{parse, parse_bytes, parse_file, ParseError};
pub use rational::Rational;
pub use rules::{run, sorted_ids, Funding, Outcome, Payment, Rule, UnknownRule};
pub use write::write;
