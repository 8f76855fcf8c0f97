//! `transcripts` and `transcript_entries`: an agent's conversation in a project and its
//! entries, numbered 1, 2, 3, … without gaps per transcript. Entries are appended, read by
//! sequence (keyset pages, never OFFSET) and deleted only with their transcript.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Acquire, Sqlite, SqliteExecutor};

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{AgentId, ProjectId, SessionId, TaskId, Timestamp, TranscriptId};

const TABLE: &str = "transcripts";
const ENTRIES: &str = "transcript_entries";

text_enum! {
    /// Who wrote an entry.
    pub enum Role { System = "system", User = "user", Assistant = "assistant", Tool = "tool" }
}

/// A row of `transcripts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Transcript {
    /// Primary key.
    pub id: TranscriptId,
    /// Owning project.
    pub project_id: ProjectId,
    /// The agent whose conversation it is.
    pub agent_id: Option<AgentId>,
    /// The session it belongs to.
    pub session_id: Option<SessionId>,
    /// The task it is about.
    pub task_id: Option<TaskId>,
    /// A display title.
    pub title: Option<String>,
    /// Number of entries (the last sequence number used).
    pub entry_count: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When an entry was last appended.
    pub updated_at: Timestamp,
}

/// A transcript to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTranscript {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<TranscriptId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// The agent.
    pub agent_id: Option<AgentId>,
    /// The session.
    pub session_id: Option<SessionId>,
    /// The task.
    pub task_id: Option<TaskId>,
    /// A display title.
    pub title: Option<String>,
}

impl NewTranscript {
    /// An empty transcript in `project_id`.
    pub fn new(project_id: impl Into<ProjectId>) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            agent_id: None,
            session_id: None,
            task_id: None,
            title: None,
        }
    }
}

/// A row of `transcript_entries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Entry {
    /// The transcript.
    pub transcript_id: TranscriptId,
    /// Position in the transcript, from 1, without gaps.
    pub seq: i64,
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub content: String,
    /// The tool called or answering (tool calls and results).
    pub tool_name: Option<String>,
    /// The tool call this entry makes or answers.
    pub tool_call_id: Option<String>,
    /// Input (prompt) tokens.
    pub input_tokens: Option<i64>,
    /// Output (completion) tokens.
    pub output_tokens: Option<i64>,
    /// Anything else the source had (fields this schema has no column for).
    pub metadata: Option<Json<serde_json::Value>>,
    /// When it was written.
    pub created_at: Timestamp,
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub content: String,
    /// The tool.
    pub tool_name: Option<String>,
    /// The tool call id.
    pub tool_call_id: Option<String>,
    /// Input tokens.
    pub input_tokens: Option<i64>,
    /// Output tokens.
    pub output_tokens: Option<i64>,
    /// Other fields.
    pub metadata: Option<serde_json::Value>,
    /// When it was written (default: now).
    pub created_at: Option<Timestamp>,
}

impl NewEntry {
    /// An entry of `role` with `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_name: None,
            tool_call_id: None,
            input_tokens: None,
            output_tokens: None,
            metadata: None,
            created_at: None,
        }
    }
}

