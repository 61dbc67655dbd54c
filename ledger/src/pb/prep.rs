//! Integer form of an instance, shared by the rules: costs and budget scaled
//! to integers over a common power of ten, projects in tie order (id as a
//! string) and, for MES, voters grouped by identical candidate sets.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use num_bigint::BigUint;

use super::instance::Instance;

/// Utility model ("satisfaction" in pabutools).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Utility {
    /// A supporter of `p` gets `cost(p)`.
    Cost,
    /// A supporter of `p` gets 1.
    Card,
}

/// Scaled integer view of an instance.
pub(crate) struct Base {
    /// Number of ballots, empty ones included.
    pub n: u64,
    /// Costs and budget are multiplied by `10^scale`.
    pub scale: u32,
    /// The budget, scaled.
    pub budget: BigUint,
    /// Scaled cost of every project (by project index).
    pub cost: Vec<BigUint>,
    /// The same as `u128` when every scaled cost and the budget are below
    /// 2^120 (`None` otherwise).
    pub small: Option<Small>,
    /// `votes(p)` by project index.
    pub votes: Vec<u64>,
    /// Project indices in id (string) order.
    pub id_order: Vec<usize>,
}

/// Scaled costs and budget as machine integers.
pub(crate) struct Small {
    pub cost: Vec<u128>,
    pub budget: u128,
}

const SMALL_LIMIT: u128 = 1 << 120;

/// From this many voters on, identical ballots are grouped.
const GROUP_FROM: usize = 4096;

impl Base {
    pub fn new(inst: &Instance) -> Base {
        let projects = inst.projects();
        let scale =
            projects.iter().map(|p| p.cost.scale()).chain(std::iter::once(inst.budget().scale())).max().unwrap_or(0);
        let cost: Vec<BigUint> = projects.iter().map(|p| p.cost.scaled_biguint(scale)).collect();
        let budget = inst.budget().scaled_biguint(scale);
        let to_small = |v: &BigUint| u128::try_from(v).ok().filter(|&x| x < SMALL_LIMIT);
        let small = (|| {
            let budget = to_small(&budget)?;
            let cost = cost.iter().map(to_small).collect::<Option<Vec<u128>>>()?;
            Some(Small { cost, budget })
        })();
        let mut id_order: Vec<usize> = (0..projects.len()).collect();
        if !id_order.is_sorted_by(|&a, &b| projects[a].id <= projects[b].id) {
            id_order.sort_unstable_by(|&a, &b| projects[a].id.cmp(&projects[b].id));
        }
        Base { n: inst.num_voters() as u64, scale, budget, cost, small, votes: inst.vote_counts(), id_order }
    }

    /// Total scaled cost of a set of projects.
    pub fn total(&self, projects: &[usize]) -> BigUint {
        match &self.small {
            Some(s) => BigUint::from(projects.iter().map(|&p| s.cost[p]).sum::<u128>()),
            None => projects.iter().map(|&p| &self.cost[p]).sum(),
        }
    }

    /// Whether a set of projects costs more than the budget.
    pub fn over_budget(&self, projects: &[usize]) -> bool {
        match &self.small {
            // At most 2^32 projects below 2^120 each: no overflow.
            Some(s) => projects.iter().map(|&p| s.cost[p]).sum::<u128>() > s.budget,
            None => self.total(projects) > self.budget,
        }
    }

    /// Whether the cost is zero.
    pub fn is_free(&self, p: usize) -> bool {
        match &self.small {
            Some(s) => s.cost[p] == 0,
            None => self.cost[p] == BigUint::default(),
        }
    }
}

/// A small, fast, non-cryptographic hasher for ballot slices (FxHash).
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The MES view: candidates and voter groups.
pub(crate) struct Groups {
    pub util: Utility,
    /// MES candidates (cost > 0, at least one supporter), in id order, as
    /// project indices.
    pub cand: Vec<usize>,
    /// Weighted number of supporters of each candidate.
    pub cand_votes: Vec<u64>,
    /// Supporter groups of candidate `c`: `sup_items[sup_start[c]..sup_start[c + 1]]`.
    pub sup_start: Vec<u32>,
    pub sup_items: Vec<u32>,
    /// Number of voters in each group (voters with the same candidate set).
    pub group_w: Vec<u64>,
    /// Zero-cost projects with at least one supporter, in id order (selected
    /// first under cardinality utility).
    pub zero_supported: Vec<usize>,
    /// Projects with cost > 0 and at least one vote (exhaustiveness check).
    pub positive_voted: Vec<usize>,
}

impl Groups {
    pub fn new(inst: &Instance, base: &Base, util: Utility) -> Groups {
        Groups::build(inst, base, util, false)
    }

    /// [`Groups::new`], grouping identical ballots also below
    /// [`GROUP_FROM`] voters when they are many (for the Add1 rules, whose
    /// many runs each walk every supporter).
    pub fn new_grouped(inst: &Instance, base: &Base, util: Utility) -> Groups {
        Groups::build(inst, base, util, true)
    }

