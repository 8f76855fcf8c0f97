//! The registry table `vector_collections` (migration 0002): one row per collection, with the
//! model, dimensions, metric and element type its vectors were made with.

use nexus_db::{DbError, ResultExt, ReturningExt, Timestamp};
use serde::Serialize;
use sqlx::SqliteExecutor;

use crate::error::Result;
use crate::spec::{CollectionSpec, Element, Metric};

const TABLE: &str = "vector_collections";

/// A registered collection (a row of `vector_collections`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CollectionInfo {
    /// Integer id; the collection's vec0 table is `vectors_<id>`.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Embedding model.
    pub model: String,
    /// Dimensions of every vector.
    pub dimensions: u32,
    /// Distance metric.
    pub metric: Metric,
    /// Element type of the scanned vectors.
    pub element: Element,
    /// int8 quantisation range (int8 collections only).
    pub int8_range: Option<f32>,
    /// When the collection was created.
    pub created_at: Timestamp,
}

/// Expands to `query_as!(CollectionInfo, $head + <every column> + $tail, args..)`.
macro_rules! query_collections {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            CollectionInfo,
            $head + r#" id, name, model, dimensions AS "dimensions: u32", metric AS "metric: Metric",
                      element AS "element: Element", int8_range AS "int8_range?: f32",
                      created_at AS "created_at: Timestamp" "# + $tail
            $(, $arg)*
        )
    };
}

/// The collection named `name`, if registered.
pub(crate) async fn find<'e>(ex: impl SqliteExecutor<'e>, name: &str) -> Result<Option<CollectionInfo>> {
    Ok(query_collections!("SELECT", "FROM vector_collections WHERE name = ?", name)
        .fetch_optional(ex)
        .await
        .in_table(TABLE)?)
}

/// Registers a collection (already validated) and returns its row.
pub(crate) async fn insert<'e>(
    ex: impl SqliteExecutor<'e>,
    spec: &CollectionSpec,
    int8_range: Option<f32>,
) -> Result<CollectionInfo> {
    let now = Timestamp::now();
    Ok(query_collections!(
        "INSERT INTO vector_collections (name, model, dimensions, metric, element, int8_range, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        spec.name,
        spec.model,
        spec.dimensions,
        spec.metric,
        spec.element,
        int8_range,
        now,
    )
    .fetch_all(ex)
    .await
    .first_row(TABLE)?
    .ok_or_else(|| DbError::not_found(TABLE, spec.name.clone()))?)
}

/// Removes the registry row of collection `id`.
pub(crate) async fn delete<'e>(ex: impl SqliteExecutor<'e>, id: i64) -> Result<()> {
    sqlx::query!("DELETE FROM vector_collections WHERE id = ?", id).execute(ex).await.in_table(TABLE)?;
    Ok(())
}

/// Every registered collection, by name.
pub async fn list<'e>(ex: impl SqliteExecutor<'e>) -> Result<Vec<CollectionInfo>> {
    Ok(query_collections!("SELECT", "FROM vector_collections ORDER BY name")
        .fetch_all(ex)
        .await
        .in_table(TABLE)?)
}
