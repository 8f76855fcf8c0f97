//! Cleanup by kind (age, count, size; dry run; manual checkpoints kept) and usage.

use std::time::Duration;

use nexus_db::checkpoints::{self, CheckpointTrigger, NewCheckpoint};
use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::retention::{HistoryKind, Limits};
use nexus_db::transcripts::{self, NewEntry, NewTranscript, Role};
use nexus_db::{Timestamp, metrics};
use nexus_store::{CleanupPolicy, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn cleanup_keeps_what_each_rule_allows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("store.db")).await?;
    let db = store.db();
    let project = projects::create(db.writer(), NewProject::new("shop", "/shop")).await?.id;
    let other = projects::create(db.writer(), NewProject::new("blog", "/blog")).await?.id;
    for i in 0..5 {
        let id = transcripts::create(db.writer(), NewTranscript::new(&project)).await?.id;
        transcripts::append(db.writer(), &id, &[NewEntry::new(Role::User, "x".repeat(100 * (i + 1)))])
            .await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    transcripts::create(db.writer(), NewTranscript::new(&other)).await?;
    for trigger in [CheckpointTrigger::Manual, CheckpointTrigger::Periodic, CheckpointTrigger::Periodic] {
        let mut new = NewCheckpoint::new(&project, serde_json::json!({ "big": "y".repeat(1000) }));
        new.triggered_by = trigger;
        checkpoints::create(db.writer(), new).await?;
    }
    let mut old = metrics::NewMetric::new(&project, metrics::MetricType::TokenUsage, 1.0);
    old.timestamp = Some(Timestamp::now().minus(Duration::from_secs(40 * 86_400)));
    metrics::create(db.writer(), old).await?;
    metrics::create(db.writer(), metrics::NewMetric::new(&project, metrics::MetricType::TokenUsage, 2.0))
        .await?;
    episodes::create(db.writer(), NewEpisode::new(&project, EpisodeType::Decision, "kept")).await?;

    let policy = CleanupPolicy::default()
        .keep(
            HistoryKind::Transcripts,
            Limits { max_count: Some(3), max_bytes: Some(900), ..Limits::default() },
        )
        .keep(HistoryKind::Checkpoints, Limits { max_count: Some(0), ..Limits::default() })
        .keep(
            HistoryKind::Metrics,
            Limits { max_age: Some(Duration::from_secs(30 * 86_400)), ..Limits::default() },
        );
    let before = store.usage(None).await?;
    let mut calls = 0;
    let dry = store.cleanup(&policy, true, |_| calls += 1).await?;
    assert!(calls >= 2, "progress is reported");
    assert_eq!(store.usage(None).await?, before, "a dry run deletes nothing");

    let done = store.cleanup(&policy, false, |_| {}).await?;
    assert_eq!(done.removed, dry.removed, "the dry run said exactly what happens");
    let rows = |kind: HistoryKind| {
        done.removed.iter().find(|r| r.kind == kind && r.project_id == project).map(|r| r.rows)
    };
    // Newest first the transcripts hold 500, 400, 300, 200, 100 bytes: the count keeps three,
    // the size only the first two (900 bytes), so three go.
    assert_eq!(rows(HistoryKind::Transcripts), Some(3));
    assert_eq!(rows(HistoryKind::Checkpoints), Some(2), "automatic ones only");
    assert_eq!(rows(HistoryKind::Metrics), Some(1));
    assert_eq!(rows(HistoryKind::Episodes), None);
    let remaining = checkpoints::list(db.reader(), &project, nexus_db::Page::default()).await?;
    assert_eq!(remaining.iter().map(|c| c.triggered_by).collect::<Vec<_>>(), [CheckpointTrigger::Manual]);

    let usage = store.usage(Some(&project)).await?;
    let transcripts_usage = usage.kinds.iter().find(|k| k.kind == HistoryKind::Transcripts).ok_or("usage")?;
    assert_eq!((transcripts_usage.rows, transcripts_usage.bytes), (2, 900));
    assert!(usage.kinds.iter().all(|k| k.project_id == project));
    assert!(usage.database.tables.iter().any(|t| t.table == "transcript_entries" && t.rows == 2));
    assert_eq!(
        transcripts::list(db.reader(), &other, nexus_db::Page::default()).await?.len(),
        1,
        "other project kept"
    );
    store.close().await?;
    Ok(())
}

#[tokio::test]
async fn cleanup_of_artifacts_removes_their_rows_and_files() -> TestResult {
    use nexus_artifacts::{ArtifactStore, PutOptions};
    use nexus_db::artifacts::ArtifactKind;
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("store.db")).await?;
    let db = store.db();
    let project = projects::create(db.writer(), NewProject::new("shop", "/shop")).await?.id;
    let files = ArtifactStore::open(db, None).await?;
    let mut puts = Vec::new();
    for i in 0..4u8 {
        let content = vec![i; 10_000 + usize::from(i)]; // distinct, so nothing is deduplicated
        let put = files
            .put(
                &project,
                ArtifactKind::Log,
                &format!("run-{i}.log"),
                "text/plain",
                &content[..],
                PutOptions::default(),
            )
            .await?;
        puts.push(put.artifact);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let paths: Vec<_> = puts.iter().map(|a| files.path_of(a)).collect::<Result<_, _>>()?;
    assert!(paths.iter().all(|p| p.exists()));

    let policy = CleanupPolicy::default()
        .keep(HistoryKind::Artifacts, Limits { max_count: Some(1), ..Limits::default() });
    let dry = store.cleanup(&policy, true, |_| {}).await?;
    assert!(paths.iter().all(|p| p.exists()), "a dry run removes no file");
    let done = store.cleanup(&policy, false, |_| {}).await?;
    assert_eq!(done.removed, dry.removed);
    assert_eq!(
        done.removed.iter().map(|r| (r.kind, r.rows)).collect::<Vec<_>>(),
        [(HistoryKind::Artifacts, 3)]
    );
    let stored: i64 = puts[..3].iter().map(|a| a.stored_size).sum();
    assert_eq!(done.removed[0].bytes, stored, "bytes count what the files took");
    // The three oldest are gone, rows and files; the newest stays, and checks clean.
    assert_eq!(paths.iter().map(|p| p.exists()).collect::<Vec<_>>(), [false, false, false, true]);
    let left = files.list(&project, None, nexus_db::Page::default()).await?;
    assert_eq!(left.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), [puts[3].id.clone()]);
    assert!(files.check().await?.is_clean());
    let usage = store.usage(Some(&project)).await?;
    let artifacts = usage.kinds.iter().find(|k| k.kind == HistoryKind::Artifacts).ok_or("usage")?;
    assert_eq!((artifacts.rows, artifacts.bytes), (1, puts[3].stored_size));
    store.close().await?;
    Ok(())
}
