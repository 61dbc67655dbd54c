//! One module per command: its arguments (`…Args`) and its `run`.

pub mod contribute;
pub mod demo;
pub mod disburse;
pub mod export;
pub mod fund;
pub mod init;
pub mod key;
pub mod keygen;
pub mod member;
pub mod payouts;
pub mod pb;
pub mod proposal;
pub mod propose;
pub mod reconcile;
pub mod registrar;
pub mod report;
pub mod round;
pub mod salvage;
pub mod serve;
pub mod source;
pub mod tiles;
pub mod verify;
pub mod witness;

use clap::{Parser, Subcommand};

use crate::exit::CmdResult;

/// meent — a solidarity fund pooling ledger: signed entries in a verifiable Merkle log.
#[derive(Debug, Parser)]
#[command(name = "meent", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new ed25519 key file (PKCS#8 PEM, mode 0600) and print its public key.
    Keygen(keygen::KeygenArgs),
    /// Create a new ledger: an operator key and the genesis entry.
    Init(init::InitArgs),
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// The register: apply, admit, reject, rotate a key, update your entry.
    #[command(subcommand)]
    Member(member::MemberCommand),
    /// Audit a whole log: signatures, rules, Merkle root, checkpoints.
    Verify(verify::VerifyArgs),
    /// Write the log as a static C2SP tlog-tiles copy any web server can serve, or update one.
    Tiles(tiles::TilesArgs),
    /// Export every intact record of a damaged store, up to the first bad one, as a JSONL log.
    Salvage(salvage::SalvageArgs),
    /// Run a participatory budgeting rule on a pabulib .pb file and print the selected projects.
    Pb(pb::PbArgs),
    /// Write the log (or a fund, a round) in a format other tools read.
    Export(export::ExportArgs),
    /// Funds: create (with a charter), join, leave, show, list.
    #[command(subcommand)]
    Fund(fund::FundCommand),
    /// Announce a contribution to a fund (pledged until the bank statement confirms it).
    Contribute(contribute::ContributeArgs),
    /// The municipality's matching pledge.
    Pledge(contribute::PledgeArgs),
    /// Propose an allocation, an admission, a charter, a dissolution, a round, a cancellation or an exclusion.
    /// Propose an allocation, an admission, a charter, a dissolution or a cancellation.
    Propose(propose::ProposeArgs),
    /// List proposals (`proposal list [--fund F] [--open]`), with the ids to vote on.
    #[command(subcommand)]
    Proposal(proposal::ProposalCommand),
    /// Payout requests waiting for approvals (`payouts pending [--as ME]`).
    #[command(subcommand)]
    Payouts(payouts::PayoutsCommand),
    /// Vote yes, no or abstain on a proposal.
    Vote(propose::VoteArgs),
    /// Close a proposal whose deadline passed or on which every counted member voted.
    Close(propose::CloseArgs),
    /// Participatory budgeting rounds: project, ballot, close, show (open one with `meent propose --kind round`).
    #[command(subcommand)]
    Round(round::RoundCommand),
    /// Request a payout of a passed allocation or a selected project (treasurers).
    Disburse(disburse::DisburseArgs),
    /// Approve a payout request (treasurers, never the recipient).
    Approve(disburse::ApproveArgs),
    /// Reverse a contribution that never arrived, or a pending payout request.
    Reverse(disburse::ReverseArgs),
    /// Match a bank statement (CAMT.053 or MT940) against a fund's ledger; --record signs the result.
    Reconcile(reconcile::ReconcileArgs),
    /// Key recovery: recover (a registrar), cancel (the member's current key), approve (a second registrar).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Change the registrars: add, remove, approve (a majority of the registrars decides).
    #[command(subcommand)]
    Registrar(registrar::RegistrarCommand),
    /// Record money from outside the members: a donation, grant or interest (treasurers).
    Income(contribute::IncomeArgs),
    /// Give back the unpaid remainder of an allocation you receive.
    Release(disburse::ReleaseArgs),
    /// Withdraw your own open proposal.
    Withdraw(propose::WithdrawArgs),
    /// A C2SP tlog-witness: `witness serve` cosigns logs' checkpoints, `witness key` prints its verifier key.
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// A fund's period statement: opening, money in and out, closing, pending (text, JSON or CSV).
    Report(report::ReportArgs),
}

impl Cli {
    /// Whether this command runs the server.
    pub fn is_server(&self) -> bool {
        matches!(self.command, Command::Serve(_) | Command::Witness(witness::WitnessCommand::Serve(_)))
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Keygen(a) => keygen::run(a),
        Command::Init(a) => init::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Member(c) => member::run(c),
        Command::Verify(a) => verify::run(a),
        Command::Tiles(a) => tiles::run(a),
        Command::Salvage(a) => salvage::run(a),
        Command::Pb(a) => pb::run(a),
        Command::Export(a) => export::run(a),
        Command::Fund(c) => fund::run(c),
        Command::Contribute(a) => contribute::contribute(a),
        Command::Pledge(a) => contribute::pledge(a),
        Command::Propose(a) => propose::propose(a),
        Command::Proposal(c) => proposal::run(c),
        Command::Payouts(c) => payouts::run(c),
        Command::Vote(a) => propose::vote(a),
        Command::Close(a) => propose::close(a),
        Command::Round(c) => round::run(c),
        Command::Disburse(a) => disburse::disburse(a),
        Command::Approve(a) => disburse::approve(a),
        Command::Reverse(a) => disburse::reverse(a),
        Command::Reconcile(a) => reconcile::run(a),
        Command::Key(c) => key::run(c),
        Command::Registrar(c) => registrar::run(c),
        Command::Income(a) => contribute::income(a),
        Command::Release(a) => disburse::release(a),
        Command::Withdraw(a) => propose::withdraw(a),
        Command::Report(a) => report::run(a),
        Command::Witness(c) => witness::run(c),
    }
}
