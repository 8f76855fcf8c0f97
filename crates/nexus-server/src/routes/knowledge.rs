//! `/v1/knowledge`: the caller's files, URLs and texts. Creating one answers at once (202,
//! status `processing`); a background job — for a URL given without content, first fetching
//! the page ([`crate::fetch`]) — chunks and embeds it into the caller's knowledge (searched by
//! `/v1/search` without a project) and sets `completed`, or `failed` with why.

use axum::extract::{Extension, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use nexus_db::knowledge::{self, Knowledge, KnowledgeFilter, KnowledgeKind, KnowledgeStatus, NewKnowledge};
use nexus_db::{KnowledgeId, UserId, users};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ListPage, json};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::extract::{Body, Id, PageParams, Params};
use crate::fetch;
use crate::responses::{CreateErrors, QueryErrors, ReadErrors};

/// A text or URL item (JSON).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateKnowledge {
    /// `text` or `url` (files are uploaded as multipart/form-data).
    pub kind: String,
    /// Title.
    pub title: String,
    /// The text. For a URL: empty to have the server fetch the page (HTML reduced to text),
    /// or the page's text to use as it is.
    #[serde(default)]
    pub content: String,
    /// The URL (http or https), for kind `url`.
    pub url: Option<String>,
}

/// A file upload (multipart/form-data).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Describes the multipart body in the OpenAPI document; parsed by hand.
pub struct UploadKnowledge {
    /// The file (UTF-8 text).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
    /// Title (default: the file's name).
    pub title: Option<String>,
}

/// Creates an item from JSON (text, url) or a multipart upload (field `file`, optional
/// `title`); answers 202 while it is processed.
#[utoipa::path(post, path = "/v1/knowledge", tag = "knowledge", security(("bearer" = [])),
    request_body(content((CreateKnowledge = "application/json"), (UploadKnowledge = "multipart/form-data"))),
    responses((status = 202, body = serde_json::Value), CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    request: Request,
) -> Result<impl IntoResponse> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (new, failure) = if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ServerError::BadRequest(e.body_text()))?;
        upload(&user, form).await?
    } else {
        let Body(body) = Body::<CreateKnowledge>::from_request(request, &state).await?;
        from_json(&user, body)?
    };
    let item = knowledge::create(state.store.db().writer(), new).await?;
    let job_state = state.clone();
    let job_item = item.clone();
    state.spawn_job(async move { process(job_state, job_item, failure).await });
    Ok((StatusCode::ACCEPTED, axum::Json(json(&item)?)))
}

/// The item a JSON body describes, and a reason it cannot be processed (if any).
fn from_json(user: &UserId, body: CreateKnowledge) -> Result<(NewKnowledge, Option<String>)> {
    let kind = match body.kind.as_str() {
        "text" => KnowledgeKind::Text,
        "url" => KnowledgeKind::Url,
        _ => {
            return Err(ServerError::BadRequest(
                "kind must be text or url (upload files as multipart)".to_owned(),
            ));
        }
    };
    if body.title.trim().is_empty() {
        return Err(ServerError::BadRequest("title must not be empty".to_owned()));
    }
    if kind == KnowledgeKind::Url {
        let url = body.url.as_deref().unwrap_or_default();
        if url.trim().is_empty() {
            return Err(ServerError::BadRequest("a url item needs a url".to_owned()));
        }
        fetch::parse_url(url).map_err(ServerError::BadRequest)?;
    }
    // A URL without content is fetched by the job.
    let failure = (kind == KnowledgeKind::Text && body.content.trim().is_empty())
        .then(|| "no content to index".to_owned());
    let mut new = NewKnowledge::text(user, body.title, body.content);
    new.kind = kind;
    new.url = body.url;
    Ok((new, failure))
}

/// The item a multipart upload describes, and a reason it cannot be processed (if any).
async fn upload(user: &UserId, mut form: Multipart) -> Result<(NewKnowledge, Option<String>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge
        } else {
            ServerError::BadRequest(e.body_text())
        }
    };
    let (mut title, mut file) = (None, None);
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("title") => title = Some(field.text().await.map_err(bad)?),
            Some("file") => {
                let name = field.file_name().map(str::to_owned);
                let media = field.content_type().map(str::to_owned);
                file = Some((name, media, field.bytes().await.map_err(bad)?));
            }
            _ => {}
        }
    }
    let Some((name, media, bytes)) = file else {
        return Err(ServerError::BadRequest("the form has no `file` field".to_owned()));
    };
    let (content, failure) = match String::from_utf8(bytes.to_vec()) {
        Ok(text) if text.trim().is_empty() => (text, Some("the file is empty".to_owned())),
        Ok(text) => (text, None),
        Err(_) => (String::new(), Some("the file is not UTF-8 text".to_owned())),
    };
    let title = title
        .filter(|t| !t.trim().is_empty())
        .or_else(|| name.clone())
        .unwrap_or_else(|| "upload".to_owned());
    let mut new = NewKnowledge::text(user, title, content);
    new.kind = KnowledgeKind::File;
    new.file_name = name;
    new.content_type = media;
    Ok((new, failure))
}

