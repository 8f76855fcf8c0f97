//! [`Store`]: the one handle an orchestrator keeps — the database, the embedder and the vector
//! collection of that embedder — and [`StoreBuilder`] to configure it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nexus_db::{Db, DbOptions, SourceKind};
use nexus_embed::{CachedEmbedder, Embedder, LOCAL_MODEL, LocalEmbedder};
use nexus_search::{Fusion, NameMatch, Search, Weights};
use nexus_vector::{Collection, CollectionSpec, Element};

use crate::access::AccessCounter;
use crate::error::Result;
use crate::warmer::SearchWarmer;

/// The Nexus store: typed tables ([`Store::db`]), hybrid search ([`Store::search`]),
/// episodic memory ([`Store::remember`], [`Store::recall`], [`Store::prune`]) and the code
/// index ([`Store::index_dir`]). Cheap to clone; clones share everything; safe to share across
/// tasks.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    embedder: Arc<dyn Embedder>,
    collection: Collection,
    access: Arc<AccessCounter>,
    warmer: Arc<SearchWarmer>,
}

/// Configures and opens a [`Store`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_store::Result<()> {
/// use std::sync::Arc;
/// use nexus_embed::LocalEmbedder;
/// let store = nexus_store::Store::builder_in_memory()
///     .embedder(Arc::new(LocalEmbedder::new(256)?))
///     .readers(4)
///     .open()
///     .await?;
/// assert_eq!(store.embedder().dimensions(), 256);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `.open().await`"]
pub struct StoreBuilder {
    options: DbOptions,
    embedder: Option<Arc<dyn Embedder>>,
    cache: bool,
    access_flush_interval: Duration,
    vector_element: Element,
    warm_search_after: Option<Duration>,
}

impl StoreBuilder {
    /// The embedder (default: the offline [`LocalEmbedder`]). Its model and dimensions name the
    /// vector collection ([`CollectionSpec::for_model`]), so switching models never mixes vector
    /// spaces.
    pub fn embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Wrap the embedder in the persistent embedding cache (default true; only embedders
    /// whose [`Embedder::caching_pays`] are wrapped, not the hashing one).
    pub fn cache_embeddings(mut self, cache: bool) -> Self {
        self.cache = cache;
        self
    }

    /// How long the access counts of [`Store::recall`] wait in memory before a background
    /// task writes them (default [`ACCESS_FLUSH_INTERVAL`]; longer: fewer writes, more
    /// statistics lost in a crash). Zero makes every recall write its counts before it
    /// returns (concurrent recalls share the write); `cargo xtask bench serve` compares the
    /// two.
    pub fn access_flush_interval(mut self, interval: Duration) -> Self {
        self.access_flush_interval = interval;
        self
    }

    /// The element type of the embedder's vector collection if this creates it (default
    /// [`Element::Float32`]; [`Element::Int8`] scans a quarter of the bytes and rescores its
    /// candidates with the float32 vectors: recall@10 0.98 on SciFact's MiniLM vectors but
    /// 0.44 on the hashing embedder's, see `docs/server.md`). An existing collection keeps the
    /// type it was created with, whatever is asked here.
    pub fn vector_element(mut self, element: Element) -> Self {
        self.vector_element = element;
        self
    }

    /// How long after the last write to the code index its keyword-search score lists are
    /// computed again in the background, so that the first searches after an indexing run or
    /// a document upload do not build them (default [`SEARCH_WARM_DELAY`]; `None`: never;
    /// see [`Store::warm_search`]).
    pub fn warm_search_after(mut self, delay: Option<Duration>) -> Self {
        self.warm_search_after = delay;
        self
    }

    /// Maximum reader connections (see [`DbOptions::readers`]).
    pub fn readers(mut self, readers: u32) -> Self {
        self.options = self.options.readers(readers);
        self
    }

    /// Apply pending migrations on open (default true).
    pub fn run_migrations(mut self, run: bool) -> Self {
        self.options = self.options.run_migrations(run);
        self
    }

    /// Open the database read-only (see [`DbOptions::read_only`]): search, recall and stats
    /// work on a read-only file or directory and while another process holds the write lock;
    /// writes fail, and embeddings are not cached.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.options = self.options.read_only(read_only);
        self
    }

    /// Replaces every database option (pragmas, pool sizes, timeouts) at once.
    pub fn db_options(mut self, options: DbOptions) -> Self {
        self.options = options;
        self
    }

