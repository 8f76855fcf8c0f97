//! `tasks`: the work items agents take, with the status changes an orchestrator makes —
//! assign, start, send to review, count a QA iteration, complete, fail, block.

use serde::{Deserialize, Serialize};
use sqlx::{Acquire, Sqlite, SqliteExecutor};

use super::Page;
use super::{JsonList, json_list};
use crate::error::{DbError, Result, ResultExt, ReturningExt};
use crate::{AgentId, FeatureId, ProjectId, SubFeatureId, TaskId, Timestamp};

const TABLE: &str = "tasks";

text_enum! {
    /// How a task is carried out.
    pub enum TaskType { Auto = "auto", Checkpoint = "checkpoint", Tdd = "tdd" }
}

text_enum! {
    /// Lifecycle of a task.
    pub enum TaskStatus {
        Pending = "pending",
        Queued = "queued",
        InProgress = "in_progress",
        InReview = "in_review",
        Completed = "completed",
        Failed = "failed",
        Blocked = "blocked",
    }
}

text_enum! {
    /// Granularity of a task.
    pub enum TaskSize { Atomic = "atomic", Small = "small" }
}

/// A row of `tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Task {
    /// Primary key.
    pub id: TaskId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Feature the task implements (set to NULL if the feature is deleted).
    pub feature_id: Option<FeatureId>,
    /// Sub-feature the task implements (set to NULL if it is deleted).
    pub sub_feature_id: Option<SubFeatureId>,
    /// Short name.
    pub name: String,
    /// Detailed description.
    pub description: Option<String>,
    /// How the task is carried out (column `type`).
    pub task_type: TaskType,
    /// Lifecycle status.
    pub status: TaskStatus,
    /// Granularity.
    pub size: TaskSize,
    /// Sort priority, 1 = highest.
    pub priority: i64,
    /// Tags for categorisation.
    pub tags: Vec<String>,
    /// Implementation notes.
    pub notes: Vec<String>,
    /// Agent currently working on it.
    pub assigned_agent: Option<AgentId>,
    /// Git worktree path.
    pub worktree_path: Option<String>,
    /// Git branch name.
    pub branch_name: Option<String>,
    /// Ids of tasks that must complete first.
    pub depends_on: Vec<TaskId>,
    /// Task blocking this one.
    pub blocked_by: Option<TaskId>,
    /// QA iterations so far.
    pub qa_iterations: i64,
    /// QA iterations allowed before escalation.
    pub max_iterations: i64,
    /// Time estimate in minutes.
    pub estimated_minutes: Option<i64>,
    /// Time actually taken in minutes.
    pub actual_minutes: Option<i64>,
    /// When work started.
    pub started_at: Option<Timestamp>,
    /// When the task completed.
    pub completed_at: Option<Timestamp>,
    /// When the row was created.
    pub created_at: Timestamp,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

impl Task {
    /// True when the QA loop has used all its iterations and the task should be escalated.
    pub fn needs_escalation(&self) -> bool {
        self.qa_iterations >= self.max_iterations
    }
}

/// A task to insert. `NewTask::new` fills the schema defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<TaskId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Feature the task implements.
    pub feature_id: Option<FeatureId>,
    /// Sub-feature the task implements.
    pub sub_feature_id: Option<SubFeatureId>,
    /// Short name.
    pub name: String,
    /// Detailed description.
    pub description: Option<String>,
    /// How the task is carried out (default auto).
    pub task_type: TaskType,
    /// Initial status (default pending).
    pub status: TaskStatus,
    /// Granularity (default small).
    pub size: TaskSize,
    /// Sort priority, 1 = highest (default 5).
    pub priority: i64,
    /// Tags.
    pub tags: Vec<String>,
    /// Ids of tasks that must complete first.
    pub depends_on: Vec<TaskId>,
    /// QA iterations allowed (default 50).
    pub max_iterations: i64,
    /// Time estimate in minutes (default 15).
    pub estimated_minutes: Option<i64>,
}

impl NewTask {
    /// A pending task named `name` in `project_id`.
    pub fn new(project_id: impl Into<ProjectId>, name: impl Into<String>) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            feature_id: None,
            sub_feature_id: None,
            name: name.into(),
            description: None,
            task_type: TaskType::Auto,
            status: TaskStatus::Pending,
            size: TaskSize::Small,
            priority: 5,
            tags: Vec::new(),
            depends_on: Vec::new(),
            max_iterations: 50,
            estimated_minutes: Some(15),
        }
    }
}

