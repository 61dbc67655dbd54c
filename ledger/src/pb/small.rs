//! The exact Method of Equal Shares of [`super::mes`] on machine integers,
//! for small instances where the certified engine ([`super::fast`]) cannot
//! decide (exact ties with capped supporters). Budgets are `u128`
//! numerators over one common `u128` denominator, exactly as in `mes`;
//! every operation is checked and the run gives up (`None`) on overflow,
//! and the big-integer engine runs instead. Comparisons of `ρ` use 256-bit
//! products. Only the picks are returned; payments come from `mes`.

use std::cmp::Ordering;

use super::prep::{Base, Groups, Utility};
use super::wide::mul_wide;

/// Instances with at most this many (group, candidate) supports use this engine.
pub(crate) const SMALL_SUPPORTS: usize = 20_000;

/// Instances with at most this many supports use this engine first, even
/// before the certified one: it is cheaper there.
pub(crate) const TINY_SUPPORTS: usize = 256;

/// Greatest common divisor; `gcd(0, x) = x`. Binary (no divisions), on
/// `u64` when both fit.
pub(crate) fn gcd(a: u128, b: u128) -> u128 {
    if (a | b) >> 64 == 0 {
        return gcd_u64(a as u64, b as u64) as u128;
    }
    if a == 0 || b == 0 {
        return a | b;
    }
    let shift = (a | b).trailing_zeros();
    let (mut a, mut b) = (a >> a.trailing_zeros(), b);
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
        if (a | b) >> 64 == 0 {
            return (gcd_u64(a as u64, b as u64) as u128) << shift;
        }
    }
}

/// [`gcd`] on `u64`.
pub(crate) fn gcd_u64(a: u64, b: u64) -> u64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    let shift = (a | b).trailing_zeros();
    let (mut a, mut b) = (a >> a.trailing_zeros(), b);
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// `a % m` for `m > 0`, on `u64` when `a` fits.
#[inline]
pub(crate) fn rem(a: u128, m: u128) -> u128 {
    if (a | m) >> 64 == 0 {
        ((a as u64) % (m as u64)) as u128
    } else {
        a % m
    }
}

/// `a / m` for `m > 0`, on `u64` when `a` fits.
#[inline]
pub(crate) fn div(a: u128, m: u128) -> u128 {
    if (a | m) >> 64 == 0 {
        ((a as u64) / (m as u64)) as u128
    } else {
        a / m
    }
}

/// The picks (candidate indices) of MES when the voters hold `total`
/// together (scaled units), `n > 0` voters; `None` if a value overflows or
/// costs do not fit.
pub(crate) fn run(base: &Base, g: &Groups, total: u128, n: u64) -> Option<Vec<usize>> {
    if n == 0 {
        return None;
    }
    let small = base.small.as_ref()?;
    let nc = g.cand.len();
    let cost: Vec<u128> = g.cand.iter().map(|&p| small.cost[p]).collect();
    let mut d: u128 = n as u128;
    let mut budget: Vec<u128> = vec![total; g.group_w.len()];
    let mut live: Vec<usize> = (0..nc).collect();
    let mut picks = Vec::new();
    let mut sup: Vec<(u128, u64)> = Vec::new();
    loop {
        // Best (ρ, index): ρ = rest / (m · u · D); compared as rest / (m · u).
        let mut best: Option<(usize, u128, u128, u64)> = None;
        let mut any_dead = false;
        for slot in live.iter_mut() {
            let c = *slot;
            sup.clear();
            sup.extend(g.supporters(c).iter().map(|&gr| (budget[gr as usize], g.group_w[gr as usize])));
            sup.sort_unstable_by_key(|s| s.0);
            let mut rest = cost[c].checked_mul(d)?;
            let mut m = g.cand_votes[c];
            let mut found = None;
            for &(beta, w) in &sup {
                if rest <= beta.checked_mul(m as u128)? {
                    found = Some((rest, m));
                    break;
                }
                rest -= beta.checked_mul(w as u128)?;
                m -= w;
            }
            let Some((rest, m)) = found else {
                *slot = usize::MAX;
                any_dead = true;
                continue;
            };
            let u = match g.util {
                Utility::Cost => cost[c],
                Utility::Card => 1,
            };
            let den = u.checked_mul(m as u128)?;
            let better = match best {
                None => true,
                Some((bc, brest, bden, _)) => match mul_wide(rest, bden).cmp(&mul_wide(brest, den)) {
                    Ordering::Less => true,
                    Ordering::Equal => c < bc,
                    Ordering::Greater => false,
                },
            };
            if better {
                best = Some((c, rest, den, m));
            }
        }
        let Some((c, rest, _, m)) = best else {
            return Some(picks);
        };
        if any_dead {
            live.retain(|&x| x != usize::MAX);
        }
        live.retain(|&x| x != c);
        // Every supporter pays min(budget, rest / (m · D)); D grows by m / gcd.
        let m = m as u128;
        let gg = gcd(rem(rest, m), m);
        let f = div(m, gg);
        let x = div(rest, gg);
        if f > 1 {
            d = d.checked_mul(f)?;
            for b in budget.iter_mut() {
                *b = b.checked_mul(f)?;
            }
        }
        for &gr in g.supporters(c) {
            let b = &mut budget[gr as usize];
            *b = b.saturating_sub(x);
        }
        picks.push(c);
    }
}

