//! The catalogues: one Project Fluent file per language (`site/i18n/nl.ftl`,
//! `site/i18n/en.ftl`), compiled into the binary and parsed once.
//!
//! A page asks for a string by its key ([`Tr::t`], or [`Tr::t1`] with one
//! variable). A key missing from a catalogue shows as the key itself between
//! `⟦ ⟧`, and a test (`tests/catalogue.rs`) keeps both catalogues' keys equal
//! and every key a template or this crate uses present.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::Lang;

/// The Dutch catalogue's text.
pub const NL_FTL: &str = include_str!("../i18n/nl.ftl");
/// The English catalogue's text.
pub const EN_FTL: &str = include_str!("../i18n/en.ftl");

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> &'static Bundle {
    static NL: OnceLock<Bundle> = OnceLock::new();
    static EN: OnceLock<Bundle> = OnceLock::new();
    let (cell, text, tag) = match lang {
        Lang::Nl => (&NL, NL_FTL, "nl-NL"),
        Lang::En => (&EN, EN_FTL, "en-GB"),
    };
    cell.get_or_init(|| {
        let id: unic_langid::LanguageIdentifier = tag.parse().expect("a valid language tag");
        let mut b = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around variables: the pages are plain
        // left-to-right text, and the marks would break copying an id.
        b.set_use_isolating(false);
        // A syntax error in a catalogue is caught by the catalogue test; the
        // entries that do parse are still served.
        let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(res, _errors)| res);
        // Duplicate keys are caught by the catalogue test too.
        let _ = b.add_resource(res);
        b
    })
}

/// The strings of one language, as a page uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// The strings of `lang`.
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with the one variable `name` set to `value`.
    pub fn t1(&self, key: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_string(), FluentValue::from(value.to_string()));
        self.format(key, Some(&args))
    }

    /// The message `key` with the variables `args` (name, value).
    pub fn ta(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut a = FluentArgs::new();
        for (name, value) in args {
            a.set(name.to_string(), FluentValue::from(value.clone()));
        }
        self.format(key, Some(&a))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let b = bundle(self.lang);
        let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
            return format!("⟦{key}⟧");
        };
        let mut errors = Vec::new();
        b.format_pattern(pattern, args, &mut errors).into_owned()
    }
}
