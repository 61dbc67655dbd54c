//! `meent serve --demo`: a temporary ledger seeded through the real API with a
//! believable Amsterdam scene, so a newcomer sees a living ledger at once.
//!
//! The scene has history: a budgeting round is opened by a vote and runs for
//! whole days (SPEC §4.5), so the demo server's clock starts [`HISTORY_DAYS`]
//! days in the past and the seeder moves it forward as the scene unfolds —
//! the round's project days and voting days pass, the server closes the round
//! by its equal-shares rule — until the clock is back at the present, before
//! the server is announced. Every record keeps the time it was really judged
//! at, so `meent verify` replays it as is (docs/DOMAIN.md, "The demo").

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use std::path::Path;

use anyhow::anyhow;
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::ids::Author;
use ledger::time::Timestamp;
use serde_json::{json, Value};

use crate::client::Client;
use crate::exit::{CmdError, CmdResult, InputContext};

/// The registrar of the demo.
pub const REGISTRAR: &str = "kamer-van-commons";

/// The collectives that run the demo's witnesses (docs/WITNESS.md).
pub const WITNESSES: [&str; 2] = ["energie-coop-noord", "voedselbank-west"];

/// The demo's members: id, name, member_kind, legal_form, purpose.
pub const MEMBERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "energie-coop-noord",
        "Energiecoöperatie Amsterdam-Noord",
        "collective",
        "cooperatie",
        "Solar roofs and a heat network for Noord",
    ),
    (
        "voedselbank-west",
        "Voedselbank Amsterdam West",
        "collective",
        "stichting",
        "Food parcels and a community kitchen",
    ),
    (
        "zorgcollectief-oost",
        "Zorgcollectief Oost",
        "collective",
        "vereniging",
        "Neighbours caring for neighbours in Oost",
    ),
    ("buurtwerkplaats-zuid", "Buurtwerkplaats Zuid", "collective", "stichting", "A repair café and tool library"),
    ("groene-daken-nieuw-west", "Groene Daken Nieuw-West", "collective", "informal", "Green roofs and rain gardens"),
    (
        "gemeente-amsterdam",
        "Gemeente Amsterdam",
        "municipality",
        "public_body",
        "The municipality, as an equal partner",
    ),
];

/// How many days in the past the demo's history starts.
pub const HISTORY_DAYS: i64 = 10;

/// How far (in milliseconds) the demo's clock is behind the process's clock.
static BEHIND_MS: AtomicI64 = AtomicI64::new(HISTORY_DAYS * 86_400_000);

/// Now, by the demo's clock: the process's clock, minus the history still to be played.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    crate::clock::now() - chrono::Duration::milliseconds(BEHIND_MS.load(Ordering::SeqCst))
}

/// The demo server's clock (the same as [`now`]).
pub fn clock() -> ledger::ingest::Clock {
    let base = crate::clock::shared();
    Arc::new(move || base() - chrono::Duration::milliseconds(BEHIND_MS.load(Ordering::SeqCst)))
}

/// Let `d` of the demo's history pass (never beyond the present).
fn pass(d: chrono::Duration) {
    let step = d.num_milliseconds();
    let _ = BEHIND_MS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| Some((b - step).max(0)));
}

/// Where the demo keeps its keys, so the visitor can sign entries too.
pub struct DemoKeys {
    /// The directory of PEM files, one per member id.
    pub dir: std::path::PathBuf,
}

/// Create the demo ledger in `data/ledger` (keys in `data/keys/`) and return it open.
pub fn create(data: &Path) -> CmdResult<(DemoKeys, ledger::log::Log)> {
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).input_ctx(format!("cannot create {}", keys.display()))?;
    let reg = crypto::generate_key();
    crypto::write_key_file(&keys.join(format!("{REGISTRAR}.pem")), &reg).input_ctx("demo key")?;
    let registrar =
        Registrar { id: REGISTRAR.parse().input_ctx("registrar id")?, key: PublicKey::from(reg.verifying_key()) };
    let log = ledger::log::Log::create(&data.join("ledger"), "meent.demo/amsterdam", vec![registrar], now())
        .input_ctx("cannot create the demo ledger")?;
    Ok((DemoKeys { dir: keys }, log))
}

