//! `research_sessions`: a user's deep-research run. Its phase moves only forward, one step at a
//! time — topic → questions → feedback → planning → executing → completed — or from any
//! unfinished phase to `error`. Every update names the version it was made from and bumps it:
//! an update from an old version is a [`DbError::VersionConflict`] and changes nothing. A
//! session past its `expires_at` is removed by [`delete_expired`].

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Acquire, Sqlite, SqliteExecutor};

use super::{Cursor, Paged};
use crate::error::{FoundExt, Result, ResultExt, ReturningExt};
use crate::{DbError, ResearchSessionId, Timestamp, UserId};

const TABLE: &str = "research_sessions";

text_enum! {
    /// Where a research session is.
    pub enum Phase {
        Topic = "topic",
        Questions = "questions",
        Feedback = "feedback",
        Planning = "planning",
        Executing = "executing",
        Completed = "completed",
        Error = "error",
    }
}

impl Phase {
    /// True when a session may go from `self` to `to`: staying, the next phase, or `error` from
    /// an unfinished phase.
    pub fn can_move_to(self, to: Phase) -> bool {
        use Phase::*;
        if self == to {
            return true;
        }
        matches!(
            (self, to),
            (Topic, Questions)
                | (Questions, Feedback)
                | (Feedback, Planning)
                | (Planning, Executing)
                | (Executing, Completed)
                | (Topic | Questions | Feedback | Planning | Executing, Error)
        )
    }
}

/// A row of `research_sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResearchSession {
    /// Primary key.
    pub id: ResearchSessionId,
    /// Owner.
    pub user_id: UserId,
    /// Phase.
    pub phase: Phase,
    /// Version, from 1, bumped by every update.
    pub version: i64,
    /// What to research.
    pub topic: String,
    /// The clarifying questions asked.
    pub questions: Option<String>,
    /// The user's answers.
    pub feedback: Option<String>,
    /// The report plan.
    pub report_plan: Option<String>,
    /// Search tasks (JSON).
    pub tasks: Json<serde_json::Value>,
    /// Their results (JSON).
    pub results: Json<serde_json::Value>,
    /// The final report.
    pub final_report: Option<String>,
    /// Knowledge items attached (JSON list of ids).
    pub resources: Json<serde_json::Value>,
    /// Sources cited (JSON).
    pub sources: Json<serde_json::Value>,
    /// Images found (JSON).
    pub images: Json<serde_json::Value>,
    /// Settings of the run (JSON).
    pub settings: Json<serde_json::Value>,
    /// Anything else (JSON).
    pub metadata: Json<serde_json::Value>,
    /// Why it ended in `error`.
    pub error: Option<String>,
    /// When it expires (none: never).
    pub expires_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last updated.
    pub updated_at: Timestamp,
}

impl ResearchSession {
    /// True when `expires_at` has passed at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A session to create (phase `topic`, version 1).
#[derive(Debug, Clone, PartialEq)]
pub struct NewResearchSession {
    /// Owner.
    pub user_id: UserId,
    /// What to research.
    pub topic: String,
    /// Knowledge items attached.
    pub resources: Vec<String>,
    /// Settings of the run.
    pub settings: Option<serde_json::Value>,
    /// Anything else.
    pub metadata: Option<serde_json::Value>,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
}

/// Changes to a session; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct SessionPatch {
    /// New phase (must be an allowed move).
    pub phase: Option<Phase>,
    /// Questions.
    pub questions: Option<String>,
    /// Feedback.
    pub feedback: Option<String>,
    /// Report plan.
    pub report_plan: Option<String>,
    /// Tasks.
    pub tasks: Option<serde_json::Value>,
    /// Results.
    pub results: Option<serde_json::Value>,
    /// Final report.
    pub final_report: Option<String>,
    /// Knowledge items attached.
    pub resources: Option<serde_json::Value>,
    /// Sources.
    pub sources: Option<serde_json::Value>,
    /// Images.
    pub images: Option<serde_json::Value>,
    /// Settings.
    pub settings: Option<serde_json::Value>,
    /// Metadata.
    pub metadata: Option<serde_json::Value>,
    /// Error reason.
    pub error: Option<String>,
    /// New expiry.
    pub expires_at: Option<Timestamp>,
}

