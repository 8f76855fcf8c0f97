//! `/v1/history`: the caller's snapshots of research sessions — list by tags (any or all) and
//! full text, read, delete, and export one or all as JSON, Markdown or CSV.

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_db::history::{self, HistoryEntry, HistoryFilter, TagMatch};
use nexus_db::{Cursor, HistoryId, UserId};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ListPage, json};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::export::{Format, render};
use crate::extract::{Id, PageParams, Params};
use crate::responses::{QueryErrors, QueryReadErrors, ReadErrors};

/// Filters of the history list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Comma-separated tags.
    pub tags: Option<String>,
    /// `any` (default) or `all` of the tags.
    #[serde(rename = "match")]
    #[param(rename = "match")]
    pub tag_match: Option<String>,
    /// Words to find in titles and reports.
    pub q: Option<String>,
}

impl HistoryParams {
    fn filter(&self) -> Result<HistoryFilter> {
        let tags = self.tags.as_deref().map_or_else(Vec::new, |t| {
            t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
        });
        let tag_match = match self.tag_match.as_deref() {
            None | Some("any") => TagMatch::Any,
            Some("all") => TagMatch::All,
            Some(other) => {
                return Err(ServerError::BadRequest(format!("match must be any or all, not {other:?}")));
            }
        };
        Ok(HistoryFilter { tags, tag_match, text: self.q.clone().filter(|q| !q.trim().is_empty()) })
    }
}

/// The format of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default), `md` or `csv`.
    pub format: Option<String>,
}

/// Lists the caller's history, newest first.
#[utoipa::path(get, path = "/v1/history", tag = "history", params(HistoryParams, PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryErrors))]
pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Params(params): Params<HistoryParams>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    let paged = history::list(state.store.db().reader(), &user, &params.filter()?, &page.cursor()?).await?;
    Ok(axum::Json(ListPage::of(paged)?))
}

/// One entry of the caller's history.
#[utoipa::path(get, path = "/v1/history/{id}", tag = "history", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), ReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<HistoryId>,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(json(&history::get(state.store.db().reader(), &user, &id).await?)?))
}

/// Deletes one entry of the caller's history.
#[utoipa::path(delete, path = "/v1/history/{id}", tag = "history", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), ReadErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<HistoryId>,
) -> Result<StatusCode> {
    history::delete(state.store.db().writer(), &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Exports one entry of the caller's history.
#[utoipa::path(get, path = "/v1/history/{id}/export", tag = "history", params(("id" = String, Path), ExportParams),
    security(("bearer" = [])),
    responses((status = 200, content((serde_json::Value = "application/json"), (String = "text/markdown"), (String = "text/csv"))), QueryReadErrors))]
pub async fn export_one(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<HistoryId>,
    Params(params): Params<ExportParams>,
) -> Result<impl IntoResponse> {
    let format = Format::parse(params.format.as_deref())?;
    let entry = history::get(state.store.db().reader(), &user, &id).await?;
    respond(format, &[entry])
}

/// Exports the caller's whole history (matching the same filters as the list).
#[utoipa::path(get, path = "/v1/history/export", tag = "history", params(HistoryParams, ExportParams),
    security(("bearer" = [])),
    responses((status = 200, content((serde_json::Value = "application/json"), (String = "text/markdown"), (String = "text/csv"))), QueryErrors))]
pub async fn export_all(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Params(filter): Params<HistoryParams>,
    Params(params): Params<ExportParams>,
) -> Result<impl IntoResponse> {
    let format = Format::parse(params.format.as_deref())?;
    let entries = all_entries(&state, &user, &filter.filter()?).await?;
    respond(format, &entries)
}

/// Every entry matching `filter`, page by page.
async fn all_entries(state: &AppState, user: &UserId, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>> {
    let mut cursor = Cursor::first(nexus_db::MAX_PAGE);
    let mut entries = Vec::new();
    loop {
        let page = history::list(state.store.db().reader(), user, filter, &cursor).await?;
        entries.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor.after = Some(next),
            None => return Ok(entries),
        }
    }
}

fn respond(format: Format, entries: &[HistoryEntry]) -> Result<impl IntoResponse + use<>> {
    let body = render(format, entries)?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body))
}
