//! End to end (issue 3, item 8): a fund's whole life over HTTP with the CLI — register,
//! create with a charter file, join by admission vote, a matching pledge, contributions,
//! reconciliation of the bank statement (`meent reconcile --record`), proposals and votes
//! closed by the server or by `meent close`, a payout with two treasurer approvals,
//! dissolution with pro-rata refunds to the cent paid by disbursements — with the balances
//! checked through the API at every step and `meent verify --server` at the end.

mod common;
mod scene;

use std::time::Duration;

use common::meent_ok;
use scene::*;
use serde_json::{json, Value};

const FUND: &str = "buurtfonds-oost";
const COOP: &str = "energie-coop-oost";
const FOOD: &str = "voedselbank-oost";
const CARE: &str = "zorgcollectief-oost";
const CITY: &str = "gemeente-amsterdam";

fn balances(sc: &Scene) -> [String; 5] {
    let b = sc.balances(FUND);
    ["pledged", "confirmed", "committed", "disbursed", "available"].map(|k| b[k].clone())
}

fn assert_balances(sc: &Scene, want: [&str; 5], when: &str) {
    assert_eq!(
        balances(sc),
        want.map(String::from),
        "balances (pledged, confirmed, committed, disbursed, available) {when}"
    );
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

fn record(sc: &Scene, statement: &std::path::Path, treasurer: &str) -> Value {
    let (code, out, err) = run(&[
        "reconcile",
        "--fund",
        FUND,
        "--statement",
        s(statement),
        "--server",
        &sc.url,
        "--record",
        "--key",
        s(sc.key(treasurer)),
        "--as",
        treasurer,
        "--json",
    ]);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    assert_eq!(code, 0, "reconcile {}: {v}\n{err}", statement.display());
    assert!(v["recorded"]["id"].is_string(), "{v}");
    v
}

#[test]
fn a_funds_whole_life() {
    let mut sc = Scene::start();
    for (m, name, kind) in [
        (COOP, "Energie Coöperatie Oost", "collective"),
        (FOOD, "Voedselbank Oost", "collective"),
        (CARE, "Zorgcollectief Oost", "collective"),
        (CITY, "Gemeente Amsterdam", "municipality"),
    ] {
        sc.member(m, name, kind);
    }
    let members = sc.get("/v1/members");
    assert_eq!(
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "admitted" && m["registrar"] == false)
            .count(),
        4,
        "{members}"
    );

    // Created with a charter file; admission by vote; three treasurers, two approvals per payout.
    let charter = sc.write(
        "charter.json",
        &json!({"admission": "vote", "treasurers": [COOP, FOOD, CITY], "approvals_required": 2, "quorum": "0.5", "threshold": "0.5",
                "voting_period_seconds": 604800, "max_request": "25000.00", "dissolution": "pro_rata_refund"})
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
            "Buurtfonds Oost",
            "--purpose",
            "Hulp tussen buren",
            "--charter",
            s(&charter),
        ],
    );
    assert_eq!(sc.fund(FUND)["members"], json!([COOP]));

    // Joining opens an admission vote among the members at that moment; when they have all
    // voted the server closes it.
    let join = sc.as_member_json(FOOD, &["fund", "join", "--fund", FUND]);
    sc.as_member(COOP, &["vote", "--proposal", &id(&join), "--choice", "yes"]);
    assert_eq!(sc.wait_closed(&id(&join))["outcome"], "passed");
    let join = sc.as_member_json(CARE, &["fund", "join", "--fund", FUND]);
    for m in [COOP, FOOD] {
        sc.as_member(m, &["vote", "--proposal", &id(&join), "--choice", "yes"]);
    }
    assert_eq!(sc.wait_closed(&id(&join))["outcome"], "passed");
    let join = sc.as_member_json(CITY, &["fund", "join", "--fund", FUND]);
    for (m, c) in [(COOP, "yes"), (FOOD, "yes"), (CARE, "no")] {
        sc.as_member(m, &["vote", "--proposal", &id(&join), "--choice", c]);
    }
    let p = sc.wait_closed(&id(&join));
    assert_eq!(
        (p["outcome"].as_str(), p["tally"]["yes"].as_u64(), p["tally"]["no"].as_u64()),
        (Some("passed"), Some(2), Some(1))
    );
    assert_eq!(sc.fund(FUND)["members"].as_array().unwrap().len(), 4);

    // The municipality's matching pledge, then the contributions (pledged until the bank confirms them).
    let pledge =
        sc.as_member_json(CITY, &["pledge", "--fund", FUND, "--ratio", "1.0", "--cap", "1000.00", "--until", &day(30)]);
    for (m, amount, reference) in
        [(COOP, "600.00", "BO-COOP-1"), (FOOD, "300.00", "BO-FOOD-1"), (CARE, "100.00", "BO-CARE-1")]
    {
        sc.as_member(m, &["contribute", "--fund", FUND, "--amount", amount, "--reference", reference]);
    }
    // The municipality's payment names the pledge it settles.
    let p = id(&pledge);
    sc.as_member(
        CITY,
        &["contribute", "--fund", FUND, "--amount", "1000.00", "--reference", "BO-GEM-1", "--matching", &p],
    );
    assert_balances(&sc, ["2000.00", "0.00", "0.00", "0.00", "0.00"], "after the pledges");
    assert_eq!(sc.fund(FUND)["matching_pledges"][0]["owed"], "0.00", "nothing confirmed, nothing owed");

    // The bank statement: reconciled and recorded by a treasurer.
    let s1 = sc.write(
        "s1.xml",
        &camt(
            "BO-1",
            &day(-1),
            &day(0),
            "0.00",
            "2000.00",
            &[
                credit("A1", "600.00", &day(-1), "BO-COOP-1"),
                credit("A2", "300.00", &day(-1), "BO-FOOD-1"),
                credit("A3", "100.00", &day(0), "BO-CARE-1"),
                credit("A4", "1000.00", &day(0), "BO-GEM-1 matching"),
            ],
        ),
    );
    let v = record(&sc, &s1, FOOD);
    assert_eq!(v["entry"]["confirmed"].as_array().unwrap().len(), 4);
    assert_balances(&sc, ["0.00", "2000.00", "0.00", "0.00", "2000.00"], "after the reconciliation");
    let m = &sc.fund(FUND)["matching_pledges"][0];
    assert_eq!(
        (m["matched"].as_str(), m["owed"].as_str(), m["paid"].as_str(), m["outstanding"].as_str()),
        (Some("1000.00"), Some("1000.00"), Some("1000.00"), Some("0.00")),
        "{m}"
    );

    // An allocation: every counted member votes, the server closes it as soon as all have voted.
    let a = sc.as_member_json(
        CARE,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "allocation",
            "--title",
            "Boodschappenhulp",
            "--amount",
            "800.01",
            "--recipient",
            CARE,
        ],
    );
    // (The recipient, care, has a conflict of interest: it neither votes nor counts.)
    for (m, c) in [(COOP, "yes"), (FOOD, "yes"), (CITY, "abstain")] {
        sc.as_member(m, &["vote", "--proposal", &id(&a), "--choice", c]);
    }
    let p = sc.wait_closed(&id(&a));
    assert_eq!(p["outcome"], "passed", "{p}");
    assert_eq!((p["tally"]["yes"].as_u64(), p["tally"]["abstain"].as_u64()), (Some(2), Some(1)));
    assert_balances(&sc, ["0.00", "2000.00", "800.01", "0.00", "1199.99"], "after the allocation passed");

    // A proposal that misses its quorum: one vote of three counted, closed at the deadline (by the
    // server's closer or by `meent close`, whichever comes first).
    let b = sc.as_member_json(
        FOOD,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "allocation",
            "--title",
            "Te groot",
            "--amount",
            "5000.00",
            "--recipient",
            FOOD,
        ],
    );
    sc.as_member(COOP, &["vote", "--proposal", &id(&b), "--choice", "no"]);
    let early = run(&["close", "--proposal", &id(&b), "--key", s(sc.key(COOP)), "--as", COOP, "--server", &sc.url]);
    assert_eq!(early.0, 1, "closing before the deadline is refused: {early:?}");
    assert!(early.2.contains("too_early_to_close"), "{early:?}");
    // A week later, by the scene's clock (tests/tests/common), the vote is due.
    sc.clock.advance(Duration::from_secs(7 * 86_400 + 60));
    let out = sc.as_member(CARE, &["close", "--proposal", &id(&b)]);
    assert!(out.contains("rejected_no_quorum"), "{out}");
    assert_eq!(sc.get(&format!("/v1/proposals/{}", id(&b)))["outcome"], "rejected_no_quorum");
    let late = run(&[
        "vote",
        "--proposal",
        &id(&b),
        "--choice",
        "yes",
        "--key",
        s(sc.key(CITY)),
        "--as",
        CITY,
        "--server",
        &sc.url,
    ]);
    assert_eq!(late.0, 1, "a vote after the close is refused: {late:?}");

    // The payout: requested by one treasurer, approved by a second; the recipient never approves.
    let d = sc
        .as_member_json(COOP, &["disburse", "--allocation", &id(&a), "--amount", "800.01", "--reference", "BO-PAY-1"]);
    let self_approval =
        run(&["approve", "--disbursement", &id(&d), "--key", s(sc.key(COOP)), "--as", COOP, "--server", &sc.url]);
    assert_eq!(self_approval.0, 1, "{self_approval:?}");
    assert_balances(&sc, ["0.00", "2000.00", "800.01", "0.00", "1199.99"], "with the payout pending");
    sc.as_member(CITY, &["approve", "--disbursement", &id(&d)]);
    assert_balances(&sc, ["0.00", "2000.00", "0.00", "800.01", "1199.99"], "after the payout executed");
    let s2 = sc.write(
        "s2.xml",
        &camt("BO-2", &day(0), &day(0), "2000.00", "1199.99", &[debit("A5", "800.01", &day(0), "BO-PAY-1")]),
    );
    let v = record(&sc, &s2, CITY);
    assert_eq!(v["entry"]["confirmed"], json!([id(&d)]));
    assert_eq!(sc.get(&format!("/v1/funds/{FUND}/flows"))["disbursements"][0]["status"], "confirmed");

    // Dissolution: the 1199.99 left is owed back pro rata to the confirmed contributions, to
    // the cent (largest remainders get the odd cents).
    let x = sc.as_member_json(CITY, &["propose", "--fund", FUND, "--kind", "dissolution", "--title", "Opheffen"]);
    for m in [COOP, FOOD, CARE, CITY] {
        sc.as_member(m, &["vote", "--proposal", &id(&x), "--choice", "yes"]);
    }
    assert_eq!(sc.wait_closed(&id(&x))["outcome"], "passed");
    let f = sc.fund(FUND);
    assert_eq!(f["status"], "dissolved");
    assert_eq!(f["dissolution"]["pool"], "1199.99");
    let owed: Vec<(String, String)> = f["dissolution"]["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["member"].as_str().unwrap().to_string(), r["owed"].as_str().unwrap().to_string()))
        .collect();
    let want = [(COOP, "360.00"), (CARE, "60.00"), (CITY, "599.99"), (FOOD, "180.00")];
    let mut got = owed.clone();
    got.sort();
    let mut want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    want.sort();
    assert_eq!(got, want);
    assert_balances(&sc, ["0.00", "2000.00", "1199.99", "800.01", "0.00"], "after the dissolution");
    let refused = run(&[
        "contribute",
        "--fund",
        FUND,
        "--amount",
        "5.00",
        "--reference",
        "TOO-LATE",
        "--key",
        s(sc.key(CARE)),
        "--as",
        CARE,
        "--server",
        &sc.url,
    ]);
    assert_eq!(refused.0, 1);
    assert!(refused.2.contains("fund_dissolved"), "{refused:?}");

    // The refunds, each requested by one treasurer and approved by another (never by its recipient).
    let mut lines = Vec::new();
    for (recipient, amount, requester, approver, reference) in [
        (COOP, "360.00", CITY, FOOD, "BO-REF-COOP"),
        (FOOD, "180.00", CITY, COOP, "BO-REF-FOOD"),
        (CARE, "60.00", COOP, FOOD, "BO-REF-CARE"),
        (CITY, "599.99", COOP, FOOD, "BO-REF-GEM"),
    ] {
        let r = sc.as_member_json(
            requester,
            &[
                "disburse",
                "--allocation",
                &id(&x),
                "--amount",
                amount,
                "--reference",
                reference,
                "--recipient",
                recipient,
            ],
        );
        sc.as_member(approver, &["approve", "--disbursement", &id(&r)]);
        let flows = sc.get(&format!("/v1/funds/{FUND}/flows"));
        let ds = flows["disbursements"].as_array().unwrap();
        let this = ds.iter().find(|d| d["id"] == id(&r).as_str()).unwrap();
        assert_eq!(
            (this["recipient"].as_str(), this["status"].as_str()),
            (Some(recipient), Some("executed")),
            "{this}"
        );
        lines.push(debit(&format!("R-{recipient}"), amount, &day(0), reference));
    }
    assert_balances(&sc, ["0.00", "2000.00", "0.00", "2000.00", "0.00"], "after the refunds");
    for r in sc.fund(FUND)["dissolution"]["refunds"].as_array().unwrap() {
        assert_eq!(r["paid"], r["owed"], "{r}");
        assert_eq!(r["outstanding"], "0.00", "{r}");
    }

    // The last statement: the four refunds leave the account empty; everything is explained.
    let s3 = sc.write("s3.xml", &camt("BO-3", &day(0), &day(0), "1199.99", "0.00", &lines));
    let v = record(&sc, &s3, FOOD);
    assert_eq!(v["entry"]["confirmed"].as_array().unwrap().len(), 4);
    assert_eq!(v["balance"]["agrees"], true);
    let flows = sc.get(&format!("/v1/funds/{FUND}/flows"));
    assert!(flows["contributions"].as_array().unwrap().iter().all(|c| c["status"] == "confirmed"));
    assert!(flows["disbursements"].as_array().unwrap().iter().all(|d| d["status"] == "confirmed"), "{flows}");

    // The books: the audit passes, the journals pass the real tools, the fund shows its end.
    let out = meent_ok(&["verify", "--server", &sc.url]);
    assert!(out.starts_with("ok: "), "{out}");
    let shown = meent_ok(&["fund", "show", FUND, "--server", &sc.url]);
    assert!(shown.contains("(dissolved)") && shown.contains("dissolved by"), "{shown}");
    let hl = sc.dir.join("fund.journal");
    let bc = sc.dir.join("fund.beancount");
    meent_ok(&["export", "--format", "hledger", "--fund", FUND, "--server", &sc.url, "--out", s(&hl)]);
    meent_ok(&["export", "--format", "beancount", "--fund", FUND, "--server", &sc.url, "--out", s(&bc)]);
    check_journals(&hl, &bc);
    let journal = std::fs::read_to_string(&hl).unwrap();
    assert!(journal.contains("Expenses:Buurtfonds-oost:Refunds:Gemeente-amsterdam  599.99 EUR"), "{journal}");
    assert!(journal.contains("= 0.00 EUR"), "{journal}");

    // And once more from the data directory, with the server stopped.
    sc.server.stop();
    let out = meent_ok(&["verify", "--data", s(&sc.dir.join("data"))]);
    assert!(out.starts_with("ok: "), "{out}");
}
