//! What names a phrase's score list in the cache: the phrase's tokens, as the indexes'
//! tokenizer produces them.
//!
//! FTS5 tokenizes a query phrase with the index's own tokenizer, and Porter stemming does not
//! care whether a token is a prefix. So phrases with the same tokens match the same rows with
//! the same instances and have the same score list: `"parse"`, `"parsing"` and `"Parses"` are
//! all `pars`; `"foo-bar"` and `"Foo Bar"` are both `foo bar`. Keyed by tokens, such phrases
//! share one list, and [`crate::warm`] can fill the cache from an index's vocabulary (its
//! stemmed terms) for the words users type. The tokens come from FTS5 itself
//! ([`scratch::tokens`], the tokenizer every Nexus index uses); the key of each phrase text is
//! remembered, up to [`MEMO_ENTRIES`] texts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Result;
use crate::scratch;

/// Phrase texts whose keys are remembered; the memo starts afresh when it is full.
const MEMO_ENTRIES: usize = 16_384;

static MEMO: Mutex<Option<HashMap<String, Arc<str>>>> = Mutex::new(None);

fn with_memo<T>(f: impl FnOnce(&mut HashMap<String, Arc<str>>) -> T) -> T {
    let mut guard = MEMO.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(HashMap::new))
}

/// The keys of `phrases`, in order. Each phrase is FTS5 syntax as the query compiler writes it,
/// `"text"`, or `"text" *` for a prefix phrase; its key is its tokens joined by spaces, with
/// ` *` after a prefix phrase's. A phrase of any other form is its own key: it holds a `"`,
/// which no token does, so it never names another phrase's list.
pub(crate) async fn keys<S: AsRef<str>>(phrases: &[S]) -> Result<Vec<Arc<str>>> {
    let known: Vec<Option<Arc<str>>> =
        with_memo(|memo| phrases.iter().map(|p| memo.get(p.as_ref()).cloned()).collect());
    let unknown: Vec<(&str, String, bool)> = phrases
        .iter()
        .zip(&known)
        .filter(|(_, key)| key.is_none())
        .filter_map(|(phrase, _)| {
            let (text, prefix) = parts(phrase.as_ref())?;
            Some((phrase.as_ref(), text, prefix))
        })
        .collect();
    let texts: Vec<&str> = unknown.iter().map(|(_, text, _)| text.as_str()).collect();
    let tokens = scratch::tokens(&texts).await?;
    let found: HashMap<&str, Arc<str>> = unknown
        .iter()
        .zip(tokens)
        .map(|((phrase, _, prefix), tokens)| {
            let mut key = tokens.join(" ");
            if *prefix {
                key.push_str(" *");
            }
            (*phrase, Arc::from(key))
        })
        .collect();
    if !found.is_empty() {
        with_memo(|memo| {
            if memo.len() + found.len() > MEMO_ENTRIES {
                memo.clear();
            }
            memo.extend(found.iter().map(|(phrase, key)| ((*phrase).to_owned(), Arc::clone(key))));
        });
    }
    Ok(phrases
        .iter()
        .zip(known)
        .map(|(phrase, key)| {
            key.or_else(|| found.get(phrase.as_ref()).cloned()).unwrap_or_else(|| Arc::from(phrase.as_ref()))
        })
        .collect())
}

/// The text between the quotes of `phrase` (`""` read as `"`) and whether it is a prefix
/// phrase; `None` when `phrase` is not one quoted string, optionally followed by ` *`.
fn parts(phrase: &str) -> Option<(String, bool)> {
    let (quoted, prefix) = match phrase.strip_suffix(" *") {
        Some(quoted) => (quoted, true),
        None => (phrase, false),
    };
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    // Inside the quotes, a quote only ever comes doubled.
    if inner.replace("\"\"", "").contains('"') {
        return None;
    }
    Some((inner.replace("\"\"", "\""), prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_split_into_their_text_and_prefix_flag() {
        assert_eq!(parts("\"parse\""), Some(("parse".to_owned(), false)));
        assert_eq!(parts("\"sea\" *"), Some(("sea".to_owned(), true)));
        assert_eq!(parts("\"say \"\"hi\"\"\""), Some(("say \"hi\"".to_owned(), false)));
        assert_eq!(parts("\"a\" OR \"b\""), None);
        assert_eq!(parts("parse"), None);
    }

    #[tokio::test]
    async fn phrases_with_the_same_tokens_have_the_same_key() -> Result<()> {
        let keys = keys(&[
            "\"parse\"",
            "\"Parsing\"",
            "\"foo-bar\"",
            "\"Foo Bar\"",
            "\"parse\" *",
            "\"a\" OR \"b\"",
        ])
        .await?;
        let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        assert_eq!(keys, ["pars", "pars", "foo bar", "foo bar", "pars *", "\"a\" OR \"b\""]);
        // Remembered: the same keys again.
        let again = super::keys(&["\"Parsing\""]).await?;
        assert_eq!(again[0].as_ref(), "pars");
        Ok(())
    }
}
