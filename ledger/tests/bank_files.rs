//! Golden tests on every real statement in tests/data/bank (see its SOURCES.md). The
//! expected figures were worked out by reading the files by hand.

use std::str::FromStr;

use chrono::NaiveDate;
use ledger::bank::{self, camt053, mt940, Direction, ErrorKind, Format, Statement};
use rust_decimal::Decimal;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/bank");

fn read(rel: &str) -> Vec<u8> {
    let path = format!("{DATA}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn sum(s: &Statement, d: Direction) -> Decimal {
    s.lines.iter().filter(|l| l.direction == d).map(|l| l.amount).sum()
}

fn keys_unique(s: &Statement) {
    let mut keys: Vec<&str> = s.lines.iter().map(|l| l.key.as_str()).collect();
    assert!(keys.iter().all(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit())));
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), s.lines.len(), "stable keys must be unique within a statement");
}

#[test]
fn sns_balanced_camt053_001_02() {
    let raw = read("camt053/sns_balanced_camt053.001.02.xml");
    let stmts = camt053::parse(&raw).expect("parses");
    assert_eq!(stmts, bank::parse(&raw).expect("auto-detect"));
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.format, Format::Camt053 { version: 2 });
    assert_eq!(s.id, "0000000000");
    assert_eq!(s.account, "NL00SNSB0000000000");
    assert_eq!(s.currency, "EUR");
    assert_eq!((s.period_from, s.period_to), (date("2026-01-01"), date("2026-07-21")));
    assert_eq!(s.opening.amount, dec("1000.00"));
    assert_eq!(s.opening.date, date("2026-01-01"));
    assert_eq!(s.closing.amount, dec("950.00"));
    assert_eq!(s.closing.date, date("2026-07-21"));
    assert_eq!(s.lines.len(), 2);
    assert_eq!(s.skipped_unbooked, 0);

    let debit = &s.lines[0];
    assert_eq!(debit.amount, dec("100.00"));
    assert_eq!(debit.amount.to_string(), "100.00");
    assert_eq!(debit.direction, Direction::Debit);
    assert!(!debit.reversal);
    assert_eq!(debit.booking_date, date("2026-03-05"), "date part of BookgDt/DtTm");
    assert_eq!(debit.value_date, Some(date("2026-03-05")));
    assert_eq!(debit.refs.acct_svcr_ref.as_deref(), Some("REF001"));
    assert_eq!(debit.refs.end_to_end_id.as_deref(), Some("E2E-001"));
    assert_eq!(debit.refs.remittance_text.as_deref(), Some("Payment for invoice 123"));
    assert_eq!(debit.refs.payment_reference(), Some("Payment for invoice 123"));
    assert_eq!(debit.counterparty_name.as_deref(), Some("Some Shop B.V."));
    assert_eq!(debit.counterparty_iban.as_deref(), Some("NL00ABNA0000000001"));
    assert!(debit.source.starts_with("Stmt[1]/Ntry[1] (line "));

    let credit = &s.lines[1];
    assert_eq!(credit.amount, dec("50.00"));
    assert_eq!(credit.direction, Direction::Credit);
    assert_eq!(credit.booking_date, date("2026-04-10"));
    assert_eq!(credit.refs.acct_svcr_ref.as_deref(), Some("REF002"));
    assert_eq!(credit.refs.end_to_end_id, None);
    assert_eq!(credit.refs.creditor_reference.as_deref(), Some("RF123456"));
    assert_eq!(credit.refs.payment_reference(), Some("RF123456"));
    assert_eq!(credit.counterparty_name.as_deref(), Some("John Doe"));
    assert_eq!(credit.counterparty_iban, None);
    assert_eq!(credit.description.as_deref(), Some("Interest payment"));
    keys_unique(s);

    let check = s.balance_check().expect("no overflow");
    assert!(check.is_ok());
    assert_eq!(check.credits, dec("50.00"));
    assert_eq!(check.debits, dec("100.00"));
    assert_eq!(check.expected_closing, dec("950.00"));
    assert_eq!(check.difference.to_string(), "0.00");
}

