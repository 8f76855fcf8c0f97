//! Checkpoints: capture, restore exactly, diff, the policy's triggers and retention, git.

use nexus_db::checkpoints::{self, CheckpointTrigger, NewCheckpoint};
use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::tasks::{self, NewTask};
use nexus_state::{
    CheckpointPolicy, CheckpointRequest, Event, StateError, checkpoint, diff_checkpoints, load, restore,
};

use crate::support::{TestResult, fixture};

#[tokio::test]
async fn restore_brings_the_planning_state_back_exactly() -> TestResult {
    let f = fixture().await?;
    let before = load(&f.db, &f.project).await?;
    let taken = checkpoint(&f.db, &f.project, CheckpointRequest::manual("before the sprint")).await?;

    // Work happens: a task added, one deleted, one renamed, memory recorded.
    nexus_state::workflow::create_task(&f.db, NewTask::new(&f.project, "added later")).await?;
    tasks::delete(f.db.writer(), &f.second.id).await?;
    let mut first = tasks::get(f.db.reader(), &f.first.id).await?;
    first.name = "renamed".into();
    tasks::update(f.db.writer(), &first).await?;
    episodes::create(f.db.writer(), NewEpisode::new(&f.project, EpisodeType::Decision, "kept")).await?;

    let changes = diff_checkpoints(&f.db, &taken.id, None).await?;
    let task_changes = &changes.tables["tasks"];
    assert_eq!((task_changes.added.len(), task_changes.removed.len()), (1, 1));
    assert!(task_changes.changed[0].fields.contains_key("name"));

    let restored = restore(&f.db, &taken.id).await?;
    assert_eq!(restored.state.tasks, before.tasks, "rows, fields and timestamps as captured");
    assert_eq!(restored.state.features, before.features);
    assert_eq!(restored.state.project, before.project);
    assert_eq!(restored.safety.triggered_by, CheckpointTrigger::BeforeRestore);
    assert_eq!(restored.safety.parent_id.as_ref(), Some(&taken.id));
    assert_eq!(episodes::count(f.db.reader(), &f.project).await?, 1, "memory is not rolled back");
    // The safety checkpoint undoes the restore.
    let undone = restore(&f.db, &restored.safety.id).await?;
    assert!(undone.state.tasks.iter().any(|t| t.name == "added later"));
    assert!(!diff_checkpoints(&f.db, &restored.safety.id, None).await?.tables.contains_key("tasks"));
    Ok(())
}

#[tokio::test]
async fn a_checkpoint_of_another_version_is_refused_whole() -> TestResult {
    let f = fixture().await?;
    let mut state = serde_json::to_value(load(&f.db, &f.project).await?)?;
    state["version"] = 99.into();
    state["tasks"] = serde_json::json!([]);
    let future = checkpoints::create(f.db.writer(), NewCheckpoint::new(&f.project, state)).await?;
    let refused = restore(&f.db, &future.id).await;
    assert!(matches!(refused, Err(StateError::UnsupportedVersion { found: 99, .. })), "{refused:?}");
    let junk =
        checkpoints::create(f.db.writer(), NewCheckpoint::new(&f.project, serde_json::json!({"tasks": 3})))
            .await?;
    assert!(matches!(restore(&f.db, &junk.id).await, Err(StateError::BadCheckpoint { .. })));
    assert_eq!(load(&f.db, &f.project).await?.tasks.len(), 2, "nothing restored");
    Ok(())
}

#[tokio::test]
async fn the_policy_takes_checkpoints_on_its_triggers_and_keeps_the_last_few() -> TestResult {
    let f = fixture().await?;
    let policy = CheckpointPolicy { keep_automatic: 2, task_failed: false, ..CheckpointPolicy::default() };
    let manual = checkpoint(&f.db, &f.project, CheckpointRequest::manual("mine")).await?;
    assert!(
        policy.on_event(&f.db, &f.project, &Event::TaskFailed { task: f.first.id.clone() }).await?.is_none()
    );
    assert!(policy.on_event(&f.db, &f.project, &Event::Tick).await?.is_none(), "no periodic checkpoints");
    let mut automatic = Vec::new();
    for phase in ["plan", "build", "test"] {
        let taken = policy.on_event(&f.db, &f.project, &Event::PhaseComplete { phase: phase.into() }).await?;
        automatic.push(taken.ok_or("phase_complete is on")?.id);
    }
    let timeline = nexus_state::list_checkpoints(&f.db, &f.project).await?;
    let ids: Vec<_> = timeline.iter().map(|c| &c.id).collect();
    assert_eq!(ids, [&automatic[2], &automatic[1], &manual.id], "the oldest automatic one went");
    assert_eq!(timeline[0].reason.as_deref(), Some("phase complete: test"));
    assert_eq!(timeline[0].parent_id.as_ref(), Some(&automatic[1]));
    Ok(())
}

#[tokio::test]
#[allow(clippy::print_stderr)]
async fn a_checkpoint_records_the_git_commit_of_the_tree() -> TestResult {
    let f = fixture().await?;
    let repo = tempfile::tempdir()?;
    let git =
        |args: &[&str]| std::process::Command::new("git").arg("-C").arg(repo.path()).args(args).output();
    if git(&["init", "-q"]).is_err() {
        eprintln!("skipped: git is not installed");
        return Ok(());
    }
    std::fs::write(repo.path().join("a.txt"), "a")?;
    git(&["add", "a.txt"])?;
    git(&["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "one"])?;
    let head = String::from_utf8(git(&["rev-parse", "HEAD"])?.stdout)?.trim().to_owned();
    let mut project = nexus_db::projects::get(f.db.reader(), &f.project).await?;
    project.root_path = repo.path().display().to_string();
    nexus_db::projects::update(f.db.writer(), &project).await?;

    let clean = checkpoint(&f.db, &f.project, CheckpointRequest::manual("clean")).await?;
    assert_eq!((clean.git_commit.as_deref(), clean.git_dirty), (Some(head.as_str()), Some(false)));
    std::fs::write(repo.path().join("b.txt"), "b")?;
    let dirty = checkpoint(&f.db, &f.project, CheckpointRequest::manual("dirty")).await?;
    assert_eq!(dirty.git_dirty, Some(true));
    Ok(())
}
