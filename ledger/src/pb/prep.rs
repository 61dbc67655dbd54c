//! Integer form of an instance, shared by the rules: costs and budget scaled
//! to integers over a common power of ten, projects in tie order (id as a
//! string) and, for MES, voters grouped by identical candidate sets.

use num_bigint::BigUint;
use num_traits::Zero;

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
    /// `votes(p)` by project index.
    pub votes: Vec<u64>,
    /// Project indices in id (string) order.
    pub id_order: Vec<usize>,
}

impl Base {
    pub fn new(inst: &Instance) -> Base {
        let projects = inst.projects();
        let scale = projects.iter().map(|p| p.cost.scale()).fold(inst.budget().scale(), u32::max);
        let mut id_order: Vec<usize> = (0..projects.len()).collect();
        id_order.sort_unstable_by(|&a, &b| projects[a].id.cmp(&projects[b].id));
        Base {
            n: inst.num_voters() as u64,
            scale,
            budget: inst.budget().scaled_biguint(scale),
            cost: projects.iter().map(|p| p.cost.scaled_biguint(scale)).collect(),
            votes: inst.vote_counts(),
            id_order,
        }
    }

    /// One currency unit, scaled: `10^scale`.
    pub fn unit(&self) -> BigUint {
        num_traits::pow(BigUint::from(10u32), self.scale as usize)
    }

    /// Total scaled cost of a set of projects.
    pub fn total(&self, projects: &[usize]) -> BigUint {
        projects.iter().map(|&p| &self.cost[p]).sum()
    }
}

/// The MES view: candidates and voter groups.
pub(crate) struct Groups {
    pub util: Utility,
    /// MES candidates (cost > 0, at least one vote), in id order, as project
    /// indices; also the projects the exhaustiveness test looks at.
    pub cand: Vec<usize>,
    /// Number of supporters of each candidate.
    pub cand_votes: Vec<u64>,
    /// Supporter groups of candidate `c`: `sup_items[sup_start[c]..sup_start[c + 1]]`.
    sup_start: Vec<u32>,
    sup_items: Vec<u32>,
    /// Number of voters in each group (voters with the same candidate set).
    pub group_w: Vec<u64>,
    /// Zero-cost projects with at least one supporter, in id order (selected
    /// first under cardinality utility).
    pub zero_supported: Vec<usize>,
}

impl Groups {
    pub fn new(inst: &Instance, base: &Base, util: Utility) -> Groups {
        let free = |p: usize| base.cost[p].is_zero();
        let cand: Vec<usize> = base.id_order.iter().copied().filter(|&p| !free(p) && base.votes[p] > 0).collect();
        let zero_supported = match util {
            Utility::Cost => Vec::new(),
            Utility::Card => base.id_order.iter().copied().filter(|&p| free(p) && base.votes[p] > 0).collect(),
        };
        let mut cand_of = vec![u32::MAX; inst.projects().len()];
        for (c, &p) in cand.iter().enumerate() {
            cand_of[p] = c as u32;
        }
        // Every ballot as its sorted candidates; identical non-empty sets form a group.
        let sets: Vec<Vec<u32>> = inst
            .ballots()
            .map(|b| {
                let mut s: Vec<u32> = b.iter().map(|&p| cand_of[p as usize]).filter(|&c| c != u32::MAX).collect();
                s.sort_unstable();
                s
            })
            .collect();
        let mut order: Vec<usize> = (0..sets.len()).filter(|&v| !sets[v].is_empty()).collect();
        order.sort_unstable_by(|&a, &b| sets[a].cmp(&sets[b]));
        // The first voter of each group, and its number of voters.
        let (mut first, mut group_w): (Vec<usize>, Vec<u64>) = (Vec::new(), Vec::new());
        for &v in &order {
            match (first.last(), group_w.last_mut()) {
                (Some(&f), Some(w)) if sets[f] == sets[v] => *w += 1,
                _ => {
                    first.push(v);
                    group_w.push(1);
                }
            }
        }
        let mut cand_votes = vec![0u64; cand.len()];
        let mut counts = vec![0u32; cand.len() + 1];
        for (g, &v) in first.iter().enumerate() {
            for &c in &sets[v] {
                counts[c as usize + 1] += 1;
                cand_votes[c as usize] += group_w[g];
            }
        }
        for c in 0..cand.len() {
            counts[c + 1] += counts[c];
        }
        let mut fill = counts.clone();
        let mut sup_items = vec![0u32; counts[cand.len()] as usize];
        for (g, &v) in first.iter().enumerate() {
            for &c in &sets[v] {
                sup_items[fill[c as usize] as usize] = g as u32;
                fill[c as usize] += 1;
            }
        }
        Groups { util, cand, cand_votes, sup_start: counts, sup_items, group_w, zero_supported }
    }

    /// Supporter groups of candidate `c`.
    #[inline]
    pub fn supporters(&self, c: usize) -> &[u32] {
        &self.sup_items[self.sup_start[c] as usize..self.sup_start[c + 1] as usize]
    }

    /// Number of (group, candidate) supports.
    pub fn supports(&self) -> usize {
        self.sup_items.len()
    }

    /// Project indices: the zero-cost supported ones (cardinality) then the
    /// bought candidates.
    pub fn projects(&self, picks: &[usize]) -> Vec<usize> {
        let mut v = self.zero_supported.clone();
        v.extend(picks.iter().map(|&c| self.cand[c]));
        v
    }
}
