//! Typed models and compile-time-checked queries, one module per Nexus table.
//!
//! Every module follows the same shape so a newcomer can find their way around:
//! the row struct (what `get` returns), a `New*` struct for inserts (with `new(..)` taking the
//! required fields and defaults for the rest), the table's enums, a `*Filter` for `list`, and
//! the query functions. Each function takes any sqlx executor — `db.writer()` for writes,
//! `db.reader()` for reads, or `&mut *tx` inside a transaction.

#[macro_use]
mod macros;

pub mod agents;
pub mod api_keys;
pub mod artifacts;
pub mod checkpoints;
pub mod code_chunks;
pub mod continue_points;
pub mod episodes;
pub mod features;
pub mod history;
pub mod indexed_files;
pub mod knowledge;
pub mod metrics;
pub mod projects;
pub mod requirements;
pub mod research_sessions;
pub mod retention;
pub mod sessions;
mod source_kind;
pub mod sub_features;
pub mod tasks;
pub mod transcripts;
pub mod users;

pub use source_kind::SourceKind;

/// A list for a JSON list column: `None` (SQL NULL) when empty.
pub(crate) fn json_list<T: serde::Serialize>(values: &[T]) -> Option<sqlx::types::Json<&[T]>> {
    (!values.is_empty()).then_some(sqlx::types::Json(values))
}

/// A JSON list column as read by the `query_*!` macros (`"tags!: JsonList"`,
/// `"depends_on!: JsonList<TaskId>"`): a JSON array of strings, with SQL NULL (how
/// [`json_list`] stores an empty list) read as empty. Rows hold the plain `Vec<T>` it converts
/// into, the same type as the `New*` structs.
pub(crate) struct JsonList<T = String>(Vec<T>);

impl<T> sqlx::Type<sqlx::Sqlite> for JsonList<T> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <sqlx::types::Json<Vec<String>> as sqlx::Type<sqlx::Sqlite>>::type_info()
    }

    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <sqlx::types::Json<Vec<String>> as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
    }
}

impl<'r, T: serde::de::DeserializeOwned + 'r> sqlx::Decode<'r, sqlx::Sqlite> for JsonList<T> {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef as _;
        if value.is_null() {
            return Ok(Self(Vec::new()));
        }
        let list = <sqlx::types::Json<Vec<T>> as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?;
        Ok(Self(list.0))
    }
}

impl<T> From<JsonList<T>> for Vec<T> {
    fn from(list: JsonList<T>) -> Self {
        list.0
    }
}

/// The outcome of a `put` (an upsert guarded by the owning row): no row written means the id
/// exists under another owner.
pub(crate) fn put_applied(table: &'static str, rows_affected: u64) -> crate::Result<()> {
    if rows_affected == 0 {
        return Err(crate::DbError::InvalidValue {
            table,
            column: "id",
            reason: "the id belongs to a row of another project".to_owned(),
        });
    }
    Ok(())
}

/// `LIMIT` value for "no limit".
pub(crate) fn limit_or_all(limit: Option<u32>) -> i64 {
    limit.map_or(-1, i64::from)
}

/// Pagination shared by every `list` function: results come in a stable order, so
/// `offset`/`limit` pages never repeat or skip rows while the table is unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Maximum rows to return (`None`: all).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: u32,
}

impl Page {
    /// The first `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { limit: Some(limit), offset: 0 }
    }

    pub(crate) fn sql_limit(self) -> i64 {
        limit_or_all(self.limit)
    }

    pub(crate) fn sql_offset(self) -> i64 {
        i64::from(self.offset)
    }
}

/// Rows per page of a keyset-paginated list when the caller gives no limit, and the most it may
/// ask for.
pub const MAX_PAGE: u32 = 1000;

/// A keyset page of a user's rows, newest first: the rows after `after` (an id of the previous
/// page's last row), at most `limit` (capped at [`MAX_PAGE`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Continue after this id (the last row of the previous page); `None`: from the newest.
    pub after: Option<String>,
    /// Rows per page (0 or more than [`MAX_PAGE`]: [`MAX_PAGE`]).
    pub limit: u32,
}

impl Cursor {
    /// The first `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// The SQL `LIMIT`: one more than the page, to tell whether another page follows.
    pub(crate) fn sql_limit(&self) -> i64 {
        i64::from(self.page_len()) + 1
    }

    /// Rows per page.
    pub(crate) fn page_len(&self) -> u32 {
        if self.limit == 0 || self.limit > MAX_PAGE { MAX_PAGE } else { self.limit }
    }
}

/// One keyset page: the rows and, when more follow, the id to pass as the next [`Cursor::after`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Paged<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Splits the `limit + 1` rows a query fetched into a page and its next cursor.
    pub(crate) fn from_rows(mut rows: Vec<T>, cursor: &Cursor, id: impl Fn(&T) -> String) -> Self {
        let len = cursor.page_len() as usize;
        let more = rows.len() > len;
        rows.truncate(len);
        let next_cursor = if more { rows.last().map(id) } else { None };
        Self { items: rows, next_cursor }
    }
}
