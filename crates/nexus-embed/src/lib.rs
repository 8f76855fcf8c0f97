//! # nexus-embed
//!
//! Turns text into vectors for Nexus: episodes and code chunks are embedded when stored and
//! queries when searched.
//!
//! * [`Embedder`] — the object-safe trait (`Arc<dyn Embedder>`): model name, dimensions,
//!   `embed(&[&str])`. Model and dimensions identify the vector space (nexus-vector's
//!   collections and the cache are keyed by them).
//! * [`OpenAiEmbedder`] — OpenAI or any OpenAI-compatible server (Ollama, llama.cpp server,
//!   vLLM, TEI) through `async-openai`: batching within the API's limits, bounded concurrency,
//!   retries with exponential backoff and jitter on 429/5xx/timeouts honouring `Retry-After`,
//!   results in input order.
//! * [`NeuralEmbedder`] — the offline default when its model files are in the model cache:
//!   all-MiniLM-L6-v2 (BERT, 384 dimensions) on the CPU with candle; files verified by SHA-256
//!   ([`model_dir`], `scripts/fetch-model.sh` fetches them).
//! * [`LocalEmbedder`] — the hashing embedder, the offline fallback: deterministic feature
//!   hashing, no network, no download. Lexical, not semantic (see `docs/embeddings.md` for
//!   its measured quality).
//! * [`CachedEmbedder`] — wraps any embedder with an in-memory LRU and a persistent cache in
//!   the database (`embedding_cache`, keyed by model, dimensions and SHA-256 of the text).
//! * [`EmbedderConfig`] — picks the provider from configuration or the environment
//!   (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `NEXUS_EMBEDDER`, …).
//! * [`EmbedError`] — typed errors (auth, rate limit, bad request, timeout, dimension
//!   mismatch, …) that name the inputs left without a vector.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_embed::EmbedderConfig;
//! let db = nexus_db::Db::in_memory().await?;
//! // OpenAI-compatible if OPENAI_API_KEY / OPENAI_BASE_URL say so, the local embedder otherwise.
//! let embedder = EmbedderConfig::from_vars(None, |_| None)?.build_cached(db)?;
//! let vectors = embedder.embed(&["store totals in cents", "fn total_cents(cart: &Cart) -> i64"]).await?;
//! assert_eq!(vectors[1].len(), embedder.dimensions());
//! # Ok(()) }
//! ```

mod cache;
mod config;
mod embedder;
mod error;
mod local;
mod neural;
mod openai;

pub use cache::{CacheOptions, CacheStats, CachedEmbedder};
pub use config::{EmbedderConfig, EmbedderKind};
pub use embedder::Embedder;
pub use error::{EmbedError, Result};
pub use local::{DEFAULT_LOCAL_DIMENSIONS, LOCAL_MODEL, LocalEmbedder};
pub use neural::files::{
    FETCH_COMMAND, NEURAL_DIMENSIONS, NEURAL_MODEL, fetch_hint, model_dir, model_dir_from, model_present,
};
pub use neural::{BATCH_TOKENS, MAX_TOKENS, NeuralEmbedder, tune_allocator};
pub use openai::{DEFAULT_OPENAI_MODEL, OPENAI_BASE_URL, OpenAiConfig, OpenAiEmbedder, RetryPolicy};
