//! Resident partitions: the float32 vectors of the (project, kind) partitions that KNN queries
//! read, kept in memory by each opened [`Collection`], so an exact KNN scans them in place
//! instead of having sqlite-vec copy every chunk of the partition out of SQLite per query (about
//! 1 ms of CPU for 10,000 vectors of 384 dimensions, a quarter of it `malloc` and `memmove`).
//!
//! **When.** Float32 collections, for queries with a project and no label filter (the project
//! and kinds are vec0 partition keys: the copy of a partition is its chunks as vec0 stores them).
//! Other queries, and every query while the copy is being read, run sqlite-vec's KNN as before.
//!
//! **Exactness.** A copy is tagged with the file it was read from and the *vector generation*
//! at the time: a counter in `vector_generation` (migration 0014) that every write changing a
//! vector moves, in the writer's own transaction ([`bump`]; deletes by the trigger on
//! `vector_keys`). A query answered from memory resolves its neighbours' ids in one statement
//! that also reads the generation and the file, in the same snapshot; if either differs from the
//! copy's, the answer is dropped, the partition is read again, and the query is answered from
//! the fresh copy. So a query never sees vectors other than those of its own snapshot — whether
//! a write came from this process or another. Copies are only read on `query_only` connections
//! (the reader pool), which never hold uncommitted writes. Distances are the same L2 as
//! sqlite-vec's, summed in another order (last-bit differences).
//!
//! **Memory.** Each collection keeps at most [`resident_limit`] bytes of copies (default
//! [`DEFAULT_RESIDENT_BYTES`], 256 MiB: 137,000 vectors of 384 dimensions with their int8 codes), least recently used
//! out first; a partition larger than that is never copied. [`set_resident_limit`]`(0)` turns
//! copies off.
//!
//! **Format.** The copy reads vec0's shadow tables directly — `<table>_chunks` (partition
//! values, validity bitmap, rowids) and `<table>_vector_chunks00` (the vectors) — as sqlite-vec
//! 0.1.9 (pinned exactly) lays them out; a chunk that does not have that shape makes the copy
//! fail softly (sqlite-vec answers), and the tests check copy and vec0 answer alike.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};

use nexus_db::{Json, SourceKind};
use serde::Serialize;
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};
use tracing::debug;

use crate::collection::Collection;
use crate::error::{Result, VectorError};
use crate::knn::{KindFilter, KnnQuery, Neighbor, kind_filter};
use crate::prefilter::{Codes, QueryCodes, Threshold};
use crate::spec::{Element, Metric};

/// The default bound of [`resident_limit`], in bytes.
pub const DEFAULT_RESIDENT_BYTES: usize = 256 << 20;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_RESIDENT_BYTES);

/// Bytes of resident vectors each opened collection may keep (module docs).
pub fn resident_limit() -> usize {
    LIMIT.load(AtomicOrdering::Relaxed)
}

/// Sets [`resident_limit`] for every collection of the process; `0` turns resident copies off
/// (every KNN runs in sqlite-vec). Copies already held beyond the new bound go at their
/// collection's next load.
pub fn set_resident_limit(bytes: usize) {
    LIMIT.store(bytes, AtomicOrdering::Relaxed);
}

/// Moves the vector generation (module docs): call in the transaction of every write that
/// changes a vector.
pub(crate) async fn bump(conn: &mut SqliteConnection, collection: &str) -> Result<()> {
    sqlx::query!("UPDATE vector_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await
        .map_err(|e| VectorError::sqlx(collection, "bump the vector generation", e))?;
    Ok(())
}

/// What a collection's resident copies hold and did (see [`Collection::resident_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResidentStats {
    /// Partitions held.
    pub partitions: usize,
    /// Vectors held.
    pub vectors: usize,
    /// Bytes held (vectors, their int8 codes and their keys).
    pub bytes: usize,
    /// KNN queries answered from memory.
    pub answered: u64,
    /// Vectors whose exact distance those queries computed: the candidates the int8 codes
    /// could not rule out (`docs/vector.md`, "The int8 prefilter"); the rest were only scanned
    /// as codes.
    pub rescored: u64,
    /// Partitions read from the database.
    pub loaded: u64,
}

