//! The write-behind queue of a [`super::CachedEmbedder`]: new vectors wait here until the
//! database's single writer connection is free, so embedding never waits on the writer.
//!
//! After each call that embedded something, the queue is written at once if the writer is
//! idle (`try_acquire`, no waiting). When it is busy — a caller embeds inside its own write
//! transaction, or another task is writing — the vectors stay queued (still served from here
//! by lookups) and one background task waits for the writer and writes them. [`Pending::flush`]
//! waits and writes everything (for `close`). The queue is bounded; vectors beyond the bound
//! are dropped with a warning (they were returned to the caller; a later call embeds them
//! again). A write that fails drops the vectors it held, with a warning, as retrying a
//! failing write would fail again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use nexus_db::{Db, DbError};
use sqlx::SqliteConnection;
use tracing::{debug, warn};

use super::store::{self, TextHash};

/// Vectors written per transaction.
const WRITE_CHUNK: usize = 512;

/// Vectors waiting for the writer, shared with the background task that writes them.
pub(crate) struct Pending {
    db: Db,
    model: String,
    dimensions: usize,
    capacity: usize,
    entries: Mutex<HashMap<TextHash, Arc<[f32]>>>,
    /// Whether a background task is waiting for the writer (at most one is).
    scheduled: AtomicBool,
}

impl Pending {
    /// An empty queue for (`model`, `dimensions`) holding at most `capacity` vectors.
    pub(crate) fn new(db: Db, model: &str, dimensions: usize, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            db,
            model: model.to_owned(),
            dimensions,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
            scheduled: AtomicBool::new(false),
        })
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<TextHash, Arc<[f32]>>> {
        // Every operation on the map is one call, so it stays consistent after a panic.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The queued vector of `hash`, if any.
    pub(crate) fn get(&self, hash: &TextHash) -> Option<Arc<[f32]>> {
        self.entries().get(hash).cloned()
    }

    /// How many vectors are waiting.
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }

    /// Forgets every queued vector.
    pub(crate) fn clear(&self) {
        self.entries().clear();
    }

    /// Queues `new` vectors, up to the capacity; the others are dropped with a warning.
    pub(crate) fn push(&self, new: impl IntoIterator<Item = (TextHash, Arc<[f32]>)>) {
        let mut dropped = 0usize;
        let mut entries = self.entries();
        for (hash, vector) in new {
            if entries.len() < self.capacity || entries.contains_key(&hash) {
                entries.insert(hash, vector);
            } else {
                dropped += 1;
            }
        }
        drop(entries);
        if dropped > 0 {
            warn!(dropped, capacity = self.capacity, "embedding cache queue full; vectors returned uncached");
        }
    }

    /// Writes the queue now if the writer is idle, else leaves it to a background task that
    /// waits for the writer. Never waits for the writer itself.
    pub(crate) async fn write_or_defer(self: &Arc<Self>) {
        if self.len() == 0 {
            return;
        }
        match self.db.writer().try_acquire() {
            Some(mut conn) => {
                if let Err(error) = self.write_all(&mut conn).await {
                    warn!(%error, "embedding cache write failed; returning the vectors uncached");
                }
            }
            None => self.schedule(),
        }
    }

    /// Waits for the writer and writes every queued vector.
    pub(crate) async fn flush(&self) -> Result<(), DbError> {
        if self.len() == 0 {
            return Ok(());
        }
        let mut conn = self.db.writer().acquire().await.map_err(|e| DbError::from_sqlx("acquire", e))?;
        self.write_all(&mut conn).await
    }

    /// Starts the background writer unless one is already waiting.
    fn schedule(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to wait in: the next cache call (or `flush`) writes the queue.
            self.scheduled.store(false, Ordering::Release);
            return;
        };
        debug!(queued = self.len(), "writer busy; embedding cache write deferred");
        let queue = Arc::clone(self);
        runtime.spawn(async move {
            let result = queue.flush().await;
            queue.scheduled.store(false, Ordering::Release);
            match result {
                // Vectors queued while this task held the writer are written by another one.
                Ok(()) if queue.len() > 0 => queue.schedule(),
                Ok(()) => {}
                // The writer stayed busy past the acquire timeout, or the database closed: the
                // next cache call (or `flush`) tries again.
                Err(error) => warn!(%error, queued = queue.len(), "deferred embedding cache write failed"),
            }
        });
    }

    /// Writes the queue through `conn`, one transaction per [`WRITE_CHUNK`] vectors, and
    /// removes what was written (or failed to be).
    async fn write_all(&self, conn: &mut SqliteConnection) -> Result<(), DbError> {
        loop {
            let batch: Vec<(TextHash, Arc<[f32]>)> =
                self.entries().iter().take(WRITE_CHUNK).map(|(h, v)| (*h, Arc::clone(v))).collect();
            if batch.is_empty() {
                return Ok(());
            }
            let rows: Vec<(TextHash, &[f32])> = batch.iter().map(|(h, v)| (*h, &v[..])).collect();
            let result = store::save(conn, &self.model, self.dimensions, &rows).await;
            let mut entries = self.entries();
            for (hash, _) in &batch {
                entries.remove(hash);
            }
            drop(entries);
            result?;
        }
    }
}
