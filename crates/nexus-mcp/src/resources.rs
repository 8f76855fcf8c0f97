//! The resources: each project's STATE.md (`nexus://projects/{id}/STATE.md`) and its latest
//! checkpoint (`nexus://projects/{id}/checkpoints/latest`, JSON: the checkpoint's summary and
//! the STATE.md it captured). A caller sees and reads only the projects in its scope.

use nexus_store::db::{DbError, ProjectId, checkpoints, projects};
use nexus_store::state::{self, CheckpointSummary, markdown};
use rmcp::model::{Resource, ResourceContents};

use crate::error::{McpError, Result};
use crate::scope::Scope;

const PREFIX: &str = "nexus://projects/";
const STATE_MD: &str = "/STATE.md";
const LATEST_CHECKPOINT: &str = "/checkpoints/latest";

/// The URI of a project's STATE.md.
pub fn state_uri(project_id: &str) -> String {
    format!("{PREFIX}{project_id}{STATE_MD}")
}

/// The URI of a project's latest checkpoint.
pub fn checkpoint_uri(project_id: &str) -> String {
    format!("{PREFIX}{project_id}{LATEST_CHECKPOINT}")
}

/// The STATE.md of every project in reach, and its latest checkpoint when it has one.
pub(crate) async fn list(scope: &Scope) -> Result<Vec<Resource>> {
    let store = &scope.store;
    let mut resources = Vec::new();
    for project in scope.projects().await? {
        resources.push(
            Resource::new(state_uri(&project.id), format!("{} STATE.md", project.name))
                .with_description(format!(
                    "Project {}: features, tasks, requirements, progress",
                    project.name
                ))
                .with_mime_type("text/markdown"),
        );
        if checkpoints::latest(store.db().reader(), &project.id).await?.is_some() {
            resources.push(
                Resource::new(checkpoint_uri(&project.id), format!("{} latest checkpoint", project.name))
                    .with_description(format!("The latest checkpoint of project {}", project.name))
                    .with_mime_type("application/json"),
            );
        }
    }
    Ok(resources)
}

/// The contents of the resource at `uri` (of a project in reach).
pub(crate) async fn read(scope: &Scope, uri: &str) -> Result<ResourceContents> {
    let store = &scope.store;
    let unknown = || McpError::UnknownResource(uri.to_owned());
    let rest = uri.strip_prefix(PREFIX).ok_or_else(unknown)?;
    let in_reach = |id: &str| {
        let id = ProjectId::from(id);
        async move { if scope.reaches(&id).await? { Ok(id) } else { Err(unknown()) } }
    };
    if let Some(id) = rest.strip_suffix(STATE_MD) {
        let project = match projects::get(store.db().reader(), &in_reach(id).await?).await {
            Ok(project) => project,
            Err(DbError::NotFound { .. }) => return Err(unknown()),
            Err(e) => return Err(e.into()),
        };
        let state = state::load(store.db(), &project.id).await?;
        return Ok(ResourceContents::text(markdown::export(&state), uri).with_mime_type("text/markdown"));
    }
    if let Some(id) = rest.strip_suffix(LATEST_CHECKPOINT) {
        let latest =
            checkpoints::latest(store.db().reader(), &in_reach(id).await?).await?.ok_or_else(unknown)?;
        let captured = state::captured_state(&latest)?;
        let body = serde_json::json!({
            "checkpoint": CheckpointSummary::from(&latest),
            "state_md": markdown::export(&captured),
        });
        return Ok(ResourceContents::text(serde_json::to_string_pretty(&body)?, uri)
            .with_mime_type("application/json"));
    }
    Err(unknown())
}
