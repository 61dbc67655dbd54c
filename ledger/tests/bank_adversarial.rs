//! Hostile and broken statement files, generated here: every one must give a clear error
//! (or a documented result), none may panic.

use std::str::FromStr;

use ledger::bank::{self, camt053, mt940, BankError, Direction, ErrorKind};
use rust_decimal::Decimal;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/bank");

fn read(rel: &str) -> Vec<u8> {
    let path = format!("{DATA}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sns() -> String {
    String::from_utf8(read("camt053/sns_balanced_camt053.001.02.xml")).expect("utf-8")
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

/// Replace exactly one occurrence (the test data must contain it exactly once).
fn once(s: &str, from: &str, to: &str) -> String {
    assert_eq!(s.matches(from).count(), 1, "{from:?} must occur once");
    s.replacen(from, to, 1)
}

fn camt_err(doc: &str) -> BankError {
    camt053::parse(doc.as_bytes()).expect_err("must be refused")
}

/// A minimal camt.053 document around the given entries.
fn camt(version: &str, opening: &str, closing: &str, entries: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.{version}">
<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S1</Id>
<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-31</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>
"#
    )
}

fn batch(entry_amount: &str, details: &[&str]) -> String {
    let tx: String = details
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "<TxDtls><Refs><EndToEndId>E2E-{i}</EndToEndId></Refs><Amt Ccy=\"EUR\">{a}</Amt>\
                 <RltdPties><Dbtr><Nm>Payer {i}</Nm></Dbtr></RltdPties><RmtInf><Ustrd>MEENT-{i}</Ustrd></RmtInf></TxDtls>"
            )
        })
        .collect();
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{entry_amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><Dt>2026-01-10</Dt></BookgDt><AcctSvcrRef>BATCH-1</AcctSvcrRef>\
         <NtryDtls><Btch><NbOfTxs>{}</NbOfTxs></Btch>{tx}</NtryDtls></Ntry>",
        details.len()
    )
}

#[test]
fn empty_files() {
    for input in [&b""[..], b"   \n\t ", b"\xEF\xBB\xBF"] {
        for result in [bank::parse(input), camt053::parse(input), mt940::parse(input)] {
            let e = result.expect_err("empty");
            assert!(matches!(e.kind, ErrorKind::Empty | ErrorKind::UnknownFormat | ErrorKind::NotCamt053(_)), "{e}");
        }
    }
    assert_eq!(bank::parse(b"").expect_err("empty").to_string(), "the file is empty");
}

#[test]
fn truncated_xml_names_the_open_element() {
    let doc = sns();
    // Cut between elements, inside the second entry.
    let cut = doc.find("<AcctSvcrRef>REF002").expect("present");
    let e = camt_err(&doc[..cut]);
    assert_eq!(e.kind, ErrorKind::UnexpectedEof { inside: "Stmt[1]/Ntry[2]".into() });
    assert!(e.to_string().starts_with("unexpected end of file inside Stmt[1]/Ntry[2] (line "), "{e}");
    // Cut inside a tag.
    let cut = doc.find("<Amt Ccy=\"EUR\">50.00").expect("present") + 6;
    let e = camt_err(&doc[..cut]);
    assert_eq!(e.kind, ErrorKind::UnexpectedEof { inside: "Stmt[1]/Ntry[2]".into() });
    // Every cut before the closing root tag is an error, never a panic.
    let end = doc.find("</Document>").expect("present");
    for cut in 0..doc.len() {
        let r = camt053::parse(&doc.as_bytes()[..cut]);
        if cut <= end {
            assert!(r.is_err(), "cut at {cut} must be refused");
        }
    }
}