/// Filters for [`list`]; unset fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskFilter {
    /// Only tasks with this status.
    pub status: Option<TaskStatus>,
    /// Only tasks of this feature.
    pub feature_id: Option<FeatureId>,
    /// Only tasks assigned to this agent.
    pub assigned_agent: Option<AgentId>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Task, $head + <every column> + $tail, args..)`.
macro_rules! query_tasks {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Task,
            $head + r#" id AS "id: TaskId", project_id AS "project_id: ProjectId",
                      feature_id AS "feature_id?: FeatureId", sub_feature_id AS "sub_feature_id?: SubFeatureId",
                      name, description AS "description?", type AS "task_type: TaskType",
                      status AS "status: TaskStatus", size AS "size: TaskSize", priority,
                      tags AS "tags!: JsonList", notes AS "notes!: JsonList",
                      assigned_agent AS "assigned_agent?: AgentId", worktree_path AS "worktree_path?",
                      branch_name AS "branch_name?", depends_on AS "depends_on!: JsonList<TaskId>",
                      blocked_by AS "blocked_by?: TaskId", qa_iterations, max_iterations,
                      estimated_minutes AS "estimated_minutes?", actual_minutes AS "actual_minutes?",
                      started_at AS "started_at?: Timestamp", completed_at AS "completed_at?: Timestamp",
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a task and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewTask) -> Result<Task> {
    let id = new.id.unwrap_or_else(TaskId::generate);
    let now = Timestamp::now();
    let tags = json_list(&new.tags);
    let depends_on = json_list(&new.depends_on);
    query_tasks!(
        "INSERT INTO tasks (id, project_id, feature_id, sub_feature_id, name, description, type,
                            status, size, priority, tags, depends_on, max_iterations,
                            estimated_minutes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.feature_id,
        new.sub_feature_id,
        new.name,
        new.description,
        new.task_type,
        new.status,
        new.size,
        new.priority,
        tags,
        depends_on,
        new.max_iterations,
        new.estimated_minutes,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_tasks, "tasks", Task, TaskId);

get_many_by_id!(query_tasks, "tasks", Task, TaskId);

/// A project's tasks matching `filter`, by priority (1 first), then creation, then id.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &TaskFilter,
) -> Result<Vec<Task>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_tasks!(
        "SELECT",
        "FROM tasks
         WHERE project_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR feature_id = ?3)
               AND (?4 IS NULL OR assigned_agent = ?4)
         ORDER BY priority, created_at, id LIMIT ?5 OFFSET ?6",
        project_id,
        filter.status,
        filter.feature_id,
        filter.assigned_agent,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Every task of a project in [`list`] order, the fastest way. The rows come back as one
/// JSON array built by SQLite and are sorted here: sqlx hands rows from SQLite's thread one
/// by one through a bounded channel, and once it is full every row costs a thread wake-up
/// (a project's 10,000 tasks took 33 ms or 125 ms depending on which side fell behind); and
/// SQLite's own sort builds a temporary b-tree of the whole rows. See docs/state.md.
pub async fn list_all<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId) -> Result<Vec<Task>> {
    let json = sqlx::query_scalar!(
        r#"SELECT json_group_array(json_object(
               'id', id, 'project_id', project_id, 'feature_id', feature_id,
               'sub_feature_id', sub_feature_id, 'name', name, 'description', description,
               'task_type', type, 'status', status, 'size', size, 'priority', priority,
               'tags', json(COALESCE(tags, '[]')), 'notes', json(COALESCE(notes, '[]')),
               'assigned_agent', assigned_agent, 'worktree_path', worktree_path,
               'branch_name', branch_name, 'depends_on', json(COALESCE(depends_on, '[]')),
               'blocked_by', blocked_by, 'qa_iterations', qa_iterations,
               'max_iterations', max_iterations, 'estimated_minutes', estimated_minutes,
               'actual_minutes', actual_minutes, 'started_at', started_at,
               'completed_at', completed_at, 'created_at', created_at, 'updated_at', updated_at))
           AS "tasks!: String"
           FROM tasks WHERE project_id = ?"#,
        project_id,
    )
    .fetch_one(ex)
    .await
    .in_table(TABLE)?;
    let mut tasks: Vec<Task> = serde_json::from_str(&json)
        .map_err(|e| DbError::Decode { table: TABLE, source: sqlx::Error::Decode(Box::new(e)) })?;
    tasks.sort_unstable_by(|a, b| (a.priority, a.created_at, &a.id).cmp(&(b.priority, b.created_at, &b.id)));
    Ok(tasks)
}

/// Pending or queued tasks of a project whose dependencies have all completed, in
/// [`list`] order: what an orchestrator can hand out next.
pub async fn list_ready<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    limit: u32,
) -> Result<Vec<Task>> {
    query_tasks!(
        "SELECT",
        "FROM tasks
         WHERE project_id = ?1 AND status IN ('pending', 'queued')
           AND NOT EXISTS (
               SELECT 1 FROM json_each(COALESCE(tasks.depends_on, '[]')) AS dep
               LEFT JOIN tasks AS d ON d.id = dep.value
               WHERE d.status IS NOT 'completed')
         ORDER BY priority, created_at, id LIMIT ?2",
        project_id,
        limit,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes every mutable field of `task` (all but id, project_id and created_at), sets
/// `updated_at`, and returns the stored row. Prefer the status functions below for status
/// changes; use a transaction when other writers may touch the same task.
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, task: &Task) -> Result<Task> {
    let now = Timestamp::now();
    query_tasks!(
        "UPDATE tasks
         SET feature_id = ?, sub_feature_id = ?, name = ?, description = ?, type = ?, status = ?,
             size = ?, priority = ?, tags = ?, notes = ?, assigned_agent = ?, worktree_path = ?,
             branch_name = ?, depends_on = ?, blocked_by = ?, qa_iterations = ?,
             max_iterations = ?, estimated_minutes = ?, actual_minutes = ?, started_at = ?,
             completed_at = ?, updated_at = ?
         WHERE id = ? RETURNING",
        "",
        task.feature_id,
        task.sub_feature_id,
        task.name,
        task.description,
        task.task_type,
        task.status,
        task.size,
        task.priority,
        json_list(&task.tags),
        json_list(&task.notes),
        task.assigned_agent,
        task.worktree_path,
        task.branch_name,
        json_list(&task.depends_on),
        task.blocked_by,
        task.qa_iterations,
        task.max_iterations,
        task.estimated_minutes,
        task.actual_minutes,
        task.started_at,
        task.completed_at,
        now,
        task.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &task.id)
}

/// Explains why a guarded status change matched no row: the task is missing, or its current
/// status does not allow the change.
async fn transition_error<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    id: &TaskId,
    to: TaskStatus,
) -> DbError {
    let mut conn = match conn.acquire().await {
        Ok(conn) => conn,
        Err(e) => return DbError::from_sqlx(TABLE, e),
    };
    match get(&mut *conn, id).await {
        Ok(task) => DbError::InvalidTransition {
            table: TABLE,
            id: id.to_string(),
            from: task.status.to_string(),
            to: to.as_str(),
        },
        Err(e) => e,
    }
}

/// Expands to a guarded status change: runs the UPDATE (which must only match rows whose
/// current status allows it) and, when nothing matched, reports why.
macro_rules! guarded {
    ($conn:expr, $id:expr, $to:expr, $query:expr) => {{
        let mut conn = $conn.acquire().await.in_table(TABLE)?;
        match $query.fetch_all(&mut *conn).await.first_row(TABLE)? {
            Some(task) => Ok(task),
            None => Err(transition_error(&mut *conn, $id, $to).await),
        }
    }};
}

/// Assigns the task to `agent_id` and queues it. Allowed from pending, queued, blocked and
/// failed.
pub async fn assign<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    id: &TaskId,
    agent_id: &AgentId,
) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::Queued,
        query_tasks!(
            "UPDATE tasks SET status = 'queued', assigned_agent = ?1, updated_at = ?2
         WHERE id = ?3 AND status IN ('pending', 'queued', 'blocked', 'failed') RETURNING",
            "",
            agent_id,
            now,
            id,
        )
    )
}

/// Marks the task in progress by `agent_id`, recording `started_at` the first time.
/// Allowed from pending, queued, in_review (QA sent it back), blocked and failed (a retry).
pub async fn start<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    id: &TaskId,
    agent_id: &AgentId,
) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::InProgress,
        query_tasks!(
            "UPDATE tasks
         SET status = 'in_progress', assigned_agent = ?1, started_at = COALESCE(started_at, ?2),
             blocked_by = NULL, updated_at = ?2
         WHERE id = ?3 AND status IN ('pending', 'queued', 'in_review', 'blocked', 'failed') RETURNING",
            "",
            agent_id,
            now,
            id,
        )
    )
}

/// Sends an in-progress task to review.
pub async fn submit_for_review<'a>(conn: impl Acquire<'a, Database = Sqlite>, id: &TaskId) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::InReview,
        query_tasks!(
            "UPDATE tasks SET status = 'in_review', updated_at = ?1
         WHERE id = ?2 AND status = 'in_progress' RETURNING",
            "",
            now,
            id,
        )
    )
}

/// Counts one QA iteration and returns the task; check [`Task::needs_escalation`].
pub async fn record_qa_iteration<'e>(ex: impl SqliteExecutor<'e>, id: &TaskId) -> Result<Task> {
    let now = Timestamp::now();
    query_tasks!(
        "UPDATE tasks SET qa_iterations = qa_iterations + 1, updated_at = ?1 WHERE id = ?2 RETURNING",
        "",
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Completes an in-progress or in-review task. `actual_minutes` defaults to the time since
/// `started_at`, rounded up.
pub async fn complete<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    id: &TaskId,
    actual_minutes: Option<i64>,
) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::Completed,
        query_tasks!(
            "UPDATE tasks
         SET status = 'completed', completed_at = ?1, updated_at = ?1,
             actual_minutes = COALESCE(?2, (?1 - started_at + 59999) / 60000)
         WHERE id = ?3 AND status IN ('in_progress', 'in_review') RETURNING",
            "",
            now,
            actual_minutes,
            id,
        )
    )
}

/// Marks a task failed, appending `reason` to its notes. Allowed from any status but
/// completed.
pub async fn fail<'a>(conn: impl Acquire<'a, Database = Sqlite>, id: &TaskId, reason: &str) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::Failed,
        query_tasks!(
            "UPDATE tasks
         SET status = 'failed', updated_at = ?1,
             notes = json_insert(COALESCE(notes, '[]'), '$[#]', ?2)
         WHERE id = ?3 AND status != 'completed' RETURNING",
            "",
            now,
            reason,
            id,
        )
    )
}

/// Marks a task blocked by `blocking_task_id`. Allowed from any status but completed.
pub async fn block<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    id: &TaskId,
    blocking_task_id: &TaskId,
) -> Result<Task> {
    let now = Timestamp::now();
    guarded!(
        conn,
        id,
        TaskStatus::Blocked,
        query_tasks!(
            "UPDATE tasks SET status = 'blocked', blocked_by = ?1, updated_at = ?2
         WHERE id = ?3 AND status != 'completed' RETURNING",
            "",
            blocking_task_id,
            now,
            id,
        )
    )
}

/// Writes `task` exactly as given, every column including its timestamps: inserted when its
/// id is new, replaced in place when it exists (never deleted and re-inserted, so nothing
/// cascades). An id that belongs to another project is refused with `InvalidValue`. Used to
/// save and restore project states.
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, task: &Task) -> Result<()> {
    let done = sqlx::query!(
        "INSERT INTO tasks (id, project_id, feature_id, sub_feature_id, name, description, type,
                            status, size, priority, tags, notes, assigned_agent, worktree_path,
                            branch_name, depends_on, blocked_by, qa_iterations, max_iterations,
                            estimated_minutes, actual_minutes, started_at, completed_at,
                            created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             feature_id = excluded.feature_id, sub_feature_id = excluded.sub_feature_id,
             name = excluded.name, description = excluded.description, type = excluded.type,
             status = excluded.status, size = excluded.size, priority = excluded.priority,
             tags = excluded.tags, notes = excluded.notes, assigned_agent = excluded.assigned_agent,
             worktree_path = excluded.worktree_path, branch_name = excluded.branch_name,
             depends_on = excluded.depends_on, blocked_by = excluded.blocked_by,
             qa_iterations = excluded.qa_iterations, max_iterations = excluded.max_iterations,
             estimated_minutes = excluded.estimated_minutes, actual_minutes = excluded.actual_minutes,
             started_at = excluded.started_at, completed_at = excluded.completed_at,
             created_at = excluded.created_at, updated_at = excluded.updated_at
         WHERE tasks.project_id = excluded.project_id",
        task.id,
        task.project_id,
        task.feature_id,
        task.sub_feature_id,
        task.name,
        task.description,
        task.task_type,
        task.status,
        task.size,
        task.priority,
        json_list(&task.tags),
        json_list(&task.notes),
        task.assigned_agent,
        task.worktree_path,
        task.branch_name,
        json_list(&task.depends_on),
        task.blocked_by,
        task.qa_iterations,
        task.max_iterations,
        task.estimated_minutes,
        task.actual_minutes,
        task.started_at,
        task.completed_at,
        task.created_at,
        task.updated_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    super::put_applied(TABLE, done.rows_affected())
}

delete_absent_in_project!("tasks", TaskId);

delete_by_id!("tasks", TaskId);
