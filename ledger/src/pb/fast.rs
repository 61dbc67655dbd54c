//! A fast, certified run of the Method of Equal Shares.
//!
//! Every budget is kept as an *interval* `[lo, hi]` of fixed-point numbers
//! (`u128` with `F` fractional bits, scaled currency units) that surely
//! contains the exact rational budget. Each decision of the rule (is this
//! supporter poor, is this project cheaper per utility than that one, does
//! this budget cover the share) is taken only when the intervals prove it;
//! otherwise the run stops with [`Ambiguous`] and the caller runs the exact
//! engine ([`super::mes`]) instead. Exact ties (equal `ρ` of two projects
//! with no capped supporter, the common case of equal vote counts) are
//! decided exactly. So the picks are always those of exact arithmetic; only
//! the speed differs. Payments are then computed exactly by replaying the
//! picks with the exact engine.
//!
//! All products are checked or computed in 256 bits: nothing can wrap.

use std::cmp::Ordering;

use super::prep::{Base, Groups, Utility};
use super::wide::mul_wide;

/// The intervals could not decide a comparison (or a value did not fit):
/// the run must be redone exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ambiguous;

type R<T> = Result<T, Ambiguous>;

/// The water level `x` with `Σ min(budget, x) = cost` for exact point
/// budgets (ascending, with weights), rounded up or down; the budgets must
/// cover the cost.
fn level(full: u128, m0: u64, budgets: impl Iterator<Item = (u128, u64)>, round_up: bool) -> R<u128> {
    let mut rest = full;
    let mut m = m0;
    for (v, w) in budgets {
        if rest <= v.checked_mul(m as u128).ok_or(Ambiguous)? {
            return Ok(if round_up { rest.div_ceil(m as u128) } else { rest / m as u128 });
        }
        rest -= v.checked_mul(w as u128).ok_or(Ambiguous)?;
        m -= w;
    }
    Err(Ambiguous)
}