fn submit(client: &Client, kind: Kind, author: &str, key: &SigningKey, body: Value) -> CmdResult<Value> {
    let author: Author = author.parse().input_ctx("demo author")?;
    let e = sign_entry(kind, &author, key, &Timestamp::from_instant(now()), body).input_ctx("demo entry")?;
    let acc = client.submit(&e)?;
    Ok(json!({"id": e.id.to_hex(), "seq": acc.receipt.seq}))
}

/// Seed the running server at `url` through its API.
pub fn seed(url: &str, keys: &DemoKeys) -> CmdResult {
    let client = Client::new(url)?;
    let reg = crypto::read_key_file(&keys.dir.join(format!("{REGISTRAR}.pem"))).input_ctx("demo registrar key")?;
    for (id, name, kind, form, purpose) in MEMBERS {
        let key = crypto::generate_key();
        crypto::write_key_file(&keys.dir.join(format!("{id}.pem")), &key).input_ctx("demo key")?;
        submit(
            &client,
            Kind::MemberApply,
            id,
            &key,
            json!({"id": id, "name": name, "member_kind": kind, "legal_form": form, "purpose": purpose}),
        )?;
        submit(&client, Kind::MemberAdmit, REGISTRAR, &reg, json!({"member": id}))?;
    }
    seed_funds(&client, keys)?;
    let hopeful = crypto::generate_key();
    crypto::write_key_file(&keys.dir.join("wijkbudget-centrum.pem"), &hopeful).input_ctx("demo key")?;
    submit(
        &client,
        Kind::MemberApply,
        "wijkbudget-centrum",
        &hopeful,
        json!({"id": "wijkbudget-centrum", "name": "Wijkbudget Centrum", "member_kind": "collective", "legal_form": "informal", "purpose": "Waiting for the registrar"}),
    )?;
    Ok(())
}

fn key_of(keys: &DemoKeys, id: &str) -> CmdResult<SigningKey> {
    crypto::read_key_file(&keys.dir.join(format!("{id}.pem"))).input_ctx(format!("demo key of {id}"))
}

/// Two funds with contributions, a reconciliation, a matching pledge, two passed
/// allocations paid out with two approvals (one to a treasurer, requested and
/// approved by the other two), a budgeting round, and an open proposal with votes.
fn seed_funds(client: &Client, keys: &DemoKeys) -> CmdResult {
    let pledge = create_warmtefonds(client, keys)?;
    contribute_and_reconcile(client, keys, &pledge)?;
    pay_two_allocations(client, keys)?;
    run_a_round(client, keys)?;
    open_a_proposal(client, keys)?;
    // The rest of the history passes: the demo's clock is back at the present.
    pass(chrono::Duration::days(HISTORY_DAYS));
    create_zorgfonds(client, keys)
}

/// Warmtefonds Noord, its five members and the municipality's matching pledge (returned).
fn create_warmtefonds(client: &Client, keys: &DemoKeys) -> CmdResult<Value> {
    let k = |id: &str| key_of(keys, id);
    let charter = json!({
        "admission": "open",
        "treasurers": ["energie-coop-noord", "gemeente-amsterdam", "voedselbank-west"],
        "approvals_required": 2,
        "quorum": "0.5",
        "threshold": "0.5",
        "voting_period_seconds": 604800,
        "max_request": "25000.00",
        "dissolution": "pro_rata_refund"
    });
    submit(
        client,
        Kind::FundCreate,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "id": "warmtefonds-noord", "name": "Warmtefonds Noord",
        "purpose": "A shared pot for the heat transition in Amsterdam-Noord: insulation, heat pumps, and help for households who cannot pay the upfront cost.",
        "charter": charter}),
    )?;
    for m in ["voedselbank-west", "zorgcollectief-oost", "buurtwerkplaats-zuid", "gemeente-amsterdam"] {
        submit(client, Kind::FundJoin, m, &k(m)?, json!({"fund": "warmtefonds-noord"}))?;
    }
    let pledge = submit(
        client,
        Kind::PledgeMatching,
        "gemeente-amsterdam",
        &k("gemeente-amsterdam")?,
        json!({
        "fund": "warmtefonds-noord", "ratio": "1.0", "cap": "10000.00", "until": "2027-12-31"}),
    )?;
    Ok(pledge)
}

