//! Why the ledger refuses an entry: one error type with a stable code and the
//! class of fault, which the API maps to a status and the CLI to an exit code.
//!
//! Every code is a variant of [`Code`]; its [`Code::as_str`] is the wire code
//! clients see, and its [`Code::kind`] the class, so one code always has one
//! HTTP status. `docs/DOMAIN.md`'s refusal table lists them all (a test keeps
//! the two equal).

use std::fmt;

/// The class of a refusal (whose fault, and what it conflicts with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The entry is malformed (HTTP 400).
    Malformed,
    /// Bad signature, or not signed with the author's current key (401).
    Unauthenticated,
    /// The author may not do this (403).
    Forbidden,
    /// Something it refers to does not exist (404).
    NotFound,
    /// It conflicts with the log: closed vote, duplicate id (409).
    Conflict,
    /// A domain rule refuses it: insufficient funds, over a limit (422).
    Rule,
}

impl RefusalKind {
    /// The HTTP status of this class (SPEC §5).
    pub const fn http_status(self) -> u16 {
        match self {
            RefusalKind::Malformed => 400,
            RefusalKind::Unauthenticated => 401,
            RefusalKind::Forbidden => 403,
            RefusalKind::NotFound => 404,
            RefusalKind::Conflict => 409,
            RefusalKind::Rule => 422,
        }
    }
}

/// Declares [`Code`] from one table: variant, wire code, class.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $wire:literal, $kind:ident;)*) => {
        /// Why the ledger refuses: a stable machine-readable code. Its class
        /// (and so its HTTP status) is fixed by the code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, grouped by class.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The wire code, e.g. `insufficient_funds`. Clients depend on these strings.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $wire,)*
                }
            }

            /// The class of this code.
            pub const fn kind(self) -> RefusalKind {
                match self {
                    $(Code::$variant => RefusalKind::$kind,)*
                }
            }
        }
    };
}

