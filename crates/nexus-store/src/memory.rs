//! Episodic memory: [`Store::remember`] writes an episode with its vector, [`Store::recall`]
//! finds a project's relevant episodes and counts the access, [`Store::prune`] applies a
//! retention policy.

use std::time::Duration;

use nexus_db::episodes::{self, Episode, EpisodeType, NewEpisode};
use nexus_db::{EpisodeId, ProjectId, SourceKind, Timestamp};
use nexus_search::Source;
use nexus_vector::Item;
use serde::Serialize;
use tracing::info;

use crate::error::{Result, StoreError};
use crate::store::Store;

/// Largest episode content [`Store::remember`] accepts: nexus-db's [`nexus_db::MAX_CONTENT_BYTES`]
/// (1 MiB), the limit of every write path.
pub const MAX_EPISODE_BYTES: usize = nexus_db::MAX_CONTENT_BYTES;

/// Fewest candidates each leg of [`Store::recall`]'s search returns before fusion; a recall
/// asks each leg for `max(3 × limit, RECALL_CANDIDATES)` (the search builder's default is 100).
/// A leg's cost grows with its depth — sqlite-vec picks each chunk's best `k` with a selection
/// that costs `k × chunk` — while a page of 10 does not need 100. On SciFact (page of 10,
/// hybrid, nDCG@10 with 30 / 100 candidates): MiniLM vectors 0.7153 / 0.7152 (train, 809
/// queries) and 0.7152 / 0.7160 (test, 300); the hashing embedder 0.6975 / 0.6975 and
/// 0.6824 / 0.6824 (see `docs/server.md`).
pub const RECALL_CANDIDATES: u32 = 30;

/// Options of [`Store::recall`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecallOptions {
    /// Only episodes of these types (empty: all).
    pub types: Vec<EpisodeType>,
    /// At most this many episodes (default 10).
    pub limit: u32,
    /// Drop episodes whose fused score is below this (default: none). With the default RRF
    /// fusion a row ranked r-th by one leg scores `1/(60 + r)`; found by both legs, the sum.
    pub min_score: Option<f64>,
}

impl Default for RecallOptions {
    fn default() -> Self {
        Self { types: Vec::new(), limit: 10, min_score: None }
    }
}

/// One recalled episode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recalled {
    /// The episode, with its access counted.
    pub episode: Episode,
    /// The fused relevance score.
    pub score: f64,
    /// The matched words in context, when the keyword leg found it.
    pub snippet: Option<String>,
}

/// What [`Store::prune`] keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetentionPolicy {
    /// Episodes older than this are removed (default 90 days; `None` keeps any age).
    pub max_age: Option<Duration>,
    /// At most this many episodes per project are kept (default 10,000; `None`: no limit);
    /// the excess goes least important first, then least accessed, then least recently used.
    pub max_episodes: Option<u64>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { max_age: Some(Duration::from_secs(90 * 24 * 3600)), max_episodes: Some(10_000) }
    }
}

/// What [`Store::prune`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Ids removed for being older than `max_age`.
    pub expired: Vec<EpisodeId>,
    /// Ids removed to bring the project down to `max_episodes`.
    pub excess: Vec<EpisodeId>,
}

impl PruneReport {
    /// Total episodes removed.
    pub fn removed(&self) -> usize {
        self.expired.len() + self.excess.len()
    }
}

impl Store {
    /// Records an episode: embeds its content first (outside the write lock), then writes the
    /// episode, its full-text entry (by trigger) and its vector in one transaction.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_store::Result<()> {
    /// use nexus_db::{episodes::{EpisodeType, NewEpisode}, projects::{self, NewProject}};
    /// let store = nexus_store::Store::builder_in_memory().open().await?;
    /// let p = projects::create(store.db().writer(), NewProject::new("shop", "/shop")).await?;
    /// store.remember(NewEpisode::new(&p.id, EpisodeType::Decision, "Prices are kept in cents")).await?;
    /// let recalled = store.recall(&p.id, "how are prices stored", &Default::default()).await?;
    /// assert_eq!(recalled[0].episode.access_count, 1);
    /// # Ok(()) }
    /// ```
    pub async fn remember(&self, new: NewEpisode) -> Result<Episode> {
        if new.content.len() > MAX_EPISODE_BYTES {
            return Err(StoreError::TooLarge {
                what: "episode content",
                size: new.content.len(),
                limit: MAX_EPISODE_BYTES,
            });
        }
        let text = match &new.summary {
            Some(summary) => format!("{summary}\n{}", new.content),
            None => new.content.clone(),
        };
        let vector = self.embedder().embed_one(&text).await?;
        let label = new.episode_type.as_str();
        let mut tx = self.db().begin().await?;
        let episode = episodes::create(&mut *tx, new).await?;
        self.collection()
            .upsert(&mut tx, Item::new(SourceKind::Episode, &episode.id, &vector).label(label))
            .await?;
        tx.commit().await.map_err(nexus_db::DbError::from)?;
        Ok(episode)
    }

