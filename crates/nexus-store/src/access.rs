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
//! memory, its own included. That sum is only consistent when one knows which writes of the
//! map the stored count includes, so each recall takes a [`Ticket`] before its search: if no
//! write began since and none was under way then, the row the search read includes every write
//! so far. If one did, the recall reads its episodes again together with the number of the last
//! access write the database holds (`access_writes`, migration 0015: each write numbers itself
//! in its own transaction, so numbers grow in commit order), and adds the batches of this
//! counter's writes that number does not cover — the one in flight, and the last
//! [`KEPT_WRITES`] committed ones. So a recall overlapping a write never waits for it (a write
//! of a few thousand episodes takes 20–30 ms, and every recall in flight used to wait that
//! long). In the two cases that number cannot settle — the rows predate the committed writes
//! still kept, or a write has committed in the database but not reported back yet — the recall
//! reads its episodes again while no write can run ([`AccessCounter::gate`]). Either way an
//! episode deleted meanwhile is left out.
//!
//! With an interval of zero each recall writes the map itself before it returns (concurrent
//! recalls share the write: the first takes everyone's pending accesses), as the store did
//! before the counts were kept in memory; `cargo xtask bench serve --access-flush-ms 0`
//! measures that.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nexus_db::episodes::{self, AccessDelta, Episode};
use nexus_db::{Db, DbError, EpisodeId, Timestamp};
use tokio::sync::RwLock;
use tracing::{debug, warn};

use crate::error::{Result, StoreError};

/// Episodes with pending accesses at which a write starts without waiting for the interval.
pub(crate) const MAX_PENDING: usize = 65_536;

/// Committed writes whose batches stay known, for recalls whose rows were read before them.
pub(crate) const KEPT_WRITES: usize = 4;

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
    /// This counter's write in flight, if any, after its last committed ones, oldest first.
    writes: VecDeque<Write>,
    /// The highest number of this counter's committed writes no longer in `writes` (0: none).
    forgotten: i64,
}

/// A write of the map: what it took from `pending`, and its number once its transaction has
/// one (`access_writes`).
#[derive(Debug)]
struct Write {
    /// `State::started` when it began.
    serial: u64,
    number: Option<i64>,
    batch: HashMap<EpisodeId, Pending>,
    committed: bool,
}

impl State {
    fn add(&mut self, id: &EpisodeId, count: i64, last: Timestamp) {
        let entry = self.pending.entry(id.clone()).or_insert(Pending { count: 0, last });
        entry.count += count;
        entry.last = entry.last.max(last);
    }

    /// `episode` with its pending accesses added.
    fn counted(&self, episode: Episode) -> Episode {
        let pending = self.pending.get(&episode.id).copied();
        with(episode, pending)
    }

    /// `episode`, read when the last access write in the database was number `seen`, with the
    /// batches of this counter's writes that `seen` does not cover and its pending accesses
    /// added; `None` when `seen` cannot settle it (module docs).
    fn counted_after(&self, episode: Episode, seen: i64) -> Option<Episode> {
        if seen < self.forgotten {
            return None;
        }
        let mut episode = episode;
        for write in &self.writes {
            let covered = match write.number {
                // Not numbered yet: its transaction has not committed.
                None => false,
                Some(number) if write.committed => number <= seen,
                // Committed in the database but not reported back, or failed with its number
                // reused by another process: cannot tell.
                Some(number) if number <= seen => return None,
                Some(_) => false,
            };
            if !covered {
                let accesses = write.batch.get(&episode.id).copied();
                episode = with(episode, accesses);
            }
        }
        Some(self.counted(episode))
    }

    /// Marks the write `serial` committed, and forgets the batches of committed writes beyond
    /// [`KEPT_WRITES`].
    fn committed(&mut self, serial: u64) {
        if let Some(write) = self.writes.iter_mut().find(|w| w.serial == serial) {
            write.committed = true;
        }
        while self.writes.iter().filter(|w| w.committed).count() > KEPT_WRITES {
            let Some(oldest) = self.writes.iter().position(|w| w.committed) else { break };
            if let Some(number) = self.writes.remove(oldest).and_then(|w| w.number) {
                self.forgotten = self.forgotten.max(number);
            }
        }
    }
}

