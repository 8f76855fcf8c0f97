//! [`dashboard`]: the figures a project dashboard shows — tasks by status, metrics grouped by
//! type, by agent and by day, and each agent's tokens, cost and task counts.

use std::collections::BTreeMap;

use nexus_db::agents::{self, AgentType};
use nexus_db::metrics::{self, MetricFilter, MetricGroup, MetricGrouping, MetricType};
use nexus_db::tasks::TaskStatus;
use nexus_db::{AgentId, Db, DbError, ProjectId, Timestamp};
use serde::Serialize;

use crate::error::Result;
use crate::snapshot::Summary;

/// A project's dashboard figures, read in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// Tasks per status (every status, zeros included).
    pub tasks_by_status: BTreeMap<TaskStatus, u64>,
    /// Completed tasks over all tasks.
    pub progress: f64,
    /// Measurements per type.
    pub metrics_by_type: Vec<MetricGroup>,
    /// Measurements per agent and type.
    pub metrics_by_agent: Vec<MetricGroup>,
    /// Measurements per UTC day and type (the group is the day's start, epoch ms).
    pub metrics_by_day: Vec<MetricGroup>,
    /// Per agent working on the project (or with measurements in it), by id.
    pub agents: Vec<AgentUsage>,
}

/// One agent's usage in a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentUsage {
    /// The agent.
    pub agent_id: AgentId,
    /// Its role (`None`: the agent row is gone, its measurements remain).
    pub agent_type: Option<AgentType>,
    /// Tokens recorded by `token_usage` measurements in this project.
    pub tokens: f64,
    /// Cost recorded in the `cost_usd` metadata of its measurements in this project.
    pub cost_usd: f64,
    /// Its lifetime counters (all projects): tokens used, tasks completed and failed.
    pub tokens_used_total: i64,
    /// Tasks completed (all projects).
    pub tasks_completed: i64,
    /// Tasks failed (all projects).
    pub tasks_failed: i64,
}

/// The dashboard of a project, optionally only for measurements since `since`.
pub async fn dashboard(db: &Db, project: &ProjectId, since: Option<Timestamp>) -> Result<Dashboard> {
    let mut tx = db.reader().begin().await.map_err(DbError::from)?;
    let planning = crate::snapshot::Planning::read(&mut tx, project)
        .await?
        .ok_or_else(|| crate::StateError::UnknownProject(project.to_string()))?;
    let summary = Summary::of(&planning.features, &planning.tasks);
    let filter = MetricFilter { since, ..MetricFilter::default() };
    let metrics_by_type = metrics::group_by(&mut *tx, project, MetricGrouping::Type, &filter).await?;
    let metrics_by_agent = metrics::group_by(&mut *tx, project, MetricGrouping::Agent, &filter).await?;
    let metrics_by_day = metrics::group_by(&mut *tx, project, MetricGrouping::Day, &filter).await?;
    let working = agents::list_for_project(&mut *tx, project).await?;
    let mut usage: BTreeMap<AgentId, AgentUsage> = working
        .iter()
        .map(|a| {
            let usage = AgentUsage {
                agent_id: a.id.clone(),
                agent_type: Some(a.agent_type),
                tokens: 0.0,
                cost_usd: 0.0,
                tokens_used_total: a.tokens_used,
                tasks_completed: a.tasks_completed,
                tasks_failed: a.tasks_failed,
            };
            (a.id.clone(), usage)
        })
        .collect();
    for group in metrics_by_agent.iter().filter(|g| !g.group.is_empty()) {
        let id = AgentId::from(group.group.as_str());
        if !usage.contains_key(&id) {
            let row = match agents::get(&mut *tx, &id).await {
                Ok(a) => Some(a),
                Err(DbError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            usage.insert(
                id.clone(),
                AgentUsage {
                    agent_id: id.clone(),
                    agent_type: row.as_ref().map(|a| a.agent_type),
                    tokens: 0.0,
                    cost_usd: 0.0,
                    tokens_used_total: row.as_ref().map_or(0, |a| a.tokens_used),
                    tasks_completed: row.as_ref().map_or(0, |a| a.tasks_completed),
                    tasks_failed: row.as_ref().map_or(0, |a| a.tasks_failed),
                },
            );
        }
        if let Some(entry) = usage.get_mut(&id) {
            entry.cost_usd += group.cost_usd;
            if group.metric_type == MetricType::TokenUsage {
                entry.tokens += group.total;
            }
        }
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(Dashboard {
        tasks_by_status: summary.tasks_by_status,
        progress: summary.progress,
        metrics_by_type,
        metrics_by_agent,
        metrics_by_day,
        agents: usage.into_values().collect(),
    })
}
