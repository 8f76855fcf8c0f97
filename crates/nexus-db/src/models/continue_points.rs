//! `continue_points`: save points for resuming interrupted work on a task. Append-only; the
//! latest point of a task is where work resumes.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use super::{JsonList, json_list};
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{AgentId, ContinuePointId, ProjectId, TaskId, Timestamp};

const TABLE: &str = "continue_points";

/// A row of `continue_points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ContinuePoint {
    /// Primary key.
    pub id: ContinuePointId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Task being worked on.
    pub task_id: TaskId,
    /// Last action taken.
    pub last_action: String,
    /// File being edited.
    pub file: Option<String>,
    /// Line in that file.
    pub line: Option<i64>,
    /// Function being edited.
    pub function_name: Option<String>,
    /// What to do next.
    pub next_steps: Vec<String>,
    /// Agent that was working.
    pub agent_id: Option<AgentId>,
    /// QA iteration when saved.
    pub iteration_count: i64,
    /// When it was saved.
    pub saved_at: Timestamp,
}

/// A continue point to save.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContinuePoint {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<ContinuePointId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Task being worked on.
    pub task_id: TaskId,
    /// Last action taken.
    pub last_action: String,
    /// File being edited.
    pub file: Option<String>,
    /// Line in that file.
    pub line: Option<i64>,
    /// Function being edited.
    pub function_name: Option<String>,
    /// What to do next.
    pub next_steps: Vec<String>,
    /// Agent that was working.
    pub agent_id: Option<AgentId>,
    /// QA iteration when saved.
    pub iteration_count: i64,
}

impl NewContinuePoint {
    /// A continue point for `task_id` after `last_action`.
    pub fn new(
        project_id: impl Into<ProjectId>,
        task_id: impl Into<TaskId>,
        last_action: impl Into<String>,
    ) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            task_id: task_id.into(),
            last_action: last_action.into(),
            file: None,
            line: None,
            function_name: None,
            next_steps: Vec::new(),
            agent_id: None,
            iteration_count: 0,
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContinuePointFilter {
    /// Only points of this task.
    pub task_id: Option<TaskId>,
    /// Only points saved by this agent.
    pub agent_id: Option<AgentId>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(ContinuePoint, $head + <every column> + $tail, args..)`.
macro_rules! query_continue_points {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            ContinuePoint,
            $head + r#" id AS "id: ContinuePointId", project_id AS "project_id: ProjectId", task_id AS "task_id: TaskId", last_action, file AS "file?", line AS "line?",
                      function_name AS "function_name?", next_steps AS "next_steps!: JsonList",
                      agent_id AS "agent_id?: AgentId", iteration_count, saved_at AS "saved_at: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Saves a continue point and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewContinuePoint) -> Result<ContinuePoint> {
    let id = new.id.unwrap_or_else(ContinuePointId::generate);
    let now = Timestamp::now();
    let next_steps = json_list(&new.next_steps);
    query_continue_points!(
        "INSERT INTO continue_points (id, project_id, task_id, last_action, file, line, function_name,
                                      next_steps, agent_id, iteration_count, saved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.task_id,
        new.last_action,
        new.file,
        new.line,
        new.function_name,
        next_steps,
        new.agent_id,
        new.iteration_count,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_continue_points, "continue_points", ContinuePoint, ContinuePointId);

/// A project's continue points matching `filter`, newest first (ties by id, newest first).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &ContinuePointFilter,
) -> Result<Vec<ContinuePoint>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_continue_points!(
        "SELECT",
        "FROM continue_points
         WHERE project_id = ?1 AND (?2 IS NULL OR task_id = ?2) AND (?3 IS NULL OR agent_id = ?3)
         ORDER BY saved_at DESC, id DESC LIMIT ?4 OFFSET ?5",
        project_id,
        filter.task_id,
        filter.agent_id,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Where work on `task_id` should resume: its most recent continue point, if any.
pub async fn latest_for_task<'e>(
    ex: impl SqliteExecutor<'e>,
    task_id: &TaskId,
) -> Result<Option<ContinuePoint>> {
    query_continue_points!(
        "SELECT",
        "FROM continue_points WHERE task_id = ? ORDER BY saved_at DESC, id DESC LIMIT 1",
        task_id,
    )
    .fetch_optional(ex)
    .await
    .in_table(TABLE)
}

/// The most recent continue point of each unfinished task of a project (a task not
/// completed, or no longer in the project), newest first.
pub async fn latest_for_unfinished_tasks<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
) -> Result<Vec<ContinuePoint>> {
    query_continue_points!(
        "SELECT",
        "FROM continue_points AS c
         WHERE c.project_id = ?1
           AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.id = c.task_id AND t.status = 'completed')
           AND NOT EXISTS (SELECT 1 FROM continue_points AS later
                           WHERE later.task_id = c.task_id
                             AND (later.saved_at > c.saved_at
                                  OR (later.saved_at = c.saved_at AND later.id > c.id)))
         ORDER BY c.saved_at DESC, c.id DESC",
        project_id,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("continue_points", ContinuePointId);
