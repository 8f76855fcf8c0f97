//! Text → terms for the local embedder: Unicode-aware word split, identifier split
//! (`camelCase`, `snake_case`, `HTTPServer`, letter/digit), lowercase, English stop words.

/// What a term is, which decides the features made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TermKind {
    /// A plain word, or one part of an identifier.
    Word,
    /// A whole identifier made of several parts (`parseConfig` → `parseconfig`); it is kept
    /// beside its parts so an exact identifier match counts more.
    Identifier,
}

/// One lowercase term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    /// The lowercase text.
    pub text: String,
    /// Word or whole identifier.
    pub kind: TermKind,
    /// True for an English stop word (`the`, `of`, …).
    pub stop: bool,
}

/// Splits `text` into terms, in order.
///
/// Words are maximal runs of Unicode letters and digits (`char::is_alphanumeric`); anything
/// else, `_` included, separates them. A word that changes case or switches between letters
/// and digits inside is also split into its parts, and both the parts and the whole are kept.
/// Text without any letter or digit (emoji, punctuation) becomes one term of its
/// non-whitespace characters, so every non-blank text yields at least one term.
pub(super) fn terms(text: &str) -> Vec<Term> {
    let mut out = Vec::new();
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|r| !r.is_empty()) {
        let parts = split_identifier(run);
        if parts.len() > 1 {
            out.push(term(run, TermKind::Identifier));
        }
        out.extend(parts.into_iter().map(|part| term(part, TermKind::Word)));
    }
    if out.is_empty() {
        let symbols: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if !symbols.is_empty() {
            out.push(Term { text: symbols, kind: TermKind::Word, stop: false });
        }
    }
    out
}

fn term(raw: &str, kind: TermKind) -> Term {
    let text = raw.to_lowercase();
    let stop = kind == TermKind::Word && is_stop_word(&text);
    Term { text, kind, stop }
}

/// Splits one alphanumeric run at case changes and letter/digit boundaries:
/// `parseHTTPResponse2xx` → `parse`, `HTTP`, `Response`, `2`, `xx`.
fn split_identifier(run: &str) -> Vec<&str> {
    #[derive(Clone, Copy, PartialEq)]
    enum Class {
        Upper,
        Lower,
        Digit,
        Other,
    }
    fn class(c: char) -> Class {
        if c.is_uppercase() {
            Class::Upper
        } else if c.is_lowercase() {
            Class::Lower
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Other // letters without case (CJK, Arabic, …)
        }
    }
    let chars: Vec<(usize, char)> = run.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (prev, cur) = (class(chars[i - 1].1), class(chars[i].1));
        let next = chars.get(i + 1).map(|&(_, c)| class(c));
        let boundary = match (prev, cur) {
            (Class::Lower, Class::Upper) => true,
            // The last capital of an acronym starts the next word: HTTPServer → HTTP Server.
            (Class::Upper, Class::Upper) => next == Some(Class::Lower),
            (Class::Digit, Class::Digit) => false,
            (Class::Digit, _) | (_, Class::Digit) => true,
            _ => false,
        };
        if boundary {
            let at = chars[i].0;
            parts.push(&run[start..at]);
            start = at;
        }
    }
    parts.push(&run[start..]);
    parts
}

/// English stop words: the 33 of Lucene's English analyzer plus common pronouns, auxiliaries
/// and determiners. They carry almost no topic, and a hashing embedder has no IDF to discount
/// them. Sorted, for binary search.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because",
    "been", "before", "being", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
    "during", "each", "few", "for", "from", "had", "has", "have", "having", "he", "her", "here", "hers",
    "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "may", "me", "might", "more",
    "most", "must", "my", "no", "nor", "not", "of", "on", "only", "or", "other", "our", "ours", "out",
    "over", "own", "same", "shall", "she", "should", "so", "some", "such", "than", "that", "the", "their",
    "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
    "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        terms(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn stop_word_list_is_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        for word in ["a", "the", "yours", "between", "which"] {
            assert!(is_stop_word(word), "{word}");
        }
        assert!(!is_stop_word("protein"));
    }

    #[test]
    fn identifiers_split_and_keep_the_whole() {
        assert_eq!(texts("parseHTTPResponse"), ["parsehttpresponse", "parse", "http", "response"]);
        assert_eq!(texts("max_retry_count"), ["max", "retry", "count"]);
        assert_eq!(texts("sha256sum"), ["sha256sum", "sha", "256", "sum"]);
        assert_eq!(texts("IOError"), ["ioerror", "io", "error"]);
    }

    #[test]
    fn unicode_words_are_lowercased_and_split_on_punctuation() {
        assert_eq!(texts("Über-Größe, ÉTÉ!"), ["über", "größe", "été"]);
        assert_eq!(texts("東京タワー"), ["東京タワー"]);
    }

    #[test]
    fn stop_words_are_flagged_not_dropped() {
        let terms = terms("The cell");
        assert!(terms[0].stop && !terms[1].stop);
    }

    #[test]
    fn symbol_only_text_still_has_a_term() {
        assert_eq!(texts("🙂 !!"), ["🙂!!"]);
        assert!(texts("  ").is_empty());
    }
}
