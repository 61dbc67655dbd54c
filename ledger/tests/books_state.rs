//! The books of a fund built from the ledger's own state (what `meent export --data`
//! reads), and what the desk and the journals compute from them.

mod domain_common;

use domain_common::{charter, World};
use ledger::bank::{BankLine, Direction, MatchOptions, References, Statement};
use ledger::books::desk::{self, Inputs};
use ledger::books::journal::{self, Syntax};
use ledger::books::FundBooks;
use ledger::entry::Kind;
use ledger::funds::{ContributionStatus, FundStatus};
use ledger::ids::FundId;
use rust_decimal::Decimal;
use serde_json::json;

fn world() -> World {
    let mut w = World::new();
    w.member("coop", "collective");
    w.member("food", "collective");
    w.ok(
        "coop",
        Kind::FundCreate,
        json!({"id": "fnd", "name": "F", "purpose": "", "charter": charter(&["coop", "food"], 1, "open")}),
    );
    w.ok("food", Kind::FundJoin, json!({"fund": "fnd"}));
    w.named("c1", "food", Kind::Contribution, json!({"fund": "fnd", "amount": "120.00", "reference": "R-1"}));
    w.named("c2", "coop", Kind::Contribution, json!({"fund": "fnd", "amount": "30.00", "reference": "R-2"}));
    w
}

fn credit(key: &str, amount: &str, reference: &str, day: chrono::NaiveDate) -> BankLine {
    BankLine {
        key: key.into(),
        amount: amount.parse().unwrap(),
        direction: Direction::Credit,
        reversal: false,
        return_reason: None,
        booking_date: day,
        value_date: None,
        refs: References { remittance_text: Some(reference.into()), ..References::default() },
        counterparty_name: None,
        counterparty_iban: None,
        description: None,
        batch_detail: None,
        source: format!("Stmt[1]/Ntry[{key}]"),
    }
}

#[test]
fn books_from_state_list_the_funds_flows_in_log_order() {
    let w = world();
    let id: FundId = "fnd".parse().unwrap();
    let b = FundBooks::from_state(&w.state, &id).expect("the fund exists");
    assert_eq!((b.id.as_str(), b.name.as_str(), b.status), ("fnd", "F", FundStatus::Active));
    assert_eq!(b.treasurers, vec!["coop".to_string(), "food".to_string()]);
    let ids: Vec<String> = b.contributions.iter().map(|c| c.id.to_hex()).collect();
    assert_eq!(ids, vec![w.id("c1"), w.id("c2")]);
    assert!(b.contributions.iter().all(|c| c.status == ContributionStatus::Pledged));
    assert_eq!(b.balances.pledged.to_string(), "150.00");
    assert!(b.disbursements.is_empty() && b.reconciliations.is_empty() && b.executed_seqs().is_empty());
    assert!(FundBooks::from_state(&w.state, &"other".parse().unwrap()).is_none());
}

#[test]
fn the_desk_and_the_journal_read_books_from_state() {
    let w = world();
    let b = FundBooks::from_state(&w.state, &"fnd".parse().unwrap()).unwrap();
    let day = w.now.date_naive();
    let lines = vec![credit("B1", "120.00", "R-1", day)];
    let statement = Statement {
        format: ledger::bank::Format::Camt053 { version: 2 },
        id: "S".into(),
        sequence: None,
        account: "NL91ABNA0417164300".into(),
        currency: "EUR".into(),
        period_from: day,
        period_to: day,
        opening: ledger::bank::Balance { amount: Decimal::new(1000, 2), date: day },
        closing: ledger::bank::Balance { amount: Decimal::new(13000, 2), date: day },
        lines,
        skipped_unbooked: 0,
    };
    let combined = desk::combine(vec![statement]).unwrap();
    assert!(combined.check.ok);
    let pinned = Default::default();
    let options = MatchOptions::default();
    let an = desk::analyse(
        combined,
        Inputs {
            books: &b,
            others: &[],
            pinned: &pinned,
            options: &options,
            opening: None,
            statement_sha256: "ab".repeat(32),
        },
    )
    .unwrap();
    assert_eq!(an.body.confirmed.iter().map(|i| i.to_hex()).collect::<Vec<_>>(), vec![w.id("c1")]);
    assert!(an.balance.agrees, "{:?}", an.balance);
    // The 30.00 pledge is not at the bank: not everything is explained.
    assert!(!an.all_explained());
    // The body is a valid reconciliation entry: the state accepts it.
    let mut w2 = w.clone();
    w2.ok("coop", Kind::Reconciliation, serde_json::to_value(&an.body).unwrap());
    let b2 = FundBooks::from_state(&w2.state, &"fnd".parse().unwrap()).unwrap();
    assert_eq!(b2.contributions[0].status, ContributionStatus::Confirmed);
    assert_eq!(b2.reconciliations.len(), 1);
    let csv = journal::flows_csv(&b2);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let hl = journal::journal(&b2, Syntax::Hledger).unwrap();
    assert!(hl.contains("Assets:Fnd:Bank") && hl.contains("120.00"), "{hl}");
}

