//! The crate's one error type, [`ServerError`], and how it becomes an
//! `application/problem+json` response (RFC 9457) with a stable `type` per kind of error.
//! Bodies never echo a request's credentials; an internal error's detail is logged, not sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nexus_db::{ConstraintKind, DbError};
use nexus_search::SearchError;
use nexus_state::StateError;
use nexus_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Result alias used throughout nexus-server.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No credentials, or a key that is unknown or revoked.
    #[error("a valid API key is required (Authorization: Bearer <key>)")]
    Unauthorized,
    /// The resource does not exist for this user (missing, or another user's).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// The resource existed but has expired.
    #[error("{what} has expired")]
    Gone {
        /// What expired.
        what: &'static str,
    },
    /// The request is malformed or a value is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the server accepts.
    #[error("the request body is larger than the server accepts")]
    TooLarge,
    /// The database failed or refused a write.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The store (memory, search, documents) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Project state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A search failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Listening, serving or a background task failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An export could not be written.
    #[error("export failed: {0}")]
    Export(String),
    /// A project's `root_path` that the API does not allow (see `docs/server.md`, "Project
    /// roots"): not an `api://` name, nor a directory inside the server's projects directory.
    #[error("root_path {root:?} is not allowed: {reason}")]
    RootNotAllowed {
        /// The root that was asked for.
        root: String,
        /// Why it is refused.
        reason: String,
    },
}

/// A problem detail (RFC 9457), the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of error (`urn:nexus:problem:<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
}

impl ServerError {
    /// The status, the kind's short name and title, and the detail to send.
    fn classify(&self) -> (StatusCode, &'static str, &'static str, String) {
        use StatusCode as S;
        let detail = self.to_string();
        match self {
            Self::Unauthorized => (S::UNAUTHORIZED, "unauthorized", "Unauthorized", detail),
            // Every 404 reads the same, whatever was looked for and whoever owns it.
            Self::NotFound { .. } => {
                (S::NOT_FOUND, "not-found", "Not found", "resource not found".to_owned())
            }
            Self::Gone { .. } => (S::GONE, "expired", "Expired", detail),
            Self::BadRequest(_) => (S::BAD_REQUEST, "invalid-request", "Invalid request", detail),
            Self::TooLarge => (S::PAYLOAD_TOO_LARGE, "too-large", "Payload too large", detail),
            Self::RootNotAllowed { .. } => {
                (S::BAD_REQUEST, "root-not-allowed", "Project root not allowed", detail)
            }
            Self::Db(e) => classify_db(e, detail),
            Self::Search(SearchError::Db(e)) => classify_db(e, detail),
            Self::Store(StoreError::Db(e)) => classify_db(e, detail),
            Self::Store(StoreError::TooLarge { .. }) => {
                (S::PAYLOAD_TOO_LARGE, "too-large", "Payload too large", detail)
            }
            Self::State(e) => classify_state(e, detail),
            Self::Search(
                SearchError::InvalidCursor(_)
                | SearchError::InvalidOption { .. }
                | SearchError::MissingText { .. },
            )
            | Self::Search(SearchError::Fts(_)) => {
                (S::BAD_REQUEST, "invalid-request", "Invalid request", detail)
            }
            _ => internal(),
        }
    }
}

/// The kind of a project-state error: each refusal of the state's rules has its own `type`.
fn classify_state(error: &StateError, detail: String) -> (StatusCode, &'static str, &'static str, String) {
    use StatusCode as S;
    match error {
        StateError::Db(e) => classify_db(e, detail),
        StateError::UnknownProject(_) => {
            (S::NOT_FOUND, "not-found", "Not found", "resource not found".to_owned())
        }
        StateError::Conflict { .. } => {
            (S::CONFLICT, "state-conflict", "State changed since it was loaded", detail)
        }
        StateError::UnfinishedDependency { .. } => {
            (S::CONFLICT, "unfinished-dependency", "A dependency is not completed", detail)
        }
        StateError::UnknownDependency { .. } => {
            (S::BAD_REQUEST, "unknown-dependency", "Unknown dependency", detail)
        }
        StateError::UnknownAgent { .. } => (S::BAD_REQUEST, "unknown-agent", "Unknown agent", detail),
        StateError::UnknownTask { .. } => (S::BAD_REQUEST, "unknown-task", "Unknown task", detail),
        StateError::InvalidState { .. } => (S::BAD_REQUEST, "invalid-state", "Invalid state", detail),
        StateError::UnsupportedVersion { .. } => {
            (S::BAD_REQUEST, "unsupported-version", "Unsupported state version", detail)
        }
        StateError::Markdown { .. } => (S::BAD_REQUEST, "invalid-markdown", "Invalid STATE.md", detail),
        StateError::BadCheckpoint { .. } => {
            (S::CONFLICT, "bad-checkpoint", "The checkpoint cannot be restored", detail)
        }
        _ => internal(),
    }
}

/// The kind of a database error; a missing row reads the same whatever the table.
fn classify_db(error: &DbError, detail: String) -> (StatusCode, &'static str, &'static str, String) {
    use StatusCode as S;
    match error {
        DbError::NotFound { .. } => (S::NOT_FOUND, "not-found", "Not found", "resource not found".to_owned()),
        DbError::VersionConflict { .. } => (S::CONFLICT, "version-conflict", "Version conflict", detail),
        DbError::InvalidTransition { .. } => {
            (S::CONFLICT, "invalid-transition", "Invalid transition", detail)
        }
        DbError::Constraint { kind: ConstraintKind::Unique, .. } => {
            (S::CONFLICT, "conflict", "Conflict", detail)
        }
        DbError::Constraint { .. } | DbError::InvalidValue { .. } => {
            (S::BAD_REQUEST, "invalid-request", "Invalid request", detail)
        }
        _ => internal(),
    }
}

fn internal() -> (StatusCode, &'static str, &'static str, String) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "internal error (see the server log)".to_owned(),
    )
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail) = self.classify();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "request refused");
        }
        let problem = Problem {
            kind: format!("urn:nexus:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
