//! Per-phrase BM25 score lists, kept in memory between searches.
//!
//! FTS5's `bm25()` is a sum over the phrases of the query, each phrase's term depending only
//! on that phrase, the row and the index's statistics (`N`, average row length). So the score
//! list of one phrase — `(rowid, term)` for every row holding it, from
//! `SELECT rowid, bm25(…) FROM idx WHERE idx MATCH '"phrase"'` — computed once, serves every
//! query that has the phrase: adding a row's terms in the order of the query's phrases, as
//! `bm25()` does, gives the very same `f64` as the query's `bm25()` (`topk` ranks from them,
//! and its oracle test checks the equality).
//!
//! The lists live in one process-wide cache, bounded in bytes ([`set_cache_limit`], 64 MiB by
//! default), least recently used out first, keyed by database file, index, column weights and
//! the phrase's tokens (so `"parse"` and `"parsing"` share one list, [`crate::phrase_key`]);
//! [`crate::warm`] fills it ahead of searches. Each list is tagged with the index's *version*:
//! FTS5's averages record (row and token counts) and structure record (segments, write
//! counter), which change with every write to the index. Every search reads the version in its
//! own read transaction and uses only lists of that version, so a write by any connection or
//! process invalidates them, and readers on older snapshots never see newer lists. Only
//! `query_only` connections (the reader pool) use the cache: a connection that can write may
//! hold index changes of its open transaction that the records do not show yet. In-memory databases (no file name to key them by) do not
//! use it either, nor does any search while the bound is 0. Those searches rank with the
//! top-k pruning in SQL of `topk`.
//!
//! Each index also has a *presumed* snapshot ([`presumed`]): the last cacheable one a search
//! read. A warm search ranks from the lists cached at it before it has read anything, and the
//! one statement that applies its filters also returns the snapshot it read, which must be the
//! presumed one for the answer to count (`topk::from_presumed`; `docs/fts.md`, "One statement
//! for a warm search").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use tracing::debug;

use crate::error::{FtsError, Result};

/// The cache's default bound, in bytes.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// The `bm25()` terms of one phrase: the rows holding it, by rowid, and the phrase's term of
/// each row's score (the negated `bm25()` of the phrase alone, so `> 0`). Compact, about 6
/// bytes a row: rowids as offsets from the first, and each term as an index into the list's
/// distinct terms (a term depends only on the phrase's weighted count in the row and the row's
/// length, so a list has few distinct ones).
#[derive(Debug, Default)]
pub(crate) struct PhraseList {
    first: i64,
    /// Rowid minus `first`, ascending.
    offsets: Vec<u32>,
    /// Index into `values` of each row's term.
    terms: Vec<u16>,
    values: Vec<f64>,
}

impl PhraseList {
    /// The list of the rows of `groups` (each a term and the rowids of the rows with that
    /// term); `None` when it cannot be this compact (rowids more than 2³² apart, or more than
    /// 2¹⁶ distinct terms).
    pub fn new(groups: Vec<(f64, Vec<i64>)>) -> Option<Self> {
        let mut rows: Vec<(i64, u16)> =
            Vec::with_capacity(groups.iter().map(|(_, rowids)| rowids.len()).sum());
        let mut values = Vec::with_capacity(groups.len());
        for (index, (term, rowids)) in groups.into_iter().enumerate() {
            let index = u16::try_from(index).ok()?;
            values.push(term);
            rows.extend(rowids.into_iter().map(|rowid| (rowid, index)));
        }
        rows.sort_unstable_by_key(|&(rowid, _)| rowid);
        let first = rows.first().map_or(0, |r| r.0);
        let offsets = rows.iter().map(|&(rowid, _)| u32::try_from(rowid.checked_sub(first)?).ok());
        Some(Self {
            first,
            offsets: offsets.collect::<Option<Vec<u32>>>()?,
            terms: rows.into_iter().map(|(_, index)| index).collect(),
            values,
        })
    }

    /// How many rows hold the phrase.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// The rowid of the `i`-th row.
    pub fn rowid(&self, i: usize) -> Option<i64> {
        self.offsets.get(i).map(|&offset| self.first + i64::from(offset))
    }

    /// The phrase's term of the `i`-th row's score.
    pub fn term(&self, i: usize) -> Option<f64> {
        self.terms.get(i).and_then(|&index| self.values.get(usize::from(index))).copied()
    }

    /// Bytes held.
    fn bytes(&self) -> usize {
        self.offsets.len() * 4 + self.terms.len() * 2 + self.values.len() * 8
    }
}