#[test]
fn sns_balance_mismatch_is_detected_with_the_difference() {
    let raw = read("camt053/sns_balance-mismatch_camt053.001.02.xml");
    let stmts = camt053::parse(&raw).expect("a mismatch is reported, not a parse error");
    let s = &stmts[0];
    assert_eq!(s.closing.amount, dec("900.00"));
    let check = s.balance_check().expect("no overflow");
    assert!(!check.is_ok());
    assert_eq!(check.opening, dec("1000.00"));
    assert_eq!(check.expected_closing, dec("950.00"));
    assert_eq!(check.stated_closing, dec("900.00"));
    assert_eq!(check.difference, dec("-50.00"));
    assert_eq!(check.difference.to_string(), "-50.00");

    // Same lines and keys as the balanced statement: only the closing balance differs.
    let good = camt053::parse(&read("camt053/sns_balanced_camt053.001.02.xml")).expect("parses");
    assert_eq!(good[0].lines, s.lines);
}

#[test]
fn generic_camt053_001_08_is_refused_for_its_foreign_currencies() {
    let raw = read("camt053/generic_camt053.001.08.xml");
    let err = camt053::parse(&raw).expect_err("CLBD is in SEK");
    assert_eq!(err.path, "Stmt[1]/Bal[2]/Amt");
    assert_eq!(err.kind, ErrorKind::Currency { found: "SEK".into() });
    assert_eq!(err.position.map(|p| p.line), Some(80));
    assert!(err.to_string().starts_with("Stmt[1]/Bal[2]/Amt (line 80, byte "), "{err}");
    assert!(err.to_string().ends_with(": currency SEK, expected EUR"), "{err}");
}

#[test]
fn generic_camt053_001_08_structure_when_in_euro() {
    // The same file with every amount in EUR: exercises the 001.08 structure (Sts/Cd,
    // Acct/Id/Othr, Dbtr/Pty/Nm, BookgDt/DtTm) and its balances, which do not add up.
    let raw = String::from_utf8(read("camt053/generic_camt053.001.08.xml")).expect("utf-8");
    let raw = raw
        .replace("Ccy=\"SEK\"", "Ccy=\"EUR\"")
        .replace("Ccy=\"CHF\"", "Ccy=\"EUR\"")
        .replace("Ccy=\"JPY\"", "Ccy=\"EUR\"");
    let stmts = camt053::parse(raw.as_bytes()).expect("parses");
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.format, Format::Camt053 { version: 8 });
    assert_eq!(s.id, "253EURNL26VAYB8060476890");
    assert_eq!(s.sequence.as_deref(), Some("12312"));
    assert_eq!(s.account, "NL26VAYB8060476890");
    assert_eq!((s.period_from, s.period_to), (date("2007-10-18"), date("2007-10-18")));
    assert_eq!(s.opening.amount, dec("18.15"));
    assert_eq!(s.closing.amount, dec("-27.00"), "CLBD is DBIT");
    assert_eq!(s.lines.len(), 1);
    let l = &s.lines[0];
    assert_eq!(l.amount, dec("8.85"), "a single TxDtls keeps the entry amount");
    assert_eq!(l.direction, Direction::Credit);
    assert_eq!(l.booking_date, date("2014-12-31"));
    assert_eq!(l.value_date, Some(date("2015-01-02")));
    assert_eq!(l.refs.acct_svcr_ref.as_deref(), Some("AAAASESS-FP-CN_98765/01"));
    assert_eq!(l.refs.end_to_end_id.as_deref(), Some("MUELL/FINP/RA12345"));
    assert_eq!(l.refs.creditor_reference.as_deref(), Some("4654654654654654"));
    assert_eq!(l.counterparty_name.as_deref(), Some("NAME NAME"), "the debtor pays a credit");
    assert_eq!(l.counterparty_iban.as_deref(), Some("NL56AGDH9619008421"));
    let check = s.balance_check().expect("no overflow");
    assert_eq!(check.expected_closing, dec("27.00"));
    assert_eq!(check.difference, dec("-54.00"));
}

