//! `projects`: the root of everything an orchestrator tracks. Deleting a project deletes its
//! features, tasks, checkpoints, requirements, metrics, sessions, episodes, continue points
//! and code chunks (`ON DELETE CASCADE`).

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Acquire, Sqlite, SqliteExecutor};

use super::Page;
use crate::error::{OptionExt, Result, ResultExt, ReturningExt};
use crate::{ProjectId, Timestamp};

const TABLE: &str = "projects";

text_enum! {
    /// Whether the project starts from nothing or evolves an existing codebase.
    pub enum ProjectMode { Genesis = "genesis", Evolution = "evolution" }
}

text_enum! {
    /// Lifecycle of a project.
    pub enum ProjectStatus {
        Created = "created",
        Planning = "planning",
        InProgress = "in_progress",
        Paused = "paused",
        Completed = "completed",
        Failed = "failed",
    }
}

/// Per-project settings (the `settings` JSON column). Keys this version does not know are
/// kept in `extra` and written back unchanged, so round trips are lossless.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectSettings {
    /// Maximum number of agents working on the project at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_agents: Option<u32>,
    /// Default model for new agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Command that runs the project's tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_command: Option<String>,
    /// Any other settings.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A row of `projects`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Project {
    /// Primary key.
    pub id: ProjectId,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Genesis or evolution.
    pub mode: ProjectMode,
    /// Lifecycle status.
    pub status: ProjectStatus,
    /// Filesystem path of the project's tree.
    pub root_path: String,
    /// Git repository URL.
    pub repository_url: Option<String>,
    /// Typed settings.
    pub settings: Option<Json<ProjectSettings>>,
    /// When the row was created.
    pub created_at: Timestamp,
    /// When the row was last changed.
    pub updated_at: Timestamp,
    /// When the project reached `completed`.
    pub completed_at: Option<Timestamp>,
}

/// A project to insert. `NewProject::new` fills the defaults (mode genesis, status created).
#[derive(Debug, Clone, PartialEq)]
pub struct NewProject {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<ProjectId>,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Genesis or evolution.
    pub mode: ProjectMode,
    /// Initial status.
    pub status: ProjectStatus,
    /// Filesystem path of the project's tree.
    pub root_path: String,
    /// Git repository URL.
    pub repository_url: Option<String>,
    /// Typed settings.
    pub settings: Option<ProjectSettings>,
}

impl NewProject {
    /// A genesis project named `name` rooted at `root_path`.
    pub fn new(name: impl Into<String>, root_path: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            description: None,
            mode: ProjectMode::Genesis,
            status: ProjectStatus::Created,
            root_path: root_path.into(),
            repository_url: None,
            settings: None,
        }
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectFilter {
    /// Only projects with this status.
    pub status: Option<ProjectStatus>,
    /// Pagination.
    pub page: Page,
}

/// Expands to `query_as!(Project, $head + <every column> + $tail, args..)`, so SELECT and
/// RETURNING statements share one column list with the type overrides.
macro_rules! query_projects {
    ($head:literal $(+ $head_more:literal)*, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Project,
            $head $(+ $head_more)* + r#" id AS "id: ProjectId", name, description AS "description?", mode AS "mode: ProjectMode",
                      status AS "status: ProjectStatus", root_path, repository_url AS "repository_url?",
                      settings AS "settings?: Json<ProjectSettings>",
                      created_at AS "created_at: Timestamp", updated_at AS "updated_at: Timestamp",
                      completed_at AS "completed_at?: Timestamp" "# + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts `$new` with `$on_conflict` between `VALUES` and `RETURNING`, through `$ex`;
/// evaluates to `(id, returned rows)`.
macro_rules! insert_project {
    ($ex:expr, $new:expr, $on_conflict:literal) => {{
        let new: NewProject = $new;
        let id = new.id.unwrap_or_else(ProjectId::generate);
        let now = Timestamp::now();
        let settings = new.settings.map(Json);
        let rows = query_projects!(
            "INSERT INTO projects (id, name, description, mode, status, root_path, repository_url,
                                   settings, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                + $on_conflict
                + " RETURNING",
            "",
            id,
            new.name,
            new.description,
            new.mode,
            new.status,
            new.root_path,
            new.repository_url,
            settings,
            now,
            now,
        )
        .fetch_all($ex)
        .await;
        (id, rows)
    }};
}

/// Inserts a project and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewProject) -> Result<Project> {
    let (id, rows) = insert_project!(ex, new, "");
    rows.returned_row(TABLE, &id)
}

get_by_id!(query_projects, "projects", Project, ProjectId);

/// The project with this name, if any (names are unique).
pub async fn find_by_name<'e>(ex: impl SqliteExecutor<'e>, name: &str) -> Result<Option<Project>> {
    query_projects!("SELECT", "FROM projects WHERE name = ?", name).fetch_optional(ex).await.in_table(TABLE)
}

/// The project named `new.name`, created from `new` when there is none; the flag says whether
/// it was created. Atomic: two callers (in this process or another) racing to create the same
/// name get the same project. An existing project is returned unchanged (`new`'s other fields
/// are ignored).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_db::Result<()> {
/// use nexus_db::{Db, projects::{self, NewProject}};
/// let db = Db::in_memory().await?;
/// let (first, created) = projects::get_or_create(db.writer(), NewProject::new("shop", "/a")).await?;
/// let (again, created_again) = projects::get_or_create(db.writer(), NewProject::new("shop", "/b")).await?;
/// assert!(created && !created_again);
/// assert_eq!((first.id, again.root_path.as_str()), (again.id.clone(), "/a"));
/// # Ok(()) }
/// ```
pub async fn get_or_create<'a>(
    conn: impl Acquire<'a, Database = Sqlite>,
    new: NewProject,
) -> Result<(Project, bool)> {
    let mut conn = conn.acquire().await.in_table(TABLE)?;
    let name = new.name.clone();
    let (_, rows) = insert_project!(&mut *conn, new, "ON CONFLICT (name) DO NOTHING");
    let created = rows.first_row(TABLE)?;
    match created {
        Some(project) => Ok((project, true)),
        None => find_by_name(&mut *conn, &name).await?.found(TABLE, &name).map(|p| (p, false)),
    }
}

