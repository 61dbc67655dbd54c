//! The MES rules on tiny instances (at most 64 projects, few approvals),
//! straight from the instance: no big integers, few allocations.
//!
//! Ballots become bit masks of candidates, identical masks are grouped, and
//! MES runs exactly as in [`super::small`]: budgets are integer numerators
//! over one common denominator, `ρ` compared with double-width products.
//! The integers are `u64` (`i64` in the Add1 span engine) while every value
//! fits, else `u128` (`i128`) from the first overflow on. Every operation
//! is checked; on overflow of the wide type the caller runs the general
//! path instead (`None`).

use std::cmp::Ordering;

use super::instance::Instance;
use super::prep::Utility;
use super::wide::cmp_frac;

/// Instances with at most this many approvals are tried here.
pub(crate) const TINY_APPROVALS: usize = 4096;

/// The Add1 rules are run here up to this many approvals only.
pub(crate) const TINY_ADD1_APPROVALS: usize = 128;

use super::small::{div, gcd, gcd_u64, rem};

/// A tiny instance in machine integers.
pub(crate) struct Tiny {
    /// Number of voters.
    pub n: u64,
    /// 10^scale (one currency unit, scaled).
    pub unit: u128,
    /// Scaled budget.
    pub budget: u128,
    /// Scaled cost by project index.
    pub cost: Vec<u128>,
    /// Votes by project index, for candidates (0 for the other projects).
    pub votes: Vec<u64>,
    /// Project indices in id order.
    pub id_order: Vec<usize>,
    /// Candidates (cost > 0, a vote), in id order, as project indices.
    cand: Vec<usize>,
    /// Voter groups: mask of candidate positions, and weight.
    groups: Vec<(u64, u64)>,
    /// Zero-cost projects with a vote, in id order.
    zero_supported: Vec<usize>,
    /// Groups supporting candidate `c`: `sup_items[sup_start[c]..sup_start[c + 1]]`.
    sup_start: Vec<u32>,
    sup_items: Vec<u32>,
    /// Every group has weight 1.
    unit_weights: bool,
}

impl Tiny {
    /// `None` when the instance is not tiny or a value does not fit.
    #[cfg(test)]
    pub fn new(inst: &Instance) -> Option<Tiny> {
        Tiny::new_in(inst, &mut Scratch::default())
    }

