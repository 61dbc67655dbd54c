//! Benchmark of the budgeting rules against pabutools (`expected.tsv`).
//!
//! `cargo bench -p cli --bench pb -- [FILE_FILTER [RULE]]`
//!
//! For every row of `expected.tsv`: our median time over several runs
//! (parsing excluded, like pabutools' times), pabutools' time, the ratio, and
//! whether the selection matches. Then every rule on the largest instance,
//! and a summary.
//!
//! Like for like: pabutools' timed call computes only the selection (a
//! `BudgetAllocation`), so the ratio is taken on [`pb::select`]. The time
//! of the full [`pb::run`] (selection and exact per-supporter payments) is
//! shown beside it, in the `run_s` column.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ledger::pb::{self, Instance, Rule};

// The allocator of the `meent` binary (whose `meent pb` runs these rules):
// calls of a microsecond make a few allocations each, and glibc's allocator
// measured up to twice as slow on them.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// And its options (see `cli/src/main.rs`).
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: Option<&'static std::ffi::c_char> = Some(unsafe { &*c"tcache_max:1048576".as_ptr() });

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pabulib");
const LARGEST: &str = "Poland_Warszawa_2026.pb";

/// Median time of one call of `f` over several samples (at least 3, at
/// most 101, within `budget` after the third). A call shorter than
/// [`SAMPLE_MIN`] is repeated within each sample until the sample lasts
/// that long (the time is the sample's over its calls), so that reading the
/// clock (tens of nanoseconds) does not count in sub-microsecond calls.
fn median(budget: Duration, mut f: impl FnMut()) -> f64 {
    // Calls per sample, from a first (warming) call.
    let t = Instant::now();
    f();
    let one = t.elapsed().max(Duration::from_nanos(1));
    let reps = (SAMPLE_MIN.as_nanos() / one.as_nanos()).clamp(1, 10_000) as u32;
    let mut times = Vec::new();
    let start = Instant::now();
    for i in 0..101 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        times.push(t.elapsed() / reps);
        if i >= 2 && start.elapsed() > budget {
            break;
        }
    }
    times.sort();
    times[times.len() / 2].as_secs_f64()
}

/// The shortest sample of [`median`].
const SAMPLE_MIN: Duration = Duration::from_micros(20);

/// Median times of `select` and of `run` for `rule` on `inst`, and the
/// sorted selection (the same from both, checked).
fn measure(inst: &Instance, rule: Rule, budget: Duration) -> (f64, f64, String) {
    let sel = pb::select(inst, rule);
    let out = pb::run(inst, rule);
    let ids = sel.ids(inst);
    assert_eq!(ids, out.selected, "select and run disagree on {rule}");
    let got = pb::sorted_ids(inst, &ids).join(" ");
    let t_select = median(budget, || {
        std::hint::black_box(pb::select(std::hint::black_box(inst), rule));
    });
    let t_run = median(budget, || {
        std::hint::black_box(pb::run(std::hint::black_box(inst), rule));
    });
    (t_select, t_run, got)
}

fn main() {
    // `cargo bench` passes `--bench`; only positional arguments are filters.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let file_filter = args.first().cloned().unwrap_or_default();
    let rule_filter = args.get(1).cloned().unwrap_or_default();
    let text = std::fs::read_to_string(format!("{DATA}/expected.tsv")).expect("expected.tsv is readable");
    let mut cache: HashMap<String, Instance> = HashMap::new();
    let mut load = |file: &str| -> Instance {
        cache
            .entry(file.to_string())
            .or_insert_with(|| pb::parse_file(format!("{DATA}/{file}")).expect("the file parses"))
            .clone()
    };

    // Warm up first (the processor's clock, the allocator's caches): the
    // first rows measured otherwise ran up to 1.5x slower than on their own.
    let first = text.lines().nth(1).and_then(|l| l.split('\t').next()).unwrap_or("");
    if !first.is_empty() {
        let inst = load(first);
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(500) {
            std::hint::black_box(pb::select(std::hint::black_box(&inst), Rule::MesCard));
        }
    }

    println!(
        "{:<40} {:<20} {:>11} {:>11} {:>9} {:>11}  match",
        "instance", "rule", "ours_s", "pabutools_s", "ratio", "run_s"
    );
    let (mut rows, mut differ, mut at_1000) = (0, 0, 0);
    let mut timed_rows = 0;
    let mut worst: Option<(f64, String)> = None;
    let mut under: Vec<(f64, String)> = Vec::new();
    let mut slowest: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < 5 {
            continue;
        }
        let (file, rule_name) = (c[0], c[1]);
        let theirs: f64 = c[4].parse().unwrap_or(0.0);
        let expected = c.get(5).copied().unwrap_or("").trim();
        if !file.contains(&file_filter) || (!rule_filter.is_empty() && rule_name != rule_filter) {
            continue;
        }
        let inst = load(file);
        let rule: Rule = rule_name.parse().expect("a known rule");
        let (ours, full, got) = measure(&inst, rule, Duration::from_millis(400));
        let ok = got == expected;
        rows += 1;
        differ += usize::from(!ok);
        let ratio = if theirs > 0.0 { theirs / ours } else { f64::NAN };
        if theirs > 0.0 {
            timed_rows += 1;
            at_1000 += usize::from(ratio >= 1000.0);
            if ratio < 1000.0 {
                under.push((ratio, format!("{file} {rule_name}")));
            }
            if worst.as_ref().map(|w| ratio < w.0).unwrap_or(true) {
                worst = Some((ratio, format!("{file} {rule_name}")));
            }
        }
        let e = slowest.entry(file.to_string()).or_insert((0.0, String::new()));
        if ours > e.0 {
            *e = (ours, rule_name.to_string());
        }
        let ratio_s = if theirs > 0.0 { format!("{ratio:.0}") } else { "-".to_string() };
        println!(
            "{:<40} {:<20} {:>11.6} {:>11.3} {:>9} {:>11.6}  {}",
            file,
            rule_name,
            ours,
            theirs,
            ratio_s,
            full,
            if ok { "ok" } else { "DIFF" }
        );
    }

    if LARGEST.contains(&file_filter) {
        println!("\nevery rule on {LARGEST} (median of 3; select, then run):");
        let inst = load(LARGEST);
        for rule in Rule::ALL {
            if !rule_filter.is_empty() && rule.name() != rule_filter {
                continue;
            }
            let (ours, full, _) = measure(&inst, rule, Duration::ZERO);
            let over = if ours.max(full) < 1.0 { "" } else { "(over 1 s)" };
            println!("  {:<20} {:>9.3} s {:>9.3} s {}", rule.name(), ours, full, over);
        }
    }

    println!("\nslowest rule per instance (select):");
    for (file, (t, rule)) in &slowest {
        println!("  {file:<40} {rule:<20} {t:.6} s");
    }
    println!(
        "\n{rows} rows, {differ} differ; {at_1000} of {timed_rows} timed rows at least 1000x faster than pabutools"
    );
    for (r, what) in &under {
        println!("  under 1000x: {r:.0}x {what}");
    }
    if let Some((r, what)) = worst {
        println!("worst ratio: {r:.0}x ({what})");
    }
}
