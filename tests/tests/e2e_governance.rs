//! End to end (issue 16, "Done when"): the governance of SPEC §4.5 through the
//! real server and the `meent` command, with the scene's clock letting weeks
//! pass. The attacks of a single member — open a round alone, lock the pool
//! with a round, pass its own allocation, change the charter by a simple
//! majority — are each refused or harmless; a lost key is recovered after
//! seven days and its member is paid and votes with the new key, while a
//! recovery the member cancels leaves the old key in force; a dormant member
//! is excluded and the next proposal reaches the quorum it missed before; the
//! registrars change by a majority of them; and `meent verify` replays it all.

mod common;
mod scene;

use std::time::Duration;

use common::{keygen, load_key, meent_ok, post, sign};
use ledger::entry::Kind;
use scene::*;
use serde_json::{json, Value};

const FUND: &str = "buurtfonds";
const COOP: &str = "energie-coop";
const CITY: &str = "gemeente-amsterdam";
const CARE: &str = "zorgcollectief";
const FOOD: &str = "voedselbank";
const SLEEPY: &str = "slapend-collectief";
const GREEDY: &str = "hebberig-collectief";
const WEEK: u64 = 7 * 86_400;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// Run `meent ARGS --key KEY --as WHO --server URL`, which must fail with exit 1 naming `code`.
fn refused(sc: &Scene, who: &str, key: &std::path::Path, args: &[&str], code: &str) {
    let mut v: Vec<&str> = args.to_vec();
    v.extend(["--key", s(key), "--as", who, "--server", &sc.url]);
    let (status, _, err) = run(&v);
    assert_eq!(status, 1, "{args:?}: {err}");
    assert!(err.contains(code), "{args:?}: expected {code}: {err}");
}

fn vote(sc: &Scene, who: &str, p: &str, choice: &str) {
    sc.as_member(who, &["vote", "--proposal", p, "--choice", choice]);
}

fn allocation(sc: &Scene, by: &str, amount: &str, recipient: &str) -> String {
    id(&sc.as_member_json(
        by,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "allocation",
            "--title",
            "a grant",
            "--amount",
            amount,
            "--recipient",
            recipient,
        ],
    ))
}