    /// [`Tiny::new`] in the memory of a [`Tiny`] given back to `scratch`
    /// ([`Tiny::give_back`]).
    pub fn new_in(inst: &Instance, scratch: &mut Scratch) -> Option<Tiny> {
        let spare = &mut scratch.spare;
        // A reused list, emptied.
        fn take<T>(v: &mut Vec<T>) -> Vec<T> {
            let mut v = std::mem::take(v);
            v.clear();
            v
        }
        let projects = inst.projects();
        let np = projects.len();
        if np > 64 || inst.num_approvals() > TINY_APPROVALS {
            return None;
        }
        let scale = projects.iter().map(|p| p.cost.scale()).max().unwrap_or(0).max(inst.budget().scale());
        let unit = 10u128.checked_pow(scale)?;
        let limit = 1u128 << 100;
        let budget = inst.budget().scaled_u128(scale).filter(|&b| b < limit)?;
        let mut cost = take(&mut spare.cost);
        for p in projects {
            cost.push(p.cost.scaled_u128(scale).filter(|&c| c < limit)?);
        }
        let mut id_order = take(&mut spare.id_order);
        id_order.extend(0..np);
        if !id_order.is_sorted_by(|&a, &b| projects[a].id <= projects[b].id) {
            // By the first 8 bytes (zero-padded, as a number), then the whole id.
            // (Built byte by byte: a copy into a buffer read back as one word
            // stalls the load.)
            let key = |p: usize| {
                let id = projects[p].id.as_bytes();
                let mut k = 0u64;
                for i in 0..8 {
                    k = k << 8 | u64::from(id.get(i).copied().unwrap_or(0));
                }
                k
            };
            let mut keys = [0u64; 64];
            for (k, p) in keys.iter_mut().zip(0..np) {
                *k = key(p);
            }
            id_order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]).then_with(|| projects[a].id.cmp(&projects[b].id)));
        }
        // Bit positions: the projects that cost something in id order, then
        // the free ones; so when every costly project has a vote (the usual
        // case), a ballot's mask is already a mask of candidate positions.
        let mut pos_bit = [0u64; 64];
        let mut at_pos = [0usize; 64];
        let mut npos = 0;
        for free in [false, true] {
            for &p in &id_order {
                if (cost[p] == 0) == free {
                    pos_bit[p] = 1 << npos;
                    at_pos[npos] = p;
                    npos += 1;
                }
            }
        }
        let ncostly = id_order.iter().filter(|&&p| cost[p] > 0).count();
        let costly = if ncostly == 64 { u64::MAX } else { (1u64 << ncostly) - 1 };
        // Every ballot as a mask of positions; identical masks of costly
        // projects are grouped (open addressing on the mask); `any` holds
        // the positions with a vote.
        let nv = inst.num_voters();
        let mut any = 0u64;
        let mut groups = take(&mut spare.groups);
        groups.reserve(nv.min(inst.num_approvals()));
        // Few voters: a search among the groups is cheaper than a table.
        let few = nv <= 32;
        let slots = if few { 0 } else { (nv + nv / 2).next_power_of_two() };
        let shift = 64 - slots.trailing_zeros();
        let mut table: Vec<(u64, u32)> = vec![(0, 0); slots];
        for b in inst.ballots() {
            let mut m = 0u64;
            for &p in b {
                m |= pos_bit[p as usize];
            }
            any |= m;
            let m = m & costly;
            if m == 0 {
                continue;
            }
            if few {
                match groups.iter_mut().find(|g| g.0 == m) {
                    Some(g) => g.1 += 1,
                    None => groups.push((m, 1)),
                }
                continue;
            }
            let mut slot = (m.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
            loop {
                let (key, g) = table[slot];
                if key == m {
                    groups[g as usize].1 += 1;
                    break;
                }
                if key == 0 {
                    table[slot] = (m, groups.len() as u32);
                    groups.push((m, 1));
                    break;
                }
                slot = (slot + 1) & (slots - 1);
            }
        }
        // Candidates: the costly projects with a vote, in id order.
        let mut cand = take(&mut spare.cand);
        cand.extend((0..ncostly).filter(|&i| any >> i & 1 == 1).map(|i| at_pos[i]));
        let mut zero_supported = take(&mut spare.zero_supported);
        zero_supported.extend((ncostly..npos).filter(|&i| any >> i & 1 == 1).map(|i| at_pos[i]));
        if cand.len() < ncostly {
            // Some costly project has no vote: close the gaps it leaves.
            let mut to = [0u64; 64];
            let mut c = 0;
            for (i, t) in to.iter_mut().enumerate().take(ncostly) {
                if any >> i & 1 == 1 {
                    *t = 1 << c;
                    c += 1;
                }
            }
            for g in groups.iter_mut() {
                let mut bits = g.0;
                let mut cm = 0u64;
                while bits != 0 {
                    cm |= to[bits.trailing_zeros() as usize];
                    bits &= bits - 1;
                }
                g.0 = cm;
            }
        }
        // The supports and votes of every candidate.
        let mut sup_start = take(&mut spare.sup_start);
        sup_start.resize(cand.len() + 1, 0);
        let mut cvotes = [0u64; 64];
        for &(mask, w) in &groups {
            let mut bits = mask;
            while bits != 0 {
                let c = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                sup_start[c + 1] += 1;
                cvotes[c] += w;
            }
        }
        let mut votes = take(&mut spare.votes);
        votes.resize(np, 0);
        for (c, &p) in cand.iter().enumerate() {
            votes[p] = cvotes[c];
        }
        for c in 0..cand.len() {
            sup_start[c + 1] += sup_start[c];
        }
        // Filled from each candidate's start, which moves to the next
        // candidate's start meanwhile, then is shifted back.
        let mut sup_items = take(&mut spare.sup_items);
        sup_items.resize(sup_start[cand.len()] as usize, 0);
        for (gi, &(mask, _)) in groups.iter().enumerate() {
            let mut bits = mask;
            while bits != 0 {
                let c = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                sup_items[sup_start[c] as usize] = gi as u32;
                sup_start[c] += 1;
            }
        }
        sup_start.copy_within(0..cand.len(), 1);
        sup_start[0] = 0;
        let unit_weights = groups.iter().all(|g| g.1 == 1);
        Some(Tiny {
            n: inst.num_voters() as u64,
            unit,
            budget,
            cost,
            votes,
            id_order,
            cand,
            groups,
            zero_supported,
            sup_start,
            sup_items,
            unit_weights,
        })
    }

    /// Gives this instance's memory to `scratch`, for the next [`Tiny::new_in`].
    pub fn give_back(self, scratch: &mut Scratch) {
        scratch.spare = Spare {
            cost: self.cost,
            votes: self.votes,
            id_order: self.id_order,
            cand: self.cand,
            groups: self.groups,
            zero_supported: self.zero_supported,
            sup_start: self.sup_start,
            sup_items: self.sup_items,
        };
    }

    #[inline]
    fn supporters(&self, c: usize) -> &[u32] {
        &self.sup_items[self.sup_start[c] as usize..self.sup_start[c + 1] as usize]
    }

    /// Zero-cost supported projects (cardinality utility), then `picks`.
    pub fn projects(&self, util: Utility, picks: &[usize]) -> Vec<usize> {
        let mut v = if util == Utility::Card { self.zero_supported.clone() } else { Vec::new() };
        v.extend_from_slice(picks);
        v
    }

    /// The picks (project indices, in order) of MES when the voters hold
    /// `total` together (scaled units); `None` on overflow.
    pub fn mes(&self, util: Utility, total: u128, scratch: &mut Scratch) -> Option<Vec<usize>> {
        if !scratch.wide_mes {
            if let Some(picks) = self.mes_in::<u64>(util, total, scratch) {
                return Some(picks);
            }
            scratch.wide_mes = true;
        }
        self.mes_in::<u128>(util, total, scratch)
    }

    /// [`Tiny::mes`] on machine integers of type `T`: `u64` while every
    /// value fits (one instruction per operation), else `u128`.
    fn mes_in<T: MesInt>(&self, util: Utility, total: u128, scratch: &mut Scratch) -> Option<Vec<usize>> {
        let n = self.n;
        if n == 0 {
            return Some(Vec::new());
        }
        let nc = self.cand.len();
        let total = T::of_u128(total)?;
        let mut d: T = T::of_u64(n)?;
        let (budget, stale) = T::lists(scratch);
        budget.clear();
        budget.resize(self.groups.len(), total);
        let u_of = |p: usize| match util {
            Utility::Cost => T::of_u128(self.cost[p]),
            Utility::Card => Some(T::ONE),
        };
        // Lower bound of ρ · D of every candidate, as num / den (ρ only rises
        // as budgets fall): at first, everyone paying an equal share.
        stale.clear();
        stale.reserve(nc);
        for &p in &self.cand {
            stale.push((T::of_u128(self.cost[p])?.checked_mul(d)?, u_of(p)?.checked_mul(T::of_u64(self.votes[p])?)?));
        }
        let mut live: u64 = if nc == 64 { u64::MAX } else { (1u64 << nc) - 1 };
        let mut picks = Vec::with_capacity(nc);
        while live != 0 {
            // Best (ρ, index): ρ = rest / (m · u · D); compared as rest / (m · u).
            let mut best: Option<(usize, T, T, u64)> = None;
            // Walk candidates in order of their lower bound while it may beat the best.
            let mut todo = live;
            while todo != 0 {
                let mut bits = todo;
                let mut low = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                while bits != 0 {
                    let c = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if T::cmp_frac(stale[c].0, stale[c].1, stale[low].0, stale[low].1) == Ordering::Less {
                        low = c;
                    }
                }
                let c = low;
                todo &= !(1u64 << c);
                if let Some((bc, brest, bden, _)) = best {
                    match T::cmp_frac(stale[c].0, stale[c].1, brest, bden) {
                        Ordering::Greater => break,
                        Ordering::Equal if c > bc => break,
                        _ => {}
                    }
                }
                let p = self.cand[c];
                let m = self.votes[p];
                let unit = self.unit_weights;
                // Passed over in place: most walks take one pass (nobody
                // capped), so gathering the budgets first costs more.
                let sups = self.supporters(c);
                // The water level by iteration: with rest / m the level when the
                // capped so far pay their budget and the others the level, every
                // budget below it is capped too; until none is added.
                let full = T::of_u128(self.cost[p])?.checked_mul(d)?;
                let mut capped = 0u64;
                let (mut rest, mut mm) = (full, m);
                let found = loop {
                    // Capped: budget · mm < rest, i.e. budget ≤ (rest − 1) / mm (rest > 0).
                    let t = (rest - T::ONE).div_fast(T::of_u64(mm)?);
                    let (mut cw, mut paid) = (0u64, T::ZERO);
                    if unit {
                        for &gi in sups {
                            let beta = budget[gi as usize];
                            if beta <= t {
                                cw += 1;
                                paid = paid + beta;
                            }
                        }
                    } else {
                        for &gi in sups {
                            let beta = budget[gi as usize];
                            if beta <= t {
                                let w = self.groups[gi as usize].1;
                                cw += w;
                                // Σ β · w over the capped is below `full`: no overflow.
                                paid = paid + if w == 1 { beta } else { beta * T::of_u64(w)? };
                            }
                        }
                    }
                    if cw == capped {
                        break true;
                    }
                    // Σ of the new capped budgets is below rest: no underflow.
                    capped = cw;
                    rest = full - paid;
                    mm = m - cw;
                    if mm == 0 {
                        break false;
                    }
                };
                if !found {
                    // No longer affordable: never again (budgets only fall).
                    live &= !(1u64 << c);
                    continue;
                }
                let den = u_of(p)?.checked_mul(T::of_u64(mm)?)?;
                stale[c] = (rest, den);
                let better = match best {
                    None => true,
                    Some((bc, brest, bden, _)) => match T::cmp_frac(rest, den, brest, bden) {
                        Ordering::Less => true,
                        Ordering::Equal => c < bc,
                        Ordering::Greater => false,
                    },
                };
                if better {
                    best = Some((c, rest, den, mm));
                }
            }
            let Some((c, rest, _, m)) = best else { break };
            live &= !(1u64 << c);
            // Every supporter pays min(budget, rest / (m · D)); D grows by m / gcd.
            let m = T::of_u64(m)?;
            let gg = rest.rem_fast(m).gcd(m);
            let f = m.div_fast(gg);
            let x = rest.div_fast(gg);
            if f > T::ONE {
                d = d.checked_mul(f)?;
                // Every budget is at most `total · d / n` (what it started
                // with, scaled like `d`): if that fits, every product does.
                total.checked_mul(d.div_fast(T::of_u64(n)?))?;
                for b in budget.iter_mut() {
                    *b = *b * f;
                }
                for s in stale.iter_mut() {
                    // Lost (zero, always walked) when it no longer fits.
                    s.0 = s.0.checked_mul(f).unwrap_or(T::ZERO);
                }
            }
            for &gi in self.supporters(c) {
                let b = &mut budget[gi as usize];
                *b = b.saturating_sub(x);
            }
            picks.push(self.cand[c]);
        }
        Some(picks)
    }

    /// Whether a set of projects costs more than the budget.
    pub fn over_budget(&self, projects: &[usize]) -> bool {
        projects.iter().map(|&p| self.cost[p]).sum::<u128>() > self.budget
    }

    /// Whether every candidate is selected or no longer fits.
    pub fn exhaustive(&self, projects: &[usize]) -> bool {
        let mut chosen = 0u64;
        for &p in projects {
            chosen |= 1 << p;
        }
        let spent: u128 = projects.iter().map(|&p| self.cost[p]).sum();
        self.cand.iter().all(|&p| chosen >> p & 1 == 1 || spent + self.cost[p] > self.budget)
    }

    /// Number of candidates.
    pub fn num_candidates(&self) -> usize {
        self.cand.len()
    }

    /// `greedy_av` completion: every project (with or without votes) in
    /// greedy order, taken while it fits, after `selected`.
    pub fn greedy_fill(&self, selected: &mut Vec<usize>) {
        // Density: votes (cost utility); zero without votes or for a free project.
        let density = |p: usize| if self.cost[p] == 0 { 0 } else { self.votes[p] };
        // At most 64 projects: on the stack.
        let mut buf = [0usize; 64];
        let ord = &mut buf[..self.id_order.len()];
        ord.copy_from_slice(&self.id_order);
        // Stable: equal densities keep id order.
        ord.sort_by_key(|&p| std::cmp::Reverse(density(p)));
        let mut taken = 0u64;
        for &p in selected.iter() {
            taken |= 1 << p;
        }
        let spent: u128 = selected.iter().map(|&p| self.cost[p]).sum();
        if spent > self.budget {
            return;
        }
        let mut left = self.budget - spent;
        for &mut p in ord {
            if taken >> p & 1 == 0 && self.cost[p] <= left {
                left -= self.cost[p];
                taken |= 1 << p;
                selected.push(p);
            }
        }
    }

    /// Whether strictly more voters approve more projects of `greedy` than
    /// of `mes` than the other way round.
    pub fn prefer_greedy(&self, inst: &Instance, greedy: &[usize], mes: &[usize]) -> bool {
        let mask = |s: &[usize]| s.iter().fold(0u64, |m, &p| m | 1 << p);
        let (gm, mm) = (mask(greedy), mask(mes));
        let (mut more_g, mut more_m) = (0u64, 0u64);
        for ballot in inst.ballots() {
            let b = ballot.iter().fold(0u64, |m, &p| m | 1 << p);
            let (g, m) = ((b & gm).count_ones(), (b & mm).count_ones());
            more_g += u64::from(g > m);
            more_m += u64::from(m > g);
        }
        more_g > more_m
    }
}

