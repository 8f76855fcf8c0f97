//! The integration tests of nexus-search, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod builder;
mod fusion;
mod name_match;
