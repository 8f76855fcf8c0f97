//! A tiny planner/coder loop on Nexus: create a project with a feature and tasks, let a coder
//! agent take the next ready task, record what it learned, recall it, search the code index,
//! complete the task and checkpoint — in one SQLite file. Run: `cargo run -p orchestrator-example`.
#![allow(clippy::print_stdout)]

use anyhow::ensure;
use nexus_store::db::episodes::{EpisodeType, NewEpisode};
use nexus_store::db::{SourceKind, agents, checkpoints, features, projects, tasks};
use nexus_store::search::Source;
use nexus_store::{RecallOptions, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("orchestrator.db")).await?;
    let db = store.db();

    // Planning: a project, a feature, two tasks where the second depends on the first.
    let project =
        projects::create(db.writer(), projects::NewProject::new("shop", env!("CARGO_MANIFEST_DIR"))).await?;
    let cart = features::create(db.writer(), features::NewFeature::new(&project.id, "shopping cart")).await?;
    let mut totals = tasks::NewTask::new(&project.id, "compute cart totals");
    totals.feature_id = Some(cart.id.clone());
    totals.priority = 1;
    let totals = tasks::create(db.writer(), totals).await?;
    let mut checkout = tasks::NewTask::new(&project.id, "checkout flow");
    checkout.depends_on = vec![totals.id.clone()];
    tasks::create(db.writer(), checkout).await?;

    // An agent takes the next ready task: both rows change in one write transaction.
    let coder = agents::create(db.writer(), agents::NewAgent::new(agents::AgentType::Coder)).await?;
    let ready = tasks::list_ready(db.reader(), &project.id, 10).await?;
    ensure!(ready.len() == 1 && ready[0].id == totals.id, "only the task without dependencies is ready");
    let mut tx = db.begin().await?;
    tasks::start(&mut *tx, &totals.id, &coder.id).await?;
    agents::assign_task(&mut *tx, &coder.id, &totals.id).await?;
    tx.commit().await?;

    // The agent works and remembers what it learned.
    let mut lesson = NewEpisode::new(
        &project.id,
        EpisodeType::Decision,
        "Cart totals are kept in integer cents to avoid float rounding",
    );
    lesson.task_id = Some(totals.id.clone());
    lesson.agent_id = Some(coder.id.clone());
    store.remember(lesson).await?;
    store
        .remember(NewEpisode::new(
            &project.id,
            EpisodeType::ErrorFix,
            "The checkout test was flaky; it now waits for the payment mock",
        ))
        .await?;

    // Later, another agent recalls relevant memory.
    let recalled =
        store.recall(&project.id, "how should money amounts be stored", &RecallOptions::default()).await?;
    ensure!(
        recalled.first().is_some_and(|r| r.episode.content.contains("cents")),
        "recall finds the decision"
    );
    println!(
        "recalled: {} (accessed {} time)",
        recalled[0].episode.content, recalled[0].episode.access_count
    );

    // Index this example's own code and search it.
    let report = store.index_dir(&project.id, concat!(env!("CARGO_MANIFEST_DIR"), "/src"), |_| {}).await?;
    println!("indexed {} files, {} chunks", report.files_indexed, report.chunks_written);
    let hits = store
        .search()
        .text("agent takes the next ready task")
        .project(&project.id)
        .kinds([SourceKind::CodeChunk])
        .limit(3)
        .execute()
        .await?;
    let Some(Source::CodeChunk(chunk)) = hits.hits.first().map(|h| &h.source) else {
        anyhow::bail!("no code hit")
    };
    println!("code search: {}:{}-{}", chunk.file, chunk.start_line, chunk.end_line);

    // Done: complete the task, free the agent, checkpoint the state.
    let done = tasks::complete(db.writer(), &totals.id, None).await?;
    agents::finish_task(db.writer(), &coder.id, true).await?;
    features::record_task_completed(db.writer(), &cart.id).await?;
    let state = serde_json::json!({ "completed": [done.id], "next": tasks::list_ready(db.reader(), &project.id, 10).await?.iter().map(|t| &t.name).collect::<Vec<_>>() });
    checkpoints::create(db.writer(), checkpoints::NewCheckpoint::new(&project.id, state)).await?;
    ensure!(tasks::list_ready(db.reader(), &project.id, 10).await?.len() == 1, "checkout is ready now");
    println!(
        "checkpoint: {}",
        checkpoints::latest(db.reader(), &project.id)
            .await?
            .map(|c| c.state.map(|s| s.0.to_string()))
            .unwrap_or_default()
            .unwrap_or_default()
    );
    store.close().await?;
    Ok(())
}
