//! [`NeuralEmbedder`]: a BERT sentence embedder run on the CPU in pure Rust — by default
//! all-MiniLM-L6-v2, the offline default whenever its files are in the model cache.
//!
//! The recipe is sentence-transformers' for that model: the model's own `tokenizer.json`
//! (uncased WordPiece) truncating to [`MAX_TOKENS`] pieces including `[CLS]`/`[SEP]` (the
//! file itself says 128 and pads to 128; both are overridden), padding per batch only, a
//! 6-layer BERT with exact GELU ([`bert`]: candle's matrix products, fused kernels between
//! them), mean pooling over the attention mask and L2 normalisation: 384 dimensions.
//!
//! A call tokenizes every text, sorts them by length so a batch wastes little padding, cuts
//! them into batches of at most [`BATCH_TOKENS`] padded pieces and runs the batches on rayon's
//! pool, one per core; the vectors go back in input order. The files are located and verified
//! by [`files`].
//!
//! The token budget (rather than a count of texts) bounds the encoder's largest tensors — the
//! attention scores, `texts × 12 heads × width²` floats — at about 25 MB whatever the text
//! lengths, below the size at which glibc's allocator hands every allocation to a fresh
//! `mmap` (and the kernel zero-fills it page by page on first touch) instead of reusing freed
//! memory. [`tune_allocator`] does the rest; see docs/embeddings.md for the measured
//! difference.

mod allocator;
mod bert;
pub(crate) mod files;
mod kernels;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationParams};
use tracing::Instrument;

pub use allocator::tune_allocator;

use crate::embedder::{Embedder, check_not_blank};
use crate::error::{EmbedError, Result};
use bert::Bert;
use files::{CONFIG, NEURAL_DIMENSIONS, NEURAL_MODEL, TOKENIZER, WEIGHTS, read_verified};

/// Word pieces kept per text, `[CLS]` and `[SEP]` included (sentence-transformers'
/// `max_seq_length` for all-MiniLM-L6-v2).
pub const MAX_TOKENS: usize = 256;

/// Word pieces per batch, padding included: a batch holds as many texts of its width as fit
/// (at least one), so 8 texts of 256 pieces, or 128 of 16.
pub const BATCH_TOKENS: usize = 2048;

/// The model and its tokenizer, shared by the blocking tasks of concurrent calls.
struct Loaded {
    bert: Bert,
    tokenizer: Tokenizer,
}

/// The local neural embedder (all-MiniLM-L6-v2 on the CPU, 384 dimensions).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_embed::Result<()> {
/// use nexus_embed::{Embedder, NeuralEmbedder};
/// // The model cache: NEXUS_MODEL_DIR, else ~/.cache/nexus/models/all-MiniLM-L6-v2.
/// let dir = nexus_embed::model_dir().unwrap_or_default();
/// let embedder = NeuralEmbedder::load(&dir)?;
/// let v = embedder.embed(&["how are totals stored", "amounts are kept in cents"]).await?;
/// assert_eq!(v[0].len(), 384);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NeuralEmbedder {
    loaded: Arc<Loaded>,
}

impl std::fmt::Debug for NeuralEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralEmbedder").field("model", &NEURAL_MODEL).finish_non_exhaustive()
    }
}