/// One partition's vectors, as of one generation.
#[derive(Debug)]
struct Partition {
    generation: i64,
    kind: SourceKind,
    /// The vec0 rowid (`vector_keys.key`) of each vector.
    keys: Vec<i64>,
    /// The vectors, `keys.len() × dimensions` values.
    vectors: Vec<f32>,
    /// Their int8 codes, scanned first ([`crate::prefilter`]).
    codes: Codes,
}

impl Partition {
    fn bytes(&self) -> usize {
        self.keys.len() * 8 + self.vectors.len() * 4 + self.codes.bytes()
    }
}

type PartitionKey = (String, SourceKind);

#[derive(Debug, Default)]
struct State {
    /// The database file the copies were read from.
    file: Option<String>,
    entries: HashMap<PartitionKey, (Arc<Partition>, u64)>,
    loading: HashSet<PartitionKey>,
    bytes: usize,
    clock: u64,
}

/// The resident copies of one opened collection (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Resident {
    state: Mutex<State>,
    answered: AtomicU64,
    rescored: AtomicU64,
    loaded: AtomicU64,
}

impl Resident {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The copies of `project`'s `kinds`, when all are held at one generation.
    fn get(&self, project: &str, kinds: &[SourceKind]) -> Option<Vec<Arc<Partition>>> {
        let mut state = self.lock();
        state.clock += 1;
        let clock = state.clock;
        let mut found = Vec::with_capacity(kinds.len());
        for kind in kinds {
            let (partition, used) = state.entries.get_mut(&(project.to_owned(), *kind))?;
            *used = clock;
            found.push(Arc::clone(partition));
        }
        let generation = found.first()?.generation;
        found.iter().all(|p| p.generation == generation).then_some(found)
    }

    /// Marks `project`'s `kinds` as being read, unless another query is reading one of them.
    fn begin_load<'a>(&'a self, project: &str, kinds: &[SourceKind]) -> Option<Loading<'a>> {
        let mut state = self.lock();
        let keys: Vec<PartitionKey> = kinds.iter().map(|k| (project.to_owned(), *k)).collect();
        if keys.iter().any(|key| state.loading.contains(key)) {
            return None;
        }
        state.loading.extend(keys.iter().cloned());
        Some(Loading { resident: self, keys })
    }

    /// Keeps `partitions` (read from `file`) unless they exceed the bound, evicting the least
    /// recently used copies to make room.
    fn store(&self, file: &str, project: &str, partitions: &[Arc<Partition>]) {
        self.loaded.fetch_add(partitions.len() as u64, AtomicOrdering::Relaxed);
        let limit = resident_limit();
        let size: usize = partitions.iter().map(|p| p.bytes()).sum();
        let mut state = self.lock();
        if state.file.as_deref() != Some(file) {
            state.entries.clear();
            state.bytes = 0;
            state.file = Some(file.to_owned());
        }
        for partition in partitions {
            if let Some((old, _)) = state.entries.remove(&(project.to_owned(), partition.kind)) {
                state.bytes -= old.bytes();
            }
        }
        if size > limit {
            return;
        }
        while state.bytes + size > limit {
            let Some(oldest) =
                state.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((old, _)) = state.entries.remove(&oldest) {
                state.bytes -= old.bytes();
            }
        }
        state.clock += 1;
        let clock = state.clock;
        for partition in partitions {
            state.entries.insert((project.to_owned(), partition.kind), (Arc::clone(partition), clock));
        }
        state.bytes += size;
    }

    fn stats(&self) -> ResidentStats {
        let state = self.lock();
        ResidentStats {
            partitions: state.entries.len(),
            vectors: state.entries.values().map(|(p, _)| p.keys.len()).sum(),
            bytes: state.bytes,
            answered: self.answered.load(AtomicOrdering::Relaxed),
            rescored: self.rescored.load(AtomicOrdering::Relaxed),
            loaded: self.loaded.load(AtomicOrdering::Relaxed),
        }
    }
}

/// Partitions being read; unmarked when dropped (also when the query is cancelled).
struct Loading<'a> {
    resident: &'a Resident,
    keys: Vec<PartitionKey>,
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        let mut state = self.resident.lock();
        for key in &self.keys {
            state.loading.remove(key);
        }
    }
}

