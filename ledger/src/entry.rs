//! The signed entry (SPEC §3): envelope, typed bodies, signing bytes, id, verification.
//!
//! An entry arrives as JSON bytes. [`VerifiedEntry::from_json`] parses it into typed
//! structs that refuse unknown fields, duplicate fields, `null` for optional fields and
//! JSON numbers for amounts; computes the signing bytes
//! `"meent-entry-v1\n" || JCS(entry without "sig")`; and verifies the signature with
//! `verify_strict` against the envelope's key. A `VerifiedEntry` cannot be made any other way.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::crypto::{self, PublicKey, SignatureHex};
use crate::error::{Code, Refusal};
use crate::ids::{Author, EntryId, FundId, MemberId};
use crate::jcs;
use crate::limits;
use crate::money::{Amount, Balance, Fraction, Ratio};
use crate::time::{Date, Timestamp};

/// The domain-separation prefix of the signing bytes.
pub const SIGNING_PREFIX: &[u8] = b"meent-entry-v1\n";

/// Why an entry was refused before any rule of the ledger was consulted.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// Not JSON, or not of the entry's shape.
    #[error("malformed entry: {0}")]
    Malformed(String),
    /// The signing bytes are over the limit.
    #[error("entry is {0} bytes, above the limit of {max} bytes", max = limits::ENTRY_SIGNING_BYTES_MAX)]
    TooLarge(usize),
    /// A field is over its limit.
    #[error("{field} is {len} long, above the limit of {max}")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The signature does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
}

/// Deserialize an optional field that, when present, must not be `null`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The entry kinds of v1 (SPEC §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Kind {
    #[serde(rename = "genesis")]
    Genesis,
    #[serde(rename = "member.apply")]
    MemberApply,
    #[serde(rename = "member.admit")]
    MemberAdmit,
    #[serde(rename = "member.reject")]
    MemberReject,
    #[serde(rename = "key.rotate")]
    KeyRotate,
    #[serde(rename = "fund.create")]
    FundCreate,
    #[serde(rename = "fund.join")]
    FundJoin,
    #[serde(rename = "fund.leave")]
    FundLeave,
    #[serde(rename = "contribution")]
    Contribution,
    #[serde(rename = "pledge.matching")]
    PledgeMatching,
    #[serde(rename = "proposal")]
    Proposal,
    #[serde(rename = "vote")]
    Vote,
    #[serde(rename = "proposal.close")]
    ProposalClose,
    #[serde(rename = "round.open")]
    RoundOpen,
    #[serde(rename = "round.project")]
    RoundProject,
    #[serde(rename = "ballot")]
    Ballot,
    #[serde(rename = "round.close")]
    RoundClose,
    #[serde(rename = "disbursement")]
    Disbursement,
    #[serde(rename = "disbursement.approve")]
    DisbursementApprove,
    #[serde(rename = "reconciliation")]
    Reconciliation,
    #[serde(rename = "reversal")]
    Reversal,
    #[serde(rename = "member.update")]
    MemberUpdate,
    #[serde(rename = "key.recover")]
    KeyRecover,
    #[serde(rename = "key.recover.cancel")]
    KeyRecoverCancel,
    #[serde(rename = "key.recover.approve")]
    KeyRecoverApprove,
    #[serde(rename = "registrar.propose")]
    RegistrarPropose,
    #[serde(rename = "registrar.approve")]
    RegistrarApprove,
    #[serde(rename = "allocation.release")]
    AllocationRelease,
    #[serde(rename = "proposal.withdraw")]
    ProposalWithdraw,
    #[serde(rename = "income")]
    Income,
}

impl Kind {
    /// The kind as written in entries.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::MemberApply => "member.apply",
            Kind::MemberAdmit => "member.admit",
            Kind::MemberReject => "member.reject",
            Kind::KeyRotate => "key.rotate",
            Kind::FundCreate => "fund.create",
            Kind::FundJoin => "fund.join",
            Kind::FundLeave => "fund.leave",
            Kind::Contribution => "contribution",
            Kind::PledgeMatching => "pledge.matching",
            Kind::Proposal => "proposal",
            Kind::Vote => "vote",
            Kind::ProposalClose => "proposal.close",
            Kind::RoundOpen => "round.open",
            Kind::RoundProject => "round.project",
            Kind::Ballot => "ballot",
            Kind::RoundClose => "round.close",
            Kind::Disbursement => "disbursement",
            Kind::DisbursementApprove => "disbursement.approve",
            Kind::Reconciliation => "reconciliation",
            Kind::Reversal => "reversal",
            Kind::MemberUpdate => "member.update",
            Kind::KeyRecover => "key.recover",
            Kind::KeyRecoverCancel => "key.recover.cancel",
            Kind::KeyRecoverApprove => "key.recover.approve",
            Kind::RegistrarPropose => "registrar.propose",
            Kind::RegistrarApprove => "registrar.approve",
            Kind::AllocationRelease => "allocation.release",
            Kind::ProposalWithdraw => "proposal.withdraw",
            Kind::Income => "income",
        }
    }
}

