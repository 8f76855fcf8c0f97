//! The integration tests of nexus-db, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod concurrency;
mod lifecycle;
mod reliability;
mod schema;
mod tables;