/// The project and kinds whose partitions a copy would answer `query` from, for a collection
/// of `element`; `None` when copies do not apply (module docs: which queries).
fn resident_partitions<'q>(query: &KnnQuery<'q>, element: Element) -> Option<(&'q str, Vec<SourceKind>)> {
    let (Some(project), true, Element::Float32) = (query.project, query.labels.is_empty(), element) else {
        return None;
    };
    if resident_limit() == 0 {
        return None;
    }
    let kinds: Vec<SourceKind> = match kind_filter(query.kinds) {
        KindFilter::All => SourceKind::ALL.iter().copied().filter(|k| k.has_vectors()).collect(),
        KindFilter::Only(kind) => vec![kind],
        KindFilter::AllBut(excluded) => {
            SourceKind::ALL.iter().copied().filter(|k| k.has_vectors() && !excluded.contains(k)).collect()
        }
    };
    Some((project, kinds))
}

/// A `vector_keys` row: key, kind, source id.
type KeyedSource = (i64, SourceKind, String);

/// A row of the copy statement: generation, file, `query_only`, whether the copy fits the
/// bound, and one chunk (kind, validity bitmap, rowids, vectors) when it does and the
/// partitions have any.
type ChunkRow = (i64, String, i64, bool, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);

impl Collection {
    /// What this collection's resident copies hold and did (module docs of `resident`).
    pub fn resident_stats(&self) -> ResidentStats {
        self.resident.stats()
    }

    /// The KNN of `query` (its vector prepared as `vector`) from resident copies; `None` when
    /// sqlite-vec must answer (module docs: which queries, and while a copy is being read).
    pub(crate) async fn knn_resident(
        &self,
        conn: &mut SqliteConnection,
        query: &KnnQuery<'_>,
        vector: &[f32],
        max_l2: Option<f64>,
    ) -> Result<Option<Vec<Neighbor>>> {
        let Some((project, kinds)) = resident_partitions(query, self.element()) else { return Ok(None) };
        if let Some(partitions) = self.resident.get(project, &kinds)
            && let Some(found) = self.knn_from(conn, &partitions, query, vector, max_l2).await?
        {
            return Ok(Some(found));
        }
        let Some(_loading) = self.resident.begin_load(project, &kinds) else { return Ok(None) };
        let Some((file, partitions)) = self.read_partitions(conn, project, &kinds).await? else {
            return Ok(None);
        };
        self.resident.store(&file, project, &partitions);
        self.knn_from(conn, &partitions, query, vector, max_l2).await
    }

    /// The KNN of `query` from the copies held now, resolved on a reader of `pool` taken only
    /// then; `None` when there is no current copy to answer from (nothing is read).
    pub(crate) async fn knn_held(
        &self,
        pool: &SqlitePool,
        query: &KnnQuery<'_>,
        vector: &[f32],
        max_l2: Option<f64>,
    ) -> Result<Option<Vec<Neighbor>>> {
        let Some((project, kinds)) = resident_partitions(query, self.element()) else { return Ok(None) };
        let Some(partitions) = self.resident.get(project, &kinds) else { return Ok(None) };
        let mut conn = pool.acquire().await.map_err(|e| VectorError::sqlx(self.name(), "knn", e))?;
        self.knn_from(&mut conn, &partitions, query, vector, max_l2).await
    }

    /// The KNN of `query` from `partitions` (copies of one generation), resolved on `conn`;
    /// `None` when the database is no longer at their generation.
    async fn knn_from(
        &self,
        conn: &mut SqliteConnection,
        partitions: &[Arc<Partition>],
        query: &KnnQuery<'_>,
        vector: &[f32],
        max_l2: Option<f64>,
    ) -> Result<Option<Vec<Neighbor>>> {
        let generation = partitions.first().map_or(0, |p| p.generation);
        let nearest = self.resident.nearest(partitions, vector, self.dimensions(), query.k as usize, max_l2);
        let found = self.resolve(conn, &nearest, generation).await?;
        if found.is_some() {
            self.resident.answered.fetch_add(1, AtomicOrdering::Relaxed);
        }
        Ok(found)
    }

