//! A tiny planner/coder loop on Nexus: create a project with a feature and tasks, checkpoint
//! the plan, let a coder agent take the next ready task (the workflow checks the agent and the
//! dependencies), record what it learned, recall it, search the code index, complete the task,
//! load the project's state, and roll the plan back to the checkpoint — in one SQLite file.
//! Run: `cargo run -p orchestrator-example`.
#![allow(clippy::print_stdout)]

use anyhow::ensure;
use nexus_store::db::episodes::{EpisodeType, NewEpisode};
use nexus_store::db::tasks::TaskStatus;
use nexus_store::db::{SourceKind, agents, features, projects, tasks};
use nexus_store::search::Source;
use nexus_store::state::{self, CheckpointRequest, workflow};
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
    let totals = workflow::create_task(db, totals).await?;
    let mut checkout = tasks::NewTask::new(&project.id, "checkout flow");
    checkout.depends_on = vec![totals.id.clone()];
    let checkout = workflow::create_task(db, checkout).await?;
    let plan = state::checkpoint(db, &project.id, CheckpointRequest::manual("plan agreed")).await?;

    // An agent takes the next ready task: task and agent change in one write transaction.
    let coder = agents::create(db.writer(), agents::NewAgent::new(agents::AgentType::Coder)).await?;
    let ready = workflow::ready(db, &project.id, 10).await?;
    ensure!(ready.len() == 1 && ready[0].id == totals.id, "only the task without dependencies is ready");
    ensure!(
        workflow::start(db, &checkout.id, &coder.id).await.is_err(),
        "checkout cannot start before the totals are done"
    );
    workflow::start(db, &totals.id, &coder.id).await?;

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

    // Done: completing counts for the agent, the feature and the metrics in one transaction.
    workflow::complete(db, &totals.id, None).await?;
    let now = state::load(db, &project.id).await?;
    ensure!(now.summary.tasks_by_status[&TaskStatus::Completed] == 1, "one task done");
    ensure!(workflow::ready(db, &project.id, 10).await?.len() == 1, "checkout is ready now");
    ensure!(features::get(db.reader(), &cart.id).await?.completed_tasks == 1, "feature progress");
    println!(
        "state: {:.0}% done, {} agent(s) on the project",
        now.summary.progress * 100.0,
        now.agents.len()
    );

    // Roll the plan back to the checkpoint: the task is pending again (memory is kept).
    let restored = state::restore(db, &plan.id).await?;
    ensure!(restored.state.tasks.iter().all(|t| t.status == TaskStatus::Pending), "plan restored");
    println!("restored checkpoint {} (safety checkpoint {})", plan.id, restored.safety.id);
    println!("{}", state::markdown::export(&restored.state).lines().take(8).collect::<Vec<_>>().join("\n"));
    store.close().await?;
    Ok(())
}
