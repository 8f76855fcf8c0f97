//! Splitting a call's texts into requests that stay within the API's limits.
//!
//! OpenAI's embeddings endpoint takes at most 2048 inputs and about 300,000 tokens per
//! request. Without the model's tokenizer we bound tokens by UTF-8 bytes: a byte-level BPE
//! token (OpenAI's tokenizers) is at least one byte, so a text never has more tokens than
//! bytes. The estimate is pessimistic for prose (about 4 bytes per token), which only makes
//! batches smaller than they could be, never too large.

/// One request's worth of inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Batch {
    /// Indices of the texts in the caller's slice, in order.
    pub indices: Vec<usize>,
    /// The batch's estimated tokens (an upper bound).
    pub tokens: usize,
}

/// Upper bound of `text`'s tokens: its UTF-8 length (at least 1).
pub(super) fn estimate_tokens(text: &str) -> usize {
    text.len().max(1)
}

/// Splits `texts` greedily, in order, into batches of at most `max_inputs` texts and at most
/// `max_tokens` estimated tokens. A single text larger than `max_tokens` gets a batch of its
/// own (the server then decides; its error names that input alone).
pub(super) fn plan(texts: &[&str], max_inputs: usize, max_tokens: usize) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut current = Batch { indices: Vec::new(), tokens: 0 };
    for (index, text) in texts.iter().enumerate() {
        let tokens = estimate_tokens(text);
        let full = current.indices.len() >= max_inputs || current.tokens + tokens > max_tokens;
        if full && !current.indices.is_empty() {
            batches.push(std::mem::replace(&mut current, Batch { indices: Vec::new(), tokens: 0 }));
        }
        current.indices.push(index);
        current.tokens += tokens;
    }
    if !current.indices.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(batches: &[Batch]) -> Vec<usize> {
        batches.iter().map(|b| b.indices.len()).collect()
    }

    #[test]
    fn input_limit() {
        let texts = vec!["abc"; 5000];
        let batches = plan(&texts, 2048, 300_000);
        assert_eq!(sizes(&batches), [2048, 2048, 904]);
        let all: Vec<usize> = batches.iter().flat_map(|b| b.indices.iter().copied()).collect();
        assert_eq!(all, (0..5000).collect::<Vec<_>>());
    }

    #[test]
    fn token_limit() {
        let text = "x".repeat(1000);
        let texts = vec![text.as_str(); 10];
        let batches = plan(&texts, 2048, 3500);
        assert_eq!(sizes(&batches), [3, 3, 3, 1]);
        assert!(batches.iter().all(|b| b.tokens <= 3500));
    }

    #[test]
    fn oversized_text_goes_alone() {
        let big = "y".repeat(500);
        let batches = plan(&["a", &big, "b"], 10, 100);
        assert_eq!(
            batches.iter().map(|b| b.indices.clone()).collect::<Vec<_>>(),
            [vec![0], vec![1], vec![2]]
        );
    }

    #[test]
    fn multibyte_text_counts_bytes() {
        assert_eq!(estimate_tokens("日本"), 6);
        assert_eq!(estimate_tokens(""), 1);
        assert!(plan(&[], 10, 10).is_empty());
    }
}
