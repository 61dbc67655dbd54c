//! The typed views of the ledger (SPEC §5): what the API serialises, what the
//! CLI reads back, and, with the `openapi` feature, what the API's OpenAPI
//! document describes. Each view is built once, here, from the [`State`] (or a
//! stored record) by a plain function; nothing here does I/O.
//!
//! Conventions: amounts are strings with exactly two decimals (`"0.00"`
//! included); ids are member/fund ids or 64 lowercase hex characters; a field
//! that may be empty is always present, `null` when it has no value; lists are
//! in log order and paged by [`Page`] (`from` a log position, `next` the
//! position to ask for next or `null`).
//!
//! [`State`]: crate::state::State

pub mod flows;
pub mod fund;
pub mod member;
pub mod page;
pub mod proposal;
pub mod record;
pub mod round;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod statement;

pub use flows::{ApprovalView, ContributionView, CostView, DisbursementView, FlowsView, IncomeView, ReleaseView};
pub use fund::{
    BalancesView, CharterView, ContributorView, DissolutionView, ExclusionView, FundList, FundSummary, FundView,
    MatchingPledgeView, ProposalCounts, ReconciliationView, RefundView,
};
pub use member::{MemberList, MemberView};
pub use page::{Page, PageError};
pub use proposal::{ProposalList, ProposalView, RoundTermsView, TallyView, VoteView};
pub use record::{
    ConsistencyProofView, EntryList, ErrorBody, ErrorDetail, InclusionProofView, RecordView, SubmitReceipt,
};
pub use round::{BallotView, PaymentView, ProjectView, RoundList, RoundOutcomeView, RoundSummary, RoundView};
pub use statement::{StatementError, StatementIn, StatementOut, StatementPayout, StatementPending, StatementView};
