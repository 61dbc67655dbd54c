//! The public pages against `meent serve --demo` (the real server, seeded
//! through the API): `/` chooses the language, every page reachable from the
//! overview answers 200 in Dutch and English with `lang` set and a switch to
//! the same page in the other language, amounts are written per language,
//! unknown ids answer a 404 page in the page's language, and the fund page
//! stays under 150 KB.

mod common;

use std::collections::{BTreeSet, VecDeque};

use common::*;

fn fetch(http: &reqwest::blocking::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// The site's own links on a page (`href="/nl/…"`, `href="/en/…"`), without the fragment.
fn links(body: &str) -> Vec<String> {
    body.match_indices("href=\"/")
        .filter_map(|(i, _)| {
            let rest = &body[i + 6..];
            let href = rest[..rest.find('"')?].replace("&amp;", "&");
            (href.starts_with("/nl/") || href.starts_with("/en/") || href == "/nl" || href == "/en").then_some(href)
        })
        .collect()
}

#[test]
fn the_demo_site_answers_every_page_in_both_languages() {
    let d = demo();
    let url = d.1.trim_end_matches('/').to_string();
    let http = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // `/` chooses by Accept-Language, Dutch first.
    let r = http.get(format!("{url}/")).send().unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/nl/"));
    let r = http.get(format!("{url}/")).header("accept-language", "en-US,en;q=0.9").send().unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/en/");

    // Crawl the site from both overviews: every link answers 200.
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = ["/nl/".to_string(), "/en/".to_string()].into();
    let mut fund_sizes = Vec::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 600 {
            continue;
        }
        let (status, body) = fetch(&http, &format!("{url}{path}"));
        assert_eq!(status, 200, "{path}: {body}");
        let lang = &path[1..3];
        assert!(body.contains(&format!("<html lang=\"{lang}\" data-origin=")), "{path}");
        assert!(body.contains("<p id=\"verify-badge\" data-state=\"unchecked\">"), "{path}");
        let other = if lang == "nl" { "en" } else { "nl" };
        let same = format!("href=\"/{other}{}\"", path[3..].replace('&', "&amp;"));
        assert!(body.contains(&same), "{path}: no switch {same}");
        if path.contains("/funds/") {
            fund_sizes.push((path.clone(), body.len()));
        }
        for l in links(&body) {
            // The log's pages and the entries are many: the first of each kind is enough.
            let entry = l.contains("/entries/");
            if entry && seen.iter().filter(|s| s.contains("/entries/")).count() > 40 {
                continue;
            }
            queue.push_back(l);
        }
    }
    for want in ["/nl/funds/warmtefonds-noord", "/en/funds/zorgfonds-oost", "/nl/log", "/en/members/gemeente-amsterdam"]
    {
        assert!(seen.contains(want), "never reached {want}: {seen:?}");
    }
    assert!(seen.iter().any(|s| s.starts_with("/nl/rounds/")), "{seen:?}");
    assert!(seen.iter().any(|s| s.starts_with("/en/proposals/")), "{seen:?}");
    for (path, size) in &fund_sizes {
        assert!(*size < 150 * 1024, "{path} weighs {size} bytes");
    }

    // Amounts as each language writes them: the fund has 5750.00 confirmed.
    let (_, nl) = fetch(&http, &format!("{url}/nl/funds/warmtefonds-noord"));
    let (_, en) = fetch(&http, &format!("{url}/en/funds/warmtefonds-noord"));
    assert!(nl.contains("€ 5.750,00") && !nl.contains("€5,750.00"), "{nl}");
    assert!(en.contains("€5,750.00") && !en.contains("€ 5.750,00"), "{en}");
    // The matching pledge: 1750.00 outstanding.
    assert!(nl.contains("€ 1.750,00"));
    // The round page says how to recompute its outcome.
    let round = seen.iter().find(|s| s.starts_with("/en/rounds/")).unwrap();
    let (_, r) = fetch(&http, &format!("{url}{round}"));
    assert!(r.contains("meent export --format pabulib --round ") && r.contains("--rule mes_cost_add1_noex"), "{r}");

    // Unknown ids: a 404 page in the language.
    for (path, says) in [
        ("/nl/funds/bestaat-niet", "Er is geen fonds bestaat-niet."),
        ("/en/funds/no-such-fund", "There is no fund no-such-fund."),
        ("/en/members/nobody", "There is no member nobody."),
        ("/nl/entries/123456789", "Er is geen record 123456789."),
    ] {
        let (status, body) = fetch(&http, &format!("{url}{path}"));
        assert_eq!(status, 404, "{path}");
        assert!(body.contains(says) && body.contains(&format!("<html lang=\"{}\"", &path[1..3])), "{path}: {body}");
    }
    // The log pages take `from` (the API's unknown-parameter refusal lets it through), nothing else.
    assert_eq!(fetch(&http, &format!("{url}/nl/log?from=0")).0, 200);
    assert_eq!(fetch(&http, &format!("{url}/nl/log?page=2")).0, 400);
    // The stylesheet and the browser check are served.
    let css = http.get(format!("{url}/site/site.css")).send().unwrap();
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let js = http.get(format!("{url}/site/verify.js")).send().unwrap();
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    // The API is untouched.
    assert_eq!(fetch(&http, &format!("{url}/openapi.json")).0, 200);
    assert_eq!(fetch(&http, &format!("{url}/v1/funds")).0, 200);
}

