//! `nexus resume PROJECT`: where to pick the work up, one line per unfinished task.

use std::path::Path;

use crate::args::ProjectArgs;
use crate::commands::open::{Access, open_db};

/// Prints the latest continue point of each unfinished task, newest first.
pub async fn run(db_path: &Path, args: &ProjectArgs) -> anyhow::Result<()> {
    let db = open_db(db_path, Access::ReadOnly).await?;
    let project = nexus_state::find_project(&db, &args.project).await?;
    let points = nexus_state::resume(&db, &project.id).await?;
    db.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&points)?)?;
        return Ok(());
    }
    if points.is_empty() {
        out!("nothing to resume in {}", project.name)?;
    }
    for p in &points {
        let place = match (&p.file, p.line) {
            (Some(file), Some(line)) => format!(" at {file}:{line}"),
            (Some(file), None) => format!(" at {file}"),
            _ => String::new(),
        };
        out!("task {}: {}{place}", p.task_id, p.last_action.replace('\n', " "))?;
        for step in &p.next_steps {
            out!("    next: {}", step.replace('\n', " "))?;
        }
    }
    Ok(())
}