impl NeuralEmbedder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`, each checked
    /// against its SHA-256 first ([`EmbedError::Model`] when one is missing or different).
    pub fn load(dir: &Path) -> Result<Self> {
        let config = read_verified(dir, CONFIG)?;
        let tokenizer_json = read_verified(dir, TOKENIZER)?;
        let weights = read_verified(dir, WEIGHTS)?;
        let model_error = |file: &str, reason: String| EmbedError::Model { path: dir.join(file), reason };
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer_json).map_err(|e| model_error(TOKENIZER.name, e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() }))
            .map_err(|e| model_error(TOKENIZER.name, e.to_string()))?;
        tokenizer.with_padding(None);
        let bert = Bert::load(&config, &weights).map_err(|reason| model_error(WEIGHTS.name, reason))?;
        tracing::debug!(model = NEURAL_MODEL, dir = %dir.display(), "neural embedder loaded");
        Ok(Self { loaded: Arc::new(Loaded { bert, tokenizer }) })
    }

    /// Embeds `texts` on the calling thread (batches spread over rayon's pool); what
    /// [`Embedder::embed`] runs on a blocking task.
    pub fn embed_blocking(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        check_not_blank(texts)?;
        let failed = |message: String| EmbedError::Inference {
            model: NEURAL_MODEL.to_owned(),
            message,
            inputs: (0..texts.len()).collect(),
        };
        let loaded = &self.loaded;
        let encodings =
            loaded.tokenizer.encode_batch_fast(texts.to_vec(), true).map_err(|e| failed(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let batches: Vec<Vec<Vec<f32>>> = token_batches(&order, |i| ids[i].len())
            .into_par_iter()
            .map(|chunk| {
                let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i]).collect();
                loaded.bert.embed(&batch)
            })
            .collect::<candle_core::Result<_>>()
            .map_err(|e| failed(e.to_string()))?;
        let mut vectors = vec![Vec::new(); texts.len()];
        for (&i, vector) in order.iter().zip(batches.into_iter().flatten()) {
            vectors[i] = vector;
        }
        Ok(vectors)
    }
}

/// Cuts `order` (sorted by ascending length) into runs whose padded size — the run's length
/// times its last, longest text — stays within [`BATCH_TOKENS`] (a longer text alone).
fn token_batches(order: &[usize], len: impl Fn(usize) -> usize) -> Vec<&[usize]> {
    let mut batches = Vec::new();
    let mut start = 0;
    for end in 1..=order.len() {
        let next_too_big = order.get(end).is_some_and(|&i| (end - start + 1) * len(i) > BATCH_TOKENS);
        if end == order.len() || next_too_big {
            batches.push(&order[start..end]);
            start = end;
        }
    }
    batches
}

#[async_trait]
impl Embedder for NeuralEmbedder {
    fn model(&self) -> &str {
        NEURAL_MODEL
    }

    fn dimensions(&self) -> usize {
        NEURAL_DIMENSIONS
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        check_not_blank(texts)?;
        let span = tracing::debug_span!("nexus_embed.neural", model = NEURAL_MODEL, batch = texts.len());
        let owned: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        let this = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
            this.embed_blocking(&texts)
        });
        async move {
            task.await.map_err(|e| EmbedError::Inference {
                model: NEURAL_MODEL.to_owned(),
                message: format!("the embedding task failed: {e}"),
                inputs: (0..texts.len()).collect(),
            })?
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{BATCH_TOKENS, token_batches};

    #[test]
    fn batches_keep_order_and_stay_within_the_token_budget() {
        let lengths = [3, 5, 9, 16, 16, 40, 130, 256, 256, 256, 256, 256, 256, 256, 256, 256, 1100];
        let order: Vec<usize> = (0..lengths.len()).collect();
        let batches = token_batches(&order, |i| lengths[i]);
        let flat: Vec<usize> = batches.iter().flat_map(|b| b.iter().copied()).collect();
        assert_eq!(flat, order, "every text once, in order");
        for batch in &batches {
            let width = lengths[batch[batch.len() - 1]];
            assert!(batch.len() == 1 || batch.len() * width <= BATCH_TOKENS, "{batch:?} too big");
        }
        // Eight 256-piece texts fill a batch; the ninth starts the next one.
        assert!(batches.iter().any(|b| b.len() == 8 && b.iter().all(|&i| lengths[i] == 256)));
        // A text longer than the budget allows alongside others goes alone.
        assert_eq!(batches.last().map(|b| b.len()), Some(1));
        assert!(token_batches(&[], |_| 1).is_empty());
    }
}
