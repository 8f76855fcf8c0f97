//! nexus-state on real database files: load/save, the workflow, checkpoints, STATE.md.

mod checkpoints;
mod dashboard;
mod markdown;
mod state;
mod support;
mod workflow;