#[test]
fn wrong_currency() {
    let doc = once(&sns(), "<Amt Ccy=\"EUR\">50.00</Amt>", "<Amt Ccy=\"USD\">50.00</Amt>");
    let e = camt_err(&doc);
    assert_eq!(e.path, "Stmt[1]/Ntry[2]/Amt");
    assert_eq!(e.kind, ErrorKind::Currency { found: "USD".into() });
    assert!(e.to_string().ends_with("currency USD, expected EUR"));

    let doc = once(&sns(), "<Ccy>EUR</Ccy>", "<Ccy>GBP</Ccy>");
    assert_eq!(camt_err(&doc).path, "Stmt[1]/Acct/Ccy");

    let doc = once(&sns(), "<Amt Ccy=\"EUR\">1000.00</Amt>", "<Amt>1000.00</Amt>");
    let e = camt_err(&doc);
    assert_eq!((e.path.as_str(), &e.kind), ("Stmt[1]/Bal[1]/Amt", &ErrorKind::Missing("Ccy attribute".into())));

    let mt = String::from_utf8(read("mt940/triodos.sta"))
        .expect("ascii")
        .replace(":60F:C121123EUR1000,00", ":60F:C121123USD1000,00");
    let e = mt940::parse(mt.as_bytes()).expect_err("USD");
    assert_eq!(e.path, "Stmt[1]/:60F:");
    assert_eq!(e.kind, ErrorKind::Currency { found: "USD".into() });
    assert_eq!(e.position.map(|p| p.line), Some(4));
}

