//! [`Store::stats`]: rows per table, full-text index sizes, vector collections, file size.

use nexus_db::SourceKind;
use nexus_fts::IndexStats;
use nexus_vector::CollectionStats;
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;

/// Row count of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: String,
    /// Its rows.
    pub rows: i64,
}

/// What the store holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStats {
    /// Rows of every table of the schema.
    pub tables: Vec<TableCount>,
    /// Each full-text index.
    pub fts: Vec<IndexStats>,
    /// The store's vector collection.
    pub vectors: CollectionStats,
    /// Size of the database in bytes (pages × page size).
    pub database_bytes: i64,
}

impl Store {
    /// Counts rows, measures indexes and the database.
    pub async fn stats(&self) -> Result<StoreStats> {
        let pool = self.db().reader();
        let health = self.db().health().await?;
        let mut tables = Vec::new();
        for table in health
            .tables
            .iter()
            .filter(|t| !t.contains("_fts") && !t.starts_with("vectors_") && !t.starts_with('_'))
        {
            // Table names come from sqlite_schema (health), never from user input.
            let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
            let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await
                .map_err(|e| nexus_db::DbError::from_sqlx("stats", e))?;
            tables.push(TableCount { table: table.clone(), rows });
        }
        let mut fts = Vec::new();
        for kind in SourceKind::ALL {
            fts.push(nexus_fts::stats(pool, *kind).await?);
        }
        let vectors = self.collection().stats(pool).await?;
        let database_bytes: i64 =
            sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
                .fetch_one(pool)
                .await
                .map_err(|e| nexus_db::DbError::from_sqlx("stats", e))?;
        Ok(StoreStats { tables, fts, vectors, database_bytes })
    }
}
