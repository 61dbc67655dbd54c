//! The Method of Equal Shares (PB.md), in exact integer arithmetic.
//!
//! All voter budgets are kept as big natural numbers over one common
//! denominator `D` (in scaled currency units: cost · 10^scale). Buying a
//! project with share `x = R / (m · D)` multiplies `D` by `m / gcd(m, R)`, so
//! every budget stays an integer numerator and every comparison is a plain
//! integer comparison: no fraction is ever reduced during a run.
//!
//! Voters with the same set of candidates form a group; groups with the same
//! budget share a *budget class*, so computing `ρ(p)` walks the distinct
//! budgets of `p`'s supporters rather than the supporters themselves.

use std::cmp::Ordering;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{ToPrimitive, Zero};

use super::classes::Classes;
use super::prep::{Base, Groups, Utility};

/// `ρ(p)` of a candidate in the current round: `ρ = share_num / (full · u(p) · D)`,
/// so the share `x = ρ · u(p)` is `share_num / (full · D)`.
#[derive(Clone, Debug)]
pub(crate) struct Rho {
    /// `cost · D − (what the capped supporters pay)`, over `D`.
    pub share_num: BigUint,
    /// Supporters paying the full share.
    pub full: u64,
    /// Supporters paying less (all their remaining budget), and what they
    /// pay together, over `D`.
    pub capped: u64,
    pub capped_num: BigUint,
}

/// One project bought by MES: its candidate index (into `prep.cand`), its
/// `ρ` and the common denominator `D` when it was bought.
#[derive(Clone, Debug)]
pub(crate) struct Pick {
    pub cand: usize,
    pub rho: Rho,
    pub den: BigUint,
}

/// The budget of a class: a numerator over `D` as it was after `epoch`
/// factors (brought up to date lazily, when used: [`refresh`]).
#[derive(Default)]
struct Budget {
    v: BigUint,
    epoch: u32,
}

/// Brings a budget to the current denominator, `fs` being every factor `D`
/// was multiplied by, in order.
fn refresh(b: &mut Budget, fs: &[u64]) {
    let now = fs.len() as u32;
    if b.v.is_zero() {
        b.epoch = now;
    }
    // Apply the pending factors, several at a time while they fit in 64 bits.
    while b.epoch < now {
        let mut f = fs[b.epoch as usize];
        b.epoch += 1;
        while let Some(p) = fs.get(b.epoch as usize).and_then(|&x| f.checked_mul(x)) {
            f = p;
            b.epoch += 1;
        }
        b.v *= f;
    }
}

/// Reusable state for MES runs on one prepared instance.
pub(crate) struct Exact<'a> {
    prep: &'a Groups,
    /// Scaled cost of each candidate.
    cost: Vec<BigUint>,
    /// `u(p)` of each candidate (its cost, or 1).
    util: Vec<BigUint>,
    /// The common denominator `D`.
    d: BigUint,
    /// Every factor `d` was multiplied by, in order.
    fs: Vec<u64>,
    /// The budget classes: numerators over `D`.
    c: Classes<Budget>,
    /// Lower bound of `ρ` per candidate, as `num / (den · D)`.
    stale_num: Vec<BigUint>,
    stale_den: Vec<BigUint>,
    /// Scratch.
    tmp: BigUint,
    tmp2: BigUint,
}