/// The envelope as it is parsed; `body` is parsed by kind afterwards.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    v: u32,
    kind: Kind,
    author: Author,
    key: PublicKey,
    at: Timestamp,
    nonce: String,
    /// Parsed by kind from the entry's JSON afterwards, without a copy.
    #[allow(dead_code)]
    body: serde::de::IgnoredAny,
    sig: SignatureHex,
}

/// A registrar named in genesis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Registrar {
    /// Its member id.
    pub id: MemberId,
    /// Its key.
    pub key: PublicKey,
}

/// `genesis`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Genesis {
    pub origin: String,
    pub operator_key: PublicKey,
    pub registrars: Vec<Registrar>,
    pub currency: String,
}

/// What kind of organisation a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum MemberKind {
    Collective,
    Municipality,
    Partner,
}

/// The legal form of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum LegalForm {
    Stichting,
    Cooperatie,
    Vereniging,
    Informal,
    PublicBody,
}

/// `member.apply`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MemberApply {
    pub id: MemberId,
    pub name: String,
    pub member_kind: MemberKind,
    pub legal_form: LegalForm,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub kvk: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// `member.admit` and `member.reject`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MemberDecision {
    pub member: MemberId,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `key.rotate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct KeyRotate {
    pub new_key: PublicKey,
}

/// How a fund admits members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Admission {
    Open,
    Vote,
}

/// What happens to the balance when a fund ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum DissolutionRule {
    ProRataRefund,
}

/// A fund's charter (SPEC §4.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Charter {
    pub admission: Admission,
    pub treasurers: Vec<MemberId>,
    pub approvals_required: u32,
    pub quorum: Fraction,
    pub threshold: Fraction,
    pub voting_period_seconds: u64,
    pub max_request: Amount,
    pub dissolution: DissolutionRule,
    /// The threshold of `charter`, `dissolution` and `exclusion` proposals
    /// (SPEC §4.5); see [`Charter::amend_threshold`] for the default.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub amend_threshold: Option<Fraction>,
    /// The most a cost (a disbursement with `cost`) may be; `"100.00"` when absent.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<Amount>,
}

/// The default `amend_threshold` as written: two thirds.
pub const DEFAULT_AMEND_THRESHOLD: &str = "0.6667";

/// What a charter without `max_cost` allows for one cost.
pub const DEFAULT_MAX_COST: &str = "100.00";

impl Charter {
    /// The threshold where the agreement itself changes (charter,
    /// dissolution, exclusion): `amend_threshold` when given, else
    /// `"0.6667"` — or the ordinary `threshold` when that is higher, so a
    /// change of the agreement is never easier than a grant.
    pub fn amend_threshold(&self) -> Fraction {
        if let Some(f) = &self.amend_threshold {
            return f.clone();
        }
        match DEFAULT_AMEND_THRESHOLD.parse::<Fraction>() {
            Ok(d) if d.as_decimal() >= self.threshold.as_decimal() => d,
            _ => self.threshold.clone(),
        }
    }

    /// The most one cost may be: `max_cost`, or `"100.00"`.
    pub fn max_cost(&self) -> Amount {
        self.max_cost.unwrap_or_else(|| DEFAULT_MAX_COST.parse().expect("\"100.00\" is a canonical amount"))
    }
}

/// `fund.create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FundCreate {
    pub id: FundId,
    pub name: String,
    pub purpose: String,
    pub charter: Charter,
}

/// `fund.join` and `fund.leave`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FundRef {
    pub fund: FundId,
}

/// `contribution`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Contribution {
    pub fund: FundId,
    pub amount: Amount,
    pub reference: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The matching pledge this payment settles (by the pledging municipality).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub matching: Option<EntryId>,
}

/// `pledge.matching`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PledgeMatching {
    pub fund: FundId,
    pub ratio: Ratio,
    pub cap: Amount,
    pub until: Date,
}

/// What a proposal decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ProposalKind {
    Allocation,
    Admission,
    Charter,
    Dissolution,
    /// A budgeting round, opened when the proposal passes (SPEC §4.5).
    Round,
    /// Ends an allocation (its unpaid remainder returns to `available`) or a running round.
    Cancellation,
    /// Removes a member from the fund.
    Exclusion,
}

