//! `features`: high-level features of a project, extracted from its requirements. Deleting a
//! feature deletes its sub-features and detaches its tasks (`feature_id` becomes NULL).

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{FeatureId, ProjectId, Timestamp};

const TABLE: &str = "features";

text_enum! {
    /// MoSCoW priority.
    pub enum FeaturePriority { Must = "must", Should = "should", Could = "could", Wont = "wont" }
}

text_enum! {
    /// Lifecycle of a feature or sub-feature.
    pub enum WorkStatus {
        Backlog = "backlog",
        Planned = "planned",
        InProgress = "in_progress",
        InReview = "in_review",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// How much planning a feature needs.
    pub enum Complexity { Simple = "simple", Complex = "complex" }
}

/// A row of `features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Feature {
    /// Primary key.
    pub id: FeatureId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// MoSCoW priority.
    pub priority: FeaturePriority,
    /// Lifecycle status.
    pub status: WorkStatus,
    /// Simple or complex.
    pub complexity: Complexity,
    /// Estimated number of tasks.
    pub estimated_tasks: i64,
    /// Tasks completed so far.
    pub completed_tasks: i64,
    /// When the row was created.
    pub created_at: Timestamp,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

/// A feature to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeature {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<FeatureId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// MoSCoW priority (default should).
    pub priority: FeaturePriority,
    /// Initial status (default backlog).
    pub status: WorkStatus,
    /// Complexity (default simple).
    pub complexity: Complexity,
    /// Estimated number of tasks (default 0).
    pub estimated_tasks: i64,
}

impl NewFeature {
    /// A backlog feature named `name` in `project_id`.
    pub fn new(project_id: impl Into<ProjectId>, name: impl Into<String>) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            name: name.into(),
            description: None,
            priority: FeaturePriority::Should,
            status: WorkStatus::Backlog,
            complexity: Complexity::Simple,
            estimated_tasks: 0,
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureFilter {
    /// Only features with this status.
    pub status: Option<WorkStatus>,
    /// Only features with this priority.
    pub priority: Option<FeaturePriority>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Feature, $head + <every column> + $tail, args..)`.
macro_rules! query_features {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Feature,
            $head + r#" id AS "id: FeatureId", project_id AS "project_id: ProjectId", name, description AS "description?",
                      priority AS "priority: FeaturePriority", status AS "status: WorkStatus",
                      complexity AS "complexity: Complexity", estimated_tasks, completed_tasks,
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a feature and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewFeature) -> Result<Feature> {
    let id = new.id.unwrap_or_else(FeatureId::generate);
    let now = Timestamp::now();
    query_features!(
        "INSERT INTO features (id, project_id, name, description, priority, status, complexity,
                               estimated_tasks, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.name,
        new.description,
        new.priority,
        new.status,
        new.complexity,
        new.estimated_tasks,
        now,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_features, "features", Feature, FeatureId);

/// A project's features matching `filter`, by MoSCoW priority, then creation, then id.
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &FeatureFilter,
) -> Result<Vec<Feature>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_features!(
        "SELECT",
        "FROM features
         WHERE project_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR priority = ?3)
         ORDER BY CASE priority WHEN 'must' THEN 0 WHEN 'should' THEN 1 WHEN 'could' THEN 2 ELSE 3 END,
                  created_at, id
         LIMIT ?4 OFFSET ?5",
        project_id,
        filter.status,
        filter.priority,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes every mutable field of `feature`, sets `updated_at`, returns the stored row.
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, feature: &Feature) -> Result<Feature> {
    let now = Timestamp::now();
    query_features!(
        "UPDATE features
         SET name = ?, description = ?, priority = ?, status = ?, complexity = ?,
             estimated_tasks = ?, completed_tasks = ?, updated_at = ?
         WHERE id = ? RETURNING",
        "",
        feature.name,
        feature.description,
        feature.priority,
        feature.status,
        feature.complexity,
        feature.estimated_tasks,
        feature.completed_tasks,
        now,
        feature.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &feature.id)
}

/// Sets the feature's status.
pub async fn set_status<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &FeatureId,
    status: WorkStatus,
) -> Result<Feature> {
    let now = Timestamp::now();
    query_features!(
        "UPDATE features SET status = ?, updated_at = ? WHERE id = ? RETURNING",
        "",
        status,
        now,
        id
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Counts one more completed task for the feature.
pub async fn record_task_completed<'e>(ex: impl SqliteExecutor<'e>, id: &FeatureId) -> Result<Feature> {
    let now = Timestamp::now();
    query_features!(
        "UPDATE features SET completed_tasks = completed_tasks + 1, updated_at = ? WHERE id = ? RETURNING",
        "",
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Writes `feature` exactly as given, every column including its timestamps: inserted when its
/// id is new, replaced in place when it exists (never deleted and re-inserted, so nothing
/// cascades). An id that belongs to another project is refused with `InvalidValue`. Used to
/// save and restore project states.
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, feature: &Feature) -> Result<()> {
    let done = sqlx::query!(
        "INSERT INTO features (id, project_id, name, description, priority, status, complexity,
                               estimated_tasks, completed_tasks, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, description = excluded.description, priority = excluded.priority,
             status = excluded.status, complexity = excluded.complexity,
             estimated_tasks = excluded.estimated_tasks, completed_tasks = excluded.completed_tasks,
             created_at = excluded.created_at, updated_at = excluded.updated_at
         WHERE features.project_id = excluded.project_id",
        feature.id,
        feature.project_id,
        feature.name,
        feature.description,
        feature.priority,
        feature.status,
        feature.complexity,
        feature.estimated_tasks,
        feature.completed_tasks,
        feature.created_at,
        feature.updated_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    super::put_applied(TABLE, done.rows_affected())
}

delete_absent_in_project!("features", FeatureId);

delete_by_id!("features", FeatureId);
