//! KNN search: a [`KnnQuery`] — k, an optional maximum distance, and project / kind / label
//! filters that sqlite-vec applies inside its scan — answered with [`Neighbor`]s.

use std::borrow::Cow;

use nexus_db::{InterruptGuard, Json, SourceKind};
use serde::Serialize;
use sqlx::{Acquire, QueryBuilder, Sqlite, SqlitePool};

use crate::collection::Collection;
use crate::encode;
use crate::error::{Result, VectorError};
use crate::spec::Metric;

/// Largest `k` sqlite-vec answers (also the cap of `k × oversample`).
pub const MAX_K: u32 = 4096;

/// A nearest-neighbour query. Build it with [`KnnQuery::new`] and the filter methods.
///
/// Filters are applied by sqlite-vec while it scans, not to its results: asking for 10
/// neighbours of a kind that is 1 % of the collection returns 10 when 10 exist. Project and
/// kind are vec0 partition keys, so vectors of other projects and kinds are not even read;
/// labels are checked per vector before its distance is computed.
///
/// ```
/// use nexus_db::SourceKind;
/// use nexus_vector::KnnQuery;
/// let embedding = vec![0.0_f32; 384];
/// let query = KnnQuery::new(&embedding, 10)
///     .project("project-1")
///     .kinds(&[SourceKind::Episode])
///     .max_distance(0.6);
/// assert_eq!(query.k, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnQuery<'a> {
    /// The query vector (same dimensions as the collection).
    pub vector: &'a [f32],
    /// How many neighbours to return at most (1 to [`MAX_K`]).
    pub k: u32,
    /// Only neighbours at this distance or closer (in the collection's metric).
    pub max_distance: Option<f32>,
    /// Only vectors of this project.
    pub project: Option<&'a str>,
    /// Only vectors of these kinds (empty: all kinds).
    pub kinds: &'a [SourceKind],
    /// Only vectors with one of these labels (empty: any label).
    pub labels: &'a [&'a str],
    /// Quantised collections: candidates scanned per result before exact rescoring
    /// (default [`Element::default_oversample`]). Higher is slower and more accurate.
    pub oversample: Option<u32>,
}

impl<'a> KnnQuery<'a> {
    /// The `k` nearest neighbours of `vector`, unfiltered.
    pub fn new(vector: &'a [f32], k: u32) -> Self {
        Self { vector, k, max_distance: None, project: None, kinds: &[], labels: &[], oversample: None }
    }

    /// Only neighbours at `distance` or closer.
    pub fn max_distance(mut self, distance: f32) -> Self {
        self.max_distance = Some(distance);
        self
    }

    /// Only vectors of `project`.
    pub fn project(mut self, project: &'a str) -> Self {
        self.project = Some(project);
        self
    }

    /// Only vectors of these kinds.
    pub fn kinds(mut self, kinds: &'a [SourceKind]) -> Self {
        self.kinds = kinds;
        self
    }

    /// Only vectors with one of these labels.
    pub fn labels(mut self, labels: &'a [&'a str]) -> Self {
        self.labels = labels;
        self
    }

    /// Candidates per result for quantised collections.
    pub fn oversample(mut self, factor: u32) -> Self {
        self.oversample = Some(factor);
        self
    }
}

/// A search result: the source row and its distance to the query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbor {
    /// The source row's kind.
    pub kind: SourceKind,
    /// The source row's id.
    pub id: String,
    /// Distance to the query in the collection's metric (cosine: `1 - cos`, 0 to 2; L2:
    /// Euclidean), always computed on the float32 vectors.
    pub distance: f32,
}

