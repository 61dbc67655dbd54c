//! Money and fractions (SPEC §2): exact decimals in canonical string form.
//!
//! An [`Amount`] is strictly positive, has exactly two decimals on the wire and
//! is at most [`AMOUNT_MAX`]. A [`Balance`] is a sum of amounts that may be zero
//! or negative (bank balances, fund balances). A [`Fraction`] is a charter
//! fraction in [0, 1] with at most four decimals; a [`Ratio`] is a matching
//! ratio in (0, 10]. All arithmetic is checked: overflow is an error.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount one entry may carry: 1 000 000 000.00.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(100_000_000_000u64 as u32, 23, 0, false, 2);

/// Why a money or fraction string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not of the canonical form.
    #[error("{0:?} is not a canonical amount: digits, a point and exactly two decimals, no sign, no leading zeros (e.g. \"12.50\")")]
    NotCanonical(String),
    /// Zero where a positive amount is needed.
    #[error("amount must be greater than 0.00")]
    Zero,
    /// Above the maximum.
    #[error("{0} is above the maximum amount 1000000000.00")]
    TooLarge(String),
    /// A balance string of the wrong form.
    #[error("{0:?} is not a canonical balance: an optional '-', digits and exactly two decimals (e.g. \"-12.50\")")]
    NotCanonicalBalance(String),
    /// A fraction of the wrong form or out of range.
    #[error("{0:?} is not a fraction: a decimal string in [0, 1] with at most 4 decimals (e.g. \"0.5\")")]
    BadFraction(String),
    /// A ratio of the wrong form or out of range.
    #[error(
        "{0:?} is not a ratio: a decimal string greater than 0 and at most 10, with at most 4 decimals (e.g. \"1.0\")"
    )]
    BadRatio(String),
    /// Arithmetic overflowed.
    #[error("arithmetic overflow")]
    Overflow,
    /// Subtraction would go below zero.
    #[error("result would be negative")]
    Negative,
    /// An amount as a person typed it that cannot be read without guessing.
    #[error("{input:?} is not an amount: {reason}")]
    Unreadable {
        /// What was typed.
        input: String,
        /// Why it cannot be read, and how to write it.
        reason: &'static str,
    },
}

/// Parse `digits "." d d` with no leading zeros and no sign, into a Decimal with scale 2.
fn parse_two_decimals(s: &str) -> Option<Decimal> {
    let (int, frac) = s.split_once('.')?;
    if int.is_empty() || frac.len() != 2 || int.len() > 13 {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() > 1 && int.starts_with('0') {
        return None;
    }
    let int_v: i64 = int.parse().ok()?;
    let frac_v: i64 = frac.parse().ok()?;
    let cents = int_v.checked_mul(100)?.checked_add(frac_v)?;
    Some(Decimal::new(cents, 2))
}

/// A strictly positive euro amount with at most two decimals, at most [`AMOUNT_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    /// Make an amount from a decimal, checking range and scale.
    pub fn new(d: Decimal) -> Result<Self, MoneyError> {
        if d.scale() > 2 && d.normalize().scale() > 2 {
            return Err(MoneyError::NotCanonical(d.to_string()));
        }
        if d <= Decimal::ZERO {
            return Err(MoneyError::Zero);
        }
        if d > AMOUNT_MAX {
            return Err(MoneyError::TooLarge(d.to_string()));
        }
        let mut d = d;
        d.rescale(2);
        Ok(Amount(d))
    }
    /// The amount as a decimal (scale 2).
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }
}

impl FromStr for Amount {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let d = parse_two_decimals(s).ok_or_else(|| MoneyError::NotCanonical(s.to_string()))?;
        if d > AMOUNT_MAX {
            return Err(MoneyError::TooLarge(s.to_string()));
        }
        Amount::new(d)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Amount {
    /// Read an amount as people type it on a command line: `12`, `12.5`,
    /// `12,50`, `€ 12,50`, `12,50 EUR`. A point or a comma is the decimal
    /// separator when one or two digits follow it. Anything that needs a guess
    /// is refused with the reason: a separator followed by three digits
    /// (`1.000` is a thousand in Dutch and one in English), more than one
    /// separator (`1,000.50`, `1.000,50`), more than two decimals, a sign. The
    /// result is the canonical amount that will be signed.
    pub fn parse_typed(input: &str) -> Result<Amount, MoneyError> {
        let bad = |reason| MoneyError::Unreadable { input: input.to_string(), reason };
        let mut t = input.trim();
        for symbol in ["€", "EUR", "eur"] {
            if let Some(rest) = t.strip_prefix(symbol) {
                t = rest.trim_start();
            } else if let Some(rest) = t.strip_suffix(symbol) {
                t = rest.trim_end();
            }
        }
        if t.starts_with('-') || t.starts_with('+') {
            return Err(bad("an amount has no sign; it must be more than 0.00"));
        }
        if t.is_empty() {
            return Err(bad("no digits"));
        }
        if !t.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') {
            return Err(bad("only digits and one decimal point or comma, e.g. 12.50 or 12,50"));
        }
        let separators = t.bytes().filter(|&b| b == b'.' || b == b',').count();
        let (int, frac) = match separators {
            0 => (t, ""),
            1 => t.split_once(['.', ',']).expect("one separator is there"),
            _ => return Err(bad("thousands separators are ambiguous: write the amount without them, e.g. 1000.50")),
        };
        if int.is_empty() {
            return Err(bad("digits must come before the decimal separator, e.g. 0.50"));
        }
        match frac.len() {
            0 if separators == 1 => return Err(bad("digits must follow the decimal separator, e.g. 12.50")),
            3 => {
                return Err(bad("three digits after a point or comma could be a thousands separator or decimals: \
                     write 1000 or 1.00"))
            }
            n if n > 3 => return Err(bad("more than two decimals: amounts are in whole cents")),
            _ => {}
        }
        let int = int.trim_start_matches('0');
        let canonical = format!("{}.{:0<2}", if int.is_empty() { "0" } else { int }, frac);
        canonical.parse::<Amount>()
    }
}

