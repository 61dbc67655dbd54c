//! The `.pb` writer: [`write`] gives a text that [`super::parse`] reads back
//! as the same [`Instance`].

use std::fmt::Write as _;

use super::instance::Instance;
use super::parse::names_a_section;

/// Quotes a field when needed (it holds `;`, `"` or a line break, or could
/// read back as a section name), doubling inner quotes, as Python's `csv`
/// does.
fn field(out: &mut String, v: &str) {
    if v.contains([';', '"', '\n', '\r']) || names_a_section(v) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// Writes the instance as a pabulib `.pb` text (`\n` line ends, `.` as the
/// decimal mark). The `PROJECTS` section has `project_id;cost;votes` then
/// the projects' extra columns; `VOTES` has `voter_id;vote` with approval
/// lists in ballot order.
pub fn write(inst: &Instance) -> String {
    let mut out = String::with_capacity(64 + 16 * inst.num_approvals() + 32 * inst.num_voters());
    out.push_str("META\nkey;value\n");
    for (k, v) in inst.meta() {
        field(&mut out, k);
        out.push(';');
        field(&mut out, v);
        out.push('\n');
    }

    out.push_str("PROJECTS\nproject_id;cost;votes");
    let mut cols: Vec<&str> = Vec::new();
    for p in inst.projects() {
        for (k, _) in &p.extra {
            if !cols.contains(&k.as_str()) && k != "project_id" && k != "cost" && k != "votes" {
                cols.push(k);
            }
        }
    }
    for c in &cols {
        out.push(';');
        field(&mut out, c);
    }
    out.push('\n');
    let votes = inst.vote_counts();
    for (i, p) in inst.projects().iter().enumerate() {
        field(&mut out, &p.id);
        let _ = write!(out, ";{};{}", p.cost, votes[i]);
        for c in &cols {
            out.push(';');
            if let Some(v) = p.field(c) {
                field(&mut out, v);
            }
        }
        out.push('\n');
    }

    out.push_str("VOTES\nvoter_id;vote\n");
    let mut list = String::new();
    for v in 0..inst.num_voters() {
        field(&mut out, inst.voter_id(v));
        out.push(';');
        list.clear();
        for (j, &p) in inst.ballot(v).iter().enumerate() {
            if j > 0 {
                list.push(',');
            }
            list.push_str(&inst.projects()[p as usize].id);
        }
        field(&mut out, &list);
        out.push('\n');
    }
    out
}
