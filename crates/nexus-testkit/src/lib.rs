//! Fixtures shared by the Nexus crates' tests: a migrated database in a temp dir
//! ([`TempDb`]), sample source trees on disk ([`write_tree`], [`SHOP`]) and a seeded random
//! generator ([`Rng`]) over `fastrand`.
//!
//! For tests only: this crate is only ever a `[dev-dependencies]` entry, never a dependency of
//! a library or binary, and it is not published.

mod corpus;
mod db;
mod error;
mod rng;

pub use corpus::{SHOP, write_file, write_tree};
pub use db::{TempDb, project};
pub use error::TestkitError;
pub use rng::Rng;
