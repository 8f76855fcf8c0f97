//! [`save`]: writes a [`ProjectState`]'s planning rows back in one transaction, so the
//! database ends exactly equal to it — refusing a stale state unless forced.

use std::collections::{HashMap, HashSet};

use nexus_db::features::Feature;
use nexus_db::requirements::Requirement;
use nexus_db::sub_features::SubFeature;
use nexus_db::tasks::Task;
use nexus_db::{
    Db, DbError, FeatureId, ProjectId, RequirementId, SubFeatureId, TaskId, agents, features, projects,
    requirements, sub_features, tasks,
};
use sqlx::SqliteConnection;
use tracing::info;

use crate::error::{Result, StateError};
use crate::snapshot::{Planning, ProjectState, STATE_VERSION, load};

/// How [`save`] treats a state loaded before another writer changed the project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SaveMode {
    /// Refuse with [`StateError::Conflict`] (the default).
    #[default]
    CheckRevision,
    /// Overwrite whatever the project holds now.
    Force,
}

/// Writes `state`'s planning rows (project, features, sub-features, tasks, requirements) in
/// one write transaction so the database ends exactly equal to them: changed rows updated,
/// missing rows inserted, rows absent from the state deleted, timestamps kept as given. The
/// state's agents are written too (inserted or updated, never deleted: agents are shared by
/// projects); sessions, checkpoints, continue points and the summary are context and are not
/// written.
///
/// Refused, with nothing written: a state of another version, a state that contradicts
/// itself ([`StateError::InvalidState`]: a task naming a feature or dependency the state does
/// not hold, duplicate ids, rows of another project), and — unless `mode` is
/// [`SaveMode::Force`] — a state whose revision is no longer the project's
/// ([`StateError::Conflict`]). A project absent from the database is created with the same ids.
///
/// Returns the state as stored (with its new revision), ready for the next save.
pub async fn save(db: &Db, state: &ProjectState, mode: SaveMode) -> Result<ProjectState> {
    if state.version != STATE_VERSION {
        return Err(StateError::UnsupportedVersion { found: state.version, supported: STATE_VERSION });
    }
    let planning = Planning::of(state);
    validate_planning(&planning)?;
    let mut tx = db.begin().await?;
    let project_id = &state.project.id;
    let current = Planning::read(&mut tx, project_id).await?;
    if mode == SaveMode::CheckRevision
        && let Some(current) = &current
    {
        let found = current.revision();
        if found != state.revision {
            return Err(StateError::Conflict {
                project: project_id.clone(),
                expected: state.revision.clone(),
                found,
            });
        }
    }
    write_planning(&mut tx, &planning, current.as_ref()).await?;
    for agent in &state.agents {
        agents::put(&mut *tx, agent).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    info!(project = %project_id, tasks = state.tasks.len(), "saved project state");
    load(db, project_id).await
}

/// Makes the project's planning rows exactly `target` on `conn` (inside the caller's
/// transaction): deletes what it does not hold, then writes the rows that differ from
/// `current` (the rows as they are now; `None`: write every row), parents before children.
pub(crate) async fn write_planning(
    conn: &mut SqliteConnection,
    target: &Planning,
    current: Option<&Planning>,
) -> Result<()> {
    let project_id = &target.project.id;
    if current.is_none_or(|c| c.project != target.project) {
        projects::put(&mut *conn, &target.project).await?;
    }
    let now = current.map(Rows::of).unwrap_or_default();
    let wanted = Rows::of(target);
    if current.is_none() || now.tasks.keys().any(|id| !wanted.tasks.contains_key(id)) {
        let keep: Vec<_> = wanted.tasks.keys().map(|id| (*id).clone()).collect();
        tasks::delete_absent(&mut *conn, project_id, &keep).await?;
    }
    if current.is_none() || now.requirements.keys().any(|id| !wanted.requirements.contains_key(id)) {
        let keep: Vec<_> = wanted.requirements.keys().map(|id| (*id).clone()).collect();
        requirements::delete_absent(&mut *conn, project_id, &keep).await?;
    }
    if current.is_none() || now.sub_features.keys().any(|id| !wanted.sub_features.contains_key(id)) {
        let keep: Vec<_> = wanted.sub_features.keys().map(|id| (*id).clone()).collect();
        sub_features::delete_absent(&mut *conn, project_id, &keep).await?;
    }
    if current.is_none() || now.features.keys().any(|id| !wanted.features.contains_key(id)) {
        let keep: Vec<_> = wanted.features.keys().map(|id| (*id).clone()).collect();
        features::delete_absent(&mut *conn, project_id, &keep).await?;
    }
    for f in &target.features {
        if now.features.get(&f.feature.id) != Some(&&f.feature) {
            features::put(&mut *conn, &f.feature).await?;
        }
        for sub in &f.sub_features {
            if now.sub_features.get(&sub.id) != Some(&sub) {
                sub_features::put(&mut *conn, sub).await?;
            }
        }
    }
    for task in &target.tasks {
        if now.tasks.get(&task.id) != Some(&task) {
            tasks::put(&mut *conn, task).await?;
        }
    }
    for requirement in &target.requirements {
        if now.requirements.get(&requirement.id) != Some(&requirement) {
            requirements::put(&mut *conn, requirement).await?;
        }
    }
    Ok(())
}

/// A planning's rows by id.
#[derive(Default)]
struct Rows<'a> {
    features: HashMap<&'a FeatureId, &'a Feature>,
    sub_features: HashMap<&'a SubFeatureId, &'a SubFeature>,
    tasks: HashMap<&'a TaskId, &'a Task>,
    requirements: HashMap<&'a RequirementId, &'a Requirement>,
}

