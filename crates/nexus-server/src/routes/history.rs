//! `/v1/history`: the caller's snapshots of research sessions — list by tags (any or all) and
//! full text, read, delete, and export one or all as JSON, Markdown or CSV (nexus-archive's
//! history exporter, shared with `nexus export --history`).

use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_archive::Format;
use nexus_db::HistoryId;
use nexus_db::history::{self, HistoryEntry, HistoryFilter, TagMatch};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ListPage, json};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
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
    let format = format(params.format.as_deref())?;
    let entry: HistoryEntry = history::get(state.store.db().reader(), &user, &id).await?;
    let mut body = Vec::new();
    nexus_archive::write_history(&[entry], format, &mut body).map_err(failed)?;
    Ok(respond(format, body))
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
    let format = format(params.format.as_deref())?;
    let mut body = Vec::new();
    nexus_archive::export_history(state.store.db(), &user, &filter.filter()?, format, &mut body)
        .await
        .map_err(failed)?;
    Ok(respond(format, body))
}

/// The export format `?format=` names: `json` (default), `md`/`markdown` or `csv`.
fn format(text: Option<&str>) -> Result<Format> {
    match text {
        None | Some("json") => Ok(Format::Json),
        Some("md" | "markdown") => Ok(Format::Markdown),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ServerError::BadRequest(format!("format must be json, md or csv, not {other:?}"))),
    }
}

/// The media type of an export.
fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json",
        Format::Markdown => "text/markdown; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
    }
}

/// The export response: `body` (written by nexus-archive's history exporter) with its type.
fn respond(format: Format, body: Vec<u8>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type(format))], body)
}

/// An exporter's failure: an internal error (writing to memory does not fail otherwise).
fn failed(error: nexus_archive::ArchiveError) -> ServerError {
    match error {
        nexus_archive::ArchiveError::Db(e) => ServerError::Db(e),
        other => ServerError::Export(other.to_string()),
    }
}
