//! Numbers and times as each language writes them: `€ 1.234,56` and
//! Amsterdam time in Dutch, `€1,234.56` in English (also Amsterdam time,
//! with its zone named, as the funds are Amsterdam's).

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Amsterdam;
use rust_decimal::Decimal;

use crate::Lang;

/// `d` with two decimals and grouped thousands, the sign in front: `1.234,56`
/// (nl) or `1,234.56` (en).
pub fn number2(lang: Lang, d: Decimal) -> String {
    let plain = ledger::money::two_decimals(d);
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let (group, point) = match lang {
        Lang::Nl => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut out = String::with_capacity(int.len() + int.len() / 3 + 4);
    if neg {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    out.push(point);
    out.push_str(frac);
    out
}

/// An amount of euros: `€ 1.234,56` (nl), `€1,234.56` (en); negative
/// `€ -1.234,56` (nl), `-€1,234.56` (en).
pub fn euro(lang: Lang, d: Decimal) -> String {
    let n = number2(lang, d);
    match lang {
        Lang::Nl => format!("€ {n}"),
        Lang::En => match n.strip_prefix('-') {
            Some(rest) => format!("-€{rest}"),
            None => format!("€{n}"),
        },
    }
}

/// A decimal fraction as a percentage, at most two decimals: `66,67%` (nl), `66.67%` (en).
pub fn percent(lang: Lang, d: Decimal) -> String {
    let p = (d * Decimal::ONE_HUNDRED).round_dp(2).normalize();
    let s = p.to_string();
    match lang {
        Lang::Nl => format!("{}%", s.replace('.', ",")),
        Lang::En => format!("{s}%"),
    }
}

/// A plain decimal (no grouping), at most `dp` decimals, in the language's decimal sign.
pub fn decimal(lang: Lang, d: Decimal, dp: u32) -> String {
    let s = d.round_dp(dp).normalize().to_string();
    match lang {
        Lang::Nl => s.replace('.', ","),
        Lang::En => s,
    }
}

/// An exact amount of euros as the ledger writes it (`"700/3"`, `"500"`,
/// `"1200.5"`): the amount rounded to cents in the language's way, and, when
/// that is not exact, the exact fraction too (`None` if `s` is no number).
pub fn exact_euro(lang: Lang, s: &str) -> Option<(String, Option<String>)> {
    use num_bigint::BigInt;
    use num_traits::{Signed, ToPrimitive, Zero};
    let v: num_rational::BigRational = match s.split_once('.') {
        Some(_) => {
            let d = Decimal::from_str_exact(s).ok()?;
            num_rational::BigRational::new(BigInt::from(d.mantissa()), BigInt::from(10u32).pow(d.scale()))
        }
        None => s.parse().ok()?,
    };
    let cents = v * BigInt::from(100u32);
    let (whole, rest) = (cents.numer() / cents.denom(), cents.numer() % cents.denom());
    // Half away from zero.
    let up = (rest.abs() * BigInt::from(2u32)) >= *cents.denom();
    let rounded = if up { whole + BigInt::from(if cents.is_negative() { -1 } else { 1 }) } else { whole };
    let amount = euro(lang, Decimal::try_from_i128_with_scale(rounded.to_i128()?, 2).ok()?);
    Some((amount, (!rest.is_zero()).then(|| s.to_string())))
}

/// A moment in Amsterdam time: `6-12-2026 21:58` (nl), `6 Dec 2026 21:58 CET` (en).
pub fn time(lang: Lang, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Amsterdam);
    match lang {
        Lang::Nl => local.format("%-d-%-m-%Y %H:%M").to_string(),
        Lang::En => local.format("%-d %b %Y %H:%M %Z").to_string(),
    }
}

/// A calendar day: `6-12-2026` (nl), `6 Dec 2026` (en).
pub fn date(lang: Lang, d: chrono::NaiveDate) -> String {
    match lang {
        Lang::Nl => d.format("%-d-%-m-%Y").to_string(),
        Lang::En => d.format("%-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn exact_amounts_round_to_cents_and_keep_the_fraction() {
        assert_eq!(exact_euro(Lang::Nl, "700/3"), Some(("€ 233,33".into(), Some("700/3".into()))));
        assert_eq!(exact_euro(Lang::En, "2000/3"), Some(("€666.67".into(), Some("2000/3".into()))));
        assert_eq!(exact_euro(Lang::Nl, "500"), Some(("€ 500,00".into(), None)));
        assert_eq!(exact_euro(Lang::En, "1001/2"), Some(("€500.50".into(), None)));
        assert_eq!(exact_euro(Lang::En, "1/200"), Some(("€0.01".into(), Some("1/200".into()))));
        assert_eq!(exact_euro(Lang::Nl, "1234.5"), Some(("€ 1.234,50".into(), None)));
        assert_eq!(exact_euro(Lang::Nl, "twelve"), None);
    }

    #[test]
    fn euros_are_written_as_each_language_writes_them() {
        assert_eq!(euro(Lang::Nl, d("1234.56")), "€ 1.234,56");
        assert_eq!(euro(Lang::En, d("1234.56")), "€1,234.56");
        assert_eq!(euro(Lang::Nl, d("1234567.5")), "€ 1.234.567,50");
        assert_eq!(euro(Lang::En, d("-1234567.5")), "-€1,234,567.50");
        assert_eq!(euro(Lang::Nl, d("-0.5")), "€ -0,50");
        assert_eq!(euro(Lang::Nl, d("0")), "€ 0,00");
        assert_eq!(euro(Lang::En, d("999")), "€999.00");
        assert_eq!(euro(Lang::En, d("100000")), "€100,000.00");
    }

    #[test]
    fn times_are_amsterdam_time() {
        let winter = DateTime::parse_from_rfc3339("2026-12-06T21:58:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(time(Lang::Nl, winter), "6-12-2026 22:58");
        assert_eq!(time(Lang::En, winter), "6 Dec 2026 22:58 CET");
        let summer = DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(time(Lang::Nl, summer), "1-7-2026 12:00");
        assert_eq!(time(Lang::En, summer), "1 Jul 2026 12:00 CEST");
    }

    #[test]
    fn fractions_as_percentages() {
        assert_eq!(percent(Lang::Nl, d("0.6667")), "66,67%");
        assert_eq!(percent(Lang::En, d("0.5")), "50%");
        assert_eq!(decimal(Lang::Nl, d("2.5000"), 4), "2,5");
    }
}
