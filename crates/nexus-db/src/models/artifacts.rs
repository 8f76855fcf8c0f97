//! `artifacts`: large outputs of agents (command logs, diffs, bundles, files) whose bytes live
//! in files beside the database (crate nexus-artifacts); a row records what a file holds, its
//! SHA-256, how it is stored and whether the last integrity repair found it.
//!
//! Identical content is stored once per project and kind: `(project_id, kind, sha256)` is
//! unique, and [`create`] returns `None` instead of a second row.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{ArtifactId, ProjectId, TaskId, Timestamp};

const TABLE: &str = "artifacts";

text_enum! {
    /// What an artifact is; files of one kind share a directory.
    pub enum ArtifactKind {
        /// A command's output.
        Log = "log",
        /// A diff or patch.
        Diff = "diff",
        /// An archive of several files.
        Bundle = "bundle",
        /// A single file.
        File = "file",
        /// Anything else.
        Other = "other",
    }
}

text_enum! {
    /// How an artifact's bytes are stored on disk.
    pub enum Compression {
        /// As they are.
        None = "none",
        /// One zstd frame (the file name ends in `.zst`).
        Zstd = "zstd",
    }
}

text_enum! {
    /// What the last integrity repair found of an artifact's file.
    pub enum ArtifactState {
        /// The file is there (as far as anyone knows).
        Present = "present",
        /// The file was gone.
        Missing = "missing",
        /// The file's content no longer matched its SHA-256.
        Corrupt = "corrupt",
    }
}

/// A row of `artifacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Artifact {
    /// Primary key.
    pub id: ArtifactId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Task it belongs to.
    pub task_id: Option<TaskId>,
    /// Transcript it belongs to (plain text, no foreign key).
    pub transcript_id: Option<String>,
    /// What it is.
    pub kind: ArtifactKind,
    /// Display name (such as the original file name).
    pub name: String,
    /// MIME type of the original bytes.
    pub content_type: String,
    /// Size of the original bytes.
    pub size: i64,
    /// Size of the file on disk.
    pub stored_size: i64,
    /// SHA-256 of the original bytes (lowercase hex).
    pub sha256: String,
    /// How the file is stored.
    pub compression: Compression,
    /// What the last repair found.
    pub state: ArtifactState,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// An artifact to insert (after its file is in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<ArtifactId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Task it belongs to.
    pub task_id: Option<TaskId>,
    /// Transcript it belongs to.
    pub transcript_id: Option<String>,
    /// What it is.
    pub kind: ArtifactKind,
    /// Display name.
    pub name: String,
    /// MIME type of the original bytes.
    pub content_type: String,
    /// Size of the original bytes.
    pub size: i64,
    /// Size of the file on disk.
    pub stored_size: i64,
    /// SHA-256 of the original bytes (lowercase hex).
    pub sha256: String,
    /// How the file is stored.
    pub compression: Compression,
}

/// Expands to `query_as!(Artifact, $head + <every column> + $tail, args..)`.
macro_rules! query_artifacts {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Artifact,
            $head + r#" id AS "id: ArtifactId", project_id AS "project_id: ProjectId",
                      task_id AS "task_id?: TaskId", transcript_id AS "transcript_id?",
                      kind AS "kind: ArtifactKind", name, content_type, size, stored_size, sha256,
                      compression AS "compression: Compression", state AS "state: ArtifactState",
                      created_at AS "created_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts an artifact and returns the stored row, or `None` when the project already has an
/// artifact of this kind with this SHA-256 (then nothing is written; see [`find_by_hash`]).
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewArtifact) -> Result<Option<Artifact>> {
    let id = new.id.unwrap_or_else(ArtifactId::generate);
    let now = Timestamp::now();
    query_artifacts!(
        "INSERT INTO artifacts (id, project_id, task_id, transcript_id, kind, name, content_type, size,
                                stored_size, sha256, compression, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, kind, sha256) DO NOTHING RETURNING",
        "",
        id,
        new.project_id,
        new.task_id,
        new.transcript_id,
        new.kind,
        new.name,
        new.content_type,
        new.size,
        new.stored_size,
        new.sha256,
        new.compression,
        now,
    )
    .fetch_all(ex)
    .await
    .first_row(TABLE)
}

