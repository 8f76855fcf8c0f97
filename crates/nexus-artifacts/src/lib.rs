//! # nexus-artifacts
//!
//! Large outputs of agents — command logs, diffs, bundles, files — stored as files on disk
//! beside the Nexus database and referenced from its `artifacts` table
//! ([`nexus_db::artifacts`]).
//!
//! * [`ArtifactStore`] — `open` (root default `<database file>.artifacts/`), `put` from any
//!   `AsyncRead` (bounded memory, SHA-256 while streaming, zstd when it pays, one file per
//!   content per project and kind, crash safe), `get` (the original bytes as an `AsyncRead`),
//!   `verify`, `list`, `delete`, `delete_project`.
//! * [`ArtifactStore::check`] / [`ArtifactStore::repair`] — the integrity check
//!   ([`IntegrityReport`], [`RepairReport`]).
//! * [`ArtifactError`] — the one error type.
//!
//! Files are laid out `<root>/<project_id>/<kind>/<sha256[0..2]>/<sha256>[.zst]`, so a
//! project's files are found and removed together. See `docs/artifacts.md`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_artifacts::{ArtifactStore, PutOptions};
//! use nexus_db::{Db, artifacts::ArtifactKind, projects::{self, NewProject}};
//! use tokio::io::AsyncReadExt as _;
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path().join("nexus.db")).await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! let store = ArtifactStore::open(&db, None).await?; // files in nexus.db.artifacts/
//! let log = b"cargo test\nok\n".repeat(100);
//! let put = store.put(&project.id, ArtifactKind::Log, "test.log", "text/plain", &log[..], PutOptions::default()).await?;
//! let mut content = store.get(&put.artifact.id).await?;
//! let mut back = Vec::new();
//! content.reader.read_to_end(&mut back).await?;
//! assert_eq!(back, log);
//! assert!(store.check().await?.is_clean());
//! # Ok(()) }
//! ```

mod compress;
mod error;
mod integrity;
mod layout;
mod store;

pub use compress::{PAYS_PERCENT, guess_content_type};
pub use error::{ArtifactError, Result};
pub use integrity::{IntegrityReport, RepairReport};
pub use layout::{MAX_NAME_BYTES, check_name};
pub use store::{ArtifactStore, CommitHook, Content, PutOptions, PutOutcome, StoreOptions};
