//! The participatory budgeting instance: budget, projects and ballots.

use std::collections::HashMap;

use super::cost::Cost;

/// A project of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// The project id (`project_id` column); never empty, no `,`, no
    /// surrounding blanks.
    pub id: String,
    /// Its cost.
    pub cost: Cost,
    /// Other columns of the `PROJECTS` section (name, category, …), in the
    /// file's column order. [`Instance::add_project`] trims keys and values
    /// and drops empty values, repeated keys and the `project_id`, `cost`
    /// and `votes` columns (votes are recomputed from the ballots).
    pub extra: Vec<(String, String)>,
}

impl Project {
    /// A project with no extra columns.
    pub fn new(id: impl Into<String>, cost: Cost) -> Project {
        Project { id: id.into(), cost, extra: Vec::new() }
    }

    /// The value of an extra column, e.g. `"name"`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Why an instance could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// Two projects with the same id.
    #[error("duplicate project id {0:?}")]
    DuplicateProject(String),
    /// A project id that cannot be written in a `.pb` vote list.
    #[error("project id {0:?} is not valid: it must be non-empty, without ',' and without surrounding blanks")]
    BadProjectId(String),
    /// Two voters with the same id.
    #[error("duplicate voter id {0:?}")]
    DuplicateVoter(String),
    /// A voter id that cannot be written back.
    #[error("voter id {0:?} is not valid: it must be non-empty and without surrounding blanks")]
    BadVoterId(String),
    /// A ballot names a project the instance does not have.
    #[error("voter {voter:?} votes for unknown project {project:?}")]
    UnknownProject {
        /// The voter.
        voter: String,
        /// The project id found in the ballot.
        project: String,
    },
    /// More projects or approvals than the compact storage holds (2^32).
    #[error("instance too large")]
    TooLarge,
}

/// A participatory budgeting instance: the budget, the projects and one
/// ballot per voter. A ballot is the *set* of projects the voter named
/// (points and ranks are not kept); ballots are stored compactly as lists of
/// project indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    meta: Vec<(String, String)>,
    budget: Cost,
    projects: Vec<Project>,
    index: HashMap<String, u32>,
    voter_ids: Vec<String>,
    voter_index: HashMap<String, u32>,
    ballot_start: Vec<u32>,
    ballot_items: Vec<u32>,
}

impl Instance {
    /// An instance with this budget, no projects and no voters. Its META
    /// holds just the budget.
    pub fn new(budget: Cost) -> Instance {
        Instance {
            meta: vec![("budget".to_string(), budget.to_string())],
            budget,
            projects: Vec::new(),
            index: HashMap::new(),
            voter_ids: Vec::new(),
            voter_index: HashMap::new(),
            ballot_start: vec![0],
            ballot_items: Vec::new(),
        }
    }

    /// An instance with these META pairs (keys unique, the `budget` entry
    /// already normalised to `budget`).
    pub(crate) fn with_meta(meta: Vec<(String, String)>, budget: Cost) -> Instance {
        let mut inst = Instance::new(budget);
        inst.meta = meta;
        inst.set_budget(budget);
        inst
    }

    /// The META key/value pairs in order (the `budget` entry always matches
    /// [`Instance::budget`]).
    pub fn meta(&self) -> &[(String, String)] {
        &self.meta
    }

    /// The value of a META key.
    pub fn meta_value(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Sets a META key (replacing its value, or appending it). Setting
    /// `budget` goes through [`Instance::set_budget`] semantics only if the
    /// value parses; otherwise it is refused and `false` is returned.
    pub fn set_meta(&mut self, key: &str, value: &str) -> bool {
        let key = key.trim();
        let value = value.trim();
        if key == "budget" {
            return match Cost::parse(value) {
                Ok(b) => {
                    self.set_budget(b);
                    true
                }
                Err(_) => false,
            };
        }
        match self.meta.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.meta.push((key.to_string(), value.to_string())),
        }
        true
    }

    /// The budget.
    pub fn budget(&self) -> Cost {
        self.budget
    }

    /// Changes the budget (and its META entry).
    pub fn set_budget(&mut self, budget: Cost) {
        self.budget = budget;
        let v = budget.to_string();
        match self.meta.iter_mut().find(|(k, _)| k == "budget") {
            Some(entry) => entry.1 = v,
            None => self.meta.push(("budget".to_string(), v)),
        }
    }

