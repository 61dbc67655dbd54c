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