    /// Opens the database, the embedder and its collection.
    pub async fn open(self) -> Result<Store> {
        let db = Db::open_with(self.options).await?;
        let base: Arc<dyn Embedder> = self.embedder.unwrap_or_else(|| Arc::new(LocalEmbedder::default()));
        let embedder: Arc<dyn Embedder> = if self.cache && !db.is_read_only() && base.caching_pays() {
            Arc::new(CachedEmbedder::new(base, db.clone()))
        } else {
            base
        };
        let spec = CollectionSpec::for_model(embedder.model(), embedder.dimensions());
        let collection = match Collection::open(db.reader(), &spec.name).await {
            // Nothing can be created read-only: a database where nothing was embedded with this
            // model yet is `UnknownCollection`.
            found if db.is_read_only() => found?,
            // The model's collection keeps the element type it was created with.
            Ok(existing) if existing.model() == spec.model && existing.dimensions() == spec.dimensions => {
                existing
            }
            // None yet (or one of another model under this name: `SpecMismatch`).
            _ => Collection::open_or_create(&db, &spec.element(self.vector_element)).await?,
        };
        let access = Arc::new(AccessCounter::new(db.clone(), self.access_flush_interval));
        let warm_after = self.warm_search_after.filter(|_| !db.is_read_only());
        let warmer = Arc::new(SearchWarmer::new(db.clone(), warm_after));
        Ok(Store { db, embedder, collection, access, warmer })
    }
}

impl Store {
    /// Opens (creating and migrating if needed) the store at `path` with the defaults: the
    /// offline embedder.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder(path).open().await
    }

    /// A builder for the store file at `path`.
    pub fn builder(path: impl AsRef<Path>) -> StoreBuilder {
        let path: PathBuf = path.as_ref().to_path_buf();
        StoreBuilder {
            options: DbOptions::file(path),
            embedder: None,
            cache: true,
            access_flush_interval: ACCESS_FLUSH_INTERVAL,
            vector_element: Element::Float32,
            warm_search_after: Some(SEARCH_WARM_DELAY),
        }
    }

    /// A builder for a private in-memory store (tests, throwaway work).
    pub fn builder_in_memory() -> StoreBuilder {
        StoreBuilder {
            options: DbOptions::in_memory(),
            embedder: None,
            cache: true,
            access_flush_interval: ACCESS_FLUSH_INTERVAL,
            vector_element: Element::Float32,
            warm_search_after: Some(SEARCH_WARM_DELAY),
        }
    }

    /// The database: pass `store.db().reader()` / `.writer()` / `.begin()` to the table
    /// modules of nexus-db.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The embedder (cached when caching pays, unless configured otherwise).
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// The vector collection of the embedder.
    pub fn collection(&self) -> &Collection {
        &self.collection
    }

    /// What keeps keyword search warm after writes to the code index.
    pub(crate) fn warmer(&self) -> &Arc<SearchWarmer> {
        &self.warmer
    }

    /// Where recall counts its accesses.
    pub(crate) fn access(&self) -> &Arc<AccessCounter> {
        &self.access
    }

    /// Writes the access counts [`Store::recall`] keeps in memory now (a background task
    /// writes them an interval after a recall, see [`StoreBuilder::access_flush_interval`]);
    /// after it returns, the stored `access_count`s include every earlier recall. On error
    /// the counts stay pending.
    pub async fn flush_accesses(&self) -> Result<()> {
        self.access.flush().await
    }

    /// A hybrid search preconfigured with this store's collection and embedder.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_store::Result<()> {
    /// let store = nexus_store::Store::builder_in_memory().open().await?;
    /// let results = store.search().text("how are checkpoints restored").limit(5).execute().await?;
    /// assert!(results.hits.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn search(&self) -> Search<'_> {
        nexus_search::search(&self.db)
            .collection(&self.collection)
            .embed_with(self.embedder.as_ref())
            .fusion(default_fusion(self.embedder.model()))
    }

    /// A search over the indexed code only (code chunks), with [`code_fusion`], test and
    /// generated code ranked lower (their fused score times [`CODE_TEST_WEIGHT`]; find them
    /// with `.chunk_types(["test"])`) and so are `block`s — imports, module docs, top-level
    /// statements — ([`CODE_BLOCK_WEIGHT`]), so a question about behaviour finds the
    /// definition, and the best candidates re-ranked by how well the question's words name
    /// them ([`CODE_NAME_MATCH`]): the store's collection and embedder, like [`Store::search`].
    pub fn search_code(&self) -> Search<'_> {
        self.search()
            .kinds([SourceKind::CodeChunk])
            .fusion(code_fusion(self.embedder.model()))
            .name_match(CODE_NAME_MATCH)
            .chunk_type_weight("test", CODE_TEST_WEIGHT)
            .chunk_type_weight("generated", CODE_TEST_WEIGHT)
            .chunk_type_weight("block", CODE_BLOCK_WEIGHT)
    }

    /// Fills the process-wide cache of keyword-search score lists with those of the code
    /// index's [`nexus_fts::WARM_TERMS`] most frequent terms ([`nexus_fts::warm`]), so that the
    /// first searches using them rank from cached lists instead of scoring every matching row.
    /// Worth it once in a long-running process (`nexus serve` does it when it starts); after
    /// the store's own writes to the code index the store warms it again by itself
    /// ([`StoreBuilder::warm_search_after`]).
    pub async fn warm_search(&self) -> Result<nexus_fts::Warmed> {
        let weights = nexus_fts::FieldWeights::default();
        Ok(nexus_fts::warm(&self.db, SourceKind::CodeChunk, &weights, nexus_fts::WARM_TERMS).await?)
    }

    /// Closes the database cleanly: the access counts of recalls still in memory and the
    /// embedder's queued cache writes are written first (see [`Store::flush_accesses`] and
    /// [`Embedder::flush`]; a failure there is logged, not returned), then the WAL is
    /// checkpointed into the main file.
    pub async fn close(self) -> Result<()> {
        self.warmer.close().await;
        if let Err(error) = self.access.flush().await {
            tracing::warn!(%error, "access counts not written before close");
        }
        if let Err(error) = self.embedder.flush().await {
            tracing::warn!(%error, "embedding cache not flushed before close");
        }
        Ok(self.db.close().await?)
    }
}

