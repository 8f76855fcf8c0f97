//! [`NexusServer`]: the MCP server handler: the store, the roots `index` may read, the tool
//! router (the tools are in [`crate::tools`]), the resources, and whose projects a request may
//! reach ([`Scope`]: every project over stdio, the key's user's over HTTP).

use std::sync::Arc;

use nexus_store::Store;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    ErrorData, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool_handler};

use crate::auth::Authenticated;
use crate::error::{McpError, Result};
use crate::resources;
use crate::roots::Roots;
use crate::scope::{Caller, Scope};

/// What the server tells a client about itself at initialization.
const INSTRUCTIONS: &str = "Nexus: persistent memory, code search and project state in one SQLite file. \
Use remember/recall for episodic memory of a project, index then search for code, state for the \
project's STATE.md (pass markdown to apply an edited one), tasks_ready/task_start/task_complete/\
task_fail for the task workflow, checkpoint, continue_point_save and resume to pick work up later. \
A project is named by name or id; the index tool creates a project.";

/// The MCP server handler over one [`Store`]. Cheap to clone (one per HTTP session).
#[derive(Debug, Clone)]
pub struct NexusServer {
    pub(crate) store: Store,
    pub(crate) roots: Arc<Roots>,
    /// Served over HTTP with keys: every request must carry an authenticated user.
    keyed: bool,
    tool_router: ToolRouter<Self>,
}

impl NexusServer {
    /// A server over `store` whose `index` tool reads only inside `roots`.
    pub fn new(store: Store, roots: Roots) -> Self {
        Self { store, roots: Arc::new(roots), keyed: false, tool_router: Self::tool_router() }
    }

    /// This server behind bearer keys: each request reaches only its user's projects, and a
    /// request without an authenticated user reaches nothing.
    pub(crate) fn keyed(self) -> Self {
        Self { keyed: true, ..self }
    }

    /// What the request of `context` may reach: over stdio every project, behind keys the
    /// projects of the user the HTTP layer authenticated.
    pub(crate) fn scope(&self, context: &RequestContext<RoleServer>) -> Result<Scope> {
        let caller = if self.keyed {
            let user = context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Authenticated>())
                .ok_or(McpError::Unauthenticated)?;
            Caller::User(user.0.clone())
        } else {
            Caller::Local
        };
        Ok(Scope { store: self.store.clone(), caller })
    }

    /// The store served.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// A failed resource read as the protocol error a client expects.
fn resource_error(uri: &str, error: McpError) -> ErrorData {
    match error {
        McpError::UnknownResource(_) => ErrorData::resource_not_found(error.to_string(), None),
        McpError::Unauthenticated => ErrorData::invalid_request(error.to_string(), None),
        other => {
            tracing::warn!(uri, error = %other, "resource read failed");
            ErrorData::internal_error(other.to_string(), None)
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NexusServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(rmcp::model::Implementation::new("nexus", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let scope = self.scope(&context).map_err(|e| resource_error("(list)", e))?;
        match resources::list(&scope).await {
            Ok(all) => Ok(ListResourcesResult::with_all_items(all)),
            Err(e) => Err(resource_error("(list)", e)),
        }
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let scope = self.scope(&context).map_err(|e| resource_error(&request.uri, e))?;
        match resources::read(&scope, &request.uri).await {
            Ok(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Err(e) => Err(resource_error(&request.uri, e)),
        }
    }
}
