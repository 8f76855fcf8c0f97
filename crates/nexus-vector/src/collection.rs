//! [`Collection`]: one embedding space — opening or creating it, and writing its vectors.

use std::sync::Arc;

use nexus_db::{Db, DbError, SourceKind};
use sqlx::{Acquire, AssertSqlSafe, Connection, Sqlite, SqliteConnection, SqliteExecutor};
use tracing::{debug, info};

use crate::encode;
use crate::error::{Result, VectorError};
use crate::keys;
use crate::registry::{self, CollectionInfo};
use crate::resident::{self, Resident};
use crate::spec::{CollectionSpec, Element, Metric};
use crate::sql::CollectionSql;

/// A vector to store: the source row it belongs to, the vector, and an optional label.
///
/// ```
/// use nexus_db::SourceKind;
/// use nexus_vector::Item;
/// let vector = [0.1, 0.2, 0.3];
/// let item = Item::new(SourceKind::Episode, "episode-1", &vector).label("error_fix");
/// assert_eq!(item.label, "error_fix");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item<'a> {
    /// The kind of the source row.
    pub kind: SourceKind,
    /// The id of the source row. The row must exist; the vector is filed under its project.
    pub id: &'a str,
    /// The embedding.
    pub vector: &'a [f32],
    /// A free-form category to filter on (for example the episode type or the code language);
    /// empty for none.
    pub label: &'a str,
}

impl<'a> Item<'a> {
    /// An item without a label.
    pub fn new(kind: SourceKind, id: &'a str, vector: &'a [f32]) -> Self {
        Self { kind, id, vector, label: "" }
    }

    /// Sets the label.
    pub fn label(mut self, label: &'a str) -> Self {
        self.label = label;
        self
    }
}

/// One embedding space: its registry row and the SQL of its vec0 table. Cheap to clone.
///
/// Open it with [`Collection::open_or_create`] (or [`Collection::open`]); write with
/// [`Collection::upsert`] and [`Collection::delete`] inside the caller's transaction; search
/// with [`Collection::knn`] from the reader pool; measure with [`Collection::stats`].
#[derive(Debug, Clone)]
pub struct Collection {
    pub(crate) info: Arc<CollectionInfo>,
    pub(crate) sql: Arc<CollectionSql>,
    /// The resident copies of its partitions ([`crate::resident`]), shared by the clones.
    pub(crate) resident: Arc<Resident>,
}

impl Collection {
    fn from_info(info: CollectionInfo) -> Self {
        let sql = CollectionSql::new(&info);
        Self { info: Arc::new(info), sql: Arc::new(sql), resident: Arc::default() }
    }

    /// Opens the collection `spec.name`, creating it (registry row, vec0 table, delete
    /// trigger) in one write transaction when it does not exist.
    ///
    /// An existing collection must match `spec`: another model, dimensions, metric or
    /// element type is [`VectorError::SpecMismatch`], so vectors of two embedding spaces are
    /// never mixed.
    ///
    /// An existing collection is found with a read (no write lock is taken, so this works on a
    /// read-only database and while another process writes). Creating one uses the writer: do
    /// not call it while holding a transaction from [`Db::begin`].
    pub async fn open_or_create(db: &Db, spec: &CollectionSpec) -> Result<Self> {
        spec.validate()?;
        if let Some(info) = registry::find(db.reader(), &spec.name).await? {
            return Self::opened(info, spec);
        }
        let mut tx = db.begin().await?;
        // Another process may have created it since the read above.
        if let Some(info) = registry::find(&mut *tx, &spec.name).await? {
            tx.commit().await.map_err(|e| DbError::from_sqlx("commit", e))?;
            return Self::opened(info, spec);
        }
        let info = registry::insert(&mut *tx, spec, spec.int8_range_to_register()?).await?;
        let collection = Self::from_info(info);
        for ddl in collection.sql.create_statements(&collection.info) {
            sqlx::raw_sql(AssertSqlSafe(ddl))
                .execute(&mut *tx)
                .await
                .map_err(|e| VectorError::sqlx(&spec.name, "create", e))?;
        }
        tx.commit().await.map_err(|e| DbError::from_sqlx("commit", e))?;
        info!(collection = %spec.name, table = %collection.sql.table, model = %spec.model,
              dimensions = spec.dimensions, "vector collection created");
        Ok(collection)
    }