fn recon(tag: u8, confirmed: &[String], returned: &[String], closing: &str) -> serde_json::Value {
    json!({
        "fund": "fnd", "statement_sha256": hex::encode([tag; 32]), "period_from": "2026-11-01", "period_to": "2026-11-30",
        "opening_balance": "0.00", "closing_balance": closing, "confirmed": confirmed, "returned": returned, "unmatched_bank_lines": 0,
    })
}

/// Incomes, costs, reversed pledges and money the bank returned all reach the journals
/// as postings, and the journals' own assertions still hold (hledger and bean-check
/// check them when installed).
#[test]
fn journals_know_incomes_costs_reversals_and_returns() {
    let mut w = world();
    w.member("care", "collective");
    let i = w.ok(
        "coop",
        Kind::Income,
        json!({"fund": "fnd", "amount": "500.00", "source_kind": "grant", "source": "Oranje Fonds", "reference": "GRANT-1"}),
    );
    let (c1, c2) = (w.id("c1"), w.id("c2"));
    w.ok("coop", Kind::Reconciliation, recon(1, &[c1.clone(), c2, i.to_hex()], &[], "650.00"));
    let fee = w.ok(
        "coop",
        Kind::Disbursement,
        json!({"fund": "fnd", "amount": "7.50", "reference": "FEE-1", "cost": {"category": "bank_fee", "payee": "Triodos Bank", "description": "fee"}}),
    );
    let late = w.ok("food", Kind::Contribution, json!({"fund": "fnd", "amount": "9.00", "reference": "R-9"}));
    w.ok("food", Kind::Reversal, json!({"entry": late.to_hex(), "reason": "never sent"}));
    w.ok("coop", Kind::Reconciliation, recon(2, &[fee.to_hex()], &[c1], "522.50"));
    let b = FundBooks::from_state(&w.state, &"fnd".parse().unwrap()).unwrap();
    assert_eq!(b.incomes.len(), 1);
    let hl = journal::journal(&b, Syntax::Hledger).unwrap();
    for needle in [
        "Income:Fnd:Outside:Grants  -500.00 EUR",
        "Expenses:Fnd:Costs:BankFees  7.50 EUR",
        "contribution reversed: it never arrived, ref R-9",
        "returned by the bank to its sender",
        "Income:Fnd:Outside  0.00 EUR =* -500.00 EUR",
        "Income:Fnd:Contributions  0.00 EUR =* -30.00 EUR",
        "Assets:Fnd:Bank  0.00 EUR = 522.50 EUR",
    ] {
        assert!(hl.contains(needle), "{needle} missing from:\n{hl}");
    }
    assert!(!hl.contains("Bank-difference"), "everything is explained:\n{hl}");
    let bc = journal::journal(&b, Syntax::Beancount).unwrap();
    assert!(bc.contains("Income:Fnd:Outside:Grants"), "{bc}");
    // The flows CSV lists the income and the cost too (kind, payee, status, signed amount).
    let csv = journal::flows_csv(&b);
    assert!(csv.contains(",income,") && csv.contains("Oranje Fonds,in,500.00,GRANT-1,confirmed"), "{csv}");
    assert!(csv.contains("Triodos Bank,out,-7.50,FEE-1,"), "{csv}");
    assert!(csv.contains(",returned,"), "the returned contribution: {csv}");
    for (tool, text, name) in [("hledger", &hl, "t.journal"), ("bean-check", &bc, "t.beancount")] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let args: Vec<&str> = if tool == "hledger" {
            vec!["-f", p.to_str().unwrap(), "check", "-s", "ordereddates"]
        } else {
            vec![p.to_str().unwrap()]
        };
        match std::process::Command::new(tool).args(&args).output() {
            Ok(o) => assert!(o.status.success(), "{tool}: {}\n{text}", String::from_utf8_lossy(&o.stderr)),
            Err(_) => println!("NOTICE: {tool} is not installed; skipping its check"),
        }
    }
}

