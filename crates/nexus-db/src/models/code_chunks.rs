//! `code_chunks`: pieces of a project's source files (line ranges with the symbols they
//! define) for code search. Embeddings are kept by nexus-vector, keyed by chunk id.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use super::{JsonList, json_list};
use crate::error::{Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{CodeChunkId, ProjectId, Timestamp};

const TABLE: &str = "code_chunks";

/// A row of `code_chunks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CodeChunk {
    /// Primary key.
    pub id: CodeChunkId,
    /// Owning project.
    pub project_id: ProjectId,
    /// File path, relative to the project root.
    pub file: String,
    /// First line (1-based, inclusive).
    pub start_line: i64,
    /// Last line (inclusive).
    pub end_line: i64,
    /// The code.
    pub content: String,
    /// Symbols the chunk defines.
    pub symbols: Vec<String>,
    /// Kind of chunk (function, class, block, …).
    pub chunk_type: String,
    /// Programming language.
    pub language: String,
    /// Complexity score.
    pub complexity: Option<i64>,
    /// Content hash, for deduplication.
    pub hash: String,
    /// When it was indexed.
    pub indexed_at: Timestamp,
    /// The headers of the containers around the chunk, outermost first, one per line
    /// (`impl<T> Buf for Bytes<T>`); `None` at the top level and for rows indexed before
    /// migration 0013.
    pub context: Option<String>,
    /// The signature of the definition the chunk holds (`pub fn len(&self) -> usize`).
    pub signature: Option<String>,
}

/// A chunk to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCodeChunk {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<CodeChunkId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// File path.
    pub file: String,
    /// First line (1-based).
    pub start_line: i64,
    /// Last line (inclusive).
    pub end_line: i64,
    /// The code.
    pub content: String,
    /// Symbols defined.
    pub symbols: Vec<String>,
    /// Kind of chunk.
    pub chunk_type: String,
    /// Language.
    pub language: String,
    /// Complexity score.
    pub complexity: Option<i64>,
    /// Content hash.
    pub hash: String,
    /// The headers of the containers around the chunk, one per line (indexed for search).
    pub context: Option<String>,
    /// The signature of the definition the chunk holds (indexed for search).
    pub signature: Option<String>,
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeChunkFilter {
    /// Only chunks of this file.
    pub file: Option<String>,
    /// Only chunks in this language.
    pub language: Option<String>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(CodeChunk, $head + <every column> + $tail, args..)`.
macro_rules! query_code_chunks {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            CodeChunk,
            $head + r#" id AS "id: CodeChunkId", project_id AS "project_id: ProjectId", file, start_line, end_line, content,
                      symbols AS "symbols!: JsonList", chunk_type, language,
                      complexity AS "complexity?", hash, indexed_at AS "indexed_at: Timestamp",
                      context AS "context?", signature AS "signature?" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a chunk and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewCodeChunk) -> Result<CodeChunk> {
    validate::content(TABLE, "content", &new.content)?;
    let id = new.id.unwrap_or_else(CodeChunkId::generate);
    let now = Timestamp::now();
    let symbols = json_list(&new.symbols);
    query_code_chunks!(
        "INSERT INTO code_chunks (id, project_id, file, start_line, end_line, content, symbols,
                                  chunk_type, language, complexity, hash, indexed_at, context, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.file,
        new.start_line,
        new.end_line,
        new.content,
        symbols,
        new.chunk_type,
        new.language,
        new.complexity,
        new.hash,
        now,
        new.context,
        new.signature,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_code_chunks, "code_chunks", CodeChunk, CodeChunkId);

get_many_by_id!(query_code_chunks, "code_chunks", CodeChunk, CodeChunkId);

/// A project's chunks matching `filter`, by file then line (ties by id).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &CodeChunkFilter,
) -> Result<Vec<CodeChunk>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_code_chunks!(
        "SELECT",
        "FROM code_chunks
         WHERE project_id = ?1 AND (?2 IS NULL OR file = ?2) AND (?3 IS NULL OR language = ?3)
         ORDER BY file, start_line, id LIMIT ?4 OFFSET ?5",
        project_id,
        filter.file,
        filter.language,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// The project's chunks whose content has this hash.
pub async fn find_by_hash<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    hash: &str,
) -> Result<Vec<CodeChunk>> {
    query_code_chunks!(
        "SELECT",
        "FROM code_chunks WHERE project_id = ? AND hash = ? ORDER BY file, start_line, id",
        project_id,
        hash,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Deletes every chunk of one file of a project; returns how many were deleted.
pub async fn delete_for_file<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    file: &str,
) -> Result<u64> {
    let done = sqlx::query!("DELETE FROM code_chunks WHERE project_id = ? AND file = ?", project_id, file)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    Ok(done.rows_affected())
}

delete_by_id!("code_chunks", CodeChunkId);
