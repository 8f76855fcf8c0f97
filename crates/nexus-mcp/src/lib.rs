//! # nexus-mcp
//!
//! Nexus over the Model Context Protocol: a [`NexusServer`] (an rmcp `ServerHandler`) that
//! gives any MCP-capable agent the store's episodic memory, its code index and search, and
//! its projects' state, as tools and resources. `nexus mcp` (crate nexus-cli) opens the
//! store and serves it over stdio ([`serve_stdio`]) or streamable HTTP ([`serve_http`]).
//!
//! * Over HTTP every request needs `Authorization: Bearer <key>` (a key of `nexus user`; 401
//!   otherwise), and a call reaches only the projects the key's user owns: another user's
//!   project answers exactly like a missing one. Over stdio every project is reachable: the
//!   client is whoever started the process.
//! * Tools ([`tools`]): `remember`, `recall`, `search`, `index`, `state`, `tasks_ready`,
//!   `task_start`, `task_complete`, `task_fail`, `checkpoint`, `continue_point_save`,
//!   `resume`, each with a JSON schema ([`params`]). A project is named by name or id.
//! * Resources ([`resources`]): each project's STATE.md
//!   (`nexus://projects/{id}/STATE.md`) and its latest checkpoint
//!   (`nexus://projects/{id}/checkpoints/latest`).
//! * Errors are tool results with `isError: true` and a message an agent can correct its call
//!   from ([`McpError`]), never a failure of the server; arguments that do not match a tool's
//!   schema are reported the same way.
//! * `index` only reads directories inside the [`Roots`] the server was started with; it
//!   reports progress when the client sent a progress token and stops when the request is
//!   cancelled.

mod auth;
mod error;
pub mod params;
pub mod resources;
mod roots;
mod scope;
mod server;
pub mod tools;
mod transport;

pub use error::{McpError, Result};
pub use roots::Roots;
pub use server::NexusServer;
pub use transport::{serve_http, serve_stdio};
