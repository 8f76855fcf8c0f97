//! The README's usage example, compiled by CI so it stays true.
//! Run: `cargo run -p nexus-db --example quickstart` (creates ./nexus.db).
#![allow(clippy::print_stdout)]

use nexus_db::{Db, agents, episodes, projects, tasks};

#[tokio::main]
async fn main() -> nexus_db::Result<()> {
    let db = Db::open("nexus.db").await?; // WAL, foreign keys, migrations applied
    let project = projects::create(db.writer(), projects::NewProject::new("shop", "/src/shop")).await?;
    let coder = agents::create(db.writer(), agents::NewAgent::new(agents::AgentType::Coder)).await?;
    let task = tasks::create(db.writer(), tasks::NewTask::new(&project.id, "cart totals")).await?;

    let mut tx = db.begin().await?; // BEGIN IMMEDIATE on the single writer
    tasks::start(&mut *tx, &task.id, &coder.id).await?;
    agents::assign_task(&mut *tx, &coder.id, &task.id).await?;
    tx.commit().await?;

    let note = episodes::NewEpisode::new(&project.id, episodes::EpisodeType::Decision, "totals in cents");
    episodes::create(db.writer(), note).await?;
    let ready = tasks::list_ready(db.reader(), &project.id, 10).await?;
    println!("{} tasks ready", ready.len());
    db.close().await // checkpoints the WAL into the main file
}