/// The integers [`Tiny::mes`] runs on: `u64` first, `u128` when a value
/// does not fit in it.
trait MesInt:
    Copy + Ord + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self> + std::ops::Mul<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn of_u128(v: u128) -> Option<Self>;
    fn of_u64(v: u64) -> Option<Self>;
    fn checked_mul(self, o: Self) -> Option<Self>;
    fn saturating_sub(self, o: Self) -> Self;
    fn div_fast(self, m: Self) -> Self;
    fn rem_fast(self, m: Self) -> Self;
    fn gcd(self, o: Self) -> Self;
    /// `an / ad` against `bn / bd` (positive denominators), exactly.
    fn cmp_frac(an: Self, ad: Self, bn: Self, bd: Self) -> Ordering;
    /// The reusable lists of [`Scratch`] for this width.
    fn lists(s: &mut Scratch) -> (&mut Vec<Self>, &mut Vec<(Self, Self)>);
}

impl MesInt for u64 {
    const ZERO: u64 = 0;
    const ONE: u64 = 1;
    #[inline]
    fn of_u128(v: u128) -> Option<u64> {
        u64::try_from(v).ok()
    }
    #[inline]
    fn of_u64(v: u64) -> Option<u64> {
        Some(v)
    }
    #[inline]
    fn checked_mul(self, o: u64) -> Option<u64> {
        u64::checked_mul(self, o)
    }
    #[inline]
    fn saturating_sub(self, o: u64) -> u64 {
        u64::saturating_sub(self, o)
    }
    #[inline]
    fn div_fast(self, m: u64) -> u64 {
        self / m
    }
    #[inline]
    fn rem_fast(self, m: u64) -> u64 {
        self % m
    }
    #[inline]
    fn gcd(self, o: u64) -> u64 {
        gcd_u64(self, o)
    }
    #[inline]
    fn cmp_frac(an: u64, ad: u64, bn: u64, bd: u64) -> Ordering {
        (an as u128 * bd as u128).cmp(&(bn as u128 * ad as u128))
    }
    fn lists(s: &mut Scratch) -> (&mut Vec<u64>, &mut Vec<(u64, u64)>) {
        (&mut s.budget64, &mut s.stale64)
    }
}

