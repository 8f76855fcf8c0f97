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
pub mod artifacts;
pub mod checkpoints;
pub mod code_chunks;
pub mod continue_points;
pub mod episodes;
pub mod features;
pub mod indexed_files;
pub mod metrics;
pub mod projects;
pub mod requirements;
pub mod retention;
pub mod sessions;
mod source_kind;
pub mod sub_features;
pub mod tasks;
pub mod transcripts;

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
