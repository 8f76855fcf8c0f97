//! [`LocalEmbedder`]: the offline default — deterministic feature hashing, no network, no
//! model download.
//!
//! A text becomes a bag of weighted features, each hashed to one of `dimensions` buckets with
//! a hash-derived sign (signed hashing: collisions cancel on average instead of piling up),
//! and the vector is L2-normalised so cosine similarity is a dot product.
//!
//! Features, from the terms of [`terms`] (lowercase words; identifiers split at `camelCase`,
//! `snake_case` and letter/digit boundaries, the whole identifier kept too; English stop words
//! dropped unless the text has nothing else):
//!
//! * the Snowball English stem of each word (`running` → `run`), weight 1;
//! * each whole identifier (`parseconfig`), weight 1;
//! * character 3- and 4-grams of each word with boundary marks (`<run`, `ing>`), so
//!   spelling variants, compounds, other languages' inflections and scripts without spaces
//!   still share features, weight [`NGRAM_WEIGHT`] each.
//!
//! Repeated features count sublinearly: weight × (1 + ln tf).
//!
//! The weights were chosen on SciFact's *train* queries (dense-only nDCG@10 at 384
//! dimensions); pairs of consecutive words were tried and dropped: they did not help there
//! and cost buckets.
//!
//! The hash is FNV-1a with a murmur3 finaliser, written here, so vectors are identical on
//! every platform and build; any change to the recipe must change [`LOCAL_MODEL`] (the vector
//! space's name, which keys caches and collections).
//!
//! What it captures is lexical overlap, much like BM25 without IDF: no synonyms, no
//! paraphrase. See `docs/embeddings.md` for its measured retrieval quality.

mod terms;

use async_trait::async_trait;
use rust_stemmers::{Algorithm, Stemmer};
use tracing::Instrument;

use crate::embedder::{Embedder, check_not_blank};
use crate::error::{EmbedError, Result};
use terms::{TermKind, terms};

/// The local embedder's model name (the version of its recipe).
pub const LOCAL_MODEL: &str = "nexus-local-hash-v1";

/// The local embedder's default dimensions.
pub const DEFAULT_LOCAL_DIMENSIONS: usize = 384;

/// Weight of one character n-gram relative to a word.
const NGRAM_WEIGHT: f32 = 0.3;
/// Character n-gram sizes.
const NGRAM_SIZES: std::ops::RangeInclusive<usize> = 3..=4;

/// Feature classes, hashed in so that equal strings of different classes do not collide.
const CLASS_WORD: u8 = b'w';
const CLASS_IDENTIFIER: u8 = b'i';
const CLASS_NGRAM: u8 = b'g';

/// The offline embedder: feature hashing of words, identifiers and character n-grams into a
/// fixed number of dimensions, L2-normalised. Deterministic, needs no network
/// and no download; the same text always gives the same vector.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_embed::Result<()> {
/// use nexus_embed::{Embedder, LocalEmbedder};
/// let embedder = LocalEmbedder::default();
/// assert_eq!((embedder.model(), embedder.dimensions()), ("nexus-local-hash-v1", 384));
/// let v = embedder.embed(&["retry the request", "retrying requests", "bake a cake"]).await?;
/// let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
/// assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]));
/// # Ok(()) }
/// ```
pub struct LocalEmbedder {
    dimensions: usize,
    stemmer: Stemmer,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder").field("dimensions", &self.dimensions).finish_non_exhaustive()
    }
}

impl Default for LocalEmbedder {
    fn default() -> Self {
        Self { dimensions: DEFAULT_LOCAL_DIMENSIONS, stemmer: Stemmer::create(Algorithm::English) }
    }
}

impl LocalEmbedder {
    /// A local embedder with `dimensions` buckets (at least 1). More dimensions mean fewer
    /// hash collisions and somewhat better retrieval, at the cost of storage.
    pub fn new(dimensions: usize) -> Result<Self> {
        if dimensions == 0 {
            return Err(EmbedError::config("dimensions", "must be at least 1"));
        }
        Ok(Self { dimensions, ..Self::default() })
    }

    /// Embeds one text synchronously (the work is pure computation).
    pub fn embed_text(&self, text: &str) -> Vec<f32> {
        let mut features = self.features(text);
        features.sort_unstable_by_key(|f| f.0);
        let mut vector = vec![0.0f32; self.dimensions];
        // Merge equal features (sorted, so the order of additions is fixed: deterministic).
        let mut i = 0;
        while i < features.len() {
            let (hash, weight) = features[i];
            let mut count = 0u32;
            while i < features.len() && features[i].0 == hash {
                count += 1;
                i += 1;
            }
            // ln in f64, rounded once: the same f32 on every platform's libm in practice.
            let value = weight * (1.0 + f64::from(count).ln()) as f32;
            let (bucket, negative) = self.bucket(hash);
            vector[bucket] += if negative { -value } else { value };
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        } else {
            // Every feature cancelled out (or the text was blank): a fixed unit vector rather
            // than zeros, which cosine distance cannot handle.
            let (bucket, _) = self.bucket(hash_feature(CLASS_WORD, text.as_bytes()));
            vector[bucket] = 1.0;
        }
        vector
    }

