//! Serving a [`NexusServer`]: over stdio ([`serve_stdio`], one client, until it closes the
//! stream) or streamable HTTP ([`serve_http`], every request authenticated with a bearer key,
//! until cancelled).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::auth::{Gate, require_key};
use crate::error::{McpError, Result};
use crate::server::NexusServer;

/// Serves `server` over stdin/stdout until the client closes the stream. The client may reach
/// every project (it is whoever started the process).
pub async fn serve_stdio(server: NexusServer) -> Result<()> {
    let running =
        server.serve(rmcp::transport::stdio()).await.map_err(|e| McpError::Transport(e.to_string()))?;
    running.waiting().await.map_err(|e| McpError::Transport(e.to_string()))?;
    Ok(())
}

/// Serves `server` over streamable HTTP on `listener` (any path) until `shutdown` is
/// cancelled. Every request needs `Authorization: Bearer <key>`, a live key of a user of the
/// database (401 otherwise), and reaches only that user's projects. Requests must name the
/// listener's host (`localhost`, `127.0.0.1`, `::1` or its address), which guards a loopback
/// server against DNS rebinding.
pub async fn serve_http(
    server: NexusServer,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> Result<()> {
    let local: SocketAddr = listener.local_addr().map_err(|e| McpError::Transport(e.to_string()))?;
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    hosts.push(local.ip().to_string());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_cancellation_token(shutdown.child_token());
    let sessions = Arc::new(LocalSessionManager::default());
    let gate = Gate::new(server.store().clone(), Arc::clone(&sessions));
    let server = server.keyed();
    let service: StreamableHttpService<NexusServer, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), sessions, config);
    let app = Router::new()
        .fallback_service(service)
        .layer(axum::middleware::from_fn_with_state(gate, require_key));
    tracing::info!(%local, "serving MCP over streamable HTTP (bearer keys)");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .map_err(|e| McpError::Transport(e.to_string()))
}