    /// The collection of an existing registry row, which must match `spec`.
    fn opened(info: CollectionInfo, spec: &CollectionSpec) -> Result<Self> {
        check_matches(&info, spec)?;
        debug!(collection = %info.spec.name, "vector collection opened");
        Ok(Self::from_info(info))
    }

    /// Opens the registered collection `name`, or [`VectorError::UnknownCollection`].
    pub async fn open<'e>(ex: impl SqliteExecutor<'e>, name: &str) -> Result<Self> {
        crate::spec::validate_name(name)?;
        registry::find(ex, name)
            .await?
            .map(Self::from_info)
            .ok_or_else(|| VectorError::UnknownCollection { name: name.to_owned() })
    }

    /// Deletes the collection: its vectors, its vec0 table, its trigger and its registry row.
    /// Source rows and their keys stay.
    pub async fn remove(self, db: &Db) -> Result<()> {
        let mut tx = db.begin().await?;
        for statement in self.sql.drop_statements() {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(|e| VectorError::sqlx(self.name(), "remove", e))?;
        }
        registry::delete(&mut *tx, self.info.id).await?;
        resident::bump(&mut tx, self.name()).await?;
        tx.commit().await.map_err(|e| DbError::from_sqlx("commit", e))?;
        info!(collection = %self.name(), "vector collection removed");
        Ok(())
    }

    /// The registry row.
    pub fn info(&self) -> &CollectionInfo {
        &self.info
    }

    /// What the collection is: name, model, dimensions, metric, element type, int8 range.
    pub fn spec(&self) -> &CollectionSpec {
        &self.info.spec
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.info.spec.name
    }

    /// The embedding model.
    pub fn model(&self) -> &str {
        &self.info.spec.model
    }

    /// Dimensions of every vector.
    pub fn dimensions(&self) -> usize {
        self.info.spec.dimensions
    }

    /// The distance metric.
    pub fn metric(&self) -> Metric {
        self.info.spec.metric
    }

    /// The element type of the scanned vectors.
    pub fn element(&self) -> Element {
        self.info.spec.element
    }

    /// The vec0 table's name (`vectors_<id>`), for diagnostics.
    pub fn table(&self) -> &str {
        &self.sql.table
    }

    /// Stores (or replaces) the vector of a source row, in one savepoint on `conn`: pass
    /// `&mut *tx` to write it in the same transaction as the row, so both commit or roll back
    /// together.
    ///
    /// The row must exist ([`VectorError::SourceNotFound`]); the vector is filed under the
    /// row's project. Vectors of the wrong length, with NaN or infinite values, or all zeros in
    /// a cosine collection are [`VectorError::InvalidVector`] and nothing is written.
    #[tracing::instrument(level = "debug", skip_all, fields(collection = %self.name(), kind = %item.kind, id = item.id))]
    pub async fn upsert(&self, conn: &mut SqliteConnection, item: Item<'_>) -> Result<()> {
        self.write(conn, item, false).await
    }

    /// Stores a vector exactly as read from this or another collection of the same spec (an
    /// archive being imported): like [`upsert`](Self::upsert), but a cosine collection's
    /// vector is taken as already normalised, so its stored bits are the ones given.
    pub async fn restore(&self, conn: &mut SqliteConnection, item: Item<'_>) -> Result<()> {
        self.write(conn, item, true).await
    }

    /// `upsert` (prepared: the vector is stored as given, not normalised again).
    async fn write(&self, conn: &mut SqliteConnection, item: Item<'_>, prepared: bool) -> Result<()> {
        let subject = || format!("{} {:?}", item.kind, item.id);
        let invalid = |problem| VectorError::InvalidVector {
            collection: self.name().to_owned(),
            subject: subject(),
            problem,
        };
        let metric = if prepared { Metric::L2 } else { self.metric() };
        let vector = encode::prepare(item.vector, self.dimensions(), metric).map_err(invalid)?;
        let float = encode::f32_bytes(&vector);
        let quantized = self.quantize(&vector);
        let sqlx_err = |operation| move |e| VectorError::sqlx(self.name(), operation, e);

        let mut tx = Connection::begin(conn).await.map_err(|e| DbError::from_sqlx("savepoint", e))?;
        let project = keys::source_project(&mut tx, item.kind, item.id).await?;
        let key = keys::ensure_key(&mut tx, item.kind, item.id).await?;
        let stored_project: Option<String> = sqlx::query_scalar(AssertSqlSafe(self.sql.project_of.clone()))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(sqlx_err("read"))?;
        // vec0 cannot move a row to another partition, and loses the element type of a
        // quantised vector given to UPDATE (it only survives INSERT): those cases delete and
        // insert. Float32 vectors in the same project are replaced in place.
        if quantized.is_none() && stored_project.as_deref() == Some(project.as_str()) {
            sqlx::query(AssertSqlSafe(self.sql.update.clone()))
                .bind(item.label)
                .bind(float)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(sqlx_err("update"))?;
        } else {
            if stored_project.is_some() {
                sqlx::query(AssertSqlSafe(self.sql.delete_key.clone()))
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(sqlx_err("delete"))?;
            }
            let insert = sqlx::query(AssertSqlSafe(self.sql.insert.clone()))
                .bind(key)
                .bind(&project)
                .bind(item.kind)
                .bind(item.label);
            let insert = match &quantized {
                Some(quantized) => insert.bind(quantized.as_slice()),
                None => insert.bind(float),
            };
            insert.execute(&mut *tx).await.map_err(sqlx_err("insert"))?;
        }
        if let Some(store_float) = &self.sql.store_float {
            sqlx::query(AssertSqlSafe(store_float.clone()))
                .bind(key)
                .bind(float)
                .execute(&mut *tx)
                .await
                .map_err(sqlx_err("store float32"))?;
        }
        resident::bump(&mut tx, self.name()).await?;
        tx.commit().await.map_err(|e| DbError::from_sqlx("release savepoint", e))?;
        Ok(())
    }

    /// Deletes the vector of a source row. Returns whether there was one.
    ///
    /// Deleting the source row itself (or its project) deletes its vectors in every
    /// collection automatically; this is for dropping a vector while keeping the row.
    #[tracing::instrument(level = "debug", skip_all, fields(collection = %self.name(), %kind, id))]
    pub async fn delete<'e>(
        &self,
        ex: impl Acquire<'e, Database = Sqlite>,
        kind: SourceKind,
        id: &str,
    ) -> Result<bool> {
        let mut tx = ex.begin().await.map_err(|e| DbError::from_sqlx("begin", e))?;
        let done = sqlx::query(AssertSqlSafe(self.sql.delete_source.clone()))
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| VectorError::sqlx(self.name(), "delete", e))?;
        if done.rows_affected() > 0 {
            resident::bump(&mut tx, self.name()).await?;
        }
        tx.commit().await.map_err(|e| DbError::from_sqlx("release savepoint", e))?;
        Ok(done.rows_affected() > 0)
    }

    /// The quantised copy of a prepared vector, for int8 and bit collections.
    pub(crate) fn quantize(&self, vector: &[f32]) -> Option<Vec<u8>> {
        match self.element() {
            Element::Float32 => None,
            // The registry guarantees a range for int8 collections (CHECK constraint).
            Element::Int8 => Some(encode::quantize_int8(vector, self.info.spec.int8_range.unwrap_or(1.0))),
            Element::Bit => Some(encode::quantize_bits(vector)),
        }
    }
}

/// Checks that the registered collection `info` is the embedding space `spec` asks for.
fn check_matches(info: &CollectionInfo, spec: &CollectionSpec) -> Result<()> {
    let info = &info.spec;
    let mismatch = |field, existing: String, requested: String| {
        Err(VectorError::SpecMismatch { collection: info.name.clone(), field, existing, requested })
    };
    if info.model != spec.model {
        return mismatch("model", info.model.clone(), spec.model.clone());
    }
    if info.dimensions != spec.dimensions {
        return mismatch("dimensions", info.dimensions.to_string(), spec.dimensions.to_string());
    }
    if info.metric != spec.metric {
        return mismatch("metric", info.metric.as_str().into(), spec.metric.as_str().into());
    }
    if info.element != spec.element {
        return mismatch("element", info.element.as_str().into(), spec.element.as_str().into());
    }
    match (info.int8_range, spec.int8_range) {
        (Some(existing), Some(requested)) if existing != requested => {
            mismatch("int8_range", existing.to_string(), requested.to_string())
        }
        _ => Ok(()),
    }
}
