//! `episodes`: the episodic memory of a project — what agents did, learned and decided.
//! Embeddings are not stored here; nexus-vector keeps them keyed by episode id.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{SqliteConnection, SqliteExecutor};

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{AgentId, EpisodeId, ProjectId, TaskId, Timestamp};

const TABLE: &str = "episodes";

text_enum! {
    /// What kind of memory an episode is.
    pub enum EpisodeType {
        CodeGeneration = "code_generation",
        ErrorFix = "error_fix",
        ReviewFeedback = "review_feedback",
        Decision = "decision",
        Research = "research",
    }
}

/// A row of `episodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Episode {
    /// Primary key.
    pub id: EpisodeId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Kind of memory (column `type`).
    pub episode_type: EpisodeType,
    /// Full content.
    pub content: String,
    /// Short summary.
    pub summary: Option<String>,
    /// Metadata (any JSON value).
    pub context: Option<Json<serde_json::Value>>,
    /// Task it came from.
    pub task_id: Option<TaskId>,
    /// Agent that produced it.
    pub agent_id: Option<AgentId>,
    /// Importance for pruning (higher is kept longer).
    pub importance: f64,
    /// Times recalled.
    pub access_count: i64,
    /// Last time recalled.
    pub last_accessed_at: Option<Timestamp>,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// An episode to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEpisode {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<EpisodeId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Kind of memory.
    pub episode_type: EpisodeType,
    /// Full content.
    pub content: String,
    /// Short summary.
    pub summary: Option<String>,
    /// Metadata.
    pub context: Option<serde_json::Value>,
    /// Task it came from.
    pub task_id: Option<TaskId>,
    /// Agent that produced it.
    pub agent_id: Option<AgentId>,
    /// Importance (default 1.0).
    pub importance: f64,
}

