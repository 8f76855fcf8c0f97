//! Naming a project: by id first, then by name; an unknown one is an error listing the
//! projects there are, so that an agent can retry with a right name.

use nexus_store::Store;
use nexus_store::db::projects::{self, Project, ProjectFilter};
use nexus_store::state::StateError;

use crate::error::{McpError, Result};

/// How many projects an unknown-project error lists at most.
const LISTED: usize = 20;

/// The project named `name_or_id`.
pub(crate) async fn find(store: &Store, name_or_id: &str) -> Result<Project> {
    match nexus_store::state::find_project(store.db(), name_or_id).await {
        Ok(project) => Ok(project),
        Err(StateError::UnknownProject(name)) => {
            let all = projects::list(store.db().reader(), &ProjectFilter::default()).await?;
            let mut known: Vec<String> =
                all.iter().take(LISTED).map(|p| format!("{} ({})", p.name, p.id)).collect();
            if all.len() > LISTED {
                known.push(format!("and {} more", all.len() - LISTED));
            }
            let known = if known.is_empty() { "none yet".to_owned() } else { known.join(", ") };
            Err(McpError::UnknownProject { name, known })
        }
        Err(e) => Err(e.into()),
    }
}
