//! `/v1/projects`: a user's projects and their state (nexus-state) — read and saved whole as
//! JSON or as STATE.md, refused with 409 when the state changed since it was read. The
//! project's checkpoints are in [`super::checkpoints`], its tasks in [`super::tasks`].

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_db::projects::{self, NewProject};
use nexus_db::{ProjectId, users};
use nexus_state::{ProjectState, SaveMode, markdown};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ListPage, check_owner, json, off_thread, owned_project};
use crate::app::AppState;
use crate::auth::{Caller, OwnedProject};
use crate::error::{Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params, Text};
use crate::responses::{ChangeErrors, CreateUniqueErrors, QueryErrors, ReadErrors};
use crate::roots;

type Value = axum::Json<serde_json::Value>;

/// A project to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProject {
    /// Display name (unique in the database).
    pub name: String,
    /// Root of its sources (default: `api://<name>`): an `api://` name, or a directory inside
    /// the server's projects directory when it has one (`nexus serve --projects-dir`); any
    /// other is 400 `root-not-allowed`.
    pub root_path: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// Lists the caller's projects.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryErrors))]
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
    responses((status = 201, body = serde_json::Value), CreateUniqueErrors))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Body(body): Body<CreateProject>,
) -> Result<impl IntoResponse> {
    if body.name.trim().is_empty() {
        return Err(ServerError::BadRequest("name must not be empty".to_owned()));
    }
    let root = match &body.root_path {
        Some(root) => roots::check(state.config.projects_dir.as_deref(), root)?,
        None => format!("{}{}", roots::API_ROOT_SCHEME, body.name),
    };
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
    responses((status = 200, body = serde_json::Value), ReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
) -> Result<Value> {
    Ok(axum::Json(json(&owned_project(&state, &user, &id, owned.as_deref()).await?)?))
}

/// The project's state (project, features, tasks, requirements, agents, checkpoint, figures).
#[utoipa::path(get, path = "/v1/projects/{id}/state", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), ReadErrors))]
pub async fn state(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
) -> Result<Value> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    Ok(axum::Json(json(&nexus_state::load(state.store.db(), &id).await?)?))
}

/// The project's state as STATE.md.
#[utoipa::path(get, path = "/v1/projects/{id}/state.md", tag = "projects", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/markdown"), ReadErrors))]
pub async fn state_md(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
) -> Result<impl IntoResponse> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let loaded = nexus_state::load(state.store.db(), &id).await?;
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], nexus_state::markdown::export(&loaded)))
}

/// How a save treats a state read before another change.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaveParams {
    /// Overwrite whatever the project holds now instead of answering 409 `state-conflict`.
    pub force: Option<bool>,
}

/// Saves the whole state of the project, as `GET …/state` returned it and edited: the planning
/// rows (project, features, sub-features, tasks, requirements) become exactly the state's, in
/// one transaction. A state read before another change is refused (409 `state-conflict`,
/// nothing written) unless `?force=true`. Agents are shared by every user of the database and
/// are not written by a save over HTTP.
#[utoipa::path(put, path = "/v1/projects/{id}/state", tag = "projects", params(("id" = String, Path), SaveParams),
    request_body = Object, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "The state as stored, with its new revision"), ChangeErrors))]
pub async fn put_state(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Params(params): Params<SaveParams>,
    Body(body): Body<ProjectState>,
) -> Result<Value> {
    save(&state, &user, id, owned.as_deref(), params, body).await
}

/// Imports STATE.md (as `GET …/state.md` wrote it, edited) into the project: the file's
/// checkboxes, statuses and data block become the project's state, with the rules of
/// `PUT …/state` (409 `state-conflict` unless `?force=true`; a malformed file is 400
/// `invalid-markdown` with its line, and nothing is written).
#[utoipa::path(put, path = "/v1/projects/{id}/state.md", tag = "projects", params(("id" = String, Path), SaveParams),
    request_body(content = String, content_type = "text/markdown"), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value, description = "The state as stored, with its new revision"), ChangeErrors))]
pub async fn put_state_md(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Params(params): Params<SaveParams>,
    Text(text): Text,
) -> Result<Value> {
    // Another user's project answers 404 whatever the file holds.
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let parsed = markdown::parse(&text)?;
    save(&state, &user, id, owned.as_deref(), params, parsed).await
}

/// Saves `target` as project `id`'s state, for `user` who must own it (`proof`: the request's
/// [`OwnedProject`], see [`check_owner`]).
async fn save(
    state: &AppState,
    user: &nexus_db::UserId,
    id: ProjectId,
    proof: Option<&OwnedProject>,
    params: SaveParams,
    mut target: ProjectState,
) -> Result<Value> {
    let current = owned_project(state, user, &id, proof).await?;
    if target.project.root_path != current.root_path {
        target.project.root_path =
            roots::check(state.config.projects_dir.as_deref(), &target.project.root_path)?;
    }
    if target.project.id != id {
        return Err(ServerError::BadRequest(format!(
            "the state is of project {}, not of this one",
            target.project.id
        )));
    }
    target.agents.clear();
    let mode = if params.force.unwrap_or(false) { SaveMode::Force } else { SaveMode::CheckRevision };
    let store = state.store.clone();
    let saved =
        off_thread(state, move || async move { Ok(nexus_state::save(store.db(), &target, mode).await?) })
            .await?;
    Ok(axum::Json(json(&saved)?))
}
