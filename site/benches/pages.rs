//! How long each page takes to render on a ledger of 100 000 records, and
//! how much the fund page weighs (issue 17: under 5 ms of server time a page,
//! under 150 KB a fund page).
//!
//! The ledger, in memory: 200 members, one fund they all join, a vote closed
//! and paid out, and the rest contributions, reconciled 500 at a time — the
//! fund page's worst case, as everything lands in one fund.
//!
//! Run: `cargo bench -p site --bench pages` (env: MEENT_BENCH_RECORDS,
//! MEENT_BENCH_RUNS). Prints the median and the slowest render per page.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use ledger::entry::Kind;
use serde_json::json;
use site::{Ctx, Lang};
use support::{charter, World};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn build(records: u64) -> World {
    let mut w = World::empty();
    let members: Vec<String> = (0..200).map(|i| format!("member-{i:03}")).collect();
    for m in &members {
        w.member(m, &format!("Collectief {m}"));
    }
    let mut c = charter();
    c["treasurers"] = json!(["member-000", "member-001", "member-002"]);
    w.ok("member-000", Kind::FundCreate, json!({"id": "groot", "name": "Groot fonds", "purpose": "", "charter": c}));
    let joins = members[1..].iter().map(|m| w.signed(m, Kind::FundJoin, json!({"fund": "groot"}))).collect();
    w.append(joins);
    // Money in, then a paid allocation, then money in until the log is full.
    let mut n = 0u64;
    let batch = |w: &World, n: &mut u64, count: usize| {
        let contributions: Vec<_> = (0..count)
            .map(|i| {
                *n += 1;
                let m = &members[(*n as usize) % members.len()];
                w.signed(
                    m,
                    Kind::Contribution,
                    json!({"fund": "groot", "amount": "12.50", "reference": format!("B-{n}-{i}")}),
                )
            })
            .collect();
        let ids: Vec<String> = contributions.iter().map(|e| e.id.to_hex()).collect();
        let mut all = contributions;
        let recon = json!({"fund": "groot", "statement_sha256": hex::encode([(*n % 251) as u8; 32]),
            "period_from": "2026-01-01", "period_to": "2026-01-31", "opening_balance": "0.00",
            "closing_balance": format!("{}.{:02}", *n * 25 / 2, (*n * 25 % 2) * 50), "confirmed": ids, "unmatched_bank_lines": 0});
        all.push(w.signed("member-000", Kind::Reconciliation, recon));
        w.append(all);
    };
    batch(&w, &mut n, 500);
    let p = w.ok("member-001", Kind::Proposal, json!({"fund": "groot", "proposal_kind": "allocation", "title": "Dak", "description": "", "amount": "1000.00", "recipient": "member-199"}));
    let votes =
        members[..199].iter().map(|m| w.signed(m, Kind::Vote, json!({"proposal": p, "choice": "yes"}))).collect();
    w.append(votes);
    w.close(&p);
    let d = w.ok("member-000", Kind::Disbursement, json!({"allocation": p, "amount": "1000.00", "reference": "PAY-1"}));
    w.ok("member-001", Kind::DisbursementApprove, json!({"disbursement": d}));
    w.ids.insert("proposal", p);
    while w.log.size() + 501 <= records {
        batch(&w, &mut n, 500);
    }
    let rest = records.saturating_sub(w.log.size() + 1) as usize;
    if rest > 0 {
        batch(&w, &mut n, rest);
    }
    w
}

fn measure(name: &str, runs: u64, mut f: impl FnMut() -> usize) {
    let mut times = Vec::with_capacity(runs as usize);
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    println!("{name:<14} median {median:>7.3} ms   slowest {max:>7.3} ms   {:>7.1} KB", size as f64 / 1024.0);
}

fn main() {
    let records = env_u64("MEENT_BENCH_RECORDS", 100_000);
    let runs = env_u64("MEENT_BENCH_RUNS", 50);
    let t = Instant::now();
    let w = build(records);
    println!("ledger of {} records built in {:.1} s; {runs} renders per page", w.log.size(), t.elapsed().as_secs_f64());
    let seq = w.log.size() / 2;
    let p = w.ids["proposal"].clone();
    let ctx = |lang, path: &str| Ctx::new(lang, path, w.now);
    for lang in Lang::ALL {
        println!("-- {}", lang.code());
        measure("overview", runs, || site::pages::overview(&w.log, &ctx(lang, "/")).unwrap().len());
        measure("fund", runs, || site::pages::fund(&w.log.state(), &ctx(lang, "/funds/groot"), "groot").unwrap().len());
        let older = site::pages::Trail { in_before: Some(seq), out_before: None };
        measure("fund (older money in)", runs, || {
            site::pages::fund_page(&w.log.state(), &ctx(lang, "/funds/groot"), "groot", older).unwrap().len()
        });
        measure("proposal", runs, || {
            site::pages::proposal(&w.log.state(), &ctx(lang, "/proposals/x"), &p).unwrap().len()
        });
        measure("member", runs, || {
            site::pages::member(&w.log.state(), &ctx(lang, "/members/member-007"), "member-007").unwrap().len()
        });
        measure("entry", runs, || {
            site::pages::entry(&w.log, &ctx(lang, "/entries/x"), &seq.to_string()).unwrap().len()
        });
        measure("log (latest)", runs, || site::pages::log(&w.log, &ctx(lang, "/log"), None).unwrap().len());
        measure("log (from=0)", runs, || site::pages::log(&w.log, &ctx(lang, "/log"), Some(0)).unwrap().len());
        // The store's own read of the same 100 records (what GET /v1/entries?from=0 costs too).
        measure("  its records", runs, || w.log.records(0, site::pages::LOG_PAGE).unwrap().0.len());
    }
    let fund = site::pages::fund(&w.log.state(), &ctx(Lang::Nl, "/funds/groot"), "groot").unwrap();
    println!("fund page: {} bytes ({:.1} KB; the limit is 150 KB)", fund.len(), fund.len() as f64 / 1024.0);
    assert!(fund.len() < 150 * 1024, "the fund page weighs {} bytes", fund.len());
    let older = site::pages::Trail { in_before: Some(seq), out_before: None };
    let page = site::pages::fund_page(&w.log.state(), &ctx(Lang::Nl, "/funds/groot"), "groot", older).unwrap();
    println!(
        "its older page (money in before record {seq}): {} bytes ({:.1} KB)",
        page.len(),
        page.len() as f64 / 1024.0
    );
    assert!(page.len() < 150 * 1024, "the fund page's older page weighs {} bytes", page.len());
}