/// [`level`] over unsorted budgets `value(s)` with weights `s.2`: the
/// capped set by iteration instead of by sorting. With `rest` and `m` what
/// the capped so far leave, every budget `v` with `v · m < rest` is capped
/// too; recounted until no budget is added. This is the same set as
/// `level`'s ascending prefix (a budget equal to one already capped is
/// capped with it: its test does not change), so the same level.
fn level_unsorted(
    full: u128,
    m0: u64,
    sup: &[(u128, u128, u64)],
    value: impl Fn(&(u128, u128, u64)) -> u128,
    round_up: bool,
) -> R<u128> {
    let (mut rest, mut m, mut capped) = (full, m0, 0u64);
    loop {
        if rest == 0 {
            return Err(Ambiguous);
        }
        // Capped: v · m < rest, i.e. v ≤ (rest − 1) / m.
        let t = (rest - 1) / m as u128;
        let (mut cw, mut paid) = (0u64, 0u128);
        for s in sup {
            let v = value(s);
            if v <= t {
                cw += s.2;
                paid = paid.checked_add(v.checked_mul(s.2 as u128).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
            }
        }
        if cw == capped {
            return Ok(if round_up { rest.div_ceil(m as u128) } else { rest / m as u128 });
        }
        if cw >= m0 || paid >= full {
            // Everyone capped, or the budgets do not cover the cost.
            return Err(Ambiguous);
        }
        capped = cw;
        rest = full - paid;
        m = m0 - cw;
    }
}

/// One pass of [`Fast::walk_direct`] with threshold `t`: over the
/// supporters with `hi ≤ t` (capped), their weight, Σ lo·w and Σ hi·w;
/// over the others, the least hi (their least lo is at least that less the
/// widest interval, [`Fast::width`]). `UNIT`: every group has weight 1.
#[inline(always)]
fn pass<const UNIT: bool>(sup: &[u32], gb: &[(u128, u128)], gw: &[u64], t: u128) -> (u64, u128, u128, u128) {
    let (mut cw, mut s_lo, mut s_hi) = (0u64, 0u128, 0u128);
    let mut min_hi = u128::MAX;
    for &grp in sup {
        let grp = grp as usize;
        let (lo, hi) = gb[grp];
        if hi <= t {
            if UNIT {
                cw += 1;
                s_lo += lo;
                s_hi += hi;
            } else {
                let w = gw[grp];
                cw += w;
                s_lo += lo * w as u128;
                s_hi += hi * w as u128;
            }
        } else {
            min_hi = min_hi.min(hi);
        }
    }
    (cw, s_lo, s_hi, min_hi)
}

/// Least number of fractional bits for the intervals to be useful.
const MIN_FRACTION_BITS: u32 = 40;

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

const NONE: u32 = u32::MAX;

/// Below this many classes, a walk sorts them instead of using a heap.
const SORT_BELOW: usize = 256;

/// From this many (group, candidate) supports on, budgets are kept in
/// shared classes (a walk then visits each distinct budget once); below,
/// per voter group, and a walk is a few plain passes over the supporters.
const CLASSES_FROM: usize = 50_000;

/// Reusable state for fast MES runs on one prepared instance.
pub(crate) struct Fast<'a> {
    g: &'a Groups,
    /// Scaled cost of each candidate.
    cost: Vec<u128>,
    /// Largest scaled cost.
    max_cost: u128,
    /// Fractional bits of this run.
    f: u32,
    lo: Vec<u128>,
    hi: Vec<u128>,
    refs: Vec<u32>,
    free: Vec<u32>,
    group_class: Vec<u32>,
    /// Scratch: supporters per class (fits: fewer than 2^32 voters).
    cnt: Vec<u32>,
    touched: Vec<u32>,
    remap: Vec<u32>,
    stale: Vec<Walk>,
    /// Direct mode (fewer supports than [`CLASSES_FROM`]): budgets are kept
    /// per voter group in `gb` (lo, hi) instead of in shared classes.
    direct: bool,
    gb: Vec<(u128, u128)>,
    /// At least `hi − lo` of every budget in `gb`.
    width: u128,
    /// Every voter group has weight 1.
    unit: bool,
    /// Scratch for the undecided walks of direct mode: (lo, hi, weight).
    sup: Vec<(u128, u128, u64)>,
    /// Sort key of each candidate (see `key_of`).
    key: Vec<u128>,
    scratch: Vec<u32>,
    heap: Vec<std::cmp::Reverse<(u128, u32)>>,
    /// `f` of the cached first walks below (0: none).
    init_f: u32,
    init_stale: Vec<Walk>,
    init_key: Vec<u128>,
    /// Candidates in ascending order of (first key, index).
    init_live: Vec<usize>,
}

