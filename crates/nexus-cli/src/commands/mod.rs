//! The subcommands, one module each, and [`open`], how they open the database.
//!
//! Each module exposes one `run` function taking the database path and its parsed arguments.
//! Modules here depend on `crate::args` and `crate::output`, never on each other except
//! through [`open`] (and `demo`, which reuses `index`).

pub mod artifact;
pub mod backup;
pub mod check;
pub mod checkpoint;
pub mod cleanup;
pub mod demo;
pub mod export;
pub mod health;
pub mod import;
pub mod index;
pub mod mcp;
pub mod migrate;
pub mod open;
pub mod resume;
pub mod search;
pub mod serve;
pub mod state;
pub mod stats;
pub mod tasks;
pub mod transcript;
pub mod usage;
pub mod user;
