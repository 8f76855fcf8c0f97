//! Keyword search kept warm while the code index changes: [`SearchWarmer`].
//!
//! nexus-fts caches each phrase's BM25 score list per version of an index, so any write to the
//! code index ([`Store::index_dir`](crate::Store::index_dir),
//! [`Store::index_document`](crate::Store::index_document),
//! [`Store::remove_document`](crate::Store::remove_document)) leaves every list of it stale,
//! those [`Store::warm_search`](crate::Store::warm_search) computed included, and the first
//! searches after it build the lists of the common words again themselves. The store tells the
//! warmer of each such write; once no write has come for the warmer's delay
//! ([`crate::SEARCH_WARM_DELAY`] by default, [`StoreBuilder::warm_search_after`](crate::StoreBuilder::warm_search_after)),
//! a background task warms the index again. A burst of writes (an indexing run, knowledge
//! uploads) thus costs one warm at its end. `Store::close` stops the task; a warm under way is
//! dropped (it only reads).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nexus_db::{Db, SourceKind};
use nexus_fts::{FieldWeights, WARM_TERMS, Warmed};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// Warms the code index's score lists again after its writes stop (see the module docs).
#[derive(Debug)]
pub(crate) struct SearchWarmer {
    db: Db,
    /// `None`: never warm after writes.
    delay: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Writes to the code index so far.
    writes: u64,
    /// The background task, while one is scheduled or warming.
    task: Option<JoinHandle<()>>,
    closed: bool,
    /// What the last warm did (tests).
    last: Option<Warmed>,
}

impl SearchWarmer {
    pub(crate) fn new(db: Db, delay: Option<Duration>) -> Self {
        Self { db, delay, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes a write to the code index: the index is warmed again once writes have stopped
    /// for the delay (nothing outside a tokio runtime, or after [`Self::close`]).
    pub(crate) fn wrote(self: &Arc<Self>) {
        let Some(delay) = self.delay else { return };
        let mut state = self.state();
        state.writes += 1;
        if state.closed || state.task.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let warmer = Arc::clone(self);
        state.task = Some(runtime.spawn(async move { warmer.run(delay).await }));
    }

    /// Waits until no write came for `delay`, warms, and again while writes came meanwhile.
    async fn run(&self, delay: Duration) {
        let mut seen = self.state().writes;
        loop {
            tokio::time::sleep(delay).await;
            let now = self.state().writes;
            if now != seen {
                seen = now;
                continue;
            }
            let weights = FieldWeights::default();
            match nexus_fts::warm(&self.db, SourceKind::CodeChunk, &weights, WARM_TERMS).await {
                Ok(warmed) => {
                    debug!(lists = warmed.lists, rows = warmed.rows, "search warmed after writes");
                    self.state().last = Some(warmed);
                }
                Err(error) => warn!(%error, "search not warmed after writes"),
            }
            let mut state = self.state();
            if state.writes == seen {
                // Done; a later write starts a new task (this one is finished by then).
                state.task = None;
                return;
            }
            seen = state.writes;
        }
    }

    /// Stops the background task for good (`Store::close`); a warm under way is dropped.
    pub(crate) async fn close(&self) {
        let task = {
            let mut state = self.state();
            state.closed = true;
            state.task.take()
        };
        if let Some(task) = task {
            task.abort();
            // Cancelled (or finished): either way nothing runs on the database any more.
            let _ = task.await;
        }
    }

    /// What the last warm after writes did.
    #[cfg(test)]
    pub(crate) fn last(&self) -> Option<Warmed> {
        self.state().last
    }
}
