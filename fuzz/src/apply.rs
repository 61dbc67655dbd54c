//! The `apply` target: sequences of signed entries through [`State::apply`],
//! the path by which the log admits an entry, without a disk.
//!
//! The fuzzer's bytes are read 8 at a time, one operation each (see [`op`]
//! for the layout, [`code`] for the operations), over a small universe: the
//! operator, two registrars named in genesis, six more members, four spare
//! keys, three funds (one never created) and whatever proposals, rounds,
//! contributions, disbursements and recoveries the sequence itself makes.
//! Each operation becomes a well-formed entry of one of SPEC §4's kinds,
//! signed with a fixed key (current, original or a spare one), written as
//! JCS and admitted as the server admits it: `VerifiedEntry::from_json`,
//! the personal-data check of new entries, the log's duplicate check, then
//! `State::apply` with `received_at` as `Log::prepare` sets it (never before
//! the last record's). Amounts, dates, periods and the clock come from the
//! bytes, edge values included (zero, negative, above the decimal range,
//! three decimals, no decimals, deadlines passing, a clock going backwards,
//! an entry's `at` out of the allowed skew). A bit of the operation's first
//! byte turns the entry raw: one field of its body replaced by an odd value
//! (null, a number, a bad date, a huge amount, a long string), dropped, or
//! joined by an unknown field, so the parser and the rules meet odd values.
//! Other bits feed `State::apply` directly with an unclamped `received_at`
//! or a wrong position. No clock, no randomness: the same bytes give the
//! same run.
//!
//! After every step it checks what a user relies on:
//! - a refused entry (by the parser, the personal-data check or the rules)
//!   changes nothing (`State` compared whole), and no well-formed entry is
//!   refused with `conservation_violated` (that code means a rule let a plan
//!   through that breaks the books);
//! - an accepted entry becomes the next record: the size grows by one and
//!   `last_received_at` is its `received_at`;
//! - every fund's books hold ([`check_books`]): conservation (`confirmed =
//!   available + committed + disbursed`, none negative), `pledged` the sum of
//!   the pledged contributions and incomes, `confirmed` the sum of the
//!   confirmed ones, `disbursed` the sum of the executed payouts, each
//!   member's `contributed` the sum of its confirmed contributions, the
//!   pledged payment references exactly those of the pledged entries, at
//!   least one member;
//! - no two members hold the same key, and none holds the operator's;
//! - the server's closer works: every proposal and round that
//!   `due_closes` / `due_round_closes` name is closed by its `proposal.close`
//!   / `round.close` (a refused due close would stay due for ever).
//!
//! And at the end: the accepted records replayed from scratch give the same
//! state, and the state survives its snapshot (serialized, read back, equal,
//! twice).

use chrono::{DateTime, Duration, TimeZone, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};

use ledger::crypto::{self, PublicKey};
use ledger::entry::{self, Kind, VerifiedEntry};
use ledger::error::Code;
use ledger::funds::{ContributionStatus, DisbursementStatus, IncomeStatus};
use ledger::ids::{Author, EntryId};
use ledger::jcs;
use ledger::money::Balance;
use ledger::state::State;
use ledger::time::Timestamp;

/// The operations, the first byte of each 8 (its low five bits; bit 5 makes
/// the entry raw).
pub mod code {
    #![allow(missing_docs)]
    pub const MEMBER_APPLY: u8 = 0;
    pub const MEMBER_ADMIT: u8 = 1;
    pub const MEMBER_REJECT: u8 = 2;
    pub const KEY_ROTATE: u8 = 3;
    pub const FUND_CREATE: u8 = 4;
    pub const FUND_JOIN: u8 = 5;
    pub const FUND_LEAVE: u8 = 6;
    pub const CONTRIBUTION: u8 = 7;
    pub const PLEDGE_MATCHING: u8 = 8;
    pub const PROPOSAL: u8 = 9;
    pub const VOTE: u8 = 10;
    pub const PROPOSAL_CLOSE: u8 = 11;
    pub const ROUND_OPEN: u8 = 12;
    pub const ROUND_PROJECT: u8 = 13;
    pub const BALLOT: u8 = 14;
    pub const ROUND_CLOSE: u8 = 15;
    pub const DISBURSEMENT: u8 = 16;
    pub const DISBURSEMENT_APPROVE: u8 = 17;
    pub const RECONCILIATION: u8 = 18;
    pub const REVERSAL: u8 = 19;
    pub const MEMBER_UPDATE: u8 = 20;
    pub const KEY_RECOVER: u8 = 21;
    pub const KEY_RECOVER_CANCEL: u8 = 22;
    pub const KEY_RECOVER_APPROVE: u8 = 23;
    pub const REGISTRAR_PROPOSE: u8 = 24;
    pub const REGISTRAR_APPROVE: u8 = 25;
    pub const ALLOCATION_RELEASE: u8 = 26;
    pub const PROPOSAL_WITHDRAW: u8 = 27;
    pub const INCOME: u8 = 28;
    /// A second genesis (always refused).
    pub const GENESIS: u8 = 29;
    /// The server's closer: a close for every proposal and round due now.
    pub const CLOSE_DUE: u8 = 30;
    /// Only the clock moves.
    pub const IDLE: u8 = 31;
    /// Added to a code: one field of the body gets an odd value.
    pub const RAW: u8 = 0x20;
}

