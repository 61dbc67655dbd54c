//! End to end (issue 15, "Done when"): a fund's year of money through the real
//! server and the CLI — contributions by three collectives and the
//! municipality, a grant, interest, a bank fee, a matching pledge settled by a
//! payment that names it, an allocation to a treasurer paid by the other two,
//! an allocation released half-spent, one cancelled by vote, a contribution
//! returned by the bank, a payout returned and paid again, a withdrawn
//! proposal, a dissolution with refunds paid to named members (partly) — with
//! the period statements (the year and its quarters) adding up, the journals
//! accepted by hledger and bean-check, and `meent verify` replaying it all.
//!
//! The year is a real calendar year: the scene's test clock (`sc.clock`, read
//! by the server and by every command) moves to next year's 6 January and on
//! from quarter to quarter, votes close when their week has passed, and the
//! statement of each quarter covers what happened in it (and the four add up
//! to the year's). The dissolution comes in the January after.

mod common;
mod scene;

use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use common::{load_key, post, sign};
use ledger::entry::Kind;
use scene::*;
use serde_json::{json, Value};

const FUND: &str = "jaarfonds-west";
const COOP: &str = "energie-coop-west";
const FOOD: &str = "voedselbank-west";
const CARE: &str = "zorgcollectief-west";
const CITY: &str = "gemeente-amsterdam";
const WEEK: u64 = 7 * 86_400;

/// Today by the scene's clock, as YYYY-MM-DD.
fn today() -> String {
    common::now().date_naive().format("%Y-%m-%d").to_string()
}

/// Move the scene's clock forward to `date` (YYYY-MM-DD), 12:00 UTC.
fn move_to(sc: &Scene, date: &str) {
    let target = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();
    let ahead = (target - common::now()).num_seconds();
    assert!(ahead > 0, "the clock only moves forward: {date} is not ahead of {}", common::now());
    sc.clock.advance(Duration::from_secs(ahead as u64));
    assert_eq!(today(), date);
}

/// The proposal is still open; a week passes; it closes by time.
fn close_by_time(sc: &Scene, proposal: &str) -> Value {
    assert_eq!(sc.get(&format!("/v1/proposals/{proposal}"))["status"], "open", "it closes by time, not before");
    sc.clock.advance(Duration::from_secs(WEEK + 60));
    sc.wait_closed(proposal)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

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

/// Sign `body` as `kind` by `who` with its key file and submit it; it must be accepted.
fn submit(sc: &Scene, who: &str, kind: Kind, body: Value) -> Value {
    let key = load_key(sc.key(who));
    let (status, v) = post(&sc.http, &sc.url, &sign(kind, who, &key, body));
    assert_eq!(status, 201, "{kind:?} by {who}: {v}");
    v
}

/// A reconciliation of a (notional) statement `tag` confirming and returning entries.
fn reconcile(sc: &Scene, tag: u8, confirmed: &[&String], returned: &[&String]) {
    let today = today();
    submit(
        sc,
        FOOD,
        Kind::Reconciliation,
        json!({"fund": FUND, "statement_sha256": hex::encode([tag; 32]), "period_from": today, "period_to": today,
               "opening_balance": "0.00", "closing_balance": "0.00", "confirmed": confirmed, "returned": returned,
               "unmatched_bank_lines": 0}),
    );
}

/// Propose an allocation, everyone votes yes, the server closes it.
fn passed_allocation(sc: &Scene, by: &str, amount: &str, recipient: &str, title: &str) -> String {
    let p = sc.as_member_json(
        by,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "allocation",
            "--title",
            title,
            "--amount",
            amount,
            "--recipient",
            recipient,
        ],
    );
    // The recipient neither votes nor counts in the quorum (conflict of interest); one
    // member stays silent, so the vote runs its week.
    for m in [COOP, FOOD, CARE, CITY].into_iter().filter(|m| *m != recipient).take(2) {
        sc.as_member(m, &["vote", "--proposal", &id(&p), "--choice", "yes"]);
    }
    assert_eq!(close_by_time(sc, &id(&p))["outcome"], "passed");
    id(&p)
}