impl Collection {
    /// The nearest neighbours of `query.vector` that pass the query's filters, nearest first
    /// (ties by kind, then id).
    ///
    /// Pass `db.reader()` to search concurrently with other reads, or `&mut *tx` to see the
    /// transaction's own writes. Float32 collections are exact: a query with a project and no
    /// label filter is answered from the collection's resident copy of its partitions when that
    /// copy is current (one statement; see [`Collection::resident_stats`] and `docs/vector.md`,
    /// "Resident partitions"), any other by sqlite-vec (one statement). Int8 and bit
    /// collections scan their quantised vectors for `k × oversample` candidates, then rank those
    /// by their exact float32 distance.
    #[tracing::instrument(level = "debug", skip_all, fields(collection = %self.name(), k = query.k))]
    pub async fn knn<'e>(
        &self,
        ex: impl Acquire<'e, Database = Sqlite>,
        query: &KnnQuery<'_>,
    ) -> Result<Vec<Neighbor>> {
        let (vector, max_l2, oversample) = self.prepared(query)?;
        let mut conn = ex.acquire().await.map_err(|e| VectorError::sqlx(self.name(), "knn", e))?;
        if let Some(found) = self.knn_resident(&mut conn, query, &vector, max_l2).await? {
            return Ok(found);
        }
        let quantized = self.quantize(&vector);
        let candidates = query.k.saturating_mul(oversample).min(MAX_K);

        let mut statement = self.knn_statement(query, &vector, quantized, candidates, max_l2);
        let sql = statement.build_query_scalar::<Json<Vec<(SourceKind, String, f64)>>>();
        let Json(rows) =
            sql.fetch_one(&mut *conn).await.map_err(|e| VectorError::sqlx(self.name(), "knn", e))?;

        let metric = self.metric();
        Ok(rows
            .into_iter()
            .map(|(kind, id, l2)| {
                let distance = match metric {
                    Metric::Cosine => l2 * l2 / 2.0,
                    Metric::L2 => l2,
                };
                Neighbor { kind, id, distance: distance as f32 }
            })
            .collect())
    }

    /// [`Self::knn`] on a reader of `pool`, cancellable: when the future is dropped (or cut by a
    /// timeout) while sqlite-vec or the read of a resident copy runs, the statement is
    /// interrupted and the reader goes back to the pool at once ([`InterruptGuard`]). An answer
    /// from a current resident copy — computed in memory, then one statement by key that cannot
    /// run long — takes a plain reader instead: the guard's handle costs a round trip to the
    /// connection's thread.
    ///
    /// # Errors
    /// As [`Self::knn`].
    pub async fn knn_interruptible(&self, pool: &SqlitePool, query: &KnnQuery<'_>) -> Result<Vec<Neighbor>> {
        let (vector, max_l2, _) = self.prepared(query)?;
        if let Some(found) = self.knn_held(pool, query, &vector, max_l2).await? {
            return Ok(found);
        }
        let mut guard = InterruptGuard::acquire(pool).await?;
        let found = self.knn(&mut *guard, query).await;
        guard.release();
        found
    }

    /// The query's vector prepared for the collection, the maximum distance as L2, and the
    /// oversampling factor, or why the query is invalid.
    fn prepared<'q>(&self, query: &KnnQuery<'q>) -> Result<(Cow<'q, [f32]>, Option<f64>, u32)> {
        let invalid =
            |reason: String| VectorError::InvalidQuery { collection: self.name().to_owned(), reason };
        if query.k == 0 || query.k > MAX_K {
            return Err(invalid(format!("k must be between 1 and {MAX_K}, not {}", query.k)));
        }
        let oversample = query.oversample.unwrap_or(self.element().default_oversample());
        if oversample == 0 {
            return Err(invalid("oversample must be at least 1".into()));
        }
        let max_l2 = match query.max_distance {
            Some(d) if d.is_nan() || d < 0.0 => {
                return Err(invalid(format!("max_distance must be ≥ 0, not {d}")));
            }
            // Cosine vectors are stored with unit length, where cos_distance = l2² / 2.
            Some(d) => Some(match self.metric() {
                Metric::Cosine => (2.0 * f64::from(d)).sqrt(),
                Metric::L2 => f64::from(d),
            }),
            None => None,
        };
        let vector = encode::prepare(query.vector, self.dimensions(), self.metric()).map_err(|problem| {
            VectorError::InvalidVector {
                collection: self.name().to_owned(),
                subject: "the query".into(),
                problem,
            }
        })?;
        Ok((vector, max_l2, oversample))
    }

    /// The KNN statement for `query`, its arguments bound in placeholder order.
    ///
    /// Float32 collections: one vec0 KNN with every filter, joined to `vector_keys`.
    /// Quantised ones: a vec0 KNN over the quantised vectors for `candidates` rows (same
    /// filters), whose float32 vectors are then read from the float table and ranked by exact
    /// distance. The KNN is a MATERIALIZED CTE, so it runs once, as the outer loop of the joins.
    /// The only identifiers pushed are the collection's table and column names
    /// ([`crate::sql::CollectionSql`]); every value is bound.
    fn knn_statement(
        &self,
        query: &KnnQuery<'_>,
        vector: &[f32],
        quantized: Option<Vec<u8>>,
        candidates: u32,
        max_l2: Option<f64>,
    ) -> QueryBuilder<Sqlite> {
        let sql = &self.sql;
        let mut s = QueryBuilder::new("WITH hits AS MATERIALIZED (SELECT rowid AS key, distance FROM ");
        s.push(&sql.table).push(" WHERE ").push(sql.indexed_column).push(" MATCH ");
        match quantized {
            Some(bytes) => {
                // `vec_int8(?)` / `vec_bit(?)`: the element type around the bound BLOB.
                let (open, close) = sql.indexed_param.split_once('?').unwrap_or(("", ""));
                s.push(open).push_bind(bytes).push(close);
                s.push(" AND k = ").push_bind(candidates);
            }
            None => {
                s.push_bind(encode::f32_bytes(vector));
                s.push(" AND k = ").push_bind(query.k);
            }
        }
        if let Some(project) = query.project {
            s.push(" AND project_id = ").push_bind(project);
        }
        match kind_filter(query.kinds) {
            KindFilter::All => {}
            KindFilter::Only(kind) => {
                s.push(" AND kind = ").push_bind(kind);
            }
            KindFilter::AllBut(excluded) => {
                for kind in excluded {
                    s.push(" AND kind != ").push_bind(kind);
                }
            }
        }
        if !query.labels.is_empty() {
            s.push(" AND label IN (");
            let mut labels = s.separated(", ");
            for label in query.labels {
                labels.push_bind(*label);
            }
            s.push(")");
        }
        match &sql.float_table {
            None => {
                if let Some(max_l2) = max_l2 {
                    s.push(" AND distance <= ").push_bind(max_l2);
                }
                s.push(
                    "), found AS (SELECT vk.kind AS kind, vk.source_id AS source_id, \
                     CAST(hits.distance AS REAL) AS distance \
                     FROM hits JOIN vector_keys AS vk ON vk.key = hits.key)",
                );
            }
            Some(float_table) => {
                s.push("), scored AS (SELECT hits.key AS key, vec_distance_l2(f.embedding, ")
                    .push_bind(encode::f32_bytes(vector))
                    .push(") AS distance FROM hits JOIN ")
                    .push(float_table)
                    .push(
                        " AS f ON f.key = hits.key), \
                         found AS (SELECT vk.kind AS kind, vk.source_id AS source_id, \
                         CAST(scored.distance AS REAL) AS distance \
                         FROM scored JOIN vector_keys AS vk ON vk.key = scored.key",
                    );
                if let Some(max_l2) = max_l2 {
                    s.push(" WHERE scored.distance <= ").push_bind(max_l2);
                }
                s.push(" ORDER BY scored.distance, vk.kind, vk.source_id LIMIT ")
                    .push_bind(query.k)
                    .push(")");
            }
        }
        // One row, a JSON array of `[kind, id, distance]` in order: sqlx hands each row of a
        // result from the connection's thread over on its own, a wake-up of the reading task
        // each (JSON keeps 15 significant digits of a distance, more than its float32 has).
        s.push(
            " SELECT json_group_array(json_array(kind, source_id, distance) \
             ORDER BY distance, kind, source_id) FROM found",
        );
        s
    }
}

