//! Group commit of [`Store::recall`](crate::Store::recall)'s access counts: concurrent recalls
//! hand the episodes they return to one [`AccessRecorder`], which counts the accesses of all
//! the recalls waiting at that moment in a single write transaction, and answers each recall
//! with its episodes as that transaction committed them.
//!
//! SQLite has one writer, so a write transaction per recall makes concurrent recalls queue for
//! the writer one by one (each `BEGIN IMMEDIATE`, its updates, `COMMIT`). Here the first recall
//! to arrive starts a flush task; the recalls arriving while it writes wait in a queue, and the
//! next transaction takes all of them. A recall still returns only after its accesses are
//! committed: the `Recalled` values it returns are what the database holds, and the counts
//! are exact (every access is counted once, whatever the interleaving).
//!
//! The flush is a spawned task, so a recall that is dropped while waiting (a client that hung
//! up) leaves its accesses counted or not as a whole, and never stalls the other recalls.

use std::sync::{Arc, Mutex, PoisonError};

use nexus_db::episodes::{self, Episode};
use nexus_db::{Db, DbError, EpisodeId};
use tokio::sync::oneshot;
use tracing::{debug, warn};

use crate::error::{Result, StoreError};

/// What one recall asks: count an access of each of `ids`; the reply holds each episode as
/// updated, in order (`None` for an episode deleted since the search found it).
struct Request {
    ids: Vec<EpisodeId>,
    reply: oneshot::Sender<Result<Vec<Option<Episode>>>>,
}

/// The queue and whether a flush task is running.
#[derive(Default)]
struct Queue {
    pending: Vec<Request>,
    flushing: bool,
}

/// Counts the accesses of concurrent recalls in shared write transactions (module docs).
pub(crate) struct AccessRecorder {
    db: Db,
    /// Whether concurrent recalls share transactions (else each has its own).
    group: bool,
    queue: Mutex<Queue>,
}

impl std::fmt::Debug for AccessRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.lock();
        f.debug_struct("AccessRecorder")
            .field("pending", &queue.pending.len())
            .field("group", &self.group)
            .field("flushing", &queue.flushing)
            .finish()
    }
}

/// Resets `flushing` if a flush task is dropped before it finished (its runtime shut down),
/// so the next recall starts a new one.
struct FlushGuard {
    recorder: Arc<AccessRecorder>,
    armed: bool,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if self.armed {
            self.recorder.lock().flushing = false;
        }
    }
}

impl AccessRecorder {
    /// A recorder writing through `db`'s writer; with `group` false, each recall writes its
    /// own transaction (as before group commit; benchmarks compare the two).
    pub(crate) fn new(db: Db, group: bool) -> Self {
        Self { db, group, queue: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one access of each of `ids` (access_count + 1, last_accessed_at = now) and
    /// returns the episodes as committed, in order; an episode deleted meanwhile is `None`.
    pub(crate) async fn record(self: &Arc<Self>, ids: Vec<EpisodeId>) -> Result<Vec<Option<Episode>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if !self.group {
            return Ok(self.transaction(&[&ids]).await?.into_iter().next().unwrap_or_default());
        }
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.lock();
            queue.pending.push(Request { ids, reply });
            !std::mem::replace(&mut queue.flushing, true)
        };
        if start {
            tokio::spawn(Arc::clone(self).flush());
        }
        answer
            .await
            .map_err(|_| StoreError::Task("the access recorder stopped before answering".to_owned()))?
    }

    /// Writes batches until the queue is empty.
    async fn flush(self: Arc<Self>) {
        let mut guard = FlushGuard { recorder: Arc::clone(&self), armed: true };
        loop {
            let batch = {
                let mut queue = self.lock();
                if queue.pending.is_empty() {
                    queue.flushing = false;
                    break;
                }
                std::mem::take(&mut queue.pending)
            };
            self.write(batch).await;
        }
        guard.armed = false;
    }

    /// One transaction for the whole batch; if it fails, each request alone, so an error
    /// reaches only the recall it belongs to.
    async fn write(&self, batch: Vec<Request>) {
        let recalls = batch.len();
        let all: Vec<&[EpisodeId]> = batch.iter().map(|r| r.ids.as_slice()).collect();
        match self.transaction(&all).await {
            Ok(results) => {
                debug!(recalls, "access counts committed");
                for (request, episodes) in batch.into_iter().zip(results) {
                    let _ = request.reply.send(Ok(episodes));
                }
            }
            Err(error) => {
                warn!(%error, recalls, "access counts of a batch failed: writing them one recall at a time");
                for request in batch {
                    let result = self
                        .transaction(&[&request.ids])
                        .await
                        .map(|r| r.into_iter().next().unwrap_or_default());
                    let _ = request.reply.send(result);
                }
            }
        }
    }

    /// Counts the accesses of every list of `requests` in one transaction.
    async fn transaction(&self, requests: &[&[EpisodeId]]) -> Result<Vec<Vec<Option<Episode>>>> {
        let mut tx = self.db.begin().await?;
        let mut results = Vec::with_capacity(requests.len());
        for ids in requests {
            let mut episodes = Vec::with_capacity(ids.len());
            for id in *ids {
                episodes.push(match episodes::record_access(&mut *tx, id).await {
                    Ok(episode) => Some(episode),
                    Err(DbError::NotFound { .. }) => None,
                    Err(error) => return Err(error.into()),
                });
            }
            results.push(episodes);
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use nexus_db::episodes::{EpisodeType, NewEpisode};
    use nexus_db::projects::{self, NewProject};

    use super::*;

    #[tokio::test]
    async fn counts_accesses_in_order_and_skips_deleted_episodes()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let db = Db::in_memory().await?;
        let project = projects::create(db.writer(), NewProject::new("p", "/p")).await?;
        let kept = episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, "kept"))
            .await?;
        let gone = episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, "gone"))
            .await?;
        sqlx::query("DELETE FROM episodes WHERE id = ?").bind(&gone.id).execute(db.writer()).await?;
        let recorder = Arc::new(AccessRecorder::new(db.clone(), true));
        let counted = recorder.record(vec![gone.id.clone(), kept.id.clone()]).await?;
        assert!(counted[0].is_none(), "a deleted episode is left out");
        assert_eq!(counted[1].as_ref().map(|e| e.access_count), Some(1));
        let again = recorder.record(vec![kept.id.clone()]).await?;
        assert_eq!(again[0].as_ref().map(|e| e.access_count), Some(2));
        assert!(recorder.record(Vec::new()).await?.is_empty());
        assert!(!recorder.lock().flushing, "the flush task ended with the queue empty");
        Ok(())
    }
}
