//! Extractors whose rejections are problem+json like every other error ([`Body`], [`Text`],
//! [`Params`], [`Id`]), and the cursor parameters every list takes ([`PageParams`]).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::ServerError;

/// A JSON body; a malformed one is a 400 problem, an oversized one 413.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// A 413 for a body over the limit, otherwise a 400 with the rejection's text.
fn json_rejection(rejection: &JsonRejection) -> ServerError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ServerError::TooLarge;
    }
    ServerError::BadRequest(rejection.body_text())
}

/// A UTF-8 text body (such as STATE.md); one that is not UTF-8 is a 400 problem, an oversized
/// one 413.
#[derive(Debug)]
pub struct Text(pub String);

impl<S: Send + Sync> FromRequest<S> for Text {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match String::from_request(req, state).await {
            Ok(text) => Ok(Self(text)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ServerError::TooLarge)
            }
            Err(rejection) => Err(ServerError::BadRequest(rejection.body_text())),
        }
    }
}

/// Query parameters; malformed ones are a 400 problem.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| ServerError::BadRequest(rejection.body_text()))
    }
}

/// Path parameters; malformed ones are a 400 problem.
#[derive(Debug)]
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Id<T> {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection: PathRejection| ServerError::BadRequest(rejection.body_text()))
    }
}

/// Cursor pagination of every list: `?cursor=` (the previous page's `next_cursor`) and
/// `?limit=` (1–1000, default 50).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Rows per page (1–1000, default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

impl PageParams {
    /// The database cursor.
    pub fn cursor(&self) -> Result<nexus_db::Cursor, ServerError> {
        let limit = self.limit.unwrap_or(50);
        if limit == 0 || limit > nexus_db::MAX_PAGE {
            return Err(ServerError::BadRequest(format!("limit must be 1 to {}", nexus_db::MAX_PAGE)));
        }
        Ok(nexus_db::Cursor { after: self.cursor.clone(), limit })
    }

    /// One page of `items`, a list computed whole (a project's checkpoints, ready tasks,
    /// continue points): the cursor is the offset of the page's first item.
    pub fn slice<T>(&self, items: Vec<T>) -> Result<nexus_db::Paged<T>, ServerError> {
        let cursor = self.cursor()?;
        let start = match cursor.after.as_deref() {
            None => 0,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| ServerError::BadRequest(format!("invalid cursor {text:?}")))?,
        };
        let end = start.saturating_add(cursor.limit as usize);
        let next_cursor = (end < items.len()).then(|| end.to_string());
        let items = items.into_iter().skip(start).take(cursor.limit as usize).collect();
        Ok(nexus_db::Paged { items, next_cursor })
    }
}