/// An exact amount as the API writes it (`"700/3"`, `"500"`, `"1200.00"`),
/// as a reduced fraction of i128 (the demo's amounts are small).
fn frac(s: &str) -> (i128, i128) {
    let (n, d) = match (s.split_once('/'), s.split_once('.')) {
        (Some((n, d)), _) => (n.parse::<i128>().unwrap(), d.parse::<i128>().unwrap()),
        (None, Some((i, f))) => (format!("{i}{f}").parse().unwrap(), 10i128.pow(f.len() as u32)),
        (None, None) => (s.parse().unwrap(), 1),
    };
    reduce(n, d)
}

fn reduce(n: i128, d: i128) -> (i128, i128) {
    let (mut a, mut b) = (n.abs(), d.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (n / a.max(1), d / a.max(1))
}

fn add(x: (i128, i128), y: (i128, i128)) -> (i128, i128) {
    reduce(x.0 * y.1 + y.0 * x.1, x.1 * y.1)
}

fn le(x: (i128, i128), y: (i128, i128)) -> bool {
    x.0 * y.1 <= y.0 * x.1
}

/// `€ 233,33` (nl) of a positive fraction, rounded half up to cents.
fn euro_nl(x: (i128, i128)) -> String {
    let cents = (x.0 * 200 + x.1) / (2 * x.1);
    let (e, c) = (cents / 100, cents % 100);
    let e = e.to_string();
    let mut grouped = String::new();
    for (i, ch) in e.chars().enumerate() {
        if i > 0 && (e.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("€ {grouped},{c:02}")
}

/// The demo's equal-shares round: the API and the round page show each
/// voter's share and what each selected project cost each of its
/// supporters; those payments add up to each project's cost exactly, and
/// no voter pays more than its share of the kept run (`budget / voters` plus
/// the Add1 euros: in the demo Add1 raised 500 to 966, and one voter paid
/// 683.33).
#[test]
fn the_demo_round_shows_what_each_voter_paid() {
    let d = demo();
    let url = d.1.trim_end_matches('/').to_string();
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| -> serde_json::Value {
        let (s, body) = fetch(&http, &format!("{url}{path}"));
        assert_eq!(s, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let list = get("/v1/rounds");
    let id = list["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "equal_shares" && r["status"] == "closed")
        .expect("the demo has a closed equal-shares round")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = get(&format!("/v1/rounds/{id}"));
    let o = &r["outcome"];
    let voters = o["voters"].as_i64().unwrap() as i128;
    let budget = frac(r["budget"].as_str().unwrap());
    assert_eq!(frac(o["share_per_voter"].as_str().unwrap()), reduce(budget.0, budget.1 * voters));
    let share = frac(o["budget_per_voter"].as_str().unwrap());
    let ballots = r["ballots"].as_array().unwrap();
    assert_eq!(ballots.len() as i128, voters);

    let mut by_project: std::collections::BTreeMap<String, (i128, i128)> = Default::default();
    for b in ballots {
        let mut total = (0, 1);
        for p in b["payments"].as_array().unwrap() {
            let project = p["project"].as_str().unwrap().to_string();
            assert!(
                b["approve"].as_array().unwrap().iter().any(|a| a == &p["project"]),
                "{b}: pays for a project it did not approve"
            );
            let x = frac(p["amount"].as_str().unwrap());
            total = add(total, x);
            let e = by_project.entry(project).or_insert((0, 1));
            *e = add(*e, x);
        }
        assert_eq!(total, frac(b["paid"].as_str().unwrap()), "{b}");
        assert!(le(total, share), "{b}: paid {total:?}, more than the share {share:?}");
    }
    let bought: Vec<&serde_json::Value> =
        o["payments"].as_array().unwrap().iter().filter(|p| p["funding"] == "equal_shares").collect();
    assert!(!bought.is_empty(), "{o}");
    assert_eq!(by_project.len(), bought.len(), "{by_project:?}");
    for p in &bought {
        let paid = by_project[p["project"].as_str().unwrap()];
        assert_eq!(paid, frac(p["cost"].as_str().unwrap()), "{p}: the supporters' payments are the cost");
        let each = frac(p["share"].as_str().unwrap());
        let n = p["supporters"].as_i64().unwrap() as i128;
        let full = p["full_share_payers"].as_i64().unwrap() as i128;
        assert_eq!(full + p["capped_payers"].as_i64().unwrap() as i128, n);
        assert_eq!(add(reduce(each.0 * full, each.1), frac(p["capped_total"].as_str().unwrap())), paid, "{p}");
    }

    // The page shows the same, in euros as each language writes them.
    let (s, page) = fetch(&http, &format!("{url}/nl/rounds/{id}"));
    assert_eq!(s, 200);
    let said = format!(
        "Deel van elke kiezer: {} ÷ {voters} kiezers = {}.",
        euro_nl(budget),
        euro_nl(reduce(budget.0, budget.1 * voters))
    );
    assert!(page.contains(&said), "{said} not in {page}");
    for b in ballots {
        let row_at = page.find(&format!("data-entry-id=\"{}\"", b["id"].as_str().unwrap())).unwrap();
        let row = &page[row_at..row_at + page[row_at..].find("</tr>").unwrap()];
        for p in b["payments"].as_array().unwrap() {
            let x = frac(p["amount"].as_str().unwrap());
            assert!(row.contains(&format!(": {}", euro_nl(x))), "{x:?} not in {row}");
        }
        let paid = euro_nl(frac(b["paid"].as_str().unwrap()));
        let of = format!(" van {}</td>", euro_nl(share));
        assert!(row.contains(&paid) && row.contains(&of), "{paid} …{of} not in {row}");
    }
    let (_, en) = fetch(&http, &format!("{url}/en/rounds/{id}"));
    let euro_en = |x| format!("€{}", euro_nl(x)["€ ".len()..].replace('.', "#").replace(',', ".").replace('#', ","));
    let said = format!(
        "Each voter&#39;s share: {} ÷ {voters} voters = {}.",
        euro_en(budget),
        euro_en(reduce(budget.0, budget.1 * voters))
    );
    assert!(en.contains(&said), "{said} not in {en}");
}

/// The fund page links this year's period statement; its CSV is byte for
/// byte what `meent report --format csv` prints, and its JSON (the default)
/// is the statement view.
#[test]
fn the_fund_page_links_the_statement_as_meent_report_prints_it() {
    let d = demo();
    let url = d.1.trim_end_matches('/').to_string();
    let http = reqwest::blocking::Client::new();
    let (_, page) = fetch(&http, &format!("{url}/en/funds/warmtefonds-noord"));
    let at = page.find("href=\"/v1/funds/warmtefonds-noord/statement?").expect("the fund page links its statement");
    let href = page[at + 6..at + 6 + page[at + 6..].find('"').unwrap()].replace("&amp;", "&");
    assert!(href.ends_with("&format=csv"), "{href}");
    let q: std::collections::HashMap<String, String> = href
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .map(|(k, v)| (k.into(), v.into()))
        .collect();

    let r = http.get(format!("{url}{href}")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"warmtefonds-noord-statement-{}-{}.csv\"", q["from"], q["to"])
    );
    let csv = r.bytes().unwrap();

    let out = std::process::Command::new(meent_bin())
        .args(["report", "--fund", "warmtefonds-noord", "--from", &q["from"], "--to", &q["to"], "--format", "csv"])
        .args(["--server", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&csv), String::from_utf8_lossy(&out.stdout));
    assert_eq!(csv.as_ref(), out.stdout.as_slice());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("section,item,detail,amount\r\nopening,balance,") && text.contains("\r\nin,total,,"),
        "{text}"
    );

    // JSON stays the default, and `format=json` is the same.
    let json_path = format!("/v1/funds/warmtefonds-noord/statement?from={}&to={}", q["from"], q["to"]);
    let (s, plain) = fetch(&http, &format!("{url}{json_path}"));
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(v["fund"], "warmtefonds-noord");
    assert_eq!(fetch(&http, &format!("{url}{json_path}&format=json")), (200, plain));
    // An unknown format is refused and named.
    let (s, body) = fetch(&http, &format!("{url}{json_path}&format=xlsx"));
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("format") && body.contains("xlsx"), "{body}");
}
