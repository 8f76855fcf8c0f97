//! Index upkeep: [`rebuild`], [`optimize`], [`integrity_check`] and [`stats`], per index.
//!
//! There is one FTS5 index per [`SourceKind`] ([`index_name`]). The triggers keep it in step
//! with its table, so none of this is needed in normal operation; `integrity_check` proves it,
//! `rebuild` repairs an index after writes that bypassed the triggers, and `optimize` merges
//! the index's segments into one after bulk loads (smaller and faster to query).
//! `rebuild`, `optimize` and `integrity_check` write, so run them on `db.writer()`.

use nexus_db::SourceKind;
use serde::Serialize;
use sqlx::SqliteExecutor;
use tracing::info;

use crate::error::{FtsError, Result};

/// The FTS5 table that indexes rows of `kind`.
pub const fn index_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Episode => "episodes_fts",
        SourceKind::CodeChunk => "code_chunks_fts",
        SourceKind::Requirement => "requirements_fts",
        SourceKind::Task => "tasks_fts",
        SourceKind::TranscriptEntry => "transcript_entries_fts",
    }
}

/// Runs `$run!(index, source)` with the literal names of `$kind`'s index and source table, so
/// each statement is a compile-time-checked `query!` with its table name spelled out.
macro_rules! per_index {
    ($kind:expr, $run:ident) => {
        match $kind {
            SourceKind::Episode => $run!("episodes_fts", "episodes"),
            SourceKind::CodeChunk => $run!("code_chunks_fts", "code_chunks"),
            SourceKind::Requirement => $run!("requirements_fts", "requirements"),
            SourceKind::Task => $run!("tasks_fts", "tasks"),
            SourceKind::TranscriptEntry => $run!("transcript_entries_fts", "transcript_entries"),
        }
    };
}

/// Re-indexes every row of the source table from scratch.
pub async fn rebuild<'e>(ex: impl SqliteExecutor<'e>, kind: SourceKind) -> Result<()> {
    macro_rules! run {
        ($index:literal, $source:literal) => {
            sqlx::query!("INSERT INTO " + $index + " (" + $index + ") VALUES ('rebuild')").execute(ex).await
        };
    }
    per_index!(kind, run).map_err(|e| FtsError::sqlx(index_name(kind), e))?;
    // A rebuild starts the index's records afresh: they could read as before while the rows
    // they index changed.
    crate::cache::forget(index_name(kind));
    info!(index = index_name(kind), "fts index rebuilt");
    Ok(())
}

/// Merges the index's b-tree segments into one.
pub async fn optimize<'e>(ex: impl SqliteExecutor<'e>, kind: SourceKind) -> Result<()> {
    macro_rules! run {
        ($index:literal, $source:literal) => {
            sqlx::query!("INSERT INTO " + $index + " (" + $index + ") VALUES ('optimize')").execute(ex).await
        };
    }
    per_index!(kind, run).map_err(|e| FtsError::sqlx(index_name(kind), e))?;
    Ok(())
}

/// Checks the index's structure and that it holds exactly the tokens of the source table's
/// current rows (FTS5 `integrity-check` with rank 1).
///
/// # Errors
/// [`FtsError::Corrupt`] when it does not; [`FtsError::Db`] for other failures.
pub async fn integrity_check<'e>(ex: impl SqliteExecutor<'e>, kind: SourceKind) -> Result<()> {
    macro_rules! run {
        ($index:literal, $source:literal) => {
            sqlx::query!("INSERT INTO " + $index + " (" + $index + ", rank) VALUES ('integrity-check', 1)")
                .execute(ex)
                .await
        };
    }
    let index = index_name(kind);
    match per_index!(kind, run) {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if is_corrupt(db.code().as_deref()) => {
            Err(FtsError::Corrupt { index, message: db.message().to_owned() })
        }
        Err(e) => Err(FtsError::sqlx(index, e)),
    }
}

/// SQLITE_CORRUPT (11) and its extended codes, such as SQLITE_CORRUPT_VTAB.
fn is_corrupt(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 11)
}

/// Size and coverage of one index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// The kind of rows indexed.
    pub kind: SourceKind,
    /// The FTS5 table.
    pub index: &'static str,
    /// Documents in the index.
    pub indexed_rows: i64,
    /// Rows in the source table (equal to `indexed_rows` when the index is in sync).
    pub source_rows: i64,
    /// Bytes of the database pages the index's own tables use.
    pub size_bytes: i64,
}

/// Reads an index's figures. Read-only: `db.reader()` will do.
pub async fn stats<'e>(ex: impl SqliteExecutor<'e>, kind: SourceKind) -> Result<IndexStats> {
    macro_rules! run {
        ($index:literal, $source:literal) => {
            sqlx::query!(
                "SELECT (SELECT count(*) FROM "
                    + $index
                    + "_docsize) AS \"indexed_rows!: i64\",
                        (SELECT count(*) FROM "
                    + $source
                    + ") AS \"source_rows!: i64\",
                        (SELECT coalesce(sum(pgsize), 0) FROM dbstat
                         WHERE name IN ('"
                    + $index
                    + "_data', '"
                    + $index
                    + "_idx', '"
                    + $index
                    + "_docsize', '"
                    + $index
                    + "_config')) AS \"size_bytes!: i64\""
            )
            .fetch_one(ex)
            .await
            .map(|r| (r.indexed_rows, r.source_rows, r.size_bytes))
        };
    }
    let index = index_name(kind);
    let (indexed_rows, source_rows, size_bytes) =
        per_index!(kind, run).map_err(|e| FtsError::sqlx(index, e))?;
    Ok(IndexStats { kind, index, indexed_rows, source_rows, size_bytes })
}

#[cfg(test)]
mod tests {
    use nexus_db::{FTS_INDEXES, SourceKind};

    use super::index_name;

    #[test]
    fn every_kind_names_an_index_of_the_schema() {
        for &kind in SourceKind::ALL {
            assert!(FTS_INDEXES.contains(&index_name(kind)), "{kind:?}: {}", index_name(kind));
        }
    }
}