    /// Reads `project`'s `kinds` partitions from vec0's shadow tables, in one statement; `None`
    /// when they must not be kept (an in-memory database, a connection that may write: then the
    /// statement reads no vectors) or do not have the expected shape.
    async fn read_partitions(
        &self,
        conn: &mut SqliteConnection,
        project: &str,
        kinds: &[SourceKind],
    ) -> Result<Option<(String, Vec<Arc<Partition>>)>> {
        let table = &self.sql.table;
        // The vectors are only read when the copy would fit the bound (`length()` of a BLOB
        // reads its size, not its pages), on a `query_only` connection to a file.
        let rows: Vec<ChunkRow> = sqlx::query_as(AssertSqlSafe(format!(
            "WITH wanted AS (SELECT chunk_id, partition01 AS kind, validity, rowids FROM \"{table}_chunks\" \
               WHERE partition00 = ?1 AND partition01 IN (SELECT value FROM json_each(?2))), \
             size AS (SELECT coalesce(sum(length(v.vectors)), 0) AS bytes FROM wanted \
               JOIN \"{table}_vector_chunks00\" AS v ON v.rowid = wanted.chunk_id) \
             SELECT g.generation, (SELECT file FROM pragma_database_list WHERE name = 'main'), \
             (SELECT query_only FROM pragma_query_only), size.bytes <= ?3, \
             w.kind, w.validity, w.rowids, v.vectors \
             FROM vector_generation AS g CROSS JOIN size \
             LEFT JOIN wanted AS w ON size.bytes <= ?3 AND (SELECT query_only FROM pragma_query_only) \
               AND (SELECT file FROM pragma_database_list WHERE name = 'main') <> '' \
             LEFT JOIN \"{table}_vector_chunks00\" AS v ON v.rowid = w.chunk_id \
             WHERE g.id = 1 ORDER BY w.chunk_id"
        )))
        .bind(project)
        .bind(Json(kinds))
        .bind(i64::try_from(float_share(resident_limit(), self.dimensions())).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| VectorError::sqlx(self.name(), "read resident partitions", e))?;
        let Some((generation, file, query_only, fits, ..)) = rows.first() else { return Ok(None) };
        let (generation, file) = (*generation, file.clone());
        if file.is_empty() || *query_only == 0 {
            return Ok(None);
        }
        if !fits {
            debug!(collection = %self.name(), project, "partitions larger than the resident bound; sqlite-vec answers");
            return Ok(None);
        }
        let dims = self.dimensions();
        let mut partitions: Vec<Partition> = kinds
            .iter()
            .map(|&kind| Partition {
                generation,
                kind,
                keys: Vec::new(),
                vectors: Vec::new(),
                codes: Codes::default(),
            })
            .collect();
        for (_, _, _, _, kind, validity, rowids, vectors) in rows {
            let (Some(kind), Some(validity), Some(rowids), Some(vectors)) = (kind, validity, rowids, vectors)
            else {
                continue;
            };
            let Some(partition) = partitions.iter_mut().find(|p| p.kind.as_str() == kind) else {
                return Ok(None);
            };
            if !append_chunk(partition, dims, &validity, &rowids, &vectors) {
                debug!(collection = %self.name(), "a vec0 chunk of unexpected shape; sqlite-vec answers");
                return Ok(None);
            }
        }
        for partition in &mut partitions {
            partition.codes = Codes::new(&partition.vectors, dims);
        }
        Ok(Some((file, partitions.into_iter().map(Arc::new).collect())))
    }

