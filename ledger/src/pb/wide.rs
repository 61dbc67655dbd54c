//! 256-bit products of `u128`, for exact comparisons without big integers.

/// Full product of two `u128`, as `(high, low)`; tuples compare as the
/// 256-bit value.
#[inline]
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    // One factor below 2^64 (the common case: a count or a small cost):
    // two 64-bit products instead of four.
    let (a, b) = if a >> 64 == 0 { (b, a) } else { (a, b) };
    if b >> 64 == 0 {
        let p0 = (a & M) * b;
        let p1 = (a >> 64) * b;
        let (low, carry) = p0.overflowing_add(p1 << 64);
        return ((p1 >> 64) + carry as u128, low);
    }
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // middle = p01 + p10 + (p00 >> 64), with up to two carries past 128 bits.
    let (mid, c1) = p01.overflowing_add(p10);
    let (mid, c2) = mid.overflowing_add(p00 >> 64);
    let carry = (c1 as u128) + (c2 as u128);
    let low = (mid << 64) | (p00 & M);
    let high = p11 + (mid >> 64) + (carry << 64);
    (high, low)
}

/// `an / ad` against `bn / bd` (positive denominators), as `an · bd`
/// against `bn · ad`: one machine product each when every value fits in
/// 64 bits.
#[inline]
pub(crate) fn cmp_frac(an: u128, ad: u128, bn: u128, bd: u128) -> std::cmp::Ordering {
    if (an | ad | bn | bd) >> 64 == 0 {
        ((an as u64 as u128) * (bd as u64 as u128)).cmp(&((bn as u64 as u128) * (ad as u64 as u128)))
    } else {
        mul_wide(an, bd).cmp(&mul_wide(bn, ad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    #[test]
    fn products_are_exact() {
        let vals = [0u128, 1, 3, u64::MAX as u128, (u64::MAX as u128) + 1, u128::MAX, u128::MAX / 3, 1 << 127];
        for &a in &vals {
            for &b in &vals {
                let (h, l) = mul_wide(a, b);
                let got = (BigUint::from(h) << 128u32) + BigUint::from(l);
                assert_eq!(got, BigUint::from(a) * BigUint::from(b), "{a} * {b}");
            }
        }
        for &a in &vals {
            for &b in &vals {
                for &c in &vals {
                    for &d in &vals {
                        assert_eq!(cmp_frac(a, b, c, d), mul_wide(a, d).cmp(&mul_wide(c, b)), "{a}/{b} vs {c}/{d}");
                    }
                }
            }
        }
    }
}
