//! `--mode fts`: every query through `nexus_fts::search` over the episodes of the project.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nexus_db::{Db, SourceKind};
use nexus_fts::{FtsError, FtsQuery, MatchMode};

use super::dataset::Dataset;
use super::metrics::Ranked;

/// Results and latency of each query (a query with nothing to search for gets no results).
pub async fn run_queries(
    db: &Db,
    project: &str,
    dataset: &Dataset,
    mode: MatchMode,
    top: u32,
) -> anyhow::Result<(BTreeMap<String, Vec<Ranked>>, Vec<Duration>)> {
    let mut results = BTreeMap::new();
    let mut latencies = Vec::with_capacity(dataset.queries.len());
    for (qid, text) in &dataset.queries {
        let query = FtsQuery::new(text.as_str())
            .project(project)
            .kinds([SourceKind::Episode])
            .limit(top)
            .mode(mode)
            .snippet(None);
        let started = Instant::now();
        let hits = match nexus_fts::search(db.reader(), &query).await {
            Err(FtsError::EmptyQuery) => Vec::new(),
            other => other?,
        };
        latencies.push(started.elapsed());
        let ranked = hits.into_iter().map(|h| Ranked { doc_id: h.id, score: h.score }).collect();
        results.insert(qid.clone(), ranked);
    }
    Ok((results, latencies))
}
