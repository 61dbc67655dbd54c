//! Matching tests: bank lines against contributions and disbursements.

use std::str::FromStr;

use chrono::NaiveDate;
use ledger::bank::reconcile::{ConfirmedHow, MatchMethod, UnmatchedReason};
use ledger::bank::{
    camt053, line_key, mt940, reconcile, Balance, BankLine, Direction, Format, LedgerItem, LedgerKind, MatchOptions,
    References, Report, Statement,
};
use rust_decimal::Decimal;

const ACCOUNT: &str = "NL91ABNA0417164300";
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/bank");

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

#[derive(Default)]
struct L {
    credit: bool,
    amount: &'static str,
    day: &'static str,
    bank_ref: Option<&'static str>,
    cref: Option<&'static str>,
    e2e: Option<&'static str>,
    text: Option<&'static str>,
    iban: Option<&'static str>,
    reversal: bool,
}

fn line(l: L) -> BankLine {
    let mut b = BankLine {
        key: String::new(),
        amount: dec(l.amount),
        direction: if l.credit { Direction::Credit } else { Direction::Debit },
        reversal: l.reversal,
        return_reason: None,
        booking_date: date(l.day),
        value_date: None,
        refs: References {
            acct_svcr_ref: l.bank_ref.map(String::from),
            ntry_ref: None,
            end_to_end_id: l.e2e.map(String::from),
            creditor_reference: l.cref.map(String::from),
            remittance_text: l.text.map(String::from),
        },
        counterparty_name: None,
        counterparty_iban: l.iban.map(String::from),
        description: None,
        batch_detail: None,
        source: String::new(),
    };
    b.key = line_key(ACCOUNT, &b, 0);
    b
}

fn credit(amount: &'static str, day: &'static str) -> L {
    L { credit: true, amount, day, ..L::default() }
}

fn statement(lines: Vec<BankLine>) -> Statement {
    let closing: Decimal = lines.iter().map(BankLine::signed_amount).sum();
    Statement {
        format: Format::Mt940,
        id: "S1".into(),
        sequence: None,
        account: ACCOUNT.into(),
        currency: "EUR".into(),
        period_from: date("2026-01-01"),
        period_to: date("2026-01-31"),
        opening: Balance { amount: dec("0.00"), date: date("2025-12-31") },
        closing: Balance { amount: closing, date: date("2026-01-31") },
        lines,
        skipped_unbooked: 0,
    }
}

fn item(id: &str, kind: LedgerKind, amount: &str, reference: &str, day: &str, member: &str) -> LedgerItem {
    LedgerItem {
        entry_id: id.into(),
        kind,
        amount: dec(amount),
        reference: reference.into(),
        date: date(day),
        member: member.into(),
        already_confirmed: false,
        confirmed_bank_key: None,
    }
}

fn contribution(id: &str, amount: &str, reference: &str, day: &str, member: &str) -> LedgerItem {
    item(id, LedgerKind::Contribution, amount, reference, day, member)
}

fn run(s: &Statement, items: &[LedgerItem]) -> Report {
    let r = reconcile(s, items, &MatchOptions::default());
    // Every line lands in exactly one list.
    let placed = r.matched.len() + r.missing_from_ledger.len() + r.ambiguous.len() + r.already_confirmed.len();
    assert_eq!(placed, s.lines.len());
    r
}

#[test]
fn by_structured_reference_case_and_space_insensitive() {
    let s = statement(vec![line(L { cref: Some("MEENT-7F3K-21"), ..credit("250.00", "2026-01-20") })]);
    let items = [contribution("c1", "250.00", "  meent-7f3k-21 ", "2025-11-01", "energie-coop")];
    let r = run(&s, &items);
    assert_eq!(r.matched.len(), 1);
    assert_eq!(r.matched[0].method, MatchMethod::Reference, "no date window for a reference match");
    assert_eq!(r.confirmed_entry_ids(), vec!["c1".to_string()]);
    assert!(r.all_explained());
    assert_eq!(r.unmatched_bank_lines(), 0);
}

