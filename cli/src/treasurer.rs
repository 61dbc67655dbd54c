//! The treasurer's local files, which never go into the log (SPEC §8):
//!
//! * the **IBAN mapping** (`--ibans FILE`): which member pays from which IBAN, so a bank
//!   line without a usable reference can still be matched by amount, date and IBAN;
//! * the **reconcile state** (`--state FILE`, by default `meent-reconcile.json` beside the
//!   statement): the stable key of every bank line that confirmed an entry, so that an
//!   overlapping statement later recognises exactly those lines as already confirmed.
//!
//! Formats and reasons: `docs/TREASURER.md`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use ledger::bank::{normalize_iban, MatchOptions};
use ledger::ids::{EntryId, FundId, MemberId};
use serde::{Deserialize, Serialize};

use crate::exit::{CmdError, CmdResult, InputContext};

/// Largest IBAN mapping or state file read, in bytes.
pub const LOCAL_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// The file name of the reconcile state when `--state` is not given.
pub const DEFAULT_STATE_FILE: &str = "meent-reconcile.json";

/// The `format` tag of a state file.
pub const STATE_FORMAT: &str = "meent-reconcile-state-v1";

fn read_limited(path: &Path, what: &str) -> CmdResult<String> {
    let meta = std::fs::metadata(path).input_ctx(format!("cannot read the {what} {}", path.display()))?;
    if meta.len() > LOCAL_FILE_BYTES_MAX {
        return Err(CmdError::input(anyhow!(
            "the {what} {} has {} bytes, more than the {LOCAL_FILE_BYTES_MAX} accepted",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read_to_string(path).input_ctx(format!("cannot read the {what} {} (UTF-8 text expected)", path.display()))
}

/// Read an IBAN mapping: one `MEMBER-ID IBAN` per line (the IBAN may contain spaces),
/// `#` starts a comment, blank lines are skipped. A member may have several lines; an
/// IBAN may belong to one member only. Errors name the file and line, never the IBAN.
pub fn read_ibans(path: &Path) -> CmdResult<MatchOptions> {
    let text = read_limited(path, "IBAN mapping")?;
    parse_ibans(&text).map_err(|e| CmdError::input(anyhow!("{}: {e}", path.display())))
}

/// Parse the text of an IBAN mapping (see [`read_ibans`]).
pub fn parse_ibans(text: &str) -> anyhow::Result<MatchOptions> {
    let mut opts = MatchOptions::default();
    let mut owner: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (member, iban) = line
            .split_once(|c: char| c.is_whitespace() || c == '=' || c == ',' || c == ';')
            .ok_or_else(|| anyhow!("line {n}: expected `MEMBER-ID IBAN`"))?;
        let member: MemberId = member.trim().parse().map_err(|e| anyhow!("line {n}: {e}"))?;
        let iban_text = iban.trim_matches(|c: char| c.is_whitespace() || c == '=' || c == ',' || c == ';');
        let iban = normalize_iban(iban_text).ok_or_else(|| anyhow!("line {n}: the IBAN for {member} is not IBAN-shaped (two letters, two digits, 11 to 30 letters or digits)"))?;
        match owner.get(&iban) {
            Some((m, _)) if m == member.as_str() => continue,
            Some((m, first)) => return Err(anyhow!("line {n}: this IBAN is already given for {m} on line {first}")),
            None => {
                owner.insert(iban.clone(), (member.to_string(), n));
            }
        }
        opts = opts.with_iban(member.as_str(), &iban);
    }
    Ok(opts)
}

/// One bank line that confirmed an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedLine {
    /// The confirmed contribution or disbursement.
    pub entry: EntryId,
    /// The reconciliation entry that confirmed it.
    pub reconciliation: EntryId,
    /// SHA-256 of the statement file the line was read from.
    pub statement_sha256: String,
    /// `camt053` or `mt940`: keys of the two formats differ for the same line unless the
    /// bank reference is the same, so a key is used only for statements of its format.
    pub format: String,
    /// The line's booking date, `YYYY-MM-DD` (for the reader of the file).
    pub booking_date: String,
}

/// The reconcile state: per fund, bank-line key → what it confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Fund → line key → pinned line.
    pub funds: BTreeMap<FundId, BTreeMap<String, PinnedLine>>,
}

impl Default for ReconcileState {
    fn default() -> Self {
        ReconcileState { format: STATE_FORMAT.to_string(), funds: BTreeMap::new() }
    }
}

impl ReconcileState {
    /// Read the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> CmdResult<ReconcileState> {
        if !path.exists() {
            return Ok(ReconcileState::default());
        }
        let text = read_limited(path, "reconcile state")?;
        let s: ReconcileState =
            serde_json::from_str(&text).input_ctx(format!("{} is not a meent reconcile state file", path.display()))?;
        if s.format != STATE_FORMAT {
            return Err(CmdError::input(anyhow!(
                "{}: format {:?}, expected {STATE_FORMAT:?}",
                path.display(),
                s.format
            )));
        }
        Ok(s)
    }

    /// Entry → key of the line that confirmed it, for one fund and statement format.
    pub fn keys_by_entry(&self, fund: &FundId, format: &str) -> BTreeMap<EntryId, String> {
        let mut out = BTreeMap::new();
        for (key, p) in self.funds.get(fund).into_iter().flatten().filter(|(_, p)| p.format == format) {
            out.entry(p.entry).or_insert_with(|| key.clone());
        }
        out
    }

    /// Remember that `key` confirmed `line.entry`.
    pub fn pin(&mut self, fund: &FundId, key: &str, line: PinnedLine) {
        self.funds.entry(fund.clone()).or_default().insert(key.to_string(), line);
    }

    /// Write the state atomically (a temporary file beside it, then a rename), mode 0600.
    pub fn save(&self, path: &Path) -> CmdResult {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CmdError::io(anyhow!("cannot encode the reconcile state: {e}")))?;
        let tmp = tmp_path(path);
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).input_ctx(format!("cannot write {}", tmp.display()))?;
            f.write_all(text.as_bytes()).input_ctx(format!("cannot write {}", tmp.display()))?;
            f.write_all(b"\n").input_ctx(format!("cannot write {}", tmp.display()))?;
            f.sync_all().input_ctx(format!("cannot write {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, path).input_ctx(format!("cannot replace {}", path.display()))
    }
}

