//! The log's own pages: the overview (`/{lang}/`), the log a page at a time
//! (`/{lang}/log?from=N`) and one entry (`/{lang}/entries/{seq or id}`).
//! They read records from the store by position — never the whole log.

use askama::Template;
use ledger::log::Log;
use ledger::record::Record;
use ledger::time::Timestamp;
use serde_json::Value;

use super::{origin_of, Ctx, Head, MemberLink, PageError, W};
use crate::i18n::Tr;

/// Records on one page of the log (and the overview's recent activity: a fifth).
pub const LOG_PAGE: u64 = 100;
const RECENT: u64 = 20;

/// One record in a list.
pub struct RecordRow {
    /// Its position.
    pub seq: u64,
    /// The entry's id, 64 hex characters.
    pub id: String,
    /// The entry's kind, as the log writes it.
    pub kind: String,
    /// Its author: a member, or the operator.
    pub author: Option<MemberLink>,
    /// The author as written, when not a member.
    pub author_text: String,
    /// When the ledger received it.
    pub when: String,
    /// What it is about (a fund, a proposal), as a link.
    pub about: Option<(String, String)>,
}

fn unavailable(e: impl std::fmt::Display) -> PageError {
    PageError::Unavailable(e.to_string())
}

/// The page a record's body points at (its fund, proposal, round, …), as (href after the language, text).
fn about(body: &Value) -> Option<(String, String)> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(p) = s("proposal") {
        return Some((format!("/proposals/{p}"), p));
    }
    if let Some(p) = s("allocation") {
        return Some((format!("/proposals/{p}"), p));
    }
    if let Some(r) = s("round") {
        return Some((format!("/rounds/{r}"), r));
    }
    if let Some(d) = s("disbursement") {
        return Some((format!("/entries/{d}"), d));
    }
    if let Some(f) = s("fund") {
        return Some((format!("/funds/{f}"), f));
    }
    if let Some(m) = s("member") {
        return Some((format!("/members/{m}"), m));
    }
    None
}

fn row(w: &W<'_>, bytes: &[u8]) -> Result<RecordRow, PageError> {
    let (id, _) = Record::ids_of_leaf(bytes).map_err(unavailable)?;
    let v: Value = serde_json::from_slice(bytes).map_err(unavailable)?;
    let e = &v["entry"];
    let author = e["author"].as_str().unwrap_or_default().to_string();
    let member = author.parse::<ledger::ids::MemberId>().ok().filter(|m| w.state.register.member(m).is_some());
    let when =
        v["received_at"].as_str().and_then(|t| t.parse::<Timestamp>().ok()).map(|t| w.time(&t)).unwrap_or_default();
    Ok(RecordRow {
        seq: v["seq"].as_u64().unwrap_or_default(),
        id: id.to_hex(),
        kind: e["kind"].as_str().unwrap_or_default().to_string(),
        author: member.map(|m| w.member(&m)),
        author_text: author,
        when,
        about: about(&e["body"]),
    })
}

/// A fund on the overview.
pub struct FundRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Members.
    pub members: usize,
    /// Confirmed.
    pub confirmed: String,
    /// Available.
    pub available: String,
    /// Disbursed.
    pub disbursed: String,
}

/// The overview.
#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    /// The frame.
    pub c: Head,
    /// The funds.
    pub funds: Vec<FundRow>,
    /// The latest checkpoint's size.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// The signed note.
    pub note: String,
    /// The operator's key.
    pub operator_key: String,
    /// How many members.
    pub members: usize,
    /// The latest records, newest first.
    pub recent: Vec<RecordRow>,
    /// The witnesses the log asks to cosign its checkpoints.
    pub witnesses: Vec<WitnessRow>,
}

/// A witness on the overview.
pub struct WitnessRow {
    /// Its name (the collective's choice).
    pub name: String,
    /// Its vkey.
    pub vkey: String,
    /// Whether the log holds its cosignature of the checkpoint shown.
    pub cosigned: bool,
}