codes! {
    /// Genesis in a currency other than EUR.
    BadCurrency = "bad_currency", Malformed;
    /// Genesis origin empty or with whitespace.
    BadOrigin = "bad_origin", Malformed;
    /// Fields that do not fit the proposal kind.
    BadProposal = "bad_proposal", Malformed;
    /// Entry time too far from the server clock.
    ClockSkew = "clock_skew", Malformed;
    /// A project approved twice in one ballot.
    DuplicateApproval = "duplicate_approval", Malformed;
    /// Entry listed twice in one reconciliation.
    DuplicateConfirmation = "duplicate_confirmation", Malformed;
    /// A genesis entry that cannot be built.
    Malformed = "malformed", Malformed;
    /// A weak (small-order) public key.
    WeakKey = "weak_key", Malformed;
    /// Author not in the register.
    UnknownAuthor = "unknown_author", Unauthenticated;
    /// Not signed with the author's current key.
    WrongKey = "wrong_key", Unauthenticated;
    /// `member.apply` not authored by the applicant itself.
    AuthorMismatch = "author_mismatch", Forbidden;
    /// An entry only members author, by someone else.
    MemberOnly = "member_only", Forbidden;
    /// Author not an admitted member.
    NotAdmitted = "not_admitted", Forbidden;
    /// Neither the author nor a treasurer.
    NotAllowedToReverse = "not_allowed_to_reverse", Forbidden;
    /// A member who joined after the proposal opened.
    NotCounted = "not_counted", Forbidden;
    /// Leave, propose or vote without being a member.
    NotFundMember = "not_fund_member", Forbidden;
    /// Matching pledge by a non-municipality.
    NotMunicipality = "not_municipality", Forbidden;
    /// Admit or reject by a non-registrar.
    NotRegistrar = "not_registrar", Forbidden;
    /// Disburse, approve or reconcile by a non-treasurer.
    NotTreasurer = "not_treasurer", Forbidden;
    /// The operator authoring a member's entry.
    OperatorNotAllowed = "operator_not_allowed", Forbidden;
    /// Genesis by someone other than the operator.
    OperatorOnly = "operator_only", Forbidden;
    /// A treasurer requesting its own payout.
    RecipientCannotRequest = "recipient_cannot_request", Forbidden;
    /// Key rotation by a rejected member.
    RejectedMember = "rejected_member", Forbidden;
    /// The recipient approving its own payout.
    SelfApproval = "self_approval", Forbidden;
    /// Disbursement of an unknown proposal.
    UnknownAllocation = "unknown_allocation", NotFound;
    /// Approval of an unknown disbursement.
    UnknownDisbursement = "unknown_disbursement", NotFound;
    /// Confirming or reversing something that is not a contribution or disbursement.
    UnknownEntry = "unknown_entry", NotFound;
    /// No such fund.
    UnknownFund = "unknown_fund", NotFound;
    /// Allocation recipient or admission candidate not admitted.
    UnknownMember = "unknown_member", NotFound;
    /// Ballot approving something that is not a project.
    UnknownProject = "unknown_project", NotFound;
    /// Vote or close of an unknown proposal.
    UnknownProposal = "unknown_proposal", NotFound;
    /// Project, ballot or close of an unknown round.
    UnknownRound = "unknown_round", NotFound;
    /// An admission vote for that member is open.
    AdmissionPending = "admission_pending", Conflict;
    /// Disbursement of an open or rejected proposal.
    AllocationNotPassed = "allocation_not_passed", Conflict;
    /// The same treasurer approving twice.
    AlreadyApproved = "already_approved", Conflict;
    /// Confirming an entry twice.
    AlreadyConfirmed = "already_confirmed", Conflict;
    /// Admitting or rejecting a member who is not pending.
    AlreadyDecided = "already_decided", Conflict;
    /// Joining twice, or admitting a member.
    AlreadyMember = "already_member", Conflict;
    /// Reversing twice.
    AlreadyReversed = "already_reversed", Conflict;
    /// Record out of order.
    BadSeq = "bad_seq", Conflict;
    /// Received before the previous record.
    ClockBackwards = "clock_backwards", Conflict;
    /// Reversing a confirmed contribution.
    ContributionConfirmed = "contribution_confirmed", Conflict;
    /// Reversing an executed payout.
    DisbursementExecuted = "disbursement_executed", Conflict;
    /// Confirming a payout that lacks approvals.
    DisbursementNotExecuted = "disbursement_not_executed", Conflict;
    /// Approving an executed or reversed payout.
    DisbursementNotPending = "disbursement_not_pending", Conflict;
    /// Fund id taken.
    DuplicateFund = "duplicate_fund", Conflict;
    /// Member or registrar id taken.
    DuplicateMember = "duplicate_member", Conflict;
    /// Reference of an open pledge reused.
    DuplicateReference = "duplicate_reference", Conflict;
    /// Statement reconciled before.
    DuplicateStatement = "duplicate_statement", Conflict;
    /// Confirming a reversed entry.
    EntryReversed = "entry_reversed", Conflict;
    /// Join, contribute, pledge, propose or open a round on a dissolved fund.
    FundDissolved = "fund_dissolved", Conflict;
    /// A second genesis.
    GenesisExists = "genesis_exists", Conflict;
    /// Record 0 that is not a genesis.
    GenesisExpected = "genesis_expected", Conflict;
    /// A key registered before.
    KeyReused = "key_reused", Conflict;
    /// The last member leaving.
    LastMember = "last_member", Conflict;
    /// Second running pledge by the same municipality.
    OverlappingPledge = "overlapping_pledge", Conflict;
    /// Project received at or after `projects_until`.
    ProjectsClosed = "projects_closed", Conflict;
    /// Vote on or close of a closed proposal.
    ProposalClosed = "proposal_closed", Conflict;
    /// Project, ballot or close of a closed or cancelled round.
    RoundClosed = "round_closed", Conflict;
    /// Before the deadline, with votes missing.
    TooEarlyToClose = "too_early_to_close", Conflict;
    /// Vote received at or after `closes_at`.
    VotingClosed = "voting_closed", Conflict;
    /// Ballot received before `projects_until`.
    VotingNotOpen = "voting_not_open", Conflict;
    /// More approvals than treasurers.
    ApprovalsAboveTreasurers = "approvals_above_treasurers", Rule;
    /// Charter needs at least one approval.
    ApprovalsRequiredZero = "approvals_required_zero", Rule;
    /// Reconciliation period backwards.
    BadPeriod = "bad_period", Rule;
    /// `closes_at` not after `projects_until`.
    BadRoundDeadlines = "bad_round_deadlines", Rule;
    /// Voting period outside 1 s … 366 days.
    BadVotingPeriod = "bad_voting_period", Rule;
    /// The books would not balance (an assertion).
    ConservationViolated = "conservation_violated", Rule;
    /// Project costing more than the round's budget.
    CostAboveBudget = "cost_above_budget", Rule;
    /// A treasurer named twice.
    DuplicateTreasurer = "duplicate_treasurer", Rule;
    /// Payout above the committed balance (cannot happen).
    InsufficientFunds = "insufficient_funds", Rule;
    /// Checked arithmetic overflowed.
    MoneyOverflow = "money_overflow", Rule;
    /// Disbursement of an admission or charter proposal.
    NotAnAllocation = "not_an_allocation", Rule;
    /// More than what is left of the allocation.
    OverAllocationRemainder = "over_allocation_remainder", Rule;
    /// Allocation above the charter's max_request.
    OverMaxRequest = "over_max_request", Rule;
    /// Round whose `projects_until` is not after its opening.
    ProjectsUntilPassed = "projects_until_passed", Rule;
    /// Refund amount owed to no contributor.
    RefundMismatch = "refund_mismatch", Rule;
    /// The round cannot be built as an instance (cannot happen within the limits).
    RoundTooLarge = "round_too_large", Rule;
    /// `closes_at` more than 366 days after the opening.
    RoundTooLong = "round_too_long", Rule;
    /// Threshold 1.
    ThresholdUnreachable = "threshold_unreachable", Rule;
    /// More than 1000 projects in a round.
    TooManyProjects = "too_many_projects", Rule;
    /// Treasurer not an admitted member.
    UnknownTreasurer = "unknown_treasurer", Rule;
    /// A register or genesis body routed to the funds (cannot happen).
    UnsupportedKind = "unsupported_kind", Rule;
    /// Pledge ending before today.
    UntilInPast = "until_in_past", Rule;
    /// Confirming another fund's entry.
    WrongFund = "wrong_fund", Rule;
    /// Ballot approving a project of another round.
    WrongRound = "wrong_round", Rule;
    /// `round.open` by a member: a round is opened by a `round` proposal.
    RoundNeedsProposal = "round_needs_proposal", Forbidden;
    /// A round proposal with a window of zero days.
    BadRoundDays = "bad_round_days", Rule;
    /// A second open cancellation of the same round.
    CancellationPending = "cancellation_pending", Conflict;
    /// A vote by the member a proposal is about (an allocation's recipient, an exclusion's member).
    ConflictOfInterest = "conflict_of_interest", Forbidden;
    /// A charter whose amend_threshold is below its threshold.
    AmendThresholdBelowThreshold = "amend_threshold_below_threshold", Rule;
    /// Exclusion of a treasurer still named in the charter.
    MemberIsTreasurer = "member_is_treasurer", Conflict;
    /// Exclusion of a member who is not in the fund.
    MemberNotInFund = "member_not_in_fund", Conflict;
    /// A member proposing its own exclusion.
    SelfExclusion = "self_exclusion", Rule;
    /// A second open exclusion of the same member.
    ExclusionPending = "exclusion_pending", Conflict;
    /// A key recovery for a member who already has one pending.
    RecoveryPending = "recovery_pending", Conflict;
    /// Cancel or co-sign of an unknown key recovery.
    UnknownRecovery = "unknown_recovery", NotFound;
    /// Cancel or co-sign of a cancelled key recovery.
    RecoveryCancelled = "recovery_cancelled", Conflict;
    /// Cancel or co-sign of a key recovery already in force.
    RecoveryInForce = "recovery_in_force", Conflict;
    /// A key recovery cancelled by someone other than its member.
    NotRecoveredMember = "not_recovered_member", Forbidden;
    /// A co-signature of a recovery made when there was one registrar.
    ApprovalNotNeeded = "approval_not_needed", Conflict;
    /// The registrar who recorded a recovery co-signing it.
    SameRegistrar = "same_registrar", Forbidden;
    /// Adding a registrar who is one.
    AlreadyRegistrar = "already_registrar", Conflict;
    /// Removing a member who is no registrar.
    NotARegistrar = "not_a_registrar", Conflict;
    /// Removing the last registrar.
    LastRegistrar = "last_registrar", Conflict;
    /// A second open change of the same registrar.
    RegistrarChangePending = "registrar_change_pending", Conflict;
    /// Approval of an unknown registrar change.
    UnknownRegistrarChange = "unknown_registrar_change", NotFound;
    /// Approval of a registrar change that took effect.
    RegistrarChangeDone = "registrar_change_done", Conflict;
    /// A charter with fewer than `approvals_required + 1` treasurers.
    TooFewTreasurers = "too_few_treasurers", Rule;
    /// A disbursement naming someone other than the allocation's recipient.
    WrongRecipient = "wrong_recipient", Rule;
    /// A refund disbursement without `recipient`.
    MissingRecipient = "missing_recipient", Malformed;
    /// A refund above what is still owed to its recipient.
    OverRefund = "over_refund", Rule;
    /// A disbursement whose fields do not fit (a cost without its fund).
    BadDisbursement = "bad_disbursement", Malformed;
    /// A cost above the charter's `max_cost`.
    OverMaxCost = "over_max_cost", Rule;
    /// Releasing or cancelling an allocation a second time.
    AlreadyReleased = "already_released", Conflict;
    /// Releasing or cancelling an allocation that is paid in full.
    NothingToRelease = "nothing_to_release", Conflict;
    /// `allocation.release` by someone other than the recipient.
    NotRecipient = "not_recipient", Forbidden;
    /// `proposal.withdraw` by someone other than its author.
    NotProposalAuthor = "not_proposal_author", Forbidden;
    /// `contribution.matching` naming no pledge of the fund.
    UnknownPledge = "unknown_pledge", NotFound;
    /// `contribution.matching` naming another municipality's pledge.
    NotPledger = "not_pledger", Forbidden;
    /// Returning an entry that was never confirmed or executed.
    ReturnNotConfirmed = "return_not_confirmed", Conflict;
    /// Returning an entry a second time.
    AlreadyReturned = "already_returned", Conflict;
    /// Returning money in that is no longer available.
    ReturnExceedsAvailable = "return_exceeds_available", Rule;
    /// Free text holding what looks like personal data (SPEC §8).
    PersonalData = "personal_data", Rule;
    /// `member.apply` while the register holds its most pending applications.
    TooManyPending = "too_many_pending", Rule;
    /// Admitting or rejecting an application that has expired.
    ApplicationExpired = "application_expired", Conflict;
}