impl MesInt for u128 {
    const ZERO: u128 = 0;
    const ONE: u128 = 1;
    #[inline]
    fn of_u128(v: u128) -> Option<u128> {
        Some(v)
    }
    #[inline]
    fn of_u64(v: u64) -> Option<u128> {
        Some(v as u128)
    }
    #[inline]
    fn checked_mul(self, o: u128) -> Option<u128> {
        u128::checked_mul(self, o)
    }
    #[inline]
    fn saturating_sub(self, o: u128) -> u128 {
        u128::saturating_sub(self, o)
    }
    #[inline]
    fn div_fast(self, m: u128) -> u128 {
        div(self, m)
    }
    #[inline]
    fn rem_fast(self, m: u128) -> u128 {
        rem(self, m)
    }
    #[inline]
    fn gcd(self, o: u128) -> u128 {
        gcd(self, o)
    }
    #[inline]
    fn cmp_frac(an: u128, ad: u128, bn: u128, bd: u128) -> Ordering {
        cmp_frac(an, ad, bn, bd)
    }
    fn lists(s: &mut Scratch) -> (&mut Vec<u128>, &mut Vec<(u128, u128)>) {
        (&mut s.budget, &mut s.stale)
    }
}

/// The integers the span engine runs on: `i64` first (one machine
/// instruction per operation), `i128` when a value does not fit in it.
trait SpanInt: Copy + Ord + std::fmt::Debug {
    const ZERO: Self;
    const ONE: Self;
    fn of_u128(v: u128) -> Result<Self, Overflow>;
    fn of_u64(v: u64) -> Result<Self, Overflow>;
    fn add_c(self, o: Self) -> Option<Self>;
    fn sub_c(self, o: Self) -> Option<Self>;
    fn mul_c(self, o: Self) -> Option<Self>;
    fn neg_c(self) -> Option<Self>;
    /// Truncating division by a positive divisor.
    fn div_t(self, o: Self) -> Self;
    fn abs_u128(self) -> u128;
    /// `self` as a step count (`self ≥ 0`).
    fn as_steps(self) -> u64;
    /// The reusable lists of [`Scratch`] for this width, and what the last
    /// span run left for the next one.
    fn lists(s: &mut Scratch) -> SpanLists<'_, Self>;
}

/// The budgets, lower bounds of `ρ`, capped flags and [`Resume`] of a span run.
type SpanLists<'a, T> = (&'a mut Vec<Aff<T>>, &'a mut Vec<(Aff<T>, T)>, &'a mut Vec<bool>, &'a mut Resume<T>);

macro_rules! span_int {
    ($t:ty, $aff:ident, $astale:ident, $resume:ident) => {
        impl SpanInt for $t {
            const ZERO: $t = 0;
            const ONE: $t = 1;
            #[inline]
            fn of_u128(v: u128) -> Result<$t, Overflow> {
                <$t>::try_from(v).map_err(|_| Overflow)
            }
            #[inline]
            fn of_u64(v: u64) -> Result<$t, Overflow> {
                <$t>::try_from(v).map_err(|_| Overflow)
            }
            #[inline]
            fn add_c(self, o: $t) -> Option<$t> {
                self.checked_add(o)
            }
            #[inline]
            fn sub_c(self, o: $t) -> Option<$t> {
                self.checked_sub(o)
            }
            #[inline]
            fn mul_c(self, o: $t) -> Option<$t> {
                mul_fast(self, o)
            }
            #[inline]
            fn neg_c(self) -> Option<$t> {
                self.checked_neg()
            }
            #[inline]
            fn div_t(self, o: $t) -> $t {
                self / o
            }
            #[inline]
            fn abs_u128(self) -> u128 {
                self.unsigned_abs() as u128
            }
            #[inline]
            fn as_steps(self) -> u64 {
                self as u64
            }
            fn lists(s: &mut Scratch) -> SpanLists<'_, $t> {
                (&mut s.$aff, &mut s.$astale, &mut s.capped, &mut s.$resume)
            }
        }
    };
}

span_int!(i64, aff64, astale64, resume64);
span_int!(i128, aff128, astale128, resume128);

/// `checked_mul`; for `i128`, one machine product when both factors fit in
/// 64 bits (then the product surely fits).
trait MulFast: Sized {
    fn mul_fast(self, m: Self) -> Option<Self>;
}

impl MulFast for i64 {
    #[inline]
    fn mul_fast(self, m: i64) -> Option<i64> {
        self.checked_mul(m)
    }
}

impl MulFast for i128 {
    #[inline]
    fn mul_fast(self, m: i128) -> Option<i128> {
        if self as i64 as i128 == self && m as i64 as i128 == m {
            Some((self as i64 as i128) * (m as i64 as i128))
        } else {
            self.checked_mul(m)
        }
    }
}

#[inline]
fn mul_fast<T: MulFast>(a: T, b: T) -> Option<T> {
    a.mul_fast(b)
}

/// A value of [`Tiny::mes_span`] does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// An affine function of the Add1 step `k1 + j`: `a + c · j` (over the
/// run's common denominator), so `a` is its value at `k1`.
#[derive(Clone, Copy, Debug)]
struct Aff<T> {
    a: T,
    c: T,
}

impl<T: SpanInt> Aff<T> {
    const ZERO: Aff<T> = Aff { a: T::ZERO, c: T::ZERO };

    #[inline]
    fn at(self, j: T) -> Option<T> {
        self.a.add_c(self.c.mul_c(j)?)
    }
    #[inline]
    fn add(self, o: Aff<T>) -> Option<Aff<T>> {
        Some(Aff { a: self.a.add_c(o.a)?, c: self.c.add_c(o.c)? })
    }
    #[inline]
    fn sub(self, o: Aff<T>) -> Option<Aff<T>> {
        Some(Aff { a: self.a.sub_c(o.a)?, c: self.c.sub_c(o.c)? })
    }
    #[inline]
    fn mul(self, f: T) -> Option<Aff<T>> {
        Some(Aff { a: self.a.mul_c(f)?, c: self.c.mul_c(f)? })
    }
    /// The same function of the step, taken `j` steps later as origin.
    #[inline]
    fn shift(self, j: T) -> Option<Aff<T>> {
        Some(Aff { a: self.at(j)?, c: self.c })
    }
}

