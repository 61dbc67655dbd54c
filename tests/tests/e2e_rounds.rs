//! End to end (issue 4, items 6 and 7): two participatory budgeting rounds played through
//! the real server with the CLI — the worked example of docs/GOVERNANCE.md once under
//! greedy and once under equal shares — each opened by a vote (SPEC §4.5),
//! projects and ballots (one replaced) signed with `meent round`, closed by the server
//! itself at the deadline, shown with `meent round show`, exported with
//! `meent export --format pabulib` and recomputed with `meent pb`, a selected project paid
//! with two treasurer approvals, and `meent verify` at the end.

mod common;
mod scene;

use std::time::{Duration, Instant};

use common::{load_key, meent_ok, post, sign};
use ledger::entry::Kind;
use scene::*;
use serde_json::{json, Value};

const FUND: &str = "buurtbudget-noord";
const COOP: &str = "energie-coop-noord";
const FOOD: &str = "voedselbank-noord";
const CARE: &str = "zorgcollectief-noord";
const CITY: &str = "gemeente-amsterdam";
const PARTNER: &str = "woonstichting-zuid";

/// The three northern collectives.
const NORTH: [&str; 3] = [COOP, FOOD, CARE];

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// Poll the round until `done` holds (the server acts on its own clock).
fn wait_round(sc: &Scene, round: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = sc.get(&format!("/v1/rounds/{round}"));
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "round {round}: {what} did not happen: {r}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// COOP proposes a round (3 days for projects, 7 for ballots) and every member votes yes.
fn propose_round(sc: &Scene, budget: &str, rule: &str) -> String {
    let v = sc.as_member_json(
        COOP,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "round",
            "--title",
            "Buurtbudget",
            "--budget",
            budget,
            "--rule",
            rule,
            "--projects-days",
            "3",
            "--voting-days",
            "7",
        ],
    );
    let p = id(&v);
    for m in [COOP, FOOD, CARE, CITY, PARTNER] {
        sc.as_member(m, &["vote", "--proposal", &p, "--choice", "yes"]);
    }
    p
}

