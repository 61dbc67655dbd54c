//! The Method of Equal Shares on certified fixed-point intervals.
//!
//! Every budget is kept as an *interval* `[lo, hi]` of fixed-point numbers
//! (`u128` with `f` fractional bits, scaled currency units) that surely
//! contains the exact rational budget. Each decision of the rule (is this
//! supporter capped, is this project's `ρ` smaller than that one's, can the
//! supporters afford it) is taken only when the intervals prove it;
//! otherwise the run stops with [`Ambiguous`] and the caller runs the exact
//! engine ([`super::exact`]) instead. Exact ties (equal `ρ` of two projects
//! with no capped supporter, the common case of equal vote counts) are
//! decided exactly. So the picks are always those of exact arithmetic; only
//! the speed differs.
//!
//! A run takes a *range* of voters' totals at once (the Add1 steps `k..k+s`):
//! the intervals start as wide as the range, and `Ok` proves that every
//! total in it gives the same picks.
//!
//! All products are checked or computed in 256 bits: nothing can wrap.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::classes::Classes;
use super::prep::{Groups, Utility};

/// The intervals could not decide a comparison (or a value did not fit):
/// the run must be redone exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ambiguous;

type R<T> = Result<T, Ambiguous>;

/// Full product of two `u128`, as `(high, low)`; tuples compare as the
/// 256-bit value.
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0, b1, b0) = (a >> 64, a & M, b >> 64, b & M);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    // middle = p01 + p10 + (p00 >> 64), with up to two carries past 128 bits.
    let (mid, c1) = p01.overflowing_add(p10);
    let (mid, c2) = mid.overflowing_add(p00 >> 64);
    let carry = (c1 as u128) + (c2 as u128);
    ((p11 + (mid >> 64) + (carry << 64)), (mid << 64) | (p00 & M))
}

/// The water level `x` with `Σ min(budget, x) = cost` for exact point
/// budgets (ascending, with weights), rounded up or down; the budgets must
/// cover the cost.
fn level(full: u128, m0: u64, budgets: impl Iterator<Item = (u128, u64)>, round_up: bool) -> R<u128> {
    let (mut rest, mut m) = (full, m0);
    for (v, w) in budgets {
        if rest <= v.checked_mul(m as u128).ok_or(Ambiguous)? {
            return Ok(if round_up { rest.div_ceil(m as u128) } else { rest / m as u128 });
        }
        rest -= v.checked_mul(w as u128).ok_or(Ambiguous)?;
        m -= w;
    }
    Err(Ambiguous)
}

/// `ρ(p)` of a candidate, as the share `x = ρ · u(p)` in an interval.
#[derive(Clone, Copy, Debug)]
struct Walk {
    x_lo: u128,
    x_hi: u128,
    /// Supporters paying the full share.
    m: u64,
    /// No supporter is capped: the share is exactly `cost / m`.
    exact: bool,
}

/// What an interval run proved before it stopped in doubt, for every
/// voters' total in `[total_lo, total_hi]`: its first picks, the lower
/// bounds of `ρ` it had reached and the candidates not surely unaffordable
/// then. Budgets only fall as projects are bought, so a run for a narrower
/// range may start from there ([`Interval::run`]).
#[derive(Clone, Debug)]
pub(crate) struct Prefix {
    total_lo: u128,
    total_hi: u128,
    n: u64,
    /// Fractional bits of the run (enough for any narrower range).
    f: u32,
    picks: Vec<usize>,
    stale: Vec<Walk>,
    live: Vec<usize>,
}

impl Prefix {
    /// Number of picks proved.
    pub fn len(&self) -> usize {
        self.picks.len()
    }
}

/// Reusable state for interval MES runs on one prepared instance.
pub(crate) struct Interval<'a> {
    g: &'a Groups,
    /// Scaled cost of each candidate.
    cost: Vec<u128>,
    /// Fractional bits of this run.
    f: u32,
    /// The budget classes: each an interval `(lo, hi)`.
    c: Classes<(u128, u128)>,
    /// The last walk of each candidate (a lower bound of its `ρ` from then on).
    stale: Vec<Walk>,
    /// Sort key of each candidate (see `key_of`).
    key: Vec<u128>,
}