/// Where and at which version of its index a search reads: what keys and tags cached lists.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The database file; `None` when lists must not be cached (in-memory database, a
    /// connection that may write, or the cache is off).
    db: Option<Arc<str>>,
    /// The index's averages and structure records.
    version: Arc<[u8]>,
}

impl Snapshot {
    /// The SQL of a snapshot's four columns, in the order [`Snapshot::from_row`] reads them:
    /// `query_only`, the main database file, and `table`'s averages and structure records. Each
    /// is a scalar subquery, so they can end any `SELECT` (the one-statement search appends them
    /// to its filter statement, `topk::from_presumed`) and come from that statement's snapshot.
    pub fn columns(table: &'static str) -> String {
        format!(
            "(SELECT query_only FROM pragma_query_only), \
             (SELECT file FROM pragma_database_list WHERE name = 'main'), \
             (SELECT block FROM {table}_data WHERE id = 1), (SELECT block FROM {table}_data WHERE id = 10)"
        )
    }

    /// The snapshot in the [`Snapshot::columns`] of `row`, starting at column `at`.
    pub fn from_row(row: &SqliteRow, at: usize, table: &'static str) -> Result<Self> {
        let column = |e| FtsError::sqlx(table, e);
        let query_only: bool = row.try_get(at).map_err(column)?;
        let file: Option<String> = row.try_get(at + 1).map_err(column)?;
        let averages: Option<Vec<u8>> = row.try_get(at + 2).map_err(column)?;
        let structure: Option<Vec<u8>> = row.try_get(at + 3).map_err(column)?;
        let on = with_cache(|cache| cache.stats.limit > 0);
        let db = file.filter(|f| on && query_only && !f.is_empty()).map(Arc::from);
        let mut version = averages.unwrap_or_default();
        let averages_len = version.len();
        version.extend(structure.unwrap_or_default());
        // The split point, so that two different pairs of records never concatenate alike.
        version.extend(averages_len.to_le_bytes());
        Ok(Self { db, version: version.into() })
    }

    /// Reads where `conn` is and the version of `table`, in `conn`'s current transaction; a
    /// cacheable snapshot becomes `table`'s presumed one ([`presumed`]).
    pub async fn read(conn: &mut SqliteConnection, table: &'static str) -> Result<Self> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {}", Self::columns(table))))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| FtsError::sqlx(table, e))?;
        let snapshot = Self::from_row(&row, 0, table)?;
        if snapshot.cacheable() {
            with_cache(|cache| cache.presumed.insert(table, snapshot.clone()));
        }
        Ok(snapshot)
    }

    /// Whether lists read at this snapshot may be cached.
    pub fn cacheable(&self) -> bool {
        self.db.is_some()
    }

    /// Whether both snapshots are cacheable, of the same database file and the same version of
    /// the index: lists cached at one are the lists at the other.
    pub fn same_as(&self, other: &Self) -> bool {
        self.db.is_some() && self.db == other.db && self.version == other.version
    }
}

/// What a cached list is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    db: Arc<str>,
    table: &'static str,
    /// The column weights' bits.
    weights: Vec<u64>,
    /// The phrase's tokens ([`crate::phrase_key`]).
    phrase: Arc<str>,
}

#[derive(Debug)]
struct Entry {
    version: Arc<[u8]>,
    list: Arc<PhraseList>,
    /// The cache's clock when the entry was last used.
    used: u64,
}

/// The cache's counters since the process started (or [`set_cache_limit`] cleared it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Phrase lists found, of the current version.
    pub hits: u64,
    /// Phrase lists looked for and not found (absent, or of another version of the index).
    pub misses: u64,
    /// Lists now held.
    pub entries: usize,
    /// Bytes now held (about 6 per row of every list).
    pub bytes: usize,
    /// The bound.
    pub limit: usize,
    /// Searches answered by one statement, at the presumed snapshot (`docs/fts.md`, "One
    /// statement for a warm search"). Their lists count as hits, one per list, as in a search
    /// that reads them in its transaction.
    pub one_statement: u64,
    /// Searches that ran that statement and then discarded its answer (another version of the
    /// index or another database than presumed, a connection that may write, or filters that
    /// needed more than one round) and ran in a read transaction instead, counting their
    /// lookups there.
    pub one_statement_fallbacks: u64,
}

