//! Serving a [`NexusServer`]: over stdio ([`serve_stdio`], one client, until it closes the
//! stream) or streamable HTTP ([`serve_http`], loopback only unless told otherwise, until
//! cancelled).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::error::{McpError, Result};
use crate::server::NexusServer;

/// Serves `server` over stdin/stdout until the client closes the stream.
pub async fn serve_stdio(server: NexusServer) -> Result<()> {
    let running =
        server.serve(rmcp::transport::stdio()).await.map_err(|e| McpError::Transport(e.to_string()))?;
    running.waiting().await.map_err(|e| McpError::Transport(e.to_string()))?;
    Ok(())
}

/// Serves `server` over streamable HTTP on `listener` (any path) until `shutdown` is
/// cancelled. Requests must name the listener's host (`localhost`, `127.0.0.1`, `::1` or its
/// address), which guards a loopback server against DNS rebinding.
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
    let service: StreamableHttpService<NexusServer, LocalSessionManager> = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    tracing::info!(%local, "serving MCP over streamable HTTP");
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let hyper_service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new();
            if let Err(e) = connection.serve_connection(TokioIo::new(stream), hyper_service).await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
}