/// The overview page.
pub fn overview(log: &Log, ctx: &Ctx) -> Result<String, PageError> {
    let (note, cp) = log.checkpoint();
    let from = cp.size.saturating_sub(RECENT);
    let (records, _) = log.records(from, RECENT).map_err(unavailable)?;
    let state = log.state();
    let w = W::new(ctx.lang, &state);
    let mut recent = records.iter().map(|b| row(&w, b)).collect::<Result<Vec<_>, _>>()?;
    recent.reverse();
    let funds = state
        .funds
        .funds
        .values()
        .map(|f| FundRow {
            id: f.id.as_str().to_string(),
            name: f.name.clone(),
            members: f.members.len(),
            confirmed: w.euro(f.balances.confirmed),
            available: w.euro(f.balances.available),
            disbursed: w.euro(f.balances.disbursed),
        })
        .collect();
    // The note as `GET /v1/checkpoint` serves it: with the cosignatures held.
    let text = ledger::checkpoint::split_note(&note).map(|(text, _)| text.to_owned()).unwrap_or_default();
    let cosigners = ctx.cosigned.witnesses_for(&text);
    let witnesses = ctx.cosigned.asked().0.into_iter().map(|w| WitnessRow {
        cosigned: cosigners.contains(&w.name),
        vkey: w.witness_vkey(),
        name: w.name,
    });
    let page = OverviewPage {
        c: Head::new(ctx, &origin_of(&state), Tr::new(ctx.lang).t("overview-title")),
        funds,
        size: cp.size,
        root: hex::encode(cp.root),
        note: ctx.cosigned.attach(&note),
        witnesses: witnesses.collect(),
        operator_key: log.operator_key().to_hex(),
        members: state.register.members().count(),
        recent,
    };
    Ok(page.render()?)
}

/// A page of the log.
#[derive(Template)]
#[template(path = "log.html")]
pub struct LogPage {
    /// The frame.
    pub c: Head,
    /// The records, in log order.
    pub rows: Vec<RecordRow>,
    /// The first position shown.
    pub from: u64,
    /// The last position shown.
    pub last: u64,
    /// The log's size.
    pub size: u64,
    /// The `from` of the page before, if any.
    pub prev: Option<u64>,
    /// The `from` of the page after, if any.
    pub next: Option<u64>,
    /// The `from` of the last page.
    pub latest: u64,
}

/// The page of the log from `from` (default: the latest page).
pub fn log(log: &Log, ctx: &Ctx, from: Option<u64>) -> Result<String, PageError> {
    let size = log.size();
    let latest = size.saturating_sub(1) / LOG_PAGE * LOG_PAGE;
    let from = from.unwrap_or(latest);
    let tr = Tr::new(ctx.lang);
    if from >= size {
        return Err(PageError::NotFound(
            tr.ta("not-found-log-page", &[("from", from.to_string()), ("size", size.to_string())]),
        ));
    }
    let (records, next) = log.records(from, LOG_PAGE).map_err(unavailable)?;
    let state = log.state();
    let w = W::new(ctx.lang, &state);
    let rows = records.iter().map(|b| row(&w, b)).collect::<Result<Vec<_>, _>>()?;
    let page = LogPage {
        c: Head::new(ctx, &origin_of(&state), tr.t("log-title")),
        last: from + rows.len() as u64 - 1,
        rows,
        from,
        size,
        prev: (from > 0).then(|| from.saturating_sub(LOG_PAGE)),
        next,
        latest,
    };
    Ok(page.render()?)
}

/// One entry.
#[derive(Template)]
#[template(path = "entry.html")]
pub struct EntryPage {
    /// The frame.
    pub c: Head,
    /// The record as a row.
    pub r: RecordRow,
    /// The entry's JSON as signed, indented.
    pub entry_json: String,
    /// The record exactly as stored (its leaf bytes).
    pub stored: String,
    /// The leaf hash.
    pub leaf_hash: String,
    /// The checkpoint size the proof is for.
    pub size: u64,
    /// The inclusion proof, hashes in order.
    pub proof: Vec<String>,
    /// The checkpoint's root.
    pub root: String,
    /// The signed checkpoint.
    pub note: String,
}

/// The entry page of `key`: a record position, or an entry id (64 hex characters).
pub fn entry(log: &Log, ctx: &Ctx, key: &str) -> Result<String, PageError> {
    let tr = Tr::new(ctx.lang);
    let not_found = || PageError::NotFound(tr.t1("not-found-entry", "id", &key));
    let seq = if key.len() == 64 {
        let id: ledger::ids::EntryId = key.parse().map_err(|_| not_found())?;
        log.seq_of(&id).map_err(unavailable)?.ok_or_else(not_found)?
    } else {
        key.parse::<u64>().map_err(|_| not_found())?
    };
    let bytes = log.record(seq).map_err(unavailable)?.ok_or_else(not_found)?;
    let (note, cp) = log.checkpoint();
    let (leaf, proof) = log.inclusion_proof(seq, cp.size).map_err(unavailable)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(unavailable)?;
    let state = log.state();
    let w = W::new(ctx.lang, &state);
    let r = row(&w, &bytes)?;
    let page = EntryPage {
        c: Head::new(ctx, &origin_of(&state), format!("{} {}", tr.t("record"), r.seq)),
        r,
        entry_json: serde_json::to_string_pretty(&v["entry"]).map_err(unavailable)?,
        stored: String::from_utf8_lossy(&bytes).into_owned(),
        leaf_hash: hex::encode(leaf),
        size: cp.size,
        proof: proof.iter().map(hex::encode).collect(),
        root: hex::encode(cp.root),
        note,
    };
    Ok(page.render()?)
}
