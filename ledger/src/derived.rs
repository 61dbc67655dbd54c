//! An index the state derives from data it already holds (a contribution's
//! place by its id, the pledged payment references): built from that data
//! on first use, then kept up to date by whoever changes the data.
//!
//! It is not part of the state's value: a snapshot leaves it out, two
//! states with the same data are equal whatever their indexes, and a copy
//! of the state starts without it (and builds its own if it is ever asked).
//! That is what keeps the copy the snapshot thread writes small: the
//! million-record node's indexes are some 100 MiB it need not copy.

use std::sync::OnceLock;

/// An index built on first use; see the module.
pub struct Derived<T>(OnceLock<T>);

impl<T> Derived<T> {
    /// The index, built by `build` if this is its first use.
    pub fn get(&self, build: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(build)
    }

    /// The index, to change along with the data, if it has been built; if
    /// not, there is nothing to keep up to date.
    pub fn built_mut(&mut self) -> Option<&mut T> {
        self.0.get_mut()
    }

    /// Whether it has been built.
    pub fn is_built(&self) -> bool {
        self.0.get().is_some()
    }
}

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Derived(OnceLock::new())
    }
}

/// A copy starts unbuilt: see the module.
impl<T> Clone for Derived<T> {
    fn clone(&self) -> Self {
        Derived::default()
    }
}

/// Not part of the state's value: see the module.
impl<T> PartialEq for Derived<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Derived<T> {}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_built() { "Derived(built)" } else { "Derived(not built)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_once_kept_up_to_date_and_not_copied() {
        let mut d = Derived::<Vec<u32>>::default();
        assert!(d.built_mut().is_none(), "nothing to keep up to date before it is built");
        assert_eq!(d.get(|| vec![1, 2]), &[1, 2]);
        assert_eq!(d.get(|| unreachable!("built once")), &[1, 2]);
        if let Some(v) = d.built_mut() {
            v.push(3);
        }
        assert_eq!(d.get(Vec::new), &[1, 2, 3]);
        let copy = d.clone();
        assert!(!copy.is_built(), "a copy builds its own");
        assert_eq!(copy, d, "not part of the value");
    }
}