impl<'a> Fast<'a> {
    /// `None` when costs do not fit machine integers.
    pub fn new(base: &Base, g: &'a Groups) -> Option<Fast<'a>> {
        let small = base.small.as_ref()?;
        let cost: Vec<u128> = g.cand.iter().map(|&p| small.cost[p]).collect();
        let max_cost = cost.iter().copied().max().unwrap_or(0);
        Some(Fast {
            g,
            cost,
            max_cost,
            f: 0,
            lo: Vec::new(),
            hi: Vec::new(),
            refs: Vec::new(),
            free: Vec::new(),
            // Class mode only.
            group_class: if g.sup_items.len() < CLASSES_FROM { Vec::new() } else { vec![0; g.group_w.len()] },
            cnt: Vec::new(),
            touched: Vec::new(),
            remap: Vec::new(),
            stale: Vec::new(),
            key: Vec::new(),
            scratch: Vec::new(),
            heap: Vec::new(),
            direct: g.sup_items.len() < CLASSES_FROM,
            gb: Vec::new(),
            width: 0,
            unit: g.group_w.iter().all(|&w| w == 1),
            sup: Vec::new(),
            init_f: 0,
            init_stale: Vec::new(),
            init_key: Vec::new(),
            init_live: Vec::new(),
        })
    }

    /// Runs MES with per-voter budget `total / n` (scaled units), i.e. the
    /// voters hold `total` together, for *every* `total` in
    /// `[total_lo, total_hi]` at once: `Ok` proves that all these budgets
    /// give the same picks (candidate indices, returned).
    pub fn run(&mut self, total_lo: u128, total_hi: u128, n: u64) -> R<Vec<usize>> {
        let g = self.g;
        let nc = g.cand.len();
        if n == 0 || total_lo > total_hi {
            return Err(Ambiguous);
        }
        // Every value handled is at most V = max(max cost, n · b) = max(max cost, total).
        let v = self.max_cost.max(total_hi).max(1);
        let f = 126u32.saturating_sub(128 - v.leading_zeros());
        if f < MIN_FRACTION_BITS {
            return Err(Ambiguous);
        }
        self.f = f;
        let b_lo = (total_lo << f) / n as u128;
        let num_hi = total_hi << f;
        let b_hi = num_hi / n as u128 + u128::from(num_hi % n as u128 != 0);

        if self.direct {
            self.gb.clear();
            self.gb.resize(g.group_w.len(), (b_lo, b_hi));
            self.width = b_hi - b_lo;
        }
        self.lo.clear();
        self.hi.clear();
        self.refs.clear();
        self.free.clear();
        self.lo.extend([0, b_lo]);
        self.hi.extend([0, b_hi]);
        self.refs.extend([0, g.group_w.len() as u32]);
        if !self.direct {
            self.group_class.iter_mut().for_each(|c| *c = 1);
        }
        if self.cnt.len() < 2 {
            self.cnt.resize(2, 0);
        }

        // The first walks, their keys and order depend on `f` only: kept
        // from one run to the next (the Add1 steps).
        if self.init_f != f {
            self.stale.clear();
            for c in 0..nc {
                let m = g.cand_votes[c];
                self.stale.push(self.exact_walk(c, m));
            }
            self.key.clear();
            for c in 0..nc {
                let k = self.key_of(c);
                self.key.push(k);
            }
            let key = &self.key;
            let mut live: Vec<usize> = (0..nc).collect();
            live.sort_unstable_by_key(|&c| (key[c], c));
            self.init_stale.clone_from(&self.stale);
            self.init_key.clone_from(&self.key);
            self.init_live = live;
            self.init_f = f;
        } else {
            self.stale.clone_from(&self.init_stale);
            self.key.clone_from(&self.init_key);
        }
        let mut live: Vec<usize> = self.init_live.clone();
        let mut picks = Vec::new();
        let mut dead: Vec<usize> = Vec::new();
        loop {
            // Most promising first: candidates are skipped only when their
            // lower bound is proved worse, and the scan below ends at the
            // first key above the best's upper end, which needs this order.
            if !self.direct {
                let key = &self.key;
                live.sort_unstable_by_key(|&c| (key[c], c));
            } else {
                // Nearly sorted already (only the walked keys changed): insertion sort.
                let key = &self.key;
                for i in 1..live.len() {
                    let x = live[i];
                    let kx = (key[x], x);
                    let mut j = i;
                    while j > 0 && (key[live[j - 1]], live[j - 1]) > kx {
                        live[j] = live[j - 1];
                        j -= 1;
                    }
                    live[j] = x;
                }
            }
            let mut best: Option<(usize, Walk)> = None;
            // No candidate with a key above this can beat the best (see `key_bound`).
            let mut bound = u128::MAX;
            dead.clear();
            for &c in &live {
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
                match self.walk(c)? {
                    None => dead.push(c),
                    Some(w) => {
                        self.stale[c] = w;
                        self.key[c] = self.key_of(c);
                        let better = match best {
                            None => true,
                            Some((bc, bw)) => match self.cmp_rho(c, &w, bc, &bw) {
                                Some(Ordering::Less) => true,
                                Some(Ordering::Equal) => c < bc,
                                Some(Ordering::Greater) => false,
                                None => return Err(Ambiguous),
                            },
                        };
                        if better {
                            best = Some((c, w));
                            bound = self.key_bound(c, &w);
                        }
                    }
                }
            }
            let Some((c, w)) = best else {
                return Ok(picks);
            };
            live.retain(|&x| x != c && !dead.contains(&x));
            self.pay(c, &w);
            picks.push(c);
        }
    }

    /// The walk when nobody is capped: share `cost / m`, exactly.
    fn exact_walk(&self, c: usize, m: u64) -> Walk {
        let num = self.cost[c] << self.f;
        let x_lo = num / m as u128;
        Walk { x_lo, x_hi: x_lo + u128::from(num % m as u128 != 0), m, exact: true }
    }

    /// Compares `ρ` of two candidates: `None` when the intervals overlap
    /// (and the values are not both exact).
    fn cmp_rho(&self, a: usize, wa: &Walk, b: usize, wb: &Walk) -> Option<Ordering> {
        let (ca, cb) = (self.cost[a], self.cost[b]);
        if wa.exact && wb.exact {
            return Some(match self.g.util {
                // ρ = 1 / m
                Utility::Cost => wb.m.cmp(&wa.m),
                // ρ = cost / m
                Utility::Card => mul_wide(ca, wb.m as u128).cmp(&mul_wide(cb, wa.m as u128)),
            });
        }
        match self.g.util {
            // ρ = x / cost
            Utility::Cost => {
                if mul_wide(wa.x_hi, cb) < mul_wide(wb.x_lo, ca) {
                    Some(Ordering::Less)
                } else if mul_wide(wa.x_lo, cb) > mul_wide(wb.x_hi, ca) {
                    Some(Ordering::Greater)
                } else {
                    None
                }
            }
            // ρ = x
            Utility::Card => {
                if wa.x_hi < wb.x_lo {
                    Some(Ordering::Less)
                } else if wa.x_lo > wb.x_hi {
                    Some(Ordering::Greater)
                } else {
                    None
                }
            }
        }
    }

    /// The lower end of the last `ρ` of a candidate, in fixed point: the
    /// order in which candidates are looked at.
    fn key_of(&self, c: usize) -> u128 {
        let x = self.stale[c].x_lo;
        match self.g.util {
            Utility::Cost => x / self.cost[c].max(1),
            Utility::Card => x,
        }
    }

    /// An upper end of `ρ` of a candidate with walk `w`, in the units of
    /// [`Self::key_of`]: a candidate whose key (a lower end of its `ρ`) is
    /// above it surely has a greater `ρ`.
    fn key_bound(&self, c: usize, w: &Walk) -> u128 {
        match self.g.util {
            Utility::Cost => w.x_hi.div_ceil(self.cost[c].max(1)),
            Utility::Card => w.x_hi,
        }
    }

    /// Computes `ρ(c)` as a share interval; `Ok(None)` when the supporters
    /// surely cannot afford `c`.
    fn walk(&mut self, c: usize) -> R<Option<Walk>> {
        if self.direct {
            return match self.walk_direct(c) {
                Err(Ambiguous) => self.walk_bounds_direct(c),
                other => other,
            };
        }
        let g = self.g;
        if self.cnt.len() < self.lo.len() {
            self.cnt.resize(self.lo.len(), 0);
        }
        self.touched.clear();
        for &grp in g.supporters(c) {
            let k = self.group_class[grp as usize];
            let slot = &mut self.cnt[k as usize];
            if *slot == 0 {
                self.touched.push(k);
            }
            *slot += g.group_w[grp as usize] as u32;
        }
        let result = match self.walk_decided(c) {
            Err(Ambiguous) => {
                let lo = &self.lo;
                self.touched.sort_unstable_by_key(|&k| lo[k as usize]);
                self.walk_bounds(c)
            }
            other => other,
        };
        for &k in &self.touched {
            self.cnt[k as usize] = 0;
        }
        result
    }

    /// The walk of PB.md over the touched classes in ascending order of
    /// `lo`, taking each poor/rich decision only when the intervals prove it.
    ///
    /// The level only rises as capped supporters drop out, so it is at least
    /// `cost / |S|`: classes surely below that are capped whatever their
    /// order and are summed first; the others come off a heap, cheapest
    /// first, until the walk stops.
    fn walk_decided(&mut self, c: usize) -> R<Option<Walk>> {
        let full = self.cost[c] << self.f;
        let m0 = self.g.cand_votes[c];
        let x0_lo = full / m0 as u128;
        let (mut rest_lo, mut rest_hi) = (full, full);
        let mut m = m0;
        let mut poor = false;
        let mut heap = std::mem::take(&mut self.heap);
        heap.clear();
        for &k in &self.touched {
            let w = self.cnt[k as usize] as u64;
            if k == 0 {
                // No budget left: capped at zero, pays nothing.
                m -= w;
                continue;
            }
            let (blo, bhi) = (self.lo[k as usize], self.hi[k as usize]);
            if bhi < x0_lo {
                let w_blo = blo.checked_mul(w as u128).ok_or(Ambiguous)?;
                let w_bhi = bhi.checked_mul(w as u128).ok_or(Ambiguous)?;
                rest_lo = rest_lo.saturating_sub(w_bhi);
                rest_hi -= w_blo.min(rest_hi);
                m -= w;
                poor = true;
            } else {
                heap.push(std::cmp::Reverse((blo, k)));
            }
        }
        // Few classes: sort them; many: a heap, as the walk usually stops early.
        let small = heap.len() <= SORT_BELOW;
        let mut sorted = Vec::new();
        if small {
            // Ascending `Reverse`, i.e. most expensive first: `pop` gives the cheapest.
            heap.sort_unstable();
            sorted = std::mem::take(&mut heap);
        }
        let mut heap = std::collections::BinaryHeap::from(heap);
        let mut result = Ok(None);
        loop {
            let next = if small { sorted.pop() } else { heap.pop() };
            let Some(std::cmp::Reverse((blo, k))) = next else { break };
            let w = self.cnt[k as usize] as u64;
            let bhi = self.hi[k as usize];
            // Does the equal share rest / m fit in this budget?
            let (Some(m_blo), Some(m_bhi)) = (blo.checked_mul(m as u128), bhi.checked_mul(m as u128)) else {
                result = Err(Ambiguous);
                break;
            };
            if rest_hi <= m_blo {
                result = Ok(Some(if !poor {
                    // Nobody capped (but the penniless): the share is exactly cost / m.
                    self.exact_walk(c, m)
                } else {
                    Walk { x_lo: rest_lo / m as u128, x_hi: rest_hi.div_ceil(m as u128), m, exact: false }
                }));
                break;
            }
            if rest_lo <= m_bhi {
                result = Err(Ambiguous);
                break;
            }
            // Surely capped: pays its whole budget.
            let (Some(w_blo), Some(w_bhi)) = (blo.checked_mul(w as u128), bhi.checked_mul(w as u128)) else {
                result = Err(Ambiguous);
                break;
            };
            rest_lo = rest_lo.saturating_sub(w_bhi);
            rest_hi -= w_blo.min(rest_hi);
            m -= w;
            poor = true;
        }
        self.heap = if small { sorted } else { heap.into_vec() };
        result
    }

    /// Bounds of the share when some capped/full decision is open: the
    /// water level is non-increasing in every budget, so it lies between
    /// the level with all budgets at `hi` and the level with all at `lo`.
    fn walk_bounds(&mut self, c: usize) -> R<Option<Walk>> {
        let full = self.cost[c] << self.f;
        let (mut sum_lo, mut sum_hi) = (0u128, 0u128);
        for &k in &self.touched {
            let w = self.cnt[k as usize] as u128;
            sum_lo = sum_lo.checked_add(self.lo[k as usize].checked_mul(w).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
            sum_hi = sum_hi.checked_add(self.hi[k as usize].checked_mul(w).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
        }
        if sum_hi < full {
            return Ok(None);
        }
        if sum_lo < full {
            return Err(Ambiguous);
        }
        let m0 = self.g.cand_votes[c];
        // Level with the `lo` budgets (touched is sorted by lo): an upper bound.
        let x_hi =
            level(full, m0, self.touched.iter().map(|&k| (self.lo[k as usize], self.cnt[k as usize] as u64)), true)?;
        let mut by_hi = std::mem::take(&mut self.scratch);
        by_hi.clear();
        by_hi.extend_from_slice(&self.touched);
        let hi = &self.hi;
        by_hi.sort_unstable_by_key(|&k| hi[k as usize]);
        let x_lo = level(full, m0, by_hi.iter().map(|&k| (self.hi[k as usize], self.cnt[k as usize] as u64)), false);
        self.scratch = by_hi;
        Ok(Some(Walk { x_lo: x_lo?, x_hi, m: 0, exact: false }))
    }

    fn new_class(&mut self, lo: u128, hi: u128) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.lo[k as usize] = lo;
                self.hi[k as usize] = hi;
                k
            }
            None => {
                self.lo.push(lo);
                self.hi.push(hi);
                self.refs.push(0);
                (self.lo.len() - 1) as u32
            }
        }
    }

