//! Benchmark of `meent pb` against pabutools (`tests/data/pabulib/expected.tsv`).
//!
//! `cargo bench -p cli --bench pb -- [FILE_FILTER [RULE]]`
//!
//! For every row of `expected.tsv`: the median wall time of the whole
//! `meent pb FILE --rule RULE` process (start-up, parsing, the rule and the
//! exact payments, printing) over several runs, pabutools' reference time
//! (its rule call alone, parsing excluded, on a 2-core machine like ours:
//! see the README beside the data), their ratio, and whether the printed
//! selection is pabutools'. Then the totals, with the floor of 300× in
//! total, and every rule on Poland_Warszawa_2026.pb, with its floor of 1 s.

use std::process::Command;
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pabulib");
const MEENT: &str = env!("CARGO_BIN_EXE_meent");
const LARGEST: &str = "Poland_Warszawa_2026.pb";
/// The floors: our total time at most pabutools' over this, and every rule
/// on the largest instance under a second.
const FLOOR_TOTAL: f64 = 300.0;
const FLOOR_LARGEST_S: f64 = 1.0;

/// Median wall time of `meent pb file --rule rule` (at least 5 runs, at
/// most 21, within about 2 s after the fifth), and what it printed.
fn measure(file: &str, rule: &str) -> (f64, String) {
    let path = format!("{DATA}/{file}");
    let once = || {
        let t = Instant::now();
        let out = Command::new(MEENT).args(["pb", &path, "--rule", rule]).output().expect("meent runs");
        let elapsed = t.elapsed();
        assert!(out.status.success(), "meent pb {file} --rule {rule}: {}", String::from_utf8_lossy(&out.stderr));
        (elapsed, String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let (first, printed) = once();
    let mut times = vec![first];
    let start = Instant::now();
    while times.len() < 5 || (times.len() < 21 && start.elapsed() < Duration::from_secs(2)) {
        times.push(once().0);
    }
    times.sort();
    (times[times.len() / 2].as_secs_f64(), printed)
}

fn main() {
    // `cargo bench` passes `--bench`; only positional arguments are filters.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let file_filter = args.first().cloned().unwrap_or_default();
    let rule_filter = args.get(1).cloned().unwrap_or_default();
    let text = std::fs::read_to_string(format!("{DATA}/expected.tsv")).expect("expected.tsv is readable");
    let header: Vec<&str> = text.lines().next().expect("a header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let (c_file, c_rule, c_time, c_ids) =
        (col("file"), col("rule"), col("pabutools_seconds"), col("selected_ids_sorted"));

    println!("{:<40} {:<20} {:>9} {:>11} {:>9}  match", "instance", "rule", "meent_s", "pabutools_s", "ratio");
    let (mut rows, mut differ, mut ours_total, mut theirs_total) = (0, 0, 0.0, 0.0);
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = line.split('\t').collect();
        let (file, rule) = (c[c_file], c[c_rule]);
        if !file.contains(&file_filter) || (!rule_filter.is_empty() && rule != rule_filter) {
            continue;
        }
        let theirs: f64 = c[c_time].parse().expect("a time in seconds");
        let (ours, printed) = measure(file, rule);
        let ok = printed == c.get(c_ids).copied().unwrap_or("").trim();
        rows += 1;
        differ += usize::from(!ok);
        ours_total += ours;
        theirs_total += theirs;
        let ratio = if theirs > 0.0 { format!("{:.0}", theirs / ours) } else { "-".to_string() };
        let mark = if ok { "ok" } else { "DIFF" };
        println!("{file:<40} {rule:<20} {ours:>9.4} {theirs:>11.3} {ratio:>9}  {mark}");
    }
    let ratio = theirs_total / ours_total;
    let verdict = if ratio >= FLOOR_TOTAL { "at least" } else { "UNDER" };
    println!("\n{rows} rows, {differ} differ; in total meent pb {ours_total:.3} s, pabutools {theirs_total:.3} s:");
    println!("{ratio:.0}x faster in total ({verdict} the floor of {FLOOR_TOTAL:.0}x)");

    if LARGEST.contains(&file_filter) {
        println!("\nevery rule on {LARGEST} (median of the whole process):");
        for rule in ledger::pb::Rule::ALL.map(|r| r.name()) {
            if rule_filter.is_empty() || rule == rule_filter {
                let (t, _) = measure(LARGEST, rule);
                let over = if t < FLOOR_LARGEST_S { "" } else { "  (OVER 1 s)" };
                println!("  {rule:<20} {t:>7.3} s{over}");
            }
        }
    }
}
