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
//! | `query.rs`, `parse_query`, `0-dimensional` | punctuation inside a word separates tokens, like a space (in code, the tokens next to each other rank first) |
//! | `parseQuery`, `HybridSearchBuilder` | the name as typed, or (in code) its camelCase humps `parse`, `Query` |
//!
//! Everything else is text. FTS5's own syntax (`AND`, `NOT`, `NEAR`, `(`, `:`, `^`, `+`, …)
//! has no effect: punctuation separates tokens exactly as the tokenizer would, and every token
//! reaches FTS5 inside a quoted string made only of letters, digits and spaces, so no input can
//! produce an FTS5 syntax error. A `"` without a partner is ignored, a `-` or `*` not attached
//! to a word is text, and `OR` that does not stand between two words is the word "or".
//!
//! Text with nothing to search for (empty, only punctuation or emoji, or only `-excluded`
//! words) is [`FtsError::EmptyQuery`]. At most [`MAX_TERMS`] tokens are used; the rest of a
//! longer text is ignored.
//!
//! ```
//! use nexus_fts::{MatchExpression, MatchMode, SourceKind};
//! let text = r#"cache "hybrid search" -legacy c++ AND ("#;
//! let expr = MatchExpression::parse(text, MatchMode::Any, SourceKind::Episode)?;
//! assert_eq!(expr.as_str(), r#"("cache" OR "hybrid search" OR "c" OR "AND") NOT ("legacy")"#);
//!
//! let expr = MatchExpression::parse("parseQuery", MatchMode::All, SourceKind::CodeChunk)?;
//! assert_eq!(expr.as_str(), r#"("parseQuery" OR "parse Query" OR ("parse" AND "Query"))"#);
//! # Ok::<(), nexus_fts::FtsError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use nexus_db::SourceKind;

use crate::error::{FtsError, Result};
use crate::tokens::{is_searchable, is_token_char, split_camel_case};

/// The most tokens (of plain, quoted or excluded words) one query uses; later ones are ignored.
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
    /// Parses user text with the rules of this module into the expression for the index of
    /// `kind`. Only the code index holds camelCase humps, so only its expression adds them;
    /// in prose, mixed case is mostly an abbreviation (`mRNA`, `IgG`) whose humps are noise.
    ///
    /// # Errors
    /// [`FtsError::EmptyQuery`] when the text has no word to search for.
    pub fn parse(text: &str, mode: MatchMode, kind: SourceKind) -> Result<Self> {
        let humps = kind == SourceKind::CodeChunk;
        let mut budget = MAX_TERMS;
        let (mut groups, mut excluded) = (Vec::<Vec<String>>::new(), Vec::new());
        for mut term in combine_or(lex(text)) {
            if budget == 0 {
                break;
            }
            term.atom.tokens.truncate(budget);
            budget -= term.atom.tokens.len();
            if term.negated {
                excluded.push(term.atom.phrases(humps).join(" OR "));
                continue;
            }
            let compiled = term.atom.compile(mode, humps);
            match groups.last_mut() {
                Some(group) if term.or_with_previous => group.push(compiled),
                _ => groups.push(vec![compiled]),
            }
        }
        if groups.is_empty() {
            return Err(FtsError::EmptyQuery);
        }
        let positive = match mode {
            MatchMode::Any => groups.concat().join(" OR "),
            MatchMode::All => groups.iter().map(|group| any_of(group)).collect::<Vec<_>>().join(" AND "),
        };
        Ok(Self(if excluded.is_empty() {
            positive
        } else {
            format!("({positive}) NOT ({})", excluded.join(" OR "))
        }))
    }

    /// The positive phrases of the expression (and prefixes), joined by `OR`: a text matches it
    /// when it holds any phrase the expression looks for, whatever `AND`s and exclusions the
    /// expression has. Used to find where in a large row the matches are.
    ///
    /// ```
    /// use nexus_fts::{MatchExpression, MatchMode, SourceKind};
    /// let expr = MatchExpression::parse(r#"cache "hybrid search" pars* -legacy"#, MatchMode::All, SourceKind::Episode)?;
    /// assert_eq!(expr.highlight_terms(), r#""cache" OR "hybrid search" OR "pars" *"#);
    /// # Ok::<(), nexus_fts::FtsError>(())
    /// ```
    pub fn highlight_terms(&self) -> String {
        // Exclusions always come last, as `) NOT (...)`; a quoted phrase never holds `)`.
        let positive = self.0.find(") NOT (").map_or(self.0.as_str(), |at| &self.0[..at]);
        let mut phrases: Vec<&str> = Vec::new();
        let mut rest = positive;
        while let Some(open) = rest.find('"') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('"') else { break };
            let tail = &after[close + 1..];
            let star = [" *", "*"].iter().find(|star| tail.starts_with(*star)).map_or(0, |star| star.len());
            let end = close + 1 + star;
            let phrase = &rest[open..open + 1 + end];
            if !phrases.contains(&phrase) {
                phrases.push(phrase);
            }
            rest = &after[end..];
        }
        phrases.join(" OR ")
    }

    /// Whether the expression has a prefix phrase (`pars*`), which FTS5 sets up by merging the
    /// doclists of every term with that prefix, at every cursor.
    pub fn has_prefix(&self) -> bool {
        // A phrase is quoted and never holds a quote, so `" *` only ends a prefix phrase.
        self.0.contains("\" *")
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

/// `alternatives` joined by `OR`, in parentheses when there is more than one.
fn any_of(alternatives: &[String]) -> String {
    match alternatives {
        [one] => one.clone(),
        many => format!("({})", many.join(" OR ")),
    }
}

/// Tokens longer than this many camelCase parts are not split (no identifier is that long,
/// and it bounds the size of a compiled query).
const MAX_CAMEL_PARTS: usize = 8;

/// The camelCase humps of `token`, if it has 2 to [`MAX_CAMEL_PARTS`] of them.
fn humps_of(token: &str) -> Option<Vec<&str>> {
    let humps = split_camel_case(token);
    (humps.len() > 1 && humps.len() <= MAX_CAMEL_PARTS).then_some(humps)
}

/// A word or quoted phrase, as tokens of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Atom {
    tokens: Vec<String>,
    prefix: bool,
    quoted: bool,
}

