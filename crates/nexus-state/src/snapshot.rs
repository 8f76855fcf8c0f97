//! [`ProjectState`]: everything an orchestrator needs about one project, read in one
//! consistent snapshot by [`load`]; its planning part ([`Planning`]) is what [`crate::save`]
//! writes and [`crate::restore`] rolls back, identified by a content digest (the revision).

use std::collections::{BTreeMap, HashMap};

use nexus_db::agents::{self, Agent};
use nexus_db::checkpoints::{self, Checkpoint, CheckpointTrigger};
use nexus_db::continue_points::{self, ContinuePoint};
use nexus_db::features::{self, Feature, FeatureFilter};
use nexus_db::projects::{self, Project};
use nexus_db::requirements::{self, Requirement, RequirementFilter};
use nexus_db::sessions::{self, Session, SessionFilter, SessionStatus};
use nexus_db::sub_features::{self, SubFeature, SubFeatureFilter};
use nexus_db::tasks::{self, Task, TaskStatus};
use nexus_db::{CheckpointId, Db, DbError, FeatureId, ProjectId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

use crate::error::{Result, StateError};

/// The version of [`ProjectState`]'s shape this build reads and writes (in checkpoints and
/// STATE.md files too).
pub const STATE_VERSION: u32 = 1;

/// One project's state: its planning rows, the agents, sessions and continue points of the
/// work in progress, the latest checkpoint and derived figures.
///
/// The planning part (project, features with sub-features, tasks, requirements) is what
/// [`crate::save`] writes back; the rest is context read with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectState {
    /// Shape version ([`STATE_VERSION`]).
    pub version: u32,
    /// Digest of the planning rows as loaded: [`crate::save`] refuses the state when the
    /// database no longer has this revision (another writer changed the project).
    pub revision: String,
    /// The project row.
    pub project: Project,
    /// Features, each with its sub-features, in creation order.
    pub features: Vec<FeatureState>,
    /// Tasks in priority order (then creation, then id).
    pub tasks: Vec<Task>,
    /// Requirements in creation order.
    pub requirements: Vec<Requirement>,
    /// Agents working on the project (assigned to one of its tasks, or whose current task is
    /// one), by id.
    pub agents: Vec<Agent>,
    /// Sessions not ended (active or paused), newest first.
    pub sessions: Vec<Session>,
    /// The project's most recent checkpoint.
    pub latest_checkpoint: Option<CheckpointSummary>,
    /// The latest continue point of every unfinished task, newest first.
    pub continue_points: Vec<ContinuePoint>,
    /// Figures derived from the rows above.
    pub summary: Summary,
}

/// A feature with its sub-features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureState {
    /// The feature row.
    pub feature: Feature,
    /// Its sub-features in creation order.
    pub sub_features: Vec<SubFeature>,
}

/// A checkpoint without its stored state: what a timeline shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    /// Its id.
    pub id: CheckpointId,
    /// Display name.
    pub name: Option<String>,
    /// Why it was taken.
    pub reason: Option<String>,
    /// What took it.
    pub triggered_by: CheckpointTrigger,
    /// The checkpoint it follows.
    pub parent_id: Option<CheckpointId>,
    /// The git commit of the project's tree at the time.
    pub git_commit: Option<String>,
    /// Whether that tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// When it was taken.
    pub created_at: Timestamp,
}

impl From<&Checkpoint> for CheckpointSummary {
    fn from(c: &Checkpoint) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            reason: c.reason.clone(),
            triggered_by: c.triggered_by,
            parent_id: c.parent_id.clone(),
            git_commit: c.git_commit.clone(),
            git_dirty: c.git_dirty,
            created_at: c.created_at,
        }
    }
}

/// Figures derived from a state's rows (recomputed on every load and import, never stored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of tasks.
    pub tasks_total: u64,
    /// Tasks per status (every status, zeros included).
    pub tasks_by_status: BTreeMap<TaskStatus, u64>,
    /// Completed tasks over all tasks (0 when there are none).
    pub progress: f64,
    /// Per feature, in the state's feature order.
    pub features: Vec<FeatureProgress>,
}

/// A feature's progress: its tasks, completed and in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureProgress {
    /// The feature.
    pub feature_id: FeatureId,
    /// Its tasks that are completed.
    pub completed: u64,
    /// All its tasks.
    pub total: u64,
    /// `completed / total` (0 when it has no tasks).
    pub progress: f64,
}

