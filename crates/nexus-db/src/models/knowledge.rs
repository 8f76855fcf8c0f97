//! `knowledge_items`: a user's files, URLs and texts. Created with status `processing`; the
//! server's background job chunks and embeds the content, then marks the item `completed` (with
//! its chunk count) or `failed` (with the reason). Every read and delete is scoped to the user.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::{Cursor, Paged};
use crate::error::{FoundExt, Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{KnowledgeId, Timestamp, UserId};

const TABLE: &str = "knowledge_items";

text_enum! {
    /// Where a knowledge item came from.
    pub enum KnowledgeKind { File = "file", Url = "url", Text = "text" }
}

text_enum! {
    /// Where a knowledge item's processing stands.
    pub enum KnowledgeStatus { Processing = "processing", Completed = "completed", Failed = "failed" }
}

/// A row of `knowledge_items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knowledge {
    /// Primary key.
    pub id: KnowledgeId,
    /// Owner.
    pub user_id: UserId,
    /// File, URL or text.
    pub kind: KnowledgeKind,
    /// A display title.
    pub title: String,
    /// The text (a file's content; a URL's text when the caller gave it).
    pub content: String,
    /// The URL, for kind `url`.
    pub url: Option<String>,
    /// The uploaded file's name.
    pub file_name: Option<String>,
    /// The uploaded file's media type.
    pub content_type: Option<String>,
    /// Bytes of content.
    pub size: i64,
    /// Processing status.
    pub status: KnowledgeStatus,
    /// Why processing failed.
    pub error: Option<String>,
    /// Chunks indexed.
    pub chunk_count: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
}

/// A knowledge item to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKnowledge {
    /// Owner.
    pub user_id: UserId,
    /// Kind.
    pub kind: KnowledgeKind,
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// URL.
    pub url: Option<String>,
    /// File name.
    pub file_name: Option<String>,
    /// Media type.
    pub content_type: Option<String>,
}

impl NewKnowledge {
    /// A text item.
    pub fn text(user_id: impl Into<UserId>, title: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            kind: KnowledgeKind::Text,
            title: title.into(),
            content: content.into(),
            url: None,
            file_name: None,
            content_type: None,
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnowledgeFilter {
    /// Only this kind.
    pub kind: Option<KnowledgeKind>,
    /// Only this status.
    pub status: Option<KnowledgeStatus>,
    /// Only titles containing this text (case-insensitive).
    pub title: Option<String>,
}

/// Expands to `query_as!(Knowledge, $head + <every column> + $tail, args..)`.
macro_rules! query_knowledge {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Knowledge,
            $head + r#" id AS "id: KnowledgeId", user_id AS "user_id: UserId", kind AS "kind: KnowledgeKind",
                      title, content, url AS "url?", file_name AS "file_name?", content_type AS "content_type?",
                      size, status AS "status: KnowledgeStatus", error AS "error?", chunk_count,
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Stores a new item with status `processing`.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewKnowledge) -> Result<Knowledge> {
    validate::content(TABLE, "content", &new.content)?;
    let id = KnowledgeId::generate();
    let now = Timestamp::now();
    let size = i64::try_from(new.content.len()).unwrap_or(i64::MAX);
    query_knowledge!(
        "INSERT INTO knowledge_items (id, user_id, kind, title, content, url, file_name, content_type, size,
                                      created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.user_id,
        new.kind,
        new.title,
        new.content,
        new.url,
        new.file_name,
        new.content_type,
        size,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

/// The user's item `id`, or `NotFound` (also when it is another user's).
pub async fn get<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &KnowledgeId) -> Result<Knowledge> {
    query_knowledge!("SELECT", "FROM knowledge_items WHERE id = ? AND user_id = ?", id, user)
        .fetch_optional(ex)
        .await
        .or_not_found(TABLE, id)
}

/// The user's items matching `filter`, newest first, one keyset page.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    filter: &KnowledgeFilter,
    cursor: &Cursor,
) -> Result<Paged<Knowledge>> {
    let limit = cursor.sql_limit();
    let title = filter
        .title
        .as_ref()
        .map(|t| format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let rows = query_knowledge!(
        "SELECT",
        "FROM knowledge_items WHERE user_id = ? AND (? IS NULL OR id < ?) AND (? IS NULL OR kind = ?)
         AND (? IS NULL OR status = ?) AND (? IS NULL OR title LIKE ? ESCAPE '\\')
         ORDER BY id DESC LIMIT ?",
        user,
        cursor.after,
        cursor.after,
        filter.kind,
        filter.kind,
        filter.status,
        filter.status,
        title,
        title,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)?;
    Ok(Paged::from_rows(rows, cursor, |k| k.id.to_string()))
}

/// Records the text fetched for a `url` item (its content, size and media type), before it is
/// indexed; `NotFound` when the item was deleted meanwhile.
pub async fn set_fetched<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &KnowledgeId,
    content: &str,
    content_type: &str,
) -> Result<Knowledge> {
    validate::content(TABLE, "content", content)?;
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    let now = Timestamp::now();
    query_knowledge!(
        "UPDATE knowledge_items SET content = ?, size = ?, content_type = ?, updated_at = ? WHERE id = ? RETURNING",
        "",
        content,
        size,
        content_type,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Marks the item processed: `completed` with its chunk count, or `failed` with the reason.
pub async fn finish<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &KnowledgeId,
    outcome: std::result::Result<i64, String>,
) -> Result<Knowledge> {
    let now = Timestamp::now();
    let (status, chunks, error) = match outcome {
        Ok(chunks) => (KnowledgeStatus::Completed, chunks, None),
        Err(reason) => (KnowledgeStatus::Failed, 0, Some(reason)),
    };
    query_knowledge!(
        "UPDATE knowledge_items SET status = ?, chunk_count = ?, error = ?, updated_at = ? WHERE id = ? RETURNING",
        "",
        status,
        chunks,
        error,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Deletes the user's item `id`, or `NotFound` (also when it is another user's). Its chunks
/// are the caller's to delete (they live in the user's knowledge project under
/// [`Knowledge::chunk_path`]).
pub async fn delete<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &KnowledgeId) -> Result<()> {
    let done = sqlx::query!("DELETE FROM knowledge_items WHERE id = ? AND user_id = ?", id, user)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    if done.rows_affected() == 0 {
        return Err(crate::DbError::not_found(TABLE, id.as_str()));
    }
    Ok(())
}

impl Knowledge {
    /// The path under which the item's chunks are stored in the user's knowledge project:
    /// `knowledge/<id>/<file name>` (`text.md` when there is none, so text is chunked by
    /// Markdown section).
    pub fn chunk_path(&self) -> String {
        let name = self
            .file_name
            .as_deref()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
            .filter(|n| !n.is_empty());
        format!("knowledge/{}/{}", self.id, name.unwrap_or("text.md"))
    }
}
