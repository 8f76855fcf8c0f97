//! `nexus serve [--addr HOST:PORT]`: the HTTP API (crate nexus-server) on the database until
//! ctrl-c or SIGTERM; then requests in flight finish and the database is closed cleanly.

use std::path::Path;

use anyhow::Context;
use nexus_server::ServerConfig;

use crate::args::ServeArgs;
use crate::commands::open::{Access, open_store};

/// Serves the database at `db` (created and migrated when needed).
pub async fn run(db: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    let projects_dir = match &args.projects_dir {
        Some(dir) => Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("--projects-dir {}: no such directory", dir.display()))?,
        ),
        None => None,
    };
    let store = open_store(db, args.embedder, Access::ReadWrite { migrate: true }).await?;
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    out!("nexus: serving {} on http://{local} (ctrl-c to stop)", db.display())?;
    let config = ServerConfig {
        body_limit: args.body_limit,
        allow_private_urls: args.allow_private_urls,
        projects_dir,
        max_concurrent: args.max_concurrent.unwrap_or_else(nexus_server::admission::default_max_concurrent),
        ..ServerConfig::default()
    };
    nexus_server::serve(store, listener, config, nexus_server::shutdown_signal()).await?;
    Ok(())
}
