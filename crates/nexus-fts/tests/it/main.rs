//! The integration tests of nexus-fts, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod common;
mod maintenance;
mod migration;
mod query_props;
mod search;
mod sync;
