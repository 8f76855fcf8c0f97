//! `/v1/projects`: a user's projects and their state — load, STATE.md, checkpoints and the
//! task workflow (nexus-state).

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_db::projects::{self, NewProject};
use nexus_db::tasks::{self, NewTask};
use nexus_db::{AgentId, ProjectId, TaskId, users};
use nexus_state::{CheckpointRequest, workflow};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ListPage, json, owned_project};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Problem, Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params};

type Value = axum::Json<serde_json::Value>;

/// A project to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProject {
    /// Display name (unique in the database).
    pub name: String,
    /// Root path of its sources (default: `api://<name>`).
    pub root_path: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// Lists the caller's projects.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    let reader = state.store.db().reader();
    let ids = users::owned_projects(reader, &user, &page.cursor()?).await?;
    let mut items = Vec::with_capacity(ids.items.len());
    for id in &ids.items {
        items.push(json(&projects::get(reader, id).await?)?);
    }
    Ok(axum::Json(ListPage { items, next_cursor: ids.next_cursor }))
}

/// Creates a project owned by the caller.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = CreateProject, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Body(body): Body<CreateProject>,
) -> Result<impl IntoResponse> {
    if body.name.trim().is_empty() {
        return Err(ServerError::BadRequest("name must not be empty".to_owned()));
    }
    let root = body.root_path.clone().unwrap_or_else(|| format!("api://{}", body.name));
    let mut new = NewProject::new(body.name, root);
    new.description = body.description;
    let mut tx = state.store.db().begin().await?;
    let project = projects::create(&mut *tx, new).await?;
    users::own_project(&mut *tx, &user, &project.id).await?;
    tx.commit().await.map_err(nexus_db::DbError::from)?;
    Ok((StatusCode::CREATED, axum::Json(json(&project)?)))
}

/// One of the caller's projects.
#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
) -> Result<Value> {
    Ok(axum::Json(json(&owned_project(&state, &user, &id).await?)?))
}

/// The project's state (project, features, tasks, requirements, agents, checkpoint, figures).
#[utoipa::path(get, path = "/v1/projects/{id}/state", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn state(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
) -> Result<Value> {
    owned_project(&state, &user, &id).await?;
    Ok(axum::Json(json(&nexus_state::load(state.store.db(), &id).await?)?))
}

/// The project's state as STATE.md.
#[utoipa::path(get, path = "/v1/projects/{id}/state.md", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/markdown"), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn state_md(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
) -> Result<impl IntoResponse> {
    owned_project(&state, &user, &id).await?;
    let loaded = nexus_state::load(state.store.db(), &id).await?;
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], nexus_state::markdown::export(&loaded)))
}

/// A checkpoint to take.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCheckpoint {
    /// Why it is taken.
    pub reason: String,
}

/// Takes a checkpoint of the project's state.
#[utoipa::path(post, path = "/v1/projects/{id}/checkpoints", tag = "projects", params(("id" = String, Path)),
    request_body = CreateCheckpoint, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn create_checkpoint(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
    Body(body): Body<CreateCheckpoint>,
) -> Result<impl IntoResponse> {
    owned_project(&state, &user, &id).await?;
    let saved =
        nexus_state::checkpoint(state.store.db(), &id, CheckpointRequest::manual(body.reason)).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&saved)?)))
}

/// The project's checkpoints.
#[utoipa::path(get, path = "/v1/projects/{id}/checkpoints", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ListPage), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_checkpoints(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
) -> Result<axum::Json<ListPage>> {
    owned_project(&state, &user, &id).await?;
    let all = nexus_state::list_checkpoints(state.store.db(), &id).await?;
    let items = all.iter().map(json).collect::<Result<Vec<_>>>()?;
    Ok(axum::Json(ListPage { items, next_cursor: None }))
}

/// A task to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTask {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Creates a task in the project.
#[utoipa::path(post, path = "/v1/projects/{id}/tasks", tag = "projects", params(("id" = String, Path)),
    request_body = CreateTask, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn create_task(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
    Body(body): Body<CreateTask>,
) -> Result<impl IntoResponse> {
    owned_project(&state, &user, &id).await?;
    let mut new = NewTask::new(&id, body.name);
    new.description = body.description;
    let task = workflow::create_task(state.store.db(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&task)?)))
}

/// The project's tasks ready to start (dependencies done), by priority.
#[utoipa::path(get, path = "/v1/projects/{id}/tasks/ready", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ListPage), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ready_tasks(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ProjectId>,
) -> Result<axum::Json<ListPage>> {
    owned_project(&state, &user, &id).await?;
    let ready = workflow::ready(state.store.db(), &id, nexus_db::MAX_PAGE).await?;
    let items = ready.iter().map(json).collect::<Result<Vec<_>>>()?;
    Ok(axum::Json(ListPage { items, next_cursor: None }))
}

/// A step of the task workflow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TaskAction {
    /// Start the task with an agent.
    Start {
        /// The agent (an agent id).
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
}

/// Moves a task of the project through the workflow: start, complete or fail.
#[utoipa::path(post, path = "/v1/projects/{id}/tasks/{task_id}/workflow", tag = "projects",
    params(("id" = String, Path), ("task_id" = String, Path)), request_body = TaskAction, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn task_workflow(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id((id, task_id)): Id<(ProjectId, TaskId)>,
    Body(action): Body<TaskAction>,
) -> Result<Value> {
    owned_project(&state, &user, &id).await?;
    let task = tasks::get(state.store.db().reader(), &task_id).await?;
    if task.project_id != id {
        return Err(ServerError::NotFound { what: "task" });
    }
    let store = state.store.clone();
    let done = super::off_thread(move || async move {
        let db = store.db();
        match action {
            TaskAction::Start { agent_id } => {
                json(&workflow::start(db, &task_id, &AgentId::from(agent_id)).await?)
            }
            TaskAction::Complete { actual_minutes } => {
                json(&workflow::complete(db, &task_id, actual_minutes).await?)
            }
            TaskAction::Fail { reason } => json(&workflow::fail(db, &task_id, &reason).await?.task),
        }
    })
    .await?;
    Ok(axum::Json(done))
}
