//! Every row of `expected.tsv` (pabutools 1.2.3 outcomes): same selection.

use std::collections::HashMap;

use ledger::pb::{self, Instance, Rule};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pabulib");

struct Row {
    file: String,
    rule: String,
    projects: usize,
    ballots: usize,
    expected: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(format!("{DATA}/expected.tsv")).expect("expected.tsv is readable");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let (f, r, p, b, s) = (col("file"), col("rule"), col("projects"), col("ballots"), col("selected_ids_sorted"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                file: c[f].to_string(),
                rule: c[r].to_string(),
                projects: c[p].parse().expect("a count"),
                ballots: c[b].parse().expect("a count"),
                expected: c.get(s).copied().unwrap_or("").trim().to_string(),
            }
        })
        .collect()
}

#[test]
fn all_rows_match_pabutools() {
    let rows = rows();
    assert!(rows.len() >= 90, "expected.tsv has {} rows", rows.len());
    let mut cache: HashMap<String, Instance> = HashMap::new();
    let mut failures = Vec::new();
    for row in &rows {
        let inst = cache
            .entry(row.file.clone())
            .or_insert_with(|| pb::parse_file(format!("{DATA}/{}", row.file)).expect("the file parses"));
        assert_eq!(inst.projects().len(), row.projects, "{}: projects", row.file);
        assert_eq!(inst.num_voters(), row.ballots, "{}: ballots", row.file);
        let rule: Rule = row.rule.parse().expect("a known rule");
        let out = pb::run(inst, rule);
        let got = pb::sorted_ids(inst, &out.selected).join(" ");
        if got != row.expected {
            failures.push(format!("{} {}:\n  expected {}\n  got      {}", row.file, row.rule, row.expected, got));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows differ:\n{}", failures.len(), rows.len(), failures.join("\n"));
    println!("{} rows passed", rows.len());
}
