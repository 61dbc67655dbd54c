//! Dissolution (SPEC §4.2): the available balance is owed to the contributors
//! in proportion to their confirmed contributions, to the cent. Each share is
//! first rounded down to the cent; the cents left over go one each to the
//! largest remainders, ties by member id; so the parts sum exactly to the whole.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{EntryId, MemberId, Seq};
use crate::money::{Balance, MoneyError};
use crate::time::Timestamp;

/// What one contributor gets back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Its confirmed contributions to the fund.
    pub contributed: Balance,
    /// Its share of the balance (plus anything it sent that was confirmed after the end).
    pub owed: Balance,
    /// Requested in disbursements not reversed (pending or executed).
    pub requested: Balance,
    /// Paid out (executed disbursements).
    pub paid: Balance,
}

/// A fund's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dissolution {
    /// The passed dissolution proposal: the `allocation` of every refund disbursement.
    pub proposal: EntryId,
    /// The record that closed it.
    pub seq: Seq,
    /// When.
    pub at: Timestamp,
    /// The available balance at the end (with the budgets of the budgeting
    /// rounds it cancelled), shared out.
    pub pool: Balance,
    /// The refunds, by contributor.
    pub refunds: BTreeMap<MemberId, Refund>,
}

fn cents(b: Balance) -> i128 {
    let mut d = b.as_decimal();
    d.rescale(2);
    d.mantissa()
}

fn from_cents(c: i128) -> Result<Balance, MoneyError> {
    let d = Decimal::try_from_i128_with_scale(c, 2).map_err(|_| MoneyError::Overflow)?;
    Balance::new(d)
}

/// The weights of a dissolved fund's refunds: each member's confirmed
/// contributions; or, when nobody has any (a fund fed by income alone, or
/// every contribution returned by the bank), the members at the end, one
/// equal share each — so the pool always goes to someone, and the
/// dissolution can close (docs/DOMAIN.md, "Dissolution").
pub fn refund_weights(
    contributed: &BTreeMap<MemberId, Balance>,
    members: &BTreeSet<MemberId>,
) -> BTreeMap<MemberId, Balance> {
    if contributed.values().any(|w| !w.is_zero()) {
        return contributed.clone();
    }
    let one = Balance::new(Decimal::ONE).expect("one euro is a balance");
    members.iter().map(|m| (m.clone(), one)).collect()
}

