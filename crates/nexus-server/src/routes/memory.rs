//! `/v1/memory`: episodic memory of a project the caller owns — remember (POST) and recall
//! (GET with `project` and `q`).

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_db::ProjectId;
use nexus_db::episodes::{EpisodeType, NewEpisode};
use nexus_store::RecallOptions;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ListPage, check_owner, json};
use crate::app::AppState;
use crate::auth::{Caller, OwnedProject};
use crate::error::{Result, ServerError};
use crate::extract::{Body, Params};
use crate::responses::{QueryReadErrors, WriteErrors};

/// An episode to remember.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Remember {
    /// The project (one the caller owns).
    pub project: String,
    /// Kind: code_generation, error_fix, review_feedback, decision or research (default research).
    #[serde(rename = "type")]
    pub episode_type: Option<String>,
    /// What to remember.
    pub content: String,
    /// A short summary.
    pub summary: Option<String>,
    /// Importance, 0 to 1.
    pub importance: Option<f64>,
}

/// Records an episode (embedded and indexed at once).
#[utoipa::path(post, path = "/v1/memory", tag = "memory", request_body = Remember, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), WriteErrors))]
pub async fn remember(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Body(body): Body<Remember>,
) -> Result<impl IntoResponse> {
    let project = ProjectId::from(body.project);
    check_owner(&state, &user, &project, owned.as_deref()).await?;
    let kind = match body.episode_type.as_deref() {
        None => EpisodeType::Research,
        Some(text) => text.parse().map_err(ServerError::BadRequest)?,
    };
    let mut new = NewEpisode::new(&project, kind, body.content);
    new.summary = body.summary;
    if let Some(importance) = body.importance {
        if !(0.0..=1.0).contains(&importance) {
            return Err(ServerError::BadRequest("importance must be between 0 and 1".to_owned()));
        }
        new.importance = importance;
    }
    let episode = state.store.remember(new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&episode)?)))
}

/// What to recall.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecallParams {
    /// The project (one the caller owns).
    pub project: String,
    /// What to recall.
    pub q: String,
    /// At most this many episodes (1–100, default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The project's episodes most relevant to `q`, best first (a single page).
#[utoipa::path(get, path = "/v1/memory", tag = "memory", params(RecallParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn recall(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Params(params): Params<RecallParams>,
) -> Result<axum::Json<ListPage>> {
    let project = ProjectId::from(params.project);
    check_owner(&state, &user, &project, owned.as_deref()).await?;
    let limit = params.limit.unwrap_or(10);
    if limit == 0 || limit > 100 {
        return Err(ServerError::BadRequest("limit must be 1 to 100".to_owned()));
    }
    if params.q.trim().is_empty() {
        return Err(ServerError::BadRequest("q must not be empty".to_owned()));
    }
    let options = RecallOptions { limit, ..RecallOptions::default() };
    let store = state.store.clone();
    let items = super::off_thread(&state, move || async move {
        let recalled = store.recall(&project, &params.q, &options).await?;
        recalled.iter().map(json).collect::<Result<Vec<_>>>()
    })
    .await?;
    Ok(axum::Json(ListPage { items, next_cursor: None }))
}