#[derive(Debug)]
struct Cache {
    entries: HashMap<Key, Entry>,
    /// Per index, the last cacheable snapshot [`Snapshot::read`] found ([`presumed`]).
    presumed: HashMap<&'static str, Snapshot>,
    clock: u64,
    stats: CacheStats,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// Runs `f` on the cache, created on first use.
fn with_cache<T>(f: impl FnOnce(&mut Cache) -> T) -> T {
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = guard.get_or_insert_with(|| Cache {
        entries: HashMap::new(),
        presumed: HashMap::new(),
        clock: 0,
        stats: CacheStats { limit: DEFAULT_CACHE_BYTES, ..CacheStats::default() },
    });
    f(cache)
}

/// Sets the bound of the process-wide cache of per-phrase score lists (`docs/fts.md`, "Score
/// lists"), in bytes, and empties it (counters included). `0` turns the cache off: searches then
/// rank as without it (top-k pruning in SQL).
pub fn set_cache_limit(bytes: usize) {
    with_cache(|cache| {
        cache.entries.clear();
        cache.presumed.clear();
        cache.stats = CacheStats { limit: bytes, ..CacheStats::default() };
    });
}

/// The counters of the process-wide cache of per-phrase score lists.
pub fn cache_stats() -> CacheStats {
    with_cache(|cache| CacheStats { entries: cache.entries.len(), ..cache.stats })
}

/// Drops every cached list of `table` (after a rebuild, which may leave the version records as
/// they were).
pub(crate) fn forget(table: &'static str) {
    with_cache(|cache| {
        cache.entries.retain(|key, _| key.table != table);
        cache.presumed.remove(table);
        cache.stats.bytes = cache.entries.values().map(|e| e.list.bytes()).sum();
    });
}

/// The snapshot of `table` that the last search to read one through [`Snapshot::read`] found
/// cacheable (a `query_only` connection to a database file): the index's version a search is
/// presumed to find before it has read it; `None` when there is none. One per index: a process
/// that searches two database files in turn replaces it at each switch (its searches then fall
/// back more often, never answer wrongly).
pub(crate) fn presumed(table: &'static str) -> Option<Snapshot> {
    with_cache(|cache| cache.presumed.get(table).cloned())
}

/// The score lists of the phrases whose tokens are `keys` in `table` with `weights` at
/// `snapshot`, if the cache holds every one of them; `None` otherwise. Nothing is computed and
/// nothing counted (the caller counts with [`count_one_statement`] once it knows whether it
/// used them); the lists found are marked as used.
pub(crate) fn cached_lists(
    snapshot: &Snapshot,
    table: &'static str,
    weights: &[f64],
    keys: &[Arc<str>],
) -> Option<Vec<Arc<PhraseList>>> {
    let keys: Vec<Key> =
        keys.iter().map(|key| cache_key(snapshot, table, weights, key)).collect::<Option<_>>()?;
    with_cache(|cache| {
        cache.clock += 1;
        let clock = cache.clock;
        let mut lists = Vec::with_capacity(keys.len());
        for key in &keys {
            let entry = cache.entries.get_mut(key).filter(|entry| entry.version == snapshot.version)?;
            entry.used = clock;
            lists.push(Arc::clone(&entry.list));
        }
        Some(lists)
    })
}

/// Counts one run of the one-statement search: `Some(lists)` when it answered, with the lists
/// it used, which count as hits (the lookups a search in a read transaction would have counted);
/// `None` when its answer was discarded (the search that follows counts its own lookups).
pub(crate) fn count_one_statement(answered: Option<usize>) {
    with_cache(|cache| match answered {
        Some(lists) => {
            cache.stats.one_statement += 1;
            cache.stats.hits += u64::try_from(lists).unwrap_or(u64::MAX);
        }
        None => cache.stats.one_statement_fallbacks += 1,
    });
}

/// The score list of `phrase` (FTS5 syntax, whose tokens are `key`) in `table` with `weights`
/// at `snapshot`: from the cache, or computed with `bm25()` in `conn`'s transaction (and cached
/// when it is large enough and the snapshot allows); `None` when it has no compact form
/// ([`PhraseList::new`]).
pub(crate) async fn phrase_list(
    conn: &mut SqliteConnection,
    snapshot: &Snapshot,
    table: &'static str,
    weights: &[f64],
    (phrase, key): (&str, &Arc<str>),
) -> Result<Option<Arc<PhraseList>>> {
    let key = cache_key(snapshot, table, weights, key);
    if let Some(key) = &key
        && let Some(list) = with_cache(|cache| cache.get(key, &snapshot.version))
    {
        return Ok(Some(list));
    }
    computed(conn, snapshot, table, weights, phrase, key).await
}

/// Computes and caches the score list of `phrase` (whose tokens are `key`) unless the cache
/// already holds it, without counting a hit or a miss ([`crate::warm`]); the rows of the list
/// computed, `None` when none was.
pub(crate) async fn fill(
    conn: &mut SqliteConnection,
    snapshot: &Snapshot,
    table: &'static str,
    weights: &[f64],
    (phrase, key): (&str, &Arc<str>),
) -> Result<Option<usize>> {
    let Some(key) = cache_key(snapshot, table, weights, key) else { return Ok(None) };
    if with_cache(|cache| cache.holds(&key, &snapshot.version)) {
        return Ok(None);
    }
    Ok(computed(conn, snapshot, table, weights, phrase, Some(key)).await?.map(|list| list.len()))
}

/// The cache key of a list at `snapshot`; `None` when the snapshot's lists are not cached.
fn cache_key(snapshot: &Snapshot, table: &'static str, weights: &[f64], phrase: &Arc<str>) -> Option<Key> {
    snapshot.db.as_ref().map(|db| Key {
        db: Arc::clone(db),
        table,
        weights: weights.iter().map(|w| w.to_bits()).collect(),
        phrase: Arc::clone(phrase),
    })
}

/// The score list of `phrase`, computed with `bm25()` in `conn`'s transaction and cached under
/// `key` when there is one and the list is large enough.
async fn computed(
    conn: &mut SqliteConnection,
    snapshot: &Snapshot,
    table: &'static str,
    weights: &[f64],
    phrase: &str,
    key: Option<Key>,
) -> Result<Option<Arc<PhraseList>>> {
    // The rows grouped by term: each distinct term comes as a double (exact), the rowids as
    // text, which is far cheaper than a row per match through the driver.
    let weight_args = weights.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(", ");
    let groups: Vec<(f64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r, group_concat(rowid) FROM (SELECT rowid, bm25({table}, {weight_args}) AS r FROM {table} \
         WHERE {table} MATCH ?1 LIMIT -1) GROUP BY r"
    )))
    .bind(phrase)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| FtsError::sqlx(table, e))?;
    let groups: Option<Vec<(f64, Vec<i64>)>> = groups
        .into_iter()
        .map(|(rank, rowids)| {
            Some((-rank, rowids.split(',').map(|r| r.parse().ok()).collect::<Option<_>>()?))
        })
        .collect();
    let Some(list) = groups.and_then(PhraseList::new).map(Arc::new) else { return Ok(None) };
    // Small lists are kept too: computing one costs little, but it is a statement, a round
    // trip to the connection's thread, on every search that has the phrase.
    if let Some(key) = key {
        with_cache(|cache| cache.put(key, &snapshot.version, Arc::clone(&list)));
    }
    Ok(Some(list))
}