impl<'a> Interval<'a> {
    /// `None` when a scaled cost does not fit in 120 bits.
    pub fn new(base_cost: &[num_bigint::BigUint], g: &'a Groups) -> Option<Interval<'a>> {
        let fits = |p: usize| u128::try_from(&base_cost[p]).ok().filter(|&c| c < 1 << 120);
        let cost = g.cand.iter().map(|&p| fits(p)).collect::<Option<_>>()?;
        Some(Interval { g, cost, f: 0, c: Classes::new(g), stale: Vec::new(), key: Vec::new() })
    }

    /// Runs MES with per-voter budget `total / n` (scaled units), i.e. the
    /// voters hold `total` together, for *every* `total` in
    /// `[total_lo, total_hi]` at once: `Ok` proves that all these budgets
    /// give the same picks (candidate indices, returned).
    ///
    /// `from`: a [`Prefix`] proved for a range holding this one; the run
    /// replays its picks (computing only their shares, on this range's own
    /// intervals) and decides from there. On doubt, `Err` gives what this
    /// run proved before it (`None` if nothing).
    pub fn run(
        &mut self,
        total_lo: u128,
        total_hi: u128,
        n: u64,
        from: Option<&Prefix>,
    ) -> Result<Vec<usize>, Option<Box<Prefix>>> {
        let from = from.filter(|p| p.n == n && p.total_lo <= total_lo && total_hi <= p.total_hi);
        let (mut live, mut picks) = self.start(total_lo, total_hi, n, from).map_err(|_| from.cloned().map(Box::new))?;
        loop {
            match self.round(&mut live) {
                Ok(Some(c)) => picks.push(c),
                Ok(None) => return Ok(picks),
                // Proved so far, for the whole range: the picks, the lower
                // bounds of ρ and the candidates not surely unaffordable.
                Err(Ambiguous) => {
                    let stale = self.stale.clone();
                    return Err(Some(Box::new(Prefix { total_lo, total_hi, n, f: self.f, picks, stale, live })));
                }
            }
        }
    }

    /// Sets up a run: the voters' budgets, the lower bounds of `ρ` and, from
    /// a prefix, its picks paid. Gives the candidates left and the picks.
    fn start(&mut self, total_lo: u128, total_hi: u128, n: u64, from: Option<&Prefix>) -> R<(Vec<usize>, Vec<usize>)> {
        let g = self.g;
        let nc = g.cand.len();
        if n == 0 || total_lo > total_hi {
            return Err(Ambiguous);
        }
        // Every value handled is at most V = max(max cost, total); a
        // prefix's bits hold for its whole (wider) range.
        let v = self.cost.iter().copied().fold(total_hi, u128::max).max(1);
        let f = from.map_or(126u32.saturating_sub(128 - v.leading_zeros()), |p| p.f);
        // Too few fractional bits for the intervals to be useful.
        if f < 40 {
            return Err(Ambiguous);
        }
        self.f = f;
        self.c.reset(((total_lo << f) / n as u128, (total_hi << f).div_ceil(n as u128)));
        let Some(p) = from else {
            self.stale = (0..nc).map(|c| self.exact_walk(c, g.cand_votes[c])).collect();
            self.key = (0..nc).map(|c| self.key_of(c)).collect();
            return Ok(((0..nc).collect(), Vec::new()));
        };
        // The prefix's bounds of ρ, proved for its wider range, hold here.
        self.stale.clone_from(&p.stale);
        self.key = (0..nc).map(|c| self.key_of(c)).collect();
        for &c in &p.picks {
            let w = self.walk(c)?.ok_or(Ambiguous)?;
            self.pay(c, &w);
        }
        Ok((p.live.clone(), p.picks.clone()))
    }

    /// One round of MES: the candidate of least `ρ` (ties: lowest index)
    /// among `live`, paid for; `None` when none is affordable. Candidates
    /// found surely unaffordable leave `live`.
    fn round(&mut self, live: &mut Vec<usize>) -> R<Option<usize>> {
        // Most promising first: candidates are skipped only when their
        // lower bound is proved worse, and the scan below ends at the
        // first key above the best's upper end, which needs this order.
        let key = &self.key;
        live.sort_unstable_by_key(|&c| (key[c], c));
        let mut best: Option<(usize, Walk)> = None;
        // No candidate with a key above this can beat the best (see `key_bound`).
        let mut bound = u128::MAX;
        let mut dead: Vec<usize> = Vec::new();
        for &c in live.iter() {
            if let Some((bc, bw)) = best {
                // The keys of the candidates not walked yet are those they
                // were sorted by: every later one is as far above.
                if self.key[c] > bound {
                    break;
                }
                match self.cmp_rho(c, &self.stale[c], bc, &bw) {
                    Some(Ordering::Greater) => continue,
                    Some(Ordering::Equal) if c > bc => continue,
                    _ => {}
                }
            }
            let Some(w) = self.walk(c)? else {
                dead.push(c);
                continue;
            };
            self.stale[c] = w;
            self.key[c] = self.key_of(c);
            let better = match best {
                None => true,
                Some((bc, bw)) => match self.cmp_rho(c, &w, bc, &bw).ok_or(Ambiguous)? {
                    Ordering::Equal => c < bc,
                    o => o == Ordering::Less,
                },
            };
            if better {
                best = Some((c, w));
                bound = self.key_bound(c, &w);
            }
        }
        let Some((c, w)) = best else {
            return Ok(None);
        };
        live.retain(|&x| x != c && !dead.contains(&x));
        self.pay(c, &w);
        Ok(Some(c))
    }

    /// The walk when nobody is capped: share `cost / m`, exactly.
    fn exact_walk(&self, c: usize, m: u64) -> Walk {
        let num = self.cost[c] << self.f;
        let x_lo = num / m as u128;
        Walk { x_lo, x_hi: num.div_ceil(m as u128), m, exact: true }
    }

    /// Compares `ρ` of two candidates: `None` when the intervals overlap
    /// (and the values are not both exact).
    fn cmp_rho(&self, a: usize, wa: &Walk, b: usize, wb: &Walk) -> Option<Ordering> {
        let (ca, cb) = (self.cost[a], self.cost[b]);
        let (ua, ub) = match self.g.util {
            // ρ = x / cost: compare x_a · cost_b with x_b · cost_a.
            Utility::Cost => (cb, ca),
            // ρ = x
            Utility::Card => (1, 1),
        };
        if wa.exact && wb.exact {
            return Some(match self.g.util {
                // ρ = 1 / m
                Utility::Cost => wb.m.cmp(&wa.m),
                // ρ = cost / m
                Utility::Card => mul_wide(ca, wb.m as u128).cmp(&mul_wide(cb, wa.m as u128)),
            });
        }
        if mul_wide(wa.x_hi, ua) < mul_wide(wb.x_lo, ub) {
            Some(Ordering::Less)
        } else if mul_wide(wa.x_lo, ua) > mul_wide(wb.x_hi, ub) {
            Some(Ordering::Greater)
        } else {
            None
        }
    }

    /// The lower end of the last `ρ` of a candidate, in fixed point: the
    /// order in which candidates are looked at.
    fn key_of(&self, c: usize) -> u128 {
        let x = self.stale[c].x_lo;
        match self.g.util {
            Utility::Cost => x / self.cost[c],
            Utility::Card => x,
        }
    }

    /// An upper end of `ρ` of a candidate with walk `w`, in the units of
    /// [`Self::key_of`]: a candidate whose key (a lower end of its `ρ`) is
    /// above it surely has a greater `ρ`.
    fn key_bound(&self, c: usize, w: &Walk) -> u128 {
        match self.g.util {
            Utility::Cost => w.x_hi.div_ceil(self.cost[c]),
            Utility::Card => w.x_hi,
        }
    }

    /// Computes `ρ(c)` as a share interval; `Ok(None)` when the supporters
    /// surely cannot afford `c`.
    fn walk(&mut self, c: usize) -> R<Option<Walk>> {
        self.c.count(self.g, c);
        let result = match self.walk_decided(c) {
            Err(Ambiguous) => self.walk_bounds(c),
            other => other,
        };
        self.c.uncount();
        result
    }

    /// The walk of PB.md over the touched classes in ascending order of
    /// `lo`, taking each capped/full decision only when the intervals prove it.
    ///
    /// The level only rises as capped supporters drop out, so it is at least
    /// `cost / |S|`: classes surely below that are capped whatever their
    /// order and are summed first; the others come off a heap, cheapest
    /// first, until the walk stops (usually early: no sorting of them all).
    fn walk_decided(&self, c: usize) -> R<Option<Walk>> {
        let full = self.cost[c] << self.f;
        let mut m = self.g.cand_votes[c];
        let x0 = full / m as u128;
        let (mut rest_lo, mut rest_hi, mut capped) = (full, full, false);
        let mut heap = Vec::new();
        for &k in &self.c.touched {
            let (w, (blo, bhi)) = (self.c.weight(k) as u128, self.c.val[k as usize]);
            if bhi >= x0 {
                heap.push(Reverse((blo, k)));
                continue;
            }
            // Surely capped: pays its whole budget (the penniless, in class 0, nothing).
            rest_lo = rest_lo.saturating_sub(bhi.checked_mul(w).ok_or(Ambiguous)?);
            rest_hi -= blo.checked_mul(w).ok_or(Ambiguous)?.min(rest_hi);
            m -= w as u64;
            capped |= bhi > 0;
        }
        let mut heap = BinaryHeap::from(heap);
        while let Some(Reverse((blo, k))) = heap.pop() {
            let (w, bhi) = (self.c.weight(k) as u128, self.c.val[k as usize].1);
            // Does the equal share rest / m fit in this budget?
            let (m_blo, m_bhi) = (blo.checked_mul(m as u128), bhi.checked_mul(m as u128));
            let (Some(m_blo), Some(m_bhi)) = (m_blo, m_bhi) else { return Err(Ambiguous) };
            if rest_hi <= m_blo {
                return Ok(Some(if !capped {
                    // Nobody capped (but the penniless): the share is exactly cost / m.
                    self.exact_walk(c, m)
                } else {
                    Walk { x_lo: rest_lo / m as u128, x_hi: rest_hi.div_ceil(m as u128), m, exact: false }
                }));
            }
            if rest_lo <= m_bhi {
                return Err(Ambiguous);
            }
            // Surely capped.
            let (Some(w_blo), Some(w_bhi)) = (blo.checked_mul(w), bhi.checked_mul(w)) else { return Err(Ambiguous) };
            rest_lo = rest_lo.saturating_sub(w_bhi);
            rest_hi -= w_blo.min(rest_hi);
            m -= w as u64;
            capped = true;
        }
        Ok(None)
    }

    /// Bounds of the share when some capped/full decision is open: the
    /// water level is non-increasing in every budget, so it lies between
    /// the level with all budgets at `hi` and the level with all at `lo`.
    fn walk_bounds(&mut self, c: usize) -> R<Option<Walk>> {
        let full = self.cost[c] << self.f;
        let (mut sum_lo, mut sum_hi) = (0u128, 0u128);
        for &k in &self.c.touched {
            let (w, (lo, hi)) = (self.c.weight(k) as u128, self.c.val[k as usize]);
            sum_lo = sum_lo.checked_add(lo.checked_mul(w).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
            sum_hi = sum_hi.checked_add(hi.checked_mul(w).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
        }
        if sum_hi < full {
            return Ok(None);
        }
        if sum_lo < full {
            return Err(Ambiguous);
        }
        let m0 = self.g.cand_votes[c];
        let (val, weight) = (&self.c.val, |k: &u32| self.c.weight(*k));
        // Level with the `lo` budgets: an upper bound; with the `hi` ones, a lower one.
        let mut by = self.c.touched.clone();
        by.sort_unstable_by_key(|&k| val[k as usize].0);
        let x_hi = level(full, m0, by.iter().map(|k| (val[*k as usize].0, weight(k))), true)?;
        by.sort_unstable_by_key(|&k| val[k as usize].1);
        let x_lo = level(full, m0, by.iter().map(|k| (val[*k as usize].1, weight(k))), false)?;
        Ok(Some(Walk { x_lo, x_hi, m: 0, exact: false }))
    }

    /// Every supporter of `c` pays `min(budget, share)`: a budget is
    /// `max(budget − share, 0)` after, for every value in the intervals.
    fn pay(&mut self, c: usize, w: &Walk) {
        self.c.pay(self.g, c, |&mut (lo, hi)| (hi > w.x_lo).then(|| (lo.saturating_sub(w.x_hi), hi - w.x_lo)));
    }
}
