//! Continue points: where an agent stopped on a task, saved with the task checked, and read
//! back to resume a project (the latest point of each unfinished task) or a task's history.

use nexus_db::continue_points::{self, ContinuePoint, ContinuePointFilter, NewContinuePoint};
use nexus_db::{Db, DbError, ProjectId, TaskId, tasks};

use crate::error::{Result, StateError};

/// Saves a continue point after checking that its task exists in its project.
pub async fn save_continue_point(db: &Db, new: NewContinuePoint) -> Result<ContinuePoint> {
    let mut tx = db.begin().await?;
    match tasks::get(&mut *tx, &new.task_id).await {
        Ok(task) if task.project_id == new.project_id => {}
        Ok(_) | Err(DbError::NotFound { .. }) => {
            return Err(StateError::UnknownTask {
                project: new.project_id.clone(),
                task: new.task_id.clone(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    let point = continue_points::create(&mut *tx, new).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(point)
}

/// Where to pick the project's work up: the latest continue point of each unfinished task,
/// newest first.
pub async fn resume(db: &Db, project: &ProjectId) -> Result<Vec<ContinuePoint>> {
    Ok(continue_points::latest_for_unfinished_tasks(db.reader(), project).await?)
}

/// Every continue point of a task, newest first.
pub async fn history(db: &Db, project: &ProjectId, task: &TaskId) -> Result<Vec<ContinuePoint>> {
    let filter = ContinuePointFilter { task_id: Some(task.clone()), ..ContinuePointFilter::default() };
    Ok(continue_points::list(db.reader(), project, &filter).await?)
}
