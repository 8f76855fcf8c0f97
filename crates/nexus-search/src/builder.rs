//! [`Search`]: the builder an orchestrator calls — one query, two legs, one fused ranking.
//!
//! The keyword leg (nexus-fts) and the vector leg (nexus-vector) run concurrently, each on its
//! own reader connection, each with the project/kind/label filters applied inside its own
//! query, each returning up to `candidates` rows. Their lists are fused ([`crate::fusion`]),
//! cut to a page, and hydrated into typed rows with snippets.
//!
//! The legs (and the chunk-type pass over the candidates) run on readers taken through
//! [`InterruptGuard`]: a search that is dropped or cut by a timeout interrupts its running SQLite
//! statement, so the reader returns to the pool at once instead of when a long statement would
//! have finished. Statements that cannot run long — the page's hydration, reading its rows by
//! key, a vector leg answered from a resident copy (`Collection::knn_interruptible`) and a
//! keyword leg answered in one statement (`nexus_fts::search_interruptible`) — take a plain
//! reader: a guard costs a round trip to the connection's thread (for its handle), a
//! tenth of a recall's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use nexus_db::episodes::EpisodeType;
use nexus_db::{Db, InterruptGuard, ProjectId, SourceKind, code_chunks};
use nexus_embed::Embedder;
use nexus_fts::{FieldWeights, FtsError, FtsHit, FtsQuery, MatchMode, SnippetText};
use nexus_vector::{Collection, KnnQuery, Neighbor};
use serde::{Deserialize, Serialize};
use tracing::{Instrument, debug, info_span};

use crate::cursor::Cursor;
use crate::error::{Result, SearchError};
use crate::fusion::{Fused, Fusion, HitKey, LegHit, fuse};
use crate::hit::{Hit, load_sources};
use crate::rerank::{NameMatch, Named, Question};

/// Which legs a search runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Keyword and vector legs, fused (the default). Needs text and a query vector.
    #[default]
    Hybrid,
    /// Keyword leg only. Needs text.
    FtsOnly,
    /// Vector leg only. Needs a query vector (or text and an embedder).
    VectorOnly,
}

/// Largest accepted candidate depth per leg.
pub const MAX_CANDIDATES: u32 = 4096;

/// Starts a search over `db`. See [`Search`] for the options.
pub fn search(db: &Db) -> Search<'_> {
    Search {
        db,
        text: None,
        embedding: None,
        embedder: None,
        collection: None,
        project: None,
        kinds: Vec::new(),
        labels: Vec::new(),
        episode_types: Vec::new(),
        mode: Mode::Hybrid,
        match_mode: None,
        fusion: Fusion::default(),
        candidates: 100,
        limit: 10,
        explain: false,
        snippets: true,
        max_distance: None,
        min_score: None,
        after: None,
        chunk_weights: Vec::new(),
        chunk_types: Vec::new(),
        fts_weights: FieldWeights::default(),
        name_match: NameMatch::default(),
    }
}

/// A search being built; run it with [`Search::execute`].
///
/// Defaults: hybrid mode, RRF with k = 60 and equal weights, 100 candidates per leg, 10 hits.
#[derive(Debug, Clone)]
#[must_use = "a search does nothing until `.execute().await`"]
pub struct Search<'a> {
    db: &'a Db,
    text: Option<String>,
    embedding: Option<Vec<f32>>,
    embedder: Option<&'a dyn Embedder>,
    collection: Option<&'a Collection>,
    project: Option<ProjectId>,
    kinds: Vec<SourceKind>,
    labels: Vec<String>,
    episode_types: Vec<EpisodeType>,
    mode: Mode,
    match_mode: Option<MatchMode>,
    fusion: Fusion,
    candidates: u32,
    limit: u32,
    explain: bool,
    snippets: bool,
    max_distance: Option<f32>,
    min_score: Option<f64>,
    after: Option<Cursor>,
    chunk_weights: Vec<(String, f64)>,
    chunk_types: Vec<String>,
    fts_weights: FieldWeights,
    name_match: NameMatch,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// The hits, best first.
    pub hits: Vec<Hit>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
    /// How many candidates the keyword leg returned.
    pub fts_candidates: usize,
    /// How many candidates the vector leg returned.
    pub vector_candidates: usize,
}