/// `proposal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Proposal {
    pub fund: FundId,
    pub proposal_kind: ProposalKind,
    pub title: String,
    pub description: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub recipient: Option<MemberId>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberId>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub charter: Option<Charter>,
    /// A round proposal's budget.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub budget: Option<Amount>,
    /// A round proposal's rule.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub rule: Option<RoundRule>,
    /// A round proposal's project window, in days from the close (at least 1).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub projects_days: Option<u32>,
    /// A round proposal's voting window, in days after the project window (at least 1).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub voting_days: Option<u32>,
    /// A cancellation's round (exactly one of `round` and `allocation`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub round: Option<EntryId>,
    /// A cancellation's allocation: a passed proposal or a selected project.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub allocation: Option<EntryId>,
    /// An exclusion's reason, in the log for ever.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A vote's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

/// `vote`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Vote {
    pub proposal: EntryId,
    pub choice: Choice,
}

/// `proposal.close`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ProposalClose {
    pub proposal: EntryId,
}

/// A round's selection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum RoundRule {
    Greedy,
    EqualShares,
}

/// `round.open`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RoundOpen {
    pub fund: FundId,
    pub budget: Amount,
    pub rule: RoundRule,
    pub projects_until: Timestamp,
    pub closes_at: Timestamp,
}

/// `round.project`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RoundProject {
    pub round: EntryId,
    pub title: String,
    pub description: String,
    pub cost: Amount,
    pub recipient: MemberId,
}

/// `ballot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Ballot {
    pub round: EntryId,
    pub approve: Vec<EntryId>,
}

/// `round.close`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RoundClose {
    pub round: EntryId,
}

/// `disbursement`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Disbursement {
    /// The fund: required with `cost`; with `allocation` it must be the allocation's fund.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub fund: Option<FundId>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub allocation: Option<EntryId>,
    pub amount: Amount,
    pub reference: String,
    /// Who is paid: required for a dissolution refund, checked for an allocation.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub recipient: Option<MemberId>,
    /// A cost of running the fund, instead of `allocation`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// What a cost pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum CostCategory {
    BankFee,
    Administration,
    Insurance,
    Other,
}

impl CostCategory {
    /// The category as written in entries.
    pub fn as_str(&self) -> &'static str {
        match self {
            CostCategory::BankFee => "bank_fee",
            CostCategory::Administration => "administration",
            CostCategory::Insurance => "insurance",
            CostCategory::Other => "other",
        }
    }
}

/// A disbursement's `cost`: a running cost paid to an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Cost {
    pub category: CostCategory,
    pub payee: String,
    pub description: String,
}

/// `disbursement.approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct DisbursementApprove {
    pub disbursement: EntryId,
}

/// `reconciliation`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Reconciliation {
    pub fund: FundId,
    pub statement_sha256: String,
    pub period_from: Date,
    pub period_to: Date,
    pub opening_balance: Balance,
    pub closing_balance: Balance,
    pub confirmed: Vec<EntryId>,
    pub unmatched_bank_lines: u64,
    /// Confirmed money in that the bank returned, and executed payouts whose money came back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returned: Vec<EntryId>,
}

/// `reversal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Reversal {
    pub entry: EntryId,
    pub reason: String,
}

/// `member.update`: the fields given replace the register's (at least one).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MemberUpdate {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub legal_form: Option<LegalForm>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub kvk: Option<String>,
}

/// `key.recover`: a registrar replaces a lost or stolen key (in force after 7 days).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct KeyRecover {
    pub member: MemberId,
    pub new_key: PublicKey,
    pub reason: String,
}

/// `key.recover.cancel` and `key.recover.approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RecoveryRef {
    pub recovery: EntryId,
}

/// What a registrar change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum RegistrarAction {
    Add,
    Remove,
}

