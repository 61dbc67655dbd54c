//! The `.pb` reader and writer: real files, error messages, round trips, and
//! random bytes (the reader must never panic).

use ledger::pb::{self, Cost, CostError, Instance, Project, Rational};
use proptest::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/pabulib");

fn data_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in [DATA.to_string(), format!("{DATA}/synthetic")] {
        for entry in std::fs::read_dir(&dir).expect("data directory") {
            let path = entry.expect("entry").path();
            if path.extension().map(|e| e == "pb").unwrap_or(false) {
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    files
}

fn err(text: &str) -> String {
    pb::parse(text).expect_err("must be refused").to_string()
}

const GOOD: &str = "META\nkey;value\nbudget;100\nPROJECTS\nproject_id;cost;name\n1;60;one\n2;50,5;two\nVOTES\nvoter_id;vote\na;1,2\nb;2\n";

#[test]
fn real_files_parse_with_the_counts_of_sources_tsv() {
    let sources = std::fs::read_to_string(format!("{DATA}/SOURCES.tsv")).expect("SOURCES.tsv");
    let mut lines = sources.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    for line in lines {
        let c: Vec<&str> = line.split('\t').collect();
        let inst = pb::parse_file(format!("{DATA}/{}", c[col("file")])).expect("parses");
        assert_eq!(inst.projects().len(), c[col("projects")].parse::<usize>().expect("n"), "{line}");
        assert_eq!(inst.num_voters(), c[col("votes")].parse::<usize>().expect("n"), "{line}");
        assert_eq!(inst.num_approvals(), c[col("vote_entries")].parse::<usize>().expect("n"), "{line}");
        assert_eq!(inst.budget().to_string(), c[col("budget")], "{line}");
        assert_eq!(inst.meta_value("vote_type"), Some(c[col("vote_type")]), "{line}");
    }
}

#[test]
fn quoting_bom_crlf_and_decimal_commas() {
    let text = "\u{feff}META\r\nkey;value\r\nbudget;\"1000,50\"\r\ndescription;\"a; b \"\"c\"\"\"\r\nPROJECTS\r\nproject_id;cost;votes;name\r\n\"x;1\";10,25;2;\"Odkupmy\" i my\r\n7;0;0;\r\nVOTES\r\nvoter_id;vote;points\r\n1;\"x;1,7\";3,4\r\n2;;\r\n";
    let inst = pb::parse(text).expect("valid");
    assert_eq!(inst.budget(), Cost::parse("1000.5").expect("decimal"));
    assert_eq!(inst.meta_value("description"), Some("a; b \"c\""));
    assert_eq!(inst.projects()[0].id, "x;1");
    assert_eq!(inst.projects()[0].cost.to_string(), "10.25");
    assert_eq!(inst.projects()[0].field("name"), Some("Odkupmy i my"));
    assert_eq!(inst.ballot(0), &[0, 1]);
    assert!(inst.ballot(1).is_empty());
    assert_eq!(inst.num_voters(), 2);
}

#[test]
fn duplicate_ids_in_a_vote_count_once() {
    let inst = pb::parse(&GOOD.replace("a;1,2", "a;1,2,1")).expect("valid");
    assert_eq!(inst.ballot(0), &[0, 1]);
}

#[test]
fn clear_errors() {
    assert_eq!(err(""), "missing META section");
    assert_eq!(err("META\nkey;value\nbudget;1\n"), "missing PROJECTS section");
    assert_eq!(err("META\nkey;value\nbudget;1\nPROJECTS\nproject_id;cost\n1;5\n"), "missing VOTES section");
    assert_eq!(err("META\nkey;value\nunit;x\nPROJECTS\nproject_id;cost\n"), "META section has no budget");
    assert_eq!(err(&GOOD.replace("budget;100", "budget;lots")), "line 3: budget is \"lots\", expected a decimal");
    assert_eq!(
        err(&GOOD.replace("1;60;one", "17;abc;one")),
        "line 6: project \"17\" has cost \"abc\", expected a decimal"
    );
    assert_eq!(
        err(&GOOD.replace("1;60;one", "1;-60;one")),
        "line 6: project \"1\" has cost \"-60\", expected a non-negative decimal"
    );
    assert_eq!(err(&GOOD.replace("2;50,5;two", "1;50,5;two")), "line 7: duplicate project id \"1\"");
    assert_eq!(err(&GOOD.replace("b;2", "b;2,99")), "line 11: voter \"b\" votes for unknown project \"99\"");
    assert_eq!(err(&GOOD.replace("b;2", "a;2")), "line 11: duplicate voter id \"a\"");
    assert_eq!(
        err(&GOOD.replace("project_id;cost;name", "project_id;price;name")),
        "line 5: PROJECTS header has no \"cost\" column"
    );
    assert_eq!(err(&GOOD.replace("voter_id;vote", "voter;vote")), "line 9: VOTES header has no \"voter_id\" column");
    assert_eq!(
        err(&format!("hello\n{GOOD}")),
        "line 1: expected a section name (META, PROJECTS or VOTES), found \"hello\""
    );
    assert_eq!(err(&GOOD.replace("b;2", "b;\"2")), "line 11: quoted field is never closed");
    assert_eq!(err(&format!("{GOOD}VOTES\n")), "line 12: second VOTES section");
    assert_eq!(err(&GOOD.replace("b;2", "b;1,,2")), "line 11: voter \"b\" has an empty project id in vote \"1,,2\"");
    let bytes = [GOOD.as_bytes(), &[0xff, 0xfe]].concat();
    assert_eq!(pb::parse_bytes(&bytes).expect_err("not UTF-8").to_string(), "line 12: not valid UTF-8 text");
    let missing = pb::parse_file("/nonexistent/x.pb").expect_err("no file").to_string();
    assert!(missing.starts_with("/nonexistent/x.pb: cannot read the file"), "{missing}");
    let e = pb::parse_file(format!("{DATA}/README.md")).expect_err("not a .pb");
    assert!(e.to_string().contains("README.md: line 1: expected a section name"), "{e}");
}

#[test]
fn write_then_parse_gives_the_same_instance() {
    for file in data_files() {
        let inst = pb::parse_file(&file).expect("parses");
        let text = pb::write(&inst);
        let back = pb::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(back, inst, "{file}");
        assert_eq!(pb::write(&back), text, "{file}");
    }
}

#[test]
fn written_instances_built_by_hand_round_trip() {
    let mut inst = Instance::new(Cost::parse("1234.5").expect("decimal"));
    inst.set_meta("description", "round \"7\"; the ledger's");
    inst.set_meta("vote_type", "approval");
    let mut p = Project::new("VOTES", Cost::parse("0.05").expect("decimal"));
    p.extra = vec![("name".into(), "multi\nline; \"quoted\"".into()), ("category".into(), "  x ".into())];
    inst.add_project(p).expect("valid id");
    inst.add_project(Project::new("a;b", Cost::ZERO)).expect("valid id");
    inst.add_project(Project::new("meta", Cost::from_integer(3))).expect("valid id");
    inst.add_ballot("META", &["VOTES", "a;b"]).expect("valid ballot");
    inst.add_ballot("projects", &[] as &[&str]).expect("empty ballot");
    inst.add_ballot("v\"3", &["meta"]).expect("valid ballot");
    assert!(inst.add_project(Project::new("x,y", Cost::ZERO)).is_err());
    assert!(inst.add_project(Project::new("meta", Cost::ZERO)).is_err());
    assert!(inst.add_ballot("META", &["meta"]).is_err());
    assert!(inst.add_ballot("new", &["nope"]).is_err());
    let text = pb::write(&inst);
    assert_eq!(pb::parse(&text).expect("reads back"), inst, "{text}");
}

#[test]
fn truncations_of_real_files_never_panic() {
    for file in data_files() {
        let bytes = std::fs::read(&file).expect("readable");
        if bytes.len() > 100_000 {
            continue;
        }
        let step = (bytes.len() / 97).max(1);
        let mut cut = 0;
        while cut < bytes.len() {
            let _ = pb::parse_bytes(&bytes[..cut]);
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0x22;
            let _ = pb::parse_bytes(&flipped);
            cut += step;
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = pb::parse_bytes(&bytes);
    }

    #[test]
    fn random_pb_like_text_never_panics(parts in prop::collection::vec(
        prop::sample::select(vec!["META", "PROJECTS", "VOTES", "\n", "\r\n", ";", "\"", ",", "budget", "1", "2,5",
            "key;value", "project_id;cost", "voter_id;vote", "-3", "abc", " ", "\u{feff}", "é"]), 0..60)) {
        let text: String = parts.concat();
        if let Ok(inst) = pb::parse(&text) {
            // Whatever parses writes back to the same instance.
            prop_assert_eq!(pb::parse(&pb::write(&inst)).expect("reads back"), inst);
        }
    }
}

/// Costs: both decimal marks, no trailing zeros, clear refusals.
#[test]
fn costs_parse_and_print() {
    let c = |s: &str| Cost::parse(s).expect(s);
    assert_eq!(c("1200000").to_string(), "1200000");
    assert_eq!(c("100,5").to_string(), "100.5");
    assert_eq!(c("100.50"), c("100.5"));
    assert_eq!(c(" 0.05 ").to_string(), "0.05");
    assert_eq!(c(".5").to_string(), "0.5");
    assert_eq!(c("7.").to_string(), "7");
    assert_eq!(c("0").to_string(), "0");
    assert_eq!(c("000"), Cost::ZERO);
    assert!(c("2.5") > c("2.49"));
    assert_eq!(Cost::parse("abc"), Err(CostError::NotDecimal));
    assert_eq!(Cost::parse(""), Err(CostError::NotDecimal));
    assert_eq!(Cost::parse("."), Err(CostError::NotDecimal));
    assert_eq!(Cost::parse("1.2.3"), Err(CostError::NotDecimal));
    assert_eq!(Cost::parse("-5"), Err(CostError::Negative));
    assert_eq!(Cost::parse("1e5"), Err(CostError::NotDecimal));
    assert_eq!(Cost::parse(&"9".repeat(60)), Err(CostError::TooLarge));
}

/// Exact amounts rounded half away from zero for people.
#[test]
fn rationals_show_as_decimals() {
    let r = Rational::new(24186815, 61668).expect("nonzero");
    assert_eq!(r.to_decimal(2), "392.21");
    assert_eq!(Rational::new(-1, 3).expect("nonzero").to_decimal(2), "-0.33");
    assert_eq!(Rational::new(-1, 1000).expect("nonzero").to_decimal(2), "0.00");
    assert_eq!(Rational::new(5, 2).expect("nonzero").to_decimal(0), "3");
    assert_eq!(Rational::new(1, 200).expect("nonzero").to_decimal(2), "0.01");
    assert_eq!(r.to_string(), "24186815/61668");
    assert_eq!(Rational::from_integer(12).to_string(), "12");
}
