//! STATE.md: lossless both ways (a property test), and the edits a person makes.

use nexus_db::features::WorkStatus;
use nexus_db::tasks::{self, TaskStatus};
use nexus_state::markdown::{export, import, parse};
use nexus_state::{ProjectState, SaveMode, StateError, load};
use proptest::prelude::*;

use crate::support::{TempDb, TestResult, fixture};

#[tokio::test]
async fn a_person_ticks_a_task_and_renames_a_feature() -> TestResult {
    let f = fixture().await?;
    let text = export(&load(&f.db, &f.project).await?);
    assert!(text.contains("- [ ] write the cart · pending · `"), "{text}");
    let edited = text
        .replace("- [ ] write the cart · pending", "- [x] write the cart · pending")
        .replace("| Cart \\| totals | backlog |", "| Cart totals | in_progress |")
        .replace("## Tasks\n", "## Tasks\n- [ ] a task typed by hand\n");
    let saved = import(&f.db, &edited, SaveMode::CheckRevision).await?;
    let first = tasks::get(f.db.reader(), &f.first.id).await?;
    assert_eq!(first.status, TaskStatus::Completed);
    assert!(first.completed_at.is_some());
    assert_eq!(
        (saved.features[0].feature.name.as_str(), saved.features[0].feature.status),
        ("Cart totals", WorkStatus::InProgress)
    );
    assert!(saved.tasks.iter().any(|t| t.name == "a task typed by hand" && t.status == TaskStatus::Pending));
    // Importing the same file again is stale now: the project changed since it was exported.
    assert!(matches!(
        import(&f.db, &edited, SaveMode::CheckRevision).await,
        Err(StateError::Conflict { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn a_malformed_file_names_the_line_and_writes_nothing() -> TestResult {
    let f = fixture().await?;
    let text = export(&load(&f.db, &f.project).await?);
    let bad_status = text.replace("- [ ] write the cart · pending", "- [ ] write the cart · nearly");
    let line = bad_status.lines().position(|l| l.contains("· nearly")).ok_or("edited line")? + 1;
    match import(&f.db, &bad_status, SaveMode::CheckRevision).await {
        Err(StateError::Markdown { line: l, .. }) => assert_eq!(l, line),
        other => return Err(format!("expected a Markdown error, got {other:?}").into()),
    }
    let truncated = &text[..text.len() - 40];
    assert!(matches!(parse(truncated), Err(StateError::Markdown { .. })));
    assert!(matches!(parse("# just a heading\n"), Err(StateError::Markdown { line: 1, .. })));
    assert_eq!(tasks::get(f.db.reader(), &f.first.id).await?.status, TaskStatus::Pending);
    Ok(())
}

#[tokio::test]
async fn into_an_empty_database_it_creates_the_project_with_its_ids() -> TestResult {
    let f = fixture().await?;
    let state = load(&f.db, &f.project).await?;
    let other = TempDb::new().await?;
    let copied = import(&other, &export(&state), SaveMode::CheckRevision).await?;
    assert_eq!((copied.project.id, copied.tasks), (state.project.id, state.tasks));
    Ok(())
}

/// Text a person might put in a name: pipes, backticks, line breaks, leading `#`, emoji,
/// backslashes, the separator `·`, spaces at the ends.
fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("|".to_owned()),
            Just("`".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("# ".to_owned()),
            Just("🦀".to_owned()),
            Just("\\".to_owned()),
            Just(" · ".to_owned()),
            Just(" ".to_owned()),
            Just("- [x] ".to_owned()),
            "[a-zA-Z0-9 ]{0,8}",
            "\\PC{0,4}",
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

/// A state made in memory (no database): its rows need not hold together for export/parse.
fn state_from(base: &ProjectState, names: &[String], statuses: &[usize], tags: &[String]) -> ProjectState {
    let mut state = base.clone();
    state.project.name = names.first().cloned().unwrap_or_default();
    let template = base.tasks[0].clone();
    state.tasks = names
        .iter()
        .zip(statuses)
        .enumerate()
        .map(|(i, (name, status))| {
            let mut task = template.clone();
            task.id = format!("{name}-{i}").into();
            task.name = name.clone();
            task.status = TaskStatus::ALL[status % TaskStatus::ALL.len()];
            task.tags = tags.to_vec();
            task
        })
        .collect();
    state.features[0].feature.name = names.last().cloned().unwrap_or_default();
    state
}

#[test]
fn export_then_parse_is_the_identity() -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let base = runtime.block_on(async {
        let f = fixture().await?;
        TestResult::Ok(load(&f.db, &f.project).await?)
    })?;
    let mut runner =
        proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, ..ProptestConfig::default() });
    let strategy = (
        prop::collection::vec(hostile(), 1..40),
        prop::collection::vec(0usize..7, 40),
        prop::collection::vec(hostile(), 0..3),
    );
    runner.run(&strategy, |(names, statuses, tags)| {
        let state = state_from(&base, &names, &statuses, &tags);
        let text = export(&state);
        prop_assert_eq!(parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?, state);
        Ok(())
    })?;
    // Thousands of tasks.
    let names: Vec<String> = (0..3_000).map(|i| format!("task {i} | ü")).collect();
    let big = state_from(&base, &names, &vec![3; names.len()], &[]);
    assert_eq!(parse(&export(&big))?, big);
    // Empty lists.
    let mut empty = base.clone();
    empty.tasks.clear();
    empty.features.clear();
    empty.requirements.clear();
    assert_eq!(parse(&export(&empty))?, empty);
    Ok(())
}