    fn build(inst: &Instance, base: &Base, util: Utility, group_small: bool) -> Groups {
        let np = inst.projects().len();
        // Candidates: cost > 0 (so u(p) > 0 under both models) and a vote.
        let cand: Vec<usize> =
            base.id_order.iter().copied().filter(|&p| !base.is_free(p) && base.votes[p] > 0).collect();
        let positive_voted = cand.clone();
        let zero_supported: Vec<usize> = match util {
            Utility::Cost => Vec::new(),
            Utility::Card => base.id_order.iter().copied().filter(|&p| base.is_free(p) && base.votes[p] > 0).collect(),
        };
        let mut cand_of = vec![u32::MAX; np];
        for (c, &p) in cand.iter().enumerate() {
            cand_of[p] = c as u32;
        }
        let grouping = group_small || inst.num_voters() >= GROUP_FROM;
        if !grouping {
            return Groups::ungrouped(inst, base, util, cand, cand_of, zero_supported, positive_voted);
        }

        // Every ballot restricted to candidates, sorted, in one buffer.
        let mut start: Vec<u32> = Vec::with_capacity(inst.num_voters() + 1);
        let mut items: Vec<u32> = Vec::with_capacity(inst.num_approvals());
        start.push(0);
        // Sorting is needed only to recognise identical sets when grouping.
        for ballot in inst.ballots() {
            let s = items.len();
            items.extend(ballot.iter().map(|&p| cand_of[p as usize]).filter(|&c| c != u32::MAX));
            if grouping {
                items[s..].sort_unstable();
            }
            start.push(items.len() as u32);
        }
        // Group identical non-empty sets (worth it only for many voters).
        let mut group_of_first: Vec<usize> = Vec::with_capacity(if grouping { 0 } else { inst.num_voters() });
        let mut group_w: Vec<u64> = Vec::with_capacity(if grouping { 0 } else { inst.num_voters() });
        if grouping {
            let mut index: HashMap<&[u32], u32, BuildHasherDefault<Fx>> =
                HashMap::with_capacity_and_hasher(inst.num_voters().min(1 << 20), Default::default());
            for v in 0..inst.num_voters() {
                let set = &items[start[v] as usize..start[v + 1] as usize];
                if set.is_empty() {
                    continue;
                }
                match index.get(set) {
                    Some(&g) => group_w[g as usize] += 1,
                    None => {
                        index.insert(set, group_w.len() as u32);
                        group_of_first.push(v);
                        group_w.push(1);
                    }
                }
            }
        }
        // Few identical ballots among few voters: single voters (unit weights walk faster).
        let few = grouping
            && inst.num_voters() < GROUP_FROM
            && group_w.len() * 4 > (0..inst.num_voters()).filter(|&v| start[v + 1] > start[v]).count() * 3;
        if !grouping || few {
            group_of_first.clear();
            group_w.clear();
            for v in 0..inst.num_voters() {
                if start[v + 1] > start[v] {
                    group_of_first.push(v);
                    group_w.push(1);
                }
            }
        }
        let set_of = |g: usize| {
            let v = group_of_first[g];
            &items[start[v] as usize..start[v + 1] as usize]
        };
        let mut cand_votes = vec![0u64; cand.len()];
        let mut counts = vec![0u32; cand.len() + 1];
        for (g, &w) in group_w.iter().enumerate() {
            for &c in set_of(g) {
                counts[c as usize + 1] += 1;
                cand_votes[c as usize] += w;
            }
        }
        for c in 0..cand.len() {
            counts[c + 1] += counts[c];
        }
        let sup_start = counts.clone();
        let mut fill = counts;
        let mut sup_items = vec![0u32; sup_start[cand.len()] as usize];
        for g in 0..group_w.len() {
            for &c in set_of(g) {
                let at = &mut fill[c as usize];
                sup_items[*at as usize] = g as u32;
                *at += 1;
            }
        }
        Groups { util, cand, cand_votes, sup_start, sup_items, group_w, zero_supported, positive_voted }
    }

    /// [`Groups::build`] without grouping: every voter approving a candidate
    /// is a group of weight 1, and the supporter lists are filled in one
    /// pass over the ballots (a ballot names a project at most once, so a
    /// candidate's supporters are its votes).
    fn ungrouped(
        inst: &Instance,
        base: &Base,
        util: Utility,
        cand: Vec<usize>,
        cand_of: Vec<u32>,
        zero_supported: Vec<usize>,
        positive_voted: Vec<usize>,
    ) -> Groups {
        let cand_votes: Vec<u64> = cand.iter().map(|&p| base.votes[p]).collect();
        let mut sup_start = Vec::with_capacity(cand.len() + 1);
        sup_start.push(0u32);
        let mut at = 0u32;
        for &v in &cand_votes {
            at += v as u32;
            sup_start.push(at);
        }
        let mut fill: Vec<u32> = sup_start[..cand.len()].to_vec();
        let mut sup_items = vec![0u32; at as usize];
        let mut groups = 0u32;
        for ballot in inst.ballots() {
            let mut any = false;
            for &p in ballot {
                let c = cand_of[p as usize];
                if c != u32::MAX {
                    let slot = &mut fill[c as usize];
                    sup_items[*slot as usize] = groups;
                    *slot += 1;
                    any = true;
                }
            }
            groups += u32::from(any);
        }
        Groups {
            util,
            cand,
            cand_votes,
            sup_start,
            sup_items,
            group_w: vec![1; groups as usize],
            zero_supported,
            positive_voted,
        }
    }

    /// Supporter groups of candidate `c`.
    #[inline]
    pub fn supporters(&self, c: usize) -> &[u32] {
        &self.sup_items[self.sup_start[c] as usize..self.sup_start[c + 1] as usize]
    }

    /// Project indices: the zero-cost supported ones (cardinality) then the
    /// bought candidates.
    pub fn projects(&self, picks: impl Iterator<Item = usize>) -> Vec<usize> {
        let mut v = self.zero_supported.clone();
        v.extend(picks.map(|c| self.cand[c]));
        v
    }
}
