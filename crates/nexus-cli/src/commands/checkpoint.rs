//! `nexus checkpoint create|list|diff|restore`.

use std::path::Path;

use nexus_state::{CheckpointRequest, StateDiff};

use crate::args::CheckpointCommand;
use crate::commands::open::{Access, open_db};

/// Runs a `checkpoint` subcommand on the database at `db_path`.
pub async fn run(db_path: &Path, command: &CheckpointCommand) -> anyhow::Result<()> {
    match command {
        CheckpointCommand::Create { project, reason, json } => {
            let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
            let project = nexus_state::find_project(&db, project).await?;
            let taken =
                nexus_state::checkpoint(&db, &project.id, CheckpointRequest::manual(reason.as_str())).await?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&nexus_state::CheckpointSummary::from(&taken))?)?;
            } else {
                out!("checkpoint {} of {}", taken.id, project.name)?;
            }
        }
        CheckpointCommand::List(args) => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let project = nexus_state::find_project(&db, &args.project).await?;
            let timeline = nexus_state::list_checkpoints(&db, &project.id).await?;
            db.close().await?;
            if args.json {
                out!("{}", serde_json::to_string_pretty(&timeline)?)?;
            } else {
                out!("{:<36}  {:<14}  {:<15}  reason", "id", "taken (ms)", "trigger")?;
                for c in &timeline {
                    let reason = c.reason.as_deref().unwrap_or("").replace('\n', " ");
                    out!("{:<36}  {:<14}  {:<15}  {reason}", c.id, c.created_at.as_millis(), c.triggered_by)?;
                }
            }
        }
        CheckpointCommand::Diff { a, b, json } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let b = b.as_deref().map(Into::into);
            let changes = nexus_state::diff_checkpoints(&db, &a.as_str().into(), b.as_ref()).await?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&changes)?)?;
            } else {
                print_diff(&changes)?;
            }
        }
        CheckpointCommand::Restore { id, json } => {
            let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
            let restored = nexus_state::restore(&db, &id.as_str().into()).await?;
            db.close().await?;
            if *json {
                let safety = nexus_state::CheckpointSummary::from(&restored.safety);
                out!(
                    "{}",
                    serde_json::json!({ "restored": id, "safety_checkpoint": safety, "tasks": restored.state.tasks.len() })
                )?;
            } else {
                out!("restored {id}; the state before is checkpoint {}", restored.safety.id)?;
            }
        }
    }
    Ok(())
}

fn print_diff(changes: &StateDiff) -> std::io::Result<()> {
    if changes.is_empty() {
        return out!("no changes");
    }
    for (table, diff) in &changes.tables {
        out!(
            "{table}: {} added, {} removed, {} changed",
            diff.added.len(),
            diff.removed.len(),
            diff.changed.len()
        )?;
        for id in &diff.added {
            out!("  + {id}")?;
        }
        for id in &diff.removed {
            out!("  - {id}")?;
        }
        for row in &diff.changed {
            let fields: Vec<&str> = row.fields.keys().map(String::as_str).collect();
            out!("  ~ {} ({})", row.id, fields.join(", "))?;
        }
    }
    Ok(())
}
