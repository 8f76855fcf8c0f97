//! The crate's one error type, [`DbError`], and the helpers that give errors their context.
//!
//! Every database call in nexus-db goes through [`ResultExt::in_table`], which turns a raw
//! [`sqlx::Error`] into a variant that names the table it concerns: a constraint violation
//! becomes [`DbError::Constraint`], a missing row [`DbError::NotFound`].

use std::borrow::Cow;

/// Result alias used throughout nexus-db.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// Which kind of constraint a write violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// A `PRIMARY KEY` or `UNIQUE` constraint (for example a duplicate id).
    Unique,
    /// A `FOREIGN KEY` constraint (for example a task for a project that does not exist).
    ForeignKey,
    /// A `NOT NULL` constraint.
    NotNull,
    /// A `CHECK` constraint (for example a status outside its value set, or invalid JSON).
    Check,
    /// Any other constraint SQLite reported.
    Other,
}

impl std::fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unique => "unique",
            Self::ForeignKey => "foreign key",
            Self::NotNull => "not null",
            Self::Check => "check",
            Self::Other => "other",
        })
    }
}

/// Everything that can go wrong in nexus-db.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// No row with this id exists in this table.
    #[error("{table}: no row with id {id:?}")]
    NotFound {
        /// The table that was searched.
        table: &'static str,
        /// The id that was not found.
        id: String,
    },
    /// A write violated a constraint of this table.
    #[error("{table}: {kind} constraint violated: {message}")]
    Constraint {
        /// The table that was written.
        table: &'static str,
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// SQLite's message, which names the column or constraint.
        message: String,
    },
    /// A status change that the row's current status does not allow
    /// (for example completing a task that was never started).
    #[error("{table}: row {id:?} cannot go from {from} to {to}")]
    InvalidTransition {
        /// The table of the row.
        table: &'static str,
        /// The row's id.
        id: String,
        /// The row's current status.
        from: String,
        /// The status that was asked for.
        to: &'static str,
    },
    /// An update named a version of the row that is no longer current (optimistic
    /// concurrency): nothing was changed.
    #[error("{table}: row {id:?} is at version {current}, the update was for version {expected}")]
    VersionConflict {
        /// The table of the row.
        table: &'static str,
        /// The row's id.
        id: String,
        /// The version the update named.
        expected: i64,
        /// The row's current version.
        current: i64,
    },
    /// A value read from a table could not be decoded into its Rust type.
    #[error("{table}: invalid stored value: {source}")]
    Decode {
        /// The table that was read.
        table: &'static str,
        /// The decoding error.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be opened or configured.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The path (or in-memory name) being opened.
        path: String,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed or the database has migrations this build does not know.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// sqlite-vec could not be registered with SQLite.
    #[error("cannot register the sqlite-vec extension (SQLite code {0})")]
    Extension(i32),
    /// An option given to [`crate::DbOptions`] is out of range.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Why it was rejected.
        reason: Cow<'static, str>,
    },
    /// A read-only open found a database that is not at this build's latest migration.
    #[error("{path}: schema is at migration {found:?}, this build needs {latest:?} (run `nexus migrate`)")]
    SchemaNotCurrent {
        /// The database file.
        path: String,
        /// The highest applied migration.
        found: Option<i64>,
        /// The highest migration this build knows.
        latest: Option<i64>,
    },
    /// A value given to a write was refused before reaching the database.
    #[error("{table}.{column}: {reason}")]
    InvalidValue {
        /// The table that would have been written.
        table: &'static str,
        /// The column the value was for.
        column: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Any other database error, with the table (or operation) it concerns.
    #[error("{context}: {source}")]
    Sqlx {
        /// The table or operation the error happened in.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
}

impl DbError {
    /// Builds a [`DbError::NotFound`] for `table` and `id`.
    pub fn not_found(table: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound { table, id: id.into() }
    }

    /// Classifies a raw sqlx error that happened while working on `table`.
    #[doc(hidden)]
    pub fn from_sqlx(table: &'static str, source: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &source {
            sqlx::Error::Database(db) => {
                let kind = match db.kind() {
                    ErrorKind::UniqueViolation => Some(ConstraintKind::Unique),
                    ErrorKind::ForeignKeyViolation => Some(ConstraintKind::ForeignKey),
                    ErrorKind::NotNullViolation => Some(ConstraintKind::NotNull),
                    ErrorKind::CheckViolation => Some(ConstraintKind::Check),
                    // SQLITE_CONSTRAINT (19) with an extended code we do not classify further.
                    _ if sqlite_code(&source).is_some_and(|c| c & 0xff == 19) => Some(ConstraintKind::Other),
                    _ => None,
                };
                match kind {
                    Some(kind) => Self::Constraint { table, kind, message: db.message().to_owned() },
                    None => Self::Sqlx { context: table, source },
                }
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => Self::Decode { table, source },
            _ => Self::Sqlx { context: table, source },
        }
    }

    /// True when this error is a constraint violation of the given kind.
    pub fn is_constraint(&self, wanted: ConstraintKind) -> bool {
        matches!(self, Self::Constraint { kind, .. } if *kind == wanted)
    }

    /// True when SQLite refused to write because the database is read-only.
    pub fn is_read_only(&self) -> bool {
        self.sqlite_code().is_some_and(|c| c & 0xff == 8)
    }

    /// True when SQLite reported the disk (or `max_page_count`) as full.
    pub fn is_full(&self) -> bool {
        self.sqlite_code().is_some_and(|c| c & 0xff == 13)
    }

    /// SQLite's extended result code, when this error came from SQLite.
    pub fn sqlite_code(&self) -> Option<i32> {
        let source = match self {
            Self::Sqlx { source, .. } | Self::Open { source, .. } | Self::Decode { source, .. } => source,
            _ => return None,
        };
        sqlite_code(source)
    }

    /// True when SQLite reported the database as busy or locked.
    pub fn is_busy(&self) -> bool {
        self.sqlite_code().is_some_and(|c| matches!(c & 0xff, 5 | 6))
    }
}

/// SQLite's (extended) result code of a raw sqlx error, when it came from SQLite.
pub(crate) fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    match error {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse().ok()),
        _ => None,
    }
}