/// Projects matching `filter`, oldest first (ties by id).
pub async fn list<'e>(ex: impl SqliteExecutor<'e>, filter: &ProjectFilter) -> Result<Vec<Project>> {
    let (limit, offset) = (filter.page.sql_limit(), filter.page.sql_offset());
    query_projects!(
        "SELECT",
        "FROM projects WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at, id LIMIT ?2 OFFSET ?3",
        filter.status,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// Writes every mutable field of `project` (all but `id` and `created_at`), sets `updated_at`,
/// and returns the stored row. Reaching `completed` sets `completed_at` if it was unset.
/// Read, change and write in one transaction when other writers may touch the same project.
pub async fn update<'e>(ex: impl SqliteExecutor<'e>, project: &Project) -> Result<Project> {
    let now = Timestamp::now();
    query_projects!(
        "UPDATE projects
         SET name = ?1, description = ?2, mode = ?3, status = ?4, root_path = ?5,
             repository_url = ?6, settings = ?7, updated_at = ?8,
             completed_at = CASE WHEN ?4 = 'completed' THEN COALESCE(?9, completed_at, ?8) ELSE ?9 END
         WHERE id = ?10 RETURNING",
        "",
        project.name,
        project.description,
        project.mode,
        project.status,
        project.root_path,
        project.repository_url,
        project.settings,
        now,
        project.completed_at,
        project.id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &project.id)
}

/// Sets the project's status (and `completed_at` when it becomes `completed`).
pub async fn set_status<'e>(
    ex: impl SqliteExecutor<'e>,
    id: &ProjectId,
    status: ProjectStatus,
) -> Result<Project> {
    let now = Timestamp::now();
    query_projects!(
        "UPDATE projects
         SET status = ?1, updated_at = ?2,
             completed_at = CASE WHEN ?1 = 'completed' THEN COALESCE(completed_at, ?2) ELSE completed_at END
         WHERE id = ?3 RETURNING",
        "",
        status,
        now,
        id,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

/// Writes `project` exactly as given, every column including its timestamps: inserted when
/// its id is new, replaced in place when it exists (never deleted and re-inserted, so nothing
/// cascades). Used to save and restore project states.
pub async fn put<'e>(ex: impl SqliteExecutor<'e>, project: &Project) -> Result<()> {
    sqlx::query!(
        "INSERT INTO projects (id, name, description, mode, status, root_path, repository_url,
                               settings, created_at, updated_at, completed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, description = excluded.description, mode = excluded.mode,
             status = excluded.status, root_path = excluded.root_path,
             repository_url = excluded.repository_url, settings = excluded.settings,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             completed_at = excluded.completed_at",
        project.id,
        project.name,
        project.description,
        project.mode,
        project.status,
        project.root_path,
        project.repository_url,
        project.settings,
        project.created_at,
        project.updated_at,
        project.completed_at,
    )
    .execute(ex)
    .await
    .in_table(TABLE)?;
    Ok(())
}

delete_by_id!("projects", ProjectId);