    /// [`Self::walk_decided`] on per-group budgets: each round of the
    /// iteration is one pass over the supporters, capping those whose
    /// budget is surely below the current lower level (the set only grows,
    /// as the level does; each pass recounts it from scratch).
    fn walk_direct(&self, c: usize) -> R<Option<Walk>> {
        let g = self.g;
        let sup = g.supporters(c);
        let full = self.cost[c] << self.f;
        let m0 = g.cand_votes[c];
        let (gb, gw) = (&self.gb[..], &g.group_w[..]);
        // Surely capped: hi · m < rest_lo, i.e. hi ≤ (rest_lo − 1) / m (full > 0).
        let mut t = (full - 1) / m0 as u128;
        loop {
            // Capped weight, Σ lo·w and Σ hi·w of the capped (each below
            // rest_lo: no overflow), least hi of the others.
            let (cw, s_lo, s_hi, min_hi) =
                if self.unit { pass::<true>(sup, gb, gw, t) } else { pass::<false>(sup, gb, gw, t) };
            let m = m0 - cw;
            let rest_lo = full.saturating_sub(s_hi);
            let rest_hi = full - s_lo.min(full);
            if m == 0 {
                // Everyone capped: surely unaffordable, or undecided.
                return if rest_lo > 0 { Ok(None) } else { Err(Ambiguous) };
            }
            let next = if rest_lo == 0 { None } else { Some((rest_lo - 1) / m as u128) };
            if let Some(nt) = next {
                if min_hi <= nt {
                    // More supporters surely capped: another pass.
                    t = nt;
                    continue;
                }
            }
            // Stable: every other supporter must surely cover the level. Their
            // least lo is at least min_hi − width; below that, look it up.
            let level = rest_hi.div_ceil(m as u128);
            if min_hi.saturating_sub(self.width) < level {
                let min_lo = sup.iter().map(|&grp| gb[grp as usize]).filter(|&(_, hi)| hi > t).map(|(lo, _)| lo).min();
                if min_lo.is_some_and(|lo| lo < level) {
                    return Err(Ambiguous);
                }
            }
            return Ok(Some(if s_hi == 0 {
                // Nobody capped but the penniless (Σ hi·w of the capped is 0):
                // the share is exactly cost / m.
                self.exact_walk(c, m)
            } else {
                Walk { x_lo: rest_lo / m as u128, x_hi: rest_hi.div_ceil(m as u128), m, exact: false }
            }));
        }
    }