#[test]
fn by_reference_inside_unstructured_text() {
    let s = statement(vec![
        line(L { text: Some("Bijdrage MEENT-7F3K-21 januari"), ..credit("25.00", "2026-01-05") }),
        line(L { text: Some("Bijdrage MEENT-7F3K-210"), ..credit("30.00", "2026-01-06") }),
    ]);
    let items = [
        contribution("c1", "25.00", "MEENT-7F3K-21", "2026-01-02", "a"),
        contribution("c2", "30.00", "MEENT-7F3K-2", "2025-06-01", "b"),
    ];
    let r = run(&s, &items);
    assert_eq!(r.matched.len(), 1);
    assert_eq!(r.matched[0].item.entry_id, "c1");
    // "MEENT-7F3K-2" is no whole word of "MEENT-7F3K-210", and c2 is months away.
    assert_eq!(r.missing_from_ledger.len(), 1);
    assert_eq!(r.missing_from_ledger[0].reason, UnmatchedReason::NoCandidate);
    assert!(r.not_seen_at_bank.is_empty(), "c2 is dated outside the period");
    assert!(!r.all_explained());
}

#[test]
fn disbursement_by_end_to_end_id_and_direction_matters() {
    let s =
        statement(vec![line(L { e2e: Some("E2E-001"), ..L { amount: "100.00", day: "2026-01-10", ..L::default() } })]);
    let items = [
        contribution("c1", "100.00", "E2E-001", "2026-01-10", "a"),
        item("d1", LedgerKind::Disbursement, "100.00", "E2E-001", "2026-01-09", "b"),
    ];
    let r = run(&s, &items);
    assert_eq!(r.matched.len(), 1);
    assert_eq!(r.matched[0].item.entry_id, "d1");
    assert_eq!(r.not_seen_at_bank.len(), 1, "the contribution was never credited");
    assert_eq!(r.not_seen_at_bank[0].entry_id, "c1");
}

