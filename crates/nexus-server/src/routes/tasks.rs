//! `/v1/projects/{id}/tasks`: a project's tasks — create, the ready queue, the workflow
//! (assign, start, complete, fail, block; nexus-state checks agents and dependencies) — and
//! continue points (where work on a task stopped: save one, resume the project, a task's
//! history). A task of another project answers 404 like a missing one.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_db::continue_points::NewContinuePoint;
use nexus_db::tasks::{self, NewTask};
use nexus_db::{AgentId, DbError, ProjectId, TaskId};
use nexus_state::workflow;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ListPage, check_owner, json, off_thread};
use crate::app::AppState;
use crate::auth::{Caller, OwnedProject};
use crate::error::{Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params};
use crate::responses::{ChangeErrors, QueryReadErrors, WriteErrors};

type Value = axum::Json<serde_json::Value>;

/// A task to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTask {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tasks of the project that must complete first (400 `unknown-dependency` otherwise).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// Creates a task in the project.
#[utoipa::path(post, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path)),
    request_body = CreateTask, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), WriteErrors))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Body(body): Body<CreateTask>,
) -> Result<impl IntoResponse> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let mut new = NewTask::new(&id, body.name);
    new.description = body.description;
    new.depends_on = body.depends_on.into_iter().map(TaskId::from).collect();
    let task = workflow::create_task(state.store.db(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&task)?)))
}

/// The project's tasks ready to start (dependencies done), by priority.
#[utoipa::path(get, path = "/v1/projects/{id}/tasks/ready", tag = "projects", params(("id" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn ready(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let ready = workflow::ready(state.store.db(), &id, nexus_db::MAX_PAGE).await?;
    Ok(axum::Json(ListPage::of(page.slice(ready)?)?))
}

/// A step of the task workflow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TaskAction {
    /// Queue the task for an agent (its dependencies must be completed).
    Assign {
        /// The agent (an agent id; 400 `unknown-agent` when there is none).
        agent_id: String,
    },
    /// Start the task with an agent (its dependencies must be completed).
    Start {
        /// The agent (an agent id; 400 `unknown-agent` when there is none).
        agent_id: String,
    },
    /// Complete the task.
    Complete {
        /// Minutes it took.
        actual_minutes: Option<i64>,
    },
    /// Fail the task.
    Fail {
        /// Why.
        reason: String,
    },
    /// Block the task on another task of the project.
    Block {
        /// The task it waits for (400 `unknown-dependency` when not in the project).
        blocking_task_id: String,
    },
}

/// Moves a task of the project through the workflow: assign, start, complete, fail or block.
/// A move the task's status does not allow is 409 `invalid-transition`; an unfinished
/// dependency 409 `unfinished-dependency`.
#[utoipa::path(post, path = "/v1/projects/{id}/tasks/{task_id}/workflow", tag = "projects",
    params(("id" = String, Path), ("task_id" = String, Path)), request_body = TaskAction, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), ChangeErrors))]
pub async fn workflow(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id((id, task_id)): Id<(ProjectId, TaskId)>,
    Body(action): Body<TaskAction>,
) -> Result<Value> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    task_of(&state, &id, &task_id).await?;
    let store = state.store.clone();
    let done = off_thread(&state, move || async move {
        let db = store.db();
        match action {
            TaskAction::Assign { agent_id } => {
                json(&workflow::assign(db, &task_id, &AgentId::from(agent_id)).await?)
            }
            TaskAction::Start { agent_id } => {
                json(&workflow::start(db, &task_id, &AgentId::from(agent_id)).await?)
            }
            TaskAction::Complete { actual_minutes } => {
                json(&workflow::complete(db, &task_id, actual_minutes).await?)
            }
            TaskAction::Fail { reason } => json(&workflow::fail(db, &task_id, &reason).await?.task),
            TaskAction::Block { blocking_task_id } => {
                json(&workflow::block(db, &task_id, &TaskId::from(blocking_task_id)).await?)
            }
        }
    })
    .await?;
    Ok(axum::Json(done))
}

/// Where work on a task stopped.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SaveContinuePoint {
    /// The task (of this project; 400 `unknown-task` otherwise).
    pub task_id: String,
    /// The last action taken.
    pub last_action: String,
    /// The file being edited.
    pub file: Option<String>,
    /// The line in that file.
    pub line: Option<i64>,
    /// The function being edited.
    pub function_name: Option<String>,
    /// What to do next.
    #[serde(default)]
    pub next_steps: Vec<String>,
    /// The agent that was working.
    pub agent_id: Option<String>,
    /// The QA iteration.
    #[serde(default)]
    pub iteration_count: i64,
}

/// Saves a continue point of a task of the project.
#[utoipa::path(post, path = "/v1/projects/{id}/continue-points", tag = "projects", params(("id" = String, Path)),
    request_body = SaveContinuePoint, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), WriteErrors))]
pub async fn save_continue_point(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Body(body): Body<SaveContinuePoint>,
) -> Result<impl IntoResponse> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let mut new = NewContinuePoint::new(id, body.task_id, body.last_action);
    new.file = body.file;
    new.line = body.line;
    new.function_name = body.function_name;
    new.next_steps = body.next_steps;
    new.agent_id = body.agent_id.map(AgentId::from);
    new.iteration_count = body.iteration_count;
    let point = nexus_state::save_continue_point(state.store.db(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&point)?)))
}

/// Where to pick the project's work up: the latest continue point of each unfinished task,
/// newest first.
#[utoipa::path(get, path = "/v1/projects/{id}/continue-points", tag = "projects", params(("id" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let points = nexus_state::resume(state.store.db(), &id).await?;
    Ok(axum::Json(ListPage::of(page.slice(points)?)?))
}

/// Every continue point of a task of the project, newest first.
#[utoipa::path(get, path = "/v1/projects/{id}/tasks/{task_id}/continue-points", tag = "projects",
    params(("id" = String, Path), ("task_id" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn task_continue_points(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id((id, task_id)): Id<(ProjectId, TaskId)>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    task_of(&state, &id, &task_id).await?;
    let points = nexus_state::history(state.store.db(), &id, &task_id).await?;
    Ok(axum::Json(ListPage::of(page.slice(points)?)?))
}

/// Checks that `task` is a task of `project`; one of another project (or none) is not found.
async fn task_of(state: &AppState, project: &ProjectId, task: &TaskId) -> Result<()> {
    match tasks::get(state.store.db().reader(), task).await {
        Ok(row) if &row.project_id == project => Ok(()),
        Ok(_) | Err(DbError::NotFound { .. }) => Err(ServerError::NotFound { what: "task" }),
        Err(e) => Err(e.into()),
    }
}