/// [`replay`] is tried up to this many voter groups even when
/// [`replay_fits`] cannot promise it fits (it may overflow late, wasting
/// the work, which is cheap only for few groups).
pub(crate) const REPLAY_GROUPS: usize = 128;

fn bits(v: u128) -> u32 {
    128 - v.leading_zeros()
}

/// Whether [`replay`] surely does not overflow: every value is at most
/// `max(total, max cost) · D · m` with `D ≤ n · Π votes(pick)`.
pub(crate) fn replay_fits(base: &Base, g: &Groups, picks: &[usize], total: &num_bigint::BigUint) -> bool {
    let (Some(small), Ok(total)) = (base.small.as_ref(), u128::try_from(total)) else {
        return false;
    };
    let max_cost = g.cand.iter().map(|&p| small.cost[p]).max().unwrap_or(0);
    let max_m = g.cand_votes.iter().copied().max().unwrap_or(0);
    let mut need = bits(total.max(max_cost)) + bits(base.n as u128) + bits(max_m as u128);
    for &c in picks {
        need += g.cand_votes.get(c).map_or(64, |&v| bits(v as u128));
        if need > 127 {
            return false;
        }
    }
    need <= 127
}

/// One bought project of [`replay`]: (candidate, share numerator, full
/// payers, capped payers, what the capped ones paid, denominator), as in
/// [`super::mes::Pick`].
pub(crate) type SmallPick = (usize, u128, u64, u64, u128, u128);

/// Replays known picks (as [`super::mes::Mes::replay`]) to get their exact
/// payments on machine integers; `None` on overflow or if a pick is not
/// affordable.
pub(crate) fn replay(base: &Base, g: &Groups, total: u128, n: u64, order: &[usize]) -> Option<Vec<SmallPick>> {
    if n == 0 {
        return None;
    }
    let small = base.small.as_ref()?;
    let mut d: u128 = n as u128;
    let mut budget: Vec<u128> = vec![total; g.group_w.len()];
    let mut sup: Vec<(u128, u64)> = Vec::new();
    let mut out = Vec::with_capacity(order.len());
    for &c in order {
        let p = *g.cand.get(c)?;
        sup.clear();
        sup.extend(g.supporters(c).iter().map(|&gr| (budget[gr as usize], g.group_w[gr as usize])));
        sup.sort_unstable_by_key(|s| s.0);
        let mut rest = small.cost[p].checked_mul(d)?;
        let mut m = g.cand_votes[c];
        let (mut capped, mut capped_num) = (0u64, 0u128);
        let mut found = false;
        for &(beta, w) in &sup {
            if rest <= beta.checked_mul(m as u128)? {
                found = true;
                break;
            }
            let paid = beta.checked_mul(w as u128)?;
            rest -= paid;
            capped_num = capped_num.checked_add(paid)?;
            m -= w;
            capped += w;
        }
        if !found || m == 0 {
            return None;
        }
        out.push((c, rest, m, capped, capped_num, d));
        let mm = m as u128;
        let gg = gcd(rem(rest, mm), mm);
        let f = div(mm, gg);
        let x = div(rest, gg);
        if f > 1 {
            d = d.checked_mul(f)?;
            for b in budget.iter_mut() {
                *b = b.checked_mul(f)?;
            }
        }
        for &gr in g.supporters(c) {
            let b = &mut budget[gr as usize];
            *b = b.saturating_sub(x);
        }
    }
    Some(out)
}