/// Five contributions (the municipality's settling its pledge) and a reconciliation
/// that confirms four of them.
fn contribute_and_reconcile(client: &Client, keys: &DemoKeys, pledge: &Value) -> CmdResult {
    let k = |id: &str| key_of(keys, id);
    let mut confirmed = Vec::new();
    for (m, amount, reference) in [
        ("energie-coop-noord", "2500.00", "MEENT-WN-0001"),
        ("voedselbank-west", "500.00", "MEENT-WN-0002"),
        ("zorgcollectief-oost", "750.00", "MEENT-WN-0003"),
        ("gemeente-amsterdam", "2000.00", "GEM-AMS-2026-11-WN"),
        ("buurtwerkplaats-zuid", "250.00", "MEENT-WN-0004"),
    ] {
        let mut body = json!({"fund": "warmtefonds-noord", "amount": amount, "reference": reference});
        if m == "gemeente-amsterdam" {
            // The municipality's payment settles its matching pledge.
            body["matching"] = pledge["id"].clone();
        }
        let c = submit(client, Kind::Contribution, m, &k(m)?, body)?;
        if m != "buurtwerkplaats-zuid" {
            confirmed.push(c["id"].clone());
        }
    }
    let today = now().date_naive();
    let statement = format!("demo statement Warmtefonds Noord {today}");
    submit(
        client,
        Kind::Reconciliation,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "fund": "warmtefonds-noord",
        "statement_sha256": ledger::bank::statement_sha256(statement.as_bytes()),
        "period_from": (today - chrono::Duration::days(30)).format("%Y-%m-%d").to_string(),
        "period_to": today.format("%Y-%m-%d").to_string(),
        "opening_balance": "0.00",
        "closing_balance": "5750.00",
        "confirmed": confirmed,
        "unmatched_bank_lines": 0}),
    )?;
    Ok(())
}

/// Two allocations passed and paid with two approvals, one of them to a treasurer.
fn pay_two_allocations(client: &Client, keys: &DemoKeys) -> CmdResult {
    let k = |id: &str| key_of(keys, id);
    // A passed allocation: every member but the recipient (who has a conflict
    // of interest) votes, so it closes at once.
    let repair = submit(
        client,
        Kind::Proposal,
        "buurtwerkplaats-zuid",
        &k("buurtwerkplaats-zuid")?,
        json!({
        "fund": "warmtefonds-noord", "proposal_kind": "allocation",
        "title": "Tools for the Noord repair café",
        "description": "Insulation tools to lend to households: a thermal camera, draught-proofing kits and a blower-door test set.",
        "amount": "1200.00", "recipient": "buurtwerkplaats-zuid"}),
    )?;
    for (m, choice) in [
        ("energie-coop-noord", "yes"),
        ("voedselbank-west", "yes"),
        ("zorgcollectief-oost", "abstain"),
        ("gemeente-amsterdam", "yes"),
    ] {
        submit(client, Kind::Vote, m, &k(m)?, json!({"proposal": repair["id"], "choice": choice}))?;
    }
    close_proposal(client, "voedselbank-west", &k("voedselbank-west")?, &repair)?;
    let payout = submit(
        client,
        Kind::Disbursement,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "allocation": repair["id"], "amount": "1200.00", "reference": "WN-2026-PAY-0001"}),
    )?;
    submit(
        client,
        Kind::DisbursementApprove,
        "gemeente-amsterdam",
        &k("gemeente-amsterdam")?,
        json!({"disbursement": payout["id"]}),
    )?;
    // A payout to a treasurer: the food bank keeps the books and is paid by the other two.
    let storage = submit(
        client,
        Kind::Proposal,
        "voedselbank-west",
        &k("voedselbank-west")?,
        json!({
        "fund": "warmtefonds-noord", "proposal_kind": "allocation",
        "title": "Insulating the food bank's cold store",
        "description": "Insulation panels for the cold store, so it stops heating the street in summer.",
        "amount": "300.00", "recipient": "voedselbank-west"}),
    )?;
    // The recipient does not vote on its own allocation (conflict of interest).
    for m in ["energie-coop-noord", "zorgcollectief-oost", "buurtwerkplaats-zuid", "gemeente-amsterdam"] {
        submit(client, Kind::Vote, m, &k(m)?, json!({"proposal": storage["id"], "choice": "yes"}))?;
    }
    close_proposal(client, "energie-coop-noord", &k("energie-coop-noord")?, &storage)?;
    let to_treasurer = submit(
        client,
        Kind::Disbursement,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "allocation": storage["id"], "amount": "300.00", "reference": "WN-2026-PAY-0002", "recipient": "voedselbank-west"}),
    )?;
    submit(
        client,
        Kind::DisbursementApprove,
        "gemeente-amsterdam",
        &k("gemeente-amsterdam")?,
        json!({"disbursement": to_treasurer["id"]}),
    )?;
    Ok(())
}