impl Summary {
    /// The figures of these features and tasks.
    pub fn of(features: &[FeatureState], tasks: &[Task]) -> Self {
        let mut tasks_by_status: BTreeMap<TaskStatus, u64> =
            TaskStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for task in tasks {
            *tasks_by_status.entry(task.status).or_default() += 1;
        }
        let tasks_total = tasks.len() as u64;
        let completed = tasks_by_status.get(&TaskStatus::Completed).copied().unwrap_or(0);
        let mut per_feature: HashMap<&FeatureId, (u64, u64)> = HashMap::new();
        for task in tasks {
            if let Some(feature) = &task.feature_id {
                let (done, total) = per_feature.entry(feature).or_default();
                *total += 1;
                *done += u64::from(task.status == TaskStatus::Completed);
            }
        }
        let features = features
            .iter()
            .map(|f| {
                let (done, total) = per_feature.get(&f.feature.id).copied().unwrap_or_default();
                FeatureProgress {
                    feature_id: f.feature.id.clone(),
                    completed: done,
                    total,
                    progress: ratio(done, total),
                }
            })
            .collect();
        Self { tasks_total, tasks_by_status, progress: ratio(completed, tasks_total), features }
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// The planning rows of a project: what save writes and restore rolls back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Planning {
    pub project: Project,
    pub features: Vec<FeatureState>,
    pub tasks: Vec<Task>,
    pub requirements: Vec<Requirement>,
}

impl Planning {
    /// Reads the project's planning rows, or `None` when there is no such project.
    pub(crate) async fn read(conn: &mut SqliteConnection, project_id: &ProjectId) -> Result<Option<Self>> {
        let project = match projects::get(&mut *conn, project_id).await {
            Ok(project) => project,
            Err(DbError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let features = features::list(&mut *conn, project_id, &FeatureFilter::default()).await?;
        let mut subs: BTreeMap<FeatureId, Vec<SubFeature>> = BTreeMap::new();
        for sub in
            sub_features::list_for_project(&mut *conn, project_id, &SubFeatureFilter::default()).await?
        {
            subs.entry(sub.feature_id.clone()).or_default().push(sub);
        }
        let features = features
            .into_iter()
            .map(|feature| {
                let sub_features = subs.remove(&feature.id).unwrap_or_default();
                FeatureState { feature, sub_features }
            })
            .collect();
        let tasks = tasks::list_all(&mut *conn, project_id).await?;
        let requirements = requirements::list(&mut *conn, project_id, &RequirementFilter::default()).await?;
        Ok(Some(Self { project, features, tasks, requirements }))
    }

    /// The state's planning part.
    pub(crate) fn of(state: &ProjectState) -> Self {
        Self {
            project: state.project.clone(),
            features: state.features.clone(),
            tasks: state.tasks.clone(),
            requirements: state.requirements.clone(),
        }
    }

    /// The planning part of a state it takes apart (no copy).
    pub(crate) fn from_state(state: ProjectState) -> Self {
        let ProjectState { project, features, tasks, requirements, .. } = state;
        Self { project, features, tasks, requirements }
    }

    /// The digest that identifies these rows: SHA-256 of their JSON form, in hex.
    pub(crate) fn revision(&self) -> String {
        let mut hasher = Sha256::new();
        // Serialising plain rows cannot fail (no maps with non-string keys, no NaN: the
        // database refuses non-finite numbers); an error would only weaken the digest.
        let _ = serde_json::to_writer(HashWriter(&mut hasher), self);
        nexus_db::hex(&hasher.finalize())
    }
}

/// Feeds `serde_json` output into a hasher without an intermediate buffer.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads the whole state of a project on `conn` (which should hold a transaction, so the
/// reads form one snapshot).
pub(crate) async fn read_state(conn: &mut SqliteConnection, project_id: &ProjectId) -> Result<ProjectState> {
    let planning = Planning::read(&mut *conn, project_id)
        .await?
        .ok_or_else(|| StateError::UnknownProject(project_id.to_string()))?;
    // The digest (a few MB of JSON for 10,000 tasks) is computed on a blocking thread while
    // this connection reads the rest.
    let digest = tokio::task::spawn_blocking(move || {
        let revision = planning.revision();
        (planning, revision)
    });
    let agents = agents::list_for_project(&mut *conn, project_id).await?;
    let mut sessions = Vec::new();
    for status in [SessionStatus::Active, SessionStatus::Paused] {
        let filter = SessionFilter { status: Some(status), ..SessionFilter::default() };
        sessions.extend(sessions::list(&mut *conn, project_id, &filter).await?);
    }
    sessions.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
    let latest_checkpoint =
        checkpoints::latest(&mut *conn, project_id).await?.as_ref().map(CheckpointSummary::from);
    let continue_points = continue_points::latest_for_unfinished_tasks(&mut *conn, project_id).await?;
    let (planning, revision) = digest.await.map_err(|e| StateError::Digest(e.to_string()))?;
    let Planning { project, features, tasks, requirements } = planning;
    let summary = Summary::of(&features, &tasks);
    Ok(ProjectState {
        version: STATE_VERSION,
        revision,
        project,
        features,
        tasks,
        requirements,
        agents,
        sessions,
        latest_checkpoint,
        continue_points,
        summary,
    })
}

/// Loads a project's state in one read transaction: a consistent snapshot even while
/// writers run.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nexus_db::{Db, projects::{self, NewProject}, tasks::{self, NewTask}};
/// let db = Db::in_memory().await?;
/// let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
/// tasks::create(db.writer(), NewTask::new(&project.id, "cart totals")).await?;
/// let state = nexus_state::load(&db, &project.id).await?;
/// assert_eq!((state.tasks.len(), state.summary.progress), (1, 0.0));
/// # Ok(()) }
/// ```
pub async fn load(db: &Db, project_id: &ProjectId) -> Result<ProjectState> {
    let mut tx = db.reader().begin().await.map_err(DbError::from)?;
    let state = read_state(&mut tx, project_id).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(state)
}

/// The project named `name_or_id`: by id first, then by name.
pub async fn find_project(db: &Db, name_or_id: &str) -> Result<Project> {
    match projects::get(db.reader(), &name_or_id.into()).await {
        Ok(project) => return Ok(project),
        Err(DbError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    projects::find_by_name(db.reader(), name_or_id)
        .await?
        .ok_or_else(|| StateError::UnknownProject(name_or_id.to_owned()))
}
