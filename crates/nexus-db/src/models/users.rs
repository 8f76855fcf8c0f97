//! `users` and `project_owners`: the people the HTTP API serves, and which projects each owns.
//! A user's hidden knowledge project (role `knowledge`) holds the chunks of their knowledge
//! items; it is created with the user.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Acquire, Sqlite, SqliteExecutor};

use super::{Cursor, Paged};
use crate::error::{FoundExt, Result, ResultExt, ReturningExt};
use crate::models::projects::{self, NewProject};
use crate::{ProjectId, Timestamp, UserId};

const TABLE: &str = "users";
const OWNERS: &str = "project_owners";

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Primary key.
    pub id: UserId,
    /// Email address (unique, compared case-insensitively).
    pub email: String,
    /// Settings (a JSON object).
    pub settings: Json<serde_json::Value>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

/// Expands to `query_as!(User, $head + <every column> + $tail, args..)`.
macro_rules! query_users {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            User,
            $head + r#" id AS "id: UserId", email, settings AS "settings: Json<serde_json::Value>",
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Creates a user with empty settings, and their knowledge project, in one transaction.
pub async fn create<'a>(conn: impl Acquire<'a, Database = Sqlite>, email: &str) -> Result<User> {
    let email = email.trim();
    if !email.contains('@') {
        return Err(crate::DbError::InvalidValue {
            table: TABLE,
            column: "email",
            reason: format!("{email:?} is not an email address"),
        });
    }
    let mut tx = conn.begin().await.in_table(TABLE)?;
    let id = UserId::generate();
    let now = Timestamp::now();
    let user = query_users!(
        "INSERT INTO users (id, email, settings, created_at, updated_at) VALUES (?, ?, '{}', ?, ?) RETURNING",
        "",
        id,
        email,
        now,
        now,
    )
    .fetch_all(&mut *tx)
    .await
    .returned_row(TABLE, &id)?;
    let knowledge = NewProject::new(format!("knowledge-{id}"), format!("knowledge://{id}"));
    let project = projects::create(&mut *tx, knowledge).await?;
    sqlx::query!(
        "INSERT INTO project_owners (project_id, user_id, role, created_at) VALUES (?, ?, 'knowledge', ?)",
        project.id,
        id,
        now
    )
    .execute(&mut *tx)
    .await
    .in_table(OWNERS)?;
    tx.commit().await.in_table(TABLE)?;
    Ok(user)
}

get_by_id!(query_users, "users", User, UserId);

/// The user with this email (case-insensitive), or `NotFound`.
pub async fn find_by_email<'e>(ex: impl SqliteExecutor<'e>, email: &str) -> Result<User> {
    query_users!("SELECT", "FROM users WHERE email = ?", email)
        .fetch_optional(ex)
        .await
        .or_not_found(TABLE, email)
}

/// Replaces the user's settings (a JSON object).
pub async fn set_settings<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &UserId,
    settings: &serde_json::Value,
) -> Result<User> {
    let settings = Json(settings);
    let now = Timestamp::now();
    query_users!(
        "UPDATE users SET settings = ?, updated_at = ? WHERE id = ? RETURNING",
        "",
        settings,
        now,
        id
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// The project holding the user's knowledge chunks.
pub async fn knowledge_project<'e>(ex: impl SqliteExecutor<'e>, user: &UserId) -> Result<ProjectId> {
    sqlx::query_scalar!(
        r#"SELECT project_id AS "project_id: ProjectId" FROM project_owners WHERE user_id = ? AND role = 'knowledge'"#,
        user
    )
    .fetch_optional(ex)
    .await
    .or_not_found(OWNERS, user.as_str())
}

/// Makes `user` the owner of `project` (a project has one owner).
pub async fn own_project<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, project: &ProjectId) -> Result<()> {
    let now = Timestamp::now();
    sqlx::query!(
        "INSERT INTO project_owners (project_id, user_id, role, created_at) VALUES (?, ?, 'project', ?)",
        project,
        user,
        now
    )
    .execute(ex)
    .await
    .in_table(OWNERS)?;
    Ok(())
}

/// True when `user` owns `project` (as a project, not as their knowledge store).
pub async fn owns_project<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    project: &ProjectId,
) -> Result<bool> {
    let found = sqlx::query_scalar!(
        "SELECT 1 AS found FROM project_owners WHERE project_id = ? AND user_id = ? AND role = 'project'",
        project,
        user
    )
    .fetch_optional(ex)
    .await
    .in_table(OWNERS)?;
    Ok(found.is_some())
}

/// The ids of the projects `user` owns, newest id first, one keyset page.
pub async fn owned_projects<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    cursor: &Cursor,
) -> Result<Paged<ProjectId>> {
    let limit = cursor.sql_limit();
    let rows = sqlx::query_scalar!(
        r#"SELECT project_id AS "project_id: ProjectId" FROM project_owners
           WHERE user_id = ? AND role = 'project' AND (? IS NULL OR project_id < ?)
           ORDER BY project_id DESC LIMIT ?"#,
        user,
        cursor.after,
        cursor.after,
        limit
    )
    .fetch_all(ex)
    .await
    .in_table(OWNERS)?;
    Ok(Paged::from_rows(rows, cursor, |id| id.to_string()))
}