/// Expands to `query_as!(ResearchSession, $head + <every column> + $tail, args..)`.
macro_rules! query_sessions {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            ResearchSession,
            $head + r#" id AS "id: ResearchSessionId", user_id AS "user_id: UserId", phase AS "phase: Phase",
                      version, topic, questions AS "questions?", feedback AS "feedback?",
                      report_plan AS "report_plan?", tasks AS "tasks: Json<serde_json::Value>",
                      results AS "results: Json<serde_json::Value>", final_report AS "final_report?",
                      resources AS "resources: Json<serde_json::Value>", sources AS "sources: Json<serde_json::Value>",
                      images AS "images: Json<serde_json::Value>", settings AS "settings: Json<serde_json::Value>",
                      metadata AS "metadata: Json<serde_json::Value>", error AS "error?",
                      expires_at AS "expires_at?: Timestamp",
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Creates a session in phase `topic` at version 1.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewResearchSession) -> Result<ResearchSession> {
    let id = ResearchSessionId::generate();
    let now = Timestamp::now();
    let resources = Json(&new.resources);
    let settings = Json(new.settings.unwrap_or_else(|| serde_json::json!({})));
    let metadata = Json(new.metadata.unwrap_or_else(|| serde_json::json!({})));
    query_sessions!(
        "INSERT INTO research_sessions (id, user_id, topic, resources, settings, metadata, expires_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.user_id,
        new.topic,
        resources,
        settings,
        metadata,
        new.expires_at,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

/// The user's session `id` (expired or not), or `NotFound` (also when it is another user's).
pub async fn get<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    id: &ResearchSessionId,
) -> Result<ResearchSession> {
    query_sessions!("SELECT", "FROM research_sessions WHERE id = ? AND user_id = ?", id, user)
        .fetch_optional(ex)
        .await
        .or_not_found(TABLE, id)
}

/// The user's sessions not expired at `now`, newest first, one keyset page.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    now: Timestamp,
    cursor: &Cursor,
) -> Result<Paged<ResearchSession>> {
    let limit = cursor.sql_limit();
    let rows = query_sessions!(
        "SELECT",
        "FROM research_sessions WHERE user_id = ? AND (? IS NULL OR id < ?)
         AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC LIMIT ?",
        user,
        cursor.after,
        cursor.after,
        now,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)?;
    Ok(Paged::from_rows(rows, cursor, |s| s.id.to_string()))
}

/// Applies `patch` to the user's session `id` if it is still at `version`, in one transaction:
/// `VersionConflict` when it is not, `InvalidTransition` for a phase move the rules forbid,
/// `NotFound` when the user has no such session. Returns the updated row (version + 1).
pub async fn update<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    user: &UserId,
    id: &ResearchSessionId,
    version: i64,
    patch: SessionPatch,
) -> Result<ResearchSession> {
    let mut tx = conn.begin().await.in_table(TABLE)?;
    let mut row = get(&mut *tx, user, id).await?;
    if row.version != version {
        return Err(DbError::VersionConflict {
            table: TABLE,
            id: id.to_string(),
            expected: version,
            current: row.version,
        });
    }
    if let Some(phase) = patch.phase {
        if !row.phase.can_move_to(phase) {
            return Err(DbError::InvalidTransition {
                table: TABLE,
                id: id.to_string(),
                from: row.phase.to_string(),
                to: phase.as_str(),
            });
        }
        row.phase = phase;
    }
    let set = |slot: &mut Option<String>, value: Option<String>| {
        if value.is_some() {
            *slot = value;
        }
    };
    set(&mut row.questions, patch.questions);
    set(&mut row.feedback, patch.feedback);
    set(&mut row.report_plan, patch.report_plan);
    set(&mut row.final_report, patch.final_report);
    set(&mut row.error, patch.error);
    for (slot, value) in [
        (&mut row.tasks, patch.tasks),
        (&mut row.results, patch.results),
        (&mut row.resources, patch.resources),
        (&mut row.sources, patch.sources),
        (&mut row.images, patch.images),
        (&mut row.settings, patch.settings),
        (&mut row.metadata, patch.metadata),
    ] {
        if let Some(value) = value {
            *slot = Json(value);
        }
    }
    if patch.expires_at.is_some() {
        row.expires_at = patch.expires_at;
    }
    let now = Timestamp::now();
    let updated = query_sessions!(
        "UPDATE research_sessions SET phase = ?, version = version + 1, questions = ?, feedback = ?, report_plan = ?,
             tasks = ?, results = ?, final_report = ?, resources = ?, sources = ?, images = ?, settings = ?,
             metadata = ?, error = ?, expires_at = ?, updated_at = ?
         WHERE id = ? AND user_id = ? AND version = ? RETURNING",
        "",
        row.phase,
        row.questions,
        row.feedback,
        row.report_plan,
        row.tasks,
        row.results,
        row.final_report,
        row.resources,
        row.sources,
        row.images,
        row.settings,
        row.metadata,
        row.error,
        row.expires_at,
        now,
        id,
        user,
        version,
    )
    .fetch_all(&mut *tx)
    .await
    .returned_row(TABLE, id)?;
    tx.commit().await.in_table(TABLE)?;
    Ok(updated)
}

/// Deletes the user's session `id`, or `NotFound`.
pub async fn delete<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &ResearchSessionId) -> Result<()> {
    let done = sqlx::query!("DELETE FROM research_sessions WHERE id = ? AND user_id = ?", id, user)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    if done.rows_affected() == 0 {
        return Err(DbError::not_found(TABLE, id.as_str()));
    }
    Ok(())
}

/// Deletes every session whose `expires_at` is at or before `now`; returns how many.
pub async fn delete_expired<'e>(ex: impl SqliteExecutor<'e>, now: Timestamp) -> Result<u64> {
    let done =
        sqlx::query!("DELETE FROM research_sessions WHERE expires_at IS NOT NULL AND expires_at <= ?", now)
            .execute(ex)
            .await
            .in_table(TABLE)?;
    Ok(done.rows_affected())
}
