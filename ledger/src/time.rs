//! Timestamps and dates as they appear in entries and records.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Timelike, Utc};
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

/// An instant, RFC 3339 UTC with a `Z`; keeps the exact text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    instant: DateTime<Utc>,
    text: String,
}

impl Timestamp {
    /// A timestamp for `instant`, written with milliseconds (as the server writes `received_at`).
    pub fn from_instant(instant: DateTime<Utc>) -> Self {
        let text = instant.to_rfc3339_opts(SecondsFormat::Millis, true);
        let instant = DateTime::parse_from_rfc3339(&text).expect("just formatted as RFC 3339").with_timezone(&Utc);
        Timestamp { instant, text }
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
        let instant = DateTime::parse_from_rfc3339(s).map_err(|_| bad())?.with_timezone(&Utc);
        // A leap second (`:60`) parses here, but most other languages' parsers
        // refuse it, so an auditor could not read the entry: refused.
        if instant.nanosecond() >= 1_000_000_000 {
            return Err(bad());
        }
        Ok(Timestamp { instant, text: s.to_string() })
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
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
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
    fn dates() {
        assert_eq!("2026-02-28".parse::<Date>().unwrap().to_string(), "2026-02-28");
        for s in ["2026-02-30", "2026-2-28", "26-02-28", "2026-02-28T00:00:00Z", "+2026-02-2"] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }
}