/// Expands to `query_as!(Transcript, $head + <every column> + $tail, args..)`.
macro_rules! query_transcripts {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Transcript,
            $head + r#" id AS "id: TranscriptId", project_id AS "project_id: ProjectId",
                      agent_id AS "agent_id?: AgentId", session_id AS "session_id?: SessionId",
                      task_id AS "task_id?: TaskId", title AS "title?", entry_count,
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Expands to `query_as!(Entry, $head + <every column> + $tail, args..)`.
macro_rules! query_entries {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Entry,
            $head + r#" transcript_id AS "transcript_id: TranscriptId", seq, role AS "role: Role", content,
                      tool_name AS "tool_name?", tool_call_id AS "tool_call_id?",
                      input_tokens AS "input_tokens?", output_tokens AS "output_tokens?",
                      metadata AS "metadata?: Json<serde_json::Value>",
                      created_at AS "created_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Creates an empty transcript and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewTranscript) -> Result<Transcript> {
    let id = new.id.unwrap_or_else(TranscriptId::generate);
    let now = Timestamp::now();
    query_transcripts!(
        "INSERT INTO transcripts (id, project_id, agent_id, session_id, task_id, title, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.agent_id,
        new.session_id,
        new.task_id,
        new.title,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_transcripts, "transcripts", Transcript, TranscriptId);

/// A project's transcripts, newest first.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    page: Page,
) -> Result<Vec<Transcript>> {
    let (limit, offset) = (page.sql_limit(), page.sql_offset());
    query_transcripts!(
        "SELECT",
        "FROM transcripts WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        project_id,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Appends `entries` to the transcript in one transaction (on the connection `conn` gives:
/// use the writer or a transaction of yours) and returns the sequence numbers they got
/// (`first..=last`; an empty slice returns `None`). Numbers are gapless per transcript even
/// with many tasks appending at once: they are taken under the single writer.
pub async fn append<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    transcript: &TranscriptId,
    entries: &[NewEntry],
) -> Result<Option<(i64, i64)>> {
    if entries.is_empty() {
        return Ok(None);
    }
    for entry in entries {
        validate::content(ENTRIES, "content", &entry.content)?;
    }
    let mut tx = conn.begin().await.in_table(ENTRIES)?;
    let now = Timestamp::now();
    let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    // Reserve the numbers first: the UPDATE takes the write lock and fails on an unknown id.
    let last = sqlx::query_scalar!(
        "UPDATE transcripts SET entry_count = entry_count + ?, updated_at = ? WHERE id = ? RETURNING entry_count",
        count,
        now,
        transcript,
    )
    .fetch_all(&mut *tx)
    .await
    .returned_row(TABLE, transcript)?;
    let first = last - count + 1;
    for (seq, entry) in (first..).zip(entries) {
        let metadata = entry.metadata.as_ref().map(Json);
        let created_at = entry.created_at.unwrap_or(now);
        sqlx::query!(
            "INSERT INTO transcript_entries (transcript_id, seq, role, content, tool_name, tool_call_id,
                                             input_tokens, output_tokens, metadata, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            transcript,
            seq,
            entry.role,
            entry.content,
            entry.tool_name,
            entry.tool_call_id,
            entry.input_tokens,
            entry.output_tokens,
            metadata,
            created_at,
        )
        .execute(&mut *tx)
        .await
        .in_table(ENTRIES)?;
    }
    tx.commit().await.in_table(ENTRIES)?;
    Ok(Some((first, last)))
}

/// Up to `limit` entries after sequence number `after` (0: from the start), in order. A keyset
/// read: as fast near the end of a long transcript as near the start.
pub async fn page<'e>(
    ex: impl SqliteExecutor<'e>,
    transcript: &TranscriptId,
    after: i64,
    limit: u32,
) -> Result<Vec<Entry>> {
    query_entries!(
        "SELECT",
        "FROM transcript_entries WHERE transcript_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        transcript,
        after,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(ENTRIES)
}

/// The last `n` entries, in order.
pub async fn tail<'e>(ex: impl SqliteExecutor<'e>, transcript: &TranscriptId, n: u32) -> Result<Vec<Entry>> {
    let mut entries = query_entries!(
        "SELECT",
        "FROM transcript_entries WHERE transcript_id = ? ORDER BY seq DESC LIMIT ?",
        transcript,
        n,
    )
    .fetch_all(ex)
    .await
    .in_table(ENTRIES)?;
    entries.reverse();
    Ok(entries)
}

/// The id search gives an entry (`SourceKind::TranscriptEntry`): `{transcript_id}#{seq}`.
///
/// ```
/// use nexus_db::{TranscriptId, transcripts};
/// let key = transcripts::entry_key(&TranscriptId::from("tr-1"), 7);
/// assert_eq!(key, "tr-1#7");
/// assert_eq!(transcripts::parse_entry_key(&key), Some((TranscriptId::from("tr-1"), 7)));
/// assert_eq!(transcripts::parse_entry_key("tr-1"), None);
/// ```
pub fn entry_key(transcript: &TranscriptId, seq: i64) -> String {
    format!("{transcript}#{seq}")
}

/// The transcript and sequence number of an [`entry_key`], or `None` when `key` is not one.
pub fn parse_entry_key(key: &str) -> Option<(TranscriptId, i64)> {
    let (transcript, seq) = key.rsplit_once('#')?;
    Some((TranscriptId::from(transcript), seq.parse().ok()?))
}

/// The entries named by `keys` ([`entry_key`]s), in no particular order; keys that name no
/// entry (or are not entry keys) are left out.
pub async fn get_entries<'e>(ex: impl SqliteExecutor<'e>, keys: &[String]) -> Result<Vec<Entry>> {
    let pairs: Vec<(TranscriptId, i64)> = keys.iter().filter_map(|key| parse_entry_key(key)).collect();
    query_entries!(
        "SELECT",
        "FROM json_each(?) AS k CROSS JOIN transcript_entries
         ON transcript_id = k.value ->> 0 AND seq = k.value ->> 1",
        Json(pairs),
    )
    .fetch_all(ex)
    .await
    .in_table(ENTRIES)
}