fn tmp_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Where the state lives: `--state FILE`, else [`DEFAULT_STATE_FILE`] beside the statement.
pub fn state_path(explicit: Option<&Path>, statement: &Path) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => statement
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."))
            .join(DEFAULT_STATE_FILE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_mapping() {
        let o = parse_ibans("# member   IBAN\nenergie-coop-noord NL91 ABNA 0417 1643 00\n\nvoedselbank-west=nl02rabo0123456789 # the food bank\nenergie-coop-noord NL44INGB0001234567\n").unwrap();
        assert_eq!(
            o.member_ibans["energie-coop-noord"],
            vec!["NL91ABNA0417164300".to_string(), "NL44INGB0001234567".to_string()]
        );
        assert_eq!(o.member_ibans["voedselbank-west"], vec!["NL02RABO0123456789".to_string()]);
    }

    #[test]
    fn iban_mapping_errors_name_the_line_not_the_iban() {
        let e = parse_ibans("a-b NL91ABNA0417164300\nc-d NL91 ABNA 0417 1643 00\n").unwrap_err().to_string();
        assert_eq!(e, "line 2: this IBAN is already given for a-b on line 1");
        let e = parse_ibans("\n\nonly-a-member\n").unwrap_err().to_string();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = parse_ibans("Bad_Id NL91ABNA0417164300\n").unwrap_err().to_string();
        assert!(e.starts_with("line 1:"), "{e}");
        let e = parse_ibans("abc 12345\n").unwrap_err().to_string();
        assert!(e.starts_with("line 1:") && !e.contains("12345"), "{e}");
    }

    #[test]
    fn state_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let mut s = ReconcileState::load(&p).unwrap();
        assert!(s.funds.is_empty());
        let fund: FundId = "warmtefonds".parse().unwrap();
        let id: EntryId = "11".repeat(32).parse().unwrap();
        s.pin(
            &fund,
            "ab",
            PinnedLine {
                entry: id,
                reconciliation: id,
                statement_sha256: "00".into(),
                format: "camt053".into(),
                booking_date: "2026-01-02".into(),
            },
        );
        s.save(&p).unwrap();
        let back = ReconcileState::load(&p).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.keys_by_entry(&fund, "camt053").get(&id).map(String::as_str), Some("ab"));
        assert!(back.keys_by_entry(&fund, "mt940").is_empty());
        assert_eq!(state_path(None, Path::new("st.xml")), Path::new("./meent-reconcile.json"));
        assert_eq!(state_path(None, Path::new("/a/b/st.xml")), Path::new("/a/b/meent-reconcile.json"));
    }
}
