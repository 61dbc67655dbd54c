//! The pabulib `.pb` reader.
//!
//! A file has three sections, `META`, `PROJECTS` and `VOTES`, each introduced
//! by a line holding just its name, then a header line, then `;`-separated
//! rows (quoting as in Python's `csv`, see [`super::csv`]). A UTF-8 byte order
//! mark and `\r\n` line ends are accepted; costs and the budget may use `,` as
//! the decimal mark. Whatever the vote type, a ballot is the set of project
//! ids of the voter's `vote` field; points and ranks are not kept.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use super::cost::Cost;
use super::csv::{Reader, Record};
use super::instance::{Instance, InstanceError, Project};

/// Why a `.pb` text was refused: where (file, line) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file, when parsing from a path.
    pub file: Option<String>,
    /// 1-based line number; 0 when the error is not tied to one line.
    pub line: usize,
    /// What is wrong, in lowercase prose.
    pub what: String,
}

impl ParseError {
    fn at(line: usize, what: impl Into<String>) -> ParseError {
        ParseError { file: None, line, what: what.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.what)
    }
}

impl std::error::Error for ParseError {}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Meta,
    Projects,
    Votes,
}

/// The sections with their names, in the order of a file.
const SECTIONS: [(Section, &str); 3] =
    [(Section::Meta, "META"), (Section::Projects, "PROJECTS"), (Section::Votes, "VOTES")];

impl Section {
    fn name(self) -> &'static str {
        SECTIONS[self as usize].1
    }
}

/// Whether a field names a section (in any case, blanks around ignored).
pub(crate) fn names_a_section(field: &str) -> bool {
    section_named(field).is_some()
}

fn section_named(field: &str) -> Option<Section> {
    SECTIONS.iter().find(|(_, name)| field.trim().eq_ignore_ascii_case(name)).map(|(s, _)| *s)
}

/// Is this record a section line (`META`, `PROJECTS` or `VOTES` alone, unquoted)?
fn section_of(rec: &Record<'_>) -> Option<Section> {
    let first = rec.fields.first()?;
    if rec.first_quoted || rec.fields[1..].iter().any(|f| !f.trim().is_empty()) {
        return None;
    }
    section_named(first)
}

fn is_blank(rec: &Record<'_>) -> bool {
    rec.fields.iter().all(|f| f.trim().is_empty())
}