get_by_id!(query_artifacts, "artifacts", Artifact, ArtifactId);

/// The project's artifact of this kind with this SHA-256, if any.
pub async fn find_by_hash<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    kind: ArtifactKind,
    sha256: &str,
) -> Result<Option<Artifact>> {
    query_artifacts!(
        "SELECT",
        "FROM artifacts WHERE project_id = ? AND kind = ? AND sha256 = ?",
        project_id,
        kind,
        sha256
    )
    .fetch_optional(ex)
    .await
    .in_table(TABLE)
}

/// A project's artifacts (of one kind when `kind` is given), oldest first (ties by id).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    kind: Option<ArtifactKind>,
    page: Page,
) -> Result<Vec<Artifact>> {
    let (limit, offset) = (page.sql_limit(), page.sql_offset());
    query_artifacts!(
        "SELECT",
        "FROM artifacts WHERE project_id = ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY created_at, id LIMIT ?3 OFFSET ?4",
        project_id,
        kind,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Up to `limit` artifacts of every project with an id after `after` (all when `None`), by
/// id: keyset pages for walking the whole table.
pub async fn list_after<'e>(
    ex: impl SqliteExecutor<'e>,
    after: Option<&ArtifactId>,
    limit: u32,
) -> Result<Vec<Artifact>> {
    query_artifacts!(
        "SELECT",
        "FROM artifacts WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
        after,
        limit
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Records what a repair found of the artifact's file; returns whether the row exists.
pub async fn set_state<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &ArtifactId,
    state: ArtifactState,
) -> Result<bool> {
    let done = sqlx::query!("UPDATE artifacts SET state = ? WHERE id = ?", state, id)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    Ok(done.rows_affected() > 0)
}

/// Records a fresh file for an artifact whose file had gone (its content put again): how it is
/// stored now, and state `present`. Returns the updated row.
pub async fn set_stored<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &ArtifactId,
    compression: Compression,
    stored_size: i64,
) -> Result<Artifact> {
    query_artifacts!(
        "UPDATE artifacts SET compression = ?, stored_size = ?, state = 'present' WHERE id = ? RETURNING",
        "",
        compression,
        stored_size,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Deletes every artifact row of a project and returns them (their files are the caller's).
pub async fn delete_project<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
) -> Result<Vec<Artifact>> {
    query_artifacts!("DELETE FROM artifacts WHERE project_id = ? RETURNING", "", project_id)
        .fetch_all(ex)
        .await
        .in_table(TABLE)
}

/// Deletes the artifact rows with these ids and returns them (their files are the caller's).
pub async fn delete_many<'e>(ex: impl SqliteExecutor<'e>, ids: &[ArtifactId]) -> Result<Vec<Artifact>> {
    query_artifacts!(
        "DELETE FROM artifacts WHERE id IN (SELECT value FROM json_each(?)) RETURNING",
        "",
        sqlx::types::Json(ids)
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Artifacts of one kind in one project: how many, their original bytes and the bytes their
/// files take on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactUsage {
    /// The project.
    pub project_id: ProjectId,
    /// The kind.
    pub kind: ArtifactKind,
    /// Artifacts.
    pub rows: i64,
    /// Their original (logical) size.
    pub bytes: i64,
    /// What their files take (compressed where it paid).
    pub stored_bytes: i64,
}

/// Artifacts per project (or only `project`) and kind, by project then kind.
pub async fn usage<'e>(
    ex: impl SqliteExecutor<'e>,
    project: Option<&ProjectId>,
) -> Result<Vec<ArtifactUsage>> {
    sqlx::query_as!(
        ArtifactUsage,
        r#"SELECT project_id AS "project_id!: ProjectId", kind AS "kind!: ArtifactKind", count(*) AS "rows!: i64",
                  coalesce(sum(size), 0) AS "bytes!: i64", coalesce(sum(stored_size), 0) AS "stored_bytes!: i64"
           FROM artifacts WHERE ?1 IS NULL OR project_id = ?1
           GROUP BY project_id, kind ORDER BY project_id, kind"#,
        project
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("artifacts", ArtifactId);
