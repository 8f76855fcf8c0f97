//! # nexus-transcripts
//!
//! Agent transcripts on top of nexus-db's `transcripts` tables: [`import_jsonl`] reads the
//! common on-disk form of agent logs (one JSON object per line) in one transaction, and
//! [`entries`] streams a transcript of any length with bounded memory (keyset pages).
//! [`search`] finds entries by text with project, agent, role and time filters. Appending,
//! pages and `tail` are nexus-db's [`nexus_db::transcripts`] functions.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use nexus_db::{Db, projects::{self, NewProject}, transcripts::NewTranscript};
//! let db = Db::in_memory().await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! let log = "{\"role\":\"user\",\"content\":\"fix the cart\"}\n{\"role\":\"assistant\",\"content\":\"done\"}\n";
//! let (transcript, count) = nexus_transcripts::import_jsonl(&db, NewTranscript::new(&project.id), log.as_bytes()).await?;
//! assert_eq!(count, 2);
//! let all: Vec<_> = nexus_transcripts::entries(&db, &transcript.id, 100).try_collect().await?;
//! assert_eq!((all[1].seq, all[1].content.as_str()), (2, "done"));
//! # Ok(()) }
//! ```

mod error;
mod jsonl;

use futures::{Stream, TryStreamExt};
use nexus_db::transcripts::{self, Entry, NewTranscript, Transcript};
use nexus_db::{Db, DbError, TranscriptId};
use sqlx::SqliteConnection;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tracing::info;

pub use error::{Result, TranscriptError};

/// Entries matching `text` (the same query language as the rest of Nexus: words, "phrases",
/// prefix*, -excluded, OR; user text cannot break it) and `filter` (project, agent, role,
/// time), best first.
pub async fn search(
    db: &Db,
    text: &str,
    filter: &transcripts::EntryFilter,
    limit: u32,
) -> Result<Vec<transcripts::EntryHit>> {
    let expression =
        nexus_fts::MatchExpression::parse(text, nexus_fts::MatchMode::Any, nexus_db::SourceKind::Episode)?;
    Ok(transcripts::search(db.reader(), expression.as_str(), filter, limit).await?)
}

/// Entries appended per statement batch while importing.
const IMPORT_BATCH: usize = 512;

/// Creates a transcript from a JSONL reader (see the `jsonl` rules in the docs): every line
/// one entry, blank lines skipped, all in one write transaction — a line that is not an entry
/// is [`TranscriptError::Line`] naming it, and nothing of the file is written. Memory is
/// bounded by one batch of entries. Returns the transcript and the number of entries.
pub async fn import_jsonl(
    db: &Db,
    new: NewTranscript,
    reader: impl AsyncBufRead + Unpin,
) -> Result<(Transcript, usize)> {
    let mut tx = db.begin().await?;
    let transcript = transcripts::create(&mut *tx, new).await?;
    let mut lines = reader.lines();
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let (mut number, mut count) = (0usize, 0usize);
    while let Some(line) = lines.next_line().await? {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        batch.push(jsonl::entry(&line).map_err(|reason| TranscriptError::Line { line: number, reason })?);
        if batch.len() == IMPORT_BATCH {
            transcripts::append(&mut *tx, &transcript.id, &batch).await?;
            count += batch.len();
            batch.clear();
        }
    }
    transcripts::append(&mut *tx, &transcript.id, &batch).await?;
    count += batch.len();
    let transcript = transcripts::get(&mut *tx, &transcript.id).await?;
    tx.commit().await.map_err(DbError::from)?;
    info!(transcript = %transcript.id, entries = count, "transcript imported");
    Ok((transcript, count))
}

/// Every entry of a transcript in order, read in keyset pages of `page_size`: memory stays
/// bounded by one page however long the transcript is. The stream reads on a connection of
/// its own (taken from the reader pool, which opens a replacement) with memory-mapped I/O
/// off, so reading a long transcript does not map the database file into the process.
pub fn entries(
    db: &Db,
    transcript: &TranscriptId,
    page_size: u32,
) -> impl Stream<Item = Result<Entry>> + use<> {
    let page_size = page_size.max(1);
    let start = Cursor::Start(db.clone(), transcript.clone());
    futures::stream::try_unfold(start, move |cursor| async move {
        let (mut conn, id, after) = match cursor {
            Cursor::Done => return Ok(None),
            Cursor::Start(db, id) => {
                let mut conn = db.reader().acquire().await.map_err(DbError::from)?.detach();
                sqlx::query("PRAGMA mmap_size = 0").execute(&mut conn).await.map_err(DbError::from)?;
                (conn, id, 0)
            }
            Cursor::At(conn, id, after) => (conn, id, after),
        };
        let page = transcripts::page(&mut conn, &id, after, page_size).await?;
        let next = match page.last() {
            Some(last) if page.len() == page_size as usize => Cursor::At(conn, id, last.seq),
            _ => Cursor::Done,
        };
        if page.is_empty() {
            return Ok(None);
        }
        Ok::<_, TranscriptError>(Some((page, next)))
    })
    .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
    .try_flatten()
}

/// Where [`entries`] is.
enum Cursor {
    Start(Db, TranscriptId),
    At(SqliteConnection, TranscriptId, i64),
    Done,
}
