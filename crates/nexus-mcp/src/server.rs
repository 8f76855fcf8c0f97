//! [`NexusServer`]: the MCP server handler: the store, the roots `index` may read, the tool
//! router (the tools are in [`crate::tools`]) and the resources.

use std::sync::Arc;

use nexus_store::Store;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    ErrorData, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool_handler};

use crate::error::McpError;
use crate::resources;
use crate::roots::Roots;

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
    tool_router: ToolRouter<Self>,
}

impl NexusServer {
    /// A server over `store` whose `index` tool reads only inside `roots`.
    pub fn new(store: Store, roots: Roots) -> Self {
        Self { store, roots: Arc::new(roots), tool_router: Self::tool_router() }
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
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        match resources::list(&self.store).await {
            Ok(all) => Ok(ListResourcesResult::with_all_items(all)),
            Err(e) => Err(resource_error("(list)", e)),
        }
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match resources::read(&self.store, &request.uri).await {
            Ok(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Err(e) => Err(resource_error(&request.uri, e)),
        }
    }
}