    /// The neighbours `nearest` (`(key, l2)`, any order) as rows, nearest first (ties by kind,
    /// then id), if the database is still at `generation` and is the file the copies came from.
    async fn resolve(
        &self,
        conn: &mut SqliteConnection,
        nearest: &[(i64, f32)],
        generation: i64,
    ) -> Result<Option<Vec<Neighbor>>> {
        let keys: Vec<i64> = nearest.iter().map(|(key, _)| *key).collect();
        let (now, file, Json(rows)): (i64, String, Json<Vec<KeyedSource>>) = sqlx::query_as(
            "SELECT (SELECT generation FROM vector_generation WHERE id = 1), \
             (SELECT file FROM pragma_database_list WHERE name = 'main'), \
             (SELECT json_group_array(json_array(key, kind, source_id)) FROM vector_keys \
              WHERE key IN (SELECT value FROM json_each(?1)))",
        )
        .bind(Json(&keys))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| VectorError::sqlx(self.name(), "resolve resident neighbours", e))?;
        if now != generation || self.resident.lock().file.as_deref() != Some(file.as_str()) {
            return Ok(None);
        }
        let distance_of: HashMap<i64, f32> = nearest.iter().copied().collect();
        let metric = self.metric();
        let mut found: Vec<Neighbor> = rows
            .into_iter()
            .filter_map(|(key, kind, id)| {
                let l2 = f64::from(*distance_of.get(&key)?);
                let distance = match metric {
                    Metric::Cosine => l2 * l2 / 2.0,
                    Metric::L2 => l2,
                };
                Some(Neighbor { kind, id, distance: distance as f32 })
            })
            .collect();
        // The order of the vec0 statement: distance, then kind, then id.
        found.sort_by(|a, b| {
            a.distance
                .total_cmp(&b.distance)
                .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(Some(found))
    }
}

/// The part of `bytes` of copies that is float32 vectors of `dims` dimensions (the rest: their
/// keys and int8 codes with their scales and bounds), which the copy statement compares with
/// the size of the vector chunks.
fn float_share(bytes: usize, dims: usize) -> usize {
    let per_vector = 8 + dims * 4 + dims + Codes::BYTES_PER_VECTOR;
    ((bytes as u128 * (dims as u128 * 4)) / per_vector as u128) as usize
}

/// Appends the valid slots of one vec0 chunk to `partition`; false when the blobs do not have
/// the layout of sqlite-vec 0.1.9 (a bitmap of slots, 8-byte native rowids, then per slot
/// `dims` native float32 values).
fn append_chunk(
    partition: &mut Partition,
    dims: usize,
    validity: &[u8],
    rowids: &[u8],
    vectors: &[u8],
) -> bool {
    let slots = rowids.len() / 8;
    if !rowids.len().is_multiple_of(8) || validity.len() * 8 < slots || vectors.len() != slots * dims * 4 {
        return false;
    }
    let rowid_bytes = rowids.chunks_exact(8);
    let vector_bytes = vectors.chunks_exact(dims * 4);
    for (slot, (rowid, vector)) in rowid_bytes.zip(vector_bytes).enumerate() {
        let valid = validity.get(slot / 8).is_some_and(|byte| (byte >> (slot % 8)) & 1 == 1);
        if !valid {
            continue;
        }
        let mut key = [0u8; 8];
        key.copy_from_slice(rowid);
        partition.keys.push(i64::from_ne_bytes(key));
        partition
            .vectors
            .extend(vector.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])));
    }
    true
}

/// A candidate for the top k: the squared L2 distance, then the key (max-heap by distance).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate(f32, i64);

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

impl Resident {
    /// The `k` vectors of `partitions` nearest to `query` (within `max_l2`, when given), as
    /// `(key, l2)` in no particular order: the int8 codes scanned for bounds, then the exact
    /// distance of each candidate they leave ([`crate::prefilter`]), counted in `rescored`.
    fn nearest(
        &self,
        partitions: &[Arc<Partition>],
        query: &[f32],
        dims: usize,
        k: usize,
        max_l2: Option<f64>,
    ) -> Vec<(i64, f32)> {
        let mut threshold = Threshold::new(k, max_l2, dims);
        let query_codes = QueryCodes::new(query);
        let mut candidates: Vec<(&Partition, usize, f32)> = Vec::new();
        let mut admitted = Vec::new();
        for partition in partitions {
            partition.codes.scan(&query_codes, &mut threshold, &mut admitted);
            candidates.extend(admitted.drain(..).map(|(i, lower)| (partition.as_ref(), i, lower)));
        }
        candidates.retain(|&(_, _, lower)| threshold.admits(lower));
        self.rescored.fetch_add(candidates.len() as u64, AtomicOrdering::Relaxed);
        let exact = candidates.into_iter().filter_map(|(partition, i, _)| {
            Some((*partition.keys.get(i)?, partition.vectors.get(i * dims..(i + 1) * dims)?))
        });
        exact_nearest(exact, query, k, max_l2)
    }
}

/// The `k` of `vectors` (`(key, vector)`) nearest to `query` by the exact float32 L2 distance
/// (within `max_l2`, when given), as `(key, l2)` in no particular order; ties by key.
fn exact_nearest<'v>(
    vectors: impl Iterator<Item = (i64, &'v [f32])>,
    query: &[f32],
    k: usize,
    max_l2: Option<f64>,
) -> Vec<(i64, f32)> {
    let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(k + 1);
    for (key, vector) in vectors {
        let squared = l2_squared(vector, query);
        if max_l2.is_some_and(|max| f64::from(squared.sqrt()) > max) {
            continue;
        }
        let candidate = Candidate(squared, key);
        if heap.len() < k {
            heap.push(candidate);
        } else if heap.peek().is_some_and(|worst| candidate < *worst) {
            heap.pop();
            heap.push(candidate);
        }
    }
    heap.into_iter().map(|Candidate(squared, key)| (key, squared.sqrt())).collect()
}