/// Request a payout as `requester` and approve it as `approver`: executed.
fn pay(
    sc: &Scene,
    allocation: &str,
    amount: &str,
    reference: &str,
    recipient: &str,
    requester: &str,
    approver: &str,
) -> String {
    let d = sc.as_member_json(
        requester,
        &[
            "disburse",
            "--allocation",
            allocation,
            "--amount",
            amount,
            "--reference",
            reference,
            "--recipient",
            recipient,
        ],
    );
    sc.as_member(approver, &["approve", "--disbursement", &id(&d)]);
    id(&d)
}

fn statement(sc: &Scene, from: &str, to: &str) -> Value {
    sc.get(&format!("/v1/funds/{FUND}/statement?from={from}&to={to}"))
}

fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not an amount: {v}"));
    let (neg, s) = s.strip_prefix('-').map(|s| (true, s)).unwrap_or((false, s));
    let (u, c) = s.split_once('.').expect("two decimals");
    let n = u.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap();
    if neg {
        -n
    } else {
        n
    }
}

#[test]
fn a_funds_year_of_money() {
    let mut sc = Scene::start();
    sc.member(COOP, "Energie Coöperatie West", "collective");
    sc.member(FOOD, "Voedselbank West", "collective");
    sc.member(CARE, "Zorgcollectief West", "collective");
    sc.member(CITY, "Gemeente Amsterdam", "municipality");
    // The year: next calendar year, from its first week.
    let year = common::now().year() + 1;
    let date = |mmdd: &str| format!("{year}-{mmdd}");
    move_to(&sc, &date("01-06"));

    // Three treasurers, two approvals: every treasurer can be paid by the other two.
    let charter = sc.write(
        "charter.json",
        &json!({"admission": "open", "treasurers": [COOP, FOOD, CITY], "approvals_required": 2, "quorum": "0.5",
                "threshold": "0.5", "voting_period_seconds": WEEK, "max_request": "25000.00",
                "dissolution": "pro_rata_refund", "max_cost": "50.00"})
        .to_string(),
    );
    sc.as_member(
        COOP,
        &["fund", "create", "--id", FUND, "--name", "Jaarfonds West", "--purpose", "a year", "--charter", s(&charter)],
    );
    for m in [FOOD, CARE, CITY] {
        sc.as_member(m, &["fund", "join", "--fund", FUND]);
    }
    // The municipality matches the first quarter.
    let pledge = sc.as_member_json(
        CITY,
        &["pledge", "--fund", FUND, "--ratio", "0.5", "--cap", "1000.00", "--until", &date("03-31")],
    );

    // Q1. Money in: three collectives, the municipality, a grant and interest.
    let mut ins = Vec::new();
    for (m, amount, reference) in
        [(COOP, "1000.00", "JW-1"), (FOOD, "600.00", "JW-2"), (CARE, "400.00", "JW-3"), (CITY, "200.00", "JW-4")]
    {
        ins.push(id(
            &sc.as_member_json(m, &["contribute", "--fund", FUND, "--amount", amount, "--reference", reference])
        ));
    }
    let grant = sc.as_member_json(
        COOP,
        &[
            "income",
            "--fund",
            FUND,
            "--amount",
            "2000.00",
            "--source-kind",
            "grant",
            "--source",
            "Oranje Fonds",
            "--reference",
            "OF-1",
        ],
    );
    let interest = sc.as_member_json(
        FOOD,
        &[
            "income",
            "--fund",
            FUND,
            "--amount",
            "3.21",
            "--source-kind",
            "interest",
            "--source",
            "Triodos rente",
            "--reference",
            "INT-1",
        ],
    );
    ins.push(id(&grant));
    ins.push(id(&interest));
    let bounced =
        id(&sc.as_member_json(CARE, &["contribute", "--fund", FUND, "--amount", "50.00", "--reference", "JW-5"]));
    ins.push(bounced.clone());
    reconcile(&sc, 1, &ins.iter().collect::<Vec<_>>(), &[]);
    assert_balances(&sc, ["0.00", "4253.21", "0.00", "0.00", "4253.21"], "after the first statement");

    // Q2. The bank returns care's 50.00 (wrong account): undone, to the cent.
    move_to(&sc, &date("04-06"));
    reconcile(&sc, 2, &[], &[&bounced]);
    assert_balances(&sc, ["0.00", "4203.21", "0.00", "0.00", "4203.21"], "after the returned contribution");
    // The matching pledge: 0.5 × 2000.00 of the collectives = 1000.00 owed; the city's ordinary 200.00 does not
    // count. Its period is over; the payment that names it still settles it.
    let m = &sc.fund(FUND)["matching_pledges"][0];
    assert_eq!((m["owed"].as_str(), m["paid"].as_str()), (Some("1000.00"), Some("0.00")), "{m}");
    let settle = sc.as_member_json(
        CITY,
        &["contribute", "--fund", FUND, "--amount", "1000.00", "--reference", "GEM-MATCH", "--matching", &id(&pledge)],
    );
    reconcile(&sc, 3, &[&id(&settle)], &[]);
    let m = &sc.fund(FUND)["matching_pledges"][0];
    assert_eq!((m["paid"].as_str(), m["outstanding"].as_str()), (Some("1000.00"), Some("0.00")), "{m}");

    // A bank fee: a cost, at most max_cost, with two approvals.
    let fee = sc.as_member_json(
        COOP,
        &[
            "disburse",
            "--fund",
            FUND,
            "--cost",
            "bank-fee",
            "--payee",
            "Triodos Bank",
            "--description",
            "account fee",
            "--amount",
            "12.50",
            "--reference",
            "FEE-1",
        ],
    );
    sc.as_member(FOOD, &["approve", "--disbursement", &id(&fee)]);
    assert_balances(&sc, ["0.00", "5203.21", "0.00", "12.50", "5190.71"], "after the bank fee");

    // Q3. An allocation to a treasurer, paid by the other two; the bank returns the payout once, it is paid again.
    move_to(&sc, &date("07-06"));
    let a1 = passed_allocation(&sc, CARE, "800.00", CITY, "Isolatie gemeentehuis-buurt");
    let p1 = pay(&sc, &a1, "800.00", "PAY-1", CITY, COOP, FOOD);
    reconcile(&sc, 4, &[&id(&fee)], &[&p1]);
    assert_balances(&sc, ["0.00", "5203.21", "800.00", "12.50", "4390.71"], "after the returned payout");
    pay(&sc, &a1, "800.00", "PAY-1B", CITY, FOOD, COOP);

    // Q4. An allocation released half-spent.
    move_to(&sc, &date("10-06"));
    let a2 = passed_allocation(&sc, COOP, "600.00", CARE, "Warme kamer");
    pay(&sc, &a2, "300.00", "PAY-2", CARE, COOP, CITY);
    sc.as_member(CARE, &["release", "--allocation", &a2, "--reason", "half was enough"]);
    // One cancelled by vote (its recipient may not vote on it).
    let a3 = passed_allocation(&sc, COOP, "400.00", FOOD, "Koelcel");
    let x = sc.as_member_json(
        COOP,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "cancellation",
            "--title",
            "De koelcel komt er niet",
            "--allocation",
            &a3,
        ],
    );
    // The food bank, whose allocation it ends, may not vote on it.
    let (code, _, err) = run(&[
        "vote",
        "--proposal",
        &id(&x),
        "--choice",
        "no",
        "--key",
        s(sc.key(FOOD)),
        "--as",
        FOOD,
        "--server",
        &sc.url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("conflict_of_interest"), "{err}");
    for (m, c) in [(COOP, "yes"), (CARE, "yes")] {
        sc.as_member(m, &["vote", "--proposal", &id(&x), "--choice", c]);
    }
    assert_eq!(close_by_time(&sc, &id(&x))["outcome"], "passed");
    // A withdrawn proposal.
    let w = sc.as_member_json(
        CARE,
        &[
            "propose",
            "--fund",
            FUND,
            "--kind",
            "allocation",
            "--title",
            "Toch niet",
            "--amount",
            "10.00",
            "--recipient",
            CARE,
        ],
    );
    sc.as_member(CARE, &["withdraw", "--proposal", &id(&w)]);
    assert_eq!(sc.get(&format!("/v1/proposals/{}", id(&w)))["outcome"], "withdrawn");
    // confirmed 5203.21; disbursed 12.50 + 800.00 + 300.00 = 1112.50; nothing committed.
    assert_balances(&sc, ["0.00", "5203.21", "0.00", "1112.50", "4090.71"], "after release and cancellation");
    let flows = sc.get(&format!("/v1/funds/{FUND}/flows"));
    assert_eq!(flows["releases"].as_array().unwrap().len(), 2, "{flows}");
    assert_eq!(flows["incomes"].as_array().unwrap().len(), 2, "{flows}");
    assert!(flows["disbursements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["status"] == "returned" && d["returned_at"].is_string()));

    // The statements: the year, and each quarter with what happened in it.
    let y = statement(&sc, &date("01-01"), &date("12-31"));
    assert_eq!(y["opening_balance"], "0.00");
    assert_eq!(y["closing_balance"], "4090.71", "{y}");
    assert_eq!(y["money_in"]["income"]["grant"], "2000.00", "{y}");
    assert_eq!(y["money_in"]["matching"], "1000.00", "{y}");
    assert_eq!(y["money_out"]["costs"]["bank_fee"], "12.50", "{y}");
    assert_eq!(
        cents(&y["opening_balance"]) + cents(&y["money_in"]["total"]) - cents(&y["money_out"]["total"]),
        cents(&y["closing_balance"])
    );
    let quarters = [("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31")];
    let q: Vec<Value> = quarters.iter().map(|&(from, to)| statement(&sc, &date(from), &date(to))).collect();
    // Q1: the collectives, the municipality, the grant and interest (the bounced 50.00 arrived too).
    assert_eq!(q[0]["money_in"]["collectives"], "2050.00", "{}", q[0]);
    assert_eq!(q[0]["money_in"]["municipality"], "200.00", "{}", q[0]);
    assert_eq!(q[0]["money_in"]["income"]["grant"], "2000.00", "{}", q[0]);
    assert_eq!(q[0]["closing_balance"], "4253.21", "{}", q[0]);
    // Q2: the matching payment after its period, the bounce sent back, the bank fee.
    assert_eq!(q[1]["money_in"]["matching"], "1000.00", "{}", q[1]);
    assert_eq!(q[1]["money_out"]["returned_to_senders"], "50.00", "{}", q[1]);
    assert_eq!(q[1]["money_out"]["costs"]["bank_fee"], "12.50", "{}", q[1]);
    assert_eq!(q[1]["closing_balance"], "5190.71", "{}", q[1]);
    // Q3: the treasurer paid twice, once returned; Q4: the half-spent allocation.
    assert_eq!(q[2]["money_in"]["payouts_returned"], "800.00", "{}", q[2]);
    assert_eq!(q[2]["money_out"]["total"], "1600.00", "{}", q[2]);
    assert_eq!(q[3]["money_out"]["total"], "300.00", "{}", q[3]);
    let (mut inn, mut out, mut prev) = (0, 0, 0);
    for q in &q {
        assert_eq!(cents(&q["opening_balance"]), prev, "{q}");
        inn += cents(&q["money_in"]["total"]);
        out += cents(&q["money_out"]["total"]);
        prev = cents(&q["closing_balance"]);
    }
    assert_eq!(
        (inn, out, prev),
        (cents(&y["money_in"]["total"]), cents(&y["money_out"]["total"]), cents(&y["closing_balance"]))
    );
    let csv = common::meent_ok(&[
        "report",
        "--fund",
        FUND,
        "--from",
        &date("01-01"),
        "--to",
        &date("12-31"),
        "--format",
        "csv",
        "--server",
        &sc.url,
    ]);
    assert!(csv.contains("closing,balance,") && csv.contains("4090.71"), "{csv}");

    // The January after: a dissolution, refunds to named members, one paid in two parts.
    move_to(&sc, &format!("{}-01-06", year + 1));
    let d =
        sc.as_member_json(COOP, &["propose", "--fund", FUND, "--kind", "dissolution", "--title", "Einde van het jaar"]);
    for m in [COOP, FOOD, CARE] {
        sc.as_member(m, &["vote", "--proposal", &id(&d), "--choice", "yes"]);
    }
    assert_eq!(close_by_time(&sc, &id(&d))["outcome"], "passed");
    let refunds = sc.fund(FUND)["dissolution"]["refunds"].as_array().unwrap().clone();
    for r in &refunds {
        let member = r["member"].as_str().unwrap();
        let owed = cents(&r["owed"]);
        let (req, appr) = if member == COOP {
            (FOOD, CITY)
        } else if member == FOOD {
            (COOP, CITY)
        } else {
            (COOP, FOOD)
        };
        let half = owed / 2;
        let fmt = |c: i64| format!("{}.{:02}", c / 100, c % 100);
        pay(&sc, &id(&d), &fmt(half), &format!("REF-{member}-1"), member, req, appr);
        pay(&sc, &id(&d), &fmt(owed - half), &format!("REF-{member}-2"), member, req, appr);
    }
    assert_balances(&sc, ["0.00", "5203.21", "0.00", "5203.21", "0.00"], "after the refunds");
    // The year's statement is what it was: the refunds belong to the next year.
    assert_eq!(statement(&sc, &date("01-01"), &date("12-31")), y);

    fund_show_tells_the_whole_story(&sc);

    // Everything visible and replayable.
    let hl = sc.dir.join("jaar.journal");
    let bc = sc.dir.join("jaar.beancount");
    for (format, file) in [("hledger", &hl), ("beancount", &bc)] {
        common::meent_ok(&["export", "--format", format, "--fund", FUND, "--server", &sc.url, "--out", s(file)]);
    }
    check_journals(&hl, &bc);
    let v = common::meent_ok(&["verify", "--server", &sc.url]);
    assert!(v.starts_with("ok:"), "{v}");
}

/// `meent fund show` in text shows what its JSON shows: the charter's max_cost, the
/// matching pledge owed/paid/outstanding, incomes, costs, releases and the refunds.
fn fund_show_tells_the_whole_story(sc: &Scene) {
    let text = common::meent_ok(&["fund", "show", FUND, "--server", &sc.url]);
    let v: Value =
        serde_json::from_str(&common::meent_ok(&["fund", "show", FUND, "--server", &sc.url, "--json"])).expect("json");
    assert_eq!(v["fund"]["charter"]["max_cost"], "50.00", "{v}");
    assert_eq!(v["incomes"].as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(v["costs"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["releases"].as_array().map(Vec::len), Some(2), "{v}");
    let line = |needle: &str| {
        text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
    };
    assert!(line("charter").contains("max cost 50.00"), "{text}");
    assert!(line("matching").contains("owed 1000.00, paid 1000.00, outstanding 0.00"), "{text}");
    let grant = line("Oranje Fonds");
    assert!(grant.contains("grant") && grant.contains("2000.00") && grant.contains("confirmed"), "{grant}");
    assert!(line("Triodos rente").contains("3.21"), "{text}");
    assert!(text.contains("\ncosts\n"), "{text}");
    let fee = line("Triodos Bank");
    assert!(fee.contains("bank_fee") && fee.contains("12.50"), "{fee}");
    assert!(text.contains("\nreleases\n"), "{text}");
    assert!(line("half was enough").contains("300.00"), "{text}");
    let refunds = v["fund"]["dissolution"]["refunds"].as_array().expect("refunds").clone();
    assert_eq!(refunds.len(), 4, "{v}");
    for r in &refunds {
        let member = r["member"].as_str().unwrap();
        let shown = line(&format!("refund {member}"));
        assert_eq!(r["paid"], r["owed"], "{r}");
        for k in ["contributed", "owed", "paid", "outstanding"] {
            let want = format!("{k} {:>12}", r[k].as_str().unwrap());
            assert!(shown.contains(&want), "{shown} lacks {want}");
        }
    }
}
