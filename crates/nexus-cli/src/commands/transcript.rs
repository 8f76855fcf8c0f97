//! `nexus transcript import|search|show`: JSONL agent logs in, entries found by text, entries
//! out (pages, or `--follow`).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use nexus_db::transcripts::{self, Entry, EntryFilter, NewTranscript, Role};
use nexus_db::{Db, TranscriptId};

use crate::args::TranscriptCommand;
use crate::commands::open::{Access, open_db};

/// Entries read per page.
const PAGE: u32 = 500;

/// Runs a `transcript` subcommand on the database at `db_path`.
pub async fn run(db_path: &Path, command: &TranscriptCommand) -> anyhow::Result<()> {
    match command {
        TranscriptCommand::Import { file, project, agent, json } => {
            let input = tokio::fs::File::open(file)
                .await
                .with_context(|| format!("cannot read {}", file.display()))?;
            let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
            let project = nexus_state::find_project(&db, project).await?;
            let mut new = NewTranscript::new(&project.id);
            new.agent_id = agent.as_deref().map(Into::into);
            new.title = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let (transcript, count) =
                nexus_transcripts::import_jsonl(&db, new, tokio::io::BufReader::new(input))
                    .await
                    .with_context(|| format!("cannot import {}", file.display()))?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::json!({ "id": transcript.id, "count": count }))?;
            } else {
                out!("transcript {} ({count} entries)", transcript.id)?;
            }
        }
        TranscriptCommand::Search { query, project, agent, role, limit, json } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let project_id = match project {
                Some(name) => Some(nexus_state::find_project(&db, name).await?.id),
                None => None,
            };
            let role = role
                .as_deref()
                .map(str::parse::<Role>)
                .transpose()
                .map_err(anyhow::Error::msg)
                .context("--role")?;
            let filter = EntryFilter {
                project_id,
                agent_id: agent.as_deref().map(Into::into),
                role,
                ..EntryFilter::default()
            };
            let hits = nexus_transcripts::search(&db, query, &filter, *limit).await.map_err(|e| match e {
                nexus_transcripts::TranscriptError::Query(nexus_fts::FtsError::EmptyQuery) => {
                    anyhow::anyhow!("empty query")
                }
                e => e.into(),
            })?;
            db.close().await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&serde_json::json!({ "hits": hits }))?)?;
            } else if hits.is_empty() {
                out!("no hits")?;
            }
            if !*json {
                for h in &hits {
                    out!(
                        "{} #{} {} ({:.2}): {}",
                        h.transcript_id,
                        h.seq,
                        h.role,
                        h.score,
                        h.snippet.replace('\n', " ")
                    )?;
                }
            }
        }
        TranscriptCommand::Show { id, after, limit, follow, json } => {
            let db = open_db(db_path, Access::ReadOnly).await?;
            let id = TranscriptId::from(id.as_str());
            transcripts::get(db.reader(), &id).await?;
            if *json {
                let entries = read(&db, &id, *after, *limit).await?;
                out!("{}", serde_json::to_string_pretty(&serde_json::json!({ "entries": entries }))?)?;
            } else {
                let mut after = *after;
                let mut left = limit.map(u64::from);
                loop {
                    let page = transcripts::page(
                        db.reader(),
                        &id,
                        after,
                        left.map_or(PAGE, |l| l.min(u64::from(PAGE)) as u32),
                    )
                    .await?;
                    for entry in &page {
                        print_entry(entry)?;
                    }
                    after = page.last().map_or(after, |e| e.seq);
                    left = left.map(|l| l.saturating_sub(page.len() as u64));
                    if left == Some(0)
                        || (page.is_empty() && !*follow)
                        || (page.len() < PAGE as usize && !*follow)
                    {
                        break;
                    }
                    if page.is_empty() {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            db.close().await?;
        }
    }
    Ok(())
}

/// Up to `limit` entries (all when `None`) after `after`.
async fn read(db: &Db, id: &TranscriptId, mut after: i64, limit: Option<u32>) -> anyhow::Result<Vec<Entry>> {
    let mut all = Vec::new();
    loop {
        let want = limit.map_or(PAGE, |l| (l as usize - all.len()).min(PAGE as usize) as u32);
        if want == 0 {
            break;
        }
        let page = transcripts::page(db.reader(), id, after, want).await?;
        let full = page.len() == want as usize;
        after = page.last().map_or(after, |e| e.seq);
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}

fn print_entry(entry: &Entry) -> std::io::Result<()> {
    let tool = entry.tool_name.as_deref().map_or_else(String::new, |t| format!(" [{t}]"));
    out!("#{} {}{tool}: {}", entry.seq, entry.role, entry.content)
}