impl Atom {
    /// The atom's text cut into searchable tokens; `None` when there are none.
    fn new(text: &str, prefix: bool, quoted: bool) -> Option<Self> {
        let tokens: Vec<String> =
            text.split(|c| !is_token_char(c)).filter(|t| is_searchable(t)).map(str::to_owned).collect();
        (!tokens.is_empty()).then_some(Self { tokens, prefix, quoted })
    }

    /// `tokens` as one FTS5 string, with ` *` when `prefix`.
    fn phrase(tokens: &[&str], prefix: bool) -> String {
        format!("\"{}\"{}", tokens.join(" "), if prefix { " *" } else { "" })
    }

    /// The atom as a phrase, and with `humps`, as the phrase of its camelCase-split tokens
    /// when that differs (`parseQuery` also matches `parse Query`, as the code index holds it).
    fn phrases(&self, humps: bool) -> Vec<String> {
        let whole: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        let mut phrases = vec![Self::phrase(&whole, self.prefix)];
        if humps {
            let split: Vec<&str> =
                whole.iter().flat_map(|t| humps_of(t).unwrap_or_else(|| vec![t])).collect();
            if split.len() != whole.len() {
                phrases.push(Self::phrase(&split, self.prefix));
            }
        }
        phrases
    }

    /// A positive term. A quoted phrase is its [`Atom::phrases`]. In an unquoted word,
    /// punctuation separates tokens like a space (`0-dimensional`, `query.rs`, `parse_query`
    /// are two tokens each): with [`MatchMode::Any`] each token is an alternative, with
    /// [`MatchMode::All`] all are needed. (Matching such words only as phrases was measured
    /// and ranked prose worse; docs/fts.md.)
    ///
    /// For the code index (`code`), a camelCase token also stands for its humps
    /// (`parseQuery`: as typed, or `parse` + `Query`), and the word's phrases are one more
    /// alternative, so adjacent tokens rank first: `query.rs` is a file name, `parse_query` and
    /// `parseQuery` one identifier.
    fn compile(&self, mode: MatchMode, code: bool) -> String {
        if self.quoted {
            return any_of(&self.phrases(code));
        }
        let last = self.tokens.len() - 1;
        let units: Vec<(String, Vec<String>)> = self
            .tokens
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let prefix = self.prefix && i == last;
                let humps = if code { humps_of(token).unwrap_or_default() } else { Vec::new() };
                let hump_count = humps.len();
                let humps = humps
                    .into_iter()
                    .enumerate()
                    .map(|(h, hump)| Self::phrase(&[hump], prefix && h + 1 == hump_count))
                    .collect();
                (Self::phrase(&[token], prefix), humps)
            })
            .collect();
        let mut alternatives = if code { self.phrases(true) } else { Vec::new() };
        let mut add = |alternative: String| {
            if !alternatives.contains(&alternative) {
                alternatives.push(alternative);
            }
        };
        match mode {
            MatchMode::Any => {
                for (whole, humps) in units {
                    std::iter::once(whole).chain(humps).for_each(&mut add);
                }
                alternatives.join(" OR ")
            }
            MatchMode::All => {
                match <[_; 1]>::try_from(units) {
                    Ok([(whole, humps)]) => {
                        add(whole);
                        if !humps.is_empty() {
                            add(format!("({})", humps.join(" AND ")));
                        }
                    }
                    Err(units) => {
                        let units: Vec<String> = units
                            .into_iter()
                            .map(|(whole, humps)| {
                                if humps.is_empty() {
                                    whole
                                } else {
                                    format!("({whole} OR ({}))", humps.join(" AND "))
                                }
                            })
                            .collect();
                        add(format!("({})", units.join(" AND ")));
                    }
                }
                any_of(&alternatives)
            }
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
        let negated =
            chars[at] == '-' && chars.get(at + 1).is_some_and(|c| !c.is_whitespace() && !c.is_control());
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
                    if let Some(atom) = Atom::new(&phrase, prefix, true) {
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
        if let Some(atom) = Atom::new(stem, stem.len() < word.len(), false) {
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
                    let atom = Atom { tokens: vec!["OR".to_owned()], prefix: false, quoted: false };
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

    fn parse(text: &str, mode: MatchMode, kind: SourceKind) -> String {
        MatchExpression::parse(text, mode, kind).map(|e| e.0).unwrap_or_else(|e| format!("error: {e}"))
    }

    /// The code index's expression (the superset: it adds camelCase humps).
    fn any(text: &str) -> String {
        parse(text, MatchMode::Any, SourceKind::CodeChunk)
    }

    fn all(text: &str) -> String {
        parse(text, MatchMode::All, SourceKind::CodeChunk)
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
        let has_prefix = |text: &str| {
            MatchExpression::parse(text, MatchMode::Any, SourceKind::CodeChunk).map(|e| e.has_prefix()).ok()
        };
        assert_eq!(has_prefix("pars* x"), Some(true));
        assert_eq!(has_prefix(r#"x -"old api"*"#), Some(true));
        assert_eq!(has_prefix("plain words"), Some(false));
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
    fn punctuation_inside_a_word_separates_tokens() {
        let prose = |text| parse(text, MatchMode::Any, SourceKind::Episode);
        let prose_all = |text| parse(text, MatchMode::All, SourceKind::Task);
        assert_eq!(prose("0-dimensional query.rs"), r#""0" OR "dimensional" OR "query" OR "rs""#);
        assert_eq!(prose_all("query.rs x"), r#"("query" AND "rs") AND "x""#);
        assert_eq!(prose("-node_modules x"), r#"("x") NOT ("node modules")"#, "an exclusion is a phrase");
        // The code index also ranks the word as a phrase.
        assert_eq!(any("query.rs"), r#""query rs" OR "query" OR "rs""#);
        assert_eq!(all("query.rs x"), r#"("query rs" OR ("query" AND "rs")) AND "x""#);
        assert_eq!(all("a OR query.rs"), r#"("a" OR ("query rs" OR ("query" AND "rs")))"#);
        assert_eq!(any("query.r*"), r#""query r" * OR "query" OR "r" *"#);
        assert_eq!(
            prose("c++ AND ( NEAR(a b) col:x ^start"),
            r#""c" OR "AND" OR "NEAR" OR "a" OR "b" OR "col" OR "x" OR "start""#
        );
        assert_eq!(prose(r#"say "hi"#), r#""say" OR "hi""#, "an unpaired quote is ignored");
        assert_eq!(prose(r#"x"y z"w"#), r#""x" OR "y z" OR "w""#);
        assert_eq!(prose("a.a"), r#""a""#);
        assert_eq!(any("a.a"), r#""a a" OR "a""#);
    }

    #[test]
    fn camel_case_words_also_match_their_humps_in_the_code_index() {
        assert_eq!(any("parseQuery"), r#""parseQuery" OR "parse Query" OR "parse" OR "Query""#);
        assert_eq!(all("parseQuery"), r#"("parseQuery" OR "parse Query" OR ("parse" AND "Query"))"#);
        assert_eq!(
            all("parseQuery.ts"),
            r#"("parseQuery ts" OR "parse Query ts" OR (("parseQuery" OR ("parse" AND "Query")) AND "ts"))"#
        );
        assert_eq!(
            any("HybridSearch*"),
            r#""HybridSearch" * OR "Hybrid Search" * OR "Hybrid" OR "Search" *"#
        );
        assert_eq!(any("HTTP parse_query"), r#""HTTP" OR "parse query" OR "parse" OR "query""#);
        assert_eq!(any(r#"x -parseQuery"#), r#"("x") NOT ("parseQuery" OR "parse Query")"#);
        assert_eq!(any(r#""parseQuery now""#), r#"("parseQuery now" OR "parse Query now")"#);
        for kind in [SourceKind::Episode, SourceKind::Requirement, SourceKind::Task] {
            assert_eq!(
                parse("mRNA -parseQuery x", MatchMode::Any, kind),
                r#"("mRNA" OR "x") NOT ("parseQuery")"#
            );
        }
        let long = "aB".repeat(20);
        assert_eq!(any(&long), format!("\"{long}\""), "names of many humps stay whole");
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
        let dotted = vec!["t"; 1000].join(".");
        let prose = parse(&dotted, MatchMode::All, SourceKind::Task);
        assert_eq!(prose, format!("({})", vec!["\"t\""; MAX_TERMS].join(" AND ")));
    }
}
