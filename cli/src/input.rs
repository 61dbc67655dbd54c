//! Values as people type them on a command line: amounts (`12,50`, `€ 12,50`),
//! deadlines (`2026-12-01`, `+14d`, RFC 3339) and entry ids (a unique prefix of
//! at least 8 hex characters, as git takes). Each is turned into the exact
//! value that will be signed, and that value is echoed on stderr so the user
//! sees what the ledger will record.

use anyhow::anyhow;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use ledger::ids::EntryId;
use ledger::money::Amount;
use ledger::time::Timestamp;
use serde_json::Value;

use crate::client::Client;
use crate::exit::{CmdError, CmdResult, InputContext};

/// The shortest entry-id prefix taken.
pub const MIN_PREFIX: usize = 8;

/// `flag`'s amount as typed (`12`, `12.5`, `12,50`, `€ 12,50`), echoed on
/// stderr as the canonical amount that will be signed (`amount: 12.50`).
pub fn amount(flag: &str, text: &str) -> CmdResult<Amount> {
    let a = Amount::parse_typed(text).input_ctx(flag)?;
    eprintln!("{}: {a}", flag.trim_start_matches('-'));
    Ok(a)
}

/// A deadline: RFC 3339 UTC, `+N` with a unit `s`, `m`, `h` or `d` from `now`,
/// or a plain date `YYYY-MM-DD`, meaning the end of that day in Amsterdam
/// (23:59:59 CET or CEST). Echoed on stderr with what it means.
pub fn deadline(flag: &str, text: &str, now: DateTime<Utc>) -> CmdResult<Timestamp> {
    let (t, said) = when(text, now).input_ctx(flag)?;
    eprintln!("{}: {said}", flag.trim_start_matches('-'));
    Ok(t)
}

/// [`deadline`] without the echo: the timestamp and a sentence saying what it is.
pub fn when(text: &str, now: DateTime<Utc>) -> anyhow::Result<(Timestamp, String)> {
    let bad = || {
        anyhow!(
            "{text:?} is not a date (2026-12-01: the end of that day, Amsterdam time), an RFC 3339 UTC time \
             (2026-12-01T12:00:00Z) nor +N with s, m, h or d (+90s, +2h, +14d)"
        )
    };
    if let Some(rel) = text.strip_prefix('+') {
        let split = rel.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = rel.split_at(split);
        let n: i64 = n.parse().map_err(|_| bad())?;
        let secs = match unit {
            "s" => Some(n),
            "m" => n.checked_mul(60),
            "h" => n.checked_mul(3600),
            "d" => n.checked_mul(86_400),
            _ => None,
        }
        .ok_or_else(bad)?;
        let delta = TimeDelta::try_seconds(secs).ok_or_else(bad)?;
        let t = Timestamp::from_instant(now.checked_add_signed(delta).ok_or_else(bad)?);
        let said = t.to_string();
        return Ok((t, said));
    }
    if text.len() == 10 {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
        let (t, zone) = end_of_day_amsterdam(day).ok_or_else(bad)?;
        let said = format!("{t} (the end of {day}, 23:59:59 Europe/Amsterdam, {zone})");
        return Ok((t, said));
    }
    let t: Timestamp = text.parse().map_err(|_| bad())?;
    let said = t.to_string();
    Ok((t, said))
}

/// 23:59:59 on `day` in Europe/Amsterdam as a UTC timestamp, and the zone's
/// name then (`CET` or `CEST`).
pub fn end_of_day_amsterdam(day: NaiveDate) -> Option<(Timestamp, &'static str)> {
    let local = day.and_time(NaiveTime::from_hms_opt(23, 59, 59)?).and_utc();
    // The EU rule switches at 01:00 UTC, so the state at the day's noon is its state at the day's end.
    let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0)?).and_utc();
    let (hours, zone) = if summer_time(noon) { (2, "CEST") } else { (1, "CET") };
    Some((Timestamp::from_instant(local.checked_sub_signed(TimeDelta::try_hours(hours)?)?), zone))
}

/// Whether `t` falls in EU summer time: from the last Sunday of March to the
/// last Sunday of October, each at 01:00 UTC.
pub fn summer_time(t: DateTime<Utc>) -> bool {
    let y = t.year();
    let switch = |month: u32| -> Option<DateTime<Utc>> {
        let last = NaiveDate::from_ymd_opt(y, month, 31)?;
        let back = last.weekday().num_days_from_sunday();
        let sunday = last.checked_sub_signed(TimeDelta::try_days(i64::from(back))?)?;
        debug_assert_eq!(sunday.weekday(), Weekday::Sun);
        Some(sunday.and_time(NaiveTime::from_hms_opt(1, 0, 0)?).and_utc())
    };
    match (switch(3), switch(10)) {
        (Some(start), Some(end)) => t >= start && t < end,
        _ => false,
    }
}

/// An entry id as typed: 64 hex characters, or a unique prefix of at least
/// [`MIN_PREFIX`] looked up in the server's log. An ambiguous prefix is
/// refused with the entries it matches.
pub fn entry_id(server: &str, flag: &str, text: &str) -> CmdResult<EntryId> {
    let t = text.trim().to_ascii_lowercase();
    if t.len() == 64 {
        return t.parse().input_ctx(format!("{flag} {text}"));
    }
    if t.len() < MIN_PREFIX || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CmdError::input(anyhow!(
            "{flag} {text:?}: an entry id is 64 hex characters, or a unique prefix of at least {MIN_PREFIX} of them"
        )));
    }
    let client = Client::new(server)?;
    let matches = prefix_matches(&client, &t)?;
    pick(flag, &t, matches)
}

