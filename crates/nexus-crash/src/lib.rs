//! # nexus-crash
//!
//! The crash and fault suite. A child process (`nexus-crash-child`) does mixed writes through
//! the public APIs — episodic memory (`Store::remember`), task transactions, code indexing
//! (`Store::index_dir`) over a tree it keeps changing — and appends each write to an
//! acknowledgement log only after the call returned `Ok`. The [`campaign`] kills it with
//! SIGKILL at a random moment, opens the file the way a restarting application would, and
//! checks it ([`verify`]):
//!
//! * `PRAGMA integrity_check` is `ok` and `PRAGMA foreign_key_check` is empty;
//! * every FTS5 index passes its integrity check (it holds exactly its table's rows);
//! * every vector key names an existing row, every vector has a key, and every episode and code
//!   chunk has its vector;
//! * every indexed file has exactly its recorded chunks;
//! * every acknowledged write is present: episodes with their content, tasks in the
//!   acknowledged status or a later one, the indexed files as of the last acknowledged run (or
//!   the newer state of an unacknowledged run).
//!
//! Then the next child continues on the same file. CI runs 10 kills (`tests/crash.rs`);
//! `cargo xtask crash --kills 200` runs more and prints a JSON [`Summary`]. See the section
//! "Crash safety" of `docs/operations.md`.

pub mod ack;
pub mod campaign;
pub mod tree;
pub mod verify;
pub mod workload;

pub use campaign::{Campaign, Summary, run};