/// What a span run of [`Tiny::mes_span`] leaves for the run of the next
/// step after its span: the state at the start of each of its rounds (one
/// pick each), and through which step the decisions of the rounds before
/// that one hold. The span ends where the first decision changes; the rounds
/// before the round of that decision hold beyond it, so the next run resumes
/// there instead of starting again from the first pick.
pub(crate) struct Resume<T> {
    /// The last step of the last run's span; `None`: nothing to resume.
    last: Option<u64>,
    /// By round: the step its state is taken at (the origin of its affine
    /// functions), the last step through which the rounds before it hold,
    /// the common denominator and the live candidates.
    rounds: Vec<(u64, u64, T, u64)>,
    /// By round, the budgets (one per group) and the lower bounds of `ρ` (one
    /// per candidate) at its start.
    budgets: Vec<Aff<T>>,
    stales: Vec<(Aff<T>, T)>,
    /// The picks of the last run.
    picks: Vec<usize>,
}

impl<T> Default for Resume<T> {
    fn default() -> Self {
        Resume { last: None, rounds: Vec::new(), budgets: Vec::new(), stales: Vec::new(), picks: Vec::new() }
    }
}

/// The steps `[k1, k1 + j2]` over which a run's decisions are known to
/// hold; each decision taken at `k1` shortens `j2` to where it stops holding.
struct Span<T> {
    j2: T,
}

impl<T: SpanInt> Span<T> {
    /// Whether `f < 0` (`strict`) or `f ≤ 0` at `k1`; `j2` is lowered to the
    /// last step where the answer is the same (`f` being affine, it then is
    /// the same all over the span).
    #[inline]
    fn neg(&mut self, f: Aff<T>, strict: bool) -> Result<bool, Overflow> {
        let v1 = f.a;
        let holds = if strict { v1 < T::ZERO } else { v1 <= T::ZERO };
        // Only a slope against the answer can change it.
        if f.c == T::ZERO || (holds == (f.c < T::ZERO)) || self.j2 == T::ZERO {
            return Ok(holds);
        }
        self.shorten(f, strict, holds)
    }

    #[cold]
    fn shorten(&mut self, f: Aff<T>, strict: bool, holds: bool) -> Result<bool, Overflow> {
        if let Some(v2) = f.at(self.j2) {
            if holds == if strict { v2 < T::ZERO } else { v2 <= T::ZERO } {
                return Ok(holds);
            }
        }
        // The last j with the same answer: num / |c|, num ≥ 0 since the
        // answer holds at j = 0.
        let (num, den) = match (holds, strict) {
            // a + c·k ≤ −1, c > 0
            (true, true) => (f.a.neg_c().and_then(|v| v.sub_c(T::ONE)), f.c),
            // a + c·k ≤ 0, c > 0
            (true, false) => (f.a.neg_c(), f.c),
            // a + c·k ≥ 0, c < 0
            (false, true) => (Some(f.a), f.c.neg_c().ok_or(Overflow)?),
            // a + c·k ≥ 1, c < 0
            (false, false) => (f.a.sub_c(T::ONE), f.c.neg_c().ok_or(Overflow)?),
        };
        let last = num.ok_or(Overflow)?.div_t(den);
        debug_assert!(last >= T::ZERO);
        self.j2 = self.j2.min(last);
        Ok(holds)
    }

    /// Whether the answer of [`Span::neg`] is the same all over the span as
    /// it is now (without shortening it).
    #[inline]
    fn neg_whole(&self, f: Aff<T>, strict: bool) -> Option<bool> {
        let holds = if strict { f.a < T::ZERO } else { f.a <= T::ZERO };
        if f.c == T::ZERO || (holds == (f.c < T::ZERO)) || self.j2 == T::ZERO {
            return Some(holds);
        }
        let v2 = f.at(self.j2)?;
        (holds == if strict { v2 < T::ZERO } else { v2 <= T::ZERO }).then_some(holds)
    }
}

impl Tiny {
    /// `ρ` of candidate `c` over the span, as `rest / den` over the run's
    /// denominator, and its full payers; `None` when no longer affordable.
    /// The decisions taken (who is capped) shorten the span.
    fn walk_span<T: SpanInt>(
        &self,
        util: Utility,
        c: usize,
        budget: &[Aff<T>],
        d: T,
        span: &mut Span<T>,
    ) -> Result<Option<(Aff<T>, T, u64)>, Overflow> {
        let ov = |o: Option<T>| o.ok_or(Overflow);
        let p = self.cand[c];
        let sup = self.supporters(c);
        let m = self.votes[p];
        let full = Aff { a: ov(T::of_u128(self.cost[p])?.mul_c(d))?, c: T::ZERO };
        // The water level by iteration, as in `mes`: capped when β · mm < rest.
        let (mut rest, mut mm, mut capped) = (full, m, 0u64);
        loop {
            let (mut cw, mut paid) = (0u64, Aff::ZERO);
            let mmt = T::of_u64(mm)?;
            for &gi in sup {
                let (beta, w) = (budget[gi as usize], self.groups[gi as usize].1);
                let diff = beta.mul(mmt).and_then(|v| v.sub(rest)).ok_or(Overflow)?;
                if span.neg(diff, true)? {
                    cw += w;
                    let bw = if w == 1 { beta } else { beta.mul(T::of_u64(w)?).ok_or(Overflow)? };
                    paid = paid.add(bw).ok_or(Overflow)?;
                }
            }
            if cw == capped {
                break;
            }
            capped = cw;
            rest = full.sub(paid).ok_or(Overflow)?;
            mm = m - cw;
            if mm == 0 {
                return Ok(None);
            }
        }
        let u = match util {
            Utility::Cost => T::of_u128(self.cost[p])?,
            Utility::Card => T::ONE,
        };
        Ok(Some((rest, ov(u.mul_c(T::of_u64(mm)?))?, mm)))
    }

    /// The picks of MES for every Add1 step `k` in `[k1, k2]` (voters holding
    /// `budget + k · n · unit` together), with `k2 ≤ k_max` as large as the
    /// decisions of the run at `k1` allow: with the decisions fixed, every
    /// budget, level and `ρ` is an exact affine function of `k` (over one
    /// common denominator), so each comparison keeps its answer up to where
    /// its affine function crosses zero.
    ///
    /// As in [`Tiny::mes`], a candidate is walked only when its last `ρ` (a
    /// lower bound of its `ρ` now, at every step of the span: budgets only
    /// fall) may beat the best at `k1`; the best is then checked against
    /// every other candidate's `ρ` or lower bound over the span.
    ///
    /// When `k1` is the step right after the last run's span (on this
    /// scratch), the run resumes that one ([`Resume`]): the rounds whose
    /// decisions still hold at `k1` are not run again.
    ///
    /// Runs on `i64` while its values fit (from the first overflow on, for
    /// the rest of the rule, on `i128`); every operation is checked.
    pub fn mes_span(
        &self,
        util: Utility,
        k1: u64,
        k_max: u64,
        scratch: &mut Scratch,
    ) -> Result<(Vec<usize>, u64), Overflow> {
        if !scratch.wide {
            match self.mes_span_in::<i64>(util, k1, k_max, scratch) {
                Ok(r) => return Ok(r),
                Err(Overflow) => scratch.wide = true,
            }
        }
        self.mes_span_in::<i128>(util, k1, k_max, scratch)
    }