/// One operation as 8 bytes: `code` ([`code`]); `actor` (bits 0–2 the
/// member, [`MEMBERS`]; bits 3–4 the key: 0–1 its current one, 2 its first,
/// 3 spare key bits 5–6; bit 7 the operator instead); `obj` (which fund,
/// member or earlier entry: [`FUNDS`] by `obj % 3`, [`MEMBERS`] by `obj % 8`,
/// entries counted back from the latest); `variant` (the kind's options);
/// `amount` ([`amount`]); `time` (bits 0–3 a clock step, [`STEPS_MS`]; bits
/// 4–7 the entry's `at` against the clock, [`SKEWS_MS`]); `flags` (bit 0:
/// `received_at` not clamped to the last record's; bit 1: a wrong position;
/// bit 2: skip the personal-data check).
pub fn op(code: u8, actor: u8, obj: u8, variant: u8, amount: u16, time: u8, flags: u8) -> [u8; 8] {
    let a = amount.to_be_bytes();
    [code, actor, obj, variant, a[0], a[1], time, flags]
}

/// The members, by index: two registrars (in genesis), then six.
pub const MEMBERS: [&str; 8] = [
    "registrar-noord",
    "registrar-zuid",
    "energie-coop-noord",
    "voedselbank-west",
    "buurtwerkplaats-zuid",
    "gemeente-amsterdam",
    "zorgcollectief-oost",
    "wijkbudget-centrum",
];

/// `member_kind` and `legal_form` of each member when it applies.
const MEMBER_FORMS: [(&str, &str); 8] = [
    ("collective", "stichting"),
    ("collective", "vereniging"),
    ("collective", "cooperatie"),
    ("collective", "stichting"),
    ("collective", "vereniging"),
    ("municipality", "public_body"),
    ("partner", "stichting"),
    ("collective", "informal"),
];

/// The funds (the last is never created unless the bytes create it).
pub const FUNDS: [&str; 3] = ["warmtefonds-noord", "buurtkas-zuid", "onbekend-fonds"];

/// Clock steps, in milliseconds: small, a day, the 7-day recovery delay
/// (and one past it), past a 90-day application expiry, a year, backwards.
pub const STEPS_MS: [i64; 16] = [
    0,
    1,
    1_000,
    60_000,
    3_600_000,
    86_400_000,
    2 * 86_400_000,
    7 * 86_400_000,
    7 * 86_400_000 + 1,
    30 * 86_400_000,
    91 * 86_400_000,
    366 * 86_400_000,
    -1,
    -1_000,
    -3_600_000,
    -86_400_000,
];

/// The entry's `at` minus the clock, in milliseconds: the allowed skew is 600 s.
pub const SKEWS_MS: [i64; 16] =
    [0, 0, 0, 0, 1, -1, 599_999, -599_999, 600_000, -600_000, 600_001, -600_001, 3_600_000, -86_400_000, 999, -999];

/// Odd amounts (parsed as `Amount` or `Balance`).
const EDGE_AMOUNTS: [&str; 16] = [
    "0.00",
    "-1.00",
    "0.01",
    "0.001",
    "1.5",
    "1",
    "1e3",
    "79228162514264337593543950335.00",
    "792281625142643375935439503.35",
    "99999999999999999999.99",
    "-0.00",
    "+1.00",
    "1.000",
    "0100.00",
    " 1.00",
    "-0.01",
];

/// The amount of an operation: `amount >> 12` picks a scale. 0: an edge
/// value; 1–7: up to 40.95 in cents; 8–11: whole tens of euros; 12–13:
/// thousands; 14: within 20.48 of the largest amount (`AMOUNT_MAX`, a
/// billion), either side; 15: multiples of 250 000 up to just above it.
pub fn amount(v: u16) -> String {
    let low = u64::from(v & 0xfff);
    let cents = match v >> 12 {
        0 => return EDGE_AMOUNTS[(v & 15) as usize].to_string(),
        1..=7 => low,
        8..=11 => low * 10 * 100,
        12 | 13 => low * 1000 * 100,
        14 => 100_000_000_000 - 2048 + low,
        _ => low * 250_000 * 100,
    };
    format!("{}.{:02}", cents / 100, cents % 100)
}

const TEXTS: [&str; 8] = [
    "Warmtepomp voor het buurthuis",
    "Isolatie van de koelcel",
    "",
    "Graag naar NL91ABNA0417164300",
    "ééé 😀 \u{202e}omgekeerd",
    "Kosten 01-02-2024, factuur 12345678",
    "                                   ",
    "mail info@example.org",
];

const REFERENCES: [&str; 8] = [
    "WN-2026-0001",
    "WN-2026-0002",
    "WN-2026-0003",
    "E2E-2024-000123456",
    "",
    "WN-2026-0001 ",
    "WN-2026-0004",
    "RENTE-2026-Q1",
];

