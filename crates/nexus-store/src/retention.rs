//! [`Store::cleanup`] and [`Store::usage`]: retention of history by kind (transcripts,
//! checkpoints, metrics, episodes, artifacts with their files) by age, count and size per project, and what each kind of
//! each project takes (artifacts: original and stored bytes), next to what the database's
//! tables and indexes take.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nexus_artifacts::ArtifactStore;
use nexus_db::artifacts::{self, ArtifactUsage};
use nexus_db::projects::{self, ProjectFilter};
use nexus_db::retention::{self, HistoryKind, KindUsage, Limits};
use nexus_db::{ArtifactId, Db, ProjectId, TableCounts};
use serde::Serialize;
use tracing::info;

use crate::error::Result;
use crate::store::Store;

/// Rows deleted per transaction by [`Store::cleanup`].
const BATCH: usize = 500;

/// What [`Store::cleanup`] keeps: one rule per kind, applied to every project (a kind without
/// a rule is kept whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupPolicy {
    /// The limits per kind.
    pub rules: BTreeMap<HistoryKind, Limits>,
    /// Where the artifact files are (default `<database file>.artifacts/`, as
    /// [`ArtifactStore::open`]); used only by an artifacts rule.
    pub artifact_root: Option<PathBuf>,
}

impl CleanupPolicy {
    /// The policy with `limits` for `kind` added.
    pub fn keep(mut self, kind: HistoryKind, limits: Limits) -> Self {
        self.rules.insert(kind, limits);
        self
    }

    /// The policy with the artifact files under `root`.
    pub fn artifact_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.artifact_root = Some(root.into());
        self
    }
}

/// What one rule removed (or would remove) in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The project.
    pub project_id: ProjectId,
    /// The kind.
    pub kind: HistoryKind,
    /// Rows.
    pub rows: u64,
    /// Their bytes.
    pub bytes: i64,
}

/// What [`Store::cleanup`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    /// True when nothing was deleted (the report says what would have been).
    pub dry_run: bool,
    /// Per project and kind with something to remove.
    pub removed: Vec<Removed>,
}

/// Where [`Store::cleanup`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupProgress {
    /// Rows handled so far.
    pub done: u64,
    /// Rows to handle in all.
    pub total: u64,
}

/// What [`Store::usage`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Rows and bytes per project and kind.
    pub kinds: Vec<KindUsage>,
    /// Artifacts per project and kind: bytes as stored in and on disk.
    pub artifacts: Vec<ArtifactUsage>,
    /// Rows per table, bytes of the full-text indexes and vector tables, the file's size.
    pub database: TableCounts,
}

impl Store {
    /// [`cleanup`] on the store's database.
    pub async fn cleanup(
        &self,
        policy: &CleanupPolicy,
        dry_run: bool,
        progress: impl FnMut(&CleanupProgress) + Send,
    ) -> Result<CleanupReport> {
        cleanup(self.db(), policy, dry_run, progress).await
    }

    /// [`usage`] of the store's database.
    pub async fn usage(&self, project: Option<&ProjectId>) -> Result<Usage> {
        usage(self.db(), project).await
    }
}

/// Applies `policy` to every project: finds the rows each rule removes (oldest first) and,
/// unless `dry_run`, deletes them in transactions of 500 rows, calling `progress` after each.
/// Manual checkpoints are never removed; an artifact's file goes right after its row (a crash
/// in between leaves an unreferenced file that the artifact store's `repair` removes). Returns
/// what was (or would be) removed.
pub async fn cleanup(
    db: &Db,
    policy: &CleanupPolicy,
    dry_run: bool,
    mut progress: impl FnMut(&CleanupProgress) + Send,
) -> Result<CleanupReport> {
    let projects = projects::list(db.reader(), &ProjectFilter::default()).await?;
    let mut plan = Vec::new();
    for project in &projects {
        for (kind, limits) in &policy.rules {
            let found = retention::candidates(db.reader(), *kind, &project.id, limits).await?;
            if !found.is_empty() {
                plan.push((project.id.clone(), *kind, found));
            }
        }
    }
    let mut state = CleanupProgress { done: 0, total: plan.iter().map(|(_, _, c)| c.len() as u64).sum() };
    progress(&state);
    let mut report = CleanupReport { dry_run, removed: Vec::new() };
    let artifact_files = if !dry_run && plan.iter().any(|(_, kind, _)| *kind == HistoryKind::Artifacts) {
        Some(ArtifactStore::open(db, policy.artifact_root.clone()).await?)
    } else {
        None
    };
    for (project_id, kind, candidates) in plan {
        let mut removed = Removed { project_id, kind, rows: 0, bytes: 0 };
        for batch in candidates.chunks(BATCH) {
            let ids: Vec<String> = batch.iter().map(|c| c.id.clone()).collect();
            removed.rows += if dry_run {
                ids.len() as u64
            } else if let (HistoryKind::Artifacts, Some(files)) = (kind, &artifact_files) {
                let ids: Vec<ArtifactId> = ids.iter().map(|id| ArtifactId::from(id.as_str())).collect();
                files.delete_many(&ids).await?.len() as u64
            } else {
                let mut tx = db.begin().await?;
                let deleted = retention::delete(&mut *tx, kind, &ids).await?;
                tx.commit().await.map_err(nexus_db::DbError::from)?;
                deleted
            };
            removed.bytes += batch.iter().map(|c| c.bytes).sum::<i64>();
            state.done += batch.len() as u64;
            progress(&state);
        }
        info!(project = %removed.project_id, kind = %kind, rows = removed.rows, dry_run, "retention applied");
        report.removed.push(removed);
    }
    Ok(report)
}

/// Rows and bytes per project (or only `project`) and kind, and the database's tables,
/// indexes and file size.
pub async fn usage(db: &Db, project: Option<&ProjectId>) -> Result<Usage> {
    let kinds = retention::usage(db.reader(), project).await?;
    let artifacts = artifacts::usage(db.reader(), project).await?;
    let database = db.table_counts().await?;
    Ok(Usage { kinds, artifacts, database })
}