    /// [`Self::walk_bounds`] on per-group budgets.
    fn walk_bounds_direct(&mut self, c: usize) -> R<Option<Walk>> {
        let g = self.g;
        let full = self.cost[c] << self.f;
        let mut sup = std::mem::take(&mut self.sup);
        sup.clear();
        sup.extend(g.supporters(c).iter().map(|&grp| {
            let grp = grp as usize;
            (self.gb[grp].0, self.gb[grp].1, g.group_w[grp])
        }));
        let result = (|| {
            let (mut sum_lo, mut sum_hi) = (0u128, 0u128);
            for &(lo, hi, w) in &sup {
                sum_lo = sum_lo.checked_add(lo.checked_mul(w as u128).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
                sum_hi = sum_hi.checked_add(hi.checked_mul(w as u128).ok_or(Ambiguous)?).ok_or(Ambiguous)?;
            }
            if sum_hi < full {
                return Ok(None);
            }
            if sum_lo < full {
                return Err(Ambiguous);
            }
            let m0 = g.cand_votes[c];
            let x_hi = level_unsorted(full, m0, &sup, |s| s.0, true)?;
            let x_lo = level_unsorted(full, m0, &sup, |s| s.1, false)?;
            Ok(Some(Walk { x_lo, x_hi, m: 0, exact: false }))
        })();
        self.sup = sup;
        result
    }

    /// Every supporter of `c` pays `min(budget, share)`.
    fn pay(&mut self, c: usize, w: &Walk) {
        let g = self.g;
        if self.direct {
            // A budget that pays keeps its width, plus the share's at most.
            self.width = self.width.saturating_add(w.x_hi - w.x_lo);
            for &grp in g.supporters(c) {
                let grp = grp as usize;
                let (lo, hi) = self.gb[grp];
                // New budget max(budget − share, 0), for every value in the intervals.
                self.gb[grp] = if hi <= w.x_lo { (0, 0) } else { (lo.saturating_sub(w.x_hi), hi - w.x_lo) };
            }
            return;
        }
        if self.remap.len() < self.lo.len() {
            self.remap.resize(self.lo.len(), NONE);
        }
        self.touched.clear();
        for &grp in g.supporters(c) {
            let k = self.group_class[grp as usize];
            let mut nk = self.remap[k as usize];
            if nk == NONE {
                let (blo, bhi) = (self.lo[k as usize], self.hi[k as usize]);
                // New budget max(budget − share, 0), for every value in the intervals.
                nk = if k == 0 || bhi <= w.x_lo { 0 } else { self.new_class(blo.saturating_sub(w.x_hi), bhi - w.x_lo) };
                if self.remap.len() < self.lo.len() {
                    self.remap.resize(self.lo.len(), NONE);
                }
                self.remap[k as usize] = nk;
                self.touched.push(k);
            }
            self.group_class[grp as usize] = nk;
            self.refs[k as usize] -= 1;
            self.refs[nk as usize] += 1;
        }
        for &k in &self.touched {
            self.remap[k as usize] = NONE;
            if k != 0 && self.refs[k as usize] == 0 {
                self.free.push(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `level_unsorted` gives `level`'s answer (on the sorted budgets) for
    /// random budgets, weights and costs: many ties, some costs the budgets
    /// do not cover, some everyone capped.
    #[test]
    fn level_without_sorting_is_the_sorted_level() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut below = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut decided, mut ambiguous) = (0, 0);
        for round in 0..20_000 {
            let len = 1 + below(12) as usize;
            let top = [5, 100, 1 << 40][round % 3];
            let sup: Vec<(u128, u128, u64)> =
                (0..len).map(|_| (below(top) as u128, below(top) as u128, 1 + below(4))).collect();
            let m0: u64 = sup.iter().map(|s| s.2).sum();
            let full = 1 + below(top * m0) as u128;
            for round_up in [true, false] {
                for pick in [0, 1] {
                    let value = |s: &(u128, u128, u64)| if pick == 0 { s.0 } else { s.1 };
                    let mut sorted: Vec<(u128, u64)> = sup.iter().map(|s| (value(s), s.2)).collect();
                    sorted.sort_unstable_by_key(|s| s.0);
                    let want = level(full, m0, sorted.into_iter(), round_up).ok();
                    let got = level_unsorted(full, m0, &sup, value, round_up).ok();
                    assert_eq!(got, want, "round {round}: {sup:?}, full {full}, up {round_up}");
                    if want.is_some() {
                        decided += 1;
                    } else {
                        ambiguous += 1;
                    }
                }
            }
        }
        assert!(decided > 10_000 && ambiguous > 1_000, "{decided} levels, {ambiguous} uncovered");
    }
}
