//! `load` and `save`: one snapshot, exact write-back, stale states refused.

use nexus_db::tasks::{self, TaskStatus};
use nexus_db::{Timestamp, projects};
use nexus_state::{SaveMode, StateError, load, save};

use crate::support::{TempDb, TestResult, fixture};

#[tokio::test]
async fn load_reads_everything_with_derived_figures() -> TestResult {
    let f = fixture().await?;
    nexus_state::workflow::start(&f.db, &f.first.id, &f.agent.id).await?;
    let state = load(&f.db, &f.project).await?;
    assert_eq!(state.version, nexus_state::STATE_VERSION);
    assert_eq!((state.features.len(), state.features[0].sub_features.len()), (1, 1));
    assert_eq!((state.tasks.len(), state.requirements.len()), (2, 1));
    assert_eq!(state.agents.iter().map(|a| &a.id).collect::<Vec<_>>(), [&f.agent.id]);
    assert_eq!(state.summary.tasks_total, 2);
    assert_eq!(state.summary.tasks_by_status[&TaskStatus::InProgress], 1);
    assert_eq!(state.summary.features[0].total, 1);
    assert!(matches!(
        load(&f.db, &"missing".into()).await,
        Err(StateError::UnknownProject(name)) if name == "missing"
    ));
    Ok(())
}

#[tokio::test]
async fn save_makes_the_database_equal_to_the_state() -> TestResult {
    let f = fixture().await?;
    let mut state = load(&f.db, &f.project).await?;
    // Change a row, delete one, add one (with a timestamp in the past, which must be kept).
    state.project.description = Some("a shop".into());
    state.tasks.retain(|t| t.id != f.second.id);
    state.tasks[0].name = "write the cart, in cents".into();
    let mut added = state.tasks[0].clone();
    added.id = "added-task".into();
    added.name = "added".into();
    added.created_at = Timestamp::from_millis(1_000);
    added.updated_at = Timestamp::from_millis(2_000);
    state.tasks.push(added.clone());
    state.features[0].sub_features.clear();

    let saved = save(&f.db, &state, SaveMode::CheckRevision).await?;
    assert!(tasks::get(f.db.reader(), &f.second.id).await.is_err(), "deleted");
    let stored = tasks::get(f.db.reader(), &added.id).await?;
    assert_eq!(stored, added, "inserted exactly, timestamps as given");
    assert_eq!(saved.tasks.len(), 2);
    assert!(saved.features[0].sub_features.is_empty());
    assert_eq!(saved.project.description.as_deref(), Some("a shop"));
    // Saving what was just loaded changes nothing.
    let again = save(&f.db, &saved, SaveMode::CheckRevision).await?;
    assert_eq!(again, saved);
    Ok(())
}

#[tokio::test]
async fn a_stale_state_is_refused_unless_forced() -> TestResult {
    let f = fixture().await?;
    let mut state = load(&f.db, &f.project).await?;
    // Another writer changes the project after the load.
    nexus_state::workflow::start(&f.db, &f.first.id, &f.agent.id).await?;
    state.tasks[0].name = "renamed".into();
    let refused = save(&f.db, &state, SaveMode::CheckRevision).await;
    assert!(matches!(refused, Err(StateError::Conflict { .. })), "{refused:?}");
    assert_eq!(
        tasks::get(f.db.reader(), &f.first.id).await?.status,
        TaskStatus::InProgress,
        "nothing written"
    );
    let forced = save(&f.db, &state, SaveMode::Force).await?;
    assert_eq!(forced.tasks[0].name, "renamed");
    assert_eq!(forced.tasks[0].status, TaskStatus::Pending, "the forced state wins");
    Ok(())
}

#[tokio::test]
async fn an_inconsistent_state_writes_nothing() -> TestResult {
    let f = fixture().await?;
    let mut state = load(&f.db, &f.project).await?;
    state.tasks[0].name = "should not be stored".into();
    state.tasks[1].depends_on.push("no-such-task".into());
    let refused = save(&f.db, &state, SaveMode::CheckRevision).await;
    assert!(matches!(refused, Err(StateError::UnknownDependency { .. })), "{refused:?}");
    let mut state = load(&f.db, &f.project).await?;
    state.version = 99;
    assert!(matches!(
        save(&f.db, &state, SaveMode::CheckRevision).await,
        Err(StateError::UnsupportedVersion { found: 99, .. })
    ));
    assert_eq!(tasks::get(f.db.reader(), &f.first.id).await?.name, "write the cart");
    Ok(())
}

#[tokio::test]
async fn a_state_moves_to_another_database_with_its_ids() -> TestResult {
    let f = fixture().await?;
    let state = load(&f.db, &f.project).await?;
    let other = TempDb::new().await?;
    let copied = save(&other, &state, SaveMode::CheckRevision).await?;
    assert_eq!(projects::get(other.reader(), &f.project).await?.name, "shop");
    assert_eq!(copied.revision, state.revision, "the same rows, the same revision");
    assert_eq!(
        (copied.tasks, copied.features, copied.requirements),
        (state.tasks, state.features, state.requirements)
    );
    Ok(())
}
