//! `sessions`: interview, planning and execution sessions with their data.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;
use sqlx::types::Json;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{ProjectId, SessionId, Timestamp};

const TABLE: &str = "sessions";

text_enum! {
    /// What a session is for.
    pub enum SessionType { Interview = "interview", Planning = "planning", Execution = "execution" }
}

text_enum! {
    /// Lifecycle of a session.
    pub enum SessionStatus { Active = "active", Paused = "paused", Completed = "completed", Cancelled = "cancelled" }
}

/// A row of `sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Session {
    /// Primary key.
    pub id: SessionId,
    /// Owning project.
    pub project_id: ProjectId,
    /// What it is for (column `type`).
    pub session_type: SessionType,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// Session data (any JSON value).
    pub data: Option<Json<serde_json::Value>>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended (completed or cancelled).
    pub ended_at: Option<Timestamp>,
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFilter {
    /// Only this type.
    pub session_type: Option<SessionType>,
    /// Only this status.
    pub status: Option<SessionStatus>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Session, $head + <every column> + $tail, args..)`.
macro_rules! query_sessions {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Session,
            $head + r#" id AS "id: SessionId", project_id AS "project_id: ProjectId", type AS "session_type: SessionType",
                      status AS "status: SessionStatus", data AS "data?: Json<serde_json::Value>",
                      started_at AS "started_at: Timestamp", ended_at AS "ended_at?: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Starts an active session of `project_id` and returns the stored row.
pub async fn create<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    session_type: SessionType,
    data: Option<serde_json::Value>,
) -> Result<Session> {
    let id = SessionId::generate();
    let now = Timestamp::now();
    let data = data.map(Json);
    query_sessions!(
        "INSERT INTO sessions (id, project_id, type, data, started_at) VALUES (?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        project_id,
        session_type,
        data,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_sessions, "sessions", Session, SessionId);

/// A project's sessions matching `filter`, newest first (ties by id, newest first).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &SessionFilter,
) -> Result<Vec<Session>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_sessions!(
        "SELECT",
        "FROM sessions WHERE project_id = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR status = ?3)
         ORDER BY started_at DESC, id DESC LIMIT ?4 OFFSET ?5",
        project_id,
        filter.session_type,
        filter.status,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Replaces the session's data.
pub async fn set_data<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &SessionId,
    data: serde_json::Value,
) -> Result<Session> {
    let data = Json(data);
    query_sessions!("UPDATE sessions SET data = ? WHERE id = ? RETURNING", "", data, id)
        .fetch_all(ex)
        .await
        .returned_row(TABLE, id)
}

/// Sets the session's status; completing or cancelling it records `ended_at`, resuming it
/// (active) clears it.
pub async fn set_status<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &SessionId,
    status: SessionStatus,
) -> Result<Session> {
    let now = Timestamp::now();
    query_sessions!(
        "UPDATE sessions
         SET status = ?1,
             ended_at = CASE WHEN ?1 IN ('completed', 'cancelled') THEN COALESCE(ended_at, ?2) ELSE NULL END
         WHERE id = ?3 RETURNING",
        "",
        status,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

delete_by_id!("sessions", SessionId);