#[test]
fn ing_structured_mt940() {
    let raw = read("mt940/ing_structured_iban.sta");
    let stmts = mt940::parse(&raw).expect("parses");
    assert_eq!(stmts, bank::parse(&raw).expect("auto-detect"));
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.format, Format::Mt940);
    assert_eq!(s.id, "P123456000000001");
    assert_eq!(s.sequence.as_deref(), Some("00000"));
    assert_eq!(s.account, "NL68INGB0000012345", "IBAN without the EUR suffix");
    assert_eq!(s.opening.amount, dec("436.90"));
    assert_eq!(s.opening.date, date("2014-07-31"));
    assert_eq!(s.closing.amount, dec("246.45"));
    assert_eq!((s.period_from, s.period_to), (date("2014-08-01"), date("2014-08-25")));
    // The file's own :86:/SUM/18/3/14830,45/14640,00/ line.
    assert_eq!(s.lines.len(), 21);
    assert_eq!(s.lines.iter().filter(|l| l.direction == Direction::Debit).count(), 18);
    assert_eq!(sum(s, Direction::Debit), dec("14830.45"));
    assert_eq!(sum(s, Direction::Credit), dec("14640.00"));
    assert!(s.balance_check().expect("no overflow").is_ok());
    keys_unique(s);

    let first = &s.lines[0];
    assert_eq!(first.amount, dec("192.36"));
    assert_eq!(first.booking_date, date("2014-08-25"));
    assert_eq!(first.refs.acct_svcr_ref.as_deref(), Some("14237654096217"));
    assert_eq!(first.refs.remittance_text.as_deref(), Some("22-08-2014 Omschrijving"), "wrapped line joined");
    assert_eq!(first.counterparty_name.as_deref(), Some("B Bert"));
    assert_eq!(first.counterparty_iban.as_deref(), Some("NL57ABNA0876543211"));

    let kpn = &s.lines[8];
    assert_eq!(kpn.amount, dec("73.62"));
    assert_eq!(kpn.refs.end_to_end_id.as_deref(), Some("02164810730000043"));
    assert_eq!(kpn.refs.ntry_ref, None, "EREF in :61: only points at :86:");
    assert_eq!(kpn.counterparty_name.as_deref(), Some("KPN - MOBIEL"));
    assert!(kpn.refs.remittance_text.as_deref().is_some_and(|t| t.starts_with("Factuurnr: 2015/123456789.00.")));

    let tax = &s.lines[11];
    assert_eq!(tax.amount, dec("5241.00"));
    assert_eq!(tax.refs.ntry_ref.as_deref(), Some("1850426746401070"));
    assert_eq!(tax.counterparty_name.as_deref(), Some("BELASTINGDIENST"));
    assert_eq!(tax.refs.remittance_text, None);

    let fee = &s.lines[18];
    assert_eq!((fee.amount, fee.direction), (dec("14520.00"), Direction::Credit));
    assert_eq!(fee.booking_date, date("2014-08-18"));
    assert_eq!(fee.refs.remittance_text.as_deref(), Some("Mijn fee"));
    assert_eq!(fee.counterparty_iban.as_deref(), Some("NL50RABO0222222222"));
}

#[test]
fn rabobank_structured_mt940() {
    let raw = read("mt940/rabobank_structured.sta");
    let stmts = mt940::parse(&raw).expect("parses");
    assert_eq!(stmts.len(), 2, "a new :20: starts a new statement");
    let (a, b) = (&stmts[0], &stmts[1]);
    assert_eq!(a.id, "940S130403");
    assert_eq!(a.account, "NL50RABO0123456789");
    assert_eq!(a.lines.len(), 2);
    assert_eq!((a.opening.amount, a.closing.amount), (dec("1147.95"), dec("1190.35")));
    assert_eq!((a.period_from, a.period_to), (date("2013-04-03"), date("2013-04-03")));
    assert!(a.balance_check().expect("no overflow").is_ok());
    let nespresso = &a.lines[0];
    assert_eq!((nespresso.amount, nespresso.direction), (dec("127.50"), Direction::Debit));
    assert_eq!(nespresso.refs.end_to_end_id.as_deref(), Some("02-04-2013 22:56 1120000153447185"));
    assert_eq!(nespresso.counterparty_name.as_deref(), Some("Nespresso Nederland B.V."));
    assert_eq!(nespresso.counterparty_iban.as_deref(), Some("NL96RBOS0523149468"), "from the :61: second line");
    assert_eq!(nespresso.refs.remittance_text.as_deref(), Some("674725433 1120000153447185 14144467636004962"));
    assert_eq!(a.lines[1].refs.remittance_text.as_deref(), Some("NR.201303-111/11.3.2013NR.201303-112/11.3.2013"));
    assert_eq!(a.lines[1].counterparty_iban, None, "0663616476 is no IBAN");

    assert_eq!(b.id, "940S130404");
    assert_eq!(b.lines.len(), 7);
    assert_eq!((b.opening.amount, b.closing.amount), (dec("1190.35"), dec("18846.34")));
    assert_eq!(sum(b, Direction::Credit), dec("19046.61"));
    assert_eq!(sum(b, Direction::Debit), dec("1390.62"));
    assert!(b.balance_check().expect("no overflow").is_ok());
    assert_eq!(b.lines[3].booking_date, date("2013-04-01"), "no entry date: the value date");
    assert_eq!(b.lines[5].refs.end_to_end_id.as_deref(), Some("1134027115"));
    assert_eq!(b.lines[5].refs.remittance_text.as_deref(), Some("Ref: 201302-080"));
    keys_unique(a);
    keys_unique(b);
}

