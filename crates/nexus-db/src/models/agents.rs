//! `agents`: the AI agent instances an orchestrator runs, their model configuration,
//! current assignment and counters. Agents stand alone (no project).

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use super::{JsonList, json_list};
use crate::error::{Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{AgentId, ProjectId, TaskId, Timestamp};

const TABLE: &str = "agents";

text_enum! {
    /// The role an agent plays.
    pub enum AgentType {
        Planner = "planner",
        Coder = "coder",
        Tester = "tester",
        Reviewer = "reviewer",
        Merger = "merger",
    }
}

text_enum! {
    /// Lifecycle of an agent.
    pub enum AgentStatus {
        Idle = "idle",
        Assigned = "assigned",
        Working = "working",
        Paused = "paused",
        Error = "error",
        Terminated = "terminated",
    }
}

text_enum! {
    /// Who serves the agent's model.
    pub enum ModelProvider { Anthropic = "anthropic", Google = "google", Openai = "openai" }
}

/// A row of `agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Agent {
    /// Primary key.
    pub id: AgentId,
    /// Role (column `type`).
    pub agent_type: AgentType,
    /// Lifecycle status.
    pub status: AgentStatus,
    /// Model provider.
    pub model_provider: ModelProvider,
    /// Model name.
    pub model_name: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// Maximum tokens per request.
    pub max_tokens: i64,
    /// System prompt, or a path to it.
    pub system_prompt: Option<String>,
    /// Names of the tools the agent may use.
    pub tools: Vec<String>,
    /// Task the agent is working on.
    pub current_task_id: Option<TaskId>,
    /// Current worktree.
    pub worktree_path: Option<String>,
    /// Current branch.
    pub branch_name: Option<String>,
    /// Tokens consumed in total.
    pub tokens_used: i64,
    /// Tasks completed.
    pub tasks_completed: i64,
    /// Tasks failed.
    pub tasks_failed: i64,
    /// When the agent was created.
    pub spawned_at: Timestamp,
    /// Last time the agent did anything.
    pub last_activity_at: Timestamp,
    /// When the agent was terminated.
    pub terminated_at: Option<Timestamp>,
    /// Why it was terminated.
    pub termination_reason: Option<String>,
}

/// An agent to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<AgentId>,
    /// Role.
    pub agent_type: AgentType,
    /// Model provider (default anthropic).
    pub model_provider: ModelProvider,
    /// Model name (default claude-sonnet-4).
    pub model_name: String,
    /// Temperature (default 0.3).
    pub temperature: f64,
    /// Maximum tokens per request (default 8000).
    pub max_tokens: i64,
    /// System prompt or path.
    pub system_prompt: Option<String>,
    /// Tool names.
    pub tools: Vec<String>,
}