/// A participatory budgeting round with equal shares, from the vote that opens it to its close.
fn run_a_round(client: &Client, keys: &DemoKeys) -> CmdResult {
    let k = |id: &str| key_of(keys, id);
    // A participatory budgeting round with equal shares, opened by a vote:
    // two days for projects, three for ballots, counted from the vote's close.
    let round = submit(
        client,
        Kind::Proposal,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "fund": "warmtefonds-noord", "proposal_kind": "round",
        "title": "Winter budget: 2000 euros by equal shares",
        "description": "Members propose winter projects for two days, then approve the ones they back for three days.",
        "budget": "2000.00", "rule": "equal_shares", "projects_days": 2, "voting_days": 3}),
    )?;
    for m in
        ["energie-coop-noord", "voedselbank-west", "zorgcollectief-oost", "buurtwerkplaats-zuid", "gemeente-amsterdam"]
    {
        submit(client, Kind::Vote, m, &k(m)?, json!({"proposal": round["id"], "choice": "yes"}))?;
    }
    close_proposal(client, "energie-coop-noord", &k("energie-coop-noord")?, &round)?;
    let mut projects = Vec::new();
    for (author, title, cost, recipient) in [
        ("buurtwerkplaats-zuid", "Draught-proofing workshop series", "800.00", "buurtwerkplaats-zuid"),
        ("voedselbank-west", "Insulated food storage for the community kitchen", "1200.00", "voedselbank-west"),
        ("zorgcollectief-oost", "Warm room for elderly neighbours this winter", "700.00", "zorgcollectief-oost"),
        ("energie-coop-noord", "Energy coaches visiting 50 households", "900.00", "energie-coop-noord"),
    ] {
        let p = submit(
            client,
            Kind::RoundProject,
            author,
            &k(author)?,
            json!({
            "round": round["id"], "title": title, "description": format!("{title}, proposed by {author}."), "cost": cost, "recipient": recipient}),
        )?;
        projects.push(p["id"].clone());
    }
    pass(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    for (m, picks) in [
        ("energie-coop-noord", vec![0, 3]),
        ("voedselbank-west", vec![1, 2]),
        ("zorgcollectief-oost", vec![2]),
        ("buurtwerkplaats-zuid", vec![0, 2, 3]),
    ] {
        let approve: Vec<Value> = picks.iter().map(|i| projects[*i].clone()).collect();
        submit(client, Kind::Ballot, m, &k(m)?, json!({"round": round["id"], "approve": approve}))?;
    }
    pass(chrono::Duration::days(3) + chrono::Duration::minutes(1));
    close_round(client, "voedselbank-west", &k("voedselbank-west")?, &round)?;
    Ok(())
}