#[test]
fn abnamro_mt940_both_statements_do_not_add_up() {
    let raw = read("mt940/abnamro.sta");
    let stmts = mt940::parse(&raw).expect("parses");
    assert_eq!(stmts.len(), 2);
    let (a, b) = (&stmts[0], &stmts[1]);
    assert_eq!(a.account, "123212321");
    assert_eq!(a.sequence.as_deref(), Some("1301/1"));
    assert_eq!(a.lines.len(), 3);
    assert_eq!(a.opening.amount, dec("10000.90"), "one decimal written: 10000,9");
    assert_eq!(a.lines[1].amount, dec("10.00"), "no decimals written: 10,");
    assert_eq!(a.lines[0].value_date, Some(date("2014-01-11")));
    assert_eq!(a.lines[0].booking_date, date("2014-01-13"));
    assert!(a.lines[0].refs.remittance_text.as_deref().is_some_and(|t| t.starts_with("BEA NR:MA1402")));
    let sepa = &a.lines[2];
    assert_eq!(sepa.counterparty_iban.as_deref(), Some("NL25ABNA0987654321"));
    assert_eq!(sepa.counterparty_name.as_deref(), Some("FOOBAR"));
    assert_eq!(sepa.refs.remittance_text.as_deref(), Some("SAVINGS"));
    assert_eq!(sepa.refs.end_to_end_id, None, "NOTPROVIDED");
    assert_eq!(sepa.description.as_deref(), Some("SEPA OVERBOEKING"));
    // 10000.90 − 5.10 − 10.00 − 10.00 = 9975.80, the file says 9980.90.
    let check = a.balance_check().expect("no overflow");
    assert_eq!(check.expected_closing, dec("9975.80"));
    assert_eq!(check.difference, dec("5.10"));

    assert_eq!(b.lines.len(), 7);
    let ideal = &b.lines[0];
    assert_eq!((ideal.amount, ideal.direction), (dec("4.00"), Direction::Credit));
    assert_eq!(ideal.counterparty_iban.as_deref(), Some("NL70ABNA0888888888"));
    assert_eq!(ideal.counterparty_name.as_deref(), Some("NS GROEP INZAKE NSR IDEA"));
    assert_eq!(ideal.refs.remittance_text.as_deref(), Some("4851430136 0030000 735822580 NS E-TICKET(S)"));
    assert_eq!(ideal.refs.end_to_end_id.as_deref(), Some("26-01-2014 18:14 003000 0735822580"));
    assert_eq!(ideal.description.as_deref(), Some("SEPA IDEAL"));
    let acceptgiro = &b.lines[2];
    assert_eq!(acceptgiro.refs.creditor_reference.as_deref(), Some("1234567890098876"));
    assert_eq!(acceptgiro.counterparty_name.as_deref(), Some("BELASTINGDIENST"));
    // Five identical lines without bank reference still get five different keys.
    keys_unique(b);
    // 9980.90 + 4.00 − 6 × 1000.00 = 3984.90, the file says 3976.90.
    let check = b.balance_check().expect("no overflow");
    assert_eq!(check.expected_closing, dec("3984.90"));
    assert_eq!(check.difference, dec("-8.00"));
}