#[test]
fn duplicate_acct_svcr_ref_is_refused() {
    let doc = once(&sns(), "REF002", "REF001");
    let e = camt_err(&doc);
    assert_eq!(e.path, "Stmt[1]/Ntry[2]/AcctSvcrRef");
    match &e.kind {
        ErrorKind::DuplicateReference { reference, first } => {
            assert_eq!(reference, "REF001");
            assert!(first.starts_with("Stmt[1]/Ntry[1]"), "{first}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // The same in MT940: an ING line repeated with its bank reference.
    let ing = String::from_utf8(read("mt940/ing_structured_iban.sta")).expect("ascii");
    let dup =
        once(&ing, ":61:1408250825D7,00NTRFNONREF//14237654096225", ":61:1408250825D7,00NTRFNONREF//14237654096217");
    let e = mt940::parse(dup.as_bytes()).expect_err("duplicate bank reference");
    assert_eq!(e.path, "Stmt[1]/:61:[2]");
    assert!(matches!(e.kind, ErrorKind::DuplicateReference { .. }));
}

#[test]
fn identical_lines_without_reference_are_kept_apart() {
    // Two identical entries without AcctSvcrRef: both kept, distinct keys by occurrence.
    let entry = "<Ntry><Amt Ccy=\"EUR\">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-01-10</Dt></BookgDt></Ntry>";
    let doc = camt("001.02", "0.00", "50.00", &format!("{entry}{entry}"));
    let s = &camt053::parse(doc.as_bytes()).expect("parses")[0];
    assert_eq!(s.lines.len(), 2);
    assert_ne!(s.lines[0].key, s.lines[1].key);
    assert!(s.balance_check().expect("no overflow").is_ok());
}

#[test]
fn three_decimals_are_refused() {
    let doc = once(&sns(), ">50.00</Amt>", ">50.005</Amt>");
    let e = camt_err(&doc);
    assert_eq!(e.path, "Stmt[1]/Ntry[2]/Amt");
    assert_eq!(e.kind, ErrorKind::TooManyDecimals("50.005".into()));
    assert!(e.to_string().ends_with(": \"50.005\" has more than two decimals"), "{e}");
    let line = e.position.map(|p| p.line).unwrap_or(0);
    assert_eq!(doc.lines().nth(line - 1).map(str::trim), Some("<Amt Ccy=\"EUR\">50.005</Amt>"));

    let doc = once(&sns(), ">1000.00</Amt>", ">1000.001</Amt>");
    assert_eq!(camt_err(&doc).path, "Stmt[1]/Bal[1]/Amt");

    // Trailing zeros are not extra precision.
    let doc = once(&sns(), ">50.00</Amt>", ">50.000</Amt>");
    assert_eq!(camt053::parse(doc.as_bytes()).expect("parses")[0].lines[1].amount, dec("50.00"));

    let mt = String::from_utf8(read("mt940/triodos.sta")).expect("ascii").replacen(
        ":61:121123D10,00NIT NONREF",
        ":61:121123D10,005NIT NONREF",
        1,
    );
    let e = mt940::parse(mt.as_bytes()).expect_err("three decimals");
    assert_eq!(e.path, "Stmt[1]/:61:[1]");
    assert_eq!(e.kind, ErrorKind::TooManyDecimals("10,005".into()));

    let mt = String::from_utf8(read("mt940/triodos.sta")).expect("ascii").replacen(
        ":61:121123D10,00NIT NONREF",
        ":61:121123D10.00NIT NONREF",
        1,
    );
    assert_eq!(mt940::parse(mt.as_bytes()).expect_err("dot").kind, ErrorKind::NeedsComma("10.00".into()));
}

#[test]
fn other_bad_values() {
    let cases = [
        (once(&sns(), ">50.00</Amt>", ">-50.00</Amt>"), "Stmt[1]/Ntry[2]/Amt"),
        (once(&sns(), ">50.00</Amt>", ">5e1</Amt>"), "Stmt[1]/Ntry[2]/Amt"),
        (once(&sns(), ">50.00</Amt>", "></Amt>"), "Stmt[1]/Ntry[2]/Amt"),
        (once(&sns(), ">50.00</Amt>", ">1000000000000000.00</Amt>"), "Stmt[1]/Ntry[2]/Amt"),
        (
            once(&sns(), "<Dt>2026-04-10</Dt>\n        </BookgDt>", "<Dt>2026-02-30</Dt>\n        </BookgDt>"),
            "Stmt[1]/Ntry[2]/BookgDt/Dt",
        ),
        (
            sns().replacen(
                "<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>",
                "<CdtDbtInd>CRED</CdtDbtInd>\n        <Sts>",
                1,
            ),
            "Stmt[1]/Ntry[2]/CdtDbtInd",
        ),
        (once(&sns(), "<Cd>CLBD</Cd>", "<Cd>XXXX</Cd>"), "Stmt[1]"),
        (sns().replace("<Cd>CLBD</Cd>", "<Cd>OPBD</Cd>"), "Stmt[1]/Bal[2]"),
    ];
    for (doc, path) in cases {
        let e = camt_err(&doc);
        assert_eq!(e.path, path, "{e}");
        assert!(e.position.is_some(), "{e}");
    }
}

#[test]
fn batch_entries() {
    // A batch of three details: one line each, summing to the entry.
    let doc = camt("001.02", "100.00", "160.00", &batch("60.00", &["10.00", "20.00", "30.00"]));
    let s = &camt053::parse(doc.as_bytes()).expect("parses")[0];
    assert_eq!(s.lines.len(), 3);
    assert_eq!(s.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), vec![dec("10"), dec("20"), dec("30")]);
    assert_eq!(s.lines.iter().map(|l| l.batch_detail).collect::<Vec<_>>(), vec![Some(1), Some(2), Some(3)]);
    assert!(s.lines.iter().all(|l| l.refs.acct_svcr_ref.as_deref() == Some("BATCH-1")));
    assert_eq!(s.lines[1].refs.end_to_end_id.as_deref(), Some("E2E-1"));
    assert_eq!(s.lines[2].counterparty_name.as_deref(), Some("Payer 2"));
    assert!(s.lines[1].source.starts_with("Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[2]"));
    let mut keys: Vec<_> = s.lines.iter().map(|l| &l.key).collect();
    keys.dedup();
    assert_eq!(keys.len(), 3);
    assert!(s.balance_check().expect("no overflow").is_ok());

    // Details that do not add up.
    let doc = camt("001.02", "100.00", "160.00", &batch("60.00", &["10.00", "20.00", "25.00"]));
    let e = camt_err(&doc);
    assert_eq!(e.path, "Stmt[1]/Ntry[1]");
    assert_eq!(e.kind, ErrorKind::BatchSum { entry: dec("60.00"), details: dec("55.00"), count: 3 });
    assert_eq!(e.kind.to_string(), "the 3 transaction details add up to 55.00 but the entry amount is 60.00");

    // Amounts from AmtDtls/TxAmt (camt.053.001.02 has no TxDtls/Amt).
    let doc = camt("001.02", "0.00", "30.00", &batch("30.00", &["10.00", "20.00"]))
        .replace("<Amt Ccy=\"EUR\">10.00</Amt>", "<AmtDtls><TxAmt><Amt Ccy=\"EUR\">10.00</Amt></TxAmt></AmtDtls>");
    let s = &camt053::parse(doc.as_bytes()).expect("parses")[0];
    assert_eq!(s.lines[0].amount, dec("10.00"));

    // A detail without any amount.
    let doc = camt("001.02", "0.00", "30.00", &batch("30.00", &["10.00", "20.00"]))
        .replace("<Amt Ccy=\"EUR\">10.00</Amt>", "");
    let e = camt_err(&doc);
    assert_eq!(e.path, "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]");
    assert!(matches!(e.kind, ErrorKind::Missing(_)));

    // A detail in another currency.
    let doc = camt("001.02", "0.00", "30.00", &batch("30.00", &["10.00", "20.00"]))
        .replace("<Amt Ccy=\"EUR\">20.00</Amt>", "<Amt Ccy=\"USD\">20.00</Amt>");
    assert_eq!(camt_err(&doc).path, "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[2]/Amt");
}

#[test]
fn versions() {
    let entry = "<Ntry><Amt Ccy=\"EUR\">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-01-10</Dt></BookgDt>\
                 <NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>Shop</Nm></Pty></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry>";
    for v in 2..=13 {
        let doc = camt(&format!("001.{v:02}"), "10.00", "5.00", entry);
        let s = &camt053::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("001.{v:02}: {e}"))[0];
        assert_eq!(s.format, bank::Format::Camt053 { version: v });
        assert_eq!(s.lines[0].direction, Direction::Debit);
        assert_eq!(s.lines[0].counterparty_name.as_deref(), Some("Shop"));
    }
    for v in ["001.01", "001.14", "001.99", "002.02", "001.2"] {
        let e = camt_err(&camt(v, "10.00", "5.00", entry));
        assert_eq!(e.kind, ErrorKind::UnsupportedVersion { version: v.into() }, "{v}");
        assert!(e.to_string().contains("unsupported version camt.053."), "{e}");
    }
    let e = camt_err(&sns().replace("camt.053.001.02", "camt.052.001.02"));
    assert!(matches!(e.kind, ErrorKind::NotCamt053(_)), "{e}");
    let e = camt_err("<Document><BkToCstmrStmt/></Document>");
    assert!(matches!(e.kind, ErrorKind::NotCamt053(_)), "{e}");
    let e = camt_err("<html><body>not a statement</body></html>");
    assert!(matches!(e.kind, ErrorKind::NotCamt053(_)), "{e}");
    // A prefixed namespace is the same document.
    let prefixed = sns()
        .replace("xmlns=\"urn:", "xmlns:c=\"urn:")
        .replace("<", "<c:")
        .replace("<c:/", "</c:")
        .replace("<c:?xml", "<?xml");
    let s = camt053::parse(prefixed.as_bytes()).expect("prefixed namespace");
    assert_eq!(s[0].lines.len(), 2);
}

#[test]
fn unbooked_entries_are_skipped() {
    let doc = once(
        &sns(),
        "<Sts>BOOK</Sts>\n        <BookgDt>\n          <DtTm>",
        "<Sts>PDNG</Sts>\n        <BookgDt>\n          <DtTm>",
    );
    let s = &camt053::parse(doc.as_bytes()).expect("parses")[0];
    assert_eq!(s.lines.len(), 1);
    assert_eq!(s.skipped_unbooked, 1);
    assert_eq!(s.balance_check().expect("no overflow").difference, dec("-100.00"));
}

#[test]
fn several_statements_in_one_file() {
    let doc = sns();
    let start = doc.find("<Stmt>").expect("present");
    let end = doc.find("</Stmt>").expect("present") + "</Stmt>".len();
    let second = doc[start..end].replace("<Id>0000000000</Id>", "<Id>0000000001</Id>");
    let two = format!("{}{}{}", &doc[..end], second, &doc[end..]);
    let stmts = camt053::parse(two.as_bytes()).expect("parses");
    assert_eq!(stmts.len(), 2);
    assert_eq!(stmts[1].id, "0000000001");
    let broken = format!("{}{}{}", &doc[..end], second.replacen("<Sts>BOOK</Sts>", "", 1), &doc[end..]);
    let e = camt_err(&broken);
    assert_eq!(e.path, "Stmt[2]/Ntry[1]");
    assert_eq!(e.kind, ErrorKind::Missing("Sts".into()));
    let none = doc[..start].to_string() + &doc[end..];
    assert_eq!(camt_err(&none).kind, ErrorKind::NoStatement);
}

#[test]
fn xml_abuse() {
    // Deep nesting: refused without recursion.
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert_eq!(camt_err(&deep).kind, ErrorKind::TooDeep { max: bank::XML_DEPTH_MAX });
    // Entity expansion: custom entities are never expanded.
    let lol = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>"#;
    let e = camt_err(lol);
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    assert_eq!(e.path, "Stmt[1]/Id");
    // Predefined and character entities are fine.
    let doc = once(&sns(), "Payment for invoice 123", "Payment &amp; invoice &#49;23");
    let s = &camt053::parse(doc.as_bytes()).expect("parses")[0];
    assert_eq!(s.lines[0].refs.remittance_text.as_deref(), Some("Payment & invoice 123"));
    // Two roots, mismatched tags, not UTF-8.
    assert!(matches!(camt_err(&format!("{}<x/>", sns())).kind, ErrorKind::Xml(_)));
    let e = camt_err(&once(&sns(), "</TxId>", "</TxI>"));
    assert!(matches!(e.kind, ErrorKind::Xml(_)), "{e}");
    let mut bytes = sns().into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = 0xFF;
    assert_eq!(camt053::parse(&bytes).expect_err("latin").kind, ErrorKind::NotUtf8);
}

#[test]
fn mt940_structure_errors() {
    let tri = String::from_utf8(read("mt940/triodos.sta")).expect("ascii");
    let e = mt940::parse(tri.replacen(":62F:C121123EUR850,00\n", "", 1).as_bytes()).expect_err("no closing");
    assert_eq!(e.kind, ErrorKind::Missing(":62F: closing balance".into()));
    assert!(e.path.starts_with("Stmt[1]"));
    let e = mt940::parse(tri.replacen(":25:TRIODOSBANK/0666666666\n", "", 1).as_bytes()).expect_err("no account");
    assert_eq!(e.kind, ErrorKind::Missing(":25: account".into()));
    let e = mt940::parse(b":61:121123D10,00NIT NONREF\n:20:X\n").expect_err("before :20:");
    assert_eq!(e.path, ":61:");
    let e = mt940::parse(tri.replacen("D10,00NIT", "X10,00NIT", 1).as_bytes()).expect_err("mark");
    assert_eq!((e.path.as_str(), e.kind), ("Stmt[1]/:61:[1]", ErrorKind::BadIndicator("X1".into())));
    let e = mt940::parse(tri.replacen(":61:121123D10", ":61:121323D10", 1).as_bytes()).expect_err("month 13");
    assert!(matches!(e.kind, ErrorKind::BadDate(_)));
    let e = mt940::parse(tri.replacen("D10,00NIT NONREF", "D10,00", 1).as_bytes()).expect_err("no type");
    assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
    assert_eq!(mt940::parse(b"hello world\n").expect_err("text").kind, ErrorKind::UnknownFormat);
    // Reversals: RC is a debit, RD a credit.
    let rev = tri.replacen("D10,00NIT", "RC10,00NIT", 1);
    let s = &mt940::parse(rev.as_bytes()).expect("parses")[0];
    assert!(s.lines[0].reversal);
    assert_eq!(s.lines[0].direction, Direction::Debit);
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn all_parsers(input: &[u8]) {
    let _ = bank::parse(input);
    let _ = camt053::parse(input);
    let _ = mt940::parse(input);
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let len = rng.below(600);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        all_parsers(&bytes);
        // Garbage made of the formats' own characters.
        let alphabet = b"<>/=\"':CDRN0123456789,.-{}\n EURSmtNtryAmt>2061";
        let text: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        all_parsers(&text);
    }
}

#[test]
fn mutated_real_files_never_panic() {
    let mut rng = Rng(42);
    for rel in [
        "camt053/sns_balanced_camt053.001.02.xml",
        "camt053/generic_camt053.001.08.xml",
        "mt940/ing_structured_iban.sta",
        "mt940/rabobank_structured.sta",
        "mt940/abnamro.sta",
        "mt940/triodos.sta",
    ] {
        let raw = read(rel);
        // Every cut near the start and the end, every 7th byte in between.
        for cut in (0..raw.len()).filter(|&c| c < 200 || c + 200 > raw.len() || c % 7 == 0) {
            all_parsers(&raw[..cut]);
        }
        for _ in 0..400 {
            let mut m = raw.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len());
                match rng.below(3) {
                    0 => m[at] = rng.next() as u8,
                    1 => {
                        m.remove(at);
                    }
                    _ => m.insert(at, b"0,.<>:/-\n"[rng.below(9)]),
                }
            }
            all_parsers(&m);
        }
    }
}