/// `episode` with `accesses` added to its statistics.
fn with(mut episode: Episode, accesses: Option<Pending>) -> Episode {
    if let Some(pending) = accesses {
        episode.access_count += pending.count;
        episode.last_accessed_at =
            Some(episode.last_accessed_at.map_or(pending.last, |t| t.max(pending.last)));
    }
    episode
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
    /// Held for writing by a write of the map from taking its batch until its transaction has
    /// ended; for reading by a recall reading its episodes' stored counts again when the write
    /// numbers cannot settle them (module docs). So those reads never see a batch both in the
    /// database and in `pending`, or in neither.
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

    /// `episodes` as stored now with the accesses counted since (module docs); `None` for
    /// those deleted.
    async fn reread(&self, episodes: &[Episode]) -> Result<Vec<Option<Episode>>> {
        let ids: Vec<EpisodeId> = episodes.iter().map(|e| e.id.clone()).collect();
        // The rows and the number of the last access write they include, in one snapshot.
        let mut tx = self.db.reader().begin().await.map_err(DbError::from)?;
        let seen = episodes::last_access_write(&mut tx).await?;
        let stored = episodes::get_many(&mut *tx, &ids).await?;
        tx.commit().await.map_err(DbError::from)?;
        let counted: Option<Vec<Option<Episode>>> = {
            let mut stored = by_id(stored);
            let state = self.lock();
            ids.iter()
                .map(|id| match stored.remove(id) {
                    Some(episode) => state.counted_after(episode, seen).map(Some),
                    None => Some(None),
                })
                .collect()
        };
        if let Some(counted) = counted {
            return Ok(counted);
        }
        // The number could not settle it: read again while no write can run.
        let _gate = self.gate.read().await;
        let mut stored = by_id(episodes::get_many(self.db.reader(), &ids).await?);
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

    /// Writes every pending access in one numbered transaction (module docs).
    async fn write(self: Arc<Self>) -> Result<()> {
        let _gate = self.gate.write().await;
        let (serial, deltas) = {
            let mut state = self.lock();
            if state.pending.is_empty() {
                return Ok(());
            }
            state.started += 1;
            let serial = state.started;
            let batch = std::mem::take(&mut state.pending);
            let deltas: Vec<AccessDelta> = batch
                .iter()
                .map(|(id, p)| AccessDelta { id: id.clone(), count: p.count, last: p.last })
                .collect();
            state.writes.push_back(Write { serial, number: None, batch, committed: false });
            (serial, deltas)
        };
        let mut unfinished = Unfinished { counter: &self, serial, armed: true };
        let written = self.write_numbered(serial, &deltas).await;
        unfinished.armed = false;
        let mut state = self.lock();
        state.finished += 1;
        match written {
            Ok(updated) => {
                state.committed(serial);
                debug!(episodes = deltas.len(), updated, "access statistics written");
                Ok(())
            }
            Err(error) => {
                // Back into `pending`, in the same step that drops the write: counted once.
                if let Some(index) = state.writes.iter().position(|w| w.serial == serial)
                    && let Some(write) = state.writes.remove(index)
                {
                    for (id, pending) in write.batch {
                        state.add(&id, pending.count, pending.last);
                    }
                }
                Err(error)
            }
        }
    }

    /// The transaction of the write `serial`: its number (recorded before it can commit), then
    /// `deltas`; the episodes updated.
    async fn write_numbered(&self, serial: u64, deltas: &[AccessDelta]) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let number = episodes::next_access_write(&mut tx).await?;
        if let Some(write) = self.lock().writes.iter_mut().find(|w| w.serial == serial) {
            write.number = Some(number);
        }
        let updated = episodes::add_accesses(&mut *tx, deltas).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(updated)
    }
}

/// Drops the write `serial` from the counter's writes if its future is dropped before the
/// write ended (its runtime shut down): its batch is then lost, as in a crash (module docs),
/// and no recall goes on counting it.
struct Unfinished<'a> {
    counter: &'a AccessCounter,
    serial: u64,
    armed: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut state = self.counter.lock();
        state.writes.retain(|w| w.serial != self.serial);
        state.finished += 1;
    }
}