impl<'a> Search<'a> {
    /// The query text, for the keyword leg (nexus-fts query language) and, with an embedder,
    /// the vector leg.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The query vector for the vector leg.
    pub fn embedding(mut self, vector: impl Into<Vec<f32>>) -> Self {
        self.embedding = Some(vector.into());
        self
    }

    /// Embed the query text with `embedder` for the vector leg (when no embedding is given).
    pub fn embed_with(mut self, embedder: &'a dyn Embedder) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// The vector collection the vector leg searches.
    pub fn collection(mut self, collection: &'a Collection) -> Self {
        self.collection = Some(collection);
        self
    }

    /// Only rows of this project.
    pub fn project(mut self, project_id: impl Into<ProjectId>) -> Self {
        self.project = Some(project_id.into());
        self
    }

    /// Only these kinds of rows (default: all).
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = SourceKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// Only vectors carrying one of these labels (a metadata column filtered inside the KNN).
    pub fn labels(mut self, labels: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Only episodes of these types, in both legs: the keyword leg filters on `episodes.type`,
    /// the vector leg on the vector label (nexus-store labels each episode's vector with its
    /// type). Implies `kinds([SourceKind::Episode])`.
    pub fn episode_types(mut self, types: impl IntoIterator<Item = EpisodeType>) -> Self {
        self.episode_types = types.into_iter().collect();
        if !self.episode_types.is_empty() {
            self.kinds = vec![SourceKind::Episode];
        }
        self
    }

    /// Which legs run (default [`Mode::Hybrid`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How plain words combine in the keyword leg (default: nexus-fts's default).
    pub fn match_mode(mut self, mode: MatchMode) -> Self {
        self.match_mode = Some(mode);
        self
    }

    /// The fusion method (default RRF, k = 60, equal weights).
    pub fn fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = fusion;
        self
    }

    /// Candidates each leg returns before fusion (default 100, at most [`MAX_CANDIDATES`]).
    pub fn candidates(mut self, candidates: u32) -> Self {
        self.candidates = candidates;
        self
    }

    /// Hits per page (default 10).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Attach each hit's per-leg breakdown.
    pub fn explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// Cut FTS snippets for the hits (default true); turn off when only ids and scores matter.
    pub fn snippets(mut self, snippets: bool) -> Self {
        self.snippets = snippets;
        self
    }

    /// Vector candidates farther than this are dropped inside the KNN.
    pub fn max_distance(mut self, distance: f32) -> Self {
        self.max_distance = Some(distance);
        self
    }

    /// Multiplies the fused score of code chunks of this `chunk_type` by `factor` (finite,
    /// `>= 0`), before paging: `("test", 0.5)` ranks test code below the code it tests without
    /// hiding it. A second call for the same type replaces the first's factor.
    pub fn chunk_type_weight(mut self, chunk_type: impl Into<String>, factor: f64) -> Self {
        let chunk_type = chunk_type.into();
        self.chunk_weights.retain(|(t, _)| *t != chunk_type);
        self.chunk_weights.push((chunk_type, factor));
        self
    }

    /// Re-ranks the best fused code chunks by how well the query's words name them (their
    /// name, owner and signature; see [`NameMatch`]). Default: off (all weights zero).
    pub fn name_match(mut self, name_match: NameMatch) -> Self {
        self.name_match = name_match;
        self
    }

    /// Only code chunks of these `chunk_type`s (`function`, `method`, `test`, …), chosen among
    /// the legs' candidates (other kinds of rows are left out too). Empty (the default): no
    /// filter.
    pub fn chunk_types(mut self, types: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.chunk_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The keyword leg's BM25 column weights (default [`FieldWeights::default`]).
    pub fn fts_weights(mut self, weights: FieldWeights) -> Self {
        self.fts_weights = weights;
        self
    }

    /// Fused hits scoring below this are dropped.
    pub fn min_score(mut self, score: f64) -> Self {
        self.min_score = Some(score);
        self
    }

    /// Continue after a previous page (`SearchResults::next`).
    pub fn after(mut self, cursor: &str) -> Result<Self> {
        self.after = Some(cursor.parse()?);
        Ok(self)
    }

    fn validate(&self) -> Result<()> {
        let invalid = |option, reason: String| Err(SearchError::InvalidOption { option, reason });
        if self.limit == 0 {
            return invalid("limit", "must be at least 1".into());
        }
        if self.candidates == 0 || self.candidates > MAX_CANDIDATES {
            return invalid("candidates", format!("must be 1 to {MAX_CANDIDATES}, not {}", self.candidates));
        }
        if let Err(reason) = self.fusion.validate() {
            return invalid("fusion", reason);
        }
        if let Some(score) = self.min_score
            && !score.is_finite()
        {
            return invalid("min_score", format!("must be finite, not {score}"));
        }
        if let Err(reason) = self.name_match.validate() {
            return invalid("name_match", reason);
        }
        if let Some((chunk_type, factor)) =
            self.chunk_weights.iter().find(|(_, f)| !(f.is_finite() && *f >= 0.0))
        {
            return invalid(
                "chunk_type_weight",
                format!("{chunk_type}: must be finite and >= 0, not {factor}"),
            );
        }
        Ok(())
    }

    /// The query vector: the given embedding, or the text embedded with the embedder.
    async fn query_vector(&self, collection: &Collection) -> Result<Cow<'_, [f32]>> {
        if let Some(vector) = &self.embedding {
            return Ok(Cow::Borrowed(vector));
        }
        let (Some(embedder), Some(text)) = (self.embedder, self.text.as_deref()) else {
            return Err(SearchError::NoEmbedding { mode: self.mode });
        };
        if embedder.model() != collection.model() || embedder.dimensions() != collection.dimensions() {
            return Err(SearchError::EmbedderMismatch {
                embedder: embedder.model().to_owned(),
                embedder_dims: embedder.dimensions(),
                collection: collection.name().to_owned(),
                collection_model: collection.model().to_owned(),
                collection_dims: collection.dimensions(),
            });
        }
        Ok(Cow::Owned(embedder.embed_one(text).await?))
    }

    /// Runs the search and returns one page of hydrated hits.
    pub async fn execute(self) -> Result<SearchResults> {
        self.validate()?;
        let span =
            info_span!("nexus_search", mode = ?self.mode, project = ?self.project, kinds = ?self.kinds);
        self.run().instrument(span).await
    }

    /// The search itself: both legs at once, fusion, one page, hydration.
    async fn run(self) -> Result<SearchResults> {
        let mode = self.mode;
        let depth = self.after.as_ref().map_or(self.candidates, Cursor::depth);
        let text = match mode {
            Mode::Hybrid | Mode::FtsOnly => {
                Some(self.text.as_deref().ok_or(SearchError::MissingText { mode })?)
            }
            Mode::VectorOnly => None,
        };
        let collection = match mode {
            Mode::Hybrid | Mode::VectorOnly => {
                Some(self.collection.ok_or(SearchError::NoCollection { mode })?)
            }
            Mode::FtsOnly => None,
        };
        let vector = match collection {
            Some(collection) => Some(self.query_vector(collection).await?),
            None => None,
        };
        let (fts_hits, neighbors) = futures::try_join!(
            self.fts_leg(text, depth),
            self.vector_leg(collection.zip(vector.as_deref()), depth)
        )?;
        let fts_len = fts_hits.len();
        let mut fused = self.fuse_legs(&fts_hits, &neighbors);
        if !self.chunk_weights.is_empty() || !self.chunk_types.is_empty() || self.name_match.is_active() {
            self.by_chunk_type(&mut fused, text).await?;
        }
        let (page, next) = self.page(&fused, depth);
        let hits = self.hydrate(page, fts_hits, text, depth).await?;
        Ok(SearchResults { hits, next, fts_candidates: fts_len, vector_candidates: neighbors.len() })
    }

    /// The keyword leg: up to `depth` FTS hits for `text` (none without text), with the
    /// project, kind and episode-type filters inside the query.
    async fn fts_leg(&self, text: Option<&str>, depth: u32) -> Result<Vec<FtsHit>> {
        let Some(text) = text else { return Ok(Vec::new()) };
        let started = Instant::now();
        let query = self.fts_query(text, depth);
        // Guarded whenever a statement could run long (`search_interruptible`).
        let hits = match nexus_fts::search_interruptible(self.db.reader(), &query).await {
            // Text with nothing to search for leaves the vector leg to answer alone.
            Err(FtsError::EmptyQuery) if self.mode == Mode::Hybrid => Vec::new(),
            other => other?,
        };
        debug!(hits = hits.len(), elapsed = ?started.elapsed(), "fts leg");
        Ok(hits)
    }

    /// The keyword leg's query: `depth` hits, the filters, the column weights, no snippets
    /// (those are built for the page's hits only, in [`Self::hydrate`]).
    fn fts_query(&self, text: &str, depth: u32) -> FtsQuery {
        let mut query = FtsQuery::new(text)
            .kinds(self.kinds.iter().copied())
            .episode_types(self.episode_types.iter().copied())
            .limit(depth)
            .snippet(None);
        query.weights = self.fts_weights;
        if let Some(project) = &self.project {
            query = query.project(project);
        }
        if let Some(match_mode) = self.match_mode {
            query = query.mode(match_mode);
        }
        query
    }

    /// The vector leg: up to `depth` nearest neighbours of the query vector in the collection
    /// (none without them), with the project, kind, label and distance filters inside the KNN.
    async fn vector_leg(&self, target: Option<(&Collection, &[f32])>, depth: u32) -> Result<Vec<Neighbor>> {
        let Some((collection, vector)) = target else { return Ok(Vec::new()) };
        let started = Instant::now();
        let labels: Vec<&str> = self
            .labels
            .iter()
            .map(String::as_str)
            .chain(self.episode_types.iter().map(|t| t.as_str()))
            .collect();
        let mut query = KnnQuery::new(vector, depth).kinds(&self.kinds).labels(&labels);
        if let Some(project) = &self.project {
            query = query.project(project);
        }
        if let Some(distance) = self.max_distance {
            query = query.max_distance(distance);
        }
        // Guarded whenever a statement could run long (`knn_interruptible`).
        let neighbors = collection.knn_interruptible(self.db.reader(), &query).await?;
        debug!(hits = neighbors.len(), elapsed = ?started.elapsed(), "vector leg");
        Ok(neighbors)
    }

    /// Both legs' lists fused into one ranking (nearer neighbours score higher), without the
    /// hits below `min_score`.
    fn fuse_legs(&self, fts_hits: &[FtsHit], neighbors: &[Neighbor]) -> Vec<Fused> {
        let fts_list: Vec<LegHit> = fts_hits
            .iter()
            .map(|h| LegHit { key: HitKey { kind: h.kind, id: h.id.clone() }, score: h.score })
            .collect();
        let vector_list: Vec<LegHit> = neighbors
            .iter()
            .map(|n| LegHit { key: HitKey { kind: n.kind, id: n.id.clone() }, score: -f64::from(n.distance) })
            .collect();
        let mut fused = fuse(&fts_list, &vector_list, &self.fusion);
        if let Some(min) = self.min_score {
            fused.retain(|f| f.score >= min);
        }
        fused
    }

    /// Applies the chunk-type filter, the name-match bonus (with `text`) and the chunk-type
    /// weights to `fused` (reading the candidates' rows), then restores the fused order.
    async fn by_chunk_type(&self, fused: &mut Vec<Fused>, text: Option<&str>) -> Result<()> {
        let ids: Vec<nexus_db::CodeChunkId> = fused
            .iter()
            .filter(|f| f.key.kind == SourceKind::CodeChunk)
            .map(|f| nexus_db::CodeChunkId::from(f.key.id.as_str()))
            .collect();
        let mut reader = InterruptGuard::acquire(self.db.reader()).await?;
        let rows: HashMap<String, code_chunks::CodeChunk> = if ids.is_empty() {
            HashMap::new()
        } else {
            code_chunks::get_many(&mut *reader, &ids)
                .await?
                .into_iter()
                .map(|c| (c.id.to_string(), c))
                .collect()
        };
        reader.release();
        let row = |f: &Fused| (f.key.kind == SourceKind::CodeChunk).then(|| rows.get(&f.key.id)).flatten();
        if !self.chunk_types.is_empty() {
            fused.retain(|f| row(f).is_some_and(|c| self.chunk_types.contains(&c.chunk_type)));
        }
        let question = text.filter(|_| self.name_match.is_active()).map(Question::new);
        let top = fused.first().map_or(0.0, |f| f.score);
        for (i, f) in fused.iter_mut().enumerate() {
            let Some(chunk) = row(f) else { continue };
            if let Some(question) = &question
                && i < self.name_match.depth
            {
                let named = Named {
                    symbol: chunk.symbols.first().map(String::as_str),
                    signature: chunk.signature.as_deref(),
                };
                f.score += question.bonus(named, &self.name_match, top);
            }
            if let Some((_, factor)) = self.chunk_weights.iter().find(|(name, _)| *name == chunk.chunk_type) {
                f.score *= factor;
            }
        }
        fused.sort_by(crate::fusion::compare);
        Ok(())
    }

    /// The page of `fused` after the cursor (from the start without one), and the cursor of
    /// the next page when there is one.
    fn page<'f>(&self, fused: &'f [Fused], depth: u32) -> (&'f [Fused], Option<String>) {
        let start = self.after.as_ref().map_or(0, |cursor| fused.partition_point(|f| !cursor.precedes(f)));
        let end = (start + self.limit as usize).min(fused.len());
        let page = &fused[start..end];
        let next = (end < fused.len())
            .then(|| page.last().map(|last| Cursor::after(last, depth).to_string()))
            .flatten();
        (page, next)
    }

