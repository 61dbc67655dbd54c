//! Fuzz targets for meent's parsers; see `targets.rs` and `README.md`.

mod targets;
pub use targets::*;
