//! `nexus mcp`: serve the database to MCP clients (crate nexus-mcp) over stdio, or over
//! streamable HTTP with `--http ADDR` until interrupted, every request authenticated with a
//! bearer key of `nexus user`. stdout belongs to the protocol: everything else goes to stderr.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use anyhow::Context;
use nexus_mcp::{NexusServer, Roots};
use tokio_util::sync::CancellationToken;

use crate::args::McpArgs;
use crate::commands::open::{Access, open_store};

/// Serves the database at `db` (created and migrated when missing) until the client leaves
/// (stdio) or the process is interrupted (HTTP).
pub async fn run(db: &Path, args: &McpArgs) -> anyhow::Result<()> {
    let roots = Roots::new(&args.roots).context("--root")?;
    let store =
        open_store(db, args.embedder, Access::ReadWrite { migrate: !args.migration.no_migrate }).await?;
    let server = NexusServer::new(store.clone(), roots);
    match &args.http {
        None => nexus_mcp::serve_stdio(server).await?,
        Some(addr) => {
            let addr = http_addr(addr)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            if !local.ip().is_loopback() {
                tracing::warn!(%local, "serving MCP on a non-loopback address: keys travel in clear text unless a TLS proxy is in front");
            }
            eprintln!("nexus mcp: serving http://{local}/mcp");
            eprintln!(
                "nexus mcp: requests need Authorization: Bearer <key> (nexus user create / nexus user key add)"
            );
            let shutdown = CancellationToken::new();
            let on_signal = shutdown.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    on_signal.cancel();
                }
            });
            nexus_mcp::serve_http(server, listener, shutdown).await?;
        }
    }
    store.close().await?;
    Ok(())
}

/// `PORT` alone is 127.0.0.1:PORT; anything else must be a socket address.
fn http_addr(text: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    text.parse().with_context(|| format!("--http {text:?}: expected PORT or IP:PORT (e.g. 127.0.0.1:8765)"))
}