/// A decimal sum of money written with exactly two decimals, and `0.00`
/// rather than `-0.00` (for statements, reports and journals).
pub fn two_decimals(d: Decimal) -> String {
    let mut d = d;
    d.rescale(2);
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d.to_string()
}

/// A sum of money that may be zero or negative, always shown with two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Balance(Decimal);

impl Balance {
    /// Zero euros.
    pub const ZERO: Balance = Balance(Decimal::ZERO);
    /// From a decimal with at most two decimals.
    pub fn new(d: Decimal) -> Result<Self, MoneyError> {
        let n = d.normalize();
        if n.scale() > 2 {
            return Err(MoneyError::NotCanonicalBalance(d.to_string()));
        }
        let mut d = d;
        d.rescale(2);
        Ok(Balance(d))
    }
    /// The balance as a decimal.
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }
    /// `self + other`, checked.
    pub fn checked_add(self, other: Balance) -> Result<Balance, MoneyError> {
        self.0.checked_add(other.0).map(Balance).ok_or(MoneyError::Overflow)
    }
    /// `self - other`, checked.
    pub fn checked_sub(self, other: Balance) -> Result<Balance, MoneyError> {
        self.0.checked_sub(other.0).map(Balance).ok_or(MoneyError::Overflow)
    }
    /// `self + amount`, checked.
    pub fn plus(self, a: Amount) -> Result<Balance, MoneyError> {
        self.checked_add(Balance::from(a))
    }
    /// `self - amount`, checked; refuses to go below zero.
    pub fn minus(self, a: Amount) -> Result<Balance, MoneyError> {
        let r = self.checked_sub(Balance::from(a))?;
        if r.is_negative() {
            return Err(MoneyError::Negative);
        }
        Ok(r)
    }
    /// Whether below zero.
    pub fn is_negative(&self) -> bool {
        self.0 < Decimal::ZERO
    }
    /// Whether exactly zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl From<Amount> for Balance {
    fn from(a: Amount) -> Balance {
        Balance(a.0)
    }
}

impl FromStr for Balance {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let (neg, rest) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let d = parse_two_decimals(rest).ok_or_else(|| MoneyError::NotCanonicalBalance(s.to_string()))?;
        if neg && d.is_zero() {
            return Err(MoneyError::NotCanonicalBalance(s.to_string()));
        }
        Ok(Balance(if neg { -d } else { d }))
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// Parse a decimal string of the form `digits[.digits]` with at most `max_scale` decimals.
fn parse_plain_decimal(s: &str, max_scale: usize) -> Option<Decimal> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || int.len() > 3 || frac.len() > max_scale || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() > 1 && int.starts_with('0') {
        return None;
    }
    Decimal::from_str(s).ok()
}

/// A charter fraction (quorum, threshold): a decimal in [0, 1], at most 4 decimals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fraction {
    value: Decimal,
    text: String,
}

impl Fraction {
    /// The fraction as a decimal.
    pub fn as_decimal(&self) -> Decimal {
        self.value
    }
}

