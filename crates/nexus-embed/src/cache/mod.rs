//! [`CachedEmbedder`]: a cache around any [`Embedder`] — a bounded in-memory LRU in front of
//! the persistent `embedding_cache` table — so the same text is embedded (and paid for) once.
//!
//! A vector enters the in-memory LRU when it is *asked for again* (found in the database or
//! in the write queue), not when it is first embedded: a bulk run that embeds every chunk of
//! a tree once (`nexus index`) then neither fills the process's memory with vectors it will
//! not reuse nor evicts the ones that are (repeated queries).
//!
//! A call looks its texts up by SHA-256, first in memory, then in the database (one query
//! through `db.reader()` per 512 texts), and sends only the misses to the inner embedder, in
//! one call, each distinct text once. New vectors are kept in memory and written through the
//! writer connection — at once when it is idle, otherwise by a background task once it is
//! free (see [`pending`]): a call never waits for the writer, so embedding inside one's own
//! write transaction does not stall. [`Embedder::flush`] waits for the queue to be written.
//!
//! If writing the new vectors fails, the call still returns them (they were paid for) and
//! logs a warning; the next call simply misses again. A failed read is an error
//! ([`EmbedError::Cache`]).

mod pending;
mod store;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use lru::LruCache;
use nexus_db::Db;
use tracing::{Instrument, debug_span, field};

use crate::embedder::{Embedder, check_dimensions, check_not_blank};
use crate::error::{EmbedError, Result};
use pending::Pending;
use store::{TextHash, text_hash};

/// Memory budget of the write-behind queue, in bytes of vector data (about 10,900 vectors of
/// 384 dimensions). The queue is empty unless the writer has been busy since the last call.
const PENDING_BYTES: usize = 16 << 20;

/// Settings of a [`CachedEmbedder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Memory budget of the in-memory LRU, in bytes of vector data: it holds
    /// `memory_bytes / (4 × dimensions)` vectors. 0 turns it off (the database cache stays).
    /// Default 64 MiB (about 43,000 vectors of 384 dimensions, 10,900 of 1536).
    pub memory_bytes: usize,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self { memory_bytes: 64 << 20 }
    }
}

/// Counters of a [`CachedEmbedder`] since it was made, in distinct texts per call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Texts found in memory.
    pub memory_hits: u64,
    /// Texts found in the database.
    pub db_hits: u64,
    /// Texts sent to the inner embedder.
    pub misses: u64,
}

/// An [`Embedder`] that remembers: wraps `inner` with an in-memory LRU and the database's
/// `embedding_cache` table, keyed by (model, dimensions, SHA-256 of the text).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nexus_embed::{CachedEmbedder, Embedder, LocalEmbedder};
/// let db = nexus_db::Db::in_memory().await?;
/// let embedder = CachedEmbedder::new(LocalEmbedder::default(), db);
/// let first = embedder.embed(&["totals are kept in cents"]).await?;
/// let again = embedder.embed(&["totals are kept in cents"]).await?;
/// assert_eq!(first, again);
/// assert_eq!(embedder.stats().misses, 1);
/// # Ok(()) }
/// ```
pub struct CachedEmbedder<E> {
    inner: E,
    db: Db,
    memory: Option<Mutex<LruCache<TextHash, Arc<[f32]>>>>,
    pending: Arc<Pending>,
    memory_hits: AtomicU64,
    db_hits: AtomicU64,
    misses: AtomicU64,
}

