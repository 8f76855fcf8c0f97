//! `/v1/projects/{id}/checkpoints`: checkpoints of a project's state — take one, list them,
//! see what changed since one (or between two), and restore one (after a safety checkpoint,
//! in one transaction). A checkpoint of another project answers 404 like a missing one.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_db::checkpoints::{self, Checkpoint};
use nexus_db::{CheckpointId, DbError, ProjectId};
use nexus_state::{CheckpointRequest, CheckpointSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ListPage, check_owner, json, off_thread};
use crate::app::AppState;
use crate::auth::{Caller, OwnedProject};
use crate::error::{Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params};
use crate::responses::{ChangeErrors, QueryReadErrors, WriteErrors};

/// A checkpoint to take.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCheckpoint {
    /// Why it is taken.
    pub reason: String,
}

/// Takes a checkpoint of the project's state.
#[utoipa::path(post, path = "/v1/projects/{id}/checkpoints", tag = "projects", params(("id" = String, Path)),
    request_body = CreateCheckpoint, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), WriteErrors))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Body(body): Body<CreateCheckpoint>,
) -> Result<impl IntoResponse> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let saved =
        nexus_state::checkpoint(state.store.db(), &id, CheckpointRequest::manual(body.reason)).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&saved)?)))
}

/// The project's checkpoints as a timeline, newest first.
#[utoipa::path(get, path = "/v1/projects/{id}/checkpoints", tag = "projects", params(("id" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id(id): Id<ProjectId>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    let all = nexus_state::list_checkpoints(state.store.db(), &id).await?;
    Ok(axum::Json(ListPage::of(page.slice(all)?)?))
}

/// What to compare a checkpoint with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// A later checkpoint of the project (default: the project's state now).
    pub against: Option<String>,
}

/// What changed from the checkpoint to `?against=` (another checkpoint) or to now: per table
/// (`projects`, `features`, `sub_features`, `tasks`, `requirements`), the ids added and
/// removed and the fields changed (`[before, after]`).
#[utoipa::path(get, path = "/v1/projects/{id}/checkpoints/{checkpoint_id}/diff", tag = "projects",
    params(("id" = String, Path), ("checkpoint_id" = String, Path), DiffParams), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), QueryReadErrors))]
pub async fn diff(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id((id, checkpoint)): Id<(ProjectId, CheckpointId)>,
    Params(params): Params<DiffParams>,
) -> Result<axum::Json<serde_json::Value>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    checkpoint_of(&state, &id, &checkpoint).await?;
    let against = params.against.map(CheckpointId::from);
    if let Some(other) = &against {
        checkpoint_of(&state, &id, other).await?;
    }
    let changes = nexus_state::diff_checkpoints(state.store.db(), &checkpoint, against.as_ref()).await?;
    Ok(axum::Json(json(&changes)?))
}

/// What a restore did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestoreAnswer {
    /// The checkpoint restored.
    pub restored: String,
    /// The checkpoint taken just before (restore it to undo this one).
    #[schema(value_type = Object)]
    pub safety_checkpoint: CheckpointSummary,
    /// The project's state now.
    #[schema(value_type = Object)]
    pub state: nexus_state::ProjectState,
}

/// Restores the checkpoint: the project's planning state (project fields, features,
/// sub-features, tasks, requirements) becomes exactly what it captured, after a safety
/// checkpoint of the state before, in one transaction. Memory, metrics, sessions, agents and
/// continue points are history and are not rolled back.
#[utoipa::path(post, path = "/v1/projects/{id}/checkpoints/{checkpoint_id}/restore", tag = "projects",
    params(("id" = String, Path), ("checkpoint_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = RestoreAnswer), ChangeErrors))]
pub async fn restore(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Id((id, checkpoint)): Id<(ProjectId, CheckpointId)>,
) -> Result<axum::Json<RestoreAnswer>> {
    check_owner(&state, &user, &id, owned.as_deref()).await?;
    checkpoint_of(&state, &id, &checkpoint).await?;
    let store = state.store.clone();
    let target = checkpoint.clone();
    let restored =
        off_thread(&state, move || async move { Ok(nexus_state::restore(store.db(), &target).await?) })
            .await?;
    Ok(axum::Json(RestoreAnswer {
        restored: checkpoint.to_string(),
        safety_checkpoint: CheckpointSummary::from(&restored.safety),
        state: restored.state,
    }))
}

/// The checkpoint `id` of `project`; one of another project (or none) is not found.
async fn checkpoint_of(state: &AppState, project: &ProjectId, id: &CheckpointId) -> Result<Checkpoint> {
    match checkpoints::get(state.store.db().reader(), id).await {
        Ok(row) if &row.project_id == project => Ok(row),
        Ok(_) | Err(DbError::NotFound { .. }) => Err(ServerError::NotFound { what: "checkpoint" }),
        Err(e) => Err(e.into()),
    }
}
