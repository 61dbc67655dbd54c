//! Greedy selection (PB.md "Greedy").

use std::cmp::Ordering;

use num_bigint::BigUint;

use super::prep::{Base, Utility};
use super::wide::mul_wide;

/// A greedy density `votes(p) · u(p) / cost(p)`.
#[derive(Clone, Copy)]
enum Density {
    Zero,
    /// `votes` (cost utility) or `votes / cost(p)` (cardinality; `p` given).
    Finite(u64, usize),
    Infinite,
}

/// All projects (indices) in greedy order: density descending, then id.
pub(crate) fn order(base: &Base, util: Utility) -> Vec<usize> {
    let density = |p: usize| -> Density {
        let votes = base.votes[p];
        let free = base.is_free(p);
        // votes(p) · u(p) is zero when nobody voted, or when u(p) = cost(p) = 0.
        if votes == 0 || (util == Utility::Cost && free) {
            Density::Zero
        } else if free {
            Density::Infinite
        } else {
            Density::Finite(votes, p)
        }
    };
    let cmp = |a: &Density, b: &Density| -> Ordering {
        use Density::*;
        match (*a, *b) {
            (Zero, Zero) | (Infinite, Infinite) => Ordering::Equal,
            (Zero, _) | (_, Infinite) => Ordering::Less,
            (_, Zero) | (Infinite, _) => Ordering::Greater,
            (Finite(va, pa), Finite(vb, pb)) => match util {
                Utility::Cost => va.cmp(&vb),
                // va / ca  vs  vb / cb  <=>  va · cb  vs  vb · ca
                Utility::Card => match &base.small {
                    Some(s) => mul_wide(va as u128, s.cost[pb]).cmp(&mul_wide(vb as u128, s.cost[pa])),
                    None => (BigUint::from(va) * &base.cost[pb]).cmp(&(BigUint::from(vb) * &base.cost[pa])),
                },
            },
        }
    };
    let mut keyed: Vec<(Density, usize)> = base.id_order.iter().map(|&p| (density(p), p)).collect();
    // Stable: equal densities keep id order.
    keyed.sort_by(|a, b| cmp(&b.0, &a.0));
    keyed.into_iter().map(|(_, p)| p).collect()
}

/// Walks `ord`, adding every project not yet selected whose cost fits in
/// what is left of the budget.
pub(crate) fn fill(base: &Base, ord: &[usize], selected: &mut Vec<usize>) {
    let mut taken = vec![false; base.cost.len()];
    for &p in selected.iter() {
        taken[p] = true;
    }
    match &base.small {
        Some(s) => {
            let spent: u128 = selected.iter().map(|&p| s.cost[p]).sum();
            let mut left = s.budget.saturating_sub(spent);
            let over = spent > s.budget;
            for &p in ord {
                if !taken[p] && !over && s.cost[p] <= left {
                    left -= s.cost[p];
                    taken[p] = true;
                    selected.push(p);
                }
            }
        }
        None => {
            let spent = base.total(selected);
            if spent > base.budget {
                return;
            }
            let mut left = &base.budget - spent;
            for &p in ord {
                if !taken[p] && base.cost[p] <= left {
                    left -= &base.cost[p];
                    taken[p] = true;
                    selected.push(p);
                }
            }
        }
    }
}