const FRACTIONS: [&str; 8] = ["0.5", "0", "1", "0.6667", "0.99", "0.01", "1.5", "-0.1"];
const RATIOS: [&str; 4] = ["1.0", "0.5", "2", "0"];
const PERIODS: [u64; 8] = [604_800, 1, 0, 3_600, 86_400, 31_622_400, 31_622_401, 60];
const MAX_REQUESTS: [&str; 4] = ["10000.00", "0.01", "1000000.00", "500.00"];
const DAYS: [i64; 4] = [30, -1, 0, 400];
const CHOICES: [&str; 3] = ["yes", "no", "abstain"];
const SOURCE_KINDS: [&str; 4] = ["donation", "grant", "interest", "other"];
const SOURCES: [&str; 4] = ["Oranje Fonds", "ING rente", "", "Gemeente"];
const COST_CATEGORIES: [&str; 4] = ["bank_fee", "administration", "insurance", "other"];

/// Odd JSON values for a raw entry's body.
fn odd(i: u8) -> Option<Value> {
    Some(match i % 20 {
        0 => Value::Null,
        1 => json!(0),
        2 => json!(-1),
        3 => json!(1.5),
        4 => json!(1e300),
        5 => json!(""),
        6 => json!("0.00"),
        7 => json!("-0.01"),
        8 => json!("0.001"),
        9 => json!("99999999999999999999999999999.99"),
        10 => json!("2026-02-29"),
        11 => json!("2026-03-01T00:00:60Z"),
        12 => json!(true),
        13 => json!([]),
        14 => json!({}),
        15 => json!("NL91ABNA0417164300"),
        16 => json!("ab".repeat(32)),
        17 => json!("x".repeat(300)),
        18 => json!(u64::MAX),
        _ => return None,
    })
}

struct Keys {
    operator: SigningKey,
    members: Vec<SigningKey>,
    spare: Vec<SigningKey>,
}

fn keys() -> &'static Keys {
    static KEYS: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Keys {
        operator: SigningKey::from_bytes(&[1; 32]),
        members: (0..8u8).map(|i| SigningKey::from_bytes(&[0x10 + i; 32])).collect(),
        spare: (0..4u8).map(|i| SigningKey::from_bytes(&[0x40 + i; 32])).collect(),
    })
}

fn public(k: &SigningKey) -> PublicKey {
    PublicKey::from(k.verifying_key())
}

/// The origin of the fuzzed ledgers.
pub const ORIGIN: &str = "meent.test/apply";

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("a valid date")
}

/// Sign and write an entry as a client does, with a nonce from `nonce`.
fn signed(kind: Kind, author: &Author, key: &SigningKey, at: &str, nonce: u64, body: Value) -> Vec<u8> {
    let mut obj = Map::new();
    obj.insert("v".into(), json!(1));
    obj.insert("kind".into(), json!(kind.as_str()));
    obj.insert("author".into(), json!(author.as_str()));
    obj.insert("key".into(), json!(public(key).to_hex()));
    obj.insert("at".into(), json!(at));
    obj.insert("nonce".into(), json!(format!("{nonce:032x}")));
    obj.insert("body".into(), body);
    let mut json = Value::Object(obj);
    let Ok(sb) = entry::signing_bytes(&json) else { return Vec::new() };
    let sig = crypto::sign(key, &sb);
    json["sig"] = json!(sig.to_string());
    jcs::to_vec(&json).unwrap_or_default()
}

/// The genesis entry (made once: every run starts from it).
fn genesis() -> VerifiedEntry {
    static GENESIS: std::sync::OnceLock<VerifiedEntry> = std::sync::OnceLock::new();
    GENESIS.get_or_init(make_genesis).clone()
}

fn make_genesis() -> VerifiedEntry {
    let k = keys();
    let body = json!({
        "origin": ORIGIN,
        "operator_key": public(&k.operator).to_hex(),
        "registrars": [
            {"id": MEMBERS[0], "key": public(&k.members[0]).to_hex()},
            {"id": MEMBERS[1], "key": public(&k.members[1]).to_hex()},
        ],
        "currency": "EUR",
    });
    let at = Timestamp::from_instant(base());
    let bytes = signed(Kind::Genesis, &Author::Operator, &k.operator, at.as_str(), 0, body);
    VerifiedEntry::from_json(&bytes).expect("the fuzz genesis verifies")
}

/// A run: the state, the accepted records and the clock.
struct Run {
    state: State,
    records: Vec<(u64, Timestamp, VerifiedEntry)>,
    now: DateTime<Utc>,
    nonce: u64,
    /// What became of each entry, when asked for ([`outcomes`]).
    trace: Option<Vec<String>>,
}

impl Run {
    fn new() -> Run {
        let g = genesis();
        let at = Timestamp::from_instant(base());
        let mut state = State::new();
        state.apply(0, &at, &g).expect("the fuzz genesis applies");
        Run { state, records: vec![(0, at, g)], now: base(), nonce: 0, trace: None }
    }

    /// Accepted entries that are keys of `has`, latest first.
    fn ids(&self, has: impl Fn(&EntryId) -> bool) -> Vec<EntryId> {
        self.records.iter().rev().map(|(_, _, e)| e.id).filter(|id| has(id)).collect()
    }