/// How long after the last write to the code index the store warms keyword search again by
/// default ([`StoreBuilder::warm_search_after`]).
pub const SEARCH_WARM_DELAY: Duration = Duration::from_secs(2);

/// How long [`Store::recall`]'s access counts wait in memory by default before a background
/// task writes them (see [`StoreBuilder::access_flush_interval`]): the most access statistics
/// a crash can lose.
///
/// Each write rewrites the row of every episode recalled since the last one (about 6,000 of
/// 10,000 per second under the serve benchmark's load, 40–60 ms on the writer while every
/// request in flight slows down). Recalls return the same episodes again and again, and a
/// write never updates more rows than there are episodes, so a longer interval writes far
/// fewer rows in all. Five seconds instead of one took the serve benchmark's recall p99 from
/// 74–78 to 70–72 ms in interleaved runs (docs/server.md, "Tenth session").
pub const ACCESS_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// Weight of the vector leg in [`Store::search`]'s default fusion when the embedder is the
/// hashing one ([`LOCAL_MODEL`]). Being lexical like BM25, it only adds noise to the keyword
/// leg at equal weight; this weight, chosen on SciFact's train queries, keeps hybrid search
/// with it at least as good as keyword search alone (see `docs/embeddings.md`).
pub const HASHING_VECTOR_WEIGHT: f64 = 0.01;

/// The fusion [`Store::search`] uses by default with an embedder of `model`: RRF k = 60 with
/// equal weights, except for the hashing embedder, whose vector leg weighs
/// [`HASHING_VECTOR_WEIGHT`].
pub fn default_fusion(model: &str) -> Fusion {
    match model {
        LOCAL_MODEL => Fusion::Rrf { k: 60.0, weights: Weights { fts: 1.0, vector: HASHING_VECTOR_WEIGHT } },
        _ => Fusion::default(),
    }
}

/// The fusion [`Store::search_code`] uses with an embedder of `model`: RRF with k = 10 and the
/// vector leg at weight 2 for a neural embedder, whose vectors find the function a question
/// describes more often than its words do (chosen on the train half of `cargo xtask
/// eval-code`, see `docs/code-index.md`); with the hashing embedder, [`default_fusion`].
pub fn code_fusion(model: &str) -> Fusion {
    match model {
        LOCAL_MODEL => default_fusion(model),
        _ => Fusion::Rrf { k: CODE_RRF_K, weights: Weights { fts: 1.0, vector: CODE_VECTOR_WEIGHT } },
    }
}

/// What [`Store::search_code`] multiplies the fused score of test and generated code by.
pub const CODE_TEST_WEIGHT: f64 = 0.5;

/// What [`Store::search_code`] multiplies the fused score of `block` chunks by.
pub const CODE_BLOCK_WEIGHT: f64 = 0.5;

/// How [`Store::search_code`] re-ranks its 30 best candidates by the words that name them:
/// the share of the name's words in the question at weight 0.4, of the owner's (a method's
/// type) at 0.2, of the question's content words found in name, owner or signature at 0.8,
/// times the best fused score (chosen on the train half of `cargo xtask eval-code`, see
/// `docs/code-index.md`).
pub const CODE_NAME_MATCH: NameMatch = NameMatch { name: 0.4, owner: 0.2, signature: 0.8, depth: 30 };

/// RRF rank constant of [`code_fusion`].
pub const CODE_RRF_K: f64 = 10.0;

/// Weight of the vector leg in [`code_fusion`] (the keyword leg weighs 1).
pub const CODE_VECTOR_WEIGHT: f64 = 2.0;