impl<'a> Exact<'a> {
    pub fn new(base: &'a Base, prep: &'a Groups) -> Exact<'a> {
        let cost: Vec<BigUint> = prep.cand.iter().map(|&p| base.cost[p].clone()).collect();
        let util = match prep.util {
            Utility::Cost => cost.clone(),
            Utility::Card => vec![BigUint::from(1u32); cost.len()],
        };
        Exact {
            prep,
            cost,
            util,
            d: BigUint::from(1u32),
            fs: Vec::new(),
            c: Classes::new(prep),
            stale_num: Vec::new(),
            stale_den: Vec::new(),
            tmp: BigUint::zero(),
            tmp2: BigUint::zero(),
        }
    }

    /// Runs MES with per-voter budget `b_num / b_den` (scaled units), `b_den > 0`.
    pub fn run(&mut self, b_num: &BigUint, b_den: u64) -> Vec<Pick> {
        self.run_inner(b_num, b_den, None).expect("a free run always ends with a result")
    }

    /// Replays a known sequence of picks (candidate indices) to get their
    /// exact payments: only the picked project's `ρ` is computed in each round. `None` if a pick
    /// turns out unaffordable (which would be a bug of the interval engine).
    pub fn replay(&mut self, b_num: &BigUint, b_den: u64, picks: &[usize]) -> Option<Vec<Pick>> {
        self.run_inner(b_num, b_den, Some(picks))
    }

    fn run_inner(&mut self, b_num: &BigUint, b_den: u64, forced: Option<&[usize]>) -> Option<Vec<Pick>> {
        let prep = self.prep;
        let nc = prep.cand.len();
        self.d = BigUint::from(b_den);
        self.fs.clear();
        self.c.reset(Budget { v: b_num.clone(), epoch: 0 });

        let mut picks = Vec::new();
        if let Some(order) = forced {
            // Only the forced picks' ρ are computed: no lower bounds needed.
            picks.reserve(order.len());
            for &c in order {
                let r = self.rho(c)?;
                picks.push(self.buy(c, r, &[]));
            }
            return Some(picks);
        }
        // Lower bounds of ρ (ρ never decreases during a run): cost / (|S| · u).
        self.stale_num.clear();
        self.stale_den.clear();
        for c in 0..nc {
            self.stale_num.push(&self.cost[c] * &self.d);
            self.stale_den.push(&self.util[c] * prep.cand_votes[c]);
        }
        let mut live: Vec<usize> = (0..nc).collect();
        let mut dead: Vec<usize> = Vec::new();
        loop {
            {
                let (sn, sd) = (&self.stale_num, &self.stale_den);
                live.sort_by(|&a, &b| cmp_frac(&sn[a], &sd[a], &sn[b], &sd[b]).then(a.cmp(&b)));
            }
            let mut best: Option<(usize, Rho)> = None;
            dead.clear();
            for &c in &live {
                if let Some((bc, br)) = &best {
                    let bden = self.rho_den(*bc, br.full);
                    match cmp_frac(&self.stale_num[c], &self.stale_den[c], &br.share_num, &bden) {
                        Ordering::Greater => break,
                        Ordering::Equal if c > *bc => continue,
                        _ => {}
                    }
                }
                match self.rho(c) {
                    None => dead.push(c),
                    Some(r) => {
                        let den = self.rho_den(c, r.full);
                        let better = match &best {
                            None => true,
                            Some((bc, br)) => {
                                let bden = self.rho_den(*bc, br.full);
                                match cmp_frac(&r.share_num, &den, &br.share_num, &bden) {
                                    Ordering::Less => true,
                                    Ordering::Equal => c < *bc,
                                    Ordering::Greater => false,
                                }
                            }
                        };
                        self.stale_num[c].clone_from(&r.share_num);
                        self.stale_den[c] = den;
                        if better {
                            best = Some((c, r));
                        }
                    }
                }
            }
            let Some((c, r)) = best else {
                return Some(picks);
            };
            live.retain(|&x| x != c && !dead.contains(&x));
            picks.push(self.buy(c, r, &live));
        }
    }

    /// Buys candidate `c` at `ρ = r`: its supporters pay ([`Self::pay`]).
    fn buy(&mut self, c: usize, r: Rho, live: &[usize]) -> Pick {
        let den = self.d.clone();
        self.pay(c, &r.share_num, r.full, live);
        Pick { cand: c, rho: r, den }
    }

    /// `m · u(c)`: with `rest`, `ρ = rest / (m · u(c) · D)`.
    fn rho_den(&self, c: usize, m: u64) -> BigUint {
        &self.util[c] * m
    }

    /// Computes `ρ(c)`, or `None` when the supporters cannot afford `c`.
    fn rho(&mut self, c: usize) -> Option<Rho> {
        let prep = self.prep;
        self.c.count(prep, c);
        let Classes { val, touched, .. } = &mut self.c;
        for &k in touched.iter() {
            refresh(&mut val[k as usize], &self.fs);
        }
        touched.sort_unstable_by(|&a, &b| val[a as usize].v.cmp(&val[b as usize].v));
        let mut rest = &self.cost[c] * &self.d;
        let mut capped_num = BigUint::zero();
        let mut m = prep.cand_votes[c];
        let mut capped: u64 = 0;
        let mut result = None;
        for &k in &self.c.touched {
            let w = self.c.weight(k);
            let beta = &self.c.val[k as usize].v;
            // Is the equal share rest / m at most this budget?
            self.tmp.clone_from(beta);
            self.tmp *= m;
            if rest <= self.tmp {
                result = Some(Rho { share_num: rest, full: m, capped, capped_num });
                break;
            }
            if !beta.is_zero() {
                self.tmp2.clone_from(beta);
                self.tmp2 *= w;
                rest -= &self.tmp2;
                capped_num += &self.tmp2;
            }
            m -= w;
            capped += w;
        }
        self.c.uncount();
        result
    }

    /// Every supporter of `c` pays `min(budget, rest / (m · D))`; the common
    /// denominator grows by `m / gcd(m, rest)`.
    fn pay(&mut self, c: usize, rest: &BigUint, m: u64, live: &[usize]) {
        let g = (rest % m).to_u64().expect("below m").gcd(&m);
        let f = m / g;
        let x = rest / g; // the share, over the new denominator
        if f > 1 {
            self.d *= f;
            self.fs.push(f);
            for &l in live {
                self.stale_num[l] *= f;
            }
        }
        let fs = &self.fs;
        self.c.pay(self.prep, c, |b| {
            refresh(b, fs);
            (b.v > x).then(|| Budget { v: &b.v - &x, epoch: fs.len() as u32 })
        });
    }
}

/// Compares `a / b` with `c / d` (`b`, `d` > 0).
fn cmp_frac(a: &BigUint, b: &BigUint, c: &BigUint, d: &BigUint) -> Ordering {
    (a * d).cmp(&(c * b))
}