impl NewAgent {
    /// An idle agent of this role with the default model settings.
    pub fn new(agent_type: AgentType) -> Self {
        Self {
            id: None,
            agent_type,
            model_provider: ModelProvider::Anthropic,
            model_name: "claude-sonnet-4".to_owned(),
            temperature: 0.3,
            max_tokens: 8000,
            system_prompt: None,
            tools: Vec::new(),
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentFilter {
    /// Only agents with this status.
    pub status: Option<AgentStatus>,
    /// Only agents of this role.
    pub agent_type: Option<AgentType>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Agent, $head + <every column> + $tail, args..)`.
macro_rules! query_agents {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Agent,
            $head + r#" id AS "id: AgentId", type AS "agent_type: AgentType", status AS "status: AgentStatus",
                      model_provider AS "model_provider: ModelProvider", model_name, temperature,
                      max_tokens, system_prompt AS "system_prompt?", tools AS "tools!: JsonList",
                      current_task_id AS "current_task_id?: TaskId", worktree_path AS "worktree_path?",
                      branch_name AS "branch_name?", tokens_used, tasks_completed, tasks_failed,
                      spawned_at AS "spawned_at: Timestamp",
                      last_activity_at AS "last_activity_at: Timestamp",
                      terminated_at AS "terminated_at?: Timestamp",
                      termination_reason AS "termination_reason?" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts an agent (status idle) and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewAgent) -> Result<Agent> {
    validate::finite(TABLE, "temperature", new.temperature)?;
    let id = new.id.unwrap_or_else(AgentId::generate);
    let now = Timestamp::now();
    let tools = json_list(&new.tools);
    query_agents!(
        "INSERT INTO agents (id, type, model_provider, model_name, temperature, max_tokens,
                             system_prompt, tools, spawned_at, last_activity_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.agent_type,
        new.model_provider,
        new.model_name,
        new.temperature,
        new.max_tokens,
        new.system_prompt,
        tools,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_agents, "agents", Agent, AgentId);

/// Agents matching `filter`, oldest first (ties by id).
pub async fn list<'e>(ex: impl SqliteExecutor<'e>, filter: &AgentFilter) -> Result<Vec<Agent>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_agents!(
        "SELECT",
        "FROM agents WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2)
         ORDER BY spawned_at, id LIMIT ?3 OFFSET ?4",
        filter.status,
        filter.agent_type,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes every mutable field of `agent` and returns the stored row.
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, agent: &Agent) -> Result<Agent> {
    validate::finite(TABLE, "temperature", agent.temperature)?;
    query_agents!(
        "UPDATE agents
         SET type = ?, status = ?, model_provider = ?, model_name = ?, temperature = ?,
             max_tokens = ?, system_prompt = ?, tools = ?, current_task_id = ?, worktree_path = ?,
             branch_name = ?, tokens_used = ?, tasks_completed = ?, tasks_failed = ?,
             last_activity_at = ?, terminated_at = ?, termination_reason = ?
         WHERE id = ? RETURNING",
        "",
        agent.agent_type,
        agent.status,
        agent.model_provider,
        agent.model_name,
        agent.temperature,
        agent.max_tokens,
        agent.system_prompt,
        json_list(&agent.tools),
        agent.current_task_id,
        agent.worktree_path,
        agent.branch_name,
        agent.tokens_used,
        agent.tasks_completed,
        agent.tasks_failed,
        agent.last_activity_at,
        agent.terminated_at,
        agent.termination_reason,
        agent.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &agent.id)
}

/// Gives the agent a task: status assigned, `current_task_id` set.
pub async fn assign_task<'e>(ex: impl SqliteExecutor<'e>, id: &AgentId, task_id: &TaskId) -> Result<Agent> {
    let now = Timestamp::now();
    query_agents!(
        "UPDATE agents SET status = 'assigned', current_task_id = ?, last_activity_at = ?
         WHERE id = ? RETURNING",
        "",
        task_id,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Sets the agent's status and records activity.
pub async fn set_status<'e>(ex: impl SqliteExecutor<'e>, id: &AgentId, status: AgentStatus) -> Result<Agent> {
    let now = Timestamp::now();
    query_agents!(
        "UPDATE agents SET status = ?, last_activity_at = ? WHERE id = ? RETURNING",
        "",
        status,
        now,
        id
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Adds `tokens` to the agent's usage and records activity.
pub async fn record_tokens<'e>(ex: impl SqliteExecutor<'e>, id: &AgentId, tokens: i64) -> Result<Agent> {
    let now = Timestamp::now();
    query_agents!(
        "UPDATE agents SET tokens_used = tokens_used + ?, last_activity_at = ? WHERE id = ? RETURNING",
        "",
        tokens,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Records the outcome of the agent's current task (a completed or failed count), clears the
/// assignment and makes the agent idle again.
pub async fn finish_task<'e>(ex: impl SqliteExecutor<'e>, id: &AgentId, succeeded: bool) -> Result<Agent> {
    let now = Timestamp::now();
    query_agents!(
        "UPDATE agents
         SET status = 'idle', current_task_id = NULL, last_activity_at = ?1,
             tasks_completed = tasks_completed + (?2 = 1), tasks_failed = tasks_failed + (?2 = 0)
         WHERE id = ?3 RETURNING",
        "",
        now,
        succeeded,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Terminates the agent with a reason.
pub async fn terminate<'e>(ex: impl SqliteExecutor<'e>, id: &AgentId, reason: &str) -> Result<Agent> {
    let now = Timestamp::now();
    query_agents!(
        "UPDATE agents
         SET status = 'terminated', current_task_id = NULL, terminated_at = ?1,
             termination_reason = ?2, last_activity_at = ?1
         WHERE id = ?3 RETURNING",
        "",
        now,
        reason,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Writes `agent` exactly as given, every column including its timestamps: inserted when its
/// id is new, replaced in place when it exists. Used to save project states (agents are
/// shared by projects, so they are written but never deleted by a save).
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, agent: &Agent) -> Result<()> {
    validate::finite(TABLE, "temperature", agent.temperature)?;
    sqlx::query!(
        "INSERT INTO agents (id, type, status, model_provider, model_name, temperature, max_tokens,
                             system_prompt, tools, current_task_id, worktree_path, branch_name,
                             tokens_used, tasks_completed, tasks_failed, spawned_at,
                             last_activity_at, terminated_at, termination_reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             type = excluded.type, status = excluded.status, model_provider = excluded.model_provider,
             model_name = excluded.model_name, temperature = excluded.temperature,
             max_tokens = excluded.max_tokens, system_prompt = excluded.system_prompt,
             tools = excluded.tools, current_task_id = excluded.current_task_id,
             worktree_path = excluded.worktree_path, branch_name = excluded.branch_name,
             tokens_used = excluded.tokens_used, tasks_completed = excluded.tasks_completed,
             tasks_failed = excluded.tasks_failed, spawned_at = excluded.spawned_at,
             last_activity_at = excluded.last_activity_at, terminated_at = excluded.terminated_at,
             termination_reason = excluded.termination_reason",
        agent.id,
        agent.agent_type,
        agent.status,
        agent.model_provider,
        agent.model_name,
        agent.temperature,
        agent.max_tokens,
        agent.system_prompt,
        json_list(&agent.tools),
        agent.current_task_id,
        agent.worktree_path,
        agent.branch_name,
        agent.tokens_used,
        agent.tasks_completed,
        agent.tasks_failed,
        agent.spawned_at,
        agent.last_activity_at,
        agent.terminated_at,
        agent.termination_reason,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    Ok(())
}

/// The agents working on a project: assigned to one of its tasks, or whose current task is
/// one of them; by id.
pub async fn list_for_project<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId) -> Result<Vec<Agent>> {
    query_agents!(
        "SELECT",
        "FROM agents
         WHERE id IN (SELECT assigned_agent FROM tasks WHERE project_id = ?1)
            OR current_task_id IN (SELECT id FROM tasks WHERE project_id = ?1)
         ORDER BY id",
        project_id,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("agents", AgentId);
