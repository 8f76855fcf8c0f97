//! The access statistics of [`Store::recall`](crate::Store::recall) (`access_count`,
//! `last_accessed_at`), counted in memory and written in the background: [`AccessCounter`].
//!
//! A recall adds one access of each episode it returns to an in-memory map and returns at
//! once; a background task writes the whole map in one statement
//! ([`nexus_db::episodes::add_accesses`]) an interval after the first pending access
//! ([`crate::ACCESS_FLUSH_INTERVAL`] by default), sooner when [`MAX_PENDING`] episodes are
//! pending, and [`Store::flush_accesses`](crate::Store::flush_accesses), `Store::close` and
//! `Store::prune` write it before they go on. So most recalls commit nothing: they do not
//! queue for SQLite's single writer, and the reader connections keep their page cache (SQLite
//! drops a reader's cache whenever another connection has committed).
//!
//! Counts stay exact: each returned episode's access is counted once, and a failed write puts
//! its batch back. What a crash (or a store dropped without `close`) loses is the accesses
//! still in memory — at most an interval's worth of access statistics, never an episode.
//!
//! A returned episode shows its counted access: its stored count plus the accesses pending in
//! memory, its own included. That sum is only consistent when the stored count was read while
//! no write of the map could commit, so each recall takes a [`Ticket`] before its search: if
//! no write began since and none was under way then, the row the search read is current; if
//! one did, the recall reads its episodes again while no write can run (the write holds
//! [`AccessCounter::gate`]), and leaves out an episode deleted meanwhile.
//!
//! With an interval of zero each recall writes the map itself before it returns (concurrent
//! recalls share the write: the first takes everyone's pending accesses), as the store did
//! before the counts were kept in memory; `cargo xtask bench serve --access-flush-ms 0`
//! measures that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nexus_db::episodes::{self, AccessDelta, Episode};
use nexus_db::{Db, EpisodeId, Timestamp};
use tokio::sync::RwLock;
use tracing::{debug, warn};

use crate::error::{Result, StoreError};

/// Episodes with pending accesses at which a write starts without waiting for the interval.
pub(crate) const MAX_PENDING: usize = 65_536;

/// The accesses of one episode not written yet.
#[derive(Debug, Clone, Copy)]
struct Pending {
    count: i64,
    last: Timestamp,
}

/// What the counter holds between writes.
#[derive(Debug, Default)]
struct State {
    pending: HashMap<EpisodeId, Pending>,
    /// Writes that have taken a batch from `pending`.
    started: u64,
    /// Writes whose statement has ended (committed or failed).
    finished: u64,
    /// A timer task will write `pending`.
    scheduled: bool,
}

impl State {
    fn add(&mut self, id: &EpisodeId, count: i64, last: Timestamp) {
        let entry = self.pending.entry(id.clone()).or_insert(Pending { count: 0, last });
        entry.count += count;
        entry.last = entry.last.max(last);
    }

    /// `episode` with its pending accesses added.
    fn counted(&self, mut episode: Episode) -> Episode {
        if let Some(pending) = self.pending.get(&episode.id) {
            episode.access_count += pending.count;
            episode.last_accessed_at =
                Some(episode.last_accessed_at.map_or(pending.last, |t| t.max(pending.last)));
        }
        episode
    }
}

/// Where the writes of the map were when a recall's search began (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    started: u64,
    idle: bool,
}

/// Counts recall's accesses in memory and writes them in the background (module docs).
#[derive(Debug)]
pub(crate) struct AccessCounter {
    db: Db,
    /// How long accesses wait in memory; zero: each recall writes before it returns.
    interval: Duration,
    state: Mutex<State>,
    /// Held for writing by a write of the map from taking its batch until its statement has
    /// ended; for reading by a recall reading its episodes' stored counts again. So those
    /// reads never see a batch both in the database and in `pending`, or in neither.
    gate: RwLock<()>,
}

/// Clears `scheduled` if a timer task is dropped before it finished (its runtime shut down),
/// so the next recall starts a new one.
struct TimerGuard {
    counter: Arc<AccessCounter>,
    armed: bool,
}

impl Drop for TimerGuard {
    fn drop(&mut self) {
        if self.armed {
            self.counter.lock().scheduled = false;
        }
    }
}

