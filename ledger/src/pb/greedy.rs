//! Greedy selection (PB.md "Greedy").

use std::cmp::Ordering;

use num_bigint::BigUint;
use num_traits::Zero;

use super::prep::{Base, Utility};

/// All projects (indices) in greedy order: density `votes(p) · u(p) / cost(p)`
/// descending, then id.
pub(crate) fn order(base: &Base, util: Utility) -> Vec<usize> {
    // Zero (0), finite (1, with votes and, for cardinality, the cost) or infinite (2).
    let rank = |p: usize| -> u8 {
        let free = base.cost[p].is_zero();
        if base.votes[p] == 0 || (util == Utility::Cost && free) {
            0
        } else {
            1 + u8::from(free)
        }
    };
    let cmp = |a: usize, b: usize| -> Ordering {
        match (rank(a), rank(b)) {
            (1, 1) => match util {
                Utility::Cost => base.votes[a].cmp(&base.votes[b]),
                // va / ca  vs  vb / cb  <=>  va · cb  vs  vb · ca
                Utility::Card => (&base.cost[b] * base.votes[a]).cmp(&(&base.cost[a] * base.votes[b])),
            },
            (ra, rb) => ra.cmp(&rb),
        }
    };
    let mut ord = base.id_order.clone();
    // Stable: equal densities keep id order.
    ord.sort_by(|&a, &b| cmp(b, a));
    ord
}

/// Walks `ord`, adding every project not yet selected whose cost fits in
/// what is left of the budget (nothing when the selection is over it).
pub(crate) fn fill(base: &Base, ord: &[usize], selected: &mut Vec<usize>) {
    let mut taken = vec![false; base.cost.len()];
    for &p in selected.iter() {
        taken[p] = true;
    }
    let spent = base.total(selected);
    if spent > base.budget {
        return;
    }
    let mut left: BigUint = &base.budget - spent;
    for &p in ord {
        if !taken[p] && base.cost[p] <= left {
            left -= &base.cost[p];
            taken[p] = true;
            selected.push(p);
        }
    }
}
