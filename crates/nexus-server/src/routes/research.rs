//! `/v1/research-sessions`: the caller's research sessions. Phases move only along topic →
//! questions → feedback → planning → executing → completed, or to error; every PATCH names
//! the version it was made from (409 when stale, nothing changed); an expired session answers
//! 410 until cleanup removes it. `POST …/{id}/history` snapshots a session into the history.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nexus_db::history::{self, NewHistoryEntry};
use nexus_db::research_sessions::{self, NewResearchSession, ResearchSession, SessionPatch};
use nexus_db::{ResearchSessionId, Timestamp, UserId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ListPage, json};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params};
use crate::responses::{
    CreateErrors, QueryErrors, ReadErrors, SessionChangeErrors, SessionReadErrors, SessionWriteErrors,
};

/// A session to start.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSession {
    /// What to research.
    pub topic: String,
    /// Knowledge item ids to use.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Settings of the run.
    pub settings: Option<serde_json::Value>,
    /// Anything else.
    pub metadata: Option<serde_json::Value>,
    /// Seconds until it expires (default: the server's session lifetime).
    #[schema(minimum = 1)]
    pub ttl_seconds: Option<u64>,
}

/// Changes to a session, made from `version`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSession {
    /// The version the change was made from (the session's current one, or 409).
    pub version: i64,
    /// New phase: the next one, or error.
    pub phase: Option<String>,
    /// Clarifying questions.
    pub questions: Option<String>,
    /// The user's answers.
    pub feedback: Option<String>,
    /// The report plan.
    pub report_plan: Option<String>,
    /// Search tasks.
    pub tasks: Option<serde_json::Value>,
    /// Their results.
    pub results: Option<serde_json::Value>,
    /// The final report.
    pub final_report: Option<String>,
    /// Knowledge items used.
    pub resources: Option<serde_json::Value>,
    /// Sources.
    pub sources: Option<serde_json::Value>,
    /// Images.
    pub images: Option<serde_json::Value>,
    /// Settings.
    pub settings: Option<serde_json::Value>,
    /// Metadata.
    pub metadata: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// Seconds from now until it expires.
    #[schema(minimum = 1)]
    pub ttl_seconds: Option<u64>,
}

/// A snapshot to file in the history.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Snapshot {
    /// Title (default: the topic).
    pub title: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `now + ttl`, refusing absurd lifetimes.
fn expiry(ttl_seconds: u64) -> Result<Timestamp> {
    let millis = i64::try_from(ttl_seconds)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| ms.checked_add(Timestamp::now().as_millis()))
        .filter(|_| ttl_seconds > 0)
        .ok_or_else(|| ServerError::BadRequest("ttl_seconds is out of range".to_owned()))?;
    Ok(Timestamp::from_millis(millis))
}

/// The caller's live session `id`: 404 when there is none, 410 when it has expired.
async fn live(state: &AppState, user: &UserId, id: &ResearchSessionId) -> Result<ResearchSession> {
    let session = research_sessions::get(state.store.db().reader(), user, id).await?;
    if session.is_expired(Timestamp::now()) {
        return Err(ServerError::Gone { what: "research session" });
    }
    Ok(session)
}

/// Starts a session (phase topic, version 1).
#[utoipa::path(post, path = "/v1/research-sessions", tag = "research", request_body = CreateSession, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Body(body): Body<CreateSession>,
) -> Result<impl IntoResponse> {
    if body.topic.trim().is_empty() {
        return Err(ServerError::BadRequest("topic must not be empty".to_owned()));
    }
    let ttl = body.ttl_seconds.unwrap_or(state.config.session_ttl.as_secs());
    let new = NewResearchSession {
        user_id: user,
        topic: body.topic,
        resources: body.resources,
        settings: body.settings,
        metadata: body.metadata,
        expires_at: Some(expiry(ttl)?),
    };
    let session = research_sessions::create(state.store.db().writer(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&session)?)))
}

/// Lists the caller's live sessions, newest first.
#[utoipa::path(get, path = "/v1/research-sessions", tag = "research", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryErrors))]
pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    let paged =
        research_sessions::list(state.store.db().reader(), &user, Timestamp::now(), &page.cursor()?).await?;
    Ok(axum::Json(ListPage::of(paged)?))
}

/// One of the caller's sessions.
#[utoipa::path(get, path = "/v1/research-sessions/{id}", tag = "research", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), SessionReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ResearchSessionId>,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(json(&live(&state, &user, &id).await?)?))
}

/// Updates a session made from `version`: 409 when stale or for a forbidden phase move.
#[utoipa::path(patch, path = "/v1/research-sessions/{id}", tag = "research", params(("id" = String, Path)),
    request_body = UpdateSession, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), SessionChangeErrors))]
pub async fn update(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ResearchSessionId>,
    Body(body): Body<UpdateSession>,
) -> Result<axum::Json<serde_json::Value>> {
    live(&state, &user, &id).await?;
    let phase = body.phase.as_deref().map(str::parse).transpose().map_err(ServerError::BadRequest)?;
    let expires_at = body.ttl_seconds.map(expiry).transpose()?;
    let patch = SessionPatch {
        phase,
        questions: body.questions,
        feedback: body.feedback,
        report_plan: body.report_plan,
        tasks: body.tasks,
        results: body.results,
        final_report: body.final_report,
        resources: body.resources,
        sources: body.sources,
        images: body.images,
        settings: body.settings,
        metadata: body.metadata,
        error: body.error,
        expires_at,
    };
    let updated =
        research_sessions::update(state.store.db().writer(), &user, &id, body.version, patch).await?;
    Ok(axum::Json(json(&updated)?))
}

/// Deletes one of the caller's sessions.
#[utoipa::path(delete, path = "/v1/research-sessions/{id}", tag = "research", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), ReadErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ResearchSessionId>,
) -> Result<StatusCode> {
    research_sessions::delete(state.store.db().writer(), &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Files a snapshot of the session (its final report, or plan) in the caller's history.
#[utoipa::path(post, path = "/v1/research-sessions/{id}/history", tag = "research", params(("id" = String, Path)),
    request_body = Snapshot, security(("bearer" = [])),
    responses((status = 201, body = serde_json::Value), SessionWriteErrors))]
pub async fn snapshot(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<ResearchSessionId>,
    Body(body): Body<Snapshot>,
) -> Result<impl IntoResponse> {
    let session = live(&state, &user, &id).await?;
    let report = session.final_report.clone().or_else(|| session.report_plan.clone()).unwrap_or_default();
    let new = NewHistoryEntry {
        user_id: user,
        session_id: Some(session.id.to_string()),
        title: body.title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| session.topic.clone()),
        tags: body.tags,
        report,
        snapshot: json(&session)?,
    };
    let entry = history::create(state.store.db().writer(), new).await?;
    Ok((StatusCode::CREATED, axum::Json(json(&entry)?)))
}