    /// The `sel`-th latest of `ids`; bit 7: any accepted entry; none: an unknown id.
    fn pick(&self, ids: &[EntryId], sel: u8) -> String {
        if sel & 0x80 != 0 {
            let n = self.records.len();
            return self.records[n - 1 - (sel & 0x7f) as usize % n].2.id.to_hex();
        }
        match ids.len() {
            0 => "ee".repeat(32),
            n => ids[sel as usize % n].to_hex(),
        }
    }

    fn proposals(&self) -> Vec<EntryId> {
        self.ids(|id| self.state.funds.proposals.contains_key(id))
    }
    fn rounds(&self) -> Vec<EntryId> {
        self.ids(|id| self.state.funds.rounds.contains_key(id))
    }
    /// Allocations, projects and dissolutions (whose refunds are paid as allocations).
    fn allocations(&self) -> Vec<EntryId> {
        let f = &self.state.funds;
        self.ids(|id| {
            f.projects.contains_key(id)
                || f.proposals.get(id).is_some_and(|p| {
                    matches!(p.proposal_kind, entry::ProposalKind::Allocation | entry::ProposalKind::Dissolution)
                })
        })
    }
    fn money_entries(&self) -> Vec<EntryId> {
        let f = &self.state.funds;
        self.ids(|id| {
            f.contributions.get(id).is_some() || f.incomes.contains_key(id) || f.disbursements.contains_key(id)
        })
    }

