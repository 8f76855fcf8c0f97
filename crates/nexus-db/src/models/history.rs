//! `history`: snapshots of research sessions with a title and tags, listed by tags (any or
//! all of them), searched by full text over title and report (`history_fts`), deleted one by
//! one. Every read and delete is scoped to the user.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;
use sqlx::types::Json;

use super::{Cursor, JsonList, Paged, json_list};
use crate::error::{FoundExt, Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{DbError, HistoryId, Timestamp, UserId};

const TABLE: &str = "history";

/// A row of `history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Primary key.
    pub id: HistoryId,
    /// Owner.
    pub user_id: UserId,
    /// The session it is a snapshot of.
    pub session_id: Option<String>,
    /// Title.
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The report.
    pub report: String,
    /// The whole session as it was (JSON).
    pub snapshot: Json<serde_json::Value>,
    /// When it was taken.
    pub created_at: Timestamp,
}

/// A history entry to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHistoryEntry {
    /// Owner.
    pub user_id: UserId,
    /// The session.
    pub session_id: Option<String>,
    /// Title.
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Report.
    pub report: String,
    /// Snapshot.
    pub snapshot: serde_json::Value,
}

/// How a tag filter matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagMatch {
    /// Entries with at least one of the tags.
    #[default]
    Any,
    /// Entries with every one of the tags.
    All,
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    /// Tags to match (empty: any entry).
    pub tags: Vec<String>,
    /// Any or all of `tags`.
    pub tag_match: TagMatch,
    /// Words that must all occur in the title or report (full-text, stemmed).
    pub text: Option<String>,
}

/// Expands to `query_as!(HistoryEntry, $head + <every column> + $tail, args..)`.
macro_rules! query_history {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            HistoryEntry,
            $head + r#" id AS "id: HistoryId", user_id AS "user_id: UserId", session_id AS "session_id?", title,
                      tags AS "tags!: JsonList", report, snapshot AS "snapshot: Json<serde_json::Value>",
                      created_at AS "created_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Stores a snapshot.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewHistoryEntry) -> Result<HistoryEntry> {
    validate::content(TABLE, "report", &new.report)?;
    let id = HistoryId::generate();
    let now = Timestamp::now();
    let tags = Json(&new.tags);
    let snapshot = Json(&new.snapshot);
    query_history!(
        "INSERT INTO history (id, user_id, session_id, title, tags, report, snapshot, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.user_id,
        new.session_id,
        new.title,
        tags,
        new.report,
        snapshot,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

/// The user's entry `id`, or `NotFound` (also when it is another user's).
pub async fn get<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &HistoryId) -> Result<HistoryEntry> {
    query_history!("SELECT", "FROM history WHERE id = ? AND user_id = ?", id, user)
        .fetch_optional(ex)
        .await
        .or_not_found(TABLE, id)
}

/// The user's entries matching `filter`, newest first, one keyset page.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    filter: &HistoryFilter,
    cursor: &Cursor,
) -> Result<Paged<HistoryEntry>> {
    let limit = cursor.sql_limit();
    let tags = json_list(&filter.tags);
    let all = filter.tag_match == TagMatch::All;
    let text = filter.text.as_deref().and_then(fts_query);
    if filter.text.is_some() && text.is_none() {
        // Words were asked for but none is searchable: nothing matches.
        return Ok(Paged { items: Vec::new(), next_cursor: None });
    }
    let rows = query_history!(
        "SELECT",
        "FROM history h WHERE user_id = ? AND (? IS NULL OR id < ?)
         AND (? IS NULL
              OR (? AND NOT EXISTS (SELECT 1 FROM json_each(?) w
                                    WHERE w.value NOT IN (SELECT t.value FROM json_each(h.tags) t)))
              OR (NOT ? AND EXISTS (SELECT 1 FROM json_each(h.tags) t
                                    WHERE t.value IN (SELECT w.value FROM json_each(?) w))))
         AND (? IS NULL OR rowid IN (SELECT rowid FROM history_fts WHERE history_fts MATCH ?))
         ORDER BY id DESC LIMIT ?",
        user,
        cursor.after,
        cursor.after,
        tags,
        all,
        tags,
        all,
        tags,
        text,
        text,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)?;
    Ok(Paged::from_rows(rows, cursor, |h| h.id.to_string()))
}

/// Deletes the user's entry `id`, or `NotFound`.
pub async fn delete<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &HistoryId) -> Result<()> {
    let done = sqlx::query!("DELETE FROM history WHERE id = ? AND user_id = ?", id, user)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    if done.rows_affected() == 0 {
        return Err(DbError::not_found(TABLE, id.as_str()));
    }
    Ok(())
}

/// An FTS5 query requiring every word of `text` (letters and digits; each quoted, so no
/// operator syntax reaches FTS5), or `None` when `text` has no word.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn fts_queries_quote_every_word_and_drop_syntax() {
        assert_eq!(
            fts_query("rust AND \"sqlite\" -x*").as_deref(),
            Some("\"rust\" \"AND\" \"sqlite\" \"x\"")
        );
        assert_eq!(fts_query("  ** ()"), None);
    }
}
