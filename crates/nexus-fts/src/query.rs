//! The query language: user text in, a safe FTS5 `MATCH` expression out.
//!
//! | you type | means |
//! |---|---|
//! | `cart totals` | documents with `cart` or `totals` ([`MatchMode::Any`], the default) or with both ([`MatchMode::All`]) |
//! | `"exact phrase"` | the words next to each other, in this order |
//! | `pars*` | a word starting with `pars` |
//! | `"search build"*` | a phrase whose last word starts with `build` |
//! | `-legacy`, `-"old api"` | leave out documents with this word or phrase |
//! | `redis OR memcached` | either word (binds tighter than the implicit AND of [`MatchMode::All`]) |
//!
//! Everything else is text. FTS5's own syntax (`AND`, `NOT`, `NEAR`, `(`, `:`, `^`, `+`, …)
//! has no effect: punctuation separates words exactly as the tokenizer would, and every word
//! reaches FTS5 as a quoted string made only of letters, digits and spaces, so no input can
//! produce an FTS5 syntax error. A `"` without a partner is ignored, a `-` or `*` not attached
//! to a word is text, and `OR` that does not stand between two words is the word "or".
//! A word with inner punctuation is a phrase: `query.rs`, `nexus-fts` and `parse_query` find
//! those tokens next to each other. A camelCase word also matches its split form in the code
//! index: `parseQuery` finds `parse_query` and `parseQuery`.
//!
//! Text with nothing to search for (empty, only punctuation or emoji, or only `-excluded`
//! words) is [`FtsError::EmptyQuery`]. At most [`MAX_TERMS`] words are used; the rest of a
//! longer text is ignored.
//!
//! ```
//! use nexus_fts::{MatchExpression, MatchMode};
//! let expr = MatchExpression::parse(r#"parseQuery "hybrid search" -legacy c++ AND ("#, MatchMode::Any)?;
//! assert_eq!(
//!     expr.as_str(),
//!     r#"(("parseQuery" OR "parse Query") OR "hybrid search" OR "c" OR "AND") NOT ("legacy")"#
//! );
//! # Ok::<(), nexus_fts::FtsError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{FtsError, Result};
use crate::tokens::{is_searchable, is_token_char, split_camel_case};

/// The most words (plain, quoted or excluded) one query uses; later words are ignored.
pub const MAX_TERMS: usize = 64;

/// How the plain words of a query combine.
///
/// `Any` is the default: measured on SciFact (train split), requiring every word loses far
/// more relevant documents than it gains precision, while BM25 already ranks documents that
/// have more of the words first. See `docs/fts.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// A document matches when it has at least one of the words (`OR`).
    #[default]
    Any,
    /// A document matches when it has every word (`AND`); `a OR b` still means either.
    All,
}

/// A compiled, safe FTS5 `MATCH` expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchExpression(String);

impl MatchExpression {
    /// Parses user text with the rules of this module.
    ///
    /// # Errors
    /// [`FtsError::EmptyQuery`] when the text has no word to search for.
    pub fn parse(text: &str, mode: MatchMode) -> Result<Self> {
        let terms = combine_or(lex(text));
        let (mut groups, mut excluded) = (Vec::<Vec<String>>::new(), Vec::new());
        for term in terms.into_iter().take(MAX_TERMS) {
            let compiled = term.atom.compile();
            match (term.negated, term.or_with_previous, groups.last_mut()) {
                (true, _, _) => excluded.push(compiled),
                (false, true, Some(group)) => group.push(compiled),
                (false, _, _) => groups.push(vec![compiled]),
            }
        }
        if groups.is_empty() {
            return Err(FtsError::EmptyQuery);
        }
        let positive = match mode {
            MatchMode::Any => groups.concat().join(" OR "),
            MatchMode::All => groups
                .iter()
                .map(|group| if group.len() == 1 { group.join("") } else { format!("({})", group.join(" OR ")) })
                .collect::<Vec<_>>()
                .join(" AND "),
        };
        Ok(Self(if excluded.is_empty() {
            positive
        } else {
            format!("({positive}) NOT ({})", excluded.join(" OR "))
        }))
    }

    /// The expression, ready to bind as the right-hand side of `MATCH`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MatchExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A word or quoted phrase, as tokens of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Atom {
    tokens: Vec<String>,
    prefix: bool,
}

impl Atom {
    /// The atom's text cut into tokens; `None` when nothing in it is searchable.
    fn new(text: &str, prefix: bool) -> Option<Self> {
        let tokens: Vec<String> =
            text.split(|c| !is_token_char(c)).filter(|t| !t.is_empty()).map(str::to_owned).collect();
        tokens.iter().any(|t| is_searchable(t)).then_some(Self { tokens, prefix })
    }

    /// `"tokens"` (with ` *` for a prefix), or `("tokens" OR "camel split tokens")` when a
    /// token is a camelCase name.
    fn compile(&self) -> String {
        let phrase = |tokens: &[&str]| format!("\"{}\"{}", tokens.join(" "), if self.prefix { " *" } else { "" });
        let whole: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        let split: Vec<&str> = whole.iter().flat_map(|t| split_camel_case(t)).collect();
        if split.len() == whole.len() {
            phrase(&whole)
        } else {
            format!("({} OR {})", phrase(&whole), phrase(&split))
        }
    }
}

/// What the lexer sees.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Atom { atom: Atom, negated: bool },
    Or,
}

/// A term after `OR` is resolved.
#[derive(Debug)]
struct Term {
    atom: Atom,
    negated: bool,
    /// Joined to the previous positive term by an explicit `OR`.
    or_with_previous: bool,
}