    /// The body of operation `c` (without the raw bit), or `None` for the closer and the idle step.
    fn body(&self, c: u8, o: &[u8; 8]) -> Option<(Kind, Value)> {
        let (obj, var) = (o[2], o[3]);
        let amt = amount(u16::from_be_bytes([o[4], o[5]]));
        let member = MEMBERS[obj as usize % 8];
        let fund = FUNDS[obj as usize % 3];
        let text = TEXTS[(var >> 4) as usize % 8];
        let reference = REFERENCES[var as usize % 8];
        let today = self.now.date_naive();
        let date = |d: i64| (today + Duration::days(d)).format("%Y-%m-%d").to_string();
        Some(match c {
            code::MEMBER_APPLY => {
                let me = MEMBERS[o[1] as usize % 8];
                let i = if var & 0x10 != 0 { obj as usize % 8 } else { o[1] as usize % 8 };
                let (mut kind, form) = MEMBER_FORMS[i];
                if var & 0x20 != 0 {
                    kind = ["collective", "municipality", "partner"][var as usize % 3];
                }
                let mut b = json!({"id": if var & 0x10 != 0 { member } else { me }, "name": format!("Naam {i}"),
                    "member_kind": kind, "legal_form": form});
                if var & 0x40 != 0 {
                    b["kvk"] = json!(["69599084", "12345678", "0", "6959908"][var as usize % 4]);
                }
                if var & 0x80 != 0 {
                    b["purpose"] = json!(text);
                }
                (Kind::MemberApply, b)
            }
            code::MEMBER_ADMIT | code::MEMBER_REJECT => {
                let mut b = json!({"member": member});
                if var & 1 != 0 {
                    b["reason"] = json!(text);
                }
                (if c == code::MEMBER_ADMIT { Kind::MemberAdmit } else { Kind::MemberReject }, b)
            }
            code::KEY_ROTATE => (Kind::KeyRotate, json!({"new_key": self.key_hex(var)})),
            code::FUND_CREATE => (
                Kind::FundCreate,
                json!({"id": fund, "name": format!("Fonds {}", obj % 3), "purpose": text, "charter": charter(var, o[4], o[5])}),
            ),
            code::FUND_JOIN => (Kind::FundJoin, json!({"fund": fund})),
            code::FUND_LEAVE => (Kind::FundLeave, json!({"fund": fund})),
            code::CONTRIBUTION => {
                let mut b = json!({"fund": fund, "amount": amt, "reference": reference});
                if var & 0x08 != 0 {
                    b["note"] = json!(text);
                }
                if var & 0x80 != 0 {
                    let pledges = self
                        .ids(|id| self.records.iter().any(|(_, _, e)| e.id == *id && e.kind == Kind::PledgeMatching));
                    b["matching"] = json!(self.pick(&pledges, obj >> 2));
                }
                (Kind::Contribution, b)
            }
            code::PLEDGE_MATCHING => (
                Kind::PledgeMatching,
                json!({"fund": fund, "ratio": RATIOS[var as usize % 4], "cap": amt, "until": date(DAYS[(var >> 2) as usize % 4])}),
            ),
            code::PROPOSAL => (Kind::Proposal, self.proposal(o, &amt)),
            code::VOTE => (
                Kind::Vote,
                json!({"proposal": self.pick(&self.proposals(), obj), "choice": CHOICES[var as usize % 3]}),
            ),
            code::PROPOSAL_CLOSE | code::PROPOSAL_WITHDRAW => {
                let kind = if c == code::PROPOSAL_CLOSE { Kind::ProposalClose } else { Kind::ProposalWithdraw };
                (kind, json!({"proposal": self.pick(&self.proposals(), obj)}))
            }
            code::ROUND_OPEN => {
                let at = |d: i64| Timestamp::from_instant(self.now + Duration::days(d)).as_str().to_string();
                (
                    Kind::RoundOpen,
                    json!({"fund": fund, "budget": amt, "rule": "greedy", "projects_until": at(1), "closes_at": at(2)}),
                )
            }
            code::ROUND_PROJECT => (
                Kind::RoundProject,
                json!({"round": self.pick(&self.rounds(), obj), "title": format!("Project {}", var % 8),
                    "description": text, "cost": amt, "recipient": MEMBERS[var as usize % 8]}),
            ),
            code::BALLOT => {
                let round = self.pick(&self.rounds(), obj);
                let projects: Vec<String> = self
                    .ids(|id| self.state.funds.projects.get(id).is_some_and(|p| p.round.to_hex() == round))
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 8 && var & (1 << i) != 0)
                    .map(|(_, id)| id.to_hex())
                    .collect();
                (Kind::Ballot, json!({"round": round, "approve": projects}))
            }
            code::ROUND_CLOSE => (Kind::RoundClose, json!({"round": self.pick(&self.rounds(), obj)})),
            code::DISBURSEMENT => (Kind::Disbursement, self.disbursement(o, &amt, reference)),
            code::DISBURSEMENT_APPROVE => {
                let ids = self.ids(|id| self.state.funds.disbursements.contains_key(id));
                (Kind::DisbursementApprove, json!({"disbursement": self.pick(&ids, obj)}))
            }
            code::RECONCILIATION => (Kind::Reconciliation, self.reconciliation(o, &amt, &date)),
            code::REVERSAL => {
                (Kind::Reversal, json!({"entry": self.pick(&self.money_entries(), obj), "reason": format!("{text}.")}))
            }
            code::MEMBER_UPDATE => {
                let mut b = json!({});
                if var & 1 != 0 {
                    b["name"] = json!(format!("Nieuwe naam {}", var >> 4));
                }
                if var & 2 != 0 {
                    b["legal_form"] =
                        json!(["stichting", "cooperatie", "vereniging", "informal"][(var >> 4) as usize % 4]);
                }
                if var & 4 != 0 {
                    b["purpose"] = json!(text);
                }
                if var & 8 != 0 {
                    b["kvk"] = json!("69599084");
                }
                (Kind::MemberUpdate, b)
            }
            code::KEY_RECOVER => (
                Kind::KeyRecover,
                json!({"member": member, "new_key": self.key_hex(var), "reason": "Sleutel verloren bij een inbraak"}),
            ),
            code::KEY_RECOVER_CANCEL | code::KEY_RECOVER_APPROVE => {
                let ids = self.ids(|id| self.state.register.recoveries.contains_key(id));
                let kind = if c == code::KEY_RECOVER_CANCEL { Kind::KeyRecoverCancel } else { Kind::KeyRecoverApprove };
                (kind, json!({"recovery": self.pick(&ids, obj)}))
            }
            code::REGISTRAR_PROPOSE => {
                let mut b = json!({"action": if var & 1 == 0 { "add" } else { "remove" }, "member": member});
                if var & 2 != 0 {
                    b["reason"] = json!(text);
                }
                (Kind::RegistrarPropose, b)
            }
            code::REGISTRAR_APPROVE => {
                let ids = self.ids(|id| self.state.register.registrar_changes.contains_key(id));
                (Kind::RegistrarApprove, json!({"proposal": self.pick(&ids, obj)}))
            }
            code::ALLOCATION_RELEASE => (
                Kind::AllocationRelease,
                json!({"allocation": self.pick(&self.allocations(), obj), "reason": "Het project is gestopt."}),
            ),
            code::INCOME => (
                Kind::Income,
                json!({"fund": fund, "amount": amt, "source_kind": SOURCE_KINDS[var as usize % 4],
                    "source": SOURCES[(var >> 2) as usize % 4], "reference": reference}),
            ),
            code::GENESIS => (
                Kind::Genesis,
                json!({"origin": ORIGIN, "operator_key": public(&keys().operator).to_hex(), "registrars": [], "currency": "EUR"}),
            ),
            _ => return None,
        })
    }

    /// A spare key (`var & 3`), or with bit 2 another member's first key.
    fn key_hex(&self, var: u8) -> String {
        let k = keys();
        let key = if var & 4 != 0 { &k.members[(var >> 3) as usize % 8] } else { &k.spare[var as usize % 4] };
        public(key).to_hex()
    }

    fn proposal(&self, o: &[u8; 8], amt: &str) -> Value {
        let (obj, var) = (o[2], o[3]);
        let fund = FUNDS[obj as usize % 3];
        let member = MEMBERS[(obj >> 2) as usize % 8];
        let kinds = ["allocation", "admission", "charter", "dissolution", "round", "cancellation", "exclusion"];
        let kind = kinds[var as usize % 7];
        let mut b = json!({"fund": fund, "proposal_kind": kind, "title": format!("Voorstel {}", var >> 3),
            "description": TEXTS[(var >> 5) as usize % 8]});
        match kind {
            "allocation" => {
                b["amount"] = json!(amt);
                b["recipient"] = json!(member);
            }
            "admission" => b["member"] = json!(member),
            "charter" => b["charter"] = charter(var >> 3, o[4], o[5]),
            "round" => {
                b["budget"] = json!(amt);
                b["rule"] = json!(if var & 0x08 != 0 { "equal_shares" } else { "greedy" });
                b["projects_days"] = json!([1, 2, 0, 400][(var >> 4) as usize % 4]);
                b["voting_days"] = json!([1, 3, 0, 367][(var >> 6) as usize % 4]);
            }
            "cancellation" => {
                if var & 0x08 != 0 {
                    b["round"] = json!(self.pick(&self.rounds(), obj >> 2));
                } else {
                    b["allocation"] = json!(self.pick(&self.allocations(), obj >> 2));
                }
            }
            "exclusion" => {
                b["member"] = json!(member);
                b["reason"] = json!("Betaalt al een jaar niet.");
            }
            _ => {}
        }
        b
    }

    /// A payout: `var & 3` an allocation (or a dissolution's refund), a
    /// cost (category `var >> 2`), an allocation with its fund, a fund alone
    /// (malformed); bit 7 names a recipient, `var >> 4`.
    fn disbursement(&self, o: &[u8; 8], amt: &str, reference: &str) -> Value {
        let (obj, var) = (o[2], o[3]);
        let fund = FUNDS[obj as usize % 3];
        let mut b = json!({"amount": amt, "reference": reference});
        match var & 3 {
            0 => b["allocation"] = json!(self.pick(&self.allocations(), obj >> 2)),
            1 => {
                b["fund"] = json!(fund);
                b["cost"] = json!({"category": COST_CATEGORIES[(var >> 2) as usize % 4],
                    "payee": "Bank", "description": "Kosten van de rekening"});
            }
            2 => {
                b["fund"] = json!(fund);
                b["allocation"] = json!(self.pick(&self.allocations(), obj >> 2));
            }
            _ => b["fund"] = json!(fund),
        }
        if var & 0x80 != 0 {
            b["recipient"] = json!(MEMBERS[(var >> 4) as usize % 8]);
        }
        b
    }

    fn reconciliation(&self, o: &[u8; 8], amt: &str, date: &dyn Fn(i64) -> String) -> Value {
        let (obj, var) = (o[2], o[3]);
        let fund = FUNDS[obj as usize % 3];
        // The latest money entries: bits of `var` confirm them, bits of `obj >> 2` return them.
        let candidates = self.money_entries();
        let chosen = |bits: u8| -> Vec<String> {
            candidates
                .iter()
                .take(8)
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, id)| id.to_hex())
                .collect()
        };
        let mut b = json!({"fund": fund, "statement_sha256": format!("{:02x}", var).repeat(32),
            "period_from": date(-30), "period_to": date(if obj & 1 == 0 { 0 } else { -31 }),
            "opening_balance": "0.00", "closing_balance": amt, "confirmed": chosen(var),
            "unmatched_bank_lines": u64::from(obj >> 6)});
        let returned = chosen(obj >> 2);
        if !returned.is_empty() {
            b["returned"] = json!(returned);
        }
        b
    }

    /// The signing key and author of an operation.
    fn signer(&self, actor: u8) -> (Author, SigningKey) {
        let k = keys();
        if actor & 0x80 != 0 {
            return (Author::Operator, k.operator.clone());
        }
        let i = actor as usize % 8;
        let author = Author::Member(MEMBERS[i].parse().expect("a valid member id"));
        let key = match (actor >> 3) & 3 {
            0 | 1 => {
                let current = author.member().and_then(|m| self.state.register.member(m)).map(|m| m.key);
                let all = std::iter::once(&k.operator).chain(&k.members).chain(&k.spare);
                current.and_then(|c| all.into_iter().find(|s| public(s) == c)).unwrap_or(&k.members[i])
            }
            2 => &k.members[i],
            _ => &k.spare[(actor >> 5) as usize % 4],
        };
        (author, key.clone())
    }

    /// One operation.
    fn step(&mut self, o: &[u8; 8]) {
        self.now += Duration::milliseconds(STEPS_MS[(o[6] & 15) as usize]);
        let c = o[0] & 0x1f;
        if c == code::CLOSE_DUE {
            return self.close_due();
        }
        let Some((kind, mut body)) = self.body(c, o) else { return };
        if o[0] & code::RAW != 0 {
            raw(&mut body, o[4], o[5]);
        }
        let (author, key) = self.signer(o[1]);
        let at = Timestamp::from_instant(self.now + Duration::milliseconds(SKEWS_MS[(o[6] >> 4) as usize]));
        self.nonce += 1;
        let bytes = signed(kind, &author, &key, at.as_str(), self.nonce, body);
        let well_formed = o[0] & code::RAW == 0;
        self.submit(&bytes, o[7], well_formed);
    }

    /// Admit an entry as the server does; returns whether it became a record.
    fn submit(&mut self, bytes: &[u8], flags: u8, well_formed: bool) -> bool {
        let before = self.state.clone();
        let e = match VerifiedEntry::from_json(bytes) {
            Ok(e) => e,
            Err(err) => return self.note(|| format!("malformed: {err}")),
        };
        if flags & 4 == 0 {
            if let Err(r) = e.body.check_personal_data() {
                return self.note(|| format!("{} refused: {}", e.kind.as_str(), r.code));
            }
        }
        if self.records.iter().any(|(_, _, r)| r.id == e.id) {
            return self.note(|| format!("{} already logged", e.kind.as_str()));
        }
        let now = Timestamp::from_instant(self.now);
        let received_at = match &self.state.last_received_at {
            Some(last) if flags & 1 == 0 && last.instant() > self.now => last.clone(),
            _ => now,
        };
        let seq = self.state.size + u64::from(flags & 2 != 0);
        match self.state.apply(seq, &received_at, &e) {
            Ok(()) => {
                assert_eq!(seq, before.size, "a record out of order was accepted");
                assert_eq!(self.state.size, before.size + 1, "an accepted entry is one more record");
                assert_eq!(self.state.last_received_at.as_ref(), Some(&received_at));
                let kind = e.kind;
                self.records.push((seq, received_at, e));
                check_books(&self.state);
                self.note(|| format!("{} accepted", kind.as_str()));
                true
            }
            Err(r) => {
                assert!(self.state == before, "refused {} ({}) but the state changed", r.code, r.message);
                assert!(
                    !(well_formed && r.reason == Code::ConservationViolated),
                    "a {} was refused with conservation_violated: {}",
                    e.kind.as_str(),
                    r.message
                );
                self.note(|| format!("{} refused: {} ({})", e.kind.as_str(), r.code, r.message))
            }
        }
    }

    /// Note an outcome when tracing; false.
    fn note(&mut self, what: impl FnOnce() -> String) -> bool {
        if let Some(t) = &mut self.trace {
            t.push(what());
        }
        false
    }

    /// The server's closer: what is due now is closed, one by one.
    fn close_due(&mut self) {
        for _ in 0..64 {
            let at = Timestamp::from_instant(self.now);
            let at = match &self.state.last_received_at {
                Some(last) if last.instant() > self.now => last.clone(),
                _ => at,
            };
            let due = self.state.due_closes(&at).into_iter().map(|id| (Kind::ProposalClose, "proposal", id));
            let rounds = self.state.due_round_closes(&at).into_iter().map(|id| (Kind::RoundClose, "round", id));
            let Some((kind, field, id)) = due.chain(rounds).next() else { return };
            self.nonce += 1;
            let bytes = signed(
                kind,
                &Author::Operator,
                &keys().operator,
                at.as_str(),
                self.nonce,
                json!({ field: id.to_hex() }),
            );
            // Traced, to say why if it is refused.
            let trace = self.trace.replace(Vec::new());
            let accepted = self.submit(&bytes, 0, true);
            let why = std::mem::replace(&mut self.trace, trace).unwrap_or_default().join("; ");
            if let Some(t) = &mut self.trace {
                t.push(why.clone());
            }
            assert!(accepted, "the due {} of {id} was refused: it would stay due for ever: {why}", kind.as_str());
        }
    }

    /// The end: replayed from scratch, the records give the same state, and
    /// the state survives its snapshot.
    fn finish(&self) {
        let mut replay = State::new();
        for (seq, at, e) in &self.records {
            replay.apply(*seq, at, e).unwrap_or_else(|r| panic!("record {seq} is refused on replay: {r}"));
        }
        assert!(replay == self.state, "replaying the records from scratch gives another state");
        let snapshot = |s: &State| {
            let mut bytes = Vec::new();
            ledger::snapshot::encode(s, &mut bytes).expect("the state encodes");
            ledger::snapshot::decode(&bytes).unwrap_or_else(|e| panic!("a snapshot does not read back: {e}"))
        };
        let back = snapshot(&self.state);
        assert!(back == self.state, "the state read back from its snapshot differs");
        // (Not byte for byte: the register's set of keys seen is a hash set.)
        assert!(snapshot(&back) == self.state, "a snapshot of a snapshot differs");
        // The state's JSON (no longer its snapshot) reads back too.
        let json: State = serde_json::from_slice(&serde_json::to_vec(&self.state).expect("serializes")).expect("reads");
        assert!(json == self.state, "the state read back from its JSON differs");
    }
}

