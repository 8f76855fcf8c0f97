//! `indexed_files`: which files of a project the code index holds, with their content hash,
//! so re-indexing can skip unchanged files and remove deleted ones.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use crate::error::{Result, ResultExt};
use crate::{ProjectId, Timestamp};

const TABLE: &str = "indexed_files";

/// A row of `indexed_files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct IndexedFile {
    /// Owning project.
    pub project_id: ProjectId,
    /// Path relative to the indexed root, `/`-separated.
    pub path: String,
    /// SHA-256 of the file's content (hex).
    pub hash: String,
    /// Detected language.
    pub language: String,
    /// Number of chunks stored for it.
    pub chunks: i64,
    /// File size in bytes.
    pub bytes: i64,
    /// When it was indexed.
    pub indexed_at: Timestamp,
}

/// Every indexed file of a project, by path.
pub async fn list<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId) -> Result<Vec<IndexedFile>> {
    sqlx::query_as!(
        IndexedFile,
        r#"SELECT project_id AS "project_id: ProjectId", path, hash, language, chunks, bytes, indexed_at AS "indexed_at: Timestamp"
           FROM indexed_files WHERE project_id = ? ORDER BY path"#,
        project_id
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Records (or replaces) a file's entry.
pub async fn upsert<'e>(ex: impl SqliteExecutor<'e>, file: &IndexedFile) -> Result<()> {
    sqlx::query!(
        "INSERT INTO indexed_files (project_id, path, hash, language, chunks, bytes, indexed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, path) DO UPDATE SET hash = excluded.hash, language = excluded.language,
             chunks = excluded.chunks, bytes = excluded.bytes, indexed_at = excluded.indexed_at",
        file.project_id,
        file.path,
        file.hash,
        file.language,
        file.chunks,
        file.bytes,
        file.indexed_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    Ok(())
}

/// Forgets a file; returns whether it was there.
pub async fn delete<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId, path: &str) -> Result<bool> {
    let done = sqlx::query!("DELETE FROM indexed_files WHERE project_id = ? AND path = ?", project_id, path)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    Ok(done.rows_affected() > 0)
}
