//! Bearer-key authentication: [`require_key`] turns `Authorization: Bearer <key>` into the
//! [`Caller`] handlers read, or answers 401. Keys are compared by hash and never logged. The
//! same statement checks the project the request names, if any ([`OwnedProject`]).

use axum::RequestPartsExt;
use axum::extract::{MatchedPath, Query, RawPathParams, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use nexus_db::{ProjectId, UserId, api_keys};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ServerError;

/// The authenticated user of a request (a request extension set by [`require_key`]).
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

/// Proof that the caller owns this project (a request extension set by [`require_key`] when the
/// request names a project the caller owns: the `{id}` of `/v1/projects/{id}…` or a `project`
/// query parameter). [`crate::routes::check_owner`] trusts it for that id only, so a handler
/// that reads the id otherwise still gets a check of its own.
#[derive(Debug, Clone)]
pub struct OwnedProject(pub ProjectId);

/// The `project` query parameter, when there is exactly one.
#[derive(Deserialize)]
struct ProjectParam {
    project: Option<String>,
}

/// The project a request names, as its handler will read it: the `{id}` of a
/// `/v1/projects/{id}…` route (percent-decoded), else the `project` query parameter.
async fn named_project(parts: &mut Parts) -> Option<ProjectId> {
    let project_route =
        parts.extensions.get::<MatchedPath>().is_some_and(|m| m.as_str().starts_with("/v1/projects/{id}"));
    if project_route {
        let params = parts.extract::<RawPathParams>().await.ok()?;
        return params.iter().find(|(name, _)| *name == "id").map(|(_, id)| ProjectId::from(id.to_owned()));
    }
    let Query(param) = parts.extract::<Query<ProjectParam>>().await.ok()?;
    param.project.map(ProjectId::from)
}

/// Middleware: authenticates the request's bearer key and records the caller, or answers 401;
/// in the same statement, checks the project the request names ([`OwnedProject`]). The key's
/// `last_used_at` is written at most once a minute ([`api_keys::authenticate`]).
pub async fn require_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ServerError> {
    let (mut parts, body) = request.into_parts();
    let project = named_project(&mut parts).await;
    let key = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(api_keys::bearer)
        .ok_or(ServerError::Unauthorized)?;
    let found = api_keys::authenticate(state.store.db(), key, project.as_ref())
        .await?
        .ok_or(ServerError::Unauthorized)?;
    tracing::Span::current().record("user", tracing::field::display(&found.key.user_id));
    if let Some(project) = project.filter(|_| found.owns_project) {
        parts.extensions.insert(OwnedProject(project));
    }
    parts.extensions.insert(Caller(found.key.user_id));
    Ok(next.run(Request::from_parts(parts, body)).await)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;

    use super::*;

    type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    /// What [`named_project`] reads from requests to a real server on 127.0.0.1 whose routes
    /// are nested under `/v1` as the API's are.
    #[tokio::test]
    async fn the_named_project_is_the_one_the_handler_reads() -> TestResult {
        async fn named(request: Request, _next: Next) -> String {
            let (mut parts, _) = request.into_parts();
            named_project(&mut parts).await.map_or_else(|| "none".to_owned(), |p| p.to_string())
        }
        let v1 = Router::new()
            .route("/projects", get(|| async { "" }))
            .route("/projects/{id}/tasks/{task_id}/workflow", get(|| async { "" }))
            .route("/projects/{id}", get(|| async { "" }))
            .route("/memory", get(|| async { "" }))
            .route("/knowledge/{id}", get(|| async { "" }))
            .route_layer(axum::middleware::from_fn(named));
        let app = Router::new().nest("/v1", v1);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        for (path, expected) in [
            ("/v1/projects/p%201", "p 1"),
            ("/v1/projects/p1/tasks/t1/workflow?project=p2", "p1"),
            ("/v1/projects?project=p2", "p2"),
            ("/v1/memory?q=x&project=p%2F3", "p/3"),
            ("/v1/memory?q=x", "none"),
            ("/v1/memory?project=a&project=b", "none"),
            ("/v1/knowledge/k1", "none"),
        ] {
            let body = client.get(format!("{base}{path}")).send().await?.text().await?;
            assert_eq!(body, expected, "{path}");
        }
        server.abort();
        Ok(())
    }
}
