//! [`CollectionStats`]: how many vectors a collection holds per project and kind, and how many
//! bytes its tables use.

use nexus_db::SourceKind;
use serde::Serialize;
use sqlx::{AssertSqlSafe, SqlitePool};

use crate::collection::Collection;
use crate::error::{Result, VectorError};
use crate::spec::Element;

/// Vectors of one project and kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsGroup {
    /// The project.
    pub project_id: String,
    /// The kind of source row.
    pub kind: SourceKind,
    /// Number of vectors.
    pub count: u64,
}

/// The size of a collection, from [`Collection::stats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionStats {
    /// The collection's name.
    pub collection: String,
    /// Its embedding model.
    pub model: String,
    /// Its dimensions.
    pub dimensions: usize,
    /// Its element type.
    pub element: Element,
    /// Number of vectors.
    pub total: u64,
    /// Number of vectors per (project, kind), sorted by project then kind.
    pub groups: Vec<StatsGroup>,
    /// Bytes of database pages used by the collection's tables (vec0's chunks of vectors,
    /// metadata and rowid map; the float32 table of quantised collections). Includes space
    /// freed by deletes that sqlite-vec has not reused yet.
    pub bytes: u64,
}

impl CollectionStats {
    /// Vectors of `kind`, all projects together.
    pub fn count_kind(&self, kind: SourceKind) -> u64 {
        self.groups.iter().filter(|g| g.kind == kind).map(|g| g.count).sum()
    }

    /// Vectors of `project`, all kinds together.
    pub fn count_project(&self, project_id: &str) -> u64 {
        self.groups.iter().filter(|g| g.project_id == project_id).map(|g| g.count).sum()
    }
}

impl Collection {
    /// Counts the collection's vectors per project and kind and measures its size. Reads every
    /// row's partition and metadata (not the vectors): use it for reports, not per request.
    pub async fn stats(&self, pool: &SqlitePool) -> Result<CollectionStats> {
        let err = |e| VectorError::sqlx(self.name(), "stats", e);
        let rows: Vec<(String, SourceKind, i64)> =
            sqlx::query_as(AssertSqlSafe(self.sql.counts.clone())).fetch_all(pool).await.map_err(err)?;
        let bytes: i64 = sqlx::query_scalar(AssertSqlSafe(self.sql.bytes.clone()))
            .bind(self.sql.table_pattern())
            .fetch_one(pool)
            .await
            .map_err(err)?;
        let groups: Vec<StatsGroup> = rows
            .into_iter()
            .map(|(project_id, kind, count)| StatsGroup { project_id, kind, count: count.unsigned_abs() })
            .collect();
        Ok(CollectionStats {
            collection: self.name().to_owned(),
            model: self.model().to_owned(),
            dimensions: self.dimensions(),
            element: self.element(),
            total: groups.iter().map(|g| g.count).sum(),
            groups,
            bytes: bytes.unsigned_abs(),
        })
    }
}
