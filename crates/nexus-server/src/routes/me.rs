//! `/v1/me`: the caller's user row and settings.

use axum::extract::{Extension, State};
use nexus_db::users;

use super::json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::extract::Body;
use crate::responses::{AuthErrors, CreateErrors};

/// The caller.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), AuthErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(json(&users::get(state.store.db().reader(), &user).await?)?))
}

/// Replaces the caller's settings (a JSON object).
#[utoipa::path(put, path = "/v1/me/settings", tag = "users", request_body = serde_json::Value, security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), CreateErrors))]
pub async fn put_settings(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Body(settings): Body<serde_json::Value>,
) -> Result<axum::Json<serde_json::Value>> {
    if !settings.is_object() {
        return Err(ServerError::BadRequest("settings must be a JSON object".to_owned()));
    }
    Ok(axum::Json(json(&users::set_settings(state.store.db().writer(), &user, &settings).await?)?))
}