/// `episodes` by id.
fn by_id(episodes: Vec<Episode>) -> HashMap<EpisodeId, Episode> {
    episodes.into_iter().map(|e| (e.id.clone(), e)).collect()
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

    /// One episode `kept` with one access pending in a counter, and a search begun after it:
    /// its ticket taken and the row read (stored count 0).
    struct Overlap {
        _dir: tempfile::TempDir,
        db: Db,
        kept: Episode,
        counter: Arc<AccessCounter>,
        ticket: Ticket,
        read: Episode,
    }

    async fn overlap() -> std::result::Result<Overlap, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("a.db")).await?;
        let kept = episode(&db, "kept").await?;
        let counter = Arc::new(AccessCounter::new(db.clone(), Duration::from_secs(3600)));
        counter.record(counter.ticket(), vec![kept.clone()]).await?;
        let ticket = counter.ticket();
        let read = episodes::get(db.reader(), &kept.id).await?;
        Ok(Overlap { _dir: dir, db, kept, counter, ticket, read })
    }

    #[tokio::test]
    async fn a_search_overlapping_a_write_reads_its_episodes_again()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        // A search begins, reads the row (count 0) ...
        let Overlap { _dir, db, kept, counter, ticket, read } = overlap().await?;
        let gone = episode(&db, "gone").await?;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_recall_overlapping_a_write_in_flight_does_not_wait_for_it()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let Overlap { _dir, db, kept, counter, ticket, read } = overlap().await?;
        // A write takes the pending access, then waits for the writer connection held here.
        let writer = db.writer().acquire().await?;
        let writing = tokio::spawn({
            let counter = Arc::clone(&counter);
            async move { counter.flush().await }
        });
        while counter.lock().started == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let counted =
            tokio::time::timeout(Duration::from_secs(5), counter.record(ticket, vec![read])).await??;
        assert_eq!(
            counted[0].as_ref().map(|e| e.access_count),
            Some(2),
            "stored 0 + the write in flight 1 + its own access, without waiting for the write"
        );
        drop(writer);
        writing.await??;
        assert_eq!(stored(&db, &kept).await?, 1);
        let read = episodes::get(db.reader(), &kept.id).await?;
        let counted = counter.record(ticket, vec![read]).await?;
        assert_eq!(counted[0].as_ref().map(|e| e.access_count), Some(3), "stored 1 (the write) + 2 pending");
        counter.flush().await?;
        assert_eq!(stored(&db, &kept).await?, 3);
        Ok(())
    }

    #[tokio::test]
    async fn a_failed_write_puts_its_batch_back_and_it_is_counted_once()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let Overlap { _dir, db, kept, counter, ticket, read } = overlap().await?;
        // The write cannot number itself, so it fails and rolls back.
        sqlx::query("ALTER TABLE access_writes RENAME TO access_writes_away").execute(db.writer()).await?;
        assert!(counter.flush().await.is_err());
        sqlx::query("ALTER TABLE access_writes_away RENAME TO access_writes").execute(db.writer()).await?;
        assert_eq!(stored(&db, &kept).await?, 0);
        let counted = counter.record(ticket, vec![read]).await?;
        assert_eq!(
            counted[0].as_ref().map(|e| e.access_count),
            Some(2),
            "the failed batch (pending again) + its own"
        );
        counter.flush().await?;
        assert_eq!(stored(&db, &kept).await?, 2);
        Ok(())
    }

    #[tokio::test]
    async fn write_numbers_settle_which_batches_a_row_includes()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("a.db")).await?;
        let row = episode(&db, "row").await?;
        let batch = |count| HashMap::from([(row.id.clone(), Pending { count, last: Timestamp::now() })]);
        let mut state = State::default();
        for serial in 1..=6 {
            state.writes.push_back(Write {
                serial,
                number: Some(serial as i64 + 10),
                batch: batch(1),
                committed: false,
            });
            state.committed(serial);
        }
        assert_eq!(state.writes.len(), KEPT_WRITES, "older committed writes are forgotten");
        assert_eq!(state.forgotten, 12, "numbers 11 and 12 forgotten");
        let count = |state: &State, seen| state.counted_after(row.clone(), seen).map(|e| e.access_count);
        assert_eq!(count(&state, 11), None, "rows older than a forgotten write cannot be settled");
        assert_eq!(count(&state, 12), Some(4), "writes 13 to 16 are not in rows read at 12");
        assert_eq!(count(&state, 14), Some(2));
        assert_eq!(count(&state, 16), Some(0));
        state.writes.push_back(Write { serial: 7, number: None, batch: batch(5), committed: false });
        state.add(&row.id, 3, Timestamp::now());
        assert_eq!(count(&state, 16), Some(8), "a write not numbered yet has not committed; pending counts");
        if let Some(write) = state.writes.back_mut() {
            write.number = Some(17);
        }
        assert_eq!(count(&state, 16), Some(8), "numbered, not in rows read at 16");
        assert_eq!(count(&state, 17), None, "committed in the database but not reported back: unknown");
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
