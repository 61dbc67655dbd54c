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
