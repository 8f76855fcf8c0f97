//! The registry table `vector_collections` (migration 0002): one row per collection, with the
//! model, dimensions, metric and element type its vectors were made with.

use nexus_db::{DbError, ResultExt, ReturningExt, Timestamp};
use serde::Serialize;
use sqlx::SqliteExecutor;

use crate::error::{Result, VectorError};
use crate::spec::{CollectionSpec, Element, Metric};

const TABLE: &str = "vector_collections";

/// A registered collection (a row of `vector_collections`): its id, its [`CollectionSpec`] (with
/// the registered `int8_range`) and when it was created.
///
/// Serialised flat: `{"id", "name", "model", "dimensions", "metric", "element", "int8_range",
/// "created_at"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectionInfo {
    /// Integer id; the collection's vec0 table is `vectors_<id>`.
    pub id: i64,
    /// What the collection is: name, model, dimensions, metric, element type and int8 range.
    #[serde(flatten)]
    pub spec: CollectionSpec,
    /// When the collection was created.
    pub created_at: Timestamp,
}

/// A row of `vector_collections`, as read.
struct Row {
    id: i64,
    name: String,
    model: String,
    dimensions: u32,
    metric: Metric,
    element: Element,
    int8_range: Option<f32>,
    created_at: Timestamp,
}

impl From<Row> for CollectionInfo {
    fn from(row: Row) -> Self {
        let spec = CollectionSpec {
            name: row.name,
            model: row.model,
            // Lossless: u32 fits in usize on every target Nexus builds for.
            dimensions: row.dimensions as usize,
            metric: row.metric,
            element: row.element,
            int8_range: row.int8_range,
        };
        Self { id: row.id, spec, created_at: row.created_at }
    }
}

/// Expands to `query_as!(Row, $head + <every column> + $tail, args..)`.
macro_rules! query_collections {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Row,
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
        .in_table(TABLE)?
        .map(CollectionInfo::from))
}

/// Registers a collection (already validated) and returns its row.
pub(crate) async fn insert<'e>(
    ex: impl SqliteExecutor<'e>,
    spec: &CollectionSpec,
    int8_range: Option<f32>,
) -> Result<CollectionInfo> {
    let now = Timestamp::now();
    let dimensions = u32::try_from(spec.dimensions).map_err(|_| VectorError::InvalidSpec {
        collection: spec.name.clone(),
        reason: format!("{} dimensions do not fit the registry", spec.dimensions),
    })?;
    Ok(query_collections!(
        "INSERT INTO vector_collections (name, model, dimensions, metric, element, int8_range, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        spec.name,
        spec.model,
        dimensions,
        spec.metric,
        spec.element,
        int8_range,
        now,
    )
    .fetch_all(ex)
    .await
    .first_row(TABLE)?
    .map(CollectionInfo::from)
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
        .in_table(TABLE)?
        .into_iter()
        .map(CollectionInfo::from)
        .collect())
}