#[test]
fn reference_with_another_amount_is_reported_not_matched() {
    let s = statement(vec![line(L { cref: Some("MEENT-1"), ..credit("25.00", "2026-01-10") })]);
    let items = [contribution("c1", "250.00", "MEENT-1", "2026-01-09", "a")];
    let r = run(&s, &items);
    assert!(r.matched.is_empty());
    match &r.missing_from_ledger[0].reason {
        UnmatchedReason::AmountDiffers { candidates } => assert_eq!(candidates[0].entry_id, "c1"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(r.not_seen_at_bank.is_empty(), "c1 is already reported with the line");
    assert!(!r.all_explained());
}

#[test]
fn by_amount_and_date_window() {
    let s = statement(vec![line(credit("40.00", "2026-01-15")), line(credit("60.00", "2026-01-30"))]);
    let items = [
        contribution("near", "40.00", "MEENT-X", "2026-01-01", "a"), // 14 days: inside
        contribution("far", "60.00", "MEENT-Y", "2026-01-15", "b"),  // 15 days: outside
    ];
    let r = run(&s, &items);
    assert_eq!(r.matched.len(), 1);
    assert_eq!((r.matched[0].item.entry_id.as_str(), r.matched[0].method), ("near", MatchMethod::AmountDate));
    assert_eq!(r.missing_from_ledger.len(), 1);
    assert_eq!(r.not_seen_at_bank.iter().map(|i| i.entry_id.as_str()).collect::<Vec<_>>(), vec!["far"]);
    let wide = MatchOptions { date_window_days: 15, ..MatchOptions::default() };
    let r = reconcile(&s, &items, &wide);
    assert_eq!(r.matched.len(), 2);
    assert!(r.all_explained());
}

#[test]
fn two_same_amount_contributions_are_ambiguous() {
    let s = statement(vec![line(credit("25.00", "2026-01-10"))]);
    let items =
        [contribution("c1", "25.00", "R1", "2026-01-08", "a"), contribution("c2", "25.00", "R2", "2026-01-09", "b")];
    let r = run(&s, &items);
    assert!(r.matched.is_empty());
    assert_eq!(r.ambiguous.len(), 1);
    let ids: Vec<&str> = r.ambiguous[0].candidates.iter().map(|i| i.entry_id.as_str()).collect();
    assert_eq!(ids, vec!["c1", "c2"]);
    assert_eq!(r.ambiguous[0].method, MatchMethod::AmountDate);
    assert!(r.not_seen_at_bank.is_empty(), "candidates are listed with the ambiguity");
    assert!(!r.all_explained());
    assert_eq!(r.unmatched_bank_lines(), 1);

    // The IBAN mapping settles it.
    let s = statement(vec![line(L { iban: Some("NL02RABO0123456789"), ..credit("25.00", "2026-01-10") })]);
    let opts = MatchOptions::default().with_iban("b", "nl02 rabo 0123 4567 89");
    let r = reconcile(&s, &items, &opts);
    assert_eq!(r.matched.len(), 1);
    assert_eq!((r.matched[0].item.entry_id.as_str(), r.matched[0].method), ("c2", MatchMethod::AmountDateIban));
    assert_eq!(r.not_seen_at_bank.len(), 1);

    // An IBAN known to belong to another member: no match by amount.
    let opts = MatchOptions::default().with_iban("z", "NL02RABO0123456789");
    let r = reconcile(&s, &items, &opts);
    assert!(r.matched.is_empty());
    assert_eq!(r.missing_from_ledger.len(), 1);
}

#[test]
fn two_lines_wanting_one_item_are_ambiguous() {
    let s = statement(vec![line(credit("25.00", "2026-01-10")), line(credit("25.00", "2026-01-11"))]);
    let items = [contribution("c1", "25.00", "R1", "2026-01-09", "a")];
    let r = run(&s, &items);
    assert!(r.matched.is_empty(), "never pick one of the two lines");
    assert_eq!(r.ambiguous.len(), 2);
    assert_eq!(r.ambiguous[0].competing_lines, vec![s.lines[1].key.clone()]);

    // The same with a reference on both lines (a payment made twice).
    let s = statement(vec![
        line(L { cref: Some("R1"), ..credit("25.00", "2026-01-10") }),
        line(L { cref: Some("R1"), ..credit("25.00", "2026-01-12") }),
    ]);
    let r = run(&s, &items);
    assert!(r.matched.is_empty());
    assert_eq!(r.ambiguous.len(), 2);
    assert!(r.ambiguous.iter().all(|a| a.method == MatchMethod::Reference));
}

#[test]
fn already_confirmed_items_are_never_confirmed_twice() {
    let l = line(L { cref: Some("R1"), ..credit("25.00", "2026-01-10") });
    let s = statement(vec![l.clone()]);

    // Confirmed by this very bank line.
    let mut c1 = contribution("c1", "25.00", "R1", "2026-01-09", "a");
    c1.already_confirmed = true;
    c1.confirmed_bank_key = Some(l.key.clone());
    let r = run(&s, std::slice::from_ref(&c1));
    assert!(r.matched.is_empty());
    assert_eq!(r.already_confirmed[0].how, ConfirmedHow::SameBankLine);
    assert_eq!(r.already_confirmed[0].entry_ids, vec!["c1".to_string()]);
    assert!(r.all_explained());

    // Confirmed earlier, bank key unknown.
    c1.confirmed_bank_key = None;
    let r = run(&s, std::slice::from_ref(&c1));
    assert!(r.matched.is_empty());
    assert_eq!(r.already_confirmed[0].how, ConfirmedHow::ItemConfirmedEarlier);
    assert!(r.all_explained());

    // Confirmed by another bank line: this one is a second payment.
    c1.confirmed_bank_key = Some("f".repeat(64));
    let r = run(&s, std::slice::from_ref(&c1));
    assert!(r.matched.is_empty());
    assert_eq!(r.already_confirmed[0].how, ConfirmedHow::ByOtherBankLine);
    assert!(!r.all_explained());
    assert_eq!(r.unmatched_bank_lines(), 1);

    // By amount: a keyless confirmed item next to an open one is ambiguous, never picked.
    let s = statement(vec![line(credit("25.00", "2026-01-10"))]);
    let mut old = contribution("old", "25.00", "R0", "2026-01-08", "a");
    old.already_confirmed = true;
    let open = contribution("new", "25.00", "R2", "2026-01-09", "b");
    let r = run(&s, &[old.clone(), open]);
    assert!(r.matched.is_empty());
    assert_eq!(r.ambiguous.len(), 1);
    // Alone, it is recognised as already confirmed.
    let r = run(&s, &[old]);
    assert_eq!(r.already_confirmed[0].how, ConfirmedHow::ItemConfirmedEarlier);
}

#[test]
fn reversals_are_not_matched() {
    let s = statement(vec![line(L {
        reversal: true,
        cref: Some("R1"),
        ..L { amount: "25.00", day: "2026-01-10", ..L::default() }
    })]);
    let items = [item("d1", LedgerKind::Disbursement, "25.00", "R1", "2026-01-10", "a")];
    let r = run(&s, &items);
    assert_eq!(r.missing_from_ledger[0].reason, UnmatchedReason::Reversal);
    assert_eq!(r.not_seen_at_bank.len(), 1);
}

/// A return known only by its reason code (CAMT `RtrInf`, MT940 `/RTRN/`) is no new money:
/// never matched, by reference nor by amount, though both fit.
#[test]
fn returns_by_reason_code_are_not_matched() {
    let mut b = line(L { cref: Some("R1"), ..L { amount: "25.00", day: "2026-01-10", ..L::default() } });
    b.return_reason = Some("AC04".into());
    let s = statement(vec![b]);
    let items = [item("d1", LedgerKind::Disbursement, "25.00", "R1", "2026-01-10", "a")];
    let r = run(&s, &items);
    assert!(r.matched.is_empty(), "{:?}", r.matched);
    assert_eq!(r.missing_from_ledger[0].reason, UnmatchedReason::Reversal);
    assert_eq!(r.not_seen_at_bank.len(), 1);
}

#[test]
fn balance_mismatch_is_never_all_explained() {
    let raw = std::fs::read(format!("{DATA}/camt053/sns_balance-mismatch_camt053.001.02.xml")).expect("file");
    let s = &camt053::parse(&raw).expect("parses")[0];
    let items = [
        contribution("c1", "50.00", "RF123456", "2026-04-09", "a"),
        item("d1", LedgerKind::Disbursement, "100.00", "E2E-001", "2026-03-04", "b"),
    ];
    let r = run(s, &items);
    assert_eq!(r.matched.len(), 2);
    assert!(r.matched.iter().all(|m| m.method == MatchMethod::Reference));
    assert!(!r.balance_ok());
    assert_eq!(r.balance.map(|b| b.difference), Some(dec("-50.00")));
    assert!(!r.all_explained());
    let good = std::fs::read(format!("{DATA}/camt053/sns_balanced_camt053.001.02.xml")).expect("file");
    let r = run(&camt053::parse(&good).expect("parses")[0], &items);
    assert!(r.all_explained());
}

/// Three days of entries for an overlapping-statements test, without bank references so that
/// the content keys are exercised.
fn camt_days(id: &str, from: &str, to: &str, opening: &str, closing: &str, entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let ntry: String = entries
        .iter()
        .map(|(amount, day, text)| {
            format!(
                "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt>\
                 <NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
            )
        })
        .collect();
    format!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>{id}</Id>
<FrToDt><FrDtTm>{from}T00:00:00</FrDtTm><ToDtTm>{to}T23:59:59</ToDtTm></FrToDt>
<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{from}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{to}</Dt></Dt></Bal>
{ntry}</Stmt></BkToCstmrStmt></Document>"#
    )
    .into_bytes()
}

/// Record a reconciliation the way the CLI would: the matched items become confirmed with
/// their bank line's key.
fn record(items: &mut [LedgerItem], r: &Report) {
    for m in &r.matched {
        for it in items.iter_mut().filter(|i| i.entry_id == m.item.entry_id) {
            it.already_confirmed = true;
            it.confirmed_bank_key = Some(m.line.key.clone());
        }
    }
}

#[test]
fn overlapping_statement_rerun_confirms_nothing_twice() {
    let mut items = vec![
        contribution("c1", "10.00", "MEENT-A", "2026-01-02", "a"),
        contribution("c2", "20.00", "MEENT-B", "2026-01-04", "b"),
        contribution("c3", "20.00", "MEENT-C", "2026-01-06", "c"),
        contribution("c4", "30.00", "none-at-bank", "2026-01-06", "d"),
    ];
    let first = camt_days(
        "S-1",
        "2026-01-01",
        "2026-01-05",
        "0.00",
        "30.00",
        &[("10.00", "2026-01-03", "MEENT-A"), ("20.00", "2026-01-05", "bijdrage MEENT-B")],
    );
    let s1 = &camt053::parse(&first).expect("parses")[0];
    let r1 = run(s1, &items);
    assert_eq!(r1.confirmed_entry_ids(), vec!["c1".to_string(), "c2".to_string()]);
    assert!(r1.all_explained(), "c3 and c4 lie after this period");
    record(&mut items, &r1);

    // The second statement overlaps the first by one day (2026-01-05).
    let second = camt_days(
        "S-2",
        "2026-01-05",
        "2026-01-10",
        "10.00",
        "50.00",
        &[("20.00", "2026-01-05", "bijdrage MEENT-B"), ("20.00", "2026-01-07", "MEENT-C")],
    );
    let s2 = &camt053::parse(&second).expect("parses")[0];
    assert_eq!(s2.lines[0].key, s1.lines[1].key, "the same bank line has the same key in both files");
    let r2 = run(s2, &items);
    assert_eq!(r2.confirmed_entry_ids(), vec!["c3".to_string()]);
    assert_eq!(r2.already_confirmed.len(), 1);
    assert_eq!(r2.already_confirmed[0].how, ConfirmedHow::SameBankLine);
    assert_eq!(r2.already_confirmed[0].entry_ids, vec!["c2".to_string()]);
    assert_eq!(r2.not_seen_at_bank.iter().map(|i| i.entry_id.as_str()).collect::<Vec<_>>(), vec!["c4"]);
    record(&mut items, &r2);

    // Running the second statement again confirms nothing.
    let r3 = run(s2, &items);
    assert!(r3.matched.is_empty());
    assert_eq!(r3.already_confirmed.len(), 2);
    assert!(r3.already_confirmed.iter().all(|a| a.how == ConfirmedHow::SameBankLine));

    // Without recorded bank keys (only "confirmed"), the re-run still confirms nothing.
    for it in &mut items {
        it.confirmed_bank_key = None;
    }
    let r4 = run(s2, &items);
    assert!(r4.matched.is_empty());
    assert!(r4.already_confirmed.iter().all(|a| a.how == ConfirmedHow::ItemConfirmedEarlier));
}

#[test]
fn mt940_content_keys_are_stable_across_files() {
    // ABN AMRO has no bank references: keys come from content and occurrence. The same
    // statement embedded in another file (here: alone) keeps its keys.
    let raw = std::fs::read_to_string(format!("{DATA}/mt940/abnamro.sta")).expect("file");
    let both = mt940::parse(raw.as_bytes()).expect("parses");
    let second_only = &raw[raw.find("-\nABNANL2A").map(|i| i + 2).expect("two statements")..];
    let alone = mt940::parse(second_only.as_bytes()).expect("parses");
    assert_eq!(alone.len(), 1);
    let keys = |s: &ledger::bank::Statement| s.lines.iter().map(|l| l.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&alone[0]), keys(&both[1]));
    assert_eq!(alone[0].lines.len(), 7);
}

#[test]
fn report_serialises_for_json_and_csv_rendering() {
    let s = statement(vec![
        line(L { cref: Some("R1"), ..credit("25.00", "2026-01-10") }),
        line(credit("99.99", "2026-01-11")),
    ]);
    let items =
        [contribution("c1", "25.00", "R1", "2026-01-09", "a"), contribution("c2", "12.00", "R2", "2026-01-12", "b")];
    let r = run(&s, &items);
    let v = serde_json::to_value(&r).expect("serialises");
    assert_eq!(v["matched"][0]["method"], "reference");
    assert_eq!(v["matched"][0]["line"]["amount"], "25.00");
    assert_eq!(v["matched"][0]["item"]["date"], "2026-01-09");
    assert_eq!(v["missing_from_ledger"][0]["reason"], "no_candidate");
    assert_eq!(v["not_seen_at_bank"][0]["entry_id"], "c2");
    assert_eq!(v["balance"]["difference"], "0.00");
    assert_eq!(v["period_from"], "2026-01-01");
}