/// Shortens a value for an error message.
fn shown(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Column positions of the PROJECTS header.
struct ProjectColumns {
    id: usize,
    cost: usize,
    /// Other columns (not `project_id`, `cost`, `votes`), with their names.
    extra: Vec<(usize, String)>,
}

/// Column positions of the VOTES header.
struct VoteColumns {
    voter: usize,
    vote: usize,
}

fn find_col(header: &[Cow<'_, str>], name: &str) -> Option<usize> {
    header.iter().position(|h| h.trim() == name)
}

/// Parses a `.pb` text.
pub fn parse(text: &str) -> Result<Instance, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::new(text);

    let mut seen = [false; 3];
    let mut current: Option<Section> = None;
    let mut expecting_header = false;
    let mut meta: Vec<(String, String)> = Vec::new();
    let mut budget: Option<Cost> = None;
    let mut pcols: Option<ProjectColumns> = None;
    let mut vcols: Option<VoteColumns> = None;
    // The instance is built as soon as the budget is known (end of META).
    let mut inst: Option<Instance> = None;
    let mut ballot: Vec<u32> = Vec::new();

    while let Some(rec) = reader.next_record() {
        let rec = rec.map_err(|u| ParseError::at(u.line, "quoted field is never closed"))?;
        if is_blank(&rec) {
            continue;
        }
        let line = rec.line;
        if let Some(sec) = section_of(&rec) {
            let k = sec as usize;
            if seen[k] {
                return Err(ParseError::at(line, format!("second {} section", sec.name())));
            }
            check_section_order(sec, &seen, line)?;
            if current == Some(Section::Meta) || (sec != Section::Meta && inst.is_none()) {
                inst = Some(finish_meta(&meta, budget)?);
            }
            seen[k] = true;
            current = Some(sec);
            expecting_header = true;
            continue;
        }
        let Some(sec) = current else {
            return Err(ParseError::at(
                line,
                format!("expected a section name (META, PROJECTS or VOTES), found {}", shown(&rec.fields[0])),
            ));
        };
        if expecting_header {
            expecting_header = false;
            match sec {
                Section::Meta => {}
                Section::Projects => pcols = Some(project_columns(&rec)?),
                Section::Votes => vcols = Some(vote_columns(&rec)?),
            }
            continue;
        }
        match sec {
            Section::Meta => meta_row(&rec, &mut meta, &mut budget)?,
            Section::Projects => {
                let cols = pcols.as_ref().expect("header read before rows");
                project_row(&rec, cols, inst.as_mut().expect("instance built at the end of META"))?
            }
            Section::Votes => {
                let cols = vcols.as_ref().expect("header read before rows");
                vote_row(&rec, cols, inst.as_mut().expect("instance built at the end of META"), &mut ballot)?
            }
        }
    }

    if let Some((_, name)) = SECTIONS.iter().find(|(sec, _)| !seen[*sec as usize]) {
        return Err(ParseError::at(0, format!("missing {name} section")));
    }
    if expecting_header {
        return Err(ParseError::at(0, "VOTES section has no header line"));
    }
    Ok(inst.expect("built when PROJECTS started"))
}

/// META first, then PROJECTS, then VOTES.
fn check_section_order(sec: Section, seen: &[bool; 3], line: usize) -> Result<(), ParseError> {
    let what = match sec {
        Section::Meta if seen[1] || seen[2] => "META section must come first",
        Section::Projects if !seen[0] => "PROJECTS section before the META section",
        Section::Votes if !seen[1] => "VOTES section before the PROJECTS section",
        _ => return Ok(()),
    };
    Err(ParseError::at(line, what))
}

/// The PROJECTS header: where `project_id` and `cost` are, and the other columns.
fn project_columns(rec: &Record<'_>) -> Result<ProjectColumns, ParseError> {
    let id = find_col(&rec.fields, "project_id")
        .ok_or_else(|| ParseError::at(rec.line, "PROJECTS header has no \"project_id\" column"))?;
    let cost = find_col(&rec.fields, "cost")
        .ok_or_else(|| ParseError::at(rec.line, "PROJECTS header has no \"cost\" column"))?;
    let mut extra = Vec::new();
    for (i, h) in rec.fields.iter().enumerate() {
        let h = h.trim();
        if i == id || i == cost || h == "votes" || h.is_empty() {
            continue;
        }
        if extra.iter().any(|(_, n): &(usize, String)| n == h) {
            return Err(ParseError::at(rec.line, format!("PROJECTS header has column {} twice", shown(h))));
        }
        extra.push((i, h.to_string()));
    }
    Ok(ProjectColumns { id, cost, extra })
}

/// The VOTES header: where `voter_id` and `vote` are.
fn vote_columns(rec: &Record<'_>) -> Result<VoteColumns, ParseError> {
    let voter = find_col(&rec.fields, "voter_id")
        .ok_or_else(|| ParseError::at(rec.line, "VOTES header has no \"voter_id\" column"))?;
    let vote =
        find_col(&rec.fields, "vote").ok_or_else(|| ParseError::at(rec.line, "VOTES header has no \"vote\" column"))?;
    Ok(VoteColumns { voter, vote })
}

/// One `key;value` line of META (the budget checked as a cost).
fn meta_row(rec: &Record<'_>, meta: &mut Vec<(String, String)>, budget: &mut Option<Cost>) -> Result<(), ParseError> {
    let key = rec.fields[0].trim();
    let value = rec.fields.get(1).map(|v| v.trim()).unwrap_or("");
    if meta.iter().any(|(k, _)| k == key) {
        return Err(ParseError::at(rec.line, format!("META key {} appears twice", shown(key))));
    }
    if key == "budget" {
        let b =
            Cost::parse(value).map_err(|e| ParseError::at(rec.line, format!("budget is {}, {}", shown(value), e)))?;
        *budget = Some(b);
        meta.push((key.to_string(), b.to_string()));
    } else {
        meta.push((key.to_string(), value.to_string()));
    }
    Ok(())
}

/// One project line.
fn project_row(rec: &Record<'_>, cols: &ProjectColumns, inst: &mut Instance) -> Result<(), ParseError> {
    let id = rec.fields.get(cols.id).map(|v| v.trim()).unwrap_or("");
    if id.is_empty() {
        return Err(ParseError::at(rec.line, "project without a project_id"));
    }
    let Some(raw_cost) = rec.fields.get(cols.cost) else {
        return Err(ParseError::at(rec.line, format!("project {} has no cost", shown(id))));
    };
    let cost = Cost::parse(raw_cost).map_err(|e| {
        ParseError::at(rec.line, format!("project {} has cost {}, {}", shown(id), shown(raw_cost.trim()), e))
    })?;
    let mut extra = Vec::new();
    for (i, name) in &cols.extra {
        if let Some(v) = rec.fields.get(*i) {
            let v = v.trim();
            if !v.is_empty() {
                extra.push((name.clone(), v.to_string()));
            }
        }
    }
    inst.add_project(Project { id: id.to_string(), cost, extra }).map_err(|e| match e {
        InstanceError::DuplicateProject(id) => ParseError::at(rec.line, format!("duplicate project id {}", shown(&id))),
        InstanceError::BadProjectId(id) => ParseError::at(rec.line, format!("project id {} contains ','", shown(&id))),
        other => ParseError::at(rec.line, other.to_string()),
    })?;
    Ok(())
}

/// One vote line (`ballot` is scratch space reused between lines).
fn vote_row(
    rec: &Record<'_>,
    cols: &VoteColumns,
    inst: &mut Instance,
    ballot: &mut Vec<u32>,
) -> Result<(), ParseError> {
    let voter = rec.fields.get(cols.voter).map(|v| v.trim()).unwrap_or("");
    if voter.is_empty() {
        return Err(ParseError::at(rec.line, "vote without a voter_id"));
    }
    let vote = rec.fields.get(cols.vote).map(|v| v.trim()).unwrap_or("");
    ballot.clear();
    if !vote.is_empty() {
        for pid in vote.split(',') {
            let pid = pid.trim();
            if pid.is_empty() {
                return Err(ParseError::at(
                    rec.line,
                    format!("voter {} has an empty project id in vote {}", shown(voter), shown(vote)),
                ));
            }
            match inst.project_index(pid) {
                Some(i) => ballot.push(i as u32),
                None => {
                    return Err(ParseError::at(
                        rec.line,
                        format!("voter {} votes for unknown project {}", shown(voter), shown(pid)),
                    ))
                }
            }
        }
    }
    inst.add_ballot_indices(voter, ballot).map_err(|e| match e {
        InstanceError::DuplicateVoter(v) => ParseError::at(rec.line, format!("duplicate voter id {}", shown(&v))),
        other => ParseError::at(rec.line, other.to_string()),
    })?;
    Ok(())
}

/// Builds the empty instance from the META pairs once META is over.
fn finish_meta(meta: &[(String, String)], budget: Option<Cost>) -> Result<Instance, ParseError> {
    let b = budget.ok_or_else(|| ParseError::at(0, "META section has no budget"))?;
    Ok(Instance::with_meta(meta.to_vec(), b))
}

/// Parses `.pb` bytes (UTF-8, optional byte order mark).
pub fn parse_bytes(bytes: &[u8]) -> Result<Instance, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            Err(ParseError::at(line, "not valid UTF-8 text"))
        }
    }
}

/// Reads and parses a `.pb` file; errors carry the file name.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Instance, ParseError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        file: Some(name.clone()),
        line: 0,
        what: format!("cannot read the file: {}", e.to_string().to_lowercase()),
    })?;
    parse_bytes(&bytes).map_err(|mut e| {
        e.file = Some(name);
        e
    })
}