#[test]
fn governance_through_the_server_and_the_cli() {
    let mut sc = Scene::start();
    for (m, name, kind) in [
        (COOP, "Energie Coöperatie", "collective"),
        (CITY, "Gemeente Amsterdam", "municipality"),
        (CARE, "Zorgcollectief", "collective"),
        (FOOD, "Voedselbank", "collective"),
        (SLEEPY, "Slapend Collectief", "collective"),
        (GREEDY, "Hebberig Collectief", "collective"),
    ] {
        sc.member(m, name, kind);
    }
    let charter = |treasurers: &[&str], approvals: u32| {
        json!({"admission": "open", "treasurers": treasurers, "approvals_required": approvals, "quorum": "0.7", "threshold": "0.5",
               "voting_period_seconds": WEEK, "max_request": "5000.00", "dissolution": "pro_rata_refund"})
        .to_string()
    };
    let c = sc.write("charter.json", &charter(&[COOP, CITY, CARE], 2));
    sc.as_member(
        COOP,
        &["fund", "create", "--id", FUND, "--name", "Buurtfonds", "--purpose", "samen", "--charter", s(&c)],
    );
    for m in [CITY, CARE, FOOD, SLEEPY, GREEDY] {
        sc.as_member(m, &["fund", "join", "--fund", FUND]);
    }
    let mut confirmed = Vec::new();
    for (m, amount, r) in [(COOP, "3000.00", "G-1"), (CITY, "3000.00", "G-2"), (FOOD, "1000.00", "G-3")] {
        confirmed
            .push(id(&sc.as_member_json(m, &["contribute", "--fund", FUND, "--amount", amount, "--reference", r])));
    }
    let recon = sign(
        Kind::Reconciliation,
        COOP,
        &load_key(sc.key(COOP)),
        json!({"fund": FUND, "statement_sha256": "cd".repeat(32), "period_from": day(-1), "period_to": day(0),
               "opening_balance": "0.00", "closing_balance": "7000.00", "confirmed": confirmed, "unmatched_bank_lines": 0}),
    );
    assert_eq!(post(&sc.http, &sc.url, &recon).0, 201);
    let pool = sc.balances(FUND);
    assert_eq!(pool["available"], "7000.00");

    // Attack 1: open a round alone. The command is gone, and a signed round.open is refused.
    let (status, _, err) = run(&["round", "open", "--fund", FUND]);
    assert_eq!(status, 2, "{err}");
    let e = sign(
        Kind::RoundOpen,
        GREEDY,
        &load_key(sc.key(GREEDY)),
        json!({"fund": FUND, "budget": "7000.00", "rule": "greedy", "projects_until": day(1) + "T00:00:00Z", "closes_at": day(2) + "T00:00:00Z"}),
    );
    let (st, body) = post(&sc.http, &sc.url, &e);
    assert_eq!((st, body["error"]["code"].as_str()), (403, Some("round_needs_proposal")), "{body}");

    // Attack 2: lock the pool with a round of everything, voted by the proposer alone.
    let lock = id(&sc.as_member_json(
        GREEDY,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "round",
            "--title",
            "alles",
            "--budget",
            "7000.00",
            "--rule",
            "greedy",
            "--projects-days",
            "1",
            "--voting-days",
            "1",
        ],
    ));
    vote(&sc, GREEDY, &lock, "yes");
    assert_eq!(sc.balances(FUND), pool, "a round proposal commits nothing");

    // Attack 3: pass its own allocation. The recipient may not vote on it.
    let own = allocation(&sc, GREEDY, "5000.00", GREEDY);
    refused(&sc, GREEDY, sc.key(GREEDY), &["vote", "--proposal", &own, "--choice", "yes"], "conflict_of_interest");
    let p = sc.get(&format!("/v1/proposals/{own}"));
    assert!(!p["counted"].as_array().unwrap().iter().any(|m| m == GREEDY), "{p}");

    // Attack 4: take the treasury by a simple majority: 4 of 6 (66.7 %) is not the two thirds the charter needs.
    let takeover = sc.write("takeover.json", &charter(&[GREEDY, FOOD], 1));
    let change = id(&sc.as_member_json(
        GREEDY,
        &["propose", "--fund", FUND, "--kind", "charter", "--title", "two treasurers", "--charter", s(&takeover)],
    ));
    for (m, choice) in [(GREEDY, "yes"), (FOOD, "yes"), (SLEEPY, "yes"), (CARE, "yes"), (COOP, "no"), (CITY, "no")] {
        vote(&sc, m, &change, choice);
    }
    let closed = sc.wait_closed(&change);
    assert_eq!(
        (closed["outcome"].as_str(), closed["threshold"].as_str()),
        (Some("rejected"), Some("0.6667")),
        "{closed}"
    );
    assert_eq!(sc.fund(FUND)["treasurers"], json!([COOP, CITY, CARE]));

    // Before the exclusion: a grant for food with three votes misses the quorum (0.7 × 5 counted).
    let before = allocation(&sc, COOP, "500.00", FOOD);
    for m in [COOP, CITY, CARE] {
        vote(&sc, m, &before, "yes");
    }

    // Food lost its key: the registrar records a new one. Not yet in force.
    let (food_new, _) = keygen(&sc.dir, "voedselbank-nieuw");
    let rec = id(&sc.as_member_json(
        REGISTRAR,
        &[
            "key",
            "recover",
            "--member",
            FOOD,
            "--new-key",
            s(&food_new),
            "--reason",
            "the laptop with the key was stolen",
        ],
    ));
    assert_eq!(sc.get(&format!("/v1/members/{FOOD}"))["pending_recovery"], rec);
    refused(&sc, FOOD, &food_new, &["member", "update", "--legal-form", "stichting"], "wrong_key");
    // Someone asks the registrar to replace care's key; care, holding its key, cancels.
    let (care_new, _) = keygen(&sc.dir, "zorg-vals");
    let false_rec = id(&sc.as_member_json(
        REGISTRAR,
        &[
            "key",
            "recover",
            "--member",
            CARE,
            "--new-key",
            s(&care_new),
            "--reason",
            "a phone call claiming to be care",
        ],
    ));
    sc.as_member(CARE, &["key", "cancel", "--recovery", &false_rec]);

    // A week passes: the server closes the votes.
    sc.clock.advance(Duration::from_secs(WEEK + 60));
    for (p, outcome) in [(&lock, "rejected_no_quorum"), (&own, "rejected_no_quorum"), (&before, "rejected_no_quorum")] {
        assert_eq!(sc.wait_closed(p)["outcome"], outcome, "{p}");
    }
    assert_eq!(sc.balances(FUND), pool, "nothing was locked or paid");
    assert_eq!(common::get(&sc.http, &sc.url, &format!("/v1/rounds/{lock}")).0, 404);

    // Food's new key is in force, the old one refused; care's old key still works, the false one not.
    refused(&sc, FOOD, sc.key(FOOD), &["member", "update", "--legal-form", "stichting"], "wrong_key");
    meent_ok(&[
        "member",
        "update",
        "--legal-form",
        "stichting",
        "--kvk",
        "12345678",
        "--key",
        s(&food_new),
        "--as",
        FOOD,
        "--server",
        &sc.url,
    ]);
    let m = sc.get(&format!("/v1/members/{FOOD}"));
    assert_eq!((m["legal_form"].as_str(), m["kvk"].as_str()), (Some("stichting"), Some("12345678")));
    assert_eq!(m["key"].as_str().unwrap().len(), 64);
    assert_eq!(m["previous_keys"].as_array().map(Vec::len), Some(1), "{m}");
    refused(&sc, CARE, &care_new, &["member", "update", "--purpose", "false"], "wrong_key");
    sc.as_member(CARE, &["member", "update", "--purpose", "care between neighbours"]);

    // The dormant member is excluded (by two thirds; it does not vote on its own exclusion).
    let x = id(&sc.as_member_json(
        COOP,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "exclusion",
            "--title",
            "slapend lid",
            "--member",
            SLEEPY,
            "--reason",
            "no vote, no contribution, no answer for a year",
        ],
    ));
    refused(&sc, SLEEPY, sc.key(SLEEPY), &["vote", "--proposal", &x, "--choice", "no"], "conflict_of_interest");
    refused(
        &sc,
        COOP,
        sc.key(COOP),
        &["propose", "--fund", FUND, "--kind", "exclusion", "--title", "t", "--member", CITY, "--reason", "r"],
        "member_is_treasurer",
    );
    for m in [COOP, CITY, CARE] {
        vote(&sc, m, &x, "yes");
    }
    meent_ok(&["vote", "--proposal", &x, "--choice", "yes", "--key", s(&food_new), "--as", FOOD, "--server", &sc.url]);
    vote(&sc, GREEDY, &x, "no");
    assert_eq!(sc.wait_closed(&x)["outcome"], "passed");
    let f = sc.fund(FUND);
    assert!(!f["members"].as_array().unwrap().iter().any(|m| m == SLEEPY), "{f}");
    assert_eq!(f["excluded"][0]["reason"], "no vote, no contribution, no answer for a year");

    // The same grant, the same three votes: now it reaches the quorum (0.7 × 4 counted) and passes.
    let grant = allocation(&sc, COOP, "500.00", FOOD);
    for m in [COOP, CITY, CARE] {
        vote(&sc, m, &grant, "yes");
    }
    sc.clock.advance(Duration::from_secs(WEEK + 60));
    assert_eq!(sc.wait_closed(&grant)["outcome"], "passed");
    // The recovered member is paid like any other.
    let d = sc
        .as_member_json(COOP, &["disburse", "--allocation", &grant, "--amount", "500.00", "--reference", "GOV-FOOD-1"]);
    sc.as_member(CITY, &["approve", "--disbursement", &id(&d)]);
    let b = sc.balances(FUND);
    assert_eq!((b["disbursed"].as_str(), b["available"].as_str()), ("500.00", "6500.00"));

    // The registrars change by a majority of them: one registrar adds the city at once;
    // removing the first registrar then needs both; the last one cannot go.
    sc.as_member(REGISTRAR, &["registrar", "add", "--member", CITY, "--reason", "a second registrar"]);
    assert_eq!(sc.get(&format!("/v1/members/{CITY}"))["registrar"], true);
    let rm = id(&sc.as_member_json(CITY, &["registrar", "remove", "--member", REGISTRAR]));
    assert_eq!(sc.get(&format!("/v1/members/{REGISTRAR}"))["registrar"], true, "one of two is no majority");
    sc.as_member(REGISTRAR, &["registrar", "approve", "--proposal", &rm]);
    assert_eq!(sc.get(&format!("/v1/members/{REGISTRAR}"))["registrar"], false);
    refused(&sc, CITY, sc.key(CITY), &["registrar", "remove", "--member", CITY], "last_registrar");

    // The whole log replays.
    let out = meent_ok(&["verify", "--server", &sc.url]);
    assert!(out.starts_with("ok:"), "{out}");
}