/// How a set of kinds is asked of vec0, where `kind` is a partition key (so vectors of other
/// kinds are not even read). Partition keys take `=` and `!=` but not `IN` (SQLite would run one
/// KNN per value), so a set is written as the kinds it excludes.
#[derive(Debug, PartialEq)]
pub(crate) enum KindFilter {
    /// No constraint.
    All,
    /// `kind = ?`.
    Only(SourceKind),
    /// `kind != ?` for each.
    AllBut(Vec<SourceKind>),
}

pub(crate) fn kind_filter(kinds: &[SourceKind]) -> KindFilter {
    // Only kinds that have vectors can be excluded: the others are never in a collection.
    let excluded: Vec<SourceKind> =
        SourceKind::ALL.iter().copied().filter(|k| k.has_vectors() && !kinds.contains(k)).collect();
    match (kinds, excluded.len()) {
        ([], _) | (_, 0) => KindFilter::All,
        ([only, rest @ ..], _) if rest.iter().all(|k| k == only) => KindFilter::Only(*only),
        _ => KindFilter::AllBut(excluded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_sets_become_partition_constraints() {
        use SourceKind::*;
        assert_eq!(kind_filter(&[]), KindFilter::All);
        assert_eq!(kind_filter(&[Task, Episode, CodeChunk, Requirement]), KindFilter::All);
        assert_eq!(kind_filter(&[Episode]), KindFilter::Only(Episode));
        assert_eq!(kind_filter(&[Episode, Episode]), KindFilter::Only(Episode));
        assert_eq!(kind_filter(&[Episode, CodeChunk]), KindFilter::AllBut(vec![Requirement, Task]));
        assert_eq!(kind_filter(&[Task, Episode, CodeChunk]), KindFilter::AllBut(vec![Requirement]));
        // Transcript entries have no vectors: asking for them alone matches nothing.
        assert_eq!(kind_filter(&[TranscriptEntry]), KindFilter::Only(TranscriptEntry));
        assert_eq!(
            kind_filter(&[Episode, TranscriptEntry]),
            KindFilter::AllBut(vec![CodeChunk, Requirement, Task])
        );
    }
}