/// Errors from raw sqlx calls a caller makes itself (`tx.commit()`, hand-written queries):
/// classified like any other, with the context "sqlx".
impl From<sqlx::Error> for DbError {
    fn from(source: sqlx::Error) -> Self {
        Self::from_sqlx("sqlx", source)
    }
}

/// Adds table context to results of sqlx calls.
#[doc(hidden)]
pub trait ResultExt<T> {
    /// Maps the error with [`DbError::from_sqlx`] for `table`.
    fn in_table(self, table: &'static str) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn in_table(self, table: &'static str) -> Result<T> {
        self.map_err(|e| DbError::from_sqlx(table, e))
    }
}

/// Reads the rows of an `INSERT`/`UPDATE`/`DELETE … RETURNING` statement that was run to
/// completion with `fetch_all`.
///
/// Never read a `RETURNING` statement with `fetch_one` or `fetch_optional`: they stop after
/// the first row, and SQLite finishes the statement — outside a transaction, *commits* — only
/// when sqlx later resets it, dropping the error of that reset. On a full disk the caller got
/// `Ok(row)` for a row that was never stored (issue 19), and the unfinished statement kept the
/// WAL from being checkpointed. `fetch_all` steps to `SQLITE_DONE`, so a failed commit is
/// reported here.
#[doc(hidden)]
pub trait ReturningExt<T> {
    /// The first returned row (`None` when the statement matched nothing), with the error
    /// mapped by [`DbError::from_sqlx`] for `table`.
    fn first_row(self, table: &'static str) -> Result<Option<T>>;

    /// The first returned row, or [`DbError::NotFound`] for `table` and `id` when the
    /// statement matched nothing.
    fn returned_row(self, table: &'static str, id: &str) -> Result<T>;
}

impl<T> ReturningExt<T> for std::result::Result<Vec<T>, sqlx::Error> {
    fn first_row(self, table: &'static str) -> Result<Option<T>> {
        self.map_err(|e| DbError::from_sqlx(table, e)).map(|rows| rows.into_iter().next())
    }

    fn returned_row(self, table: &'static str, id: &str) -> Result<T> {
        self.first_row(table)?.found(table, id)
    }
}

/// Ends a `fetch_optional` of one row by id.
#[doc(hidden)]
pub trait FoundExt<T> {
    /// The row, [`DbError::NotFound`] for `table` and `id` when there is none, or the error
    /// mapped by [`DbError::from_sqlx`].
    fn or_not_found(self, table: &'static str, id: &str) -> Result<T>;
}

impl<T> FoundExt<T> for std::result::Result<Option<T>, sqlx::Error> {
    fn or_not_found(self, table: &'static str, id: &str) -> Result<T> {
        self.map_err(|e| DbError::from_sqlx(table, e))?.found(table, id)
    }
}

/// Adds "not found" handling to optional results.
#[doc(hidden)]
pub trait OptionExt<T> {
    /// Turns `None` into [`DbError::NotFound`] for `table` and `id`.
    fn found(self, table: &'static str, id: &str) -> Result<T>;
}

impl<T> OptionExt<T> for Option<T> {
    fn found(self, table: &'static str, id: &str) -> Result<T> {
        self.ok_or_else(|| DbError::not_found(table, id))
    }
}
