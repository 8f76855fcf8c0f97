//! `nexus tasks PROJECT [--status S]`: the project's tasks as a table (or `--json`).

use std::path::Path;

use anyhow::Context;
use nexus_db::tasks::{self, TaskFilter, TaskStatus};

use crate::args::TasksArgs;
use crate::commands::open::{Access, open_db};

/// Prints the project's tasks in priority order.
pub async fn run(db_path: &Path, args: &TasksArgs) -> anyhow::Result<()> {
    let status = args
        .status
        .as_deref()
        .map(str::parse::<TaskStatus>)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--status")?;
    let db = open_db(db_path, Access::ReadOnly).await?;
    let project = nexus_state::find_project(&db, &args.project).await?;
    let rows = tasks::list(db.reader(), &project.id, &TaskFilter { status, ..TaskFilter::default() }).await?;
    db.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    out!("{:<36}  {:<11}  {:>3}  {:<20}  name", "id", "status", "pri", "agent")?;
    for t in &rows {
        let agent = t.assigned_agent.as_ref().map_or("", |a| a.as_str());
        out!(
            "{:<36}  {:<11}  {:>3}  {:<20}  {}",
            t.id,
            t.status,
            t.priority,
            agent,
            t.name.replace('\n', " ")
        )?;
    }
    Ok(())
}