    /// The hashed features of `text`, with their class weights, one entry per occurrence.
    fn features(&self, text: &str) -> Vec<(u64, f32)> {
        let terms = terms(text);
        let only_stop_words = terms.iter().all(|t| t.stop);
        let mut features = Vec::with_capacity(terms.len() * 8);
        for term in terms.iter().filter(|t| only_stop_words || !t.stop) {
            match term.kind {
                TermKind::Identifier => {
                    features.push((hash_feature(CLASS_IDENTIFIER, term.text.as_bytes()), 1.0));
                }
                TermKind::Word => {
                    let stem = self.stemmer.stem(&term.text);
                    features.push((hash_feature(CLASS_WORD, stem.as_bytes()), 1.0));
                    push_ngrams(&term.text, &mut features);
                }
            }
        }
        features
    }

    /// The bucket and sign of a feature hash: the high bits choose the bucket (Lemire's
    /// multiply-shift range reduction), the lowest bit the sign.
    fn bucket(&self, hash: u64) -> (usize, bool) {
        let bucket = ((u128::from(hash) * self.dimensions as u128) >> 64) as usize;
        (bucket, hash & 1 == 1)
    }
}

/// Character n-grams of `<word>` (boundary marks included), sizes [`NGRAM_SIZES`].
fn push_ngrams(word: &str, features: &mut Vec<(u64, f32)>) {
    let chars: Vec<char> = std::iter::once('<').chain(word.chars()).chain(std::iter::once('>')).collect();
    let mut buffer = String::new();
    for size in NGRAM_SIZES {
        for window in chars.windows(size) {
            buffer.clear();
            buffer.extend(window);
            features.push((hash_feature(CLASS_NGRAM, buffer.as_bytes()), NGRAM_WEIGHT));
        }
    }
}

/// FNV-1a over the class byte and the feature's bytes, then the murmur3 64-bit finaliser to
/// spread the bits.
fn hash_feature(class: u8, bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = (OFFSET ^ u64::from(class)).wrapping_mul(PRIME);
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn model(&self) -> &str {
        LOCAL_MODEL
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// False: hashing a text is cheaper than looking its vector up.
    fn caching_pays(&self) -> bool {
        false
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        /// Texts embedded between yields to the runtime (a few milliseconds of work).
        const CHUNK: usize = 32;
        check_not_blank(texts)?;
        let span = tracing::debug_span!("nexus_embed.local", model = LOCAL_MODEL, batch = texts.len());
        async {
            let mut vectors = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(CHUNK) {
                vectors.extend(chunk.iter().map(|text| self.embed_text(text)));
                // Pure computation: let other tasks run between chunks of a large batch.
                tokio::task::yield_now().await;
            }
            Ok(vectors)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn same_text_same_vector_across_instances() {
        let text = "Retry the request with exponential backoff; parseRetryAfter() honours 429.";
        let a = LocalEmbedder::default().embed_text(text);
        let b = LocalEmbedder::default().embed_text(text);
        assert_eq!(a, b);
    }

    #[test]
    fn recipe_is_pinned() -> Result<()> {
        // Stored vectors of `nexus-local-hash-v1` (caches, collections) must stay valid: any
        // change to hashing, terms or weights needs a new model name, and this test says so.
        assert_ne!(hash_feature(CLASS_WORD, b"run"), hash_feature(CLASS_NGRAM, b"run"));
        assert_eq!(hash_feature(CLASS_WORD, b"run"), 0x050e_5b7f_e9e1_91cd);
        let v = LocalEmbedder::new(8)?.embed_text("Retry failedRequests, honouring Retry-After!");
        let pinned: [f32; 8] =
            [-0.07496143, 0.06605456, -0.017601162, 0.26637098, 0.0, 0.25159904, 0.9177643, -0.11472054];
        assert!(v.iter().zip(pinned).all(|(a, b)| (a - b).abs() < 1e-6), "{v:?}");
        Ok(())
    }

    #[test]
    fn vectors_are_unit_length() -> Result<()> {
        let embedder = LocalEmbedder::new(64)?;
        for text in ["a", "the of and", "🙂", "x".repeat(10_000).as_str(), "東京タワー", "fn main() {}"]
        {
            let v = embedder.embed_text(text);
            assert_eq!(v.len(), 64);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{text:?}: norm {norm}");
        }
        Ok(())
    }

    #[test]
    fn related_texts_are_closer_than_unrelated_ones() {
        let e = LocalEmbedder::default();
        let query = e.embed_text("how do we retry failed HTTP requests");
        let near = e.embed_text("fn retry_failed_request(http: &Client) retries the HTTP request");
        let far = e.embed_text("the cake recipe needs flour, sugar and eggs");
        assert!(cosine(&query, &near) > cosine(&query, &far) + 0.2);
    }

    #[test]
    fn identifiers_match_their_words() {
        let e = LocalEmbedder::default();
        let code = e.embed_text("getUserName");
        let prose = e.embed_text("get the user name");
        let other = e.embed_text("setCacheSize");
        assert!(cosine(&code, &prose) > cosine(&code, &other));
    }

    #[test]
    fn zero_dimensions_is_a_config_error() {
        assert!(matches!(LocalEmbedder::new(0), Err(EmbedError::Config { setting: "dimensions", .. })));
    }
}
