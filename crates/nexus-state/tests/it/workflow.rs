//! The workflow checks references and keeps counters, progress and metrics in step.

use nexus_db::continue_points::NewContinuePoint;
use nexus_db::metrics::{self, MetricFilter, MetricType};
use nexus_db::tasks::{self, NewTask, TaskStatus};
use nexus_db::{agents, features};
use nexus_state::{StateError, resume, save_continue_point, workflow};

use crate::support::{TestResult, fixture};

#[tokio::test]
async fn unknown_agents_and_dependencies_are_refused() -> TestResult {
    let f = fixture().await?;
    let unknown = workflow::start(&f.db, &f.first.id, &"ghost".into()).await;
    assert!(
        matches!(unknown, Err(StateError::UnknownAgent { ref agent, .. }) if agent == "ghost"),
        "{unknown:?}"
    );
    let unfinished = workflow::start(&f.db, &f.second.id, &f.agent.id).await;
    assert!(
        matches!(unfinished, Err(StateError::UnfinishedDependency { ref dependency, .. }) if *dependency == f.first.id),
        "{unfinished:?}"
    );
    let mut new = NewTask::new(&f.project, "depends on nothing real");
    new.depends_on = vec!["no-such-task".into()];
    let refused = workflow::create_task(&f.db, new).await;
    assert!(matches!(refused, Err(StateError::UnknownDependency { .. })), "{refused:?}");
    assert_eq!(tasks::get(f.db.reader(), &f.second.id).await?.status, TaskStatus::Pending, "nothing changed");
    let blocked = workflow::block(&f.db, &f.first.id, &"no-such-task".into()).await;
    assert!(matches!(blocked, Err(StateError::UnknownDependency { .. })), "{blocked:?}");
    Ok(())
}

#[tokio::test]
async fn completing_counts_for_the_agent_the_feature_and_the_metrics() -> TestResult {
    let f = fixture().await?;
    assert_eq!(
        workflow::ready(&f.db, &f.project, 10).await?.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&f.first.id]
    );
    workflow::start(&f.db, &f.first.id, &f.agent.id).await?;
    assert_eq!(agents::get(f.db.reader(), &f.agent.id).await?.current_task_id.as_ref(), Some(&f.first.id));
    let done = workflow::complete(&f.db, &f.first.id, Some(7)).await?;
    assert_eq!(done.status, TaskStatus::Completed);
    let agent = agents::get(f.db.reader(), &f.agent.id).await?;
    assert_eq!((agent.tasks_completed, agent.current_task_id), (1, None));
    let feature_id = done.feature_id.clone().ok_or("the task has a feature")?;
    assert_eq!(features::get(f.db.reader(), &feature_id).await?.completed_tasks, 1);
    let durations = metrics::list(
        f.db.reader(),
        &f.project,
        &MetricFilter { metric_type: Some(MetricType::TaskDuration), ..MetricFilter::default() },
    )
    .await?;
    assert_eq!(durations.iter().map(|m| m.value).collect::<Vec<_>>(), [7.0]);
    // Its dependency completed: the second task is ready and may start.
    assert_eq!(
        workflow::ready(&f.db, &f.project, 10).await?.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&f.second.id]
    );
    workflow::start(&f.db, &f.second.id, &f.agent.id).await?;
    Ok(())
}

#[tokio::test]
async fn failing_counts_a_qa_iteration_and_a_failure() -> TestResult {
    let f = fixture().await?;
    workflow::start(&f.db, &f.first.id, &f.agent.id).await?;
    let failed = workflow::fail(&f.db, &f.first.id, "tests red").await?;
    assert_eq!(
        (failed.task.status, failed.task.qa_iterations, failed.qa_exhausted),
        (TaskStatus::Failed, 1, false)
    );
    assert_eq!(failed.task.notes, ["tests red"]);
    assert_eq!(agents::get(f.db.reader(), &f.agent.id).await?.tasks_failed, 1);
    Ok(())
}

#[tokio::test]
async fn continue_points_need_a_real_task_and_resume_newest_first() -> TestResult {
    let f = fixture().await?;
    let refused = save_continue_point(&f.db, NewContinuePoint::new(&f.project, "ghost", "edited")).await;
    assert!(matches!(refused, Err(StateError::UnknownTask { .. })), "{refused:?}");
    save_continue_point(&f.db, NewContinuePoint::new(&f.project, &f.first.id, "step 1")).await?;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    save_continue_point(&f.db, NewContinuePoint::new(&f.project, &f.second.id, "other task")).await?;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    save_continue_point(&f.db, NewContinuePoint::new(&f.project, &f.first.id, "step 2")).await?;
    let points = resume(&f.db, &f.project).await?;
    assert_eq!(points.iter().map(|p| p.last_action.as_str()).collect::<Vec<_>>(), ["step 2", "other task"]);
    assert_eq!(nexus_state::history(&f.db, &f.project, &f.first.id).await?.len(), 2);
    let state = nexus_state::load(&f.db, &f.project).await?;
    assert_eq!(state.continue_points, points);
    Ok(())
}