/// Splits user text into words, quoted phrases and `OR`s.
fn lex(text: &str) -> Vec<Item> {
    let chars: Vec<char> = text.chars().collect();
    let mut items = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if chars[at].is_whitespace() || chars[at].is_control() {
            at += 1;
            continue;
        }
        // A leading `-` excludes the word or phrase attached to it.
        let negated = chars[at] == '-' && chars.get(at + 1).is_some_and(|c| !c.is_whitespace() && !c.is_control());
        if negated {
            at += 1;
        }
        if chars[at] == '"' {
            match chars[at + 1..].iter().position(|&c| c == '"') {
                Some(length) => {
                    let phrase: String = chars[at + 1..at + 1 + length].iter().collect();
                    at += length + 2;
                    let prefix = chars.get(at) == Some(&'*');
                    while chars.get(at) == Some(&'*') {
                        at += 1;
                    }
                    if let Some(atom) = Atom::new(&phrase, prefix) {
                        items.push(Item::Atom { atom, negated });
                    }
                }
                // A quote without a partner is text (a separator); go on after it.
                None => at += 1,
            }
            continue;
        }
        let start = at;
        while at < chars.len() && !chars[at].is_whitespace() && !chars[at].is_control() && chars[at] != '"' {
            at += 1;
        }
        let word: String = chars[start..at].iter().collect();
        if word == "OR" && !negated {
            items.push(Item::Or);
            continue;
        }
        let stem = word.trim_end_matches('*');
        if let Some(atom) = Atom::new(stem, stem.len() < word.len()) {
            items.push(Item::Atom { atom, negated });
        }
    }
    items
}

/// Resolves each `OR`: between two positive terms it joins them; anywhere else it is the
/// word "or".
fn combine_or(items: Vec<Item>) -> Vec<Term> {
    let mut terms: Vec<Term> = Vec::with_capacity(items.len());
    let mut joined = false;
    for (index, item) in items.iter().enumerate() {
        match item {
            Item::Or => {
                let after_positive = !joined && terms.last().is_some_and(|t| !t.negated);
                let before_positive = matches!(items.get(index + 1), Some(Item::Atom { negated: false, .. }));
                if after_positive && before_positive {
                    joined = true;
                } else {
                    let atom = Atom { tokens: vec!["OR".to_owned()], prefix: false };
                    terms.push(Term { atom, negated: false, or_with_previous: std::mem::take(&mut joined) });
                }
            }
            Item::Atom { atom, negated } => {
                let or_with_previous = !negated && std::mem::take(&mut joined);
                terms.push(Term { atom: atom.clone(), negated: *negated, or_with_previous });
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(text: &str) -> String {
        MatchExpression::parse(text, MatchMode::Any).map(|e| e.0).unwrap_or_else(|e| format!("error: {e}"))
    }

    fn all(text: &str) -> String {
        MatchExpression::parse(text, MatchMode::All).map(|e| e.0).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn plain_words_combine_by_mode() {
        assert_eq!(any("cart totals"), r#""cart" OR "totals""#);
        assert_eq!(all("cart totals"), r#""cart" AND "totals""#);
    }

    #[test]
    fn phrases_prefixes_and_exclusions() {
        assert_eq!(any(r#""exact phrase" pars*"#), r#""exact phrase" OR "pars" *"#);
        assert_eq!(any(r#""search build"* x"#), r#""search build" * OR "x""#);
        assert_eq!(all(r#"cache -legacy -"old api""#), r#"("cache") NOT ("legacy" OR "old api")"#);
        assert_eq!(any("a - b"), r#""a" OR "b""#, "a lone - is text");
        assert_eq!(any("--a b"), r#"("b") NOT ("a")"#);
    }

    #[test]
    fn or_binds_two_words_and_is_a_word_elsewhere() {
        assert_eq!(all("redis OR memcached cache"), r#"("redis" OR "memcached") AND "cache""#);
        assert_eq!(all("a OR b OR c"), r#"("a" OR "b" OR "c")"#);
        assert_eq!(all("OR a"), r#""OR" AND "a""#);
        assert_eq!(all("a OR"), r#""a" AND "OR""#);
        assert_eq!(all("a OR -b"), r#"("a" AND "OR") NOT ("b")"#);
        assert_eq!(all("a or b"), r#""a" AND "or" AND "b""#, "only uppercase OR is an operator");
    }

    #[test]
    fn punctuation_is_text_and_inner_punctuation_makes_a_phrase() {
        assert_eq!(any("query.rs"), r#""query rs""#);
        assert_eq!(any("c++ AND ( NEAR(a b) col:x ^start"), r#""c" OR "AND" OR "NEAR a" OR "b" OR "col x" OR "start""#);
        assert_eq!(any(r#"say "hi"#), r#""say" OR "hi""#, "an unpaired quote is ignored");
        assert_eq!(any(r#"x"y z"w"#), r#""x" OR "y z" OR "w""#);
    }

    #[test]
    fn camel_case_words_also_match_their_split_form() {
        assert_eq!(any("parseQuery"), r#"("parseQuery" OR "parse Query")"#);
        assert_eq!(any("HybridSearch*"), r#"("HybridSearch" * OR "Hybrid Search" *)"#);
        assert_eq!(any("HTTP parse_query"), r#""HTTP" OR "parse query""#);
    }

    #[test]
    fn nothing_to_search_is_an_empty_query() {
        for text in ["", "   ", "\"\"", "* ** -", "🎉 ✨", "-only -exclusions", "::^()", "\"\"\"*"] {
            assert_eq!(any(text), "error: the query has no word to search for", "{text:?}");
        }
    }

    #[test]
    fn long_text_uses_the_first_words() {
        let text = (0..1000).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let expr = any(&text);
        assert_eq!(expr.matches(" OR ").count(), MAX_TERMS - 1);
        assert!(expr.ends_with(&format!("\"w{}\"", MAX_TERMS - 1)));
    }
}
