//! The catalogues: both languages have the same keys, parse without error,
//! and hold every key a template or the page code asks for.

use std::collections::BTreeSet;
use std::path::Path;

fn keys(ftl: &str, name: &str) -> BTreeSet<String> {
    let res = fluent_syntax::parser::parse(ftl.to_string()).unwrap_or_else(|(_, e)| panic!("{name}: {e:?}"));
    let mut out = BTreeSet::new();
    for entry in res.body {
        match entry {
            fluent_syntax::ast::Entry::Message(m) => {
                assert!(m.value.is_some(), "{name}: {} has no text", m.id.name);
                assert!(out.insert(m.id.name.to_string()), "{name}: {} is there twice", m.id.name);
            }
            fluent_syntax::ast::Entry::Junk { content } => panic!("{name}: cannot read {content:?}"),
            _ => {}
        }
    }
    out
}

/// Every string literal that names a message: `t("key")`, `t1("key", …)`,
/// `ta("key", …)`, `ta3("key", …)` in templates; in the Rust sources any
/// literal shaped like a key (`word-word…`), as keys are chosen in `match`es.
fn used_keys() -> BTreeSet<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    let mut scan = |dir: &Path, ext: &str, rust: bool| {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some(ext) {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let file = p.file_name().unwrap().to_string_lossy().to_string();
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let lit = &rest[..end];
                let shaped = !lit.is_empty()
                    && lit.contains('-')
                    && lit
                        .split('-')
                        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
                if !shaped {
                    continue;
                }
                let before = text[..i].trim_end();
                let called = ["t(", "t1(", "ta(", "ta3("].iter().any(|f| before.ends_with(f));
                if called || (rust && !before.ends_with("id=")) {
                    used.insert((file.clone(), lit.to_string()));
                }
            }
        }
    };
    scan(&root.join("templates"), "html", false);
    scan(&root.join("src/pages"), "rs", true);
    scan(&root.join("src"), "rs", true);
    used
}

#[test]
fn both_catalogues_have_the_same_keys() {
    let nl = keys(site::i18n::NL_FTL, "nl.ftl");
    let en = keys(site::i18n::EN_FTL, "en.ftl");
    let only_nl: Vec<_> = nl.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&nl).collect();
    assert!(only_nl.is_empty() && only_en.is_empty(), "only in nl.ftl: {only_nl:?}; only in en.ftl: {only_en:?}");
    assert!(nl.len() > 100, "{}", nl.len());
}

#[test]
fn every_key_used_is_in_the_catalogues() {
    let nl = keys(site::i18n::NL_FTL, "nl.ftl");
    let used = used_keys();
    assert!(used.len() > 100, "the scan found only {} keys", used.len());
    let missing: Vec<_> = used.iter().filter(|(_, k)| !nl.contains(k)).collect();
    assert!(missing.is_empty(), "keys used but in no catalogue: {missing:?}");
}

#[test]
fn a_missing_key_shows_as_itself() {
    let tr = site::i18n::Tr::new(site::Lang::Nl);
    assert_eq!(tr.t("no-such-key"), "⟦no-such-key⟧");
    assert_eq!(tr.t1("not-found-fund", "id", &"x"), "Er is geen fonds x.");
}
