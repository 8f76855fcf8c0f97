//! [`Store::stats`]: rows per table ([`nexus_db::Db::table_counts`]), full-text index sizes,
//! the store's vector collection, file size.

use nexus_db::SourceKind;
use nexus_fts::IndexStats;
use nexus_vector::CollectionStats;
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;

pub use nexus_db::TableCount;

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
        let counts = self.db().table_counts().await?;
        let mut fts = Vec::new();
        for kind in SourceKind::ALL {
            fts.push(nexus_fts::stats(pool, *kind).await?);
        }
        let vectors = self.collection().stats(pool).await?;
        Ok(StoreStats { tables: counts.tables, fts, vectors, database_bytes: counts.database_bytes })
    }
}
