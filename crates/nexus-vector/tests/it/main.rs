//! The integration tests of nexus-vector, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod collections;
mod common;
mod knn;
mod resident;
mod scifact;
mod writes;
