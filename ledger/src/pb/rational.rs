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
    /// `num / den` reduced (`den > 0`).
    pub(crate) fn from_parts(num: &BigUint, den: &BigUint) -> Rational {
        Rational(BigRational::new(BigInt::from(num.clone()), BigInt::from(den.clone())))
    }

    /// The underlying big rational.
    pub fn as_big(&self) -> &BigRational {
        &self.0
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
pub(crate) fn with_point(digits: String, places: usize) -> String {
    if places == 0 {
        return digits;
    }
    let padded =
        if digits.len() <= places { format!("{}{}", "0".repeat(places + 1 - digits.len()), digits) } else { digits };
    let (int, frac) = padded.split_at(padded.len() - places);
    format!("{int}.{frac}")
}

impl Rational {
    /// Whether the value has a finite decimal expansion, and how many
    /// decimals it needs.
    pub(crate) fn decimal_places(&self) -> Option<u32> {
        let mut d = self.0.denom().magnitude().clone();
        let twos = d.trailing_zeros().unwrap_or(0);
        d >>= twos as usize;
        let mut fives = 0u64;
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