impl FromStr for Fraction {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let d = parse_plain_decimal(s, 4).ok_or_else(|| MoneyError::BadFraction(s.to_string()))?;
        if d < Decimal::ZERO || d > Decimal::ONE {
            return Err(MoneyError::BadFraction(s.to_string()));
        }
        Ok(Fraction { value: d, text: s.to_string() })
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A matching ratio: a decimal in (0, 10], at most 4 decimals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio {
    value: Decimal,
    text: String,
}

impl Ratio {
    /// The ratio as a decimal.
    pub fn as_decimal(&self) -> Decimal {
        self.value
    }
}

impl FromStr for Ratio {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        let d = parse_plain_decimal(s, 4).ok_or_else(|| MoneyError::BadRatio(s.to_string()))?;
        if d <= Decimal::ZERO || d > Decimal::TEN {
            return Err(MoneyError::BadRatio(s.to_string()));
        }
        Ok(Ratio { value: d, text: s.to_string() })
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

macro_rules! string_serde {
    ($t:ty, $what:expr) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> de::Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

string_serde!(Amount, "an amount as a JSON string with two decimals, e.g. \"12.50\" (JSON numbers are refused)");
string_serde!(Balance, "a balance as a JSON string with two decimals, e.g. \"-12.50\"");
string_serde!(Fraction, "a fraction as a JSON string, e.g. \"0.5\"");
string_serde!(Ratio, "a ratio as a JSON string, e.g. \"1.0\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_amounts_accepted() {
        for s in ["12.50", "0.01", "1000000.00", "1000000000.00", "1.00"] {
            let a: Amount = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn non_canonical_amounts_refused() {
        for s in [
            "12.5",
            "1e3",
            "-1.00",
            "0.00",
            "12.345",
            "012.50",
            "+1.00",
            " 1.00",
            "1.00 ",
            "",
            ".50",
            "1.",
            "1000000000.01",
            "99999999999999.00",
            "1,00",
            "１.00",
        ] {
            assert!(s.parse::<Amount>().is_err(), "{s} accepted");
        }
    }

    #[test]
    fn json_number_refused() {
        let e = serde_json::from_str::<Amount>("12.5").unwrap_err().to_string();
        assert!(e.contains("JSON numbers are refused"), "{e}");
        assert!(serde_json::from_str::<Amount>("\"12.50\"").is_ok());
    }

    #[test]
    fn balances() {
        for s in ["0.00", "-12.50", "12.50"] {
            assert_eq!(s.parse::<Balance>().unwrap().to_string(), s);
        }
        for s in ["-0.00", "12.5", "--1.00", "1e2"] {
            assert!(s.parse::<Balance>().is_err(), "{s}");
        }
        let a: Amount = "1000000000.00".parse().unwrap();
        let mut b = Balance::ZERO;
        for _ in 0..1000 {
            b = b.plus(a).unwrap();
        }
        assert_eq!(b.to_string(), "1000000000000.00");
        assert_eq!(Balance::ZERO.minus(a), Err(MoneyError::Negative));
    }

    #[test]
    fn fractions_and_ratios() {
        for s in ["0", "1", "0.5", "0.6667", "1.0", "0.0001"] {
            assert!(s.parse::<Fraction>().is_ok(), "{s}");
        }
        for s in ["1.0001", "-0.5", "0.66667", ".5", "5.", "2", "0.5e0", "00.5"] {
            assert!(s.parse::<Fraction>().is_err(), "{s}");
        }
        for s in ["1.0", "10", "0.5", "2.5"] {
            assert!(s.parse::<Ratio>().is_ok(), "{s}");
        }
        for s in ["0", "0.0", "10.0001", "11", "-1"] {
            assert!(s.parse::<Ratio>().is_err(), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn amount_roundtrip(cents in 1i64..=100_000_000_000i64) {
            let d = Decimal::new(cents, 2);
            let a = Amount::new(d).unwrap();
            let s = a.to_string();
            let back: Amount = s.parse().unwrap();
            proptest::prop_assert_eq!(a, back);
        }

        #[test]
        fn amount_parse_never_panics(s in ".{0,20}") {
            let _ = s.parse::<Amount>();
            let _ = s.parse::<Balance>();
            let _ = s.parse::<Fraction>();
        }

        #[test]
        fn sums_are_exact(xs in proptest::collection::vec(1i64..=100_000_000_000i64, 0..50)) {
            let mut b = Balance::ZERO;
            let mut total: i128 = 0;
            for c in &xs {
                b = b.plus(Amount::new(Decimal::new(*c, 2)).unwrap()).unwrap();
                total += *c as i128;
            }
            proptest::prop_assert_eq!(b.as_decimal(), Decimal::from_i128_with_scale(total, 2));
        }
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;

    #[test]
    fn amounts_as_people_type_them() {
        for (typed, canonical) in [
            ("12", "12.00"),
            ("12.5", "12.50"),
            ("12,50", "12.50"),
            ("€ 12,50", "12.50"),
            ("€12,50", "12.50"),
            ("12,50 EUR", "12.50"),
            (" 0,01 ", "0.01"),
            ("007", "7.00"),
            ("1000000000", "1000000000.00"),
        ] {
            assert_eq!(Amount::parse_typed(typed).map(|a| a.to_string()), Ok(canonical.to_string()), "{typed}");
        }
    }

    #[test]
    fn ambiguous_amounts_refused_with_the_reason() {
        for (typed, says) in [
            ("1.000", "thousands separator"),
            ("1,000", "thousands separator"),
            ("1,000.50", "ambiguous"),
            ("1.000,50", "ambiguous"),
            ("12.345", "thousands separator"),
            ("12.3456", "whole cents"),
            ("-12.50", "sign"),
            ("12.", "follow"),
            (",50", "before"),
            ("12 50", "only digits"),
            ("twelve", "only digits"),
            ("", "no digits"),
            ("€", "no digits"),
        ] {
            let e = Amount::parse_typed(typed).unwrap_err().to_string();
            assert!(e.contains(says), "{typed:?}: {e}");
        }
        assert_eq!(Amount::parse_typed("0"), Err(MoneyError::Zero));
        assert!(matches!(Amount::parse_typed("1000000000,01"), Err(MoneyError::TooLarge(_))));
    }
}
