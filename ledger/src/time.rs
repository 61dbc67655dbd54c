//! Timestamps and dates as they appear in entries and records.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Timelike, Utc};
use compact_str::CompactString;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Why a timestamp or date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not RFC 3339 UTC with a `Z`.
    #[error("{0:?} is not an RFC 3339 UTC timestamp ending in 'Z' (e.g. \"2026-11-27T12:00:00Z\")")]
    BadTimestamp(String),
    /// Not `YYYY-MM-DD`.
    #[error("{0:?} is not a date of the form YYYY-MM-DD")]
    BadDate(String),
}

/// An instant, RFC 3339 UTC with a `Z`; keeps the exact text it was parsed from
/// (inline up to 24 bytes, as the server writes `received_at`: no allocation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    instant: DateTime<Utc>,
    text: CompactString,
}

impl Timestamp {
    /// A timestamp for `instant`, written with milliseconds (as the server writes `received_at`).
    pub fn from_instant(instant: DateTime<Utc>) -> Self {
        let text = instant.to_rfc3339_opts(SecondsFormat::Millis, true);
        let instant = DateTime::parse_from_rfc3339(&text).expect("just formatted as RFC 3339").with_timezone(&Utc);
        Timestamp { instant, text: CompactString::from(text) }
    }
    /// The instant.
    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The UTC calendar date.
    pub fn date(&self) -> NaiveDate {
        self.instant.date_naive()
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.instant.cmp(&other.instant).then_with(|| self.text.cmp(&other.text))
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadTimestamp(s.to_string());
        if !s.ends_with('Z') || s.len() > 40 || s.as_bytes().get(10) != Some(&b'T') {
            return Err(bad());
        }
        if let Some(instant) = canonical(s) {
            return Ok(Timestamp { instant, text: CompactString::from(s) });
        }
        let instant = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?.with_timezone(&Utc);
        // A leap second (`:60`) parses here, but most other languages' parsers
        // refuse it, so an auditor could not read the entry: refused.
        if instant.nanosecond() >= 1_000_000_000 {
            return Err(bad());
        }
        Ok(Timestamp { instant, text: CompactString::from(s) })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Parsed from the text as it is read, without a copy (a state snapshot holds millions).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(crate::ids::Parsed::<Timestamp>::new("an RFC 3339 UTC timestamp"))
    }
}

/// The instant of the two forms the server writes and most entries use,
/// `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.mmmZ`, read digit by
/// digit (a tenth of chrono's general parser); `None` for any other form or
/// an impossible date or time, which the general parser then judges.
fn canonical(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let millis = match b.len() {
        20 => false,
        24 if b[19] == b'.' => true,
        _ => return None,
    };
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(5, 7)?, num(8, 10)?)?;
    let (h, m, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let ms = if millis { num(20, 23)? } else { 0 };
    // Seconds up to 59 only: a leap second goes to the general parser (and is refused).
    if sec > 59 {
        return None;
    }
    let time = chrono::NaiveTime::from_hms_milli_opt(h, m, sec, ms)?;
    Some(date.and_time(time).and_utc())
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl FromStr for Date {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadDate(s.to_string());
        let b = s.as_bytes();
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            return Err(bad());
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Date).map_err(|_| bad())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for s in ["2026-11-27T12:00:00Z", "2026-11-27T12:00:01.123Z"] {
            assert_eq!(s.parse::<Timestamp>().unwrap().to_string(), s);
        }
        for s in [
            "2026-11-27T12:00:00+01:00",
            "2026-11-27 12:00:00Z",
            "2026-11-27T12:00:00",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
        ] {
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
        let t = Timestamp::from_instant(Utc::now());
        assert!(t.as_str().ends_with('Z'));
        assert_eq!(t.as_str().len(), 24);
    }

    #[test]
    fn the_fast_reader_agrees_with_chrono() {
        let general = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .filter(|t| t.nanosecond() < 1_000_000_000)
        };
        let mut n = 0u64;
        let mut digits = || {
            n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (n >> 33) as u32
        };
        let mut checked = 0;
        for i in 0..200_000u32 {
            // Mostly valid fields, some out of range, in both forms.
            let y = [2026, 2024, 1900, 2000, 9999, 0][(digits() % 6) as usize];
            let (mo, d) = (digits() % 14, digits() % 33);
            let (h, mi, se, ms) = (digits() % 26, digits() % 62, digits() % 62, digits() % 1000);
            let s = if i % 2 == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.{ms:03}Z")
            };
            let fast = canonical(&s);
            if fast.is_some() {
                checked += 1;
            }
            assert!(fast.is_none() || fast == general(&s), "{s}: {fast:?} {:?}", general(&s));
            assert_eq!(s.parse::<Timestamp>().ok().map(|t| t.instant()), general(&s), "{s}");
        }
        assert!(checked > 50_000, "the fast reader read only {checked}");
        for s in ["2026-11-27T12:00:00.12Z", "2026-11-27T12:00:00,123Z", "2026-11-27T12:00:0aZ", "2026-11-27t12:00:00Z"]
        {
            assert_eq!(canonical(s), None, "{s}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!("2026-02-28".parse::<Date>().unwrap().to_string(), "2026-02-28");
        for s in ["2026-02-30", "2026-2-28", "26-02-28", "2026-02-28T00:00:00Z", "+2026-02-2"] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }
}