    /// The projects, in file (insertion) order.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The index of a project id.
    pub fn project_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).map(|&i| i as usize)
    }

    /// A project by id.
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.project_index(id).map(|i| &self.projects[i])
    }

    /// Adds a project; returns its index.
    pub fn add_project(&mut self, project: Project) -> Result<usize, InstanceError> {
        let id = &project.id;
        if id.is_empty() || id.contains(',') || id.trim() != id {
            return Err(InstanceError::BadProjectId(id.clone()));
        }
        if self.index.contains_key(id) {
            return Err(InstanceError::DuplicateProject(id.clone()));
        }
        let i = u32::try_from(self.projects.len()).map_err(|_| InstanceError::TooLarge)?;
        // Normalise the extra columns as the reader would read them back.
        let mut project = project;
        let mut extra: Vec<(String, String)> = Vec::with_capacity(project.extra.len());
        for (k, v) in std::mem::take(&mut project.extra) {
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || v.is_empty() || matches!(k, "project_id" | "cost" | "votes") {
                continue;
            }
            if extra.iter().any(|(e, _)| e == k) {
                continue;
            }
            extra.push((k.to_string(), v.to_string()));
        }
        project.extra = extra;
        self.index.insert(project.id.clone(), i);
        self.projects.push(project);
        Ok(i as usize)
    }

    /// Adds a voter whose ballot names these project ids (duplicates are
    /// ignored: a ballot is a set).
    pub fn add_ballot<S: AsRef<str>>(&mut self, voter_id: &str, project_ids: &[S]) -> Result<(), InstanceError> {
        let mut idx = Vec::with_capacity(project_ids.len());
        for p in project_ids {
            let p = p.as_ref();
            match self.index.get(p) {
                Some(&i) => idx.push(i),
                None => {
                    return Err(InstanceError::UnknownProject { voter: voter_id.to_string(), project: p.to_string() })
                }
            }
        }
        self.add_ballot_indices(voter_id, &idx)
    }

    /// Adds a voter whose ballot is given by project indices (duplicates are
    /// ignored). Indices must be below `projects().len()`.
    pub(crate) fn add_ballot_indices(&mut self, voter_id: &str, idx: &[u32]) -> Result<(), InstanceError> {
        if voter_id.is_empty() || voter_id.trim() != voter_id {
            return Err(InstanceError::BadVoterId(voter_id.to_string()));
        }
        if self.voter_index.contains_key(voter_id) {
            return Err(InstanceError::DuplicateVoter(voter_id.to_string()));
        }
        let v = u32::try_from(self.voter_ids.len()).map_err(|_| InstanceError::TooLarge)?;
        let start = self.ballot_items.len();
        // Short ballots are searched; long ones are kept in a set meanwhile.
        let mut seen = (idx.len() > 32).then(|| std::collections::HashSet::with_capacity(idx.len()));
        for &i in idx {
            assert!((i as usize) < self.projects.len(), "project index out of range");
            let new = seen.as_mut().map_or_else(|| !self.ballot_items[start..].contains(&i), |s| s.insert(i));
            if new {
                self.ballot_items.push(i);
            }
        }
        let end = match u32::try_from(self.ballot_items.len()) {
            Ok(e) => e,
            Err(_) => {
                self.ballot_items.truncate(start);
                return Err(InstanceError::TooLarge);
            }
        };
        self.ballot_start.push(end);
        self.voter_ids.push(voter_id.to_string());
        self.voter_index.insert(voter_id.to_string(), v);
        Ok(())
    }

    /// Number of ballots (voters), empty ballots included.
    pub fn num_voters(&self) -> usize {
        self.voter_ids.len()
    }

    /// The id of voter `i`.
    pub fn voter_id(&self, i: usize) -> &str {
        &self.voter_ids[i]
    }

    /// The ballot of voter `i`: indices into [`Instance::projects`], in the
    /// order first named, without duplicates.
    pub fn ballot(&self, i: usize) -> &[u32] {
        let s = self.ballot_start[i] as usize;
        let e = self.ballot_start[i + 1] as usize;
        &self.ballot_items[s..e]
    }

    /// All ballots, in voter order.
    pub fn ballots(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.num_voters()).map(move |i| self.ballot(i))
    }

    /// Total number of approvals (sum of ballot sizes).
    pub fn num_approvals(&self) -> usize {
        self.ballot_items.len()
    }

    /// `votes(p)` for every project, by index.
    pub fn vote_counts(&self) -> Vec<u64> {
        let mut c = vec![0u64; self.projects.len()];
        for &i in &self.ballot_items {
            c[i as usize] += 1;
        }
        c
    }

    /// Whether every project id is an integer (then ids are shown sorted
    /// numerically).
    pub fn ids_are_integers(&self) -> bool {
        self.projects.iter().all(|p| parse_int_id(&p.id).is_some())
    }
}

/// An id as an integer: optional `-`, then ASCII digits (no other sign, no
/// blanks). Returned as (negative, digits without leading zeros) so that any
/// length compares correctly.
pub(crate) fn parse_int_id(id: &str) -> Option<(bool, &str)> {
    let (neg, digits) = match id.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, id),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = digits.trim_start_matches('0');
    // "-0" is zero, not negative.
    Some((neg && !d.is_empty(), d))
}

/// Numeric order of two integer ids (as given by [`parse_int_id`]).
pub(crate) fn cmp_int_ids(a: (bool, &str), b: (bool, &str)) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let mag = |x: &str, y: &str| x.len().cmp(&y.len()).then_with(|| x.cmp(y));
    match (a.0, b.0) {
        (false, false) => mag(a.1, b.1),
        (true, true) => mag(b.1, a.1),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}