impl Cache {
    /// Whether the list of `key` at `version` is held (not counted, not marked as used).
    fn holds(&self, key: &Key, version: &Arc<[u8]>) -> bool {
        self.entries.get(key).is_some_and(|entry| entry.version == *version)
    }

    fn get(&mut self, key: &Key, version: &Arc<[u8]>) -> Option<Arc<PhraseList>> {
        self.clock += 1;
        match self.entries.get_mut(key) {
            Some(entry) if entry.version == *version => {
                entry.used = self.clock;
                self.stats.hits += 1;
                Some(Arc::clone(&entry.list))
            }
            _ => {
                self.stats.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, key: Key, version: &Arc<[u8]>, list: Arc<PhraseList>) {
        let bytes = list.bytes();
        if bytes > self.stats.limit {
            return;
        }
        self.clock += 1;
        if let Some(old) = self.entries.remove(&key) {
            self.stats.bytes -= old.list.bytes();
        }
        // Least recently used out first; lists of other versions are never used again.
        while self.stats.bytes + bytes > self.stats.limit {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.stats.bytes -= old.list.bytes();
            }
        }
        self.stats.bytes += bytes;
        self.entries.insert(key, Entry { version: Arc::clone(version), list, used: self.clock });
        debug!(entries = self.entries.len(), bytes = self.stats.bytes, "fts score list cached");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_compact_or_absent() {
        let list = PhraseList::new(vec![(0.5, vec![4_000_000_005, 5]), (1.25, vec![9])]).unwrap_or_default();
        let back: Vec<(i64, f64)> =
            (0..list.len()).filter_map(|i| Some((list.rowid(i)?, list.term(i)?))).collect();
        assert_eq!(back, [(5, 0.5), (9, 1.25), (4_000_000_005, 0.5)]);
        assert_eq!(list.bytes(), 3 * 6 + 2 * 8);
        assert!(PhraseList::new(vec![(1.0, vec![0, 1 << 33])]).is_none(), "rowids 2^33 apart");
        let distinct: Vec<(f64, Vec<i64>)> = (0..70_000).map(|i| (i as f64, vec![i])).collect();
        assert!(PhraseList::new(distinct).is_none(), "70,000 distinct terms");
    }
}
