//! [`OpenAiEmbedder`]: embeddings from OpenAI or any OpenAI-compatible server (Ollama,
//! llama.cpp server, vLLM, TEI, …) through `async-openai`, with batching, bounded concurrency
//! and retries.
//!
//! One call to [`Embedder::embed`] is split into batches ([`batch`]); up to
//! [`OpenAiConfig::max_concurrent_requests`] requests run at once (a limit shared by all calls
//! on the same embedder); each batch is retried on its own ([`RetryPolicy`]); vectors are put
//! back in input order by the response's `data[].index`, whatever order the server used.

mod batch;
mod http;
mod retry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tracing::{Instrument, field, info_span, warn};

use crate::embedder::{Embedder, check_dimensions, check_not_blank};
use crate::error::{EmbedError, Result};
use batch::Batch;
use http::{Failure, StatusService, classify};
pub use retry::RetryPolicy;

/// OpenAI's API address, used when no base URL is configured.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The default model.
pub const DEFAULT_OPENAI_MODEL: &str = "text-embedding-3-small";

/// Settings of an [`OpenAiEmbedder`]. `Default` is OpenAI's `text-embedding-3-small` at its
/// native 1536 dimensions, with no API key (set one, or a base URL of a server that needs
/// none).
///
/// ```
/// use nexus_embed::OpenAiConfig;
/// // A local Ollama server:
/// let config = OpenAiConfig {
///     base_url: Some("http://localhost:11434/v1".into()),
///     model: "nomic-embed-text".into(),
///     dimensions: Some(768),
///     ..OpenAiConfig::default()
/// };
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiConfig {
    /// API key (`OPENAI_API_KEY`), sent as a bearer token. Required for api.openai.com.
    pub api_key: Option<String>,
    /// Base URL of the API, up to and including `/v1` (`OPENAI_BASE_URL`); `None` is
    /// [`OPENAI_BASE_URL`].
    pub base_url: Option<String>,
    /// The model to ask for.
    pub model: String,
    /// Vector length. `None` means the model's native size, known for OpenAI's models
    /// (`text-embedding-3-small` 1536, `text-embedding-3-large` 3072, `text-embedding-ada-002`
    /// 1536); other models need it set.
    pub dimensions: Option<usize>,
    /// Whether to send `dimensions` in requests (shortened vectors, supported by OpenAI's
    /// `text-embedding-3-*` and other Matryoshka models; some servers reject the parameter).
    /// `None`: send it when `dimensions` is set and the model is a `text-embedding-3-*` one.
    pub send_dimensions: Option<bool>,
    /// Inputs per request, at most 2048 (OpenAI's limit).
    pub max_inputs_per_request: usize,
    /// Estimated tokens per request (OpenAI's limit is 300,000; the estimate is the UTF-8
    /// byte count, an upper bound).
    pub max_tokens_per_request: usize,
    /// Requests in flight at once, across all calls on this embedder.
    pub max_concurrent_requests: usize,
    /// Timeout of one request, from sending to the end of the body.
    pub request_timeout: Duration,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Retries on 429, 5xx, timeouts and connection errors.
    pub retry: RetryPolicy,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: None,
            model: DEFAULT_OPENAI_MODEL.to_owned(),
            dimensions: None,
            send_dimensions: None,
            max_inputs_per_request: 2048,
            max_tokens_per_request: 300_000,
            max_concurrent_requests: 4,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("send_dimensions", &self.send_dimensions)
            .field("max_inputs_per_request", &self.max_inputs_per_request)
            .field("max_tokens_per_request", &self.max_tokens_per_request)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The native vector length of OpenAI's embedding models.
fn native_dimensions(model: &str) -> Option<usize> {
    match model {
        "text-embedding-3-small" | "text-embedding-ada-002" => Some(1536),
        "text-embedding-3-large" => Some(3072),
        _ => None,
    }
}

/// Embeddings from an OpenAI-compatible `/embeddings` endpoint.
///
/// Build it with [`OpenAiEmbedder::new`]; nothing is sent until the first `embed`.
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model: String,
    dimensions: usize,
    /// The `dimensions` request parameter, when sent.
    request_dimensions: Option<u32>,
    max_inputs: usize,
    max_tokens: usize,
    max_concurrent: usize,
    permits: Arc<Semaphore>,
    retry: RetryPolicy,
    base_url: String,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbedder {
    /// Validates `config` and builds the HTTP client (rustls with the `ring` provider, which
    /// is installed as the process default if none is). Sends nothing.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        let base_url = config.base_url.as_deref().unwrap_or(OPENAI_BASE_URL).trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base_url)
            .map_err(|e| EmbedError::config("base_url", format!("{base_url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EmbedError::config("base_url", format!("{base_url:?}: not an http(s) URL")));
        }
        let api_key = config.api_key.unwrap_or_default();
        if api_key.is_empty() && url.host_str() == Some("api.openai.com") {
            return Err(EmbedError::config("api_key", "api.openai.com needs an API key (OPENAI_API_KEY)"));
        }
        if !api_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(EmbedError::config("api_key", "must be printable ASCII without spaces"));
        }
        if config.model.trim().is_empty() {
            return Err(EmbedError::config("model", "must not be empty"));
        }
        let dimensions = match config.dimensions.or_else(|| native_dimensions(&config.model)) {
            Some(0) => return Err(EmbedError::config("dimensions", "must be at least 1")),
            Some(d) => d,
            None => {
                return Err(EmbedError::config(
                    "dimensions",
                    format!("unknown for model {:?}: set them (NEXUS_EMBED_DIMENSIONS)", config.model),
                ));
            }
        };
        let send = config
            .send_dimensions
            .unwrap_or(config.dimensions.is_some() && config.model.starts_with("text-embedding-3"));
        let request_dimensions = if send {
            Some(u32::try_from(dimensions).map_err(|_| EmbedError::config("dimensions", "too large"))?)
        } else {
            None
        };
        if !(1..=2048).contains(&config.max_inputs_per_request) {
            return Err(EmbedError::config("max_inputs_per_request", "must be between 1 and 2048"));
        }
        if config.max_tokens_per_request == 0 {
            return Err(EmbedError::config("max_tokens_per_request", "must be at least 1"));
        }
        if config.max_concurrent_requests == 0 {
            return Err(EmbedError::config("max_concurrent_requests", "must be at least 1"));
        }

        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| EmbedError::config("http client", e.to_string()))?;
        let openai = OpenAIConfig::new().with_api_base(&base_url).with_api_key(api_key);
        let client = Client::with_config(openai).with_http_service(StatusService::new(http));

        Ok(Self {
            client,
            model: config.model,
            dimensions,
            request_dimensions,
            max_inputs: config.max_inputs_per_request,
            max_tokens: config.max_tokens_per_request,
            max_concurrent: config.max_concurrent_requests,
            permits: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            retry: config.retry,
            base_url,
        })
    }

    /// Sends one batch, retrying per the policy; returns its vectors in batch order.
    async fn embed_batch<'b>(&self, texts: &[&str], batch: &'b Batch) -> Result<(&'b Batch, Vec<Vec<f32>>)> {
        let request = CreateEmbeddingRequest {
            model: self.model.clone(),
            input: EmbeddingInput::StringArray(batch.indices.iter().map(|&i| texts[i].to_owned()).collect()),
            dimensions: self.request_dimensions,
            ..CreateEmbeddingRequest::default()
        };
        let span = info_span!(
            "nexus_embed.request",
            model = %self.model,
            batch = batch.indices.len(),
            tokens_estimated = batch.tokens,
            tokens = field::Empty,
            attempts = field::Empty,
            retries = field::Empty,
            latency_ms = field::Empty,
        );
        async move {
            let started = Instant::now();
            let mut attempts = 0u32;
            let outcome = loop {
                attempts += 1;
                let result = {
                    // A permit per attempt: waiting out a backoff does not hold a slot.
                    let _permit = self.permits.acquire().await.map_err(|_| {
                        EmbedError::config("max_concurrent_requests", "request limiter closed")
                    })?;
                    self.client.embeddings().create_byot::<_, EmbeddingsResponse>(request.clone()).await
                };
                let failure = match result {
                    Ok(response) => break self.vectors(response, batch),
                    Err(error) => classify(error),
                };
                let retry_after = failure.retry_after();
                if !failure.is_retryable()
                    || attempts > self.retry.max_retries
                    || retry_after.is_some_and(|wait| wait > self.retry.max_retry_after)
                {
                    break Err(self.error(failure, attempts, batch));
                }
                let delay = retry_after.unwrap_or_else(|| self.retry.backoff(attempts));
                warn!(
                    attempt = attempts,
                    ?failure,
                    delay_ms = delay.as_millis() as u64,
                    "embedding request failed; retrying"
                );
                tokio::time::sleep(delay).await;
            };
            let span = tracing::Span::current();
            span.record("attempts", attempts);
            span.record("retries", attempts - 1);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            let (vectors, tokens) = outcome?;
            if let Some(tokens) = tokens {
                span.record("tokens", tokens);
            }
            Ok((batch, vectors))
        }
        .instrument(span)
        .await
    }

    /// Checks a response against its batch and orders its vectors by `index`; returns them
    /// with the token count the server reported.
    fn vectors(&self, response: EmbeddingsResponse, batch: &Batch) -> Result<(Vec<Vec<f32>>, Option<u64>)> {
        let invalid = |message: String| EmbedError::InvalidResponse {
            model: self.model.clone(),
            message,
            inputs: batch.indices.clone(),
        };
        let expected = batch.indices.len();
        if response.data.len() != expected {
            return Err(invalid(format!("{} vectors for {expected} inputs", response.data.len())));
        }
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in response.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            let slot = slots.get_mut(index).ok_or_else(|| invalid(format!("index {index} out of range")))?;
            if slot.replace(item.embedding).is_some() {
                return Err(invalid(format!("index {index} appears twice")));
            }
        }
        // `expected` items, each in range and none twice: every slot is filled.
        let vectors: Vec<Vec<f32>> = slots.into_iter().flatten().collect();
        check_dimensions(&self.model, self.dimensions, &vectors, |i| batch.indices[i])?;
        Ok((vectors, response.usage.map(|u| u.prompt_tokens)))
    }

    /// The caller's error for a batch that failed for good.
    fn error(&self, failure: Failure, attempts: u32, batch: &Batch) -> EmbedError {
        let model = self.model.clone();
        let inputs = batch.indices.clone();
        match failure {
            Failure::Auth { status, message } => EmbedError::Auth { model, status, message, inputs },
            Failure::QuotaExhausted { message } => EmbedError::RateLimited {
                model,
                attempts,
                retry_after: None,
                message: format!("quota exhausted: {message}"),
                inputs,
            },
            Failure::RateLimited { message, retry_after } => {
                EmbedError::RateLimited { model, attempts, retry_after, message, inputs }
            }
            Failure::BadRequest { status, message } => {
                EmbedError::BadRequest { model, status, message, inputs }
            }
            Failure::InvalidResponse { message } => EmbedError::InvalidResponse { model, message, inputs },
            Failure::Config { message } => EmbedError::config("request", message),
            Failure::Server { status, message, .. } => {
                EmbedError::Server { model, status, attempts, message, inputs }
            }
            Failure::Timeout => EmbedError::Timeout { model, attempts, inputs },
            Failure::Connection { message } => EmbedError::Connection { model, attempts, message, inputs },
        }
    }
}

/// Installs rustls' `ring` provider as the process default unless one is installed already
/// (reqwest is built without a provider of its own, to avoid compiling aws-lc).
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one meanwhile, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The embeddings response, read leniently: OpenAI-compatible servers differ in the extras
/// (`object`, `model`, `usage`), and only `data[].embedding` and `data[].index` matter.
#[derive(Debug, Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    /// Position of the input this vector belongs to; servers may answer out of order.
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        check_not_blank(texts)?;
        let batches = batch::plan(texts, self.max_inputs, self.max_tokens);
        let span = info_span!("nexus_embed.embed", model = %self.model, inputs = texts.len(), batches = batches.len());
        async {
            let mut vectors = vec![Vec::new(); texts.len()];
            let requests: Vec<_> = batches.iter().map(|batch| self.embed_batch(texts, batch)).collect();
            let mut done = futures::stream::iter(requests).buffer_unordered(self.max_concurrent);
            // The first failed batch ends the call; batches still in flight are cancelled.
            while let Some((batch, batch_vectors)) = done.try_next().await? {
                for (&index, vector) in batch.indices.iter().zip(batch_vectors) {
                    vectors[index] = vector;
                }
            }
            Ok(vectors)
        }
        .instrument(span)
        .await
    }
}
