//! The OpenAPI schemas (utoipa) of the ledger's own types that appear in the
//! views: ids, keys, amounts, times and the wire enums. Built only with the
//! `openapi` feature. Each enum lists its wire names through an exhaustive
//! `match`, so a new variant does not compile until its schema names it, and a
//! test checks each name against serde.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::crypto::PublicKey;
use crate::entry::{Admission, Choice, DissolutionRule, Kind, LegalForm, MemberKind, ProposalKind, RoundRule};
use crate::funds::{
    ContributionStatus, DisbursementStatus, FundStatus, Outcome, PayoutKind, ProjectStatus, ProposalStatus, RoundPhase,
    RoundStatus,
};
use crate::ids::{Author, EntryId, FundId, MemberId};
use crate::money::{Amount, Balance, Fraction, Ratio};
use crate::register::MemberStatus;
use crate::time::{Date, Timestamp};

/// The form of member and fund ids.
pub const ID_PATTERN: &str = "^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$";
/// 32 bytes as lowercase hex: entry ids, hashes, public keys.
pub const HEX32_PATTERN: &str = "^[0-9a-f]{64}$";
/// An amount: digits without leading zeros, a point, exactly two decimals.
pub const AMOUNT_PATTERN: &str = "^(0|[1-9][0-9]{0,12})\\.[0-9]{2}$";
/// A balance: an amount that may be negative (never in a consistent ledger).
pub const BALANCE_PATTERN: &str = "^-?(0|[1-9][0-9]{0,12})\\.[0-9]{2}$";
/// A fraction or ratio: a decimal with at most four decimals.
pub const DECIMAL_PATTERN: &str = "^[0-9]{1,3}(\\.[0-9]{1,4})?$";

fn string(description: &str, pattern: Option<&str>, format: Option<KnownFormat>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(pattern)
        .format(format.map(SchemaFormat::KnownFormat))
        .into()
}

macro_rules! string_schema {
    ($t:ty, $name:literal, $desc:literal, $pattern:expr, $format:expr) => {
        impl PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                string($desc, $pattern, $format)
            }
        }
        impl ToSchema for $t {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_schema!(
    MemberId,
    "MemberId",
    "A member id: 3 to 64 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.",
    Some(ID_PATTERN),
    None
);
string_schema!(FundId, "FundId", "A fund id, of the same form as a member id.", Some(ID_PATTERN), None);
string_schema!(Author, "Author", "An entry's author: a member id, or `operator`.", Some(ID_PATTERN), None);
string_schema!(
    EntryId,
    "EntryId",
    "An entry id: SHA-256 of the entry's signing bytes, 64 lowercase hex characters.",
    Some(HEX32_PATTERN),
    None
);
string_schema!(
    PublicKey,
    "PublicKey",
    "An ed25519 public key, 64 lowercase hex characters.",
    Some(HEX32_PATTERN),
    None
);
string_schema!(
    Amount,
    "Amount",
    "A positive euro amount, exactly two decimals, at most 1000000000.00 (e.g. \"12.50\").",
    Some(AMOUNT_PATTERN),
    None
);
string_schema!(
    Balance,
    "Balance",
    "A euro balance, exactly two decimals (\"0.00\" included).",
    Some(BALANCE_PATTERN),
    None
);
string_schema!(
    Fraction,
    "Fraction",
    "A decimal in [0, 1] with at most 4 decimals (e.g. \"0.5\").",
    Some(DECIMAL_PATTERN),
    None
);
string_schema!(
    Ratio,
    "Ratio",
    "A decimal greater than 0 and at most 10, with at most 4 decimals (e.g. \"1.0\").",
    Some(DECIMAL_PATTERN),
    None
);
string_schema!(
    Timestamp,
    "Timestamp",
    "An RFC 3339 UTC time with a `Z`.",
    Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"),
    Some(KnownFormat::DateTime)
);
string_schema!(
    Date,
    "Date",
    "A calendar date, YYYY-MM-DD.",
    Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    Some(KnownFormat::Date)
);

/// 32 bytes as lowercase hex (a Merkle hash), for schemas only.
pub struct HashHex;
string_schema!(HashHex, "Hash", "A SHA-256 hash, 64 lowercase hex characters.", Some(HEX32_PATTERN), None);

macro_rules! enum_schema {
    ($t:ident, $desc:literal, { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// The wire names of every variant, through an exhaustive match.
            #[allow(dead_code)]
            fn wire_name(self) -> &'static str {
                match self {
                    $($t::$v => $s),+
                }
            }
        }
        impl PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($desc))
                    .enum_values(Some([$($s),+]))
                    .into()
            }
        }
        impl ToSchema for $t {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($t))
            }
        }
        #[cfg(test)]
        paste_check!($t, $($v),+);
    };
}

