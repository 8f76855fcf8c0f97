//! Bearer-key authentication: [`require_key`] turns `Authorization: Bearer <key>` into the
//! [`Caller`] handlers read, or answers 401. Keys are compared by hash and never logged.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use nexus_db::{UserId, api_keys};

use crate::app::AppState;
use crate::error::ServerError;

/// The authenticated user of a request (a request extension set by [`require_key`]).
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

/// Middleware: authenticates the request's bearer key and records the caller, or answers 401.
/// The key's `last_used_at` is written at most once a minute ([`api_keys::authenticate`]).
pub async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ServerError> {
    let key = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(api_keys::bearer)
        .ok_or(ServerError::Unauthorized)?;
    let found = api_keys::authenticate(state.store.db(), key).await?.ok_or(ServerError::Unauthorized)?;
    tracing::Span::current().record("user", tracing::field::display(&found.user_id));
    request.extensions_mut().insert(Caller(found.user_id));
    Ok(next.run(request).await)
}
