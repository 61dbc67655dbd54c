//! Paging of the lists: items in log order, each at a log position (`seq`);
//! a page holds the items at positions `from` and after, at most `limit` of
//! them; `next` is the position of the first item left out, or `null`.
//! Positions do not move when the ledger grows or an item changes status, so
//! a client walking the pages sees every item once.

use crate::limits::PAGE_RECORDS_MAX;

/// A page request: `from` (a log position, default 0) and `limit` (1 to
/// [`PAGE_RECORDS_MAX`], default [`PAGE_RECORDS_MAX`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The first log position to include.
    pub from: u64,
    /// The most items to return.
    pub limit: u64,
}

/// The largest log position a page may start from (the OpenAPI document's
/// integers are `int64`).
pub const POSITION_MAX: u64 = i64::MAX as u64;

/// A page request out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `limit` is 0 or above [`PAGE_RECORDS_MAX`].
    #[error("limit must be between 1 and {max}; got {0}", max = PAGE_RECORDS_MAX)]
    Limit(u64),
    /// `from` is above [`POSITION_MAX`].
    #[error("from must be between 0 and {max}; got {0}", max = POSITION_MAX)]
    From(u64),
}

impl Page {
    /// A page from the query's `from` and `limit`, refusing a limit out of range.
    pub fn new(from: Option<u64>, limit: Option<u64>) -> Result<Page, PageError> {
        let limit = limit.unwrap_or(PAGE_RECORDS_MAX);
        if limit == 0 || limit > PAGE_RECORDS_MAX {
            return Err(PageError::Limit(limit));
        }
        let from = from.unwrap_or(0);
        if from > POSITION_MAX {
            return Err(PageError::From(from));
        }
        Ok(Page { from, limit })
    }

    /// The page of `items` (in log order, each with its position) and the next position.
    pub fn take<T>(&self, items: impl IntoIterator<Item = (u64, T)>) -> (Vec<T>, Option<u64>) {
        let mut out = Vec::new();
        for (seq, item) in items.into_iter().filter(|(seq, _)| *seq >= self.from) {
            if out.len() as u64 == self.limit {
                return (out, Some(seq));
            }
            out.push(item);
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_every_item_once() {
        let items: Vec<(u64, u64)> = [3, 5, 9, 12, 40].iter().map(|&s| (s, s)).collect();
        let p = Page::new(Some(4), Some(2)).unwrap();
        assert_eq!(p.take(items.clone()), (vec![5, 9], Some(12)));
        let p = Page::new(Some(12), Some(2)).unwrap();
        assert_eq!(p.take(items.clone()), (vec![12, 40], None));
        let p = Page::new(None, None).unwrap();
        assert_eq!(p.take(items), (vec![3, 5, 9, 12, 40], None));
        assert_eq!(Page::new(None, Some(0)), Err(PageError::Limit(0)));
        assert_eq!(Page::new(None, Some(PAGE_RECORDS_MAX + 1)), Err(PageError::Limit(PAGE_RECORDS_MAX + 1)));
        assert_eq!(Page::new(Some(POSITION_MAX), None).map(|p| p.from), Ok(POSITION_MAX));
        assert_eq!(Page::new(Some(POSITION_MAX + 1), None), Err(PageError::From(POSITION_MAX + 1)));
    }
}