    /// The project's episodes most relevant to `query` (hybrid search), best first; an access
    /// of each returned episode is counted (`access_count + 1`, `last_accessed_at` = now), and
    /// the returned episodes show it.
    ///
    /// The counts are kept in memory and written in the background, one statement for all the
    /// accesses of an interval ([`StoreBuilder::access_flush_interval`], default
    /// [`ACCESS_FLUSH_INTERVAL`]), and by [`Store::flush_accesses`], [`Store::close`] and
    /// [`Store::prune`]; so a recall usually writes nothing, and concurrent recalls do not
    /// queue for the single writer. Counts stay exact (each returned episode's access is
    /// counted once); what a crash loses is the accesses not written yet, never an episode. A
    /// returned episode's count is its stored count plus its pending accesses. On a read-only
    /// store nothing is counted.
    ///
    /// [`StoreBuilder::access_flush_interval`]: crate::StoreBuilder::access_flush_interval
    /// [`ACCESS_FLUSH_INTERVAL`]: crate::ACCESS_FLUSH_INTERVAL
    pub async fn recall(
        &self,
        project_id: &ProjectId,
        query: &str,
        options: &RecallOptions,
    ) -> Result<Vec<Recalled>> {
        let mut search = self
            .search()
            .text(query)
            .project(project_id)
            .kinds([SourceKind::Episode])
            .episode_types(options.types.iter().copied())
            .candidates(recall_candidates(options.limit))
            .limit(options.limit);
        if let Some(min) = options.min_score {
            search = search.min_score(min);
        }
        let ticket = self.access().ticket();
        let results = search.execute().await?;
        let (episodes, found): (Vec<Episode>, Vec<(f64, Option<String>)>) = results
            .hits
            .into_iter()
            .filter_map(|hit| match hit.source {
                Source::Episode(episode) => Some((episode, (hit.score, hit.snippet))),
                _ => None,
            })
            .unzip();
        let counted = self.access().record(ticket, episodes).await?;
        Ok(counted
            .into_iter()
            .zip(found)
            .filter_map(|(episode, (score, snippet))| Some(Recalled { episode: episode?, score, snippet }))
            .collect())
    }

    /// Applies `policy` to a project's episodes (their vectors and full-text entries go with
    /// them) and reports what was removed. The access counts recalls have kept in memory are
    /// written first, so "least accessed" counts every access.
    pub async fn prune(&self, project_id: &ProjectId, policy: &RetentionPolicy) -> Result<PruneReport> {
        self.flush_accesses().await?;
        let mut report = PruneReport::default();
        let mut tx = self.db().begin().await?;
        if let Some(age) = policy.max_age {
            report.expired =
                episodes::delete_created_before(&mut *tx, project_id, Timestamp::now().minus(age)).await?;
        }
        if let Some(max) = policy.max_episodes {
            let count = episodes::count(&mut *tx, project_id).await?;
            let excess = count - i64::try_from(max).unwrap_or(i64::MAX);
            if excess > 0 {
                report.excess = episodes::delete_least_valuable(&mut *tx, project_id, excess).await?;
            }
        }
        tx.commit().await.map_err(nexus_db::DbError::from)?;
        info!(%project_id, expired = report.expired.len(), excess = report.excess.len(), "pruned episodes");
        Ok(report)
    }
}

/// Candidates per leg for a recall of `limit` episodes (see [`RECALL_CANDIDATES`]).
fn recall_candidates(limit: u32) -> u32 {
    limit.saturating_mul(3).clamp(RECALL_CANDIDATES, nexus_search::MAX_CANDIDATES)
}
