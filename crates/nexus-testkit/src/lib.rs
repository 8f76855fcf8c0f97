//! Fixtures shared by the Nexus crates' tests: a migrated database in a temp dir
//! ([`TempDb`]) and a seeded random generator ([`Rng`]) over `fastrand`.
//!
//! For tests only: this crate is only ever a `[dev-dependencies]` entry, never a dependency of
//! a library or binary, and it is not published.

mod db;
mod error;
mod rng;

pub use db::{TempDb, project};
pub use error::TestkitError;
pub use rng::Rng;
