//! The child's workload: mixed writes through the public APIs, each acknowledged in the
//! [`AckLog`](crate::ack::AckLog) only after the call returned `Ok`.
//!
//! One operation at a time, chosen at random:
//!
//! * `Store::remember` — an episode (row, full-text entry by trigger, vector) of a few hundred
//!   bytes, sometimes tens of kilobytes (long transactions, WAL growth, checkpoints);
//! * a task transaction (`db.begin()`): create a task (sometimes starting it in the same
//!   transaction), or move one forward — pending → in progress → completed;
//! * a change to the source tree followed by `Store::index_dir` (chunks, full-text entries,
//!   vectors and `indexed_files` rows, several transactions per run).

use std::path::PathBuf;

use anyhow::{Context, Result};
use fastrand::Rng;
use nexus_db::episodes::{EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::tasks::{self, NewTask, TaskStatus};
use nexus_db::{AgentId, ProjectId, TaskId};
use nexus_store::Store;
use nexus_store::code::content_hash;
use tracing::debug;

use crate::ack::{Ack, AckLog};
use crate::tree;

/// The name of the project the workload writes into.
pub const PROJECT: &str = "crash-suite";

/// The agent the workload's tasks are started by.
const AGENT: &str = "crash-agent";

/// What the child works on.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The store file.
    pub db: PathBuf,
    /// The source tree it indexes (and mutates).
    pub tree: PathBuf,
    /// The acknowledgement log.
    pub acks: PathBuf,
    /// Seed of the operation mix.
    pub seed: u64,
    /// Stop after this many operations (`None`: until killed).
    pub ops: Option<u64>,
    /// A deliberate bug, to show the suite catches it (`None` in real runs).
    pub fault: Option<Fault>,
}

/// Deliberate bugs the workload can have, so a test can prove the checks are not vacuous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// Task creations are acknowledged before their transaction commits (and the commit is
    /// delayed 200 ms): a kill in between loses an acknowledged write.
    AckBeforeCommit,
}

/// Runs the workload until killed (or for [`Workload::ops`] operations).
pub async fn run(workload: &Workload) -> Result<()> {
    let store = Store::open(&workload.db).await.context("opening the store")?;
    let mut log = AckLog::open(&workload.acks)?;
    let mut rng = Rng::with_seed(workload.seed);
    let project_id = match projects::find_by_name(store.db().writer(), PROJECT).await? {
        Some(project) => project.id,
        None => {
            let root = workload.tree.display().to_string();
            let project = projects::create(store.db().writer(), NewProject::new(PROJECT, root)).await?;
            log.append(&Ack::Project { id: project.id.to_string() })?;
            project.id
        }
    };
    let mut done = 0;
    while workload.ops.is_none_or(|ops| done < ops) {
        let ack = match rng.u8(..10) {
            0..=3 => Some(remember(&store, &project_id, &mut rng).await?),
            4..=5 => create_task(&store, &project_id, &mut rng, workload.fault, &mut log).await?,
            6..=7 => match advance_task(&store, &project_id).await? {
                Some(ack) => Some(ack),
                None => create_task(&store, &project_id, &mut rng, workload.fault, &mut log).await?,
            },
            _ => Some(index(&store, &project_id, workload, &mut rng).await?),
        };
        if let Some(ack) = ack {
            log.append(&ack)?;
        }
        done += 1;
        debug!(done, "acknowledged");
    }
    store.close().await?;
    Ok(())
}

/// Records an episode of random size and type.
async fn remember(store: &Store, project_id: &ProjectId, rng: &mut Rng) -> Result<Ack> {
    let words = if rng.u8(..20) == 0 { rng.usize(2_000..8_000) } else { rng.usize(10..200) };
    let mut content = format!("note {:016x}:", rng.u64(..));
    for _ in 0..words {
        content.push(' ');
        content.push_str(
            ["cents", "retry", "merge", "queue", "agent", "review", "ünïcode", "索引"][rng.usize(..8)],
        );
    }
    let episode_type = [EpisodeType::Decision, EpisodeType::Research][rng.usize(..2)];
    let hash = content_hash(content.as_bytes());
    let episode = store.remember(NewEpisode::new(project_id, episode_type, content)).await?;
    Ok(Ack::Episode { id: episode.id.into(), hash })
}

/// Creates a task, starting it in the same transaction half the time. Returns the
/// acknowledgement to log, or `None` when [`Fault::AckBeforeCommit`] already logged it.
async fn create_task(
    store: &Store,
    project_id: &ProjectId,
    rng: &mut Rng,
    fault: Option<Fault>,
    log: &mut AckLog,
) -> Result<Option<Ack>> {
    let mut tx = store.db().begin().await?;
    let name = format!("task {:08x}", rng.u32(..));
    let task = tasks::create(&mut *tx, NewTask::new(project_id, name)).await?;
    let task = if rng.bool() { tasks::start(&mut *tx, &task.id, &AgentId::from(AGENT)).await? } else { task };
    let ack = Ack::Task { id: task.id.into(), status: task.status.as_str().to_owned() };
    if fault == Some(Fault::AckBeforeCommit) {
        log.append(&ack)?;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        tx.commit().await?;
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(ack))
}

/// Moves a random unfinished task one step forward; `None` when every task is completed.
async fn advance_task(store: &Store, project_id: &ProjectId) -> Result<Option<Ack>> {
    let next: Option<(TaskId, String)> = sqlx::query_as(
        "SELECT id, status FROM tasks WHERE project_id = ? AND status IN ('pending', 'in_progress')
         ORDER BY random() LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(store.db().reader())
    .await?;
    let Some((id, status)) = next else { return Ok(None) };
    let mut tx = store.db().begin().await?;
    let task = if status == TaskStatus::Pending.as_str() {
        tasks::start(&mut *tx, &id, &AgentId::from(AGENT)).await?
    } else {
        tasks::record_qa_iteration(&mut *tx, &id).await?;
        tasks::complete(&mut *tx, &id, None).await?
    };
    tx.commit().await?;
    Ok(Some(Ack::Task { id: task.id.into(), status: task.status.as_str().to_owned() }))
}

/// Changes the tree, then indexes it.
async fn index(store: &Store, project_id: &ProjectId, workload: &Workload, rng: &mut Rng) -> Result<Ack> {
    tree::mutate(&workload.tree, rng)?;
    let files = tree::listing(&workload.tree)?;
    store.index_dir(project_id, &workload.tree, |_| {}).await?;
    Ok(Ack::Index { files })
}
