//! The index's token rules, mirrored in Rust for the query parser.
//!
//! The FTS5 tokenizer (`porter unicode61 remove_diacritics 2`) decides what a token is when
//! it indexes and when it reads a quoted query string. The parser only needs to know which
//! characters it may pass to FTS5 inside a quoted string ([`is_token_char`]), whether a word
//! has anything to search for ([`is_searchable`]), and how the code index splits camelCase
//! names ([`split_camel_case`], the same rule as the `code_chunks_fts_source` view in
//! `migrations/0003_fts.sql`).

/// True for characters kept inside a query token: ASCII letters and digits, and any
/// non-ASCII character that is not whitespace or a control character (FTS5 decides about those
/// by their Unicode category). Everything else — ASCII punctuation, symbols, spaces, control
/// characters — separates tokens, as it does for the tokenizer. In particular `"` never reaches
/// FTS5 inside a string, so a compiled query needs no escaping.
pub(crate) fn is_token_char(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() } else { !c.is_whitespace() && !c.is_control() }
}

/// True when `token` has a letter or digit, i.e. something the tokenizer will index.
pub(crate) fn is_searchable(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// Splits `word` where the code index puts a boundary: before every ASCII uppercase letter
/// that follows a character other than an ASCII uppercase letter.
///
/// `parseQuery` → `parse`, `Query`; `HybridSearchBuilder` → `Hybrid`, `Search`, `Builder`;
/// `parseJSON` → `parse`, `JSON`; `HTTPServer` and `MAX_SIZE` stay whole.
pub(crate) fn split_camel_case(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (at, c) in word.char_indices() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| !p.is_ascii_uppercase()) {
            parts.push(&word[start..at]);
            start = at;
        }
        previous = Some(c);
    }
    parts.push(&word[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_splits_like_the_code_index() {
        assert_eq!(split_camel_case("HybridSearchBuilder"), ["Hybrid", "Search", "Builder"]);
        assert_eq!(split_camel_case("parseQuery"), ["parse", "Query"]);
        assert_eq!(split_camel_case("parseJSON"), ["parse", "JSON"]);
        assert_eq!(split_camel_case("vec3Add"), ["vec3", "Add"]);
        assert_eq!(split_camel_case("HTTPServer"), ["HTTPServer"]);
        assert_eq!(split_camel_case("parse_query"), ["parse_query"]);
        assert_eq!(split_camel_case("éA"), ["é", "A"]);
        assert_eq!(split_camel_case(""), [""]);
    }

    #[test]
    fn token_chars_exclude_ascii_punctuation_and_controls() {
        for c in ['"', '*', '-', ':', '^', '(', ')', ' ', '\0', '\n', '\u{85}', '\u{3000}'] {
            assert!(!is_token_char(c), "{c:?}");
        }
        for c in ['a', 'Z', '7', 'é', 'ß', '中', '🎉'] {
            assert!(is_token_char(c), "{c:?}");
        }
        assert!(is_searchable("c"));
        assert!(!is_searchable("🎉"));
    }
}
