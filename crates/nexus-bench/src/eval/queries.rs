//! Runs every query of the split through the public search builder (`nexus_search::search`),
//! timing each call end to end (embedding the query too, when an embedder is used).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nexus_db::{Db, SourceKind};
use nexus_embed::Embedder;
use nexus_fts::MatchMode;
use nexus_search::{Fusion, Mode, search};
use nexus_vector::Collection;

use super::dataset::Dataset;
use super::embeddings::Vectors;
use super::metrics::Ranked;

/// Everything that shapes a query besides its text.
pub struct QueryPlan<'a> {
    pub project: &'a str,
    pub mode: Mode,
    pub fusion: Fusion,
    pub candidates: u32,
    pub top: u32,
    pub match_mode: MatchMode,
    pub collection: Option<&'a Collection>,
    /// Precomputed query vectors; otherwise the embedder embeds the query text.
    pub query_vectors: Option<&'a Vectors>,
    pub embedder: Option<&'a dyn Embedder>,
}

/// Results and latency of each query.
pub async fn run_queries(
    db: &Db,
    dataset: &Dataset,
    plan: &QueryPlan<'_>,
) -> anyhow::Result<(BTreeMap<String, Vec<Ranked>>, Vec<Duration>)> {
    let mut results = BTreeMap::new();
    let mut latencies = Vec::with_capacity(dataset.queries.len());
    for (qid, text) in &dataset.queries {
        let mut query = search(db)
            .text(text.as_str())
            .project(plan.project)
            .kinds([SourceKind::Episode])
            .mode(plan.mode)
            .fusion(plan.fusion)
            .candidates(plan.candidates.max(plan.top))
            .limit(plan.top)
            .match_mode(plan.match_mode)
            .snippets(false);
        if let Some(collection) = plan.collection {
            query = query.collection(collection);
        }
        match (plan.query_vectors.and_then(|v| v.by_id.get(qid)), plan.embedder) {
            (Some(vector), _) => query = query.embedding(vector.clone()),
            (None, Some(embedder)) => query = query.embed_with(embedder),
            (None, None) => {}
        }
        let started = Instant::now();
        let found = query.execute().await?;
        latencies.push(started.elapsed());
        let ranked = found
            .hits
            .into_iter()
            .map(|h| Ranked { doc_id: h.source.id().into_owned(), score: h.score })
            .collect();
        results.insert(qid.clone(), ranked);
    }
    Ok((results, latencies))
}
