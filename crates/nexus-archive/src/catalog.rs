//! Which tables an archive holds and how their rows are found for one project, which tables it
//! deliberately leaves out, and the columns of each (read from the live schema, so a column
//! added by a later migration is archived without a change here).
//!
//! Every table of the schema must be in [`ARCHIVED`] or [`NOT_ARCHIVED`] (full-text and vector
//! index tables aside): an export of a database holding any other table fails with
//! [`ArchiveError::UnknownTable`] instead of silently leaving its rows behind.

use sqlx::{AssertSqlSafe, SqliteConnection};

use crate::error::{ArchiveError, Result, sql};

/// An archived table: its name and how its rows of one project are selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchivedTable {
    /// The table.
    pub name: &'static str,
    /// `WHERE` condition selecting one project's rows; `?1` is the project id.
    pub filter: &'static str,
    /// `ORDER BY` of its rows (the primary key: archives of the same rows are the same bytes).
    pub order: &'static str,
}

/// Shorthand for a table with a `project_id` column and a TEXT `id` primary key.
const fn owned(name: &'static str) -> ArchivedTable {
    ArchivedTable { name, filter: "project_id = ?1", order: "id" }
}

/// The tables an archive holds, parents before children.
pub const ARCHIVED: &[ArchivedTable] = &[
    ArchivedTable { name: "projects", filter: "id = ?1", order: "id" },
    owned("features"),
    ArchivedTable {
        name: "sub_features",
        filter: "feature_id IN (SELECT id FROM features WHERE project_id = ?1)",
        order: "id",
    },
    owned("tasks"),
    owned("requirements"),
    owned("checkpoints"),
    owned("metrics"),
    owned("sessions"),
    owned("episodes"),
    owned("continue_points"),
    owned("code_chunks"),
    ArchivedTable { name: "indexed_files", filter: "project_id = ?1", order: "path" },
    owned("transcripts"),
    ArchivedTable {
        name: "transcript_entries",
        filter: "transcript_id IN (SELECT id FROM transcripts WHERE project_id = ?1)",
        order: "id",
    },
    owned("artifacts"),
];

/// Tables an archive leaves out, with the reason.
pub const NOT_ARCHIVED: &[(&str, &str)] = &[
    ("_sqlx_migrations", "the migration history of this file; the manifest records the version"),
    ("access_writes", "a counter of this file's access-statistics writes (recall), moved by later writes"),
    ("agents", "agents are running processes of one installation, not project data"),
    ("embedding_cache", "a cache keyed by text hash, refilled on demand"),
    ("vector_collections", "written from the manifest's collections on import"),
    ("vector_generation", "a counter of this file's vector writes (resident copies), moved by the import's"),
    ("vector_keys", "re-created with each imported vector"),
    // The HTTP API's users and their research domain (migration 0012) belong to one
    // installation's accounts, not to a project; the importing server assigns ownership.
    ("users", "accounts of one installation (`nexus serve`), not project data"),
    ("api_keys", "secrets of one installation's users; never exported"),
    ("project_owners", "which installation user owns a project; the importing server assigns it"),
    ("knowledge_items", "a user's research knowledge, not project data"),
    ("research_sessions", "a user's research sessions, not project data"),
    ("history", "a user's research history, not project data"),
];

/// True for the tables of full-text and vector indexes (rebuilt from the rows and vectors).
fn is_index_table(name: &str) -> bool {
    name.starts_with("sqlite_")
        || name.contains("_fts")
        || (name.starts_with("vectors_") && name[8..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The archived table named `name`.
pub(crate) fn archived(name: &str) -> Option<&'static ArchivedTable> {
    ARCHIVED.iter().find(|t| t.name == name)
}

/// Fails with [`ArchiveError::UnknownTable`] when the database has a table that is neither
/// archived nor deliberately left out.
pub(crate) async fn check_known(conn: &mut SqliteConnection) -> Result<()> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .map_err(sql("sqlite_schema"))?;
    for table in tables {
        let known = is_index_table(&table)
            || archived(&table).is_some()
            || NOT_ARCHIVED.iter().any(|(name, _)| *name == table);
        if !known {
            return Err(ArchiveError::UnknownTable(table));
        }
    }
    Ok(())
}

/// A column of a table, from `PRAGMA table_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// True for an `INTEGER PRIMARY KEY` (a rowid alias: given a fresh value on import when
    /// another row holds it).
    pub integer_key: bool,
}

/// The columns of `table` in declaration order.
pub async fn columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<Column>> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, upper(type), pk FROM pragma_table_info(?1) ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(sql("pragma_table_info"))?;
    let keys = rows.iter().filter(|(_, _, pk)| *pk > 0).count();
    Ok(rows
        .into_iter()
        .map(|(name, kind, pk)| Column { name, integer_key: keys == 1 && pk == 1 && kind == "INTEGER" })
        .collect())
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `SELECT <columns> FROM <table> WHERE <filter> ORDER BY <order>`.
pub(crate) fn select(table: &ArchivedTable, columns: &[Column]) -> AssertSqlSafe<String> {
    let list: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    AssertSqlSafe(format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {}",
        list.join(", "),
        quote(table.name),
        table.filter,
        table.order
    ))
}
