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

/// Most `member.apply` applications pending at once (applied, not yet admitted
/// or rejected, not expired). Past it `member.apply` is refused with
/// `too_many_pending` until registrars decide some or some expire. It bounds
/// what anyone, unadmitted, can add to the public log within
/// [`APPLICATION_EXPIRY_SECONDS`] (at most about 20,000 × 17 KiB); a workshop
/// registering fifty collectives, or a whole municipality's, stays far below it.
pub const PENDING_APPLICATIONS_MAX: usize = 20_000;
/// How long an application stays pending, in seconds from its `received_at`
/// (90 days): after that it can no longer be admitted or rejected
/// (`application_expired`), no longer counts towards
/// [`PENDING_APPLICATIONS_MAX`], and its member id may apply again.
pub const APPLICATION_EXPIRY_SECONDS: i64 = 90 * 24 * 3600;

// The server's connection limits (SPEC §5 says no input may take it down).
// `meent serve` takes each as a flag; these are its defaults.

/// How long a client has to send a request's head (request line and headers),
/// in seconds, counted from when the server starts waiting for it: on a new
/// connection from its accept, on a kept-alive one from the end of the
/// previous response, so it is also how long an idle connection is kept.
pub const HEADER_TIMEOUT_SECONDS: u64 = 20;
/// How long a client has to send a request's whole body, in seconds, counted
/// from the end of its head.
pub const BODY_TIMEOUT_SECONDS: u64 = 60;
/// How long a response may wait on a client that does not read it, in seconds
/// without a byte written.
pub const WRITE_TIMEOUT_SECONDS: u64 = 60;
/// Most connections served at once; above it a new connection is answered 503
/// and closed. `meent serve` lowers it to fit the open-file limit.
pub const CONNECTIONS_MAX: usize = 10_000;
/// File descriptors `meent serve` keeps for its store and its own use when it
/// fits [`CONNECTIONS_MAX`] to the open-file limit.
pub const CONNECTIONS_FD_RESERVE: usize = 256;
/// Connections the kernel may hold for the server before it accepts them (the
/// listen backlog; Linux caps it at `net.core.somaxconn`). The common default
/// of 128 drops the connections of a burst, which then wait a second to retry.
pub const LISTEN_BACKLOG: u32 = 4096;
/// Refused requests (4xx answers) one client address may cause at once; past
/// them it is answered 429 until the budget refills.
pub const REFUSED_PER_ADDRESS_BURST: u32 = 300;
/// How fast the refused-request budget of one address refills, per minute.
pub const REFUSED_PER_ADDRESS_PER_MINUTE: u32 = 60;
/// `member.apply` submissions one client address may send at once (a workshop
/// registering fifty collectives from one office stays far below it).
pub const APPLY_PER_ADDRESS_BURST: u32 = 200;
/// How fast the `member.apply` budget of one address refills, per hour.
pub const APPLY_PER_ADDRESS_PER_HOUR: u32 = 120;
/// Most client addresses the rate limiter tracks at once (an IPv6 address
/// counts by its /64); past them new addresses go untracked until the table
/// sheds the addresses whose budget is whole again.
pub const RATE_LIMITED_ADDRESSES_MAX: usize = 100_000;
