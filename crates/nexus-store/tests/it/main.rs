//! The integration tests of nexus-store, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod disk_full;
mod retention;
mod store;