    fn mes_span_in<T: SpanInt>(
        &self,
        util: Utility,
        k1: u64,
        k_max: u64,
        scratch: &mut Scratch,
    ) -> Result<(Vec<usize>, u64), Overflow> {
        let n = self.n;
        let mut span = Span { j2: T::of_u64(k_max.max(k1) - k1)? };
        let ov = |o: Option<T>| o.ok_or(Overflow);
        let (budget, stale, capped_of, resume) = T::lists(scratch);
        let (ng, nc) = (self.groups.len(), self.cand.len());
        // The last round of the last run whose state holds at k1 (the
        // rounds before it hold through k1), when k1 follows its span.
        let from = match resume.last.take() {
            Some(last) if last.checked_add(1) == Some(k1) => resume.rounds.iter().rposition(|r| r.1 >= k1),
            _ => None,
        };
        let mut d: T;
        let mut live: u64;
        let mut picks = Vec::with_capacity(nc);
        if let Some(r) = from {
            // Resume at round r, its affine functions taken from k1.
            let (at, held, dr, lr) = resume.rounds[r];
            let j = T::of_u64(k1 - at)?;
            span.j2 = span.j2.min(T::of_u64(held - k1)?);
            budget.clear();
            for b in &resume.budgets[r * ng..(r + 1) * ng] {
                budget.push(b.shift(j).ok_or(Overflow)?);
            }
            stale.clear();
            // A lower bound that no longer fits is lost (zero, always walked).
            stale.extend(
                resume.stales[r * nc..(r + 1) * nc].iter().map(|&(x, den)| (x.shift(j).unwrap_or(Aff::ZERO), den)),
            );
            (d, live) = (dr, lr);
            picks.extend_from_slice(&resume.picks[..r]);
            resume.rounds.truncate(r);
            resume.budgets.truncate(r * ng);
            resume.stales.truncate(r * nc);
        } else {
            // At most one round per candidate, and the last.
            resume.rounds.clear();
            resume.rounds.reserve(nc + 1);
            resume.budgets.clear();
            resume.budgets.reserve((nc + 1) * ng);
            resume.stales.clear();
            resume.stales.reserve((nc + 1) * nc);
            // β = (budget + k · n · unit) / n: numerators over D = n.
            d = T::of_u64(n)?;
            let c = ov(T::of_u128(self.unit)?.mul_c(d))?;
            let start = Aff { a: ov(c.mul_c(T::of_u64(k1)?).and_then(|v| v.add_c(T::of_u128(self.budget).ok()?)))?, c };
            budget.clear();
            budget.resize(ng, start);
            // Lower bound of ρ · D of every candidate, as rest / den: at first,
            // everyone paying an equal share.
            stale.clear();
            stale.reserve(nc);
            for &p in &self.cand {
                let u = match util {
                    Utility::Cost => T::of_u128(self.cost[p])?,
                    Utility::Card => T::ONE,
                };
                stale.push((
                    Aff { a: ov(T::of_u128(self.cost[p])?.mul_c(d))?, c: T::ZERO },
                    ov(u.mul_c(T::of_u64(self.votes[p])?))?,
                ));
            }
            live = if nc == 64 { u64::MAX } else { (1u64 << nc) - 1 };
        }
        // ρ(x) < ρ(y) at k1, for (rest, den) pairs.
        let lt = |x: &(Aff<T>, T), y: &(Aff<T>, T)| -> Result<bool, Overflow> {
            Ok(ov(x.0.a.mul_c(y.1))? < ov(y.0.a.mul_c(x.1))?)
        };
        let eq = |x: &(Aff<T>, T), y: &(Aff<T>, T)| -> Result<bool, Overflow> {
            Ok(ov(x.0.a.mul_c(y.1))? == ov(y.0.a.mul_c(x.1))?)
        };
        while live != 0 {
            // This round's state, for the run of the step after the span.
            resume.rounds.push((k1, k1 + span.j2.as_steps(), d, live));
            resume.budgets.extend_from_slice(budget);
            resume.stales.extend_from_slice(stale);
            // Walk candidates in order of their lower bound at k1 while it may beat the best.
            let mut best: Option<usize> = None;
            // The best's number of supporters paying the level (not capped).
            let mut best_mm = 0u64;
            let mut fresh = 0u64;
            let mut todo = live;
            while todo != 0 {
                let mut bits = todo;
                let mut low = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                while bits != 0 {
                    let c = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if lt(&stale[c], &stale[low])? {
                        low = c;
                    }
                }
                let c = low;
                if let Some(bc) = best {
                    if lt(&stale[bc], &stale[c])? || (c > bc && eq(&stale[bc], &stale[c])?) {
                        break;
                    }
                }
                todo &= !(1u64 << c);
                match self.walk_span(util, c, budget, d, &mut span)? {
                    None => live &= !(1u64 << c),
                    Some((rest, den, mm)) => {
                        stale[c] = (rest, den);
                        fresh |= 1 << c;
                        let better = match best {
                            None => true,
                            Some(bc) => lt(&stale[c], &stale[bc])? || (c < bc && eq(&stale[c], &stale[bc])?),
                        };
                        if better {
                            best = Some(c);
                            best_mm = mm;
                        }
                    }
                }
            }
            let Some(bc) = best else { break };
            // The best stays the best over the span: strictly before every
            // earlier candidate, not after any later one.
            let mut others = live & !(1u64 << bc);
            while others != 0 {
                let c = others.trailing_zeros() as usize;
                others &= others - 1;
                // ρ(best) − ρ(c), cross-multiplied.
                let diff_of = |b: &(Aff<T>, T), y: &(Aff<T>, T)| {
                    b.0.mul(y.1).and_then(|l| y.0.mul(b.1).and_then(|r| l.sub(r))).ok_or(Overflow)
                };
                let strict = c < bc;
                if fresh >> c & 1 == 0 {
                    // A lower bound: enough if it keeps its answer all over the span.
                    if span.neg_whole(diff_of(&stale[bc], &stale[c])?, strict) == Some(true) {
                        continue;
                    }
                    match self.walk_span(util, c, budget, d, &mut span)? {
                        None => {
                            live &= !(1u64 << c);
                            continue;
                        }
                        Some((rest, den, _)) => {
                            stale[c] = (rest, den);
                            fresh |= 1 << c;
                        }
                    }
                }
                let kept = span.neg(diff_of(&stale[bc], &stale[c])?, strict)?;
                debug_assert!(kept, "the best at k1 beats every other candidate at k1");
            }
            let c = bc;
            let (rest, mm) = (stale[c].0, best_mm);
            live &= !(1u64 << c);
            // Capped supporters pay all they have; the others x = rest / mm (over D).
            let sup = self.supporters(c);
            let mm = T::of_u64(mm)?;
            capped_of.clear();
            for &gi in sup {
                let diff = budget[gi as usize].mul(mm).and_then(|v| v.sub(rest)).ok_or(Overflow)?;
                capped_of.push(span.neg(diff, true)?);
            }
            // The gcd divides mm, which fits.
            let g = T::of_u128(gcd(gcd(rest.a.abs_u128(), rest.c.abs_u128()), mm.abs_u128()))?;
            let f = mm.div_t(g);
            let x = Aff { a: rest.a.div_t(g), c: rest.c.div_t(g) };
            if f > T::ONE {
                d = ov(d.mul_c(f))?;
                for b in budget.iter_mut() {
                    *b = b.mul(f).ok_or(Overflow)?;
                }
                let mut bits = live;
                while bits != 0 {
                    let s = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    // Lost (zero, always walked) when it no longer fits.
                    stale[s].0 = stale[s].0.mul(f).unwrap_or(Aff::ZERO);
                }
            }
            for (&gi, &cap) in sup.iter().zip(capped_of.iter()) {
                let b = &mut budget[gi as usize];
                *b = if cap { Aff::ZERO } else { b.sub(x).ok_or(Overflow)? };
            }
            picks.push(self.cand[c]);
        }
        let last = k1 + span.j2.as_steps();
        resume.picks.clone_from(&picks);
        resume.last = Some(last);
        Ok((picks, last))
    }
}

