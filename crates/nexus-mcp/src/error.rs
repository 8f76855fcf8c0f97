//! [`McpError`]: why a tool call, a resource read or the server failed, worded so that an
//! agent can correct its call from the message alone.

use nexus_store::StoreError;
use nexus_store::db::DbError;
use nexus_store::search::SearchError;
use nexus_store::state::StateError;

/// The crate's result type.
pub type Result<T, E = McpError> = std::result::Result<T, E>;

/// Errors of nexus-mcp. In a tool call each becomes a tool result with `isError: true`
/// whose text is the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// No project has this name or id.
    #[error(
        "unknown project {name:?}; known projects: {known} (name a project by name or id; the index tool creates one)"
    )]
    UnknownProject {
        /// The name or id given.
        name: String,
        /// The names and ids of the projects there are.
        known: String,
    },
    /// An argument has a value the tool cannot use.
    #[error("argument {argument}: {reason}")]
    Invalid {
        /// The argument's name.
        argument: &'static str,
        /// What is wrong with it and what is accepted.
        reason: String,
    },
    /// The arguments do not match the tool's schema (a missing argument, a wrong type).
    #[error("invalid arguments for {tool}: {reason}; see the tool's input schema")]
    Arguments {
        /// The tool called.
        tool: String,
        /// The deserializer's message.
        reason: String,
    },
    /// `index` was given a path outside the roots the server may read.
    #[error(
        "{path} is outside the roots this server may index ({roots}); give a directory inside one of them"
    )]
    OutsideRoots {
        /// The path, resolved.
        path: String,
        /// The roots.
        roots: String,
    },
    /// A path that cannot be resolved (missing, unreadable).
    #[error("cannot use path {path}: {source}")]
    Path {
        /// The path as given.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The client cancelled the request.
    #[error("cancelled by the client ({what})")]
    Cancelled {
        /// What was done before the cancellation.
        what: String,
    },
    /// A resource URI this server does not serve.
    #[error("unknown resource {0}; list the resources to see the URIs served")]
    UnknownResource(String),
    /// The store failed (embedding, indexing, searching, a database error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The project state refused the change or failed (unknown task, unfinished dependency,
    /// a stale STATE.md, a database error).
    #[error(transparent)]
    State(#[from] StateError),
    /// The database failed or refused a value (with the table and column).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A search was refused or failed (a malformed query, an embedder failure).
    #[error(transparent)]
    Search(#[from] SearchError),
    /// A request over HTTP reached a tool without an authenticated user (a bug of the HTTP
    /// layer, which refuses such requests first).
    #[error("not authenticated: send Authorization: Bearer <key>")]
    Unauthenticated,
    /// A tool's work panicked or was aborted (a bug: report it with the call).
    #[error("internal error (the call was not completed): {0}")]
    Internal(String),
    /// A result could not be encoded as JSON.
    #[error("cannot encode the result: {0}")]
    Json(#[from] serde_json::Error),
    /// The transport failed: the MCP session could not start, or the HTTP listener failed.
    #[error("MCP transport: {0}")]
    Transport(String),
}

impl rmcp::model::IntoContents for McpError {
    fn into_contents(self) -> Vec<rmcp::model::ContentBlock> {
        vec![rmcp::model::ContentBlock::text(self.to_string())]
    }
}