impl AccessCounter {
    /// A counter writing through `db`'s writer `interval` after the first pending access.
    pub(crate) fn new(db: Db, interval: Duration) -> Self {
        Self { db, interval, state: Mutex::default(), gate: RwLock::new(()) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Take before the search whose episodes go to [`Self::record`].
    pub(crate) fn ticket(&self) -> Ticket {
        let state = self.lock();
        Ticket { started: state.started, idle: state.started == state.finished }
    }

    /// Counts one access of each of `episodes` (as the search read them, after `ticket` was
    /// taken) and returns them with their accesses counted, in order; `None` for an episode
    /// found deleted. On a read-only database nothing is counted.
    pub(crate) async fn record(
        self: &Arc<Self>,
        ticket: Ticket,
        episodes: Vec<Episode>,
    ) -> Result<Vec<Option<Episode>>> {
        if episodes.is_empty() || self.db.is_read_only() {
            return Ok(episodes.into_iter().map(Some).collect());
        }
        let now = Timestamp::now();
        let (current, timer, full) = {
            let mut state = self.lock();
            for episode in &episodes {
                state.add(&episode.id, 1, now);
            }
            let current = !self.interval.is_zero() && ticket.idle && state.started == ticket.started;
            let timer = !self.interval.is_zero() && !std::mem::replace(&mut state.scheduled, true);
            let full = state.pending.len() >= MAX_PENDING;
            let current = current.then(|| episodes.iter().map(|e| Some(state.counted(e.clone()))).collect());
            (current, timer, full)
        };
        if timer {
            tokio::spawn(Arc::clone(self).timer());
        }
        if full {
            let counter = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(error) = counter.write().await {
                    warn!(%error, "writing access statistics failed; they stay pending");
                }
            });
        }
        if let Some(current) = current {
            return Ok(current);
        }
        if self.interval.is_zero() {
            self.flush().await?;
        }
        self.reread(&episodes).await
    }

    /// `episodes` as stored now plus their pending accesses; `None` for those deleted.
    async fn reread(&self, episodes: &[Episode]) -> Result<Vec<Option<Episode>>> {
        let ids: Vec<EpisodeId> = episodes.iter().map(|e| e.id.clone()).collect();
        let _gate = self.gate.read().await;
        let mut stored: HashMap<EpisodeId, Episode> = episodes::get_many(self.db.reader(), &ids)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let state = self.lock();
        Ok(ids.iter().map(|id| stored.remove(id).map(|e| state.counted(e))).collect())
    }

    /// Writes every pending access now (nothing to do when none is pending). The write runs
    /// in a task of its own, so a caller that stops waiting does not cut it short. If it
    /// fails, its accesses stay pending.
    pub(crate) async fn flush(self: &Arc<Self>) -> Result<()> {
        tokio::spawn(Arc::clone(self).write())
            .await
            .map_err(|e| StoreError::Task(format!("writing access statistics: {e}")))?
    }

    /// Writes `interval` after the first pending access, until nothing is pending (or the
    /// database was closed: then what is pending is lost, as in a crash).
    async fn timer(self: Arc<Self>) {
        let mut guard = TimerGuard { counter: Arc::clone(&self), armed: true };
        loop {
            tokio::time::sleep(self.interval).await;
            if let Err(error) = Arc::clone(&self).write().await {
                warn!(%error, "writing access statistics failed; retrying after the interval");
            }
            let mut state = self.lock();
            if state.pending.is_empty() || self.db.writer().is_closed() {
                state.scheduled = false;
                break;
            }
        }
        guard.armed = false;
    }

