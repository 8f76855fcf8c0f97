//! Source rows and their integer keys. A vector belongs to a row of `episodes`, `code_chunks`,
//! `requirements` or `tasks`, named by `(SourceKind, TEXT id)`; vec0 rowids are integers, so
//! `vector_keys` gives each such row one integer key, used as its rowid in every collection.
//! Deleting the row deletes the key (migration 0002 triggers) and the key's vectors
//! (each collection's trigger).

use nexus_db::{DbError, ResultExt, ReturningExt, SourceKind};
use sqlx::SqliteConnection;

use crate::error::{Result, VectorError};

const TABLE: &str = "vector_keys";

/// The project of source row `(kind, id)`, or [`VectorError::SourceNotFound`].
pub(crate) async fn source_project(
    conn: &mut SqliteConnection,
    kind: SourceKind,
    id: &str,
) -> Result<String> {
    if !kind.has_vectors() {
        return Err(VectorError::NotEmbeddable { kind });
    }
    let project = match kind {
        SourceKind::Episode => {
            sqlx::query_scalar!("SELECT project_id FROM episodes WHERE id = ?", id).fetch_optional(conn).await
        }
        SourceKind::CodeChunk => {
            sqlx::query_scalar!("SELECT project_id FROM code_chunks WHERE id = ?", id)
                .fetch_optional(conn)
                .await
        }
        SourceKind::Requirement => {
            sqlx::query_scalar!("SELECT project_id FROM requirements WHERE id = ?", id)
                .fetch_optional(conn)
                .await
        }
        SourceKind::Task => {
            sqlx::query_scalar!("SELECT project_id FROM tasks WHERE id = ?", id).fetch_optional(conn).await
        }
        SourceKind::TranscriptEntry => Ok(None),
    };
    project.in_table(kind.table())?.ok_or_else(|| VectorError::SourceNotFound { kind, id: id.to_owned() })
}

/// The key of `(kind, id)`, created when the row has none yet.
pub(crate) async fn ensure_key(conn: &mut SqliteConnection, kind: SourceKind, id: &str) -> Result<i64> {
    let existing =
        sqlx::query_scalar!("SELECT key FROM vector_keys WHERE kind = ? AND source_id = ?", kind, id)
            .fetch_optional(&mut *conn)
            .await
            .in_table(TABLE)?;
    if let Some(key) = existing {
        return Ok(key);
    }
    Ok(sqlx::query_scalar!("INSERT INTO vector_keys (kind, source_id) VALUES (?, ?) RETURNING key", kind, id)
        .fetch_all(conn)
        .await
        .first_row(TABLE)?
        .ok_or_else(|| DbError::not_found(TABLE, id))?)
}