impl NewEpisode {
    /// An episode of `project_id` with default importance.
    pub fn new(
        project_id: impl Into<ProjectId>,
        episode_type: EpisodeType,
        content: impl Into<String>,
    ) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            episode_type,
            content: content.into(),
            summary: None,
            context: None,
            task_id: None,
            agent_id: None,
            importance: 1.0,
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeFilter {
    /// Only this kind.
    pub episode_type: Option<EpisodeType>,
    /// Only episodes of this task.
    pub task_id: Option<TaskId>,
    /// Only episodes of this agent.
    pub agent_id: Option<AgentId>,
    /// Only episodes recorded at or after this time.
    pub since: Option<Timestamp>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Episode, $head + <every column> + $tail, args..)`.
macro_rules! query_episodes {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Episode,
            $head + r#" id AS "id: EpisodeId", project_id AS "project_id: ProjectId", type AS "episode_type: EpisodeType", content, summary AS "summary?",
                      context AS "context?: Json<serde_json::Value>", task_id AS "task_id?: TaskId",
                      agent_id AS "agent_id?: AgentId", importance, access_count,
                      last_accessed_at AS "last_accessed_at?: Timestamp",
                      created_at AS "created_at: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts an episode and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewEpisode) -> Result<Episode> {
    validate::content(TABLE, "content", &new.content)?;
    validate::finite(TABLE, "importance", new.importance)?;
    let id = new.id.unwrap_or_else(EpisodeId::generate);
    let now = Timestamp::now();
    let context = new.context.map(Json);
    query_episodes!(
        "INSERT INTO episodes (id, project_id, type, content, summary, context, task_id, agent_id,
                               importance, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.episode_type,
        new.content,
        new.summary,
        context,
        new.task_id,
        new.agent_id,
        new.importance,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_episodes, "episodes", Episode, EpisodeId);

get_many_by_id!(query_episodes, "episodes", Episode, EpisodeId);

/// A project's episodes matching `filter`, newest first (ties by id, newest first).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &EpisodeFilter,
) -> Result<Vec<Episode>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_episodes!(
        "SELECT",
        "FROM episodes
         WHERE project_id = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR task_id = ?3)
               AND (?4 IS NULL OR agent_id = ?4) AND (?5 IS NULL OR created_at >= ?5)
         ORDER BY created_at DESC, id DESC LIMIT ?6 OFFSET ?7",
        project_id,
        filter.episode_type,
        filter.task_id,
        filter.agent_id,
        filter.since,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes the mutable fields of `episode` (content, summary, context, importance).
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, episode: &Episode) -> Result<Episode> {
    validate::content(TABLE, "content", &episode.content)?;
    validate::finite(TABLE, "importance", episode.importance)?;
    query_episodes!(
        "UPDATE episodes SET content = ?, summary = ?, context = ?, importance = ? WHERE id = ? RETURNING",
        "",
        episode.content,
        episode.summary,
        episode.context,
        episode.importance,
        episode.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &episode.id)
}

/// Counts one access of the episode (access_count + 1, last_accessed_at = now).
pub async fn record_access<'e>(ex: impl SqliteExecutor<'e>, id: &EpisodeId) -> Result<Episode> {
    let now = Timestamp::now();
    query_episodes!(
        "UPDATE episodes SET access_count = access_count + 1, last_accessed_at = ? WHERE id = ? RETURNING",
        "",
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Accesses of one episode that [`add_accesses`] adds to the stored statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessDelta {
    /// The episode.
    pub id: EpisodeId,
    /// Accesses to add to `access_count`.
    pub count: i64,
    /// The latest of these accesses.
    pub last: Timestamp,
}

/// Adds the accesses of many episodes in one statement: `access_count + count`, and
/// `last_accessed_at` becomes the later of the stored time and `last`. Ids of episodes that no
/// longer exist are skipped; an id given twice gets the sum of its counts. Returns how many
/// episodes were updated.
pub async fn add_accesses<'e>(ex: impl SqliteExecutor<'e>, deltas: &[AccessDelta]) -> Result<u64> {
    if deltas.is_empty() {
        return Ok(0);
    }
    // One delta per id, merged here: the statement then needs no `GROUP BY` (a sort of the
    // whole batch, a fifth of the statement's time for a few thousand episodes).
    let merged = merge_deltas(deltas);
    let deltas = Json(merged.as_deref().unwrap_or(deltas));
    let done = sqlx::query!(
        "UPDATE episodes
         SET access_count = access_count + a.count,
             last_accessed_at = max(coalesce(last_accessed_at, a.last), a.last)
         FROM (SELECT value ->> '$.id' AS id, value ->> '$.count' AS count, value ->> '$.last' AS last
               FROM json_each(?)) AS a
         WHERE episodes.id = a.id",
        deltas
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    Ok(done.rows_affected())
}

/// `deltas` with the deltas of each id merged into one (counts summed, the latest time), in
/// the order ids first appear; `None` when every id appears once.
fn merge_deltas(deltas: &[AccessDelta]) -> Option<Vec<AccessDelta>> {
    let mut seen = HashSet::with_capacity(deltas.len());
    if deltas.iter().all(|d| seen.insert(&d.id)) {
        return None;
    }
    let mut position: HashMap<&EpisodeId, usize> = HashMap::with_capacity(seen.len());
    let mut merged: Vec<AccessDelta> = Vec::with_capacity(seen.len());
    for delta in deltas {
        match position.entry(&delta.id) {
            Entry::Vacant(slot) => {
                slot.insert(merged.len());
                merged.push(delta.clone());
            }
            Entry::Occupied(slot) => {
                let into = &mut merged[*slot.get()];
                into.count += delta.count;
                into.last = into.last.max(delta.last);
            }
        }
    }
    Some(merged)
}

/// Numbers a write of access statistics (migration 0015, `access_writes`): increments the
/// counter and returns the new number. Run it in the write's transaction, before
/// [`add_accesses`]: numbers then grow in commit order, and a rollback takes the number back.
pub async fn next_access_write(conn: &mut SqliteConnection) -> Result<i64> {
    sqlx::query_scalar!("UPDATE access_writes SET n = n + 1 WHERE id = 1 RETURNING n")
        .fetch_all(&mut *conn)
        .await
        .returned_row("access_writes", "1")
}

/// The number of the last access write (see [`next_access_write`]) that a read in the same
/// transaction sees.
pub async fn last_access_write(conn: &mut SqliteConnection) -> Result<i64> {
    sqlx::query_scalar!("SELECT n FROM access_writes WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .in_table("access_writes")
}

/// Number of episodes a project has.
pub async fn count<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId) -> Result<i64> {
    sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n!: i64" FROM episodes WHERE project_id = ?"#, project_id)
        .fetch_one(ex)
        .await
        .in_table(TABLE)
}

/// Deletes a project's episodes created before `cutoff`; returns their ids.
pub async fn delete_created_before<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    cutoff: Timestamp,
) -> Result<Vec<EpisodeId>> {
    sqlx::query_scalar!(
        r#"DELETE FROM episodes WHERE project_id = ? AND created_at < ? RETURNING id AS "id: EpisodeId""#,
        project_id,
        cutoff
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Deletes `count` of a project's episodes, least important first, then least accessed,
/// then least recently used (or created), then by id; returns their ids.
pub async fn delete_least_valuable<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    count: i64,
) -> Result<Vec<EpisodeId>> {
    sqlx::query_scalar!(
        r#"DELETE FROM episodes WHERE id IN (
             SELECT id FROM episodes WHERE project_id = ?1
             ORDER BY importance, access_count, COALESCE(last_accessed_at, created_at), id
             LIMIT ?2)
         RETURNING id AS "id: EpisodeId""#,
        project_id,
        count
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("episodes", EpisodeId);
