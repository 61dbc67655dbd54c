//! Exact non-negative decimals for costs and budgets.

use std::fmt;
use std::str::FromStr;

use num_bigint::BigUint;

/// Largest number of decimals a [`Cost`] may have.
pub const MAX_SCALE: u32 = 18;

/// An exact non-negative decimal amount (a project cost or the budget), kept
/// as `units / 10^scale` with no trailing zero decimals, so that equal values
/// compare equal. Parsed from `"1200000"`, `"100.5"` or `"100,5"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cost {
    units: u128,
    scale: u32,
}

/// Why a decimal string was refused (the caller adds context).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// Not digits with at most one decimal mark.
    #[error("expected a decimal")]
    NotDecimal,
    /// A minus sign.
    #[error("expected a non-negative decimal")]
    Negative,
    /// Too many digits.
    #[error("too many digits")]
    TooLarge,
}

impl Cost {
    /// Zero.
    pub const ZERO: Cost = Cost { units: 0, scale: 0 };

    /// `units / 10^scale`; `None` when `scale` is above [`MAX_SCALE`].
    pub fn new(units: u128, scale: u32) -> Option<Cost> {
        if scale > MAX_SCALE {
            return None;
        }
        let (mut units, mut scale) = (units, scale);
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        Some(Cost { units, scale })
    }

    /// A whole amount.
    pub fn from_integer(v: u64) -> Cost {
        Cost { units: v as u128, scale: 0 }
    }

    /// The digits as an integer: the value is `units() / 10^scale()`.
    pub fn units(&self) -> u128 {
        self.units
    }

    /// Number of decimals (no trailing zeros).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.units == 0
    }

    /// The value times `10^scale` as an integer, for `scale >= self.scale()`.
    pub(crate) fn scaled_biguint(&self, scale: u32) -> BigUint {
        BigUint::from(self.units) * num_traits::pow(BigUint::from(10u32), (scale - self.scale) as usize)
    }

    /// Parses a non-negative decimal; `,` or `.` as the decimal mark,
    /// surrounding blanks ignored.
    pub fn parse(s: &str) -> Result<Cost, CostError> {
        let s = s.trim();
        let s = s.strip_prefix('+').unwrap_or(s);
        if let Some(rest) = s.strip_prefix('-') {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') {
                // "-0" is still refused: costs are written without sign.
                return Err(CostError::Negative);
            }
            return Err(CostError::NotDecimal);
        }
        let (int, frac) = match s.find(['.', ',']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(CostError::NotDecimal);
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CostError::NotDecimal);
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > MAX_SCALE as usize {
            return Err(CostError::TooLarge);
        }
        let mut units: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            units = units.checked_mul(10).and_then(|u| u.checked_add((b - b'0') as u128)).ok_or(CostError::TooLarge)?;
        }
        // Keep headroom so that scaled values stay far from the u128 limit.
        if units > (1u128 << 100) {
            return Err(CostError::TooLarge);
        }
        Cost::new(units, frac.len() as u32).ok_or(CostError::TooLarge)
    }
}

impl FromStr for Cost {
    type Err = CostError;
    fn from_str(s: &str) -> Result<Cost, CostError> {
        Cost::parse(s)
    }
}

impl PartialOrd for Cost {
    fn partial_cmp(&self, other: &Cost) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cost {
    fn cmp(&self, other: &Cost) -> std::cmp::Ordering {
        let s = self.scale.max(other.scale);
        self.scaled_biguint(s).cmp(&other.scaled_biguint(s))
    }
}

impl fmt::Display for Cost {
    /// Plain decimal with `.` as the mark and no trailing zeros: `"100.5"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::rational::with_point(self.units.to_string(), self.scale as usize))
    }
}