/// `meent reconcile` proposes `returned` from the statement's reversal lines: a reversing
/// debit returns the confirmed contribution it names; a line naming nothing it can
/// return, or an entry two lines could return, returns nothing (never pick).
#[test]
fn the_desk_proposes_returns_from_reversal_lines() {
    let mut w = world();
    let c1 = w.id("c1");
    w.ok("coop", Kind::Reconciliation, recon(1, std::slice::from_ref(&c1), &[], "120.00"));
    let b = FundBooks::from_state(&w.state, &"fnd".parse().unwrap()).unwrap();
    let day = w.now.date_naive();
    let reversal = |key: &str, amount: &str, reference: &str| BankLine {
        direction: Direction::Debit,
        reversal: true,
        ..credit(key, amount, reference, day)
    };
    let analyse = |lines: Vec<BankLine>| {
        let statement = Statement {
            format: ledger::bank::Format::Camt053 { version: 2 },
            id: "S2".into(),
            sequence: None,
            account: "NL91ABNA0417164300".into(),
            currency: "EUR".into(),
            period_from: day,
            period_to: day,
            opening: ledger::bank::Balance { amount: Decimal::new(12000, 2), date: day },
            closing: ledger::bank::Balance { amount: Decimal::ZERO, date: day },
            lines,
            skipped_unbooked: 0,
        };
        let (pinned, options) = (Default::default(), MatchOptions::default());
        let inputs = Inputs {
            books: &b,
            others: &[],
            pinned: &pinned,
            options: &options,
            opening: None,
            statement_sha256: "cd".repeat(32),
        };
        desk::analyse(desk::combine(vec![statement]).unwrap(), inputs).unwrap()
    };
    let an = analyse(vec![reversal("B9", "120.00", "R-1 returned AC04")]);
    assert_eq!(an.body.returned.iter().map(|i| i.to_hex()).collect::<Vec<_>>(), vec![c1]);
    // The body is accepted: the contribution is undone.
    let mut w2 = w.clone();
    w2.ok("coop", Kind::Reconciliation, serde_json::to_value(&an.body).unwrap());
    assert_eq!(w2.fund("fnd").balances.confirmed.to_string(), "0.00");
    // Another amount, a pledged (unconfirmed) entry, or two lines for one entry: nothing.
    assert!(analyse(vec![reversal("B9", "119.99", "R-1")]).body.returned.is_empty());
    assert!(analyse(vec![reversal("B9", "30.00", "R-2")]).body.returned.is_empty());
    assert!(analyse(vec![reversal("B8", "120.00", "R-1"), reversal("B9", "120.00", "R-1")]).body.returned.is_empty());
}

/// Return lines known only by their reason code (no `RvslInd`, no `RC`/`RD`), in real
/// bank formats: ING's MT940 `NRTI` + `/RTRN/MS03/` and a CAMT `RtrInf` MD06 debit. The
/// desk proposes the confirmed contribution each names for `returned`, never matches the
/// line as new money, and its hint names the reason code.
#[test]
fn the_desk_proposes_returns_from_return_reason_codes_in_real_files() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/bank");
    for (file, amount, reference, code) in [
        ("mt940/ing_returns_from_spec.sta", "12.75", "20120501P0123478", "MS03"),
        ("camt053/sns_returns_camt053.001.02.xml", "100.00", "E2E-001", "MD06"),
    ] {
        let mut w = world();
        w.named("back", "coop", Kind::Contribution, json!({"fund": "fnd", "amount": amount, "reference": reference}));
        let id = w.id("back");
        w.ok("coop", Kind::Reconciliation, recon(1, std::slice::from_ref(&id), &[], amount));
        let b = FundBooks::from_state(&w.state, &"fnd".parse().unwrap()).unwrap();
        let raw = std::fs::read(format!("{data}/{file}")).unwrap();
        let (pinned, options) = (Default::default(), MatchOptions::default());
        let inputs = Inputs {
            books: &b,
            others: &[],
            pinned: &pinned,
            options: &options,
            opening: None,
            statement_sha256: ledger::bank::statement_sha256(&raw),
        };
        let combined = desk::combine(ledger::bank::parse(&raw).unwrap()).unwrap();
        let an = desk::analyse(combined, inputs).unwrap();
        assert_eq!(an.body.returned.iter().map(|i| i.to_hex()).collect::<Vec<_>>(), vec![id.clone()], "{file}");
        let line = an
            .statement
            .lines
            .iter()
            .find(|l| l.return_reason.as_deref() == Some(code) && l.amount.to_string() == amount)
            .expect("the return line");
        assert!(an.report.matched.iter().all(|m| m.line.key != line.key), "{file}: a return is no new money");
        let hint = an.hints.get(&line.key).expect("a hint for the return line");
        assert!(hint.contains(&format!("reason {code}")) && hint.contains(&id), "{file}: {hint}");
        // The proposal is accepted by the ledger: the contribution is undone.
        w.ok("coop", Kind::Reconciliation, serde_json::to_value(&an.body).unwrap());
        assert_eq!(w.fund("fnd").balances.confirmed.to_string(), "0.00", "{file}");
    }
}