/// `registrar.propose`: add an admitted member as registrar, or remove one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RegistrarPropose {
    pub action: RegistrarAction,
    pub member: MemberId,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `registrar.approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RegistrarApprove {
    pub proposal: EntryId,
}

/// `allocation.release`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AllocationRelease {
    pub allocation: EntryId,
    pub reason: String,
}

/// `proposal.withdraw`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ProposalWithdraw {
    pub proposal: EntryId,
}

/// Where outside money comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum SourceKind {
    Donation,
    Grant,
    Interest,
    Other,
}

impl SourceKind {
    /// The kind as written in entries.
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Donation => "donation",
            SourceKind::Grant => "grant",
            SourceKind::Interest => "interest",
            SourceKind::Other => "other",
        }
    }
}

/// The longest `income.source`.
pub const SOURCE_CHARS_MAX: usize = 80;

/// `income`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Income {
    pub fund: FundId,
    pub amount: Amount,
    pub source_kind: SourceKind,
    /// A public label (a foundation's name, "ING rente"), never a private person's name.
    pub source: String,
    pub reference: String,
}

/// A typed entry body.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Body {
    Genesis(Genesis),
    MemberApply(MemberApply),
    MemberAdmit(MemberDecision),
    MemberReject(MemberDecision),
    KeyRotate(KeyRotate),
    FundCreate(FundCreate),
    FundJoin(FundRef),
    FundLeave(FundRef),
    Contribution(Contribution),
    PledgeMatching(PledgeMatching),
    Proposal(Proposal),
    Vote(Vote),
    ProposalClose(ProposalClose),
    RoundOpen(RoundOpen),
    RoundProject(RoundProject),
    Ballot(Ballot),
    RoundClose(RoundClose),
    Disbursement(Disbursement),
    DisbursementApprove(DisbursementApprove),
    Reconciliation(Reconciliation),
    Reversal(Reversal),
    MemberUpdate(MemberUpdate),
    KeyRecover(KeyRecover),
    KeyRecoverCancel(RecoveryRef),
    KeyRecoverApprove(RecoveryRef),
    RegistrarPropose(RegistrarPropose),
    RegistrarApprove(RegistrarApprove),
    AllocationRelease(AllocationRelease),
    ProposalWithdraw(ProposalWithdraw),
    Income(Income),
}

fn typed<T: for<'de> Deserialize<'de>>(v: &Value) -> Result<T, EntryError> {
    T::deserialize(v).map_err(|e| EntryError::Malformed(format!("body: {e}")))
}

impl Body {
    /// Parse a body of the given kind from JSON.
    pub fn parse(kind: Kind, v: &Value) -> Result<Body, EntryError> {
        let b = match kind {
            Kind::Genesis => Body::Genesis(typed(v)?),
            Kind::MemberApply => Body::MemberApply(typed(v)?),
            Kind::MemberAdmit => Body::MemberAdmit(typed(v)?),
            Kind::MemberReject => Body::MemberReject(typed(v)?),
            Kind::KeyRotate => Body::KeyRotate(typed(v)?),
            Kind::FundCreate => Body::FundCreate(typed(v)?),
            Kind::FundJoin => Body::FundJoin(typed(v)?),
            Kind::FundLeave => Body::FundLeave(typed(v)?),
            Kind::Contribution => Body::Contribution(typed(v)?),
            Kind::PledgeMatching => Body::PledgeMatching(typed(v)?),
            Kind::Proposal => Body::Proposal(typed(v)?),
            Kind::Vote => Body::Vote(typed(v)?),
            Kind::ProposalClose => Body::ProposalClose(typed(v)?),
            Kind::RoundOpen => Body::RoundOpen(typed(v)?),
            Kind::RoundProject => Body::RoundProject(typed(v)?),
            Kind::Ballot => Body::Ballot(typed(v)?),
            Kind::RoundClose => Body::RoundClose(typed(v)?),
            Kind::Disbursement => Body::Disbursement(typed(v)?),
            Kind::DisbursementApprove => Body::DisbursementApprove(typed(v)?),
            Kind::Reconciliation => Body::Reconciliation(typed(v)?),
            Kind::Reversal => Body::Reversal(typed(v)?),
            Kind::MemberUpdate => Body::MemberUpdate(typed(v)?),
            Kind::KeyRecover => Body::KeyRecover(typed(v)?),
            Kind::KeyRecoverCancel => Body::KeyRecoverCancel(typed(v)?),
            Kind::KeyRecoverApprove => Body::KeyRecoverApprove(typed(v)?),
            Kind::RegistrarPropose => Body::RegistrarPropose(typed(v)?),
            Kind::RegistrarApprove => Body::RegistrarApprove(typed(v)?),
            Kind::AllocationRelease => Body::AllocationRelease(typed(v)?),
            Kind::ProposalWithdraw => Body::ProposalWithdraw(typed(v)?),
            Kind::Income => Body::Income(typed(v)?),
        };
        b.check_limits()?;
        Ok(b)
    }

    /// SPEC §7: every field within its limit, and the shape rules a body has
    /// beyond its JSON form. One step per group of kinds.
    fn check_limits(&self) -> Result<(), EntryError> {
        match self {
            Body::Genesis(g) => genesis_limits(g),
            Body::MemberApply(a) => member_apply_limits(a),
            Body::MemberUpdate(u) => member_update_limits(u),
            Body::FundCreate(f) => fund_create_limits(f),
            Body::Contribution(c) => {
                reference_limits(&c.reference)?;
                optional_note("note", &c.note)
            }
            Body::Income(i) => {
                nonempty("source", &i.source)?;
                chars("source", &i.source, SOURCE_CHARS_MAX)?;
                reference_limits(&i.reference)
            }
            Body::Proposal(p) => {
                title_and_description(&p.title, &p.description)?;
                if let Some(r) = &p.reason {
                    nonempty("reason", r)?;
                }
                optional_note("reason", &p.reason)
            }
            Body::RoundProject(p) => title_and_description(&p.title, &p.description),
            Body::Ballot(b) => count_limit("approve", b.approve.len(), limits::BALLOT_PROJECTS_MAX),
            Body::Disbursement(d) => disbursement_limits(d),
            Body::Reconciliation(r) => reconciliation_limits(r),
            Body::MemberAdmit(d) | Body::MemberReject(d) => optional_note("reason", &d.reason),
            Body::RegistrarPropose(r) => optional_note("reason", &r.reason),
            Body::Reversal(Reversal { reason, .. })
            | Body::KeyRecover(KeyRecover { reason, .. })
            | Body::AllocationRelease(AllocationRelease { reason, .. }) => required_note("reason", reason),
            Body::KeyRotate(_)
            | Body::FundJoin(_)
            | Body::FundLeave(_)
            | Body::PledgeMatching(_)
            | Body::Vote(_)
            | Body::ProposalClose(_)
            | Body::RoundOpen(_)
            | Body::RoundClose(_)
            | Body::DisbursementApprove(_)
            | Body::ProposalWithdraw(_)
            | Body::KeyRecoverCancel(_)
            | Body::KeyRecoverApprove(_)
            | Body::RegistrarApprove(_) => Ok(()),
        }
    }

    /// The body's free-text fields, by name: what people write in their own
    /// words (names, purposes, titles, descriptions, notes, reasons, payment
    /// references, payees, income sources).
    pub fn free_text(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        fn push<'a>(out: &mut Vec<(&'static str, &'a str)>, field: &'static str, v: Option<&'a String>) {
            if let Some(v) = v {
                out.push((field, v.as_str()));
            }
        }
        match self {
            Body::MemberApply(a) => {
                push(&mut out, "name", Some(&a.name));
                push(&mut out, "kvk", a.kvk.as_ref());
                push(&mut out, "purpose", a.purpose.as_ref());
            }
            Body::MemberUpdate(u) => {
                push(&mut out, "name", u.name.as_ref());
                push(&mut out, "kvk", u.kvk.as_ref());
                push(&mut out, "purpose", u.purpose.as_ref());
            }
            Body::MemberAdmit(d) | Body::MemberReject(d) => push(&mut out, "reason", d.reason.as_ref()),
            Body::FundCreate(f) => {
                push(&mut out, "name", Some(&f.name));
                push(&mut out, "purpose", Some(&f.purpose));
            }
            Body::Contribution(c) => {
                push(&mut out, "reference", Some(&c.reference));
                push(&mut out, "note", c.note.as_ref());
            }
            Body::Income(i) => {
                push(&mut out, "source", Some(&i.source));
                push(&mut out, "reference", Some(&i.reference));
            }
            Body::Proposal(p) => {
                push(&mut out, "title", Some(&p.title));
                push(&mut out, "description", Some(&p.description));
                push(&mut out, "reason", p.reason.as_ref());
            }
            Body::RoundProject(p) => {
                push(&mut out, "title", Some(&p.title));
                push(&mut out, "description", Some(&p.description));
            }
            Body::Disbursement(d) => {
                push(&mut out, "reference", Some(&d.reference));
                if let Some(c) = &d.cost {
                    push(&mut out, "cost.payee", Some(&c.payee));
                    push(&mut out, "cost.description", Some(&c.description));
                }
            }
            Body::RegistrarPropose(r) => push(&mut out, "reason", r.reason.as_ref()),
            Body::Reversal(Reversal { reason, .. })
            | Body::KeyRecover(KeyRecover { reason, .. })
            | Body::AllocationRelease(AllocationRelease { reason, .. }) => push(&mut out, "reason", Some(reason)),
            Body::Genesis(_)
            | Body::KeyRotate(_)
            | Body::FundJoin(_)
            | Body::FundLeave(_)
            | Body::PledgeMatching(_)
            | Body::Vote(_)
            | Body::ProposalClose(_)
            | Body::RoundOpen(_)
            | Body::Ballot(_)
            | Body::RoundClose(_)
            | Body::DisbursementApprove(_)
            | Body::Reconciliation(_)
            | Body::KeyRecoverCancel(_)
            | Body::KeyRecoverApprove(_)
            | Body::RegistrarApprove(_)
            | Body::ProposalWithdraw(_) => {}
        }
        out
    }

    /// SPEC §8: refuse a new entry whose free text holds what looks like
    /// personal data ([`crate::privacy`]), naming the field and the kind found,
    /// never the data. Checked when an entry is submitted, not when the log is
    /// read back: a record already in the log stays readable whatever a later
    /// version of the detector thinks of it.
    pub fn check_personal_data(&self) -> Result<(), Refusal> {
        for (field, text) in self.free_text() {
            if let Some(found) = crate::privacy::find(text) {
                return Err(Refusal::new(
                    Code::PersonalData,
                    format!(
                        "{field} holds what looks like {} ({found}); the log is public forever, so personal data stays out of it (SPEC §8)",
                        found.described()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn chars(field: &'static str, s: &str, max: usize) -> Result<(), EntryError> {
    let len = s.chars().count();
    if len > max {
        return Err(EntryError::FieldTooLong { field, len, max });
    }
    Ok(())
}

fn bytes(field: &'static str, s: &str, max: usize) -> Result<(), EntryError> {
    if s.len() > max {
        return Err(EntryError::FieldTooLong { field, len: s.len(), max });
    }
    Ok(())
}

fn nonempty(field: &'static str, s: &str) -> Result<(), EntryError> {
    if s.trim().is_empty() {
        return Err(EntryError::Malformed(format!("body: {field} must not be empty")));
    }
    Ok(())
}

fn count_limit(field: &'static str, len: usize, max: usize) -> Result<(), EntryError> {
    if len > max {
        return Err(EntryError::FieldTooLong { field, len, max });
    }
    Ok(())
}

/// A name: not empty, at most [`limits::NAME_CHARS_MAX`] characters.
fn name_limits(field: &'static str, name: &str) -> Result<(), EntryError> {
    nonempty(field, name)?;
    chars(field, name, limits::NAME_CHARS_MAX)
}

/// A payment reference: not empty, at most [`limits::REFERENCE_CHARS_MAX`] characters.
fn reference_limits(reference: &str) -> Result<(), EntryError> {
    nonempty("reference", reference)?;
    chars("reference", reference, limits::REFERENCE_CHARS_MAX)
}

/// A note or reason, when given: at most [`limits::NOTE_BYTES_MAX`] bytes.
fn optional_note(field: &'static str, note: &Option<String>) -> Result<(), EntryError> {
    match note {
        Some(n) => bytes(field, n, limits::NOTE_BYTES_MAX),
        None => Ok(()),
    }
}

/// A required reason: not empty, at most [`limits::NOTE_BYTES_MAX`] bytes.
fn required_note(field: &'static str, note: &str) -> Result<(), EntryError> {
    nonempty(field, note)?;
    bytes(field, note, limits::NOTE_BYTES_MAX)
}

fn title_and_description(title: &str, description: &str) -> Result<(), EntryError> {
    nonempty("title", title)?;
    chars("title", title, limits::TITLE_CHARS_MAX)?;
    bytes("description", description, limits::DESCRIPTION_BYTES_MAX)
}

fn genesis_limits(g: &Genesis) -> Result<(), EntryError> {
    bytes("origin", &g.origin, limits::ORIGIN_BYTES_MAX)?;
    count_limit("registrars", g.registrars.len(), limits::REGISTRARS_MAX)
}

fn member_apply_limits(a: &MemberApply) -> Result<(), EntryError> {
    name_limits("name", &a.name)?;
    if let Some(k) = &a.kvk {
        chars("kvk", k, 32)?;
    }
    if let Some(p) = &a.purpose {
        bytes("purpose", p, limits::PURPOSE_BYTES_MAX)?;
    }
    Ok(())
}

fn member_update_limits(u: &MemberUpdate) -> Result<(), EntryError> {
    if u.name.is_none() && u.legal_form.is_none() && u.purpose.is_none() && u.kvk.is_none() {
        return Err(EntryError::Malformed(
            "body: member.update needs at least one of name, legal_form, purpose, kvk".into(),
        ));
    }
    if let Some(n) = &u.name {
        name_limits("name", n)?;
    }
    if let Some(k) = &u.kvk {
        chars("kvk", k, 32)?;
    }
    if let Some(p) = &u.purpose {
        bytes("purpose", p, limits::PURPOSE_BYTES_MAX)?;
    }
    Ok(())
}

fn fund_create_limits(f: &FundCreate) -> Result<(), EntryError> {
    name_limits("name", &f.name)?;
    bytes("purpose", &f.purpose, limits::PURPOSE_BYTES_MAX)?;
    count_limit("treasurers", f.charter.treasurers.len(), limits::TREASURERS_MAX)
}

fn disbursement_limits(d: &Disbursement) -> Result<(), EntryError> {
    reference_limits(&d.reference)?;
    match (&d.allocation, &d.cost, &d.recipient) {
        (Some(_), None, _) => Ok(()),
        (None, Some(_), None) if d.fund.is_none() => Err(EntryError::Malformed("body: a cost names its fund".into())),
        (None, Some(c), None) => {
            name_limits("payee", &c.payee)?;
            bytes("description", &c.description, limits::NOTE_BYTES_MAX)
        }
        (None, Some(_), Some(_)) => {
            Err(EntryError::Malformed("body: a cost names its payee in cost.payee and has no recipient".into()))
        }
        _ => Err(EntryError::Malformed("body: a disbursement names exactly one of allocation or cost".into())),
    }
}

fn reconciliation_limits(r: &Reconciliation) -> Result<(), EntryError> {
    if crate::ids::parse_hex32(&r.statement_sha256).is_none() {
        return Err(EntryError::Malformed("body: statement_sha256 must be 64 lowercase hex characters".into()));
    }
    count_limit("returned", r.returned.len(), limits::CONFIRMED_IDS_MAX)?;
    count_limit("confirmed", r.confirmed.len(), limits::CONFIRMED_IDS_MAX)
}

/// An entry whose shape and signature have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    /// `SHA-256(signing_bytes)`.
    pub id: EntryId,
    /// The kind.
    pub kind: Kind,
    /// Who wrote it.
    pub author: Author,
    /// The key it is signed with.
    pub key: PublicKey,
    /// The client's clock.
    pub at: Timestamp,
    /// The typed body.
    pub body: Body,
    /// The whole entry as JSON, `sig` included, exactly as signed.
    pub json: Value,
    /// `JCS(json)`, computed once (outside the single writer) for the record's leaf bytes.
    canonical: Vec<u8>,
}

fn check_nonce(nonce: &str) -> Result<(), EntryError> {
    if nonce.len() != 32 || !nonce.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err(EntryError::Malformed("nonce must be 32 lowercase hex characters".into()));
    }
    Ok(())
}

/// The signing bytes of an entry given as JSON (its `sig`, if any, left out).
pub fn signing_bytes(entry: &Value) -> Result<Vec<u8>, EntryError> {
    let Value::Object(m) = entry else {
        return Err(EntryError::Malformed("an entry is a JSON object".into()));
    };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(SIGNING_PREFIX);
    jcs::write_object_without(m, "sig", &mut out).map_err(|e| EntryError::Malformed(e.to_string()))?;
    Ok(out)
}

/// `JCS(entry)` from its signing bytes: the envelope's members sort as `at`,
/// `author`, `body`, `key`, `kind`, `nonce`, `sig`, `v`, so the signature goes in
/// just before the final `"v":1}` (and a lowercase hex string needs no escaping).
fn canonical_from_signing(sb: &[u8], sig: &SignatureHex) -> Option<Vec<u8>> {
    let canon = sb.strip_prefix(SIGNING_PREFIX)?;
    let head = canon.strip_suffix(b"\"v\":1}")?;
    let sig = sig.to_string();
    let mut out = Vec::with_capacity(canon.len() + sig.len() + 10);
    out.extend_from_slice(head);
    out.extend_from_slice(b"\"sig\":\"");
    out.extend_from_slice(sig.as_bytes());
    out.extend_from_slice(b"\",\"v\":1}");
    Some(out)
}

/// The entry id of the given signing bytes.
pub fn entry_id(signing_bytes: &[u8]) -> EntryId {
    EntryId(Sha256::digest(signing_bytes).into())
}

impl VerifiedEntry {
    /// Parse entry JSON bytes, check its shape and limits, and verify its signature.
    pub fn from_json(bytes: &[u8]) -> Result<VerifiedEntry, EntryError> {
        let json = jcs::parse_strict(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
        Self::from_value(json)
    }

    /// Parse and verify an entry given as a JSON value.
    pub fn from_value(json: Value) -> Result<VerifiedEntry, EntryError> {
        let raw = RawEnvelope::deserialize(&json).map_err(|e| EntryError::Malformed(e.to_string()))?;
        Self::from_parts(raw, json)
    }

    fn from_parts(raw: RawEnvelope, json: Value) -> Result<VerifiedEntry, EntryError> {
        if raw.v != 1 {
            return Err(EntryError::Malformed(format!("unsupported entry version {}, expected 1", raw.v)));
        }
        check_nonce(&raw.nonce)?;
        let body_json = &json["body"];
        if !body_json.is_object() {
            return Err(EntryError::Malformed("body must be a JSON object".into()));
        }
        let body = Body::parse(raw.kind, body_json)?;
        let sb = signing_bytes(&json)?;
        if sb.len() > limits::ENTRY_SIGNING_BYTES_MAX {
            return Err(EntryError::TooLarge(sb.len()));
        }
        raw.key.verify(&sb, &raw.sig).map_err(|e| EntryError::BadSignature(e.to_string()))?;
        let canonical = match canonical_from_signing(&sb, &raw.sig) {
            Some(c) => c,
            None => jcs::to_vec(&json).map_err(|e| EntryError::Malformed(e.to_string()))?,
        };
        Ok(VerifiedEntry {
            id: entry_id(&sb),
            kind: raw.kind,
            author: raw.author,
            key: raw.key,
            at: raw.at,
            body,
            json,
            canonical,
        })
    }

    /// The entry's canonical JSON bytes (`JCS` of the whole entry, `sig` included).
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }
}

/// Build and sign an entry (what a client does). `body` must be the kind's body as JSON.
pub fn sign_entry(
    kind: Kind,
    author: &Author,
    key: &SigningKey,
    at: &Timestamp,
    body: Value,
) -> Result<VerifiedEntry, EntryError> {
    let nonce: [u8; 16] = rand::random();
    let public = PublicKey::from(key.verifying_key());
    let mut obj = serde_json::Map::new();
    obj.insert("v".into(), Value::from(1));
    obj.insert("kind".into(), Value::from(kind.as_str()));
    obj.insert("author".into(), Value::from(author.as_str()));
    obj.insert("key".into(), Value::from(public.to_hex()));
    obj.insert("at".into(), Value::from(at.as_str()));
    obj.insert("nonce".into(), Value::from(hex::encode(nonce)));
    obj.insert("body".into(), body);
    let unsigned = Value::Object(obj);
    let sb = signing_bytes(&unsigned)?;
    let sig = crypto::sign(key, &sb);
    let mut json = unsigned;
    if let Value::Object(m) = &mut json {
        m.insert("sig".into(), Value::from(sig.to_string()));
    }
    VerifiedEntry::from_value(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn now() -> Timestamp {
        "2026-11-27T12:00:00Z".parse().unwrap()
    }

    fn apply_body() -> Value {
        json!({"id": "energie-coop-noord", "name": "Energie Coöperatie Noord", "member_kind": "collective", "legal_form": "cooperatie"})
    }

    fn signed() -> VerifiedEntry {
        sign_entry(Kind::MemberApply, &"energie-coop-noord".parse().unwrap(), &key(), &now(), apply_body()).unwrap()
    }

    #[test]
    fn sign_and_verify_roundtrip() {
        let e = signed();
        let bytes = serde_json::to_vec(&e.json).unwrap();
        let back = VerifiedEntry::from_json(&bytes).unwrap();
        assert_eq!(back.id, e.id);
        let sb = signing_bytes(&e.json).unwrap();
        assert_eq!(e.canonical(), jcs::to_vec(&e.json).unwrap().as_slice());
        assert!(sb.starts_with(
            b"meent-entry-v1\n{\"at\":\"2026-11-27T12:00:00Z\",\"author\":\"energie-coop-noord\",\"body\":{"
        ));
    }

    fn mutate(f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<VerifiedEntry, EntryError> {
        let mut v = signed().json;
        f(v.as_object_mut().unwrap());
        VerifiedEntry::from_json(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn tampering_is_refused() {
        assert!(matches!(
            mutate(|m| {
                m["body"]["name"] = json!("Other");
            }),
            Err(EntryError::BadSignature(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m.insert("extra".into(), json!(1));
            }),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m["body"].as_object_mut().unwrap().insert("x".into(), json!("y"));
            }),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m["body"].as_object_mut().unwrap().insert("kvk".into(), Value::Null);
            }),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m["v"] = json!(2);
            }),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m["nonce"] = json!("xyz");
            }),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            mutate(|m| {
                m["at"] = json!("2026-11-27T12:00:00+01:00");
            }),
            Err(EntryError::Malformed(_))
        ));
    }

    #[test]
    fn duplicate_fields_refused() {
        let e = signed();
        let text = serde_json::to_string(&e.json).unwrap();
        let dup = text.replacen("{\"v\":1", "{\"v\":1,\"v\":1", 1);
        assert!(matches!(VerifiedEntry::from_json(dup.as_bytes()), Err(EntryError::Malformed(_))));
        let dup = text.replacen("\"member_kind\":", "\"name\":\"Evil\",\"member_kind\":", 1);
        assert_ne!(dup, text);
        assert!(matches!(VerifiedEntry::from_json(dup.as_bytes()), Err(EntryError::Malformed(_))));
    }

    #[test]
    fn json_number_amount_refused() {
        let body = json!({"fund": "warmtefonds-noord", "amount": 12.5, "reference": "X"});
        let e = sign_entry(Kind::Contribution, &"energie-coop-noord".parse().unwrap(), &key(), &now(), body);
        let msg = e.unwrap_err().to_string();
        assert!(msg.contains("amount") || msg.contains("JSON"), "{msg}");
    }

    #[test]
    fn oversized_entry_refused() {
        let mut b = apply_body();
        b["purpose"] = json!("x".repeat(16 * 1024));
        assert!(
            sign_entry(Kind::MemberApply, &"energie-coop-noord".parse().unwrap(), &key(), &now(), b.clone()).is_ok()
        );
        b["purpose"] = json!("x".repeat(16 * 1024 + 1));
        assert!(matches!(
            sign_entry(Kind::MemberApply, &"energie-coop-noord".parse().unwrap(), &key(), &now(), b),
            Err(EntryError::FieldTooLong { .. })
        ));
    }
}