impl<'a> Rows<'a> {
    fn of(planning: &'a Planning) -> Self {
        Self {
            features: planning.features.iter().map(|f| (&f.feature.id, &f.feature)).collect(),
            sub_features: planning
                .features
                .iter()
                .flat_map(|f| &f.sub_features)
                .map(|s| (&s.id, s))
                .collect(),
            tasks: planning.tasks.iter().map(|t| (&t.id, t)).collect(),
            requirements: planning.requirements.iter().map(|r| (&r.id, r)).collect(),
        }
    }
}

/// Checks that planning rows hold together: every row of its project, no id twice, every
/// reference to a feature, sub-feature or task one the rows hold.
pub(crate) fn validate_planning(planning: &Planning) -> Result<()> {
    let project = &planning.project.id;
    let invalid = |reason: String| StateError::invalid(project, reason);
    let mut features = HashSet::new();
    let mut subs = HashSet::new();
    for f in &planning.features {
        check_owner(project, &f.feature.project_id, "feature", &f.feature.id)?;
        if !features.insert(&f.feature.id) {
            return Err(invalid(format!("feature {} appears twice", f.feature.id)));
        }
        for sub in &f.sub_features {
            if sub.feature_id != f.feature.id {
                return Err(invalid(format!(
                    "sub-feature {} is listed under feature {} but belongs to {}",
                    sub.id, f.feature.id, sub.feature_id
                )));
            }
            if !subs.insert(&sub.id) {
                return Err(invalid(format!("sub-feature {} appears twice", sub.id)));
            }
        }
    }
    let task_ids: HashSet<_> = planning.tasks.iter().map(|t| &t.id).collect();
    if task_ids.len() != planning.tasks.len() {
        return Err(invalid("a task id appears twice".to_owned()));
    }
    for task in &planning.tasks {
        check_owner(project, &task.project_id, "task", &task.id)?;
        if let Some(feature) = &task.feature_id
            && !features.contains(feature)
        {
            return Err(invalid(format!(
                "task {} names feature {feature}, which the state does not hold",
                task.id
            )));
        }
        if let Some(sub) = &task.sub_feature_id
            && !subs.contains(sub)
        {
            return Err(invalid(format!(
                "task {} names sub-feature {sub}, which the state does not hold",
                task.id
            )));
        }
        for dependency in task.depends_on.iter().chain(&task.blocked_by) {
            if !task_ids.contains(dependency) {
                return Err(StateError::UnknownDependency {
                    task: task.id.clone(),
                    dependency: dependency.clone(),
                });
            }
        }
    }
    let mut requirements = HashSet::new();
    for requirement in &planning.requirements {
        check_owner(project, &requirement.project_id, "requirement", &requirement.id)?;
        if !requirements.insert(&requirement.id) {
            return Err(invalid(format!("requirement {} appears twice", requirement.id)));
        }
    }
    Ok(())
}

fn check_owner(project: &ProjectId, owner: &ProjectId, what: &str, id: &str) -> Result<()> {
    if owner == project {
        Ok(())
    } else {
        Err(StateError::invalid(project, format!("{what} {id} belongs to project {owner}")))
    }
}
