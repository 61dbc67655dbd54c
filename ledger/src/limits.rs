//! Every limit of SPEC §7 as a named constant, in one place.

/// Largest signing-bytes length of one entry.
pub const ENTRY_SIGNING_BYTES_MAX: usize = 64 * 1024;
/// Longest `title`, in characters.
pub const TITLE_CHARS_MAX: usize = 200;
/// Longest `description`, in bytes.
pub const DESCRIPTION_BYTES_MAX: usize = 16 * 1024;
/// Longest `note` or `reason`, in bytes.
pub const NOTE_BYTES_MAX: usize = 1024;
/// Longest payment `reference`, in characters (a SEPA end-to-end id fits).
pub const REFERENCE_CHARS_MAX: usize = 140;
/// Most projects one ballot may approve.
pub const BALLOT_PROJECTS_MAX: usize = 1000;
/// Largest HTTP request body.
pub const REQUEST_BODY_BYTES_MAX: usize = 1024 * 1024;
/// Most records in one page of `GET /v1/entries`.
pub const PAGE_RECORDS_MAX: u64 = 1000;
/// Longest member `name` or fund `name`, in characters.
pub const NAME_CHARS_MAX: usize = 200;
/// Longest `purpose`, in bytes.
pub const PURPOSE_BYTES_MAX: usize = 16 * 1024;
/// Most registrars named in genesis.
pub const REGISTRARS_MAX: usize = 64;
/// Most treasurers in one charter.
pub const TREASURERS_MAX: usize = 64;
/// Most entry ids listed as confirmed in one reconciliation.
pub const CONFIRMED_IDS_MAX: usize = 1000;
/// How far an entry's `at` may be from the server's clock, in seconds.
pub const CLOCK_SKEW_SECONDS_MAX: i64 = 600;
/// Most entries written by one group commit.
pub const GROUP_COMMIT_ENTRIES_MAX: usize = 4096;
/// Longest origin (log name), in bytes.
pub const ORIGIN_BYTES_MAX: usize = 200;
/// Shortest voting period a charter may set, in seconds.
pub const VOTING_PERIOD_SECONDS_MIN: u64 = 1;
/// Longest voting period a charter may set, in seconds (one year).
pub const VOTING_PERIOD_SECONDS_MAX: u64 = 366 * 24 * 3600;
/// Most projects one budgeting round may have (a ballot approves at most
/// [`BALLOT_PROJECTS_MAX`]).
pub const ROUND_PROJECTS_MAX: usize = 1000;
/// Longest a budgeting round may run, from its opening to `closes_at`, in
/// seconds (one year, like a vote): its budget is committed meanwhile.
pub const ROUND_PERIOD_SECONDS_MAX: i64 = 366 * 24 * 3600;
