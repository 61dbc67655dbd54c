//! The public pages against `meent serve --demo` (the real server, seeded
//! through the API): `/` chooses the language, every page reachable from the
//! overview answers 200 in Dutch and English with `lang` set and a switch to
//! the same page in the other language, amounts are written per language,
//! unknown ids answer a 404 page in the page's language, and the fund page
//! stays under 150 KB.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::*;

struct Demo(Child, String);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo() -> Demo {
    let mut child = Command::new(meent_bin())
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the demo stopped before serving");
        if line.starts_with("meent serving") {
            break line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
        }
    };
    Demo(child, url)
}

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