#[cfg(test)]
macro_rules! paste_check {
    ($t:ident, $($v:ident),+) => {
        #[test]
        #[allow(non_snake_case)]
        fn $t() {
            for v in [$($t::$v),+] {
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(v.wire_name()));
            }
        }
    };
}

enum_schema!(Kind, "An entry kind (SPEC §4.1 and §4.5).", {
    Genesis => "genesis", MemberApply => "member.apply", MemberAdmit => "member.admit", MemberReject => "member.reject",
    KeyRotate => "key.rotate", FundCreate => "fund.create", FundJoin => "fund.join", FundLeave => "fund.leave",
    Contribution => "contribution", PledgeMatching => "pledge.matching", Proposal => "proposal", Vote => "vote",
    ProposalClose => "proposal.close", RoundOpen => "round.open", RoundProject => "round.project", Ballot => "ballot",
    RoundClose => "round.close", Disbursement => "disbursement", DisbursementApprove => "disbursement.approve",
    Reconciliation => "reconciliation", Reversal => "reversal",
    MemberUpdate => "member.update", KeyRecover => "key.recover", KeyRecoverCancel => "key.recover.cancel",
    KeyRecoverApprove => "key.recover.approve", RegistrarPropose => "registrar.propose",
    RegistrarApprove => "registrar.approve", AllocationRelease => "allocation.release",
    ProposalWithdraw => "proposal.withdraw", Income => "income",
});
enum_schema!(MemberStatus, "Where a member stands in the register.", { Pending => "pending", Admitted => "admitted", Rejected => "rejected" });
enum_schema!(MemberKind, "What kind of member.", { Collective => "collective", Municipality => "municipality", Partner => "partner" });
enum_schema!(LegalForm, "A member's legal form.", { Stichting => "stichting", Cooperatie => "cooperatie", Vereniging => "vereniging", Informal => "informal", PublicBody => "public_body" });
enum_schema!(FundStatus, "Whether a fund still works.", { Active => "active", Dissolved => "dissolved" });
enum_schema!(Admission, "How members join a fund.", { Open => "open", Vote => "vote" });
enum_schema!(DissolutionRule, "What happens to the money at a dissolution.", { ProRataRefund => "pro_rata_refund" });
enum_schema!(ContributionStatus, "Where a contribution stands.", { Pledged => "pledged", Confirmed => "confirmed", Reversed => "reversed", Returned => "returned" });
enum_schema!(DisbursementStatus, "Where a disbursement stands.", { Pending => "pending", Executed => "executed", Confirmed => "confirmed", Reversed => "reversed", Lapsed => "lapsed", Returned => "returned" });
enum_schema!(PayoutKind, "What a disbursement pays.", { Allocation => "allocation", Refund => "refund", Cost => "cost" });
enum_schema!(ProposalKind, "What a proposal decides.", { Allocation => "allocation", Admission => "admission", Charter => "charter", Dissolution => "dissolution", Round => "round", Cancellation => "cancellation", Exclusion => "exclusion" });
enum_schema!(ProposalStatus, "Open or closed.", { Open => "open", Closed => "closed" });
enum_schema!(Outcome, "How a proposal ended.", { Passed => "passed", Rejected => "rejected", RejectedNoQuorum => "rejected_no_quorum", RejectedInsufficientFunds => "rejected_insufficient_funds", Withdrawn => "withdrawn" });
enum_schema!(Choice, "A vote.", { Yes => "yes", No => "no", Abstain => "abstain" });
enum_schema!(RoundRule, "A budgeting round's rule.", { Greedy => "greedy", EqualShares => "equal_shares" });
enum_schema!(RoundStatus, "Where a round stands.", { Open => "open", Closed => "closed", Cancelled => "cancelled" });
enum_schema!(RoundPhase, "Where a round is in time.", { Projects => "projects", Voting => "voting", Counting => "counting", Closed => "closed", Cancelled => "cancelled" });
enum_schema!(ProjectStatus, "A project's standing.", { Candidate => "candidate", Selected => "selected", NotSelected => "not_selected" });

/// A signed entry (SPEC §3.1), for schemas only: what `POST /v1/entries`
/// takes and what a record holds. The ledger checks the body of each kind.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Envelope {
    /// The format version.
    #[schema(minimum = 1, maximum = 1)]
    v: u8,
    /// The entry kind, e.g. `contribution`.
    kind: Kind,
    /// Who signed it.
    author: Author,
    /// The author's current key.
    key: PublicKey,
    /// The client's clock.
    at: Timestamp,
    /// 32 lowercase hex characters, random.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    nonce: String,
    /// The kind's body.
    #[schema(value_type = Object)]
    body: serde_json::Value,
    /// The ed25519 signature of the signing bytes, 128 lowercase hex characters.
    #[schema(pattern = "^[0-9a-f]{128}$")]
    sig: String,
}