/// Share `pool` among `weights` (confirmed contributions) pro rata, to the cent:
/// floors first, then one cent each to the largest remainders, ties by member id.
/// Members with a zero weight get nothing; the parts sum exactly to `pool`.
pub fn pro_rata(
    pool: Balance,
    weights: &BTreeMap<MemberId, Balance>,
) -> Result<BTreeMap<MemberId, Balance>, MoneyError> {
    let pool_c = cents(pool);
    if pool_c < 0 {
        return Err(MoneyError::Negative);
    }
    let total: i128 =
        weights.values().map(|w| cents(*w)).try_fold(0i128, |a, w| a.checked_add(w)).ok_or(MoneyError::Overflow)?;
    let mut shares: Vec<(&MemberId, i128, i128)> = Vec::with_capacity(weights.len());
    let mut given: i128 = 0;
    for (m, w) in weights {
        let w = cents(*w);
        if w < 0 {
            return Err(MoneyError::Negative);
        }
        let (floor, rem) = if total == 0 {
            (0, 0)
        } else {
            let p = pool_c.checked_mul(w).ok_or(MoneyError::Overflow)?;
            (p / total, p % total)
        };
        given += floor;
        shares.push((m, floor, rem));
    }
    let mut left = pool_c - given;
    if total == 0 && left > 0 {
        // Nobody to share with (see `refund_weights`).
        return Err(MoneyError::Negative);
    }
    // Largest remainder first; ties by member id (the BTreeMap order, kept by a stable sort).
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2));
    for i in order {
        if left == 0 {
            break;
        }
        if shares[i].2 > 0 || total == 0 {
            shares[i].1 += 1;
            left -= 1;
        }
    }
    shares.into_iter().map(|(m, c, _)| from_cents(c).map(|b| (m.clone(), b))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Balance {
        s.parse().unwrap()
    }
    fn m(s: &str) -> MemberId {
        s.parse().unwrap()
    }

    #[test]
    fn thirds_go_to_the_largest_remainder_then_member_id() {
        let w = BTreeMap::from([(m("ccc"), b("1.00")), (m("aaa"), b("1.00")), (m("bbb"), b("1.00"))]);
        let r = pro_rata(b("100.00"), &w).unwrap();
        assert_eq!(r[&m("aaa")], b("33.34"));
        assert_eq!(r[&m("bbb")], b("33.33"));
        assert_eq!(r[&m("ccc")], b("33.33"));
    }

    #[test]
    fn largest_remainder_wins_over_member_id() {
        // 10.00 over weights 1, 2: 3.333… and 6.666…: the odd cent goes to the 6.66 share.
        let w = BTreeMap::from([(m("aaa"), b("1.00")), (m("zzz"), b("2.00"))]);
        let r = pro_rata(b("10.00"), &w).unwrap();
        assert_eq!(r[&m("aaa")], b("3.33"));
        assert_eq!(r[&m("zzz")], b("6.67"));
    }

    #[test]
    fn zero_pool_and_zero_weights() {
        let w = BTreeMap::from([(m("aaa"), b("5.00")), (m("bbb"), b("0.00"))]);
        let r = pro_rata(b("0.00"), &w).unwrap();
        assert!(r.values().all(Balance::is_zero));
        let r = pro_rata(b("3.00"), &w).unwrap();
        assert_eq!(r[&m("aaa")], b("3.00"));
        assert_eq!(r[&m("bbb")], b("0.00"));
    }

    /// Found by the `apply` fuzz target: a fund whose only confirmed money
    /// was income had no contributor to refund, so its dissolution's close
    /// was refused (`money_overflow`) and stayed due for ever.
    #[test]
    fn without_contributions_the_members_share_equally() {
        let members = BTreeSet::from([m("aaa"), m("bbb"), m("ccc")]);
        let none = BTreeMap::from([(m("aaa"), b("0.00"))]);
        let w = refund_weights(&none, &members);
        assert_eq!(w.len(), 3);
        let r = pro_rata(b("100.00"), &w).unwrap();
        assert_eq!(r[&m("aaa")], b("33.34"));
        assert_eq!(r[&m("ccc")], b("33.33"));
        assert!(pro_rata(b("100.00"), &none).is_err(), "nobody to share with");
        let some = BTreeMap::from([(m("aaa"), b("0.00")), (m("bbb"), b("5.00"))]);
        assert_eq!(refund_weights(&some, &members), some, "contributions weigh when there are any");
    }

    proptest::proptest! {
        #[test]
        fn parts_sum_exactly(pool in 0i64..10_000_000, ws in proptest::collection::vec(0i64..1_000_000, 1..12)) {
            let weights: BTreeMap<MemberId, Balance> = ws.iter().enumerate()
                .map(|(i, w)| (format!("member-{i:02}").parse().unwrap(), Balance::new(Decimal::new(*w, 2)).unwrap())).collect();
            let total: i64 = ws.iter().sum();
            let pool = if total == 0 { 0 } else { pool };
            let r = pro_rata(Balance::new(Decimal::new(pool, 2)).unwrap(), &weights).unwrap();
            let sum: i128 = r.values().map(|v| cents(*v)).sum();
            proptest::prop_assert_eq!(sum, pool as i128);
            for (m, v) in &r {
                // Each share is within one cent of the exact share.
                let w = cents(weights[m]);
                let exact_num = pool as i128 * w;
                let lo = exact_num / total.max(1) as i128;
                proptest::prop_assert!(cents(*v) == lo || cents(*v) == lo + 1);
            }
        }
    }
}
