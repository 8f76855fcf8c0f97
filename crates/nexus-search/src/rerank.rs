//! [`NameMatch`]: re-ranking the fused code candidates by how well the question names them.
//!
//! A question about a function usually says, in its own words, what the function is called
//! (`Creates a new BytesMut with the specified capacity` → `BytesMut::with_capacity`). BM25
//! rewards the question's words found in a chunk; it does not see that *every* word of a
//! short name was asked for, and rank fusion flattens its scores to ranks anyway. So the code
//! candidates near the top of the fused list get a bonus for:
//!
//! * **name**: the share of the words of the chunk's name (its first symbol's last segment,
//!   split at `_`, `-` and camelCase humps) that the question holds;
//! * **owner**: the same for the segment before it (the type of a method: `BytesMut`);
//! * **signature**: the share of the question's content words (not stop words) found in the
//!   name, the owner or the signature.
//!
//! Words are compared lowercased and stemmed (English Snowball), and a name's common
//! abbreviations also match their long form (`len` ~ `length`, `dir` ~ `directory`). The
//! bonus is `top × Σ weight × share`, `top` being the best fused score, so the weights do not
//! depend on the fusion's scale.

use std::collections::HashSet;

use rust_stemmers::{Algorithm, Stemmer};

/// How [`crate::Search::name_match`] re-ranks code candidates: each weight multiplies a share
/// in `[0, 1]` (see the module doc); all zero, nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NameMatch {
    /// Weight of the share of the name's words found in the question.
    pub name: f64,
    /// Weight of the share of the owner's words (the type of a method) found in the question.
    pub owner: f64,
    /// Weight of the share of the question's content words found in name, owner or signature.
    pub signature: f64,
    /// How many of the best fused candidates are re-scored (the rest keep their score).
    pub depth: usize,
}

impl NameMatch {
    /// Checks that the weights are finite and non-negative.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let weights = [self.name, self.owner, self.signature];
        if weights.iter().all(|w| w.is_finite() && *w >= 0.0) {
            Ok(())
        } else {
            Err(format!("weights must be finite and non-negative, got {weights:?}"))
        }
    }

    /// Whether it changes any score.
    pub(crate) fn is_active(&self) -> bool {
        self.depth > 0 && (self.name > 0.0 || self.owner > 0.0 || self.signature > 0.0)
    }
}

/// What a code chunk is named by: its first symbol and its signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Named<'a> {
    /// The first symbol (`BytesMut::with_capacity`, `Cart.total`), if any.
    pub symbol: Option<&'a str>,
    /// The signature, if any.
    pub signature: Option<&'a str>,
}

/// A question prepared for [`Question::bonus`]: its stemmed words.
pub(crate) struct Question {
    stemmer: Stemmer,
    /// Every word of the question, stemmed.
    words: HashSet<String>,
    /// The words that are not stop words, stemmed.
    content: HashSet<String>,
}

/// Words that say nothing about which function is meant.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "given",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "that",
    "the",
    "this",
    "to",
    "with",
    "returns",
    "return",
    "true",
    "false",
    "self",
    "otherwise",
    "whether",
    "will",
    "which",
    "when",
    "not",
    "no",
    "all",
];

/// Common abbreviations in names and the word a question uses for them.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("addr", "address"),
    ("alloc", "allocate"),
    ("arg", "argument"),
    ("args", "arguments"),
    ("attr", "attribute"),
    ("buf", "buffer"),
    ("cap", "capacity"),
    ("cfg", "configuration"),
    ("char", "character"),
    ("cmp", "compare"),
    ("config", "configuration"),
    ("ctx", "context"),
    ("cur", "current"),
    ("del", "delete"),
    ("dir", "directory"),
    ("dst", "destination"),
    ("elem", "element"),
    ("env", "environment"),
    ("eq", "equal"),
    ("err", "error"),
    ("fmt", "format"),
    ("idx", "index"),
    ("init", "initialize"),
    ("iter", "iterator"),
    ("len", "length"),
    ("max", "maximum"),
    ("min", "minimum"),
    ("msg", "message"),
    ("mut", "mutable"),
    ("num", "number"),
    ("pos", "position"),
    ("prev", "previous"),
    ("ptr", "pointer"),
    ("rem", "remaining"),
    ("sep", "separator"),
    ("seq", "sequence"),
    ("src", "source"),
    ("str", "string"),
    ("temp", "temporary"),
    ("tmp", "temporary"),
    ("val", "value"),
];

