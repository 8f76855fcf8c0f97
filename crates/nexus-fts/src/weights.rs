//! [`FieldWeights`]: how much a match in each indexed column counts in BM25.

use serde::{Deserialize, Serialize};

use nexus_db::SourceKind;

use crate::error::{FtsError, Result};

/// Per-column weights passed to FTS5's `bm25()`: a match in a column with weight 2 counts
/// twice as much as one in a column with weight 1; weight 0 makes a column match without
/// adding to the score. Weights must be finite and `>= 0`.
///
/// The defaults favour short, descriptive fields (names, summaries, symbols, paths) over long
/// bodies. In the code index the body counts least: a chunk's name (4), qualified symbols (3),
/// path (2), signature (2) and context (1) say what it is, while a question's words found in
/// some body are mostly noise — `content` and its camelCase-split copy `identifiers` weigh
/// 0.1 (chosen on the train half of `cargo xtask eval-code`, see `docs/code-index.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldWeights {
    /// `episodes.content` (default 1).
    pub episode_content: f64,
    /// `episodes.summary` (default 2).
    pub episode_summary: f64,
    /// `code_chunks.file`, the path (default 2).
    pub code_file: f64,
    /// `code_chunks.symbols` (default 3).
    pub code_symbols: f64,
    /// `code_chunks.content` (default 0.1).
    pub code_content: f64,
    /// The camelCase-split path, symbols and content of a code chunk (default 0.1).
    pub code_identifiers: f64,
    /// The last segment of a code chunk's first symbol, its name (`copy_from_slice` for
    /// `Bytes::copy_from_slice`; default 4).
    #[serde(default = "code_name")]
    pub code_name: f64,
    /// `code_chunks.context`, the headers around the chunk (`impl<T> Buf for Bytes<T>`;
    /// default 1).
    #[serde(default = "code_context")]
    pub code_context: f64,
    /// `code_chunks.signature` (default 2).
    #[serde(default = "code_signature")]
    pub code_signature: f64,
    /// `requirements.description` (default 1).
    pub requirement_description: f64,
    /// `requirements.user_stories` (default 1).
    pub requirement_user_stories: f64,
    /// `tasks.name` (default 3).
    pub task_name: f64,
    /// `tasks.description` (default 1).
    pub task_description: f64,
    /// `transcript_entries.content` (default 1).
    #[serde(default = "one")]
    pub transcript_content: f64,
}

/// Serde's default for weights added after a form was first written.
const fn one() -> f64 {
    1.0
}

/// Serde's default of [`FieldWeights::code_name`].
const fn code_name() -> f64 {
    CODE_NAME
}

/// Serde's default of [`FieldWeights::code_context`].
const fn code_context() -> f64 {
    CODE_CONTEXT
}

/// Serde's default of [`FieldWeights::code_signature`].
const fn code_signature() -> f64 {
    CODE_SIGNATURE
}

/// Default weight of a code chunk's name column.
const CODE_NAME: f64 = 4.0;
/// Default weight of a code chunk's context column.
const CODE_CONTEXT: f64 = 1.0;
/// Default weight of a code chunk's signature column.
const CODE_SIGNATURE: f64 = 2.0;

impl Default for FieldWeights {
    fn default() -> Self {
        Self {
            episode_content: 1.0,
            episode_summary: 2.0,
            code_file: 2.0,
            code_symbols: 3.0,
            code_content: 0.1,
            code_identifiers: 0.1,
            code_name: CODE_NAME,
            code_context: CODE_CONTEXT,
            code_signature: CODE_SIGNATURE,
            requirement_description: 1.0,
            requirement_user_stories: 1.0,
            task_name: 3.0,
            task_description: 1.0,
            transcript_content: 1.0,
        }
    }
}

impl FieldWeights {
    /// The weights of `kind`'s index, in its column order (the arguments of its `bm25()`).
    pub(crate) fn of(&self, kind: SourceKind) -> Vec<f64> {
        match kind {
            SourceKind::Episode => vec![self.episode_content, self.episode_summary],
            SourceKind::CodeChunk => {
                vec![
                    self.code_file,
                    self.code_symbols,
                    self.code_content,
                    self.code_identifiers,
                    self.code_name,
                    self.code_context,
                    self.code_signature,
                ]
            }
            SourceKind::Requirement => vec![self.requirement_description, self.requirement_user_stories],
            SourceKind::Task => vec![self.task_name, self.task_description],
            SourceKind::TranscriptEntry => vec![self.transcript_content],
        }
    }

    /// Checks that every weight is finite and `>= 0`.
    ///
    /// # Errors
    /// [`FtsError::InvalidWeight`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("episode.content", self.episode_content),
            ("episode.summary", self.episode_summary),
            ("code_chunk.file", self.code_file),
            ("code_chunk.symbols", self.code_symbols),
            ("code_chunk.content", self.code_content),
            ("code_chunk.identifiers", self.code_identifiers),
            ("code_chunk.name", self.code_name),
            ("code_chunk.context", self.code_context),
            ("code_chunk.signature", self.code_signature),
            ("requirement.description", self.requirement_description),
            ("requirement.user_stories", self.requirement_user_stories),
            ("task.name", self.task_name),
            ("task.description", self.task_description),
            ("transcript_entry.content", self.transcript_content),
        ];
        match fields.into_iter().find(|(_, value)| !(value.is_finite() && *value >= 0.0)) {
            Some((field, value)) => Err(FtsError::InvalidWeight { field, value }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_weights_are_named() {
        assert!(FieldWeights::default().validate().is_ok());
        let bad = FieldWeights { task_name: f64::NAN, ..FieldWeights::default() };
        assert!(matches!(bad.validate(), Err(FtsError::InvalidWeight { field: "task.name", .. })));
        let negative = FieldWeights { code_file: -1.0, ..FieldWeights::default() };
        assert!(matches!(negative.validate(), Err(FtsError::InvalidWeight { field: "code_chunk.file", .. })));
    }
}