    /// The page's rows, read in one go, with FTS snippets for the page's keyword hits only
    /// (hits whose row was deleted meanwhile are left out).
    async fn hydrate(
        &self,
        page: &[Fused],
        fts_hits: Vec<FtsHit>,
        text: Option<&str>,
        depth: u32,
    ) -> Result<Vec<Hit>> {
        let keys: Vec<&HitKey> = page.iter().map(|f| &f.key).collect();
        // Reads by key only (module docs): no guard.
        let mut reader =
            self.db.reader().acquire().await.map_err(|e| nexus_db::DbError::from_sqlx("acquire", e))?;
        let mut sources = load_sources(&mut reader, &keys).await?;
        let shown: Vec<FtsHit> =
            fts_hits.into_iter().filter(|h| keys.iter().any(|k| k.kind == h.kind && k.id == h.id)).collect();
        let with_snippets = match text {
            Some(text) if self.snippets && !shown.is_empty() => {
                // The rows just read hold the snippet columns: not read again.
                let texts: Vec<SnippetText<'_>> = shown
                    .iter()
                    .filter_map(|h| {
                        let source = sources.get(&HitKey { kind: h.kind, id: h.id.clone() })?;
                        Some(SnippetText { kind: h.kind, rowid: h.rowid, columns: source.snippet_columns()? })
                    })
                    .collect();
                nexus_fts::snippets_of_rows(&mut *reader, &self.fts_query(text, depth), &shown, &texts)
                    .await?
            }
            _ => Vec::new(),
        };
        drop(reader);
        let mut snippets: HashMap<HitKey, String> = with_snippets
            .into_iter()
            .filter_map(|h| Some((HitKey { kind: h.kind, id: h.id }, h.snippet?)))
            .collect();
        Ok(page
            .iter()
            .filter_map(|f| {
                let source = sources.remove(&f.key)?;
                Some(Hit {
                    score: f.score,
                    source,
                    snippet: snippets.remove(&f.key),
                    explain: self.explain.then_some(f.breakdown),
                })
            })
            .collect())
    }
}
