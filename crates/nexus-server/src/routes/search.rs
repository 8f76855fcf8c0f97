//! `/v1/search`: hybrid search (keywords and vectors, fused) over one of the caller's
//! projects, or over their knowledge when no project is named.

use axum::extract::{Extension, State};
use nexus_db::{ProjectId, users};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ListPage, check_owner, json};
use crate::app::AppState;
use crate::auth::{Caller, OwnedProject};
use crate::error::{Result, ServerError};
use crate::extract::Params;
use crate::responses::QueryReadErrors;

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query.
    pub q: String,
    /// A project the caller owns (default: the caller's knowledge).
    pub project: Option<String>,
    /// Hits per page (1–100, default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Hybrid search, best first; each item is `{score, source: {kind, row}, snippet}`.
#[utoipa::path(get, path = "/v1/search", tag = "search", params(SearchParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryReadErrors))]
pub async fn search(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    owned: Option<Extension<OwnedProject>>,
    Params(params): Params<SearchParams>,
) -> Result<axum::Json<ListPage>> {
    let project = match params.project {
        Some(id) => {
            let id = ProjectId::from(id);
            check_owner(&state, &user, &id, owned.as_deref()).await?;
            id
        }
        None => users::knowledge_project(state.store.db().reader(), &user).await?,
    };
    let limit = params.limit.unwrap_or(10);
    if limit == 0 || limit > 100 {
        return Err(ServerError::BadRequest("limit must be 1 to 100".to_owned()));
    }
    if params.q.trim().is_empty() {
        return Err(ServerError::BadRequest("q must not be empty".to_owned()));
    }
    let store = state.store.clone();
    let page = super::off_thread(&state, move || async move {
        let mut search = store.search().text(params.q).project(project).limit(limit);
        if let Some(cursor) = &params.cursor {
            search = search.after(cursor)?;
        }
        let results = search.execute().await?;
        let items = results.hits.iter().map(json).collect::<Result<Vec<_>>>()?;
        Ok(ListPage { items, next_cursor: results.next })
    })
    .await?;
    Ok(axum::Json(page))
}
