//! The pages over a small ledger in memory, through the router (no socket):
//! every page in both languages, the language switch, amounts per language,
//! escaping, 404s in the page's language, the closed vote, the contract with
//! the browser check (badge, data attributes, head links).

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use ledger::ingest::Clock;
use ledger::witness::{Cosigned, NamedKey};
use support::{world, World, EVIL_NAME};
use tower::ServiceExt;

async fn get_at(
    w: &World,
    now: DateTime<Utc>,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    get_witnessed(w, now, path, accept, Arc::default()).await
}

async fn get_witnessed(
    w: &World,
    now: DateTime<Utc>,
    path: &str,
    accept: Option<&str>,
    cosigned: Arc<Cosigned>,
) -> (StatusCode, String, Option<String>) {
    let clock: Clock = Arc::new(move || now);
    let app: axum::Router = site::router(w.log.clone(), clock, cosigned);
    let mut req = Request::get(path);
    if let Some(a) = accept {
        req = req.header("accept-language", a);
    }
    let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let body = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap(), location)
}

async fn get(w: &World, path: &str) -> (StatusCode, String) {
    let (s, b, _) = get_at(w, w.now, path, None).await;
    (s, b)
}

fn pages(w: &World) -> Vec<String> {
    let s = w.log.state();
    let round: Vec<String> = s.funds.rounds.keys().map(|r| format!("/rounds/{}", r.to_hex())).collect();
    drop(s);
    let mut p = vec![
        "/".to_string(),
        "/log".to_string(),
        "/log?from=0".to_string(),
        "/funds/warmte".to_string(),
        format!("/proposals/{}", w.ids["closed"]),
        format!("/proposals/{}", w.ids["open"]),
        "/members/coop".to_string(),
        "/members/registrar".to_string(),
        "/entries/0".to_string(),
        "/entries/5".to_string(),
        format!("/entries/{}", w.ids["reconciliation"]),
    ];
    p.extend(round);
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_renders_in_both_languages_with_its_frame() {
    let w = world();
    for lang in ["nl", "en"] {
        for p in pages(&w) {
            let path = format!("/{lang}{p}");
            let (s, body) = get(&w, &path).await;
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
            // SITE_DUMP=dir writes every page there, to look at.
            if let Ok(dir) = std::env::var("SITE_DUMP") {
                let name = path.replace(['/', '?', '='], "_");
                std::fs::write(format!("{dir}/{name}.html"), &body).unwrap();
            }
            assert!(body.starts_with("<!doctype html>"), "{path}");
            assert!(body.contains(&format!("<html lang=\"{lang}\" data-origin=\"meent.test/site\">")), "{path}");
            assert!(body.contains("<link rel=\"stylesheet\" href=\"/site/site.css\">"), "{path}");
            assert!(body.contains("<script type=\"module\" src=\"/site/verify.js\"></script>"), "{path}");
            let badge =
                if lang == "nl" { "Nog niet gecontroleerd in deze browser" } else { "Not yet checked in this browser" };
            assert!(body.contains(&format!("<p id=\"verify-badge\" data-state=\"unchecked\">{badge}</p>")), "{path}");
            let main = body.find("<main").unwrap();
            assert!(body.find("id=\"verify-badge\"").unwrap() > main, "{path}: the badge is inside <main>");
            for landmark in ["<header>", "<nav ", "<main id=\"main\">", "<footer>"] {
                assert!(body.contains(landmark), "{path}: {landmark}");
            }
            let other = if lang == "nl" { "en" } else { "nl" };
            assert!(
                body.contains(&format!("href=\"/{other}{}\"", p.replace('&', "&amp;"))),
                "{path}: no switch to /{other}{p}"
            );
            assert!(!body.contains("style=\""), "{path}: an inline style");
            assert!(!body.contains("<script>"), "{path}: an inline script");
            assert!(!body.contains('⟦'), "{path}: a missing catalogue key");
            for table in body.match_indices("<table>") {
                assert!(body[..table.0].ends_with("<div class=\"scroll\">"), "{path}: a table outside div.scroll");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn amounts_and_times_are_written_per_language() {
    let w = world();
    let (_, nl) = get(&w, "/nl/funds/warmte").await;
    let (_, en) = get(&w, "/en/funds/warmte").await;
    assert!(nl.contains("€ 1.234,56"), "{nl}");
    assert!(nl.contains("€ 1.734,56"));
    assert!(!nl.contains("€1,234.56"));
    assert!(en.contains("€1,234.56"), "{en}");
    assert!(en.contains("€1,734.56"));
    assert!(!en.contains("€ 1.234,56"));
    let now_nl = site::format::time(site::Lang::Nl, w.now);
    assert!(nl.contains(&now_nl), "Amsterdam time {now_nl}");
    assert!(en.contains(" CET") || en.contains(" CEST"));
}

#[tokio::test(flavor = "multi_thread")]
async fn user_text_is_escaped() {
    let w = world();
    for path in ["/nl/funds/warmte", "/en/", "/nl/members/coop", "/nl/entries/4"] {
        let (s, body) = get(&w, path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!body.contains("<script>alert"), "{path}: the fund's name is not escaped");
        assert!(!body.contains("<b>Noord</b>"), "{path}: a member's name is not escaped");
    }
    let (_, body) = get(&w, "/nl/funds/warmte").await;
    assert!(
        body.contains("Warmte &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co")
            || body.contains("Warmte &lt;script&gt;"),
        "{body}"
    );
    let _ = EVIL_NAME;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_things_are_a_404_page_in_the_language() {
    let w = world();
    for (path, says) in [
        ("/nl/funds/nope", "Er is geen fonds nope."),
        ("/en/funds/nope", "There is no fund nope."),
        ("/nl/funds/NOT%20AN%20ID", "Niet gevonden"),
        ("/en/proposals/00", "There is no proposal 00."),
        (&format!("/nl/proposals/{}", "ab".repeat(32)), "Er is geen voorstel"),
        (&format!("/en/rounds/{}", "ab".repeat(32)), "There is no budgeting round"),
        ("/nl/members/nobody", "Er is geen lid nobody."),
        ("/en/entries/99999", "There is no record 99999."),
        (&format!("/en/entries/{}", "cd".repeat(32)), "There is no record"),
        ("/nl/log?from=99999", "Het logboek heeft"),
        ("/en/no/such/page", "There is no page /en/no/such/page."),
    ] {
        let (s, body) = get(&w, path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
        let lang = &path[1..3];
        assert!(body.contains(&format!("<html lang=\"{lang}\"")), "{path}");
        assert!(body.contains("id=\"verify-badge\""), "{path}");
    }
    let (s, body) = get(&w, "/nl/log?page=2").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("Onbekende parameter page"), "{body}");
    let (s, body) = get(&w, "/en/log?from=x").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("from=x is not a position"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_root_chooses_the_language() {
    let w = world();
    for (accept, to) in
        [(None, "/nl/"), (Some("en-GB,en;q=0.9"), "/en/"), (Some("nl,en;q=0.5"), "/nl/"), (Some("fr"), "/nl/")]
    {
        let (s, _, location) = get_at(&w, w.now, "/", accept).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some(to), "{accept:?}");
    }
    let (s, body, _) = get_at(&w, w.now, "/?lang=en", Some("en")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("Unknown parameter lang") && body.contains("<html lang=\"en\""), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_past_its_deadline_is_not_shown_open() {
    let w = world();
    let open = format!("/en/proposals/{}", w.ids["open"]);
    let (_, before, _) = get_at(&w, w.now, &open, None).await;
    assert!(before.contains("Voting is open until"), "{before}");
    let (_, after, _) = get_at(&w, w.later(7200), &open, None).await;
    assert!(!after.contains("Voting is open until"), "{after}");
    assert!(after.contains("Voting ended at"), "{after}");
    let (_, closed, _) = get_at(&w, w.now, &format!("/nl/proposals/{}", w.ids["closed"]), None).await;
    assert!(!closed.contains("De stemming loopt tot"), "{closed}");
    assert!(closed.contains("Afgesloten op"), "{closed}");
    assert!(closed.contains("Aangenomen"), "{closed}");
    // Quorum 50% of 3 = 1,5 needed, 3 cast; yes 2 of 2 decided.
    assert!(closed.contains("Quorum 50% van 3 stemgerechtigden = 1,5 stemmen nodig; uitgebracht: 3."), "{closed}");
    assert!(closed.contains("voor 2 van 2 = 100%"), "{closed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_carry_their_record_for_the_browser_check() {
    let w = world();
    let (_, fund) = get(&w, "/nl/funds/warmte").await;
    let c1 = &w.ids["c1"];
    let seq = w.log.seq_of(&c1.parse().unwrap()).unwrap().unwrap();
    assert!(fund.contains(&format!("<tr data-seq=\"{seq}\" data-entry-id=\"{c1}\">")), "{fund}");
    let d = &w.ids["disbursement"];
    let dseq = w.log.seq_of(&d.parse().unwrap()).unwrap().unwrap();
    assert!(fund.contains(&format!("data-seq=\"{dseq}\" data-entry-id=\"{d}\"")));
    // Every data-seq on every page names the record whose id it carries.
    for lang in ["nl", "en"] {
        for p in pages(&w) {
            let (_, body) = get(&w, &format!("/{lang}{p}")).await;
            for (i, _) in body.match_indices("data-seq=\"") {
                let rest = &body[i + 10..];
                let seq: u64 = rest[..rest.find('"').unwrap()].parse().unwrap();
                let id_at = rest.find("data-entry-id=\"").unwrap() + 15;
                let id = &rest[id_at..id_at + 64];
                let bytes = w.log.record(seq).unwrap().unwrap();
                let (real, _) = ledger::record::Record::ids_of_leaf(&bytes).unwrap();
                assert_eq!(real.to_hex(), id, "/{lang}{p}: data-seq {seq}");
            }
        }
    }
    // The log page lists records with full ids linking to their page.
    let (_, log) = get(&w, "/en/log").await;
    assert!(log.contains(&format!("href=\"/en/entries/{c1}\"")), "{log}");
}

/// With witnesses asked (`meent serve --witness`), every page names their
/// keys and the quorum for the check in the browser, and the overview lists
/// them with whether each cosigned the checkpoint shown, whose note carries
/// the cosignatures held.
#[tokio::test(flavor = "multi_thread")]
async fn the_pages_name_the_witnesses_and_the_overview_who_cosigned() {
    let w = world();
    let keys = [ed25519_dalek::SigningKey::from_bytes(&[5; 32]), ed25519_dalek::SigningKey::from_bytes(&[6; 32])];
    let named: Vec<NamedKey> = ["Zonnecollectief", "Voedselbank"]
        .iter()
        .zip(&keys)
        .map(|(name, k)| NamedKey { name: name.to_string(), key: k.verifying_key() })
        .collect();
    let cosigned = Arc::new(Cosigned::new());
    cosigned.ask(named.clone(), 2);
    let (note, cp) = w.log.checkpoint();
    let text = ledger::checkpoint::split_note(&note).unwrap().0.to_owned();
    let line = ledger::witness::cosign(&text, "Zonnecollectief", &keys[0], 1_796_000_000);
    cosigned.add(&text, cp.size, "Zonnecollectief", &line);
    for (lang, yes, not_yet) in [
        ("nl", "heeft dit checkpoint medeondertekend", "heeft dit checkpoint nog niet medeondertekend"),
        ("en", "cosigned this checkpoint", "has not cosigned this checkpoint yet"),
    ] {
        for p in pages(&w) {
            let (_, body, _) = get_witnessed(&w, w.now, &format!("/{lang}{p}"), None, cosigned.clone()).await;
            for k in &named {
                assert!(
                    body.contains(&format!("<meta name=\"meent-witness\" content=\"{}\">", k.witness_vkey())),
                    "{p}"
                );
            }
            assert!(body.contains("<meta name=\"meent-witness-quorum\" content=\"2\">"), "{p}");
        }
        let (_, overview, _) = get_witnessed(&w, w.now, &format!("/{lang}/"), None, cosigned.clone()).await;
        let item = |name: &str| {
            let at = overview.find(&format!("<li data-witness=\"{name}\">")).unwrap_or_else(|| panic!("{overview}"));
            overview[at..at + overview[at..].find("</li>").unwrap()].to_string()
        };
        assert!(item("Zonnecollectief").contains(yes) && !item("Zonnecollectief").contains(not_yet), "{overview}");
        assert!(item("Voedselbank").contains(not_yet), "{overview}");
        // The note shown is the one GET /v1/checkpoint serves: with the cosignature.
        let shown = line.trim_end().replace('+', "&#43;");
        assert!(overview.contains(line.trim_end()) || overview.contains(&shown), "{overview}");
    }
    // Without witnesses the pages name none.
    let (_, plain) = get(&w, "/en/").await;
    assert!(!plain.contains("meent-witness") && !plain.contains("data-witness"), "{plain}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fund_page_shows_the_money_trail_and_charts() {
    let w = world();
    let (_, f) = get(&w, "/en/funds/warmte").await;
    // Charts: SVG with a title, each with its numbers in a captioned table.
    assert_eq!(f.matches("<svg role=\"img\"").count(), 3, "{f}");
    assert!(f.contains("<caption>Confirmed money in by contributor</caption>"));
    assert!(f.contains("<caption>Money paid out by recipient</caption>"));
    assert!(f.contains("<caption>Closing balance per reconciled bank statement</caption>"));
    assert!(f.contains("<th scope=\"col\">"));
    // Money out: to whom, approved by whom, its status.
    assert!(f.contains("href=\"/en/members/late\""));
    assert!(f.contains("requested by"));
    assert!(f.contains("2 / 2"));
    assert!(f.contains("paid out"));
    // Money in: the reconciliation that confirmed it.
    assert!(f.contains(&format!("href=\"/en/entries/{}\"", w.ids["reconciliation"])));
    // The charter in words.
    assert!(f.contains("Every payout needs 2 approvals from treasurers."), "{f}");
    let (_, css) = get(&w, "/site/site.css").await;
    assert!(css.contains(".scroll"));
    let (s, _) = get(&w, "/site/verify.js").await;
    assert_eq!(s, StatusCode::OK);
}

/// After two key rotations the member view says from which record each key
/// signs: every record the member authored carries the key in force at its
/// position by that history (what verify.js checks), the ledger refuses a
/// record signed with a rotated-out key, and the member page shows the
/// history.
#[tokio::test(flavor = "multi_thread")]
async fn the_member_view_tells_which_key_signed_where() {
    let mut w = world();
    let mut rotations = Vec::new();
    for round in 0..2 {
        let new = ledger::crypto::generate_key();
        let body = serde_json::json!({"new_key": ledger::crypto::PublicKey::from(new.verifying_key()).to_hex()});
        rotations.push(w.log.size());
        w.ok("care", ledger::entry::Kind::KeyRotate, body);
        let old = w.keys.insert("care".into(), new).unwrap();
        w.ok(
            "care",
            ledger::entry::Kind::Contribution,
            serde_json::json!({"fund": "warmte", "amount": "1.00", "reference": format!("K-{round}")}),
        );
        // The rotated-out key signs nothing any more.
        let stale = ledger::entry::sign_entry(
            ledger::entry::Kind::Contribution,
            &"care".parse().unwrap(),
            &old,
            &ledger::time::Timestamp::from_instant(w.now),
            serde_json::json!({"fund": "warmte", "amount": "1.00", "reference": "STALE"}),
        )
        .unwrap();
        assert!(w.log.append(vec![stale], w.now).remove(0).is_err(), "a rotated-out key was accepted");
    }
    let m = ledger::views::MemberView::of(w.log.state().register.member(&"care".parse().unwrap()).unwrap());
    let changes: Vec<u64> = rotations.iter().map(|r| r + 1).collect();
    assert_eq!(m.key_changes, changes, "one change per rotation, from the record after it");
    assert_eq!(m.previous_keys.len(), 2);
    let in_force = |seq: u64| match m.key_changes.iter().position(|c| seq < *c) {
        Some(i) => m.previous_keys[i],
        None => m.key,
    };
    let (records, _) = w.log.records(0, 10_000).unwrap();
    let mut seen = 0;
    for bytes in records {
        let rec = ledger::record::Record::from_leaf_bytes(&bytes).unwrap();
        if rec.entry.author.to_string() == "care" {
            assert_eq!(rec.entry.key, in_force(rec.seq), "record {}", rec.seq);
            seen += 1;
        }
    }
    assert!(seen >= 6, "{seen}");
    let (_, page) = get(&w, "/en/members/care").await;
    assert!(page.contains(&format!("(signs from record {} on)", changes[1])), "{page}");
    assert!(page.contains(&format!("(signed up to record {})", changes[0] - 1)), "{page}");
}

/// A fund with more movements than a page holds: the fund page shows the
/// latest, links to older ones, and following the links shows every
/// movement once; a bad cursor is a 400 page.
#[tokio::test(flavor = "multi_thread")]
async fn the_money_trail_is_paged() {
    let w = world();
    for i in 0..60 {
        w.ok(
            "food",
            ledger::entry::Kind::Contribution,
            serde_json::json!({"fund": "warmte", "amount": "2.00", "reference": format!("P-{i}")}),
        );
    }
    let all: Vec<u64> = {
        let s = w.log.state();
        let f = s.funds.fund(&"warmte".parse().unwrap()).unwrap();
        let mut v: Vec<u64> = s.funds.contributions_of(f).map(|c| c.seq).collect();
        v.extend(f.incomes.iter().map(|i| s.funds.incomes[i].seq));
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    };
    assert_eq!(all.len(), 63);
    let section = |page: &str| -> (Vec<u64>, Option<String>, bool) {
        let at = page.find("<section aria-labelledby=\"h-in\">").unwrap();
        let sec = &page[at..at + page[at..].find("</section>").unwrap()];
        let seqs = sec
            .match_indices("<tr data-seq=\"")
            .map(|(i, m)| sec[i + m.len()..].split('"').next().unwrap().parse().unwrap())
            .collect();
        let older = sec.find("?in_before=").map(|i| sec[i + 11..].split('#').next().unwrap().to_string());
        (seqs, older, sec.contains("href=\"/en/funds/warmte#h-in\""))
    };
    let (s, first) = get(&w, "/en/funds/warmte").await;
    assert_eq!(s, StatusCode::OK);
    let (mut seen, mut older, newest) = section(&first);
    assert_eq!(seen.len(), 25);
    assert!(!newest, "the latest page links to itself");
    let mut pages = 1;
    while let Some(b) = older {
        let (s, page) = get(&w, &format!("/en/funds/warmte?in_before={b}")).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains(&format!("href=\"/nl/funds/warmte?in_before={b}\"")), "the switch keeps the page");
        let (seqs, next, newest) = section(&page);
        assert!(newest, "an older page links back to the latest");
        assert!(seqs.iter().all(|s| *s < b.parse::<u64>().unwrap()));
        seen.extend(seqs);
        older = next;
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all, "every movement once, latest first");
    for bad in ["in_before=x", "out_before=-1", "before=3"] {
        let (s, _) = get(&w, &format!("/nl/funds/warmte?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    }
}
