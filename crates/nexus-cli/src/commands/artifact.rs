//! `nexus artifact put|get|list`: the artifact store (nexus-artifacts) beside the database.

use std::path::Path;

use anyhow::Context;
use nexus_artifacts::{ArtifactStore, PutOptions};
use nexus_db::Page;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::args::ArtifactCommand;
use crate::commands::open::{Access, open_db};

/// Runs an `artifact` subcommand on the database at `db_path` (files in `<db>.artifacts/`).
pub async fn run(db_path: &Path, command: &ArtifactCommand) -> anyhow::Result<()> {
    match command {
        ArtifactCommand::Put { file, project, kind, name, content_type, json } => {
            let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
            let project = nexus_state::find_project(&db, project).await?;
            let store = ArtifactStore::open(&db, None).await?;
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let name = name.clone().unwrap_or(file_name);
            let content_type =
                content_type.clone().unwrap_or_else(|| nexus_artifacts::guess_content_type(&name).to_owned());
            let input = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("cannot open {}", file.display()))?;
            let size_hint = input.metadata().await.ok().map(|m| m.len());
            let options = PutOptions { size_hint, ..PutOptions::default() };
            let put = store.put(&project.id, *kind, &name, &content_type, input, options).await?;
            db.close().await?;
            let a = &put.artifact;
            if *json {
                let value = json!({
                    "id": a.id, "sha256": a.sha256, "project_id": a.project_id, "kind": a.kind, "name": a.name,
                    "content_type": a.content_type, "size": a.size, "stored_size": a.stored_size,
                    "compression": a.compression, "deduplicated": put.deduplicated,
                });
                out!("{value}")?;
            } else {
                let again = if put.deduplicated { " (already stored)" } else { "" };
                out!(
                    "artifact {} {} {} bytes, {} stored ({}){again}",
                    a.id,
                    a.kind,
                    a.size,
                    a.stored_size,
                    a.compression
                )?;
            }
        }
        ArtifactCommand::Get { id, output } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let store = ArtifactStore::open(&db, None).await?;
            let mut content = store.get(&id.as_str().into()).await?;
            match output {
                Some(path) => {
                    let mut file = tokio::fs::File::create(path)
                        .await
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    tokio::io::copy(&mut content.reader, &mut file).await?;
                    file.sync_all().await?;
                }
                None => {
                    let mut stdout = tokio::io::stdout();
                    tokio::io::copy(&mut content.reader, &mut stdout).await?;
                    stdout.flush().await?;
                }
            }
            db.close().await?;
        }
        ArtifactCommand::List { project, kind, json } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let project = nexus_state::find_project(&db, project).await?;
            let store = ArtifactStore::open(&db, None).await?;
            let listed = store.list(&project.id, *kind, Page::default()).await?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&listed)?)?;
            } else {
                out!("{:<36}  {:<6}  {:>12}  {:>12}  {:<4}  name", "id", "kind", "size", "stored", "comp")?;
                for a in &listed {
                    out!(
                        "{:<36}  {:<6}  {:>12}  {:>12}  {:<4}  {}",
                        a.id,
                        a.kind,
                        a.size,
                        a.stored_size,
                        a.compression,
                        a.name
                    )?;
                }
            }
        }
    }
    Ok(())
}