/// A charter from option bits: admission, approvals, quorum and threshold
/// from `var`; voting period, `amend_threshold`, `max_cost` and
/// `max_request` from `a`; the treasurers are the members whose bit is set in `t`.
fn charter(var: u8, a: u8, t: u8) -> Value {
    let treasurers: Vec<&str> = (0..8).filter(|i| t & (1 << i) != 0).map(|i| MEMBERS[i]).collect();
    let mut c = json!({
        "admission": if var & 1 == 0 { "open" } else { "vote" },
        "treasurers": treasurers,
        "approvals_required": u32::from((var >> 1) & 3),
        "quorum": FRACTIONS[(var >> 3) as usize % 4],
        "threshold": FRACTIONS[(var >> 5) as usize % 8],
        "voting_period_seconds": PERIODS[a as usize % 8],
        "max_request": MAX_REQUESTS[(a >> 6) as usize],
        "dissolution": "pro_rata_refund",
    });
    if a & 8 != 0 {
        c["amend_threshold"] = json!(["0.75", "0.4"][(a >> 5) as usize % 2]);
    }
    if a & 16 != 0 {
        c["max_cost"] = json!(["25.00", "0.00"][(a >> 5) as usize % 2]);
    }
    c
}

/// Make a body raw: field `f % (n + 1)` gets odd value `v` (or goes), or an unknown field joins.
fn raw(body: &mut Value, v: u8, f: u8) {
    let Value::Object(m) = body else { return };
    let keys: Vec<String> = m.keys().cloned().collect();
    let i = f as usize % (keys.len() + 1);
    match (keys.get(i), odd(v)) {
        (Some(k), Some(val)) => {
            m.insert(k.clone(), val);
        }
        (Some(k), None) => {
            m.remove(k);
        }
        (None, val) => {
            m.insert("extra".into(), val.unwrap_or(Value::Null));
        }
    }
}