#[test]
fn triodos_mt940() {
    let raw = read("mt940/triodos.sta");
    let stmts = mt940::parse(&raw).expect("parses");
    assert_eq!(stmts.len(), 2);
    let (a, b) = (&stmts[0], &stmts[1]);
    assert_eq!(a.id, "1352294232659/1");
    assert_eq!(a.account, "TRIODOSBANK/0666666666");
    assert_eq!(b.account, "TRIODOSBANK/0999999999");
    assert_eq!((a.period_from, a.period_to), (date("2012-11-23"), date("2012-11-23")));
    assert_eq!(a.lines.len(), 4);
    assert_eq!(b.lines.len(), 4);
    assert_eq!(
        a.lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        vec![dec("10"), dec("250"), dec("150"), dec("40")]
    );
    assert!(a.balance_check().expect("no overflow").is_ok());
    assert!(b.balance_check().expect("no overflow").is_ok());
    assert_eq!(b.closing.amount, dec("1009.14"));
    assert_eq!(
        a.lines[0].refs.remittance_text.as_deref(),
        Some("TENAAMSTELLING TEGENREKENING EN ADRES TEGENREKENING EN PLAATS TEGENREKENING EN EEN LANGE OMSCHRIJVING VAN DE TRANSACTIE")
    );
    assert_eq!(a.lines[0].counterparty_iban, None);
    assert_eq!(
        a.lines[2].counterparty_iban.as_deref(),
        Some("AA99BBBB0555555555"),
        ">21 holds the IBAN after a BIC in >20"
    );
    assert!(a.lines[3].refs.remittance_text.as_deref().is_some_and(|t| t.ends_with("TRANSACTIE 1111222233334444")));
    keys_unique(a);
    keys_unique(b);
}

#[test]
fn every_file_serialises_to_json_without_floats() {
    for rel in [
        "camt053/sns_balanced_camt053.001.02.xml",
        "mt940/ing_structured_iban.sta",
        "mt940/rabobank_structured.sta",
        "mt940/abnamro.sta",
        "mt940/triodos.sta",
        "mt940/ing_returns_from_spec.sta",
        "camt053/sns_returns_camt053.001.02.xml",
    ] {
        let stmts = bank::parse(&read(rel)).expect("parses");
        let json = serde_json::to_value(&stmts).expect("serialises");
        let first_amount = &json[0]["lines"][0]["amount"];
        assert!(first_amount.is_string(), "{rel}: amounts are strings, got {first_amount}");
        assert!(json[0]["opening"]["date"].is_string());
    }
}

#[test]
fn statement_digest() {
    let raw = read("camt053/sns_balanced_camt053.001.02.xml");
    let h = bank::statement_sha256(&raw);
    assert_eq!(h.len(), 64);
    assert_ne!(h, bank::statement_sha256(&read("camt053/sns_balance-mismatch_camt053.001.02.xml")));
}

/// Returns without `RvslInd`: the reason code of `RtrInf/Rsn/Cd` wins over the bank
/// transaction code; a return sub-family of `BkTxCd` alone (`RRTN`) marks a return too.
#[test]
fn camt053_returns_by_reason_code_and_bank_transaction_code() {
    let stmts = camt053::parse(&read("camt053/sns_returns_camt053.001.02.xml")).expect("parses");
    let s = &stmts[0];
    assert!(s.balance_check().unwrap().is_ok());
    let (debit, credit) = (&s.lines[0], &s.lines[1]);
    assert!(!debit.reversal && !credit.reversal, "no RvslInd in the file");
    assert_eq!(debit.return_reason.as_deref(), Some("MD06"));
    assert_eq!(credit.return_reason.as_deref(), Some("RRTN"));
    assert!(debit.is_return() && credit.is_return());
    // The same statement without the return codes has no return lines.
    let plain = camt053::parse(&read("camt053/sns_balanced_camt053.001.02.xml")).unwrap();
    assert!(plain[0].lines.iter().all(|l| l.return_reason.is_none() && !l.is_return()));
    // The return codes are not part of the stable key: the same bank line, the same key.
    assert_eq!(
        s.lines.iter().map(|l| &l.key).collect::<Vec<_>>(),
        plain[0].lines.iter().map(|l| &l.key).collect::<Vec<_>>()
    );
}

/// ING's own MT940 example: returns are `:61:` type `NRTI` with `:86:` `/RTRN/MS03/`,
/// not `RC`/`RD`.
#[test]
fn ing_mt940_returns_by_rtrn_code() {
    let stmts = mt940::parse(&read("mt940/ing_returns_from_spec.sta")).expect("parses");
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.lines.len(), 8);
    assert!(s.balance_check().unwrap().is_ok());
    let returns: Vec<(String, &str, Option<&str>)> = s
        .lines
        .iter()
        .filter(|l| l.is_return())
        .map(|l| {
            (l.signed_amount().to_string(), l.return_reason.as_deref().unwrap_or(""), l.refs.end_to_end_id.as_deref())
        })
        .collect();
    assert_eq!(
        returns,
        vec![
            ("1.57".to_string(), "MS03", Some("20120123456789")),
            ("-12.75".to_string(), "MS03", Some("20120501P0123478")),
        ]
    );
    assert!(s.lines.iter().all(|l| !l.reversal));
}
