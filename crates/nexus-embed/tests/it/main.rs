//! The integration tests of nexus-embed, one binary (one link of SQLite and the workspace) with a
//! module per area, as ripgrep lays out its tests.

mod cache;
mod neural;
mod openai;
mod support;