fn sum(amounts: impl Iterator<Item = Balance>) -> Balance {
    amounts.fold(Balance::ZERO, |s, a| s.checked_add(a).expect("a sum of accepted amounts fits"))
}

/// Every fund's books, recomputed from its entries, and the keys.
pub fn check_books(state: &State) {
    let f = &state.funds;
    for (id, fund) in &f.funds {
        fund.balances.check(id).unwrap_or_else(|r| panic!("{r}"));
        assert!(!fund.members.is_empty(), "fund {id} has no members");
        let contributions = || f.contributions_of(fund);
        let incomes = || f.incomes.values().filter(|i| &i.fund == id);
        let pledged = sum(contributions().filter(|c| c.status == ContributionStatus::Pledged).map(|c| c.amount.into()))
            .checked_add(sum(incomes().filter(|i| i.status == IncomeStatus::Pledged).map(|i| i.amount.into())))
            .expect("fits");
        assert_eq!(fund.balances.pledged, pledged, "fund {id}: pledged is not the pledged contributions and incomes");
        let confirmed =
            sum(contributions().filter(|c| c.status == ContributionStatus::Confirmed).map(|c| c.amount.into()))
                .checked_add(sum(incomes().filter(|i| i.status == IncomeStatus::Confirmed).map(|i| i.amount.into())))
                .expect("fits");
        assert_eq!(fund.balances.confirmed, confirmed, "fund {id}: confirmed is not the confirmed money in");
        let disbursed = sum(f
            .disbursements
            .values()
            .filter(|d| &d.fund == id)
            .filter(|d| matches!(d.status, DisbursementStatus::Executed | DisbursementStatus::Confirmed))
            .map(|d| d.amount.into()));
        assert_eq!(fund.balances.disbursed, disbursed, "fund {id}: disbursed is not the executed payouts");
        for (m, total) in &fund.contributed {
            let own = sum(contributions()
                .filter(|c| &c.author == m && c.status == ContributionStatus::Confirmed)
                .map(|c| c.amount.into()));
            assert_eq!(*total, own, "fund {id}: {m}'s contributed is not its confirmed contributions");
        }
        let pledged_refs = contributions()
            .filter(|c| c.status == ContributionStatus::Pledged)
            .map(|c| (c.reference.as_str(), c.id))
            .chain(incomes().filter(|i| i.status == IncomeStatus::Pledged).map(|i| (i.reference.as_str(), i.id)));
        let mut n = 0;
        for (reference, eid) in pledged_refs {
            n += 1;
            assert_eq!(f.pledged_with(id, reference), Some(eid), "fund {id}: reference {reference:?}");
        }
        assert_eq!(f.pledged_count(id), n, "fund {id}: a payment reference of nothing pledged is kept");
    }
    let mut keys = std::collections::BTreeSet::new();
    if let Some(k) = &state.operator_key {
        keys.insert(k.to_bytes());
    }
    for m in state.register.members() {
        assert!(keys.insert(m.key.to_bytes()), "{} holds a key already held", m.id);
    }
}

/// Sequences of operations through `State::apply`; see the module's doc.
pub fn apply(data: &[u8]) {
    run(data, None);
}

/// What became of each entry of `data` (accepted, refused and why,
/// malformed), for checking seeds; runs the same checks as [`apply`].
pub fn outcomes(data: &[u8]) -> Vec<String> {
    run(data, Some(Vec::new())).unwrap_or_default()
}

/// At most this many operations are read (the rest of the input is ignored).
pub const OPS_MAX: usize = 256;

fn run(data: &[u8], trace: Option<Vec<String>>) -> Option<Vec<String>> {
    let mut run = Run::new();
    run.trace = trace;
    for o in data.chunks(8).take(OPS_MAX) {
        let mut b = [0u8; 8];
        b[..o.len()].copy_from_slice(o);
        run.step(&b);
    }
    run.finish();
    run.trace
}
