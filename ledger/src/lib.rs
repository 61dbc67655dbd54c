//! # ledger — the core of meent
//!
//! Formats, the verifiable log, storage and the domain rules of meent, a
//! solidarity fund pooling ledger. No HTTP, no terminal output: the `api` crate
//! serves this over HTTP and the `meent` binary (crate `cli`) drives it.
//!
//! ```
//! use ledger::money::Amount;
//! let a: Amount = "12.50".parse().unwrap();
//! assert_eq!(a.to_string(), "12.50");
//! assert!("12.5".parse::<Amount>().is_err());
//! ```
#![deny(missing_docs)]

pub mod audit;
pub mod bank;
pub mod books;
pub mod checkpoint;
pub mod crypto;
pub mod derived;
pub mod entry;
pub mod error;
pub mod funds;
pub mod ids;
pub mod ingest;
pub mod jcs;
pub mod limits;
pub mod log;
pub mod merkle;
pub mod money;
pub mod pb;
pub mod privacy;
pub mod record;
pub mod recovery;
pub mod register;
pub mod registrars;
pub mod snapshot;
pub mod state;
pub mod store;
pub mod tiles;
pub mod time;
pub mod views;
pub mod witness;