/// Which entries [`search`] considers; unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFilter {
    /// Only transcripts of this project.
    pub project_id: Option<ProjectId>,
    /// Only transcripts of this agent.
    pub agent_id: Option<AgentId>,
    /// Only entries of this role.
    pub role: Option<Role>,
    /// Only entries written at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries written before this time.
    pub until: Option<Timestamp>,
}

/// An entry found by [`search`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EntryHit {
    /// The transcript.
    pub transcript_id: TranscriptId,
    /// The entry's sequence number.
    pub seq: i64,
    /// Who wrote it.
    pub role: Role,
    /// When it was written.
    pub created_at: Timestamp,
    /// BM25 relevance, higher is better.
    pub score: f64,
    /// An extract with the matched words between `[` and `]`.
    pub snippet: String,
}

/// The entries matching the FTS5 expression `expression` (build it with nexus-fts's
/// `MatchExpression`, never from raw user text) and `filter`, best first.
pub async fn search<'e>(
    ex: impl SqliteExecutor<'e>,
    expression: &str,
    filter: &EntryFilter,
    limit: u32,
) -> Result<Vec<EntryHit>> {
    sqlx::query_as!(
        EntryHit,
        r#"SELECT e.transcript_id AS "transcript_id!: TranscriptId", e.seq AS "seq!: i64",
                  e.role AS "role!: Role", e.created_at AS "created_at!: Timestamp",
                  CAST(-bm25(transcript_entries_fts) AS REAL) AS "score!: f64",
                  snippet(transcript_entries_fts, 0, '[', ']', '…', 12) AS "snippet!: String"
           FROM transcript_entries_fts
           CROSS JOIN transcript_entries AS e ON e.id = transcript_entries_fts.rowid
           JOIN transcripts AS t ON t.id = e.transcript_id
           WHERE transcript_entries_fts MATCH ?1
             AND (?2 IS NULL OR t.project_id = ?2) AND (?3 IS NULL OR t.agent_id = ?3)
             AND (?4 IS NULL OR e.role = ?4) AND (?5 IS NULL OR e.created_at >= ?5)
             AND (?6 IS NULL OR e.created_at < ?6)
           ORDER BY bm25(transcript_entries_fts), e.transcript_id, e.seq LIMIT ?7"#,
        expression,
        filter.project_id,
        filter.agent_id,
        filter.role,
        filter.since,
        filter.until,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(ENTRIES)
}

delete_by_id!("transcripts", TranscriptId);
