//! The integrity check of an [`ArtifactStore`]: every row has its file and the file's bytes
//! still hash to the row's SHA-256; files under the root that no row names (left by a crash
//! between a file's rename and its row's commit, by a deleted project, or temporary files of
//! an interrupted put) are listed. `repair` removes those files and marks the rows whose file
//! is gone (`missing`) or damaged (`corrupt`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use nexus_db::ArtifactId;
use nexus_db::artifacts::{self, ArtifactState};
use serde::Serialize;

use crate::error::{ArtifactError, IoContext, Result};
use crate::store::{ArtifactStore, remove_file_if_present};

/// Rows read per page while checking.
const PAGE: u32 = 500;

/// What [`ArtifactStore::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntegrityReport {
    /// Rows checked.
    pub rows: u64,
    /// Rows whose file is gone.
    pub missing: Vec<ArtifactId>,
    /// Rows whose file no longer has their SHA-256.
    pub corrupt: Vec<ArtifactId>,
    /// Files under the root that no row names (including leftover temporary files).
    pub unreferenced: Vec<PathBuf>,
}

impl IntegrityReport {
    /// True when every row has its intact file and every file has its row.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty() && self.unreferenced.is_empty()
    }
}

/// What [`ArtifactStore::repair`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Unreferenced files removed.
    pub removed: Vec<PathBuf>,
    /// Rows marked `missing`.
    pub marked_missing: Vec<ArtifactId>,
    /// Rows marked `corrupt`.
    pub marked_corrupt: Vec<ArtifactId>,
}

impl ArtifactStore {
    /// Checks every row against its file (re-hashing it) and lists the files no row names.
    /// Reads every stored byte. Changes nothing; a `put` running meanwhile may show its new
    /// file as unreferenced until its row commits.
    pub async fn check(&self) -> Result<IntegrityReport> {
        let mut report = IntegrityReport::default();
        let mut expected = HashSet::new();
        let mut after: Option<ArtifactId> = None;
        loop {
            let page = artifacts::list_after(self.db().reader(), after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for artifact in page {
                report.rows += 1;
                expected.insert(self.path_of(&artifact)?);
                match self.verify_artifact(&artifact).await {
                    Ok(true) => {}
                    Ok(false) => report.corrupt.push(artifact.id),
                    Err(ArtifactError::Missing { .. }) => report.missing.push(artifact.id),
                    Err(e) => return Err(e),
                }
            }
        }
        let root = self.root().to_path_buf();
        let files = tokio::task::spawn_blocking(move || walk(&root))
            .await
            .map_err(std::io::Error::other)
            .and_then(|listed| listed)
            .io("listing", self.root())?;
        report.unreferenced = files.into_iter().filter(|file| !expected.contains(file)).collect();
        report.unreferenced.sort();
        Ok(report)
    }

    /// Runs [`check`](Self::check) with no `put` or `delete_project` of this store running,
    /// removes the unreferenced files and marks the rows whose file is gone or damaged (their
    /// rows stay: a later put of the same content restores them). Other processes must not
    /// write artifacts meanwhile.
    pub async fn repair(&self) -> Result<RepairReport> {
        let _exclusive = self.gate().write().await;
        let found = self.check().await?;
        let mut report = RepairReport::default();
        for file in found.unreferenced {
            remove_file_if_present(&file).await?;
            tracing::info!(path = %file.display(), "removed an unreferenced artifact file");
            report.removed.push(file);
        }
        for id in found.missing {
            if artifacts::set_state(self.db().writer(), &id, ArtifactState::Missing).await? {
                report.marked_missing.push(id);
            }
        }
        for id in found.corrupt {
            if artifacts::set_state(self.db().writer(), &id, ArtifactState::Corrupt).await? {
                report.marked_corrupt.push(id);
            }
        }
        Ok(report)
    }
}

/// Every file under `root`, recursively (directories are not listed).
fn walk(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    Ok(files)
}