/// The background job: fetch a URL given without content, index the item's content into the
/// user's knowledge, then record the outcome on the item.
async fn process(state: AppState, item: Knowledge, failure: Option<String>) {
    let outcome = match failure {
        Some(reason) => Err(reason),
        None => fetch_and_index(&state, item.clone()).await,
    };
    if let Err(reason) = &outcome {
        tracing::warn!(knowledge = %item.id, %reason, "knowledge item failed");
    }
    match knowledge::finish(state.store.db().writer(), &item.id, outcome).await {
        Ok(_) => {}
        // Deleted while it was processed: drop the chunks just written.
        Err(nexus_db::DbError::NotFound { .. }) => {
            if let Ok(project) = users::knowledge_project(state.store.db().reader(), &item.user_id).await
                && let Err(error) = state.store.remove_document(&project, &item.chunk_path()).await
            {
                tracing::error!(knowledge = %item.id, %error, "cannot remove a deleted item's chunks");
            }
        }
        Err(error) => {
            tracing::error!(knowledge = %item.id, %error, "cannot record the knowledge item's status")
        }
    }
}

/// Fetches the page of a URL item without content (recording its text on the item), then
/// indexes the item; the error is the reason the item failed.
async fn fetch_and_index(state: &AppState, mut item: Knowledge) -> std::result::Result<i64, String> {
    if item.kind == KnowledgeKind::Url && item.content.trim().is_empty() {
        let url = item.url.clone().unwrap_or_default();
        let fetcher = state.fetcher.as_ref().as_ref()?;
        let page = fetcher.fetch(&url).await.map_err(|reason| format!("fetching {url}: {reason}"))?;
        item = knowledge::set_fetched(state.store.db().writer(), &item.id, &page.text, &page.content_type)
            .await
            .map_err(|e| e.to_string())?;
    }
    index(state, &item).await.map_err(|e| e.to_string())
}

async fn index(state: &AppState, item: &Knowledge) -> Result<i64> {
    let project = users::knowledge_project(state.store.db().reader(), &item.user_id).await?;
    let chunks = state.store.index_document(&project, &item.chunk_path(), &item.content).await?;
    Ok(i64::try_from(chunks).unwrap_or(i64::MAX))
}

/// Filters of the knowledge list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeParams {
    /// Only this kind: file, url or text.
    pub kind: Option<String>,
    /// Only this status: processing, completed or failed.
    pub status: Option<String>,
    /// Only titles containing this text.
    pub title: Option<String>,
}

/// Lists the caller's items, newest first.
#[utoipa::path(get, path = "/v1/knowledge", tag = "knowledge", params(KnowledgeParams, PageParams), security(("bearer" = [])),
    responses((status = 200, body = ListPage), QueryErrors))]
pub async fn list(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Params(filter): Params<KnowledgeParams>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<ListPage>> {
    let kind = filter
        .kind
        .as_deref()
        .map(str::parse::<KnowledgeKind>)
        .transpose()
        .map_err(ServerError::BadRequest)?;
    let status = filter
        .status
        .as_deref()
        .map(str::parse::<KnowledgeStatus>)
        .transpose()
        .map_err(ServerError::BadRequest)?;
    let filter = KnowledgeFilter { kind, status, title: filter.title };
    let paged = knowledge::list(state.store.db().reader(), &user, &filter, &page.cursor()?).await?;
    Ok(axum::Json(ListPage::of(paged)?))
}

/// One of the caller's items.
#[utoipa::path(get, path = "/v1/knowledge/{id}", tag = "knowledge", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = serde_json::Value), ReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<KnowledgeId>,
) -> Result<axum::Json<serde_json::Value>> {
    Ok(axum::Json(json(&knowledge::get(state.store.db().reader(), &user, &id).await?)?))
}

/// Deletes one of the caller's items and its chunks.
#[utoipa::path(delete, path = "/v1/knowledge/{id}", tag = "knowledge", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), ReadErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(Caller(user)): Extension<Caller>,
    Id(id): Id<KnowledgeId>,
) -> Result<StatusCode> {
    let db = state.store.db();
    let item = knowledge::get(db.reader(), &user, &id).await?;
    let project = users::knowledge_project(db.reader(), &user).await?;
    state.store.remove_document(&project, &item.chunk_path()).await?;
    knowledge::delete(db.writer(), &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
