//! # site — meent's public pages
//!
//! Server-rendered HTML over the ledger's state and views, Dutch first and
//! English second (docs/SITE.md). Each page is a pure function of the [`Log`]
//! (or its [`State`]) and a [`Ctx`] — its language, its path, the time — that
//! returns the page's HTML or a [`PageError`]; [`router`] serves them under
//! `/nl/…` and `/en/…`, `/` chooses by `Accept-Language`, and `/site/…` serves
//! the stylesheet and the browser check. Templates are askama files in
//! `site/templates/`, strings come from the Fluent catalogues in
//! `site/i18n/`, charts are inline SVG drawn by the templates from numbers
//! computed here.
//!
//! [`Log`]: ledger::log::Log
//! [`State`]: ledger::state::State
#![deny(missing_docs)]

pub mod charts;
pub mod format;
pub mod i18n;
pub mod pages;
mod web;

pub use pages::{Ctx, PageError};
pub use web::router;

/// A language of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Dutch, the first language.
    Nl,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Dutch first.
    pub const ALL: [Lang; 2] = [Lang::Nl, Lang::En];

    /// The code used in URLs and `<html lang>`: `nl`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The other language (the switch on every page).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// The language a URL segment names.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language an `Accept-Language` header prefers: the first of its
    /// ranges (by quality, then order) that is Dutch or English; Dutch when
    /// none is, or when the header is missing or unreadable.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Nl };
        let mut best: Option<(u32, usize, Lang)> = None;
        for (i, part) in h.split(',').enumerate() {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q=").map(str::to_string))
                .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                .unwrap_or(1.0);
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::from_code(primary) else { continue };
            if q == 0 {
                continue;
            }
            if best.is_none_or(|(bq, _, _)| q > bq) {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(Lang::Nl)
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn accept_language_picks_the_preferred_known_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::Nl);
        assert_eq!(Lang::from_accept_language(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("nl-NL,nl;q=0.9,en;q=0.8")), Lang::Nl);
        assert_eq!(Lang::from_accept_language(Some("fr-FR, en;q=0.5, nl;q=0.7")), Lang::Nl);
        assert_eq!(Lang::from_accept_language(Some("de, en;q=0.3")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("de, fr")), Lang::Nl);
        assert_eq!(Lang::from_accept_language(Some("en;q=0, nl;q=0")), Lang::Nl);
    }
}