/// Runs `f` with this thread's [`Scratch`], its buffers kept from call to
/// call (a rule on a tiny instance takes about a microsecond, and a dozen
/// allocations were a fifth of it), its state reset.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            s.reset();
            f(&mut s)
        }
        // In use further up this thread's stack: a fresh one.
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The lists of a [`Tiny`] no longer used.
#[derive(Default)]
pub(crate) struct Spare {
    cost: Vec<u128>,
    votes: Vec<u64>,
    id_order: Vec<usize>,
    cand: Vec<usize>,
    groups: Vec<(u64, u64)>,
    zero_supported: Vec<usize>,
    sup_start: Vec<u32>,
    sup_items: Vec<u32>,
}

/// Reusable buffers of [`Tiny::new_in`], [`Tiny::mes`] and [`Tiny::mes_span`].
#[derive(Default)]
pub(crate) struct Scratch {
    spare: Spare,
    budget: Vec<u128>,
    stale: Vec<(u128, u128)>,
    budget64: Vec<u64>,
    stale64: Vec<(u64, u64)>,
    aff64: Vec<Aff<i64>>,
    astale64: Vec<(Aff<i64>, i64)>,
    aff128: Vec<Aff<i128>>,
    astale128: Vec<(Aff<i128>, i128)>,
    resume64: Resume<i64>,
    resume128: Resume<i128>,
    capped: Vec<bool>,
    /// `mes_span` overflowed `i64` once: `i128` from then on.
    wide: bool,
    /// `mes` overflowed `u64` once: `u128` from then on.
    wide_mes: bool,
}

impl Scratch {
    /// As new, keeping the buffers' memory.
    fn reset(&mut self) {
        self.wide = false;
        self.wide_mes = false;
        self.resume64.last = None;
        self.resume128.last = None;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pb::{Cost, Project};

    /// A small deterministic generator (xorshift), so that failures replay.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// The id order (by the first 8 bytes as a number, then the whole id)
    /// is the order of the ids as strings: ids sharing 8 or more bytes,
    /// prefixes of each other, shorter than 8 bytes, and bytes past ASCII.
    #[test]
    fn id_order_is_string_order() {
        let pool = [
            "10",
            "100",
            "9",
            "2",
            "abcdefgh",
            "abcdefghi",
            "abcdefgh0",
            "abcdefg",
            "é",
            "e",
            "éa",
            "zz",
            "0",
            "00",
            "abcdefgz",
            "a",
        ];
        let mut rng = Rng(0x1d5e_ed01_2345_6789);
        for _ in 0..500 {
            let mut ids: Vec<&str> = pool.iter().copied().filter(|_| rng.below(2) == 1).collect();
            if ids.is_empty() {
                continue;
            }
            // A random order of adding them.
            for i in (1..ids.len()).rev() {
                ids.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let mut inst = Instance::new(Cost::new(100, 0).expect("scale"));
            for id in &ids {
                inst.add_project(Project::new(id.to_string(), Cost::new(1, 0).expect("scale"))).expect("unique");
            }
            let t = Tiny::new(&inst).expect("tiny");
            let got: Vec<&str> = t.id_order.iter().map(|&p| ids[p]).collect();
            let mut want = ids.clone();
            want.sort();
            assert_eq!(got, want);
        }
    }

    /// A random instance for the tiny engine: 2–7 projects (some free),
    /// 2–46 voters, costs up to `max_cost` cents.
    pub(crate) fn random_instance(rng: &mut Rng, max_cost: u64) -> Instance {
        let np = 2 + rng.below(6) as usize;
        // Past 32 voters, the grouping of ballots takes its hash table.
        let nv = 2 + rng.below(45) as usize;
        // Some free projects (a free project is never a candidate).
        let costs: Vec<u128> =
            (0..np).map(|_| if rng.below(6) == 0 { 0 } else { 1 + rng.below(max_cost) as u128 }).collect();
        let budget = 1 + rng.below(u64::MAX) as u128 % costs.iter().sum::<u128>().max(1);
        let mut inst = Instance::new(Cost::new(budget, 2).expect("scale"));
        for (i, &c) in costs.iter().enumerate() {
            inst.add_project(Project::new(format!("p{i}"), Cost::new(c, 2).expect("scale"))).expect("unique");
        }
        for v in 0..nv {
            let ids: Vec<String> = (0..np).filter(|_| rng.below(2) == 1).map(|i| format!("p{i}")).collect();
            inst.add_ballot(&format!("v{v}"), &ids).expect("known projects");
        }
        inst
    }

    /// The span engine gives the same picks on `i64` as on `i128` whenever
    /// `i64` suffices (its span may end sooner: a bound that overflows `i64`
    /// only is walked instead), every span's picks are the exact engine's at
    /// both ends and the middle, and an `i64` overflow hands over to `i128`
    /// (the large costs make `i64` overflow in some runs that `i128` completes).
    #[test]
    fn spans_on_both_widths_agree_with_the_exact_engine() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut narrow_ok, mut handed_over) = (0, 0);
        for round in 0..600 {
            let max_cost = [10, 1_000, 1_000_000, 1_000_000_000_000, 1_000_000_000_000_000][round % 5];
            let inst = random_instance(&mut rng, max_cost);
            let Some(t) = Tiny::new(&inst) else { continue };
            if t.n == 0 || t.num_candidates() == 0 {
                continue;
            }
            for util in [Utility::Cost, Utility::Card] {
                for k1 in [0u64, 1, 7, 1_000] {
                    let mut s = Scratch::default();
                    let wide = t.mes_span_in::<i128>(util, k1, k1 + TINY_SPAN, &mut s);
                    let narrow = t.mes_span_in::<i64>(util, k1, k1 + TINY_SPAN, &mut s);
                    match (&narrow, &wide) {
                        (Ok(n), Ok(w)) => {
                            assert_eq!(n.0, w.0, "round {round}: i64 and i128 pick differently");
                            assert!(n.1 <= w.1, "round {round}: i64 proves a longer span than i128");
                            narrow_ok += 1;
                        }
                        (Err(Overflow), Ok(_)) => handed_over += 1,
                        (Ok(_), Err(Overflow)) => panic!("round {round}: i64 fits where i128 does not"),
                        (Err(_), Err(_)) => {}
                    }
                    // The public entry: i64 first, then i128.
                    let mut s = Scratch::default();
                    let public = t.mes_span(util, k1, k1 + TINY_SPAN, &mut s);
                    assert_eq!(public.clone().ok(), narrow.clone().or(wide.clone()).ok());
                    let step = t.unit * t.n as u128;
                    for (picks, last) in [narrow, wide].into_iter().flatten() {
                        for k in [k1, k1 + (last - k1) / 2, last] {
                            let total = t.budget + step * k as u128;
                            if let Some(want) = t.mes(util, total, &mut s) {
                                assert_eq!(picks, want, "round {round}: span [{k1}, {last}] differs at {k}");
                            }
                        }
                    }
                }
            }
        }
        assert!(
            narrow_ok > 100 && handed_over > 20,
            "both widths tested: {narrow_ok} on i64, {handed_over} handed over"
        );
    }

