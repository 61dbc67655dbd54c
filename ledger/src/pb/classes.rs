//! Budget classes, shared by both MES engines: voter groups whose budgets are
//! equal share one *class*, so a walk over a project's supporters visits each
//! distinct budget once. Class 0 holds the groups with nothing left. The
//! exact engine's values are big integers, the interval engine's intervals.

use super::prep::Groups;

const NONE: u32 = u32::MAX;

/// The classes of one MES run, and the scratch space of [`Classes::count`].
pub(crate) struct Classes<V> {
    /// The value of each class (a freed slot holds `V::default()`).
    pub val: Vec<V>,
    /// Number of groups in each class.
    refs: Vec<u32>,
    /// Slots of classes no group is in any more.
    free: Vec<u32>,
    /// The class of each voter group.
    group_class: Vec<u32>,
    /// After [`Classes::count`]: the classes of the counted supporters, and
    /// how many supporters each holds ([`Classes::weight`]).
    pub touched: Vec<u32>,
    cnt: Vec<u64>,
    remap: Vec<u32>,
}

impl<V: Default> Classes<V> {
    pub fn new(g: &Groups) -> Classes<V> {
        let group_class = vec![0; g.group_w.len()];
        let (val, refs, free, touched, cnt, remap) = Default::default();
        Classes { val, refs, free, group_class, touched, cnt, remap }
    }

    /// Starts a run: every group in class 1, worth `start`.
    pub fn reset(&mut self, start: V) {
        self.val.clear();
        self.val.extend([V::default(), start]);
        self.refs.clear();
        self.refs.extend([0, self.group_class.len() as u32]);
        self.free.clear();
        self.group_class.fill(1);
    }

    /// Counts the supporters of candidate `c` by class, into `touched` and
    /// [`Classes::weight`]; [`Classes::uncount`] clears the counts.
    pub fn count(&mut self, g: &Groups, c: usize) {
        if self.cnt.len() < self.val.len() {
            self.cnt.resize(self.val.len(), 0);
        }
        self.touched.clear();
        for &grp in g.supporters(c) {
            let k = self.group_class[grp as usize];
            let slot = &mut self.cnt[k as usize];
            if *slot == 0 {
                self.touched.push(k);
            }
            *slot += g.group_w[grp as usize];
        }
    }

    /// The number of counted supporters in class `k`.
    #[inline]
    pub fn weight(&self, k: u32) -> u64 {
        self.cnt[k as usize]
    }

    pub fn uncount(&mut self) {
        for &k in &self.touched {
            self.cnt[k as usize] = 0;
        }
    }

    /// The supporters of `c` pay: each of their classes but class 0 is moved,
    /// once, to a new class worth `after(value)`, or to class 0 when that is
    /// `None` (nothing left). `touched` ends up holding the old classes.
    pub fn pay(&mut self, g: &Groups, c: usize, mut after: impl FnMut(&mut V) -> Option<V>) {
        self.touched.clear();
        for &grp in g.supporters(c) {
            let k = self.group_class[grp as usize];
            if self.remap.len() < self.val.len() {
                self.remap.resize(self.val.len(), NONE);
            }
            let mut nk = self.remap[k as usize];
            if nk == NONE {
                nk = match (k != 0).then(|| after(&mut self.val[k as usize])).flatten() {
                    Some(v) => self.new_class(v),
                    None => 0,
                };
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
                self.val[k as usize] = V::default();
                self.free.push(k);
            }
        }
    }

    /// A class slot holding `v` (a freed one if there is one).
    fn new_class(&mut self, v: V) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.val[k as usize] = v;
                k
            }
            None => {
                self.val.push(v);
                self.refs.push(0);
                (self.val.len() - 1) as u32
            }
        }
    }
}
