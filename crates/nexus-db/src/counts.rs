//! [`Db::table_counts`](crate::Db::table_counts): rows per table of the Nexus schema, the sizes
//! of the full-text indexes and of the vector tables, as typed data.
//!
//! The tables and indexes counted come from allow-lists of the schema the migrations create,
//! each with its SQL text fixed at compile time; vector tables are named from the integer ids of
//! the `vector_collections` registry, never from text.

use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::error::{DbError, Result};

/// Pairs each name with its constant counting statement (`$sql` + the name).
macro_rules! allow_list {
    ($sql:literal; $($name:literal),+ $(,)?) => {
        &[$(($name, concat!($sql, $name))),+]
    };
}

/// The tables of the Nexus schema (the migrations), sorted by name, with their count.
const TABLES: &[(&str, &str)] = allow_list!("SELECT count(*) FROM ";
    "access_writes", "agents", "api_keys", "artifacts", "checkpoints", "code_chunks", "continue_points", "embedding_cache", "episodes",
    "features", "history", "indexed_files", "knowledge_items", "metrics", "project_owners", "projects",
    "requirements", "research_sessions", "sessions", "sub_features", "tasks", "transcript_entries", "transcripts",
    "users", "vector_collections", "vector_generation", "vector_keys",
);

/// The FTS5 indexes of the Nexus schema (migrations `0003_fts.sql`, `0011_transcripts_fts.sql`,
/// `0012_users_research.sql`), sorted by name: the one list that `nexus check`, the counts
/// below and nexus-fts's per-kind names are tested against.
pub const FTS_INDEXES: &[&str] = &[
    "code_chunks_fts",
    "episodes_fts",
    "history_fts",
    "requirements_fts",
    "tasks_fts",
    "transcript_entries_fts",
];

/// The document-size shadow table of each of [`FTS_INDEXES`] with the count of its rows (one per
/// indexed document).
const FTS_COUNTS: &[(&str, &str)] = allow_list!("SELECT count(*) FROM ";
    "code_chunks_fts_docsize", "episodes_fts_docsize", "history_fts_docsize", "requirements_fts_docsize",
    "tasks_fts_docsize", "transcript_entries_fts_docsize",
);

/// Bytes of the pages of a table (bound) and of the tables whose names match a `LIKE` pattern
/// (bound: its shadow tables).
const BYTES: &str = "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? OR name LIKE ? ESCAPE '\\'";

/// Row count of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: String,
    /// Its rows.
    pub rows: i64,
}

/// The size of one full-text index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FtsCount {
    /// The FTS5 table (`episodes_fts`, …).
    pub index: String,
    /// Documents in the index.
    pub documents: i64,
    /// Bytes of the database pages its shadow tables use.
    pub bytes: i64,
}

/// The size of one vector collection's tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VectorTableCount {
    /// The collection's name in the registry.
    pub collection: String,
    /// Its vec0 table, `vectors_<id>`.
    pub table: String,
    /// Vectors in it.
    pub rows: i64,
    /// Bytes of the database pages its tables use (`vectors_<id>` and `vectors_<id>_*`).
    pub bytes: i64,
}

/// What [`Db::table_counts`](crate::Db::table_counts) reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    /// Rows of every table of the Nexus schema present in the database, sorted by name.
    pub tables: Vec<TableCount>,
    /// Each full-text index present.
    pub fts: Vec<FtsCount>,
    /// Each registered vector collection's table.
    pub vectors: Vec<VectorTableCount>,
    /// Size of the database in bytes (pages × page size).
    pub database_bytes: i64,
}

/// Counts through `pool` (read-only).
pub(crate) async fn count(pool: &SqlitePool) -> Result<TableCounts> {
    let ctx = |e| DbError::from_sqlx("table counts", e);
    let present: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .fetch_all(pool)
        .await
        .map_err(ctx)?;
    let exists = |name: &str| present.iter().any(|p| p == name);

    let mut tables = Vec::with_capacity(TABLES.len());
    for &(table, sql) in TABLES.iter().filter(|(t, _)| exists(t)) {
        let rows: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.map_err(ctx)?;
        tables.push(TableCount { table: table.to_owned(), rows });
    }

    let mut fts = Vec::with_capacity(FTS_COUNTS.len());
    for &(docsize, sql) in FTS_COUNTS.iter().filter(|(t, _)| exists(t)) {
        let index = docsize.trim_end_matches("_docsize");
        let documents: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.map_err(ctx)?;
        let bytes = bytes_like(pool, index).await?;
        fts.push(FtsCount { index: index.to_owned(), documents, bytes });
    }

    let mut vectors = Vec::new();
    if exists("vector_collections") {
        let collections: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM vector_collections ORDER BY name")
                .fetch_all(pool)
                .await
                .map_err(ctx)?;
        for (id, collection) in collections {
            // The only identifier built at run time: from the registry's integer id.
            let table = format!("vectors_{id}");
            if !exists(&table) {
                continue;
            }
            let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM ");
            count.push(&table);
            let rows: i64 = count.build_query_scalar().fetch_one(pool).await.map_err(ctx)?;
            let bytes = bytes_like(pool, &table).await?;
            vectors.push(VectorTableCount { collection, table, rows, bytes });
        }
    }

    let database_bytes: i64 =
        sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            .fetch_one(pool)
            .await
            .map_err(ctx)?;
    Ok(TableCounts { tables, fts, vectors, database_bytes })
}

/// Bytes of the pages of `table` and its shadow tables `table_*`.
async fn bytes_like(pool: &SqlitePool, table: &str) -> Result<i64> {
    let shadows = format!("{}\\_%", table.replace('_', "\\_"));
    sqlx::query_scalar(BYTES)
        .bind(table)
        .bind(shadows)
        .fetch_one(pool)
        .await
        .map_err(|e| DbError::from_sqlx("table counts", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_are_sorted_and_constant() {
        assert!(TABLES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(TABLES.iter().all(|(t, sql)| *sql == format!("SELECT count(*) FROM {t}")));
        let counted: Vec<&str> = FTS_COUNTS.iter().map(|(t, _)| t.trim_end_matches("_docsize")).collect();
        assert_eq!(counted, FTS_INDEXES, "one docsize table per FTS index, same order");
        assert!(FTS_INDEXES.windows(2).all(|w| w[0] < w[1]));
    }
}