/// One entry a prefix matches: its id, kind and record position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The full id.
    pub id: String,
    /// The entry's kind.
    pub kind: String,
    /// The record's position.
    pub seq: u64,
}

/// Every entry of the log whose id starts with `prefix`.
fn prefix_matches(client: &Client, prefix: &str) -> CmdResult<Vec<Match>> {
    let mut out = Vec::new();
    let mut from = 0u64;
    loop {
        let page = client.get_json(&format!("/v1/entries?from={from}"))?;
        for r in page["entries"].as_array().into_iter().flatten() {
            let id = r["id"].as_str().unwrap_or_default();
            if id.starts_with(prefix) {
                out.push(Match {
                    id: id.to_string(),
                    kind: r["entry"]["kind"].as_str().unwrap_or("?").to_string(),
                    seq: r["seq"].as_u64().unwrap_or_default(),
                });
            }
        }
        match page["next"].as_u64().filter(|n| *n > from) {
            Some(n) => from = n,
            None => return Ok(out),
        }
    }
}

/// The one match, or an error naming none or all of them.
fn pick(flag: &str, prefix: &str, matches: Vec<Match>) -> CmdResult<EntryId> {
    match matches.as_slice() {
        [] => Err(CmdError::refused(anyhow!("{flag} {prefix}: no entry id in the log starts with {prefix}"))),
        [one] => one.id.parse().input_ctx(format!("{flag} {prefix}")),
        many => {
            let list: Vec<String> = many.iter().map(|m| format!("  {} ({}, record {})", m.id, m.kind, m.seq)).collect();
            Err(CmdError::input(anyhow!(
                "{flag} {prefix} is ambiguous: {} entries start with it; give more characters:\n{}",
                many.len(),
                list.join("\n")
            )))
        }
    }
}

/// The Levenshtein distance between two short strings.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The ids among `known` nearest to `typed` (at most three, within a few edits).
pub fn nearest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = known.into_iter().map(|k| (distance(typed, k), k)).collect();
    scored.sort();
    let limit = (typed.chars().count() / 3).max(2);
    scored.into_iter().filter(|(d, _)| *d <= limit).take(3).map(|(_, k)| k.to_string()).collect()
}

/// The ids of a list page's items (`items` named `key`), e.g. the funds' ids.
pub fn ids_of(page: &Value, key: &str) -> Vec<String> {
    page[key].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn deadlines_absolute_relative_and_plain_dates() {
        let w = |t: &str| when(t, now()).map(|(t, _)| t.to_string());
        assert_eq!(w("2026-12-01T12:00:00Z").unwrap(), "2026-12-01T12:00:00Z");
        assert_eq!(w("+90s").unwrap(), "2026-11-27T12:01:30.000Z");
        assert_eq!(w("+14d").unwrap(), "2026-12-11T12:00:00.000Z");
        // Winter: CET, UTC+1; summer: CEST, UTC+2.
        assert_eq!(w("2026-12-01").unwrap(), "2026-12-01T22:59:59.000Z");
        assert_eq!(w("2026-07-01").unwrap(), "2026-07-01T21:59:59.000Z");
        let (_, said) = when("2026-12-01", now()).unwrap();
        assert!(said.contains("Europe/Amsterdam") && said.contains("CET"), "{said}");
        for bad in
            ["+", "+5", "+5w", "+-5s", "tomorrow", "2026-13-01", "2026-12-01T12:00:00+01:00", "+99999999999999999d"]
        {
            assert!(when(bad, now()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_eu_summer_time_rule() {
        let at = |s: &str| summer_time(s.parse().unwrap());
        // 2026: last Sunday of March is the 29th, of October the 25th.
        assert!(!at("2026-03-29T00:59:59Z"));
        assert!(at("2026-03-29T01:00:00Z"));
        assert!(at("2026-10-25T00:59:59Z"));
        assert!(!at("2026-10-25T01:00:00Z"));
        // 2027: March 28th, October 31st.
        assert!(at("2027-10-30T12:00:00Z"));
        assert!(!at("2027-03-27T12:00:00Z"));
        // The switching days themselves end in the new zone.
        assert_eq!(end_of_day_amsterdam("2026-03-29".parse().unwrap()).unwrap().1, "CEST");
        assert_eq!(end_of_day_amsterdam("2026-10-25".parse().unwrap()).unwrap().1, "CET");
        assert_eq!(end_of_day_amsterdam("2026-03-28".parse().unwrap()).unwrap().1, "CET");
    }

    #[test]
    fn a_prefix_picks_one_or_names_all() {
        let m = |id: &str, seq| Match { id: id.to_string(), kind: "proposal".into(), seq };
        let a = format!("abcdef01{}", "0".repeat(56));
        let b = format!("abcdef01{}", "1".repeat(56));
        assert_eq!(pick("--proposal", "abcdef01", vec![m(&a, 3)]).unwrap().to_hex(), a);
        let e = pick("--proposal", "abcdef01", vec![m(&a, 3), m(&b, 9)]).unwrap_err();
        let text = format!("{:#}", e.error);
        assert!(
            text.contains("ambiguous") && text.contains(&a) && text.contains(&b) && text.contains("record 9"),
            "{text}"
        );
        assert!(pick("--proposal", "abcdef01", vec![]).is_err());
        assert!(entry_id("http://127.0.0.1:1", "--proposal", "abc").is_err(), "too short");
        assert!(entry_id("http://127.0.0.1:1", "--proposal", "zzzzzzzzz").is_err(), "not hex");
    }

    #[test]
    fn nearest_ids() {
        let known = ["warmtefonds-noord", "voedselbank-oost", "zorgfonds-west"];
        assert_eq!(nearest("warmtefond-noord", known), vec!["warmtefonds-noord"]);
        assert!(nearest("something-else-entirely", known).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