impl Code {
    /// The code whose wire string is `s`, if any.
    pub fn from_wire(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refusal by the ledger's rules. A refused entry changes nothing.
///
/// Made only by [`Refusal::new`], so `kind` and `code` always follow `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The class (`reason.kind()`).
    pub kind: RefusalKind,
    /// The wire code (`reason.as_str()`), e.g. `insufficient_funds`.
    pub code: &'static str,
    /// The code, typed.
    pub reason: Code,
    /// A human sentence naming what is wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal for `code`, with a sentence naming what is wrong.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Refusal { kind: code.kind(), code: code.as_str(), reason: code, message: message.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// Every wire code exactly as clients know it, once. Adding a code means adding it here.
    const WIRE: &str = "bad_currency bad_origin bad_proposal clock_skew duplicate_approval duplicate_confirmation \
        malformed weak_key unknown_author wrong_key author_mismatch member_only not_admitted not_allowed_to_reverse \
        not_counted not_fund_member not_municipality not_registrar not_treasurer operator_not_allowed operator_only \
        recipient_cannot_request rejected_member self_approval unknown_allocation unknown_disbursement unknown_entry \
        unknown_fund unknown_member unknown_project unknown_proposal unknown_round admission_pending \
        allocation_not_passed already_approved already_confirmed already_decided already_member already_reversed \
        bad_seq clock_backwards contribution_confirmed disbursement_executed disbursement_not_executed \
        disbursement_not_pending duplicate_fund duplicate_member duplicate_reference duplicate_statement \
        entry_reversed fund_dissolved genesis_exists genesis_expected key_reused last_member overlapping_pledge \
        projects_closed proposal_closed round_closed too_early_to_close voting_closed voting_not_open \
        approvals_above_treasurers approvals_required_zero bad_period bad_round_deadlines bad_voting_period \
        conservation_violated cost_above_budget duplicate_treasurer insufficient_funds money_overflow \
        not_an_allocation over_allocation_remainder over_max_request projects_until_passed refund_mismatch \
        round_too_large round_too_long threshold_unreachable too_many_projects unknown_treasurer unsupported_kind \
        until_in_past wrong_fund wrong_round round_needs_proposal bad_round_days \
        cancellation_pending conflict_of_interest \
        amend_threshold_below_threshold member_is_treasurer member_not_in_fund self_exclusion exclusion_pending \
        recovery_pending unknown_recovery recovery_cancelled recovery_in_force not_recovered_member \
        approval_not_needed same_registrar already_registrar not_a_registrar last_registrar \
        registrar_change_pending unknown_registrar_change registrar_change_done \
        too_few_treasurers wrong_recipient missing_recipient over_refund \
        bad_disbursement over_max_cost already_released nothing_to_release not_recipient not_proposal_author \
        unknown_pledge not_pledger \
        return_not_confirmed already_returned return_exceeds_available \
        personal_data too_many_pending application_expired";

    #[test]
    fn every_code_has_one_distinct_wire_string() {
        let listed: Vec<&str> = WIRE.split_whitespace().collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "a wire code is listed twice");
        let ours: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let ours_unique: BTreeSet<&str> = ours.iter().copied().collect();
        assert_eq!(ours_unique.len(), ours.len(), "two codes share a wire string");
        assert_eq!(ours_unique, unique, "the enum's wire strings differ from the list clients know");
        for c in Code::ALL {
            assert_eq!(Code::from_wire(c.as_str()), Some(*c));
            assert!(c.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{c}");
        }
        assert_eq!(Code::from_wire("no_such_code"), None);
    }

    /// `| `code` | status | when |` rows of docs/DOMAIN.md's "Refusal codes" section.
    fn documented() -> Vec<(String, u16)> {
        let doc = include_str!("../../docs/DOMAIN.md");
        let section = doc.split("\n## Refusal codes").nth(1).expect("DOMAIN.md has a Refusal codes section");
        let section = section.split("\n## ").next().unwrap_or(section);
        section
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.trim().trim_matches('|').split('|').map(str::trim).collect();
                let code = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code.to_string(), cells.get(1)?.parse().ok()?))
            })
            .collect()
    }

    #[test]
    fn the_domain_table_lists_every_code_with_its_status() {
        let rows = documented();
        assert!(rows.len() >= Code::ALL.len(), "only {} rows read from DOMAIN.md", rows.len());
        let mut status: BTreeMap<String, u16> = BTreeMap::new();
        for (code, st) in &rows {
            let c = Code::from_wire(code).unwrap_or_else(|| panic!("DOMAIN.md lists `{code}`, which is no Code"));
            assert_eq!(c.kind().http_status(), *st, "DOMAIN.md gives `{code}` status {st}");
            status.insert(code.clone(), *st);
        }
        for c in Code::ALL {
            assert!(status.contains_key(c.as_str()), "`{c}` is missing from DOMAIN.md's refusal table");
        }
    }

    #[test]
    fn a_refusal_takes_class_and_wire_code_from_its_code() {
        let r = Refusal::new(Code::InsufficientFunds, "not enough");
        assert_eq!((r.kind, r.code, r.reason), (RefusalKind::Rule, "insufficient_funds", Code::InsufficientFunds));
        assert_eq!(r.to_string(), "not enough (insufficient_funds)");
        assert_eq!(Code::BadProposal.kind().http_status(), 400);
        assert_eq!(serde_json::to_string(&Code::UnknownFund).unwrap(), "\"unknown_fund\"");
    }
}
