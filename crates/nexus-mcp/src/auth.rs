//! Bearer keys on the streamable HTTP transport. [`require_key`] authenticates every request
//! with `Authorization: Bearer <key>` (the keys of `nexus user`, checked and their use recorded
//! by `nexus_db::api_keys::authenticate`, as `nexus serve` does) and answers 401 with
//! `WWW-Authenticate: Bearer` otherwise. The key goes no further than this middleware (the
//! header is removed before the MCP service sees the request) and is never logged. Each MCP
//! session is bound to the user who opened it: another user's requests naming it get 404, as
//! for a session that does not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nexus_store::Store;
use nexus_store::db::{UserId, api_keys};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

/// The header naming a request's MCP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// The user whose key authenticated an HTTP request (a request extension set by
/// [`require_key`], read by the tools through the request's `http::request::Parts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authenticated(pub(crate) UserId);

/// What [`require_key`] needs: the store holding the keys, and which user opened each live
/// session.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    store: Store,
    sessions: Arc<LocalSessionManager>,
    owners: Arc<Mutex<HashMap<String, UserId>>>,
}

impl Gate {
    /// A gate over the keys of `store`, binding the sessions of `sessions`.
    pub(crate) fn new(store: Store, sessions: Arc<LocalSessionManager>) -> Self {
        Self { store, sessions, owners: Arc::default() }
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserId>> {
        self.owners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `user` opened session `id`, forgetting the sessions that have ended.
    async fn bind(&self, id: String, user: UserId) {
        let known: Vec<String> = self.owners().keys().cloned().collect();
        let mut ended = Vec::new();
        for old in known {
            if !self.sessions.has_session(&old.as_str().into()).await.unwrap_or(false) {
                ended.push(old);
            }
        }
        let mut owners = self.owners();
        for old in ended {
            owners.remove(&old);
        }
        owners.insert(id, user);
    }
}

/// Middleware: authenticates the request's bearer key, refuses a session opened by another
/// user, records the caller for the tools, and binds a session the request opens to them.
pub(crate) async fn require_key(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let key =
        request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(api_keys::bearer);
    let found = match key {
        None => {
            return unauthorized("this server needs Authorization: Bearer <key> (see nexus user key add)");
        }
        Some(key) => api_keys::authenticate(gate.store.db(), key, None).await,
    };
    let user = match found {
        Ok(Some(found)) => found.key.user_id,
        Ok(None) => return unauthorized("unknown or revoked key"),
        Err(error) => {
            tracing::warn!(%error, "cannot check an API key");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot check the key").into_response();
        }
    };
    request.headers_mut().remove(header::AUTHORIZATION);
    let session = request.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(id) = &session
        && gate.owners().get(id).is_some_and(|owner| *owner != user)
    {
        tracing::info!(%user, "refused a request naming another user's session");
        return (StatusCode::NOT_FOUND, "Session not found").into_response();
    }
    request.extensions_mut().insert(Authenticated(user.clone()));
    let response = next.run(request).await;
    if session.is_none()
        && let Some(opened) = response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok())
    {
        gate.bind(opened.to_owned(), user).await;
    }
    response
}

/// A 401 that tells the client to authenticate with a bearer key.
fn unauthorized(message: &'static str) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