impl<E: Embedder> std::fmt::Debug for CachedEmbedder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEmbedder")
            .field("inner", &self.inner)
            .field("memory_capacity", &self.memory.as_ref().map(|m| lock(m).cap()))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The LRU stays consistent even if a holder panicked: every operation on it is one call.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<E: Embedder> CachedEmbedder<E> {
    /// Wraps `inner`, caching in `db` with the default [`CacheOptions`].
    pub fn new(inner: E, db: Db) -> Self {
        Self::with_options(inner, db, CacheOptions::default())
    }

    /// Wraps `inner`, caching in `db` with `options`.
    pub fn with_options(inner: E, db: Db, options: CacheOptions) -> Self {
        let capacity = options.memory_bytes / (4 * inner.dimensions().max(1));
        let memory = NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c)));
        let pending_capacity = PENDING_BYTES / (4 * inner.dimensions().max(1));
        let pending = Pending::new(db.clone(), inner.model(), inner.dimensions(), pending_capacity);
        Self {
            inner,
            db,
            memory,
            pending,
            memory_hits: AtomicU64::new(0),
            db_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The wrapped embedder.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// Hit and miss counters since this embedder was made.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
            db_hits: self.db_hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// How many new vectors wait for the writer (see [`Embedder::flush`]); 0 unless the writer
    /// was busy when they were embedded.
    pub fn queued(&self) -> usize {
        self.pending.len()
    }

    /// How many vectors the database holds for this embedder's model and dimensions (queued
    /// ones are not counted until written).
    pub async fn stored(&self) -> Result<u64> {
        store::count(self.db.reader(), self.inner.model(), self.inner.dimensions())
            .await
            .map_err(|source| EmbedError::Cache { operation: "count", source })
    }

    /// Forgets every vector of this embedder's model and dimensions, in memory and in the
    /// database; returns how many database rows were deleted.
    pub async fn clear(&self) -> Result<u64> {
        if let Some(memory) = &self.memory {
            lock(memory).clear();
        }
        self.pending.clear();
        store::clear(self.db.writer(), self.inner.model(), self.inner.dimensions())
            .await
            .map_err(|source| EmbedError::Cache { operation: "clear", source })
    }

    /// Looks `hashes` up in memory, then in the database; returns what was found.
    async fn lookup(&self, hashes: &[TextHash]) -> Result<HashMap<TextHash, Arc<[f32]>>> {
        let mut found = HashMap::with_capacity(hashes.len());
        if let Some(memory) = &self.memory {
            let mut memory = lock(memory);
            for hash in hashes {
                if let Some(vector) = memory.get(hash) {
                    found.insert(*hash, Arc::clone(vector));
                }
            }
        }
        // Vectors waiting for the writer count as memory hits.
        for hash in hashes {
            if !found.contains_key(hash)
                && let Some(vector) = self.pending.get(hash)
            {
                self.remember(*hash, Arc::clone(&vector));
                found.insert(*hash, vector);
            }
        }
        let memory_hits = found.len();
        let wanted: Vec<TextHash> = hashes.iter().filter(|h| !found.contains_key(*h)).copied().collect();
        if !wanted.is_empty() {
            let stored = store::load(&self.db, self.inner.model(), self.inner.dimensions(), &wanted)
                .await
                .map_err(|source| EmbedError::Cache { operation: "read", source })?;
            for (hash, vector) in stored {
                let vector: Arc<[f32]> = vector.into();
                self.remember(hash, Arc::clone(&vector));
                found.insert(hash, vector);
            }
        }
        let span = tracing::Span::current();
        span.record("memory_hits", memory_hits);
        span.record("db_hits", found.len() - memory_hits);
        self.memory_hits.fetch_add(memory_hits as u64, Ordering::Relaxed);
        self.db_hits.fetch_add((found.len() - memory_hits) as u64, Ordering::Relaxed);
        Ok(found)
    }

    fn remember(&self, hash: TextHash, vector: Arc<[f32]>) {
        if let Some(memory) = &self.memory {
            lock(memory).put(hash, vector);
        }
    }
}

#[async_trait]
impl<E: Embedder> Embedder for CachedEmbedder<E> {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    /// False: it caches already.
    fn caching_pays(&self) -> bool {
        false
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        check_not_blank(texts)?;
        let span = debug_span!(
            "nexus_embed.cache",
            model = self.inner.model(),
            inputs = texts.len(),
            memory_hits = field::Empty,
            db_hits = field::Empty,
            misses = field::Empty,
        );
        async {
            let hashes: Vec<TextHash> = texts.iter().map(|t| text_hash(t)).collect();
            // Each distinct text once, with every position it occupies.
            let mut positions: HashMap<TextHash, Vec<usize>> = HashMap::new();
            let mut distinct: Vec<TextHash> = Vec::new();
            for (index, hash) in hashes.iter().enumerate() {
                positions
                    .entry(*hash)
                    .or_insert_with(|| {
                        distinct.push(*hash);
                        Vec::new()
                    })
                    .push(index);
            }
            let mut found = self.lookup(&distinct).await?;

            let missing: Vec<TextHash> = distinct.into_iter().filter(|h| !found.contains_key(h)).collect();
            tracing::Span::current().record("misses", missing.len());
            if !missing.is_empty() {
                self.misses.fetch_add(missing.len() as u64, Ordering::Relaxed);
                let first =
                    |hash: &TextHash| positions.get(hash).and_then(|p| p.first()).copied().unwrap_or(0);
                let miss_texts: Vec<&str> = missing.iter().map(|h| texts[first(h)]).collect();
                let callers = |i: usize| positions.get(&missing[i]).cloned().unwrap_or_default();
                let vectors = self.inner.embed(&miss_texts).await.map_err(|e| e.map_inputs(callers))?;
                if vectors.len() != missing.len() {
                    return Err(EmbedError::InvalidResponse {
                        model: self.inner.model().to_owned(),
                        message: format!("{} vectors for {} texts", vectors.len(), missing.len()),
                        inputs: (0..missing.len()).flat_map(callers).collect(),
                    });
                }
                check_dimensions(self.inner.model(), self.inner.dimensions(), &vectors, |i| {
                    first(&missing[i])
                })?;
                // Not remembered in memory yet: only a vector asked for again is (module docs).
                let mut new = Vec::with_capacity(missing.len());
                for (hash, vector) in missing.into_iter().zip(vectors) {
                    let vector: Arc<[f32]> = vector.into();
                    new.push((hash, Arc::clone(&vector)));
                    found.insert(hash, vector);
                }
                self.pending.push(new);
                // Written now if the writer is idle, else later: never waits for it.
                self.pending.write_or_defer().await;
            }
            // Every distinct hash is now in `found` (a hit, or a miss just embedded).
            Ok(hashes.iter().map(|h| found.get(h).map(|v| v.to_vec()).unwrap_or_default()).collect())
        }
        .instrument(span)
        .await
    }

    async fn flush(&self) -> Result<()> {
        self.inner.flush().await?;
        self.pending.flush().await.map_err(|source| EmbedError::Cache { operation: "write", source })
    }
}
