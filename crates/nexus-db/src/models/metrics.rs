//! `metrics`: token usage, task durations and QA iteration counts, recorded per project (and
//! optionally per agent and task). Append-only.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;
use sqlx::types::Json;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::validate;
use crate::{AgentId, MetricId, ProjectId, TaskId, Timestamp};

const TABLE: &str = "metrics";

text_enum! {
    /// What a metric measures.
    pub enum MetricType { TokenUsage = "token_usage", TaskDuration = "task_duration", QaIterations = "qa_iterations" }
}

/// A row of `metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Metric {
    /// Primary key.
    pub id: MetricId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Agent it concerns.
    pub agent_id: Option<AgentId>,
    /// Task it concerns.
    pub task_id: Option<TaskId>,
    /// What it measures (column `type`).
    pub metric_type: MetricType,
    /// The measured value.
    pub value: f64,
    /// Extra data.
    pub metadata: Option<Json<serde_json::Value>>,
    /// When it was measured.
    pub timestamp: Timestamp,
}

/// A metric to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMetric {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<MetricId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Agent it concerns.
    pub agent_id: Option<AgentId>,
    /// Task it concerns.
    pub task_id: Option<TaskId>,
    /// What it measures.
    pub metric_type: MetricType,
    /// The value.
    pub value: f64,
    /// Extra data.
    pub metadata: Option<serde_json::Value>,
    /// When it was measured (default now).
    pub timestamp: Option<Timestamp>,
}

impl NewMetric {
    /// A metric of `project_id` measured now.
    pub fn new(project_id: impl Into<ProjectId>, metric_type: MetricType, value: f64) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            agent_id: None,
            task_id: None,
            metric_type,
            value,
            metadata: None,
            timestamp: None,
        }
    }
}

/// Filters for [`list`] and [`summarize`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricFilter {
    /// Only this type.
    pub metric_type: Option<MetricType>,
    /// Only this agent.
    pub agent_id: Option<AgentId>,
    /// Only this task.
    pub task_id: Option<TaskId>,
    /// Only at or after this time.
    pub since: Option<Timestamp>,
    /// Only before this time.
    pub until: Option<Timestamp>,
    /// Pagination (ignored by [`summarize`]).
    pub page: Page,
}

/// Aggregate of one metric type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The type.
    pub metric_type: MetricType,
    /// Number of measurements.
    pub count: i64,
    /// Sum of values.
    pub total: f64,
    /// Mean value.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// Expands to `query_as!(Metric, $head + <every column> + $tail, args..)`.
macro_rules! query_metrics {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Metric,
            $head + r#" id AS "id: MetricId", project_id AS "project_id: ProjectId", agent_id AS "agent_id?: AgentId", task_id AS "task_id?: TaskId",
                      type AS "metric_type: MetricType", value,
                      metadata AS "metadata?: Json<serde_json::Value>",
                      timestamp AS "timestamp: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Records a metric and returns the stored row. NaN and infinite values are rejected by
/// SQLite's `NOT NULL` (NaN binds as NULL) and reported as a constraint error.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewMetric) -> Result<Metric> {
    validate::finite(TABLE, "value", new.value)?;
    let id = new.id.unwrap_or_else(MetricId::generate);
    let timestamp = new.timestamp.unwrap_or_else(Timestamp::now);
    let metadata = new.metadata.map(Json);
    query_metrics!(
        "INSERT INTO metrics (id, project_id, agent_id, task_id, type, value, metadata, timestamp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.agent_id,
        new.task_id,
        new.metric_type,
        new.value,
        metadata,
        timestamp,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_metrics, "metrics", Metric, MetricId);

/// A project's metrics matching `filter`, oldest first (ties by id).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &MetricFilter,
) -> Result<Vec<Metric>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_metrics!(
        "SELECT",
        "FROM metrics
         WHERE project_id = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR agent_id = ?3)
               AND (?4 IS NULL OR task_id = ?4) AND (?5 IS NULL OR timestamp >= ?5)
               AND (?6 IS NULL OR timestamp < ?6)
         ORDER BY timestamp, id LIMIT ?7 OFFSET ?8",
        project_id,
        filter.metric_type,
        filter.agent_id,
        filter.task_id,
        filter.since,
        filter.until,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Count, total, mean, min and max per metric type for a project, in type order.
pub async fn summarize<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &MetricFilter,
) -> Result<Vec<MetricSummary>> {
    sqlx::query_as!(
        MetricSummary,
        r#"SELECT type AS "metric_type!: MetricType", COUNT(*) AS "count!: i64",
                  TOTAL(value) AS "total!: f64", AVG(value) AS "mean!: f64",
                  MIN(value) AS "min!: f64", MAX(value) AS "max!: f64"
           FROM metrics
           WHERE project_id = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR agent_id = ?3)
                 AND (?4 IS NULL OR task_id = ?4) AND (?5 IS NULL OR timestamp >= ?5)
                 AND (?6 IS NULL OR timestamp < ?6)
           GROUP BY type ORDER BY type"#,
        project_id,
        filter.metric_type,
        filter.agent_id,
        filter.task_id,
        filter.since,
        filter.until,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("metrics", MetricId);

text_enum! {
    /// How [`group_by`] groups measurements (besides their type).
    pub enum MetricGrouping {
        /// By agent (`""` for measurements of no agent).
        Agent = "agent",
        /// By type alone.
        Type = "type",
        /// By hour (the group is the hour's start, epoch milliseconds).
        Hour = "hour",
        /// By day, UTC (the group is the day's start, epoch milliseconds).
        Day = "day",
    }
}

/// One group of [`group_by`]: the measurements of one type in one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricGroup {
    /// The agent id, the type, or the bucket's start in epoch milliseconds (as text).
    pub group: String,
    /// The type.
    pub metric_type: MetricType,
    /// Number of measurements.
    pub count: i64,
    /// Sum of values.
    pub total: f64,
    /// Mean value.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sum of the `cost_usd` numbers recorded in the measurements' metadata.
    pub cost_usd: f64,
}

/// A project's measurements matching `filter` (its page is ignored), summarised per group and
/// type, ordered by group then type.
pub async fn group_by<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    grouping: MetricGrouping,
    filter: &MetricFilter,
) -> Result<Vec<MetricGroup>> {
    sqlx::query_as!(
        MetricGroup,
        r#"SELECT CASE ?2 WHEN 'agent' THEN COALESCE(agent_id, '')
                          WHEN 'type' THEN type
                          WHEN 'hour' THEN CAST(timestamp - timestamp % 3600000 AS TEXT)
                          ELSE CAST(timestamp - timestamp % 86400000 AS TEXT) END AS "group!: String",
                  type AS "metric_type!: MetricType", COUNT(*) AS "count!: i64",
                  TOTAL(value) AS "total!: f64", AVG(value) AS "mean!: f64",
                  MIN(value) AS "min!: f64", MAX(value) AS "max!: f64",
                  TOTAL(json_extract(metadata, '$.cost_usd')) AS "cost_usd!: f64"
           FROM metrics
           WHERE project_id = ?1 AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR agent_id = ?4)
                 AND (?5 IS NULL OR task_id = ?5) AND (?6 IS NULL OR timestamp >= ?6)
                 AND (?7 IS NULL OR timestamp < ?7)
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        project_id,
        grouping,
        filter.metric_type,
        filter.agent_id,
        filter.task_id,
        filter.since,
        filter.until,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}
