//! The task workflow on top of the tables: each step one transaction that checks the
//! references the schema leaves as plain text (agents, dependencies, blockers) and keeps the
//! agent's counters, the feature's progress and the metrics in step with the task.

use nexus_db::agents::{self, AgentStatus};
use nexus_db::metrics::{self, MetricType, NewMetric};
use nexus_db::tasks::{self, NewTask, Task, TaskStatus};
use nexus_db::{AgentId, Db, DbError, ProjectId, TaskId, features};
use sqlx::SqliteConnection;
use tracing::info;

use crate::error::{Result, StateError};

/// Creates a task after checking that its dependencies exist in the same project (a task
/// depending on a task that does not exist would never become ready).
pub async fn create_task(db: &Db, new: NewTask) -> Result<Task> {
    let mut tx = db.begin().await?;
    for dependency in &new.depends_on {
        dependency_in_project(&mut tx, &new.project_id, new.id.as_ref(), dependency).await?;
    }
    let task = tasks::create(&mut *tx, new).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(task)
}

/// Queues the task for `agent`: refused when the agent or a dependency is unknown or a
/// dependency is unfinished.
pub async fn assign(db: &Db, task: &TaskId, agent: &AgentId) -> Result<Task> {
    let mut tx = db.begin().await?;
    ready_to_work(&mut tx, task, agent).await?;
    let task = tasks::assign(&mut *tx, task, agent).await?;
    agents::assign_task(&mut *tx, agent, &task.id).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(task)
}

/// Starts the task by `agent` (the agent becomes `working` on it), with the checks of
/// [`assign`].
pub async fn start(db: &Db, task: &TaskId, agent: &AgentId) -> Result<Task> {
    let mut tx = db.begin().await?;
    ready_to_work(&mut tx, task, agent).await?;
    let task = tasks::start(&mut *tx, task, agent).await?;
    agents::assign_task(&mut *tx, agent, &task.id).await?;
    agents::set_status(&mut *tx, agent, AgentStatus::Working).await?;
    tx.commit().await.map_err(DbError::from)?;
    info!(task = %task.id, agent = %agent, "task started");
    Ok(task)
}

/// Completes the task and, in the same transaction: counts a completed task for its agent
/// (which becomes idle), one more completed task for its feature, and a `task_duration`
/// metric (minutes).
pub async fn complete(db: &Db, task: &TaskId, actual_minutes: Option<i64>) -> Result<Task> {
    let mut tx = db.begin().await?;
    let task = tasks::complete(&mut *tx, task, actual_minutes).await?;
    finish(&mut tx, &task, true).await?;
    if let Some(feature) = &task.feature_id {
        features::record_task_completed(&mut *tx, feature).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    info!(task = %task.id, "task completed");
    Ok(task)
}

/// What [`fail`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// The task, failed, with one more QA iteration counted.
    pub task: Task,
    /// True when the task has used all its QA iterations and should be escalated (the
    /// `qa_exhausted` checkpoint trigger).
    pub qa_exhausted: bool,
}

/// Fails the task (the reason appended to its notes) and, in the same transaction: counts a
/// QA iteration, a failed task for its agent (which becomes idle), and a `task_duration`
/// metric.
pub async fn fail(db: &Db, task: &TaskId, reason: &str) -> Result<Failed> {
    let mut tx = db.begin().await?;
    tasks::fail(&mut *tx, task, reason).await?;
    let task = tasks::record_qa_iteration(&mut *tx, task).await?;
    finish(&mut tx, &task, false).await?;
    tx.commit().await.map_err(DbError::from)?;
    info!(task = %task.id, "task failed");
    let qa_exhausted = task.needs_escalation();
    Ok(Failed { task, qa_exhausted })
}

/// Blocks the task on another task of the same project.
pub async fn block(db: &Db, task: &TaskId, blocking: &TaskId) -> Result<Task> {
    let mut tx = db.begin().await?;
    let row = tasks::get(&mut *tx, task).await?;
    dependency_in_project(&mut tx, &row.project_id, Some(task), blocking).await?;
    let row = tasks::block(&mut *tx, task, blocking).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(row)
}

/// The project's tasks that can be handed out now (pending or queued, every dependency
/// completed), in priority order.
pub async fn ready(db: &Db, project: &ProjectId, limit: u32) -> Result<Vec<Task>> {
    Ok(tasks::list_ready(db.reader(), project, limit).await?)
}

/// Checks that `agent` exists and every dependency of `task` exists and is completed.
async fn ready_to_work(conn: &mut SqliteConnection, task: &TaskId, agent: &AgentId) -> Result<()> {
    let row = tasks::get(&mut *conn, task).await?;
    match agents::get(&mut *conn, agent).await {
        Ok(_) => {}
        Err(DbError::NotFound { .. }) => {
            return Err(StateError::UnknownAgent { task: task.clone(), agent: agent.clone() });
        }
        Err(e) => return Err(e.into()),
    }
    let found = tasks::get_many(&mut *conn, &row.depends_on).await?;
    for dependency in &row.depends_on {
        match found.iter().find(|d| &d.id == dependency && d.project_id == row.project_id) {
            None => {
                return Err(StateError::UnknownDependency {
                    task: task.clone(),
                    dependency: dependency.clone(),
                });
            }
            Some(d) if d.status != TaskStatus::Completed => {
                return Err(StateError::UnfinishedDependency {
                    task: task.clone(),
                    dependency: dependency.clone(),
                    status: d.status.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks that `dependency` is a task of `project` other than `task` itself.
async fn dependency_in_project(
    conn: &mut SqliteConnection,
    project: &ProjectId,
    task: Option<&TaskId>,
    dependency: &TaskId,
) -> Result<()> {
    let unknown = || StateError::UnknownDependency {
        task: task.cloned().unwrap_or_else(|| TaskId::from("(new task)")),
        dependency: dependency.clone(),
    };
    if task == Some(dependency) {
        return Err(unknown());
    }
    match tasks::get(&mut *conn, dependency).await {
        Ok(d) if &d.project_id == project => Ok(()),
        Ok(_) | Err(DbError::NotFound { .. }) => Err(unknown()),
        Err(e) => Err(e.into()),
    }
}

/// The bookkeeping of a finished task: its agent's counters and a duration metric.
async fn finish(conn: &mut SqliteConnection, task: &Task, succeeded: bool) -> Result<()> {
    if let Some(agent) = &task.assigned_agent {
        match agents::finish_task(&mut *conn, agent, succeeded).await {
            // The agent row may be gone (deleted since it took the task): nothing to count.
            Ok(_) | Err(DbError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Minutes spent: as recorded, or since the task started (a failed task records none).
    let minutes = match (task.actual_minutes, task.started_at) {
        (Some(minutes), _) => Some(minutes as f64),
        (None, Some(started)) => {
            Some((task.updated_at.as_millis() - started.as_millis()).max(0) as f64 / 60_000.0)
        }
        (None, None) => None,
    };
    if let Some(minutes) = minutes {
        let mut metric = NewMetric::new(&task.project_id, MetricType::TaskDuration, minutes);
        metric.agent_id = task.assigned_agent.clone();
        metric.task_id = Some(task.id.clone());
        metric.metadata = Some(serde_json::json!({ "succeeded": succeeded }));
        metrics::create(&mut *conn, metric).await?;
    }
    Ok(())
}
