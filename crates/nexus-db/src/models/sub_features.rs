//! `sub_features`: finer-grained parts of a feature. Deleted with their feature.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use super::features::WorkStatus;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{FeatureId, ProjectId, SubFeatureId, Timestamp};

const TABLE: &str = "sub_features";

/// A row of `sub_features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SubFeature {
    /// Primary key.
    pub id: SubFeatureId,
    /// Owning feature.
    pub feature_id: FeatureId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Lifecycle status.
    pub status: WorkStatus,
    /// When the row was created.
    pub created_at: Timestamp,
}

/// A sub-feature to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubFeature {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<SubFeatureId>,
    /// Owning feature.
    pub feature_id: FeatureId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Initial status (default backlog).
    pub status: WorkStatus,
}

impl NewSubFeature {
    /// A backlog sub-feature named `name` of `feature_id`.
    pub fn new(feature_id: impl Into<FeatureId>, name: impl Into<String>) -> Self {
        Self {
            id: None,
            feature_id: feature_id.into(),
            name: name.into(),
            description: None,
            status: WorkStatus::Backlog,
        }
    }
}

/// Filters for [`list`] and [`list_for_project`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubFeatureFilter {
    /// Only sub-features with this status.
    pub status: Option<WorkStatus>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(SubFeature, $head + <every column> + $tail, args..)`.
macro_rules! query_sub_features {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SubFeature,
            $head + r#" id AS "id: SubFeatureId", feature_id AS "feature_id: FeatureId", name, description AS "description?", status AS "status: WorkStatus",
                      created_at AS "created_at: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a sub-feature and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewSubFeature) -> Result<SubFeature> {
    let id = new.id.unwrap_or_else(SubFeatureId::generate);
    let now = Timestamp::now();
    query_sub_features!(
        "INSERT INTO sub_features (id, feature_id, name, description, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.feature_id,
        new.name,
        new.description,
        new.status,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_sub_features, "sub_features", SubFeature, SubFeatureId);

/// A feature's sub-features matching `filter`, oldest first (ties by id).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    feature_id: &FeatureId,
    filter: &SubFeatureFilter,
) -> Result<Vec<SubFeature>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_sub_features!(
        "SELECT",
        "FROM sub_features WHERE feature_id = ?1 AND (?2 IS NULL OR status = ?2)
         ORDER BY created_at, id LIMIT ?3 OFFSET ?4",
        feature_id,
        filter.status,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Every sub-feature of a project's features matching `filter`, by feature, then creation.
pub async fn list_for_project<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &SubFeatureFilter,
) -> Result<Vec<SubFeature>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_sub_features!(
        "SELECT",
        "FROM sub_features
         WHERE feature_id IN (SELECT id FROM features WHERE project_id = ?1)
           AND (?2 IS NULL OR status = ?2)
         ORDER BY feature_id, created_at, id LIMIT ?3 OFFSET ?4",
        project_id,
        filter.status,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes the mutable fields of `sub_feature` (name, description, status).
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, sub_feature: &SubFeature) -> Result<SubFeature> {
    query_sub_features!(
        "UPDATE sub_features SET name = ?, description = ?, status = ? WHERE id = ? RETURNING",
        "",
        sub_feature.name,
        sub_feature.description,
        sub_feature.status,
        sub_feature.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &sub_feature.id)
}

/// Writes `sub_feature` exactly as given, every column including its timestamp: inserted when
/// its id is new, replaced in place when it exists. An id that belongs to another feature is
/// refused with `InvalidValue`. Used to save and restore project states.
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, sub_feature: &SubFeature) -> Result<()> {
    let done = sqlx::query!(
        "INSERT INTO sub_features (id, feature_id, name, description, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, description = excluded.description, status = excluded.status,
             created_at = excluded.created_at
         WHERE sub_features.feature_id = excluded.feature_id",
        sub_feature.id,
        sub_feature.feature_id,
        sub_feature.name,
        sub_feature.description,
        sub_feature.status,
        sub_feature.created_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    super::put_applied(TABLE, done.rows_affected())
}

/// Deletes the sub-features of the project's features whose ids are not in `keep`; returns
/// how many were deleted.
pub async fn delete_absent<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    keep: &[SubFeatureId],
) -> Result<u64> {
    let keep = sqlx::types::Json(keep);
    let done = sqlx::query!(
        "DELETE FROM sub_features
         WHERE feature_id IN (SELECT id FROM features WHERE project_id = ?)
           AND id NOT IN (SELECT value FROM json_each(?))",
        project_id,
        keep
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    Ok(done.rows_affected())
}

delete_by_id!("sub_features", SubFeatureId);