impl Question {
    /// Prepares `text`.
    pub(crate) fn new(text: &str) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut words = HashSet::new();
        let mut content = HashSet::new();
        for word in split_words(text) {
            let stem = stemmer.stem(&word).into_owned();
            if !STOP_WORDS.contains(&word.as_str()) {
                content.insert(stem.clone());
            }
            words.insert(stem);
        }
        // "Returns true if …", "Whether …" ask for a predicate: `is_…`, `has_…`.
        if words.contains("true") || words.contains("whether") {
            words.extend(["is".to_owned(), "has".to_owned()]);
        }
        Self { stemmer, words, content }
    }

    /// The bonus share of a chunk named by `named`, as `top × Σ weight × share`.
    pub(crate) fn bonus(&self, named: Named<'_>, weights: &NameMatch, top: f64) -> f64 {
        let Some(symbol) = named.symbol else { return 0.0 };
        let mut segments = symbol.rsplit(['.', ':']).filter(|s| !s.is_empty());
        let name: Vec<String> = segments.next().map(split_words).unwrap_or_default();
        let owner: Vec<String> = segments.next().map(split_words).unwrap_or_default();
        let mut share = weights.name * self.share_asked(&name) + weights.owner * self.share_asked(&owner);
        if weights.signature > 0.0 && !self.content.is_empty() {
            let mut said: HashSet<String> = HashSet::new();
            for word in
                name.iter().chain(&owner).cloned().chain(named.signature.map(split_words).unwrap_or_default())
            {
                if let Some(long) = expansion(&word) {
                    said.insert(self.stemmer.stem(long).into_owned());
                }
                said.insert(self.stemmer.stem(&word).into_owned());
            }
            let found = self.content.iter().filter(|w| said.contains(*w)).count();
            share += weights.signature * found as f64 / self.content.len() as f64;
        }
        top * share
    }

    /// The share of `words` (a name's) that the question holds, abbreviations expanded.
    fn share_asked(&self, words: &[String]) -> f64 {
        if words.is_empty() {
            return 0.0;
        }
        let asked = words
            .iter()
            .filter(|w| {
                self.words.contains(self.stemmer.stem(w).as_ref())
                    || expansion(w).is_some_and(|long| self.words.contains(self.stemmer.stem(long).as_ref()))
            })
            .count();
        asked as f64 / words.len() as f64
    }
}

/// The long form of an abbreviation.
fn expansion(word: &str) -> Option<&'static str> {
    ABBREVIATIONS.iter().find(|(short, _)| *short == word).map(|(_, long)| *long)
}

/// The lowercase words of `text`: split at every character that is not a letter or digit, at
/// camelCase humps (`parseHTTPHeader` → `parse`, `http`, `header`) and where digits start
/// (`get_u16` → `get`, `u`, `16`).
///
/// Finer than nexus-fts's query splitting on purpose: that one must cut words exactly where
/// the code index's tokenizer does (`HTTPServer` and `vec3` stay whole there), while a name
/// match only compares words, so it splits wherever a reader sees a boundary.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in text.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, cur) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            let hump = (prev.is_lowercase() || prev.is_ascii_digit()) && cur.is_uppercase()
                || prev.is_uppercase() && cur.is_uppercase() && next_lower
                || prev.is_alphabetic() && cur.is_ascii_digit();
            if hump {
                words.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        words.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    words
}
