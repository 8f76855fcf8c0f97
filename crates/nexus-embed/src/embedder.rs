//! The [`Embedder`] trait every provider implements, and the input rules they share.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{EmbedError, Result};

/// Turns texts into vectors.
///
/// An embedder has a fixed model name and dimensions: together they identify the vector
/// space (nexus-vector keys its collections by them, the cache keys its rows by them). It is
/// object-safe, so stores and search crates hold it as `Arc<dyn Embedder>`.
///
/// `embed` returns exactly one vector per input, in input order, each of length
/// [`Embedder::dimensions`]. Blank inputs (empty or whitespace only) are rejected with
/// [`EmbedError::EmptyInput`] before any work is done, by every embedder, so behaviour does
/// not depend on the provider.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_embed::Result<()> {
/// use std::sync::Arc;
/// use nexus_embed::{Embedder, LocalEmbedder};
/// let embedder: Arc<dyn Embedder> = Arc::new(LocalEmbedder::default());
/// let vectors = embedder.embed(&["parse the config file", "fn parse_config()"]).await?;
/// assert_eq!(vectors.len(), 2);
/// assert_eq!(vectors[0].len(), embedder.dimensions());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// The model name, part of the identity of the vector space (e.g. `text-embedding-3-small`).
    fn model(&self) -> &str;

    /// The length of every vector this embedder returns.
    fn dimensions(&self) -> usize;

    /// Embeds `texts`, returning one vector per text in the same order.
    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;

    /// Embeds a single text.
    async fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        let mut vectors = self.embed(&[text]).await?;
        match vectors.pop() {
            Some(vector) if vectors.is_empty() => Ok(vector),
            _ => Err(EmbedError::InvalidResponse {
                model: self.model().to_owned(),
                message: format!("expected 1 vector, got {}", vectors.len() + 1),
                inputs: vec![0],
            }),
        }
    }

    /// Whether remembering this embedder's vectors (a [`crate::CachedEmbedder`] around it)
    /// saves anything. True by default: a model run or an API call costs far more than a
    /// lookup. False when computing a vector costs less than looking it up and storing it
    /// (the hashing [`crate::LocalEmbedder`]: about 1.5 KiB of cache per text for nothing) or
    /// when the embedder caches already. `nexus-store` wraps an embedder in a cache only
    /// when this is true.
    fn caching_pays(&self) -> bool {
        true
    }

    /// Waits until whatever this embedder keeps for later is done — the queued writes of a
    /// [`crate::CachedEmbedder`] — and reports the first failure. Call it before closing the
    /// database. Embedders without such work return at once (the default).
    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Forwards [`Embedder`] through a smart pointer, so `Arc<dyn Embedder>` and
/// `Box<dyn Embedder>` are embedders themselves.
macro_rules! forward_embedder {
    ($($pointer:ident),+) => {$(
        #[async_trait]
        impl<E: Embedder + ?Sized> Embedder for $pointer<E> {
            fn model(&self) -> &str {
                (**self).model()
            }

            fn dimensions(&self) -> usize {
                (**self).dimensions()
            }

            async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
                (**self).embed(texts).await
            }

            fn caching_pays(&self) -> bool {
                (**self).caching_pays()
            }

            async fn flush(&self) -> Result<()> {
                (**self).flush().await
            }
        }
    )+};
}

forward_embedder!(Arc, Box);

/// Rejects blank texts (empty or whitespace only), naming every one of them.
pub(crate) fn check_not_blank(texts: &[&str]) -> Result<()> {
    let blank: Vec<usize> =
        texts.iter().enumerate().filter(|(_, t)| t.trim().is_empty()).map(|(i, _)| i).collect();
    if blank.is_empty() { Ok(()) } else { Err(EmbedError::EmptyInput { inputs: blank }) }
}

/// Checks that every vector has `expected` dimensions; `index(i)` gives the caller's index of
/// vector `i`.
pub(crate) fn check_dimensions(
    model: &str,
    expected: usize,
    vectors: &[Vec<f32>],
    index: impl Fn(usize) -> usize,
) -> Result<()> {
    match vectors.iter().position(|v| v.len() != expected) {
        None => Ok(()),
        Some(i) => Err(EmbedError::DimensionMismatch {
            model: model.to_owned(),
            expected,
            actual: vectors[i].len(),
            index: index(i),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_texts_are_all_named() {
        let err = check_not_blank(&["a", "", " \n\t", "b"]).err();
        assert_eq!(err.as_ref().map(EmbedError::inputs), Some(&[1, 2][..]));
        assert!(check_not_blank(&["a", "b"]).is_ok());
    }

    #[test]
    fn dimension_check_names_the_first_bad_vector() {
        let vectors = vec![vec![0.0; 3], vec![0.0; 2]];
        match check_dimensions("m", 3, &vectors, |i| i + 5) {
            Err(EmbedError::DimensionMismatch { expected: 3, actual: 2, index: 6, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
