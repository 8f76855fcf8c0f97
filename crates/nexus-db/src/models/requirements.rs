//! `requirements`: requirements extracted from interview sessions, with user stories,
//! acceptance criteria and links to features.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use super::Page;
use super::{JsonList, json_list};
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{ProjectId, RequirementId, Timestamp};

const TABLE: &str = "requirements";

text_enum! {
    /// How important a requirement is.
    pub enum RequirementPriority { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

/// A row of `requirements`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Requirement {
    /// Primary key.
    pub id: RequirementId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Category (free text, e.g. "functional", "security").
    pub category: String,
    /// Full description.
    pub description: String,
    /// Priority.
    pub priority: RequirementPriority,
    /// Where it came from.
    pub source: Option<String>,
    /// User stories.
    pub user_stories: Vec<String>,
    /// Acceptance criteria.
    pub acceptance_criteria: Vec<String>,
    /// Ids of the features it links to.
    pub linked_features: Vec<String>,
    /// Whether the user validated it.
    pub validated: bool,
    /// Extraction confidence, 0 to 1.
    pub confidence: f64,
    /// Tags.
    pub tags: Vec<String>,
    /// When the row was created.
    pub created_at: Timestamp,
}

/// A requirement to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequirement {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<RequirementId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// Priority (default medium).
    pub priority: RequirementPriority,
    /// Source.
    pub source: Option<String>,
    /// User stories.
    pub user_stories: Vec<String>,
    /// Acceptance criteria.
    pub acceptance_criteria: Vec<String>,
    /// Linked feature ids.
    pub linked_features: Vec<String>,
    /// Confidence (default 1.0).
    pub confidence: f64,
    /// Tags.
    pub tags: Vec<String>,
}

impl NewRequirement {
    /// A medium-priority requirement of `project_id`.
    pub fn new(
        project_id: impl Into<ProjectId>,
        category: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            category: category.into(),
            description: description.into(),
            priority: RequirementPriority::Medium,
            source: None,
            user_stories: Vec::new(),
            acceptance_criteria: Vec::new(),
            linked_features: Vec::new(),
            confidence: 1.0,
            tags: Vec::new(),
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequirementFilter {
    /// Only this category.
    pub category: Option<String>,
    /// Only this priority.
    pub priority: Option<RequirementPriority>,
    /// Only validated (true) or unvalidated (false) requirements.
    pub validated: Option<bool>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Requirement, $head + <every column> + $tail, args..)`.
macro_rules! query_requirements {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Requirement,
            $head + r#" id AS "id: RequirementId", project_id AS "project_id: ProjectId", category, description, priority AS "priority: RequirementPriority",
                      source AS "source?", user_stories AS "user_stories!: JsonList",
                      acceptance_criteria AS "acceptance_criteria!: JsonList",
                      linked_features AS "linked_features!: JsonList",
                      validated AS "validated: bool", confidence, tags AS "tags!: JsonList",
                      created_at AS "created_at: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a requirement and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewRequirement) -> Result<Requirement> {
    let id = new.id.unwrap_or_else(RequirementId::generate);
    let now = Timestamp::now();
    let (stories, criteria) = (json_list(&new.user_stories), json_list(&new.acceptance_criteria));
    let (linked, tags) = (json_list(&new.linked_features), json_list(&new.tags));
    query_requirements!(
        "INSERT INTO requirements (id, project_id, category, description, priority, source,
                                   user_stories, acceptance_criteria, linked_features, confidence,
                                   tags, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.category,
        new.description,
        new.priority,
        new.source,
        stories,
        criteria,
        linked,
        new.confidence,
        tags,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_requirements, "requirements", Requirement, RequirementId);

get_many_by_id!(query_requirements, "requirements", Requirement, RequirementId);

/// A project's requirements matching `filter`, oldest first (ties by id).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    filter: &RequirementFilter,
) -> Result<Vec<Requirement>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_requirements!(
        "SELECT",
        "FROM requirements
         WHERE project_id = ?1 AND (?2 IS NULL OR category = ?2) AND (?3 IS NULL OR priority = ?3)
               AND (?4 IS NULL OR validated = ?4)
         ORDER BY created_at, id LIMIT ?5 OFFSET ?6",
        project_id,
        filter.category,
        filter.priority,
        filter.validated,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes every mutable field of `requirement` and returns the stored row.
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, requirement: &Requirement) -> Result<Requirement> {
    query_requirements!(
        "UPDATE requirements
         SET category = ?, description = ?, priority = ?, source = ?, user_stories = ?,
             acceptance_criteria = ?, linked_features = ?, validated = ?, confidence = ?, tags = ?
         WHERE id = ? RETURNING",
        "",
        requirement.category,
        requirement.description,
        requirement.priority,
        requirement.source,
        json_list(&requirement.user_stories),
        json_list(&requirement.acceptance_criteria),
        json_list(&requirement.linked_features),
        requirement.validated,
        requirement.confidence,
        json_list(&requirement.tags),
        requirement.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &requirement.id)
}

/// Marks the requirement as validated by the user.
pub async fn validate<'e>(ex: impl SqliteExecutor<'e>, id: &RequirementId) -> Result<Requirement> {
    query_requirements!("UPDATE requirements SET validated = 1 WHERE id = ? RETURNING", "", id)
        .fetch_all(ex)
        .await
        .returned_row(TABLE, id)
}

/// Writes `requirement` exactly as given, every column including its timestamps: inserted when its
/// id is new, replaced in place when it exists (never deleted and re-inserted, so nothing
/// cascades). An id that belongs to another project is refused with `InvalidValue`. Used to
/// save and restore project states.
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, requirement: &Requirement) -> Result<()> {
    let done = sqlx::query!(
        "INSERT INTO requirements (id, project_id, category, description, priority, source,
                                   user_stories, acceptance_criteria, linked_features, validated,
                                   confidence, tags, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             category = excluded.category, description = excluded.description,
             priority = excluded.priority, source = excluded.source,
             user_stories = excluded.user_stories, acceptance_criteria = excluded.acceptance_criteria,
             linked_features = excluded.linked_features, validated = excluded.validated,
             confidence = excluded.confidence, tags = excluded.tags, created_at = excluded.created_at
         WHERE requirements.project_id = excluded.project_id",
        requirement.id,
        requirement.project_id,
        requirement.category,
        requirement.description,
        requirement.priority,
        requirement.source,
        json_list(&requirement.user_stories),
        json_list(&requirement.acceptance_criteria),
        json_list(&requirement.linked_features),
        requirement.validated,
        requirement.confidence,
        json_list(&requirement.tags),
        requirement.created_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    super::put_applied(TABLE, done.rows_affected())
}

delete_absent_in_project!("requirements", RequirementId);

delete_by_id!("requirements", RequirementId);