/// An allocation still open for votes.
fn open_a_proposal(client: &Client, keys: &DemoKeys) -> CmdResult {
    let k = |id: &str| key_of(keys, id);
    // An open proposal with some votes.
    let pilot = submit(
        client,
        Kind::Proposal,
        "energie-coop-noord",
        &k("energie-coop-noord")?,
        json!({
        "fund": "warmtefonds-noord", "proposal_kind": "allocation",
        "title": "Heat pump pilot: twelve homes in the Vogeldorp",
        "description": "Co-finance the upfront cost of twelve heat pumps; households repay into the fund through their energy savings.",
        "amount": "2400.00", "recipient": "energie-coop-noord"}),
    )?;
    submit(
        client,
        Kind::Vote,
        "zorgcollectief-oost",
        &k("zorgcollectief-oost")?,
        json!({"proposal": pilot["id"], "choice": "yes"}),
    )?;
    submit(
        client,
        Kind::Vote,
        "voedselbank-west",
        &k("voedselbank-west")?,
        json!({"proposal": pilot["id"], "choice": "no"}),
    )?;
    Ok(())
}

/// Zorgfonds Oost: admission by vote, run by the care and food collectives.
fn create_zorgfonds(client: &Client, keys: &DemoKeys) -> CmdResult {
    let k = |id: &str| key_of(keys, id);
    // A second fund, admission by vote, run by the care and food collectives.
    let charter2 = json!({
        "admission": "vote", "treasurers": ["zorgcollectief-oost", "voedselbank-west"], "approvals_required": 1,
        "quorum": "0.6667", "threshold": "0.5", "voting_period_seconds": 1209600, "max_request": "5000.00",
        "dissolution": "pro_rata_refund"});
    submit(
        client,
        Kind::FundCreate,
        "zorgcollectief-oost",
        &k("zorgcollectief-oost")?,
        json!({
        "id": "zorgfonds-oost", "name": "Zorgfonds Oost",
        "purpose": "Emergency help between neighbours: groceries, transport to the doctor, a hand with paperwork.",
        "charter": charter2}),
    )?;
    submit(
        client,
        Kind::Contribution,
        "zorgcollectief-oost",
        &k("zorgcollectief-oost")?,
        json!({"fund": "zorgfonds-oost", "amount": "300.00", "reference": "MEENT-ZO-0001"}),
    )?;
    submit(client, Kind::FundJoin, "voedselbank-west", &k("voedselbank-west")?, json!({"fund": "zorgfonds-oost"}))?;
    Ok(())
}

/// Close proposal `p` (the server's own closer may have been quicker: that is
/// fine, if it is closed).
fn close_proposal(client: &Client, author: &str, key: &SigningKey, p: &Value) -> CmdResult {
    if let Err(e) = submit(client, Kind::ProposalClose, author, key, json!({"proposal": p["id"]})) {
        let v: ledger::views::ProposalView =
            client.get(&format!("/v1/proposals/{}", p["id"].as_str().unwrap_or("")))?;
        if v.status != ledger::funds::ProposalStatus::Closed {
            return Err(e);
        }
    }
    Ok(())
}

/// Close round `r` (or find it closed by the server).
fn close_round(client: &Client, author: &str, key: &SigningKey, r: &Value) -> CmdResult {
    if let Err(e) = submit(client, Kind::RoundClose, author, key, json!({"round": r["id"]})) {
        let v: ledger::views::RoundView = client.get(&format!("/v1/rounds/{}", r["id"].as_str().unwrap_or("")))?;
        if v.outcome.is_none() {
            return Err(e);
        }
    }
    Ok(())
}

/// Check the demo seeded what it should.
pub fn check(url: &str) -> CmdResult {
    let v: ledger::views::MemberList = Client::new(url)?.get("/v1/members")?;
    let n = v.members.len();
    if n < MEMBERS.len() {
        return Err(CmdError::failed(anyhow!("demo seeding produced only {n} members")));
    }
    let f: ledger::views::FundView = Client::new(url)?.get("/v1/funds/warmtefonds-noord")?;
    if f.balances.disbursed.to_string() != "1500.00" {
        return Err(CmdError::failed(anyhow!(
            "demo seeding: the payouts (one to a treasurer) did not execute ({:?})",
            f.balances
        )));
    }
    if !f.rounds.iter().any(|r| r.status == ledger::funds::RoundStatus::Closed) {
        return Err(CmdError::failed(anyhow!("demo seeding: the budgeting round did not close")));
    }
    Ok(())
}
