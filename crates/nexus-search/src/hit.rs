//! [`Hit`]: a search result hydrated with its typed source row, and how rows are loaded.

use std::borrow::Cow;
use std::collections::HashMap;

use nexus_db::{SourceKind, code_chunks, episodes, requirements, tasks, transcripts};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::fusion::{Breakdown, HitKey};

/// The row a hit points at, typed by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "row", rename_all = "snake_case")]
pub enum Source {
    /// An episode of episodic memory.
    Episode(episodes::Episode),
    /// A chunk of indexed code.
    CodeChunk(code_chunks::CodeChunk),
    /// A requirement.
    Requirement(requirements::Requirement),
    /// A task.
    Task(tasks::Task),
    /// An entry of an agent's transcript (keyword leg only: entries have no vectors).
    TranscriptEntry(transcripts::Entry),
}

impl Source {
    /// The row's id (for a transcript entry, its `transcripts::entry_key`).
    pub fn id(&self) -> Cow<'_, str> {
        match self {
            Self::Episode(row) => Cow::Borrowed(&row.id),
            Self::CodeChunk(row) => Cow::Borrowed(&row.id),
            Self::Requirement(row) => Cow::Borrowed(&row.id),
            Self::Task(row) => Cow::Borrowed(&row.id),
            Self::TranscriptEntry(row) => Cow::Owned(transcripts::entry_key(&row.transcript_id, row.seq)),
        }
    }

    /// The row's snippet columns as its full-text index holds them (`nexus_fts::SnippetText`),
    /// when the typed row has them as stored: not a requirement, whose user stories are stored
    /// as JSON text.
    pub(crate) fn snippet_columns(&self) -> Option<[Option<&str>; 2]> {
        match self {
            Self::Episode(row) => Some([Some(&row.content), row.summary.as_deref()]),
            Self::CodeChunk(row) => Some([Some(&row.content), None]),
            Self::Task(row) => Some([Some(&row.name), row.description.as_deref()]),
            Self::TranscriptEntry(row) => Some([Some(&row.content), None]),
            Self::Requirement(_) => None,
        }
    }

    /// The row's kind.
    pub fn kind(&self) -> SourceKind {
        match self {
            Self::Episode(_) => SourceKind::Episode,
            Self::CodeChunk(_) => SourceKind::CodeChunk,
            Self::Requirement(_) => SourceKind::Requirement,
            Self::Task(_) => SourceKind::Task,
            Self::TranscriptEntry(_) => SourceKind::TranscriptEntry,
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The fused score, higher is better (its scale depends on the fusion method).
    pub score: f64,
    /// The source row.
    pub source: Source,
    /// An extract with the matched words marked, when the keyword leg found the row.
    pub snippet: Option<String>,
    /// Each leg's rank, raw score and contribution (only with `explain(true)`).
    pub explain: Option<Breakdown>,
}

/// Loads the rows for `keys` with one query per kind, keyed by `(kind, id)`. Rows deleted since
/// the legs ran are simply absent.
pub(crate) async fn load_sources(
    conn: &mut SqliteConnection,
    keys: &[&HitKey],
) -> Result<HashMap<HitKey, Source>> {
    let mut ids: HashMap<SourceKind, Vec<String>> = HashMap::new();
    for key in keys {
        ids.entry(key.kind).or_default().push(key.id.clone());
    }
    let mut rows = HashMap::with_capacity(keys.len());
    for (kind, ids) in ids {
        let sources: Vec<Source> = match kind {
            SourceKind::Episode => {
                episodes::get_many(&mut *conn, &typed(&ids)).await?.into_iter().map(Source::Episode).collect()
            }
            SourceKind::CodeChunk => code_chunks::get_many(&mut *conn, &typed(&ids))
                .await?
                .into_iter()
                .map(Source::CodeChunk)
                .collect(),
            SourceKind::Requirement => requirements::get_many(&mut *conn, &typed(&ids))
                .await?
                .into_iter()
                .map(Source::Requirement)
                .collect(),
            SourceKind::Task => {
                tasks::get_many(&mut *conn, &typed(&ids)).await?.into_iter().map(Source::Task).collect()
            }
            SourceKind::TranscriptEntry => transcripts::get_entries(&mut *conn, &ids)
                .await?
                .into_iter()
                .map(Source::TranscriptEntry)
                .collect(),
        };
        for source in sources {
            rows.insert(HitKey { kind: source.kind(), id: source.id().into_owned() }, source);
        }
    }
    Ok(rows)
}

/// The legs' text ids as one table's typed ids.
fn typed<Id: for<'a> From<&'a str>>(ids: &[String]) -> Vec<Id> {
    ids.iter().map(|id| Id::from(id.as_str())).collect()
}
