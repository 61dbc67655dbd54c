//! The MES rules on tiny instances (at most 64 projects, few approvals),
//! straight from the instance: no big integers, few allocations.
//!
//! Ballots become bit masks of candidates, identical masks are grouped, and
//! MES runs exactly as in [`super::small`]: budgets are `u128` numerators
//! over one common `u128` denominator, `ρ` compared with 256-bit products.
//! Every operation is checked; on overflow the caller runs the general
//! path instead (`None`).

use std::cmp::Ordering;

use super::instance::Instance;
use super::prep::Utility;
use super::wide::mul_wide;

/// Instances with at most this many approvals are tried here.
pub(crate) const TINY_APPROVALS: usize = 4096;

/// The Add1 rules are run here up to this many approvals only.
pub(crate) const TINY_ADD1_APPROVALS: usize = 128;

use super::small::gcd;

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
    /// Votes by project index.
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
    pub fn new(inst: &Instance) -> Option<Tiny> {
        let projects = inst.projects();
        let np = projects.len();
        if np > 64 || inst.num_approvals() > TINY_APPROVALS {
            return None;
        }
        let scale = projects.iter().map(|p| p.cost.scale()).max().unwrap_or(0).max(inst.budget().scale());
        let unit = 10u128.checked_pow(scale)?;
        let limit = 1u128 << 100;
        let budget = inst.budget().scaled_u128(scale).filter(|&b| b < limit)?;
        let mut cost = Vec::with_capacity(np);
        for p in projects {
            cost.push(p.cost.scaled_u128(scale).filter(|&c| c < limit)?);
        }
        let mut votes = vec![0u64; np];
        for b in inst.ballots() {
            for &p in b {
                votes[p as usize] += 1;
            }
        }
        let mut id_order: Vec<usize> = (0..np).collect();
        id_order.sort_unstable_by(|&a, &b| projects[a].id.cmp(&projects[b].id));
        let cand: Vec<usize> = id_order.iter().copied().filter(|&p| cost[p] > 0 && votes[p] > 0).collect();
        let zero_supported: Vec<usize> = id_order.iter().copied().filter(|&p| cost[p] == 0 && votes[p] > 0).collect();
        // Every ballot as a mask of candidate positions, grouped.
        let mut bit = [0u64; 64];
        for (c, &p) in cand.iter().enumerate() {
            bit[p] = 1 << c;
        }
        let mut masks: Vec<u64> = Vec::with_capacity(inst.num_voters());
        for b in inst.ballots() {
            let m = b.iter().fold(0u64, |m, &p| m | bit[p as usize]);
            if m != 0 {
                masks.push(m);
            }
        }
        masks.sort_unstable();
        let mut groups: Vec<(u64, u64)> = Vec::new();
        for m in masks {
            match groups.last_mut() {
                Some((last, w)) if *last == m => *w += 1,
                _ => groups.push((m, 1)),
            }
        }
        let mut sup_start = vec![0u32; cand.len() + 1];
        for &(mask, _) in &groups {
            let mut bits = mask;
            while bits != 0 {
                sup_start[bits.trailing_zeros() as usize + 1] += 1;
                bits &= bits - 1;
            }
        }
        for c in 0..cand.len() {
            sup_start[c + 1] += sup_start[c];
        }
        let mut fill = sup_start.clone();
        let mut sup_items = vec![0u32; sup_start[cand.len()] as usize];
        for (gi, &(mask, _)) in groups.iter().enumerate() {
            let mut bits = mask;
            while bits != 0 {
                let c = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                sup_items[fill[c] as usize] = gi as u32;
                fill[c] += 1;
            }
        }
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
        let n = self.n;
        if n == 0 {
            return Some(Vec::new());
        }
        let nc = self.cand.len();
        let mut d: u128 = n as u128;
        let budget = &mut scratch.budget;
        budget.clear();
        budget.resize(self.groups.len(), total);
        let sup = &mut scratch.sup;
        let supw = &mut scratch.supw;
        let u_of = |p: usize| match util {
            Utility::Cost => self.cost[p],
            Utility::Card => 1,
        };
        // Lower bound of ρ · D of every candidate, as num / den (ρ only rises
        // as budgets fall): at first, everyone paying an equal share.
        let stale = &mut scratch.stale;
        stale.clear();
        for &p in &self.cand {
            stale.push((self.cost[p].checked_mul(d)?, u_of(p).checked_mul(self.votes[p] as u128)?));
        }
        let mut live: u64 = if nc == 64 { u64::MAX } else { (1u64 << nc) - 1 };
        let mut picks = Vec::new();
        while live != 0 {
            // Best (ρ, index): ρ = rest / (m · u · D); compared as rest / (m · u).
            let mut best: Option<(usize, u128, u128, u64)> = None;
            // Walk candidates in order of their lower bound while it may beat the best.
            let mut todo = live;
            while todo != 0 {
                let mut bits = todo;
                let mut low = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                while bits != 0 {
                    let c = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if mul_wide(stale[c].0, stale[low].1) < mul_wide(stale[low].0, stale[c].1) {
                        low = c;
                    }
                }
                let c = low;
                todo &= !(1u64 << c);
                if let Some((bc, brest, bden, _)) = best {
                    match mul_wide(stale[c].0, bden).cmp(&mul_wide(brest, stale[c].1)) {
                        Ordering::Greater => break,
                        Ordering::Equal if c > bc => break,
                        _ => {}
                    }
                }
                let p = self.cand[c];
                sup.clear();
                let m = self.votes[p];
                let unit = self.unit_weights;
                sup.extend(self.supporters(c).iter().map(|&gi| budget[gi as usize]));
                if !unit {
                    supw.clear();
                    supw.extend(self.supporters(c).iter().map(|&gi| self.groups[gi as usize].1));
                }
                // The water level by iteration: with rest / m the level when the
                // capped so far pay their budget and the others the level, every
                // budget below it is capped too; until none is added.
                let full = self.cost[p].checked_mul(d)?;
                let mut capped = 0u64;
                let (mut rest, mut mm) = (full, m);
                let found = loop {
                    // Capped: budget · mm < rest, i.e. budget ≤ (rest − 1) / mm (rest > 0).
                    let t = (rest - 1) / mm as u128;
                    let (mut cw, mut paid) = (0u64, 0u128);
                    if unit {
                        for &beta in sup.iter() {
                            if beta <= t {
                                cw += 1;
                                paid += beta;
                            }
                        }
                    } else {
                        for (&beta, &w) in sup.iter().zip(supw.iter()) {
                            if beta <= t {
                                cw += w;
                                // Σ β · w over the capped is below `full`: no overflow.
                                paid += if w == 1 { beta } else { beta * w as u128 };
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
                let den = u_of(p).checked_mul(mm as u128)?;
                stale[c] = (rest, den);
                let better = match best {
                    None => true,
                    Some((bc, brest, bden, _)) => match mul_wide(rest, bden).cmp(&mul_wide(brest, den)) {
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
            let m = m as u128;
            let gg = gcd(rest % m, m);
            let f = m / gg;
            let x = rest / gg;
            if f > 1 {
                d = d.checked_mul(f)?;
                // Every budget is at most `total · d / n` (what it started
                // with, scaled like `d`): if that fits, every product does.
                total.checked_mul(d / n as u128)?;
                for b in budget.iter_mut() {
                    *b *= f;
                }
                for s in stale.iter_mut() {
                    // Lost (zero, always walked) when it no longer fits.
                    s.0 = s.0.checked_mul(f).unwrap_or(0);
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
        let mut ord = self.id_order.clone();
        // Stable: equal densities keep id order.
        ord.sort_by(|&a, &b| density(b).cmp(&density(a)));
        let mut taken = 0u64;
        for &p in selected.iter() {
            taken |= 1 << p;
        }
        let spent: u128 = selected.iter().map(|&p| self.cost[p]).sum();
        if spent > self.budget {
            return;
        }
        let mut left = self.budget - spent;
        for p in ord {
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

/// Why [`Tiny::mes_range`] could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeErr {
    /// Some decision differs inside the range: try a shorter one.
    Split,
    /// A value does not fit.
    Overflow,
}

/// An affine function of the Add1 step `k`: `a + c · k` (over the run's
/// common denominator).
#[derive(Clone, Copy, Debug)]
struct Aff {
    a: i128,
    c: i128,
}

impl Aff {
    fn at(self, k: i128) -> Option<i128> {
        self.a.checked_add(self.c.checked_mul(k)?)
    }
    fn sub(self, o: Aff) -> Option<Aff> {
        Some(Aff { a: self.a.checked_sub(o.a)?, c: self.c.checked_sub(o.c)? })
    }
    fn mul(self, f: i128) -> Option<Aff> {
        Some(Aff { a: self.a.checked_mul(f)?, c: self.c.checked_mul(f)? })
    }
    /// The sign of the function on `[k1, k2]`, when it is the same at both
    /// ends (then, being affine, it is the same all along).
    fn sign(self, k1: i128, k2: i128) -> Result<Ordering, RangeErr> {
        let s1 = self.at(k1).ok_or(RangeErr::Overflow)?.cmp(&0);
        let s2 = self.at(k2).ok_or(RangeErr::Overflow)?.cmp(&0);
        if s1 == s2 {
            Ok(s1)
        } else {
            Err(RangeErr::Split)
        }
    }
}

fn gcd_i(a: i128, b: i128) -> u128 {
    gcd(a.unsigned_abs(), b.unsigned_abs())
}

impl Tiny {
    /// The picks of MES for every Add1 step `k` in `[k1, k2]` at once
    /// (voters holding `budget + k · n · unit` together), when every decision
    /// of the rule is the same all over the range. With the decisions fixed,
    /// every budget, level and `ρ` is an exact affine function of `k` (over
    /// one common denominator), so a comparison that has the same sign at
    /// both ends of the range has it everywhere in between.
    pub fn mes_range(&self, util: Utility, k1: u64, k2: u64, scratch: &mut Scratch) -> Result<Vec<usize>, RangeErr> {
        use RangeErr::Overflow;
        let n = self.n;
        let (k1, k2) = (k1 as i128, k2 as i128);
        let ov = |o: Option<i128>| o.ok_or(Overflow);
        let to_i = |v: u128| i128::try_from(v).map_err(|_| Overflow);
        // β = (budget + k · n · unit) / n: numerators over D = n.
        let mut d: i128 = to_i(n as u128)?;
        let start = Aff { a: to_i(self.budget)?, c: ov(to_i(self.unit)?.checked_mul(n as i128))? };
        let budget = &mut scratch.aff;
        budget.clear();
        budget.resize(self.groups.len(), start);
        let nc = self.cand.len();
        let mut live: u64 = if nc == 64 { u64::MAX } else { (1u64 << nc) - 1 };
        let mut picks = Vec::new();
        let capped_of = scratch.capped.get_or_insert_with(Vec::new);
        while live != 0 {
            // Every live candidate: (candidate, rest (affine), den = m · u, full payers).
            let cands = &mut scratch.cands;
            cands.clear();
            let mut bits = live;
            while bits != 0 {
                let c = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let p = self.cand[c];
                let sup = self.supporters(c);
                let m = self.votes[p];
                let full = Aff { a: ov(to_i(self.cost[p])?.checked_mul(d))?, c: 0 };
                // The water level by iteration, as in `mes`: capped when β · mm < rest.
                let (mut rest, mut mm, mut capped) = (full, m, 0u64);
                let found = loop {
                    let (mut cw, mut paid) = (0u64, Aff { a: 0, c: 0 });
                    for &gi in sup {
                        let (beta, w) = (budget[gi as usize], self.groups[gi as usize].1);
                        let diff = beta.mul(mm as i128).and_then(|v| v.sub(rest)).ok_or(Overflow)?;
                        if diff.sign(k1, k2)? == Ordering::Less {
                            cw += w;
                            let bw = beta.mul(w as i128).ok_or(Overflow)?;
                            paid = Aff { a: ov(paid.a.checked_add(bw.a))?, c: ov(paid.c.checked_add(bw.c))? };
                        }
                    }
                    if cw == capped {
                        break true;
                    }
                    capped = cw;
                    rest = full.sub(paid).ok_or(Overflow)?;
                    mm = m - cw;
                    if mm == 0 {
                        break false;
                    }
                };
                if !found {
                    live &= !(1u64 << c);
                    continue;
                }
                let u = match util {
                    Utility::Cost => to_i(self.cost[p])?,
                    Utility::Card => 1,
                };
                let den = ov(u.checked_mul(mm as i128))?;
                cands.push((c, rest, den, mm));
            }
            // The best at k1 (ρ = rest / den; on a tie the first, in id order) ...
            let rho_lt =
                |x: &(usize, Aff, i128, u64), y: &(usize, Aff, i128, u64), k: i128| -> Result<bool, RangeErr> {
                    let l = ov(ov(x.1.at(k))?.checked_mul(y.2))?;
                    let r = ov(ov(y.1.at(k))?.checked_mul(x.2))?;
                    Ok(l < r)
                };
            let mut bi: Option<usize> = None;
            for i in 0..cands.len() {
                if bi.is_none() || rho_lt(&cands[i], &cands[bi.unwrap_or(0)], k1)? {
                    bi = Some(i);
                }
            }
            // ... must beat every other one all over the range.
            let best = match bi {
                None => None,
                Some(b) => {
                    let x = cands[b];
                    for (i, y) in cands.iter().enumerate() {
                        if i == b {
                            continue;
                        }
                        let diff = x.1.mul(y.2).and_then(|l| y.1.mul(x.2).and_then(|r| l.sub(r))).ok_or(Overflow)?;
                        match diff.sign(k1, k2)? {
                            Ordering::Less => {}
                            Ordering::Equal if i > b => {}
                            _ => return Err(RangeErr::Split),
                        }
                    }
                    Some(x)
                }
            };
            let Some((c, rest, _, mm)) = best else { break };
            live &= !(1u64 << c);
            // Capped supporters pay all they have; the others x = rest / mm (over D).
            let sup = self.supporters(c);
            capped_of.clear();
            for &gi in sup {
                let diff = budget[gi as usize].mul(mm as i128).and_then(|v| v.sub(rest)).ok_or(Overflow)?;
                capped_of.push(diff.sign(k1, k2)? == Ordering::Less);
            }
            let mm = mm as i128;
            let g = gcd(gcd_i(rest.a, rest.c), mm as u128) as i128;
            let f = mm / g;
            let x = Aff { a: rest.a / g, c: rest.c / g };
            if f > 1 {
                d = ov(d.checked_mul(f))?;
                for b in budget.iter_mut() {
                    *b = b.mul(f).ok_or(Overflow)?;
                }
            }
            for (&gi, &cap) in sup.iter().zip(capped_of.iter()) {
                let b = &mut budget[gi as usize];
                *b = if cap { Aff { a: 0, c: 0 } } else { b.sub(x).ok_or(Overflow)? };
            }
            picks.push(self.cand[c]);
        }
        Ok(picks)
    }
}

/// Reusable buffers of [`Tiny::mes`].
#[derive(Default)]
pub(crate) struct Scratch {
    budget: Vec<u128>,
    sup: Vec<u128>,
    supw: Vec<u64>,
    stale: Vec<(u128, u128)>,
    aff: Vec<Aff>,
    cands: Vec<(usize, Aff, i128, u64)>,
    capped: Option<Vec<bool>>,
}