/// The squared L2 distance, summed in sqlite-vec's order so that distances match its own to the
/// bit in this workspace's build (`.cargo/config.toml` enables its AVX kernel): for dimensions
/// that are a multiple of 16, eight lanes (element `i` into lane `i % 8`) added up lane by lane;
/// for others, one running sum. (The compiler vectorises the lanes.)
fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    if !a.len().is_multiple_of(16) {
        return a.iter().zip(b).fold(0.0, |sum, (x, y)| sum + (x - y) * (x - y));
    }
    let mut lanes = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            let d = x[i] - y[i];
            lanes[i] += d * d;
        }
    }
    lanes.iter().fold(0.0, |sum, lane| sum + lane)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lanes_sum_to_the_squared_distance() {
        for dims in [37, 384] {
            let a: Vec<f32> = (0..dims).map(|i| i as f32 * 0.25).collect();
            let b: Vec<f32> = (0..dims).map(|i| (dims - 1 - i) as f32 * 0.5).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x - y) * f64::from(x - y)).sum();
            let lanes = f64::from(l2_squared(&a, &b));
            assert!((lanes - plain).abs() <= plain * 1e-6, "{dims}: {lanes} vs {plain}");
        }
    }

    #[test]
    fn the_prefiltered_scan_finds_the_exact_nearest() {
        let mut rng = fastrand::Rng::with_seed(11);
        let dims = 64;
        let partitions: Vec<Arc<Partition>> = [SourceKind::Episode, SourceKind::CodeChunk]
            .into_iter()
            .enumerate()
            .map(|(p, kind)| {
                let keys: Vec<i64> = (0..500).map(|i| (p * 1000 + i) as i64).collect();
                let mut vectors: Vec<f32> = (0..500 * dims).map(|_| rng.f32() - 0.5).collect();
                // Ties: a run of copies of one vector.
                for copy in 1..20 {
                    vectors.copy_within(0..dims, copy * dims);
                }
                let codes = Codes::new(&vectors, dims);
                Arc::new(Partition { generation: 1, kind, keys, vectors, codes })
            })
            .collect();
        let resident = Resident::default();
        let everything =
            || partitions.iter().flat_map(|p| p.keys.iter().copied().zip(p.vectors.chunks_exact(dims)));
        let sorted = |mut found: Vec<(i64, f32)>| {
            found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            found
        };
        for round in 0..40 {
            let query: Vec<f32> = if round % 4 == 0 {
                partitions[0].vectors[..dims].to_vec()
            } else {
                (0..dims).map(|_| rng.f32() - 0.5).collect()
            };
            for (k, max_l2) in
                [(1, None), (10, None), (25, None), (10, Some(2.2)), (700, None), (5, Some(0.0))]
            {
                let want = sorted(exact_nearest(everything(), &query, k, max_l2));
                let got = sorted(resident.nearest(&partitions, &query, dims, k, max_l2));
                assert_eq!(got, want, "round {round}, k {k}, max {max_l2:?}");
            }
        }
        // 240 queries over 1,000 vectors: the codes rule most of them out.
        let rescored = resident.rescored.load(AtomicOrdering::Relaxed);
        assert!(rescored < 240 * 1000 / 4, "{rescored} of {} rescored", 240 * 1000);
    }

    #[test]
    fn chunks_keep_only_valid_slots_and_reject_other_shapes() {
        let mut partition = Partition {
            generation: 1,
            kind: SourceKind::Episode,
            keys: vec![],
            vectors: vec![],
            codes: Codes::default(),
        };
        let rowids: Vec<u8> = [7i64, 8, 9, 0].iter().flat_map(|r| r.to_ne_bytes()).collect();
        let vectors: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_ne_bytes()).collect();
        // Slots 0 and 2 valid.
        assert!(append_chunk(&mut partition, 2, &[0b0101], &rowids, &vectors));
        assert_eq!(partition.keys, [7, 9]);
        assert_eq!(partition.vectors, [0.0, 1.0, 4.0, 5.0]);
        assert!(!append_chunk(&mut partition, 3, &[0b0101], &rowids, &vectors), "wrong dimensions");
        assert!(!append_chunk(&mut partition, 2, &[0b0101], &rowids[..12], &vectors), "ragged rowids");
    }
}