    /// Consecutive span runs on one scratch (each resuming the last at the
    /// first round whose decisions changed) pick what the exact engine picks
    /// at every step of spans up to 64 steps (and at their ends, middle and
    /// the steps next to them otherwise), and what a run from scratch picks;
    /// on both widths, with costs large enough to overflow `i64`.
    #[test]
    fn resumed_spans_agree_with_the_exact_engine() {
        let (r64, s64) = resumed_spans_check::<i64>(0xD1B5_4A32_D192_ED03, &[10, 1_000, 1_000_000]);
        assert!(r64 > 300 && s64 > 1000, "i64: {r64} resumes past the first round in {s64} spans");
        let (r128, s128) = resumed_spans_check::<i128>(0x8BB8_4B93_962E_ACC9, &[1_000_000, 1_000_000_000_000_000]);
        assert!(r128 > 300 && s128 > 1000, "i128: {r128} resumes past the first round in {s128} spans");
    }

    /// Resumes past the first round, and spans run.
    fn resumed_spans_check<T: SpanInt>(seed: u64, max_costs: &[u64]) -> (usize, usize) {
        let mut rng = Rng(seed);
        let (mut resumed, mut spans) = (0, 0);
        for round in 0..400 {
            let inst = random_instance(&mut rng, max_costs[round % max_costs.len()]);
            let Some(t) = Tiny::new(&inst) else { continue };
            if t.n == 0 || t.num_candidates() == 0 {
                continue;
            }
            let step = t.unit * t.n as u128;
            for util in [Utility::Cost, Utility::Card] {
                let mut s = Scratch::default();
                let mut k1 = 0u64;
                for _ in 0..8 {
                    // The round the run resumes at, if any (as `mes_span_in` finds it).
                    let from = {
                        let (_, _, _, resume) = T::lists(&mut s);
                        match resume.last {
                            Some(last) if last + 1 == k1 => resume.rounds.iter().rposition(|r| r.1 >= k1),
                            _ => None,
                        }
                    };
                    let Ok((picks, last)) = t.mes_span_in::<T>(util, k1, k1 + TINY_SPAN, &mut s) else { break };
                    resumed += usize::from(from.is_some_and(|r| r >= 1));
                    spans += 1;
                    let fresh = t.mes_span_in::<T>(util, k1, k1 + TINY_SPAN, &mut Scratch::default());
                    assert_eq!(
                        fresh.map(|f| f.0),
                        Ok(picks.clone()),
                        "round {round}: resumed and fresh runs at {k1} differ"
                    );
                    let every: Vec<u64> = if last - k1 <= 64 {
                        (k1..=last).collect()
                    } else {
                        let mid = k1 + (last - k1) / 2;
                        vec![k1, k1 + 1, mid - 1, mid, mid + 1, last - 1, last]
                    };
                    for k in every {
                        let want = t.mes(util, t.budget + step * k as u128, &mut Scratch::default());
                        assert_eq!(Some(picks.clone()), want, "round {round}: span [{k1}, {last}] differs at {k}");
                    }
                    if last >= 1 << 20 {
                        break;
                    }
                    k1 = last + 1;
                }
            }
        }
        (resumed, spans)
    }

    /// Single MES runs give the same picks on `u64` as on `u128` whenever
    /// `u64` suffices, and an overflow of `u64` hands over to `u128`.
    #[test]
    fn single_runs_on_both_widths_agree() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut narrow_ok, mut handed_over) = (0, 0);
        for round in 0..600 {
            let max_cost = [10, 1_000, 1_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000_000][round % 5];
            let inst = random_instance(&mut rng, max_cost);
            let Some(t) = Tiny::new(&inst) else { continue };
            if t.n == 0 {
                continue;
            }
            for util in [Utility::Cost, Utility::Card] {
                for k in [0u128, 3, 1_000_000] {
                    let total = t.budget + t.unit * t.n as u128 * k;
                    let mut s = Scratch::default();
                    let wide = t.mes_in::<u128>(util, total, &mut s);
                    match (t.mes_in::<u64>(util, total, &mut s), &wide) {
                        (Some(n), Some(w)) => {
                            assert_eq!(&n, w, "round {round}: u64 and u128 differ");
                            narrow_ok += 1;
                        }
                        (None, Some(_)) => handed_over += 1,
                        (Some(_), None) => panic!("round {round}: u64 fits where u128 does not"),
                        (None, None) => {}
                    }
                    let mut s = Scratch::default();
                    assert_eq!(t.mes(util, total, &mut s), wide);
                }
            }
        }
        assert!(
            narrow_ok > 100 && handed_over > 20,
            "both widths tested: {narrow_ok} on u64, {handed_over} handed over"
        );
    }

    const TINY_SPAN: u64 = 1 << 40;
}
