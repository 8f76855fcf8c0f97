//! The handlers of `/v1`, one module per resource, and what they share: the list envelope
//! ([`ListPage`]) and the owner check of projects ([`check_owner`], [`owned_project`]).

pub mod checkpoints;
pub mod history;
pub mod knowledge;
pub mod me;
pub mod memory;
pub mod projects;
pub mod research;
pub mod search;
pub mod tasks;

use nexus_db::projects::Project;
use nexus_db::{Paged, ProjectId, UserId, projects as project_rows, users};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::OwnedProject;
use crate::error::{Result, ServerError};

/// One page of a list: the items (newest first) and the cursor of the next page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPage {
    /// The items of this page.
    pub items: Vec<serde_json::Value>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl ListPage {
    /// The page of `paged`'s rows as JSON.
    pub fn of<T: Serialize>(paged: Paged<T>) -> Result<Self> {
        let items = paged.items.iter().map(json).collect::<Result<Vec<_>>>()?;
        Ok(Self { items, next_cursor: paged.next_cursor })
    }
}

/// A row as a JSON value.
pub fn json<T: Serialize>(row: &T) -> Result<serde_json::Value> {
    serde_json::to_value(row).map_err(|e| ServerError::Export(e.to_string()))
}

/// Ok when `user` owns the project `id`; otherwise (another user's, or none) not found: for the
/// routes that act on a project without returning it. No statement when `proof` (the request's
/// [`OwnedProject`], from the statement that authenticated it) is of `id`; one otherwise.
pub async fn check_owner(
    state: &AppState,
    user: &UserId,
    id: &ProjectId,
    proof: Option<&OwnedProject>,
) -> Result<()> {
    if proof.is_some_and(|owned| owned.0 == *id) {
        return Ok(());
    }
    if !users::owns_project(state.store.db().reader(), user, id).await? {
        return Err(ServerError::NotFound { what: "project" });
    }
    Ok(())
}

/// The project `id` when `user` owns it ([`check_owner`]); otherwise (another user's, or none)
/// not found.
pub async fn owned_project(
    state: &AppState,
    user: &UserId,
    id: &ProjectId,
    proof: Option<&OwnedProject>,
) -> Result<Project> {
    check_owner(state, user, id, proof).await?;
    Ok(project_rows::get(state.store.db().reader(), id).await?)
}

/// Runs the future `make` builds on one of the state's local threads (`AppState::local`, one
/// per core, each driving many such futures at once). For the store's futures the compiler
/// cannot prove `Send` (hybrid search and the task workflow hold references across awaits
/// inside higher-ranked bounds), which a handler's future must be; the closure only moves owned
/// values across threads. (A blocking thread per request, as before, parked and woke at every
/// hand-off from sqlx: 12 % more CPU per recall under load, docs/server.md, "Sixth session".)
pub async fn off_thread<T, F, Fut>(state: &AppState, make: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + 'static,
{
    state
        .local
        .spawn_pinned(make)
        .await
        .map_err(|e| ServerError::Io { context: "a local task", source: std::io::Error::other(e) })?
}
