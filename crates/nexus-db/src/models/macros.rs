//! Macros shared by the table modules: `text_enum!` declares a Rust enum stored as a
//! `CHECK`ed TEXT column (mapped through `sqlx::Type`, serialised the same way with serde,
//! listed in `ALL`, convertible to and from `&str`); `get_by_id!`, `get_many_by_id!` and
//! `delete_by_id!` define a table's `get`, `get_many` and `delete`; `delete_absent_in_project!`
//! its `delete_absent`.

/// Declares a TEXT-backed enum; the variant strings must match the `CHECK (... IN (...))` constraint of the column in the migrations.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, sqlx::Type)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("Stored as `", $text, "`.")] #[sqlx(rename = $text)] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The string stored in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($name), " {:?}"), other)),
                }
            }
        }
    };
}

/// Defines `pub async fn delete(ex, id)` for a table: deletes the row with this id (and, by
/// cascade, what belongs to it) or returns [`crate::DbError::NotFound`].
macro_rules! delete_by_id {
    ($table:literal, $id:ty) => {
        #[doc = concat!("Deletes the `", $table, "` row with this id, or returns `NotFound`.")]
        pub async fn delete<'e>(ex: impl sqlx::SqliteExecutor<'e>, id: &$id) -> crate::Result<()> {
            let done = sqlx::query!("DELETE FROM " + $table + " WHERE id = ?", id)
                .execute(ex)
                .await
                .map_err(|e| crate::DbError::from_sqlx($table, e))?;
            if done.rows_affected() == 0 {
                return Err(crate::DbError::not_found($table, id.as_str()));
            }
            Ok(())
        }
    };
}

/// Defines `pub async fn get(ex, id)` for a table from its `query_*!` column-list macro: the
/// row with this id, or [`crate::DbError::NotFound`].
macro_rules! get_by_id {
    ($query:ident, $table:literal, $row:ty, $id:ty) => {
        #[doc = concat!("The `", $table, "` row with this id, or [`crate::DbError::NotFound`].")]
        pub async fn get<'e>(ex: impl sqlx::SqliteExecutor<'e>, id: &$id) -> crate::Result<$row> {
            use crate::error::FoundExt as _;
            $query!("SELECT", "FROM " + $table + " WHERE id = ?", id)
                .fetch_optional(ex)
                .await
                .or_not_found($table, id)
        }
    };
}

/// Defines `pub async fn get_many(ex, ids)` for a table from its `query_*!` macro: the rows
/// with these ids, in no particular order; unknown ids are skipped.
macro_rules! get_many_by_id {
    ($query:ident, $table:literal, $row:ty, $id:ty) => {
        #[doc = concat!("The `", $table, "` rows with these ids, in no particular order; unknown ids are skipped.")]
        pub async fn get_many<'e>(ex: impl sqlx::SqliteExecutor<'e>, ids: &[$id]) -> crate::Result<Vec<$row>> {
            use crate::error::ResultExt as _;
            let ids = sqlx::types::Json(ids);
            $query!("SELECT", "FROM " + $table + " WHERE id IN (SELECT value FROM json_each(?))", ids)
                .fetch_all(ex)
                .await
                .in_table($table)
        }
    };
}

/// Defines `pub async fn delete_absent(ex, project_id, keep)` for a table with a `project_id`
/// column: deletes the project's rows whose ids are not in `keep` (used to make a project's
/// rows exactly a saved state's).
macro_rules! delete_absent_in_project {
    ($table:literal, $id:ty) => {
        #[doc = concat!("Deletes the project's `", $table, "` rows whose ids are not in `keep` (what cascades from them goes too); returns how many were deleted.")]
        pub async fn delete_absent<'e>(
            ex: impl sqlx::SqliteExecutor<'e>,
            project_id: &crate::ProjectId,
            keep: &[$id],
        ) -> crate::Result<u64> {
            use crate::error::ResultExt as _;
            let keep = sqlx::types::Json(keep);
            let done = sqlx::query!(
                "DELETE FROM " + $table + " WHERE project_id = ? AND id NOT IN (SELECT value FROM json_each(?))",
                project_id,
                keep
            )
            .execute(ex)
            .await
            .in_table($table)?;
            Ok(done.rows_affected())
        }
    };
}
