//! `/{lang}/members/{id}`: a member — the register's entry, keys, and across
//! all funds what they gave, received and how they voted. Reads the funds,
//! the fund's payouts and the proposals: the cost grows with those, not with
//! the log's contributions.

use askama::Template;
use ledger::ids::MemberId;
use ledger::register::MemberStatus;
use ledger::state::State;

use super::{origin_of, Ctx, EntryLink, Head, PageError, W};

/// What a member gave to one fund.
pub struct GivenRow {
    /// The fund.
    pub fund: String,
    /// Its name.
    pub name: String,
    /// Confirmed, in total.
    pub total: String,
}

/// A payout to the member.
pub struct ReceivedRow {
    /// The disbursement.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// The fund.
    pub fund: String,
    /// How much.
    pub amount: String,
    /// Its status.
    pub status: String,
    /// When requested.
    pub when: String,
}

/// A vote of the member.
pub struct MemberVoteRow {
    /// The vote entry.
    pub e: EntryLink,
    /// Its record.
    pub seq: u64,
    /// The proposal.
    pub proposal: String,
    /// Its title.
    pub title: String,
    /// Yes, no, abstain.
    pub choice: String,
    /// When.
    pub when: String,
}

/// The member page.
#[derive(Template)]
#[template(path = "member.html")]
pub struct MemberPage {
    /// The frame.
    pub c: Head,
    /// The member's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Collective, municipality, partner.
    pub kind: String,
    /// KvK number.
    pub kvk: String,
    /// Purpose.
    pub purpose: String,
    /// Pending, admitted, rejected.
    pub status: String,
    /// A registrar.
    pub registrar: bool,
    /// The member.apply record.
    pub applied_seq: u64,
    /// The current key.
    pub key: String,
    /// Since which record the current key signs, in words (empty if it
    /// always did).
    pub key_since: String,
    /// Earlier keys, oldest first, with the records each signed, in words.
    pub previous_keys: Vec<(String, String)>,
    /// Funds the member is in.
    pub funds: Vec<GivenRow>,
    /// Given, per fund.
    pub given: Vec<GivenRow>,
    /// Received.
    pub received: Vec<ReceivedRow>,
    /// Votes.
    pub votes: Vec<MemberVoteRow>,
}

/// The member page of `id`.
pub fn member(state: &State, ctx: &Ctx, id: &str) -> Result<String, PageError> {
    let w = W::new(ctx.lang, state);
    let tr = &w.tr;
    let not_found = || PageError::NotFound(tr.t1("not-found-member", "id", &id));
    let mid: MemberId = id.parse().map_err(|_| not_found())?;
    let m = state.register.member(&mid).ok_or_else(not_found)?;
    let mut funds = Vec::new();
    let mut given = Vec::new();
    for f in state.funds.funds.values() {
        let row = |total: String| GivenRow { fund: f.id.as_str().to_string(), name: f.name.clone(), total };
        if f.is_member(&mid) {
            funds.push(row(String::new()));
        }
        if let Some(b) = f.contributed.get(&mid) {
            given.push(row(w.euro(*b)));
        }
    }
    let mut received: Vec<ReceivedRow> = state
        .funds
        .disbursements
        .values()
        .filter(|d| d.recipient.as_ref() == Some(&mid))
        .map(|d| ReceivedRow {
            e: w.entry(&d.id, Some(d.seq)),
            seq: d.seq,
            fund: d.fund.as_str().to_string(),
            amount: w.euro_d(d.amount.as_decimal()),
            status: super::fund::disbursement_status(&w, d.status),
            when: w.time(&d.requested_at),
        })
        .collect();
    received.sort_by_key(|r| r.seq);
    let mut votes: Vec<MemberVoteRow> = state
        .funds
        .proposals
        .values()
        .filter_map(|p| {
            let r = p.vote_records.get(&mid)?;
            let c = p.votes.get(&mid)?;
            Some(MemberVoteRow {
                e: w.entry(&r.id, Some(r.seq)),
                seq: r.seq,
                proposal: p.id.to_hex(),
                title: p.title.clone(),
                choice: tr.t(match c {
                    ledger::entry::Choice::Yes => "vote-yes",
                    ledger::entry::Choice::No => "vote-no",
                    ledger::entry::Choice::Abstain => "vote-abstain",
                }),
                when: w.time(&r.received_at),
            })
        })
        .collect();
    votes.sort_by_key(|v| v.seq);
    let page = MemberPage {
        c: Head::new(ctx, &origin_of(state), m.name.clone().unwrap_or_else(|| m.id.as_str().to_string())),
        id: m.id.as_str().to_string(),
        name: m.name.clone().unwrap_or_default(),
        kind: m
            .member_kind
            .map(|k| {
                tr.t(match k {
                    ledger::entry::MemberKind::Collective => "member-collective",
                    ledger::entry::MemberKind::Municipality => "member-municipality",
                    ledger::entry::MemberKind::Partner => "member-partner",
                })
            })
            .unwrap_or_default(),
        kvk: m.kvk.clone().unwrap_or_default(),
        purpose: m.purpose.clone().unwrap_or_default(),
        status: tr.t(match m.status {
            MemberStatus::Pending => "member-pending",
            MemberStatus::Admitted => "member-admitted",
            MemberStatus::Rejected => "member-rejected",
        }),
        registrar: m.registrar,
        applied_seq: m.applied_seq,
        key: m.key.to_hex(),
        key_since: m.key_changes.last().map(|s| tr.t1("key-since", "seq", s)).unwrap_or_default(),
        previous_keys: m
            .previous_keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let until = m.key_changes.get(i).map(|u| tr.t1("key-until", "seq", &u.saturating_sub(1)));
                (k.to_hex(), until.unwrap_or_default())
            })
            .collect(),
        funds,
        given,
        received,
        votes,
    };
    Ok(page.render()?)
}
