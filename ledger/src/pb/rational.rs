//! Exact rational arithmetic for the budgeting rules.
//!
//! [`Rational`] is the public exact value handed out in outcomes.

use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

// ---------------------------------------------------------------------------
// Public exact value
// ---------------------------------------------------------------------------

/// An exact rational number, as handed out in outcomes (amounts in currency
/// units, e.g. euros). `Display` prints the reduced fraction (`"7/3"`, or
/// `"12"` for an integer); [`Rational::to_decimal`] rounds it for people.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rational(BigRational);

impl Rational {
    /// Wraps a big rational (already reduced by construction).
    pub fn from_big(v: BigRational) -> Rational {
        Rational(v)
    }

    /// `num / den` reduced (`den > 0`); fast when both fit in 128 bits.
    pub(crate) fn from_parts(num: &BigUint, den: &BigUint) -> Rational {
        if let (Ok(n), Ok(d)) = (u128::try_from(num), u128::try_from(den)) {
            assert!(d != 0, "zero denominator");
            let g = n.gcd(&d);
            return Rational(BigRational::new_raw(BigInt::from(n / g), BigInt::from(d / g)));
        }
        Rational(BigRational::new(BigInt::from(num.clone()), BigInt::from(den.clone())))
    }

    /// The integer `v`.
    pub fn from_integer(v: i128) -> Rational {
        Rational(BigRational::from_integer(BigInt::from(v)))
    }

    /// `n / d`; `None` when `d` is zero.
    pub fn new(n: i128, d: i128) -> Option<Rational> {
        if d == 0 {
            return None;
        }
        Some(Rational(BigRational::new(BigInt::from(n), BigInt::from(d))))
    }

    /// The underlying big rational.
    pub fn as_big(&self) -> &BigRational {
        &self.0
    }

    /// Numerator of the reduced fraction.
    pub fn numer(&self) -> &BigInt {
        self.0.numer()
    }

    /// Denominator of the reduced fraction (positive).
    pub fn denom(&self) -> &BigInt {
        self.0.denom()
    }

    /// Whether the value is an integer.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    /// The value rounded half away from zero to `places` decimals, e.g.
    /// `"392.21"`; exact integer arithmetic, no floating point.
    pub fn to_decimal(&self, places: u32) -> String {
        if let Some(s) = self.to_decimal_small(places) {
            return s;
        }
        let ten_p = num_traits::pow(BigInt::from(10u32), places as usize);
        let n = self.0.numer() * &ten_p;
        let d = self.0.denom().clone();
        let neg = n.sign() == Sign::Minus;
        let n = n.abs();
        let (q, r) = n.div_rem(&d);
        let q = if (r * 2u32) >= d { q + BigInt::one() } else { q };
        let digits = q.to_string();
        let body = with_point(digits, places as usize);
        if neg && body.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            format!("-{body}")
        } else {
            body
        }
    }
}

/// The decimal digits of an integer count of 10^-places units, with the point
/// put in (and a leading zero when needed): `("5", 2)` → `"0.05"`.
fn with_point(digits: String, places: usize) -> String {
    if places == 0 {
        return digits;
    }
    let padded =
        if digits.len() <= places { format!("{}{}", "0".repeat(places + 1 - digits.len()), digits) } else { digits };
    let (int, frac) = padded.split_at(padded.len() - places);
    format!("{int}.{frac}")
}

impl Rational {
    /// [`Rational::to_decimal`] in machine integers, when everything fits.
    fn to_decimal_small(&self, places: u32) -> Option<String> {
        let n = i128::try_from(self.0.numer()).ok()?;
        let d = i128::try_from(self.0.denom()).ok()?;
        let p = 10i128.checked_pow(places)?;
        let scaled = n.unsigned_abs().checked_mul(p as u128)?;
        let (q, r) = (scaled / d as u128, scaled % d as u128);
        let q = if r.checked_mul(2)? >= d as u128 { q.checked_add(1)? } else { q };
        let digits = q.to_string();
        let body = with_point(digits, places as usize);
        Some(if n < 0 && q != 0 { format!("-{body}") } else { body })
    }

    /// Whether the value has a finite decimal expansion, and how many
    /// decimals it needs.
    pub(crate) fn decimal_places(&self) -> Option<u32> {
        let mut d = self.0.denom().magnitude().clone();
        let twos = d.trailing_zeros().unwrap_or(0);
        d >>= twos as usize;
        let mut fives = 0u64;
        if let Ok(mut small) = u128::try_from(&d) {
            while small > 1 && small % 5 == 0 {
                small /= 5;
                fives += 1;
            }
            return (small == 1).then(|| twos.max(fives) as u32);
        }
        let five = BigUint::from(5u32);
        while d > BigUint::from(1u32) && (&d % &five).is_zero() {
            d /= &five;
            fives += 1;
        }
        (d == BigUint::from(1u32)).then(|| twos.max(fives) as u32)
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_integer() {
            write!(f, "{}", self.0.numer())
        } else {
            write!(f, "{}/{}", self.0.numer(), self.0.denom())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_display() {
        let r = Rational::new(24186815, 61668).expect("nonzero");
        assert_eq!(r.to_decimal(2), "392.21");
        assert_eq!(Rational::new(-1, 3).expect("nonzero").to_decimal(2), "-0.33");
        assert_eq!(Rational::new(-1, 1000).expect("nonzero").to_decimal(2), "0.00");
        assert_eq!(Rational::new(5, 2).expect("nonzero").to_decimal(0), "3");
        assert_eq!(Rational::new(1, 200).expect("nonzero").to_decimal(2), "0.01");
        assert_eq!(r.to_string(), "24186815/61668");
        assert_eq!(Rational::from_integer(12).to_string(), "12");
    }
}
