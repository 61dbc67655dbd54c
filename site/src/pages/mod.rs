//! The pages: each a pure function of the log (or its state) and a [`Ctx`],
//! returning the page's HTML. The functions gather what a page shows into a
//! plain struct of strings (amounts and times already written in the page's
//! language); the askama template of the same name lays it out.

use askama::Template;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ledger::ids::{EntryId, MemberId};
use ledger::money::Balance;
use ledger::time::Timestamp;
use ledger::witness::Cosigned;
use rust_decimal::Decimal;

use crate::format;
use crate::i18n::Tr;
use crate::Lang;

mod fund;
mod governance;
mod log;
mod member;

pub use fund::{fund, fund_page, Trail};
pub use governance::{proposal, round};
pub use log::{entry, log, overview, LOG_PAGE};
pub use member::member;

/// What a page needs to know besides the ledger.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The page's language.
    pub lang: Lang,
    /// The page's path after the language, `/funds/x` (`/` for the overview).
    pub path: String,
    /// The query, with its `?`, or empty: kept by the language switch.
    pub query: String,
    /// Now (the server's clock): whether a vote is still open.
    pub now: DateTime<Utc>,
    /// The witnesses the log asks and the cosignatures it holds
    /// (`meent serve --witness`): every page names them for the check in
    /// the browser, the overview lists them.
    pub cosigned: Arc<Cosigned>,
}

impl Ctx {
    /// A context for `lang` and `path` at `now`, without a query or witnesses.
    pub fn new(lang: Lang, path: &str, now: DateTime<Utc>) -> Ctx {
        Ctx { lang, path: path.to_string(), query: String::new(), now, cosigned: Arc::default() }
    }
}

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nothing there (an unknown id, a record past the end).
    #[error("{0}")]
    NotFound(String),
    /// The request cannot name anything (a malformed id, a bad parameter).
    #[error("{0}")]
    BadRequest(String),
    /// The ledger could not be read.
    #[error("{0}")]
    Unavailable(String),
    /// A template failed to render.
    #[error("rendering failed: {0}")]
    Render(#[from] askama::Error),
}

/// What every page's frame shows (`templates/base.html`).
#[derive(Debug, Clone)]
pub struct Head {
    /// The strings.
    pub tr: Tr,
    /// `nl` or `en`.
    pub lang: &'static str,
    /// The other language's code.
    pub other: &'static str,
    /// The page's title.
    pub title: String,
    /// The log's origin (`<html data-origin>`).
    pub origin: String,
    /// The same page in the other language.
    pub switch_href: String,
    /// The vkeys of the witnesses the log asks, one meent-witness meta tag each.
    pub witnesses: Vec<String>,
    /// How many of them should cosign each checkpoint.
    pub quorum: usize,
}

impl Head {
    /// The frame of a page titled `title` in `ctx`, of the log `origin`.
    pub fn new(ctx: &Ctx, origin: &str, title: String) -> Head {
        let other = ctx.lang.other().code();
        let (witnesses, quorum) = ctx.cosigned.asked();
        Head {
            witnesses: witnesses.iter().map(|w| w.witness_vkey()).collect(),
            quorum,
            tr: Tr::new(ctx.lang),
            lang: ctx.lang.code(),
            other,
            title,
            origin: origin.to_string(),
            switch_href: format!("/{other}{}{}", ctx.path, ctx.query),
        }
    }
    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        self.tr.t(key)
    }
    /// The message `key` with one variable.
    pub fn t1<V: std::fmt::Display>(&self, key: &str, name: &str, value: V) -> String {
        self.tr.t1(key, name, &value)
    }
    /// The message `key` with three variables.
    #[allow(clippy::too_many_arguments)]
    pub fn ta3<A: std::fmt::Display, B: std::fmt::Display, C: std::fmt::Display>(
        &self,
        key: &str,
        n1: &str,
        v1: A,
        n2: &str,
        v2: B,
        n3: &str,
        v3: C,
    ) -> String {
        self.tr.ta(key, &[(n1, v1.to_string()), (n2, v2.to_string()), (n3, v3.to_string())])
    }
    /// A path of this language: `/nl` + `p`.
    pub fn href(&self, p: &str) -> String {
        format!("/{}{p}", self.lang)
    }
}

/// A link to a member's page.
#[derive(Debug, Clone)]
pub struct MemberLink {
    /// The member's id (shown, and in the link).
    pub id: String,
    /// The member's name, when the register has one.
    pub name: String,
}

/// An entry id, with the record it is in when known.
#[derive(Debug, Clone)]
pub struct EntryLink {
    /// 64 hex characters.
    pub id: String,
    /// Its record, when known.
    pub seq: Option<u64>,
}

/// Helpers shared by the page builders.
pub(crate) struct W<'a> {
    pub lang: Lang,
    pub tr: Tr,
    pub state: &'a ledger::state::State,
}

impl<'a> W<'a> {
    pub fn new(lang: Lang, state: &'a ledger::state::State) -> W<'a> {
        W { lang, tr: Tr::new(lang), state }
    }
    pub fn euro(&self, b: Balance) -> String {
        format::euro(self.lang, b.as_decimal())
    }
    pub fn euro_d(&self, d: Decimal) -> String {
        format::euro(self.lang, d)
    }
    /// An exact amount as the ledger writes it (`"700/3"`): `€ 233,33
    /// (precies 700/3)`, or just `€ 500,00` when cents are exact.
    pub fn exact(&self, s: &str) -> String {
        match format::exact_euro(self.lang, s) {
            Some((amount, None)) => amount,
            Some((amount, Some(exact))) => self.tr.ta("amount-exact", &[("amount", amount), ("exact", exact)]),
            None => s.to_string(),
        }
    }
    pub fn time(&self, t: &Timestamp) -> String {
        format::time(self.lang, t.instant())
    }
    pub fn member(&self, m: &MemberId) -> MemberLink {
        let name = self.state.register.member(m).and_then(|x| x.name.clone()).unwrap_or_default();
        MemberLink { id: m.as_str().to_string(), name }
    }
    pub fn entry(&self, id: &EntryId, seq: Option<u64>) -> EntryLink {
        EntryLink { id: id.to_hex(), seq }
    }
}

/// The origin of the log `state` belongs to.
pub(crate) fn origin_of(state: &ledger::state::State) -> String {
    state.origin.clone().unwrap_or_default()
}

/// The page shown instead of one that cannot be: 404, 400 or 503.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The frame.
    pub c: Head,
    /// What happened, in the page's language.
    pub heading: String,
    /// The detail (the error's own text, in English).
    pub detail: String,
}

/// The page for `err` in `ctx`'s language.
pub fn error_page(ctx: &Ctx, origin: &str, err: &PageError) -> String {
    let tr = Tr::new(ctx.lang);
    let heading = match err {
        PageError::NotFound(_) => tr.t("error-not-found"),
        PageError::BadRequest(_) => tr.t("error-bad-request"),
        PageError::Unavailable(_) | PageError::Render(_) => tr.t("error-unavailable"),
    };
    let page = ErrorPage { c: Head::new(ctx, origin, heading.clone()), heading, detail: err.to_string() };
    // The error page has no data of its own to fail on.
    page.render().unwrap_or_else(|e| format!("<!doctype html><title>error</title><p>{e}</p>"))
}
