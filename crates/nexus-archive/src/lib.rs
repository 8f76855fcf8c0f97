//! # nexus-archive
//!
//! Moving a Nexus database's projects around and keeping the file sound:
//!
//! * [`export`] / [`import`] — one project ([`Scope::Project`]) or every project
//!   ([`Scope::Workspace`]) in one archive: a zstd-compressed tar stream whose first member is
//!   the [`Manifest`] (format and migration versions, Nexus version, each vector collection's
//!   embedding model and dimensions, rows, size and SHA-256 of every member), then the rows
//!   of every project table as JSON lines, the vectors, and the artifact files. Import
//!   verifies the whole archive before writing anything, applies it in one transaction and
//!   moves the artifact files in after the commit; conflicts are resolved by [`OnConflict`].
//! * [`backup`] — a consistent copy of a live database and its artifact directory, checked.
//! * [`check`] / [`repair`] — one typed [`CheckReport`] of page damage, foreign keys,
//!   full-text indexes, vectors, artifacts and the migration version; the safe repairs.
//! * [`export_for_people`] — JSON, Markdown or CSV of a project's tables;
//!   [`export_history`] / [`write_history`] — the same formats of a user's research history.
//!
//! Which tables are archived is in [`ARCHIVED`] and [`NOT_ARCHIVED`]; their columns are read
//! from the database, so a column added by a later migration is archived without a change here,
//! and a table nobody classified stops an export ([`ArchiveError::UnknownTable`]).
//! See `docs/operations.md`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use nexus_archive::{OnConflict, Scope, export, import};
//! use nexus_artifacts::ArtifactStore;
//! use nexus_db::{Db, projects::{self, NewProject}};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path().join("a.db")).await?;
//! let store = ArtifactStore::open(&db, None).await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! let file = std::fs::File::create(dir.path().join("shop.nexus"))?;
//! export(&db, &store, Scope::Project(project.id.clone()), file, Arc::new(())).await?;
//!
//! let other = Db::open(dir.path().join("b.db")).await?;
//! let other_store = ArtifactStore::open(&other, None).await?;
//! let file = std::fs::File::open(dir.path().join("shop.nexus"))?;
//! let report = import(&other, &other_store, file, OnConflict::Fail, Arc::new(())).await?;
//! assert_eq!(report.projects[0].id, project.id.to_string());
//! # Ok(()) }
//! ```

mod backup;
mod catalog;
mod check;
mod error;
mod export;
mod hashing;
mod history;
mod import;
mod manifest;
mod people;
mod progress;
mod rewrite;
mod value;
mod verify;

pub use backup::{BackupReport, backup};
pub use catalog::{ARCHIVED, ArchivedTable, Column, NOT_ARCHIVED, columns};
pub use check::{
    CheckReport, ForeignKeyProblem, FtsProblem, MissingVectors, OrphanKeys, OrphanVectors, RepairReport,
    check, repair,
};
pub use error::{ArchiveError, Result};
pub use export::{ExportReport, Scope, export};
pub use history::{export_history, write_history};
pub use import::{ImportReport, ImportedProject, OnConflict, Outcome, import};
pub use manifest::{FORMAT_VERSION, MANIFEST_MEMBER, Manifest, Member, MemberContent, ProjectEntry};
pub use people::{Format, PEOPLE_TABLES, export_for_people};
pub use progress::Progress;