    /// One statement with every pending access.
    async fn write(self: Arc<Self>) -> Result<()> {
        let _gate = self.gate.write().await;
        let batch: Vec<AccessDelta> = {
            let mut state = self.lock();
            if state.pending.is_empty() {
                return Ok(());
            }
            state.started += 1;
            state.pending.drain().map(|(id, p)| AccessDelta { id, count: p.count, last: p.last }).collect()
        };
        let written = episodes::add_accesses(self.db.writer(), &batch).await;
        let mut state = self.lock();
        state.finished += 1;
        match written {
            Ok(updated) => {
                debug!(episodes = batch.len(), updated, "access statistics written");
                Ok(())
            }
            Err(error) => {
                for delta in batch {
                    state.add(&delta.id, delta.count, delta.last);
                }
                Err(error.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nexus_db::episodes::{EpisodeType, NewEpisode};
    use nexus_db::projects::{self, NewProject};

    use super::*;

    async fn episode(db: &Db, content: &str) -> Result<Episode> {
        let project = match projects::list(db.reader(), &Default::default()).await?.into_iter().next() {
            Some(project) => project,
            None => projects::create(db.writer(), NewProject::new("p", "/p")).await?,
        };
        Ok(episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, content))
            .await?)
    }

    async fn stored(db: &Db, episode: &Episode) -> Result<i64> {
        Ok(episodes::get(db.reader(), &episode.id).await?.access_count)
    }

    #[tokio::test]
    async fn counts_in_memory_until_flushed() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("a.db")).await?;
        let kept = episode(&db, "kept").await?;
        let counter = Arc::new(AccessCounter::new(db.clone(), Duration::from_secs(3600)));
        for expected in 1..=3 {
            let counted = counter.record(counter.ticket(), vec![kept.clone()]).await?;
            assert_eq!(counted[0].as_ref().map(|e| e.access_count), Some(expected));
            assert!(counted[0].as_ref().is_some_and(|e| e.last_accessed_at.is_some()));
        }
        assert_eq!(stored(&db, &kept).await?, 0, "nothing written before the flush");
        counter.flush().await?;
        assert_eq!(stored(&db, &kept).await?, 3);
        assert!(episodes::get(db.reader(), &kept.id).await?.last_accessed_at.is_some());
        let read = episodes::get(db.reader(), &kept.id).await?;
        let counted = counter.record(counter.ticket(), vec![read]).await?;
        assert_eq!(counted[0].as_ref().map(|e| e.access_count), Some(4), "stored 3 + pending 1");
        counter.flush().await?;
        counter.flush().await?;
        assert_eq!(stored(&db, &kept).await?, 4, "a flush with nothing pending writes nothing");
        assert!(counter.record(counter.ticket(), Vec::new()).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn a_search_overlapping_a_write_reads_its_episodes_again()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("a.db")).await?;
        let kept = episode(&db, "kept").await?;
        let gone = episode(&db, "gone").await?;
        let counter = Arc::new(AccessCounter::new(db.clone(), Duration::from_secs(3600)));
        counter.record(counter.ticket(), vec![kept.clone()]).await?;
        // A search begins, reads the row (count 0) ...
        let ticket = counter.ticket();
        let read = episodes::get(db.reader(), &kept.id).await?;
        // ... a write commits the pending access meanwhile, and an episode goes.
        counter.flush().await?;
        episodes::delete(db.writer(), &gone.id).await?;
        let counted = counter.record(ticket, vec![gone.clone(), read]).await?;
        assert!(counted[0].is_none(), "a deleted episode is left out");
        assert_eq!(counted[1].as_ref().map(|e| e.access_count), Some(2), "stored 1 + its own access");
        counter.flush().await?;
        assert_eq!(stored(&db, &kept).await?, 2);
        Ok(())
    }

    #[tokio::test]
    async fn the_timer_writes_after_the_interval_and_zero_writes_at_once()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("a.db")).await?;
        let kept = episode(&db, "kept").await?;
        let counter = Arc::new(AccessCounter::new(db.clone(), Duration::from_millis(20)));
        counter.record(counter.ticket(), vec![kept.clone()]).await?;
        let mut waited = 0;
        while stored(&db, &kept).await? == 0 && waited < 500 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        assert_eq!(stored(&db, &kept).await?, 1, "written by the timer");
        while counter.lock().scheduled && waited < 1000 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        assert!(!counter.lock().scheduled, "the timer stops when nothing is pending");

        let at_once = Arc::new(AccessCounter::new(db.clone(), Duration::ZERO));
        let counted = at_once.record(at_once.ticket(), vec![kept.clone()]).await?;
        assert_eq!(counted[0].as_ref().map(|e| e.access_count), Some(2));
        assert_eq!(stored(&db, &kept).await?, 2, "written before the recall returned");

        // A closed database stops the timer instead of retrying forever.
        counter.record(counter.ticket(), vec![kept.clone()]).await?;
        db.clone().close().await?;
        while counter.lock().scheduled && waited < 1500 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        assert!(!counter.lock().scheduled, "the timer stops on a closed database");
        assert!(counter.flush().await.is_err(), "the pending access cannot be written");
        assert_eq!(counter.lock().pending.len(), 1, "and stays pending");
        Ok(())
    }
}