fn sorted(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        v.as_array().expect("a list").iter().map(|x| x.as_str().expect("an id").to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn rounds_through_the_server_and_the_cli() {
    let mut sc = Scene::start();
    for (m, name, kind) in [
        (COOP, "Energie Coöperatie Noord", "collective"),
        (FOOD, "Voedselbank Noord", "collective"),
        (CARE, "Zorgcollectief Noord", "collective"),
        (CITY, "Gemeente Amsterdam", "municipality"),
        (PARTNER, "Woonstichting Zuid", "partner"),
    ] {
        sc.member(m, name, kind);
    }
    let charter = sc.write(
        "charter.json",
        &json!({"admission": "open", "treasurers": [COOP, CITY, CARE], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
                "voting_period_seconds": 3600, "max_request": "10000.00", "dissolution": "pro_rata_refund"})
        .to_string(),
    );
    sc.as_member(
        COOP,
        &[
            "fund",
            "create",
            "--id",
            FUND,
            "--name",
            "Buurtbudget Noord",
            "--purpose",
            "Wat de buurt kiest",
            "--charter",
            s(&charter),
        ],
    );
    for m in [FOOD, CARE, CITY, PARTNER] {
        sc.as_member(m, &["fund", "join", "--fund", FUND]);
    }
    let mut confirmed = Vec::new();
    for (m, amount, reference) in [(COOP, "8000.00", "BB-1"), (CITY, "10000.00", "BB-2"), (FOOD, "2000.00", "BB-3")] {
        let v = sc.as_member_json(m, &["contribute", "--fund", FUND, "--amount", amount, "--reference", reference]);
        confirmed.push(id(&v));
    }
    // The bank statement shows the money arrived (signed directly: the reconcile tool has its own tests).
    let recon = sign(
        Kind::Reconciliation,
        COOP,
        &load_key(sc.key(COOP)),
        json!({"fund": FUND, "statement_sha256": "ab".repeat(32), "period_from": day(-1), "period_to": day(0),
               "opening_balance": "0.00", "closing_balance": "20000.00", "confirmed": confirmed, "unmatched_bank_lines": 0}),
    );
    assert_eq!(post(&sc.http, &sc.url, &recon).0, 201);
    assert_eq!(sc.balances(FUND)["available"], "20000.00");

    // Two rounds of 10 000.00 on the same projects and ballots, one per rule, each opened by a vote.
    let key = |m: &str| s(sc.key(m)).to_string();
    let mut rounds = Vec::new();
    for rule in ["greedy", "equal_shares"] {
        let p = propose_round(&sc, "10000.00", rule);
        let closed = sc.wait_closed(&p);
        assert_eq!(closed["outcome"], "passed", "{closed}");
        let r = wait_round(&sc, &p, "the opening", |v| v["status"] == "open");
        assert_eq!(r["budget"], "10000.00");
        rounds.push(p);
    }
    let b = sc.balances(FUND);
    assert_eq!(
        (b["committed"].as_str(), b["available"].as_str()),
        ("20000.00", "0.00"),
        "both budgets are committed while the rounds run"
    );
    // A member alone cannot open a round any more...
    let (code, _, err) =
        run(&["round", "open", "--fund", FUND, "--key", &key(COOP), "--as", COOP, "--server", &sc.url]);
    assert_eq!(code, 2, "{err}");
    // ... and a third round, even voted through, cannot be financed.
    let third = propose_round(&sc, "0.01", "greedy");
    assert_eq!(sc.wait_closed(&third)["outcome"], "rejected_insufficient_funds");
    assert_eq!(common::get(&sc.http, &sc.url, &format!("/v1/rounds/{third}")).0, 404);

    let mut projects: Vec<[String; 3]> = Vec::new();
    for r in &rounds {
        let mut ids = Vec::new();
        for (author, title, cost, recipient) in [
            (CARE, "Heat pumps north", "6000.00", CARE),
            (FOOD, "Playground north", "4000.00", FOOD),
            (PARTNER, "Food pantry south", "4000.00", PARTNER),
        ] {
            let v = sc.as_member_json(
                author,
                &[
                    "round",
                    "project",
                    "--round",
                    r,
                    "--title",
                    title,
                    "--description",
                    "for the worked example",
                    "--cost",
                    cost,
                    "--recipient",
                    recipient,
                ],
            );
            ids.push(id(&v));
        }
        projects.push(ids.try_into().expect("three projects"));
    }
    // Too early to vote.
    let [heat, play, _] = projects[0].clone();
    let (code, _, err) = run(&[
        "round",
        "ballot",
        "--round",
        &rounds[0],
        "--approve",
        &heat,
        "--key",
        &key(COOP),
        "--as",
        COOP,
        "--server",
        &sc.url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("voting_not_open"), "{err}");
    let show = meent_ok(&["round", "show", &rounds[0], "--server", &sc.url]);
    assert!(show.contains("Heat pumps north") && show.contains("open (projects)"), "{show}");

    // Three days later (by the scene's clock, tests/tests/common) the ballots open.
    sc.clock.advance(Duration::from_secs(3 * 86_400 + 60));
    for (r, [heat, play, pantry]) in rounds.iter().zip(&projects) {
        wait_round(&sc, r, "voting", |v| v["phase"] == "voting");
        for m in NORTH {
            sc.as_member(m, &["round", "ballot", "--round", r, "--approve", &format!("{heat},{play}")]);
        }
        sc.as_member(CITY, &["round", "ballot", "--round", r, "--approve", heat, "--approve", pantry]);
        // Partner first approves the heat pumps too, then replaces its ballot.
        sc.as_member(PARTNER, &["round", "ballot", "--round", r, "--approve", heat]);
        sc.as_member(PARTNER, &["round", "ballot", "--round", r, "--approve", pantry]);
    }
    let v: Value =
        serde_json::from_str(&meent_ok(&["round", "show", &rounds[1], "--server", &sc.url, "--json"])).unwrap();
    assert_eq!((v["phase"].as_str(), v["ballot_count"].as_u64()), (Some("voting"), Some(5)), "{v}");
    assert_eq!(v["projects"][0]["approvals"], Value::Null, "no tallies while people vote");

    // A week later the server closes both rounds at their deadline.
    sc.clock.advance(Duration::from_secs(7 * 86_400));
    let greedy = wait_round(&sc, &rounds[0], "the close", |v| v["status"] == "closed");
    let shares = wait_round(&sc, &rounds[1], "the close", |v| v["status"] == "closed");
    for r in [&greedy, &shares] {
        let rec = sc.get(&format!("/v1/entries/{}", r["closed_seq"]));
        assert_eq!(
            (rec["entry"]["author"].as_str(), rec["entry"]["kind"].as_str()),
            (Some("operator"), Some("round.close")),
            "{rec}"
        );
        assert_eq!(r["outcome"]["voters"], 5);
        assert_eq!(r["outcome"]["total_cost"], "10000.00");
        assert_eq!(r["outcome"]["released"], "0.00");
    }
    let mut want = vec![heat.clone(), play.clone()];
    want.sort();
    assert_eq!(sorted(&greedy["outcome"]["selected"]), want, "greedy: heat pumps and playground");
    assert_eq!(greedy["projects"][0]["approvals"], 4);
    assert_eq!(greedy["projects"][2]["approvals"], 2);
    let [s_heat, s_play, s_pantry] = projects[1].clone();
    let mut want = vec![s_heat.clone(), s_pantry.clone()];
    want.sort();
    assert_eq!(sorted(&shares["outcome"]["selected"]), want, "equal shares: heat pumps and pantry");
    assert_eq!(shares["outcome"]["budget_per_voter"], "2833");
    let pays: Vec<&str> =
        shares["outcome"]["payments"].as_array().unwrap().iter().map(|p| p["display"].as_str().unwrap()).collect();
    assert_eq!(
        pays,
        [
            "6000.00 paid by 4 supporters: 4 paid 1500.00 each",
            "4000.00 paid by 2 supporters: 1 paid 2667.00 each, 1 paid 1333.00 together (all they had left)"
        ]
    );
    let shown = meent_ok(&["round", "show", &rounds[1], "--server", &sc.url]);
    assert!(
        shown.contains("per-voter budget reached: 2833")
            && shown.contains("Food pantry south: 4000.00 paid by 2 supporters"),
        "{shown}"
    );
    // Closing again signs nothing.
    let again = sc.as_member(FOOD, &["round", "close", "--round", &rounds[1]]);
    assert!(again.contains("closed by record"), "{again}");

    // Export each round as a .pb file and recompute its outcome with `meent pb`.
    for (r, rule, v) in [(&rounds[0], "greedy", &greedy), (&rounds[1], "equal_shares", &shares)] {
        let file = sc.dir.join(format!("{rule}.pb"));
        meent_ok(&["export", "--format", "pabulib", "--round", r, "--server", &sc.url, "--out", s(&file)]);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("META\nkey;value\n")
                && text.contains("vote_type;approval")
                && text.contains(&format!("{PARTNER};")),
            "{text}"
        );
        let out = meent_ok(&["pb", s(&file), "--rule", rule]);
        let got: Vec<String> = out.split_whitespace().map(String::from).collect();
        assert_eq!(got, sorted(&v["outcome"]["selected"]), "{rule}: meent pb on the export agrees with the ledger");
        let j: Value = serde_json::from_str(&meent_ok(&["pb", s(&file), "--rule", rule, "--json"])).unwrap();
        assert_eq!(j["voters"], 5);
        assert_eq!(j["budget_per_voter"], v["outcome"]["budget_per_voter_display"]);
    }
    // Standard output works too, and is the same file.
    let stdout = meent_ok(&["export", "--format", "pabulib", "--round", &rounds[1], "--server", &sc.url]);
    assert_eq!(stdout, std::fs::read_to_string(sc.dir.join("equal_shares.pb")).unwrap());

    // The pantry is paid like an allocation: requested by one treasurer, approved by another.
    let (code, _, err) = run(&[
        "disburse",
        "--allocation",
        &s_play,
        "--amount",
        "10.00",
        "--reference",
        "BB-PLAY",
        "--key",
        &key(COOP),
        "--as",
        COOP,
        "--server",
        &sc.url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("allocation_not_passed"), "{err}");
    let d = sc.as_member_json(
        COOP,
        &["disburse", "--allocation", &s_pantry, "--amount", "4000.00", "--reference", "BB-PANTRY"],
    );
    sc.as_member(CITY, &["approve", "--disbursement", &id(&d)]);
    let b = sc.balances(FUND);
    assert_eq!(
        (b["confirmed"].as_str(), b["committed"].as_str(), b["disbursed"].as_str(), b["available"].as_str()),
        ("20000.00", "16000.00", "4000.00", "0.00")
    );
    let flows = sc.get(&format!("/v1/funds/{FUND}/flows"));
    let paid = &flows["disbursements"][0];
    assert_eq!(
        (paid["recipient"].as_str(), paid["status"].as_str(), paid["allocation"].as_str()),
        (Some(PARTNER), Some("executed"), Some(s_pantry.as_str()))
    );
    let fund = sc.fund(FUND);
    assert_eq!(fund["rounds"].as_array().map(Vec::len), Some(2));
    assert_eq!(fund["rounds"][1]["status"], "closed");

    // The whole log verifies; a data-directory export gives the same file.
    meent_ok(&["verify", "--server", &sc.url]);
    sc.server.stop();
    let data = sc.dir.join("data");
    let offline = meent_ok(&["export", "--format", "pabulib", "--round", &rounds[1], "--data", s(&data)]);
    assert_eq!(offline, stdout);
}
