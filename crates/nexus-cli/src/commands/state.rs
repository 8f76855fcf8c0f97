//! `nexus state show|export|import`: a project's STATE.md on stdout, to a file, or applied
//! from a (hand-edited) file.

use std::path::Path;

use anyhow::Context;
use nexus_state::{SaveMode, markdown};

use crate::args::StateCommand;
use crate::commands::open::{Access, open_db};

/// Runs a `state` subcommand on the database at `db_path`.
pub async fn run(db_path: &Path, command: &StateCommand) -> anyhow::Result<()> {
    match command {
        StateCommand::Show(args) => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let project = nexus_state::find_project(&db, &args.project).await?;
            let state = nexus_state::load(&db, &project.id).await?;
            db.close().await?;
            if args.json {
                out!("{}", serde_json::to_string_pretty(&state)?)?;
            } else {
                out!("{}", markdown::export(&state).trim_end())?;
            }
        }
        StateCommand::Export { project, output } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let project = nexus_state::find_project(&db, project).await?;
            let state = nexus_state::load(&db, &project.id).await?;
            db.close().await?;
            std::fs::write(output, markdown::export(&state))
                .with_context(|| format!("cannot write {}", output.display()))?;
            out!("wrote {} ({} tasks)", output.display(), state.tasks.len())?;
        }
        StateCommand::Import { file, force, json } => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let mode = if *force { SaveMode::Force } else { SaveMode::CheckRevision };
            let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
            let state = markdown::import(&db, &text, mode)
                .await
                .with_context(|| format!("cannot import {}", file.display()))?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&state)?)?;
            } else {
                out!(
                    "imported project {} ({}): {} tasks",
                    state.project.name,
                    state.project.id,
                    state.tasks.len()
                )?;
            }
        }
    }
    Ok(())
}
