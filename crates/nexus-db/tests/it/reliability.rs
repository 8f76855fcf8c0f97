//! What issue 19 found, kept away: a bounded WAL under single writes, typed errors for bad
//! numbers and oversized text, read-only handles, atomic unique project names, and `health`
//! that notices a damaged file. (Full disks are in nexus-store's `disk_full` test; racing
//! processes in nexus-cli's tests.)

use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::{Db, DbError, DbOptions, MAX_CONTENT_BYTES};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn ten_thousand_single_writes_keep_the_wal_small() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("wal.db");
    let db = Db::open(&path).await?;
    let project = projects::create(db.writer(), NewProject::new("wal", "/wal")).await?;
    let mut largest = 0;
    for i in 0..10_000 {
        let text = format!("episode {i}: {}", "some words about the work ".repeat(8));
        episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, text)).await?;
        if i % 500 == 0 {
            largest = largest.max(std::fs::metadata(dir.path().join("wal.db-wal"))?.len());
        }
    }
    largest = largest.max(std::fs::metadata(dir.path().join("wal.db-wal"))?.len());
    assert!(largest < 16 << 20, "the -wal file reached {largest} bytes: the autocheckpoint did not run");
    assert_eq!(episodes::count(db.reader(), &project.id).await?, 10_000);
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn bad_numbers_and_oversized_text_are_typed_errors_that_store_nothing() -> TestResult {
    let db = Db::in_memory().await?;
    let project = projects::create(db.writer(), NewProject::new("p", "/p")).await?;
    for importance in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut new = NewEpisode::new(&project.id, EpisodeType::Decision, "x");
        new.importance = importance;
        let err = episodes::create(db.writer(), new).await.err();
        assert!(
            matches!(err, Some(DbError::InvalidValue { table: "episodes", column: "importance", .. })),
            "{importance}: {err:?}"
        );
    }
    let huge = "x".repeat(MAX_CONTENT_BYTES + 1);
    let err =
        episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, huge)).await.err();
    assert!(matches!(err, Some(DbError::InvalidValue { column: "content", .. })), "{err:?}");
    assert_eq!(episodes::count(db.reader(), &project.id).await?, 0);
    Ok(())
}

#[tokio::test]
async fn read_only_handles_read_refuse_writes_and_close_cleanly() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ro.db");
    let db = Db::open(&path).await?;
    projects::create(db.writer(), NewProject::new("kept", "/kept")).await?;
    // Another handle holds the write lock the whole time.
    let tx = db.begin().await?;

    let ro = Db::open_with(DbOptions::file(&path).read_only(true)).await?;
    assert!(ro.is_read_only());
    assert_eq!(projects::find_by_name(ro.reader(), "kept").await?.map(|p| p.name).as_deref(), Some("kept"));
    let err = projects::create(ro.writer(), NewProject::new("new", "/new")).await.err();
    assert!(err.as_ref().is_some_and(DbError::is_read_only), "{err:?}");
    assert!(ro.health().await?.healthy);
    ro.close().await?;

    tx.rollback().await?;
    db.close().await?;

    // A missing file is not created by a read-only open.
    let missing = dir.path().join("missing.db");
    assert!(Db::open_with(DbOptions::file(&missing).read_only(true)).await.is_err());
    assert!(Db::open_with(DbOptions::file(&missing).create_if_missing(false)).await.is_err());
    assert!(!missing.exists());
    Ok(())
}

#[tokio::test]
async fn project_names_are_unique_and_get_or_create_is_atomic() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("names.db");
    // Two handles stand for two processes: each has its own writer connection.
    let (a, b) = (Db::open(&path).await?, Db::open(&path).await?);
    for round in 0..20 {
        let name = format!("project-{round}");
        let (first, second) = tokio::join!(
            projects::get_or_create(a.writer(), NewProject::new(&name, "/a")),
            projects::get_or_create(b.writer(), NewProject::new(&name, "/b")),
        );
        let ((first, created_a), (second, created_b)) = (first?, second?);
        assert_eq!(first.id, second.id, "round {round}: two projects named {name}");
        assert!(created_a ^ created_b, "round {round}: exactly one caller creates it");
    }
    let duplicate = projects::create(a.writer(), NewProject::new("project-0", "/c")).await.err();
    assert!(duplicate.is_some_and(|e| e.is_constraint(nexus_db::ConstraintKind::Unique)));
    a.close().await?;
    b.close().await?;
    Ok(())
}

#[tokio::test]
async fn health_runs_quick_check_and_reports_a_damaged_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("damaged.db");
    let db = Db::open(&path).await?;
    let health = db.health().await?;
    assert_eq!(health.quick_check, ["ok"]);
    assert!(health.healthy);
    let project = projects::create(db.writer(), NewProject::new("p", "/p")).await?;
    for i in 0..2_000 {
        let text = format!("episode {i} {}", "filler text ".repeat(20));
        episodes::create(db.writer(), NewEpisode::new(&project.id, EpisodeType::Decision, text)).await?;
    }
    db.close().await?;

    // Scribble over the pages in the middle of the file (table and index pages, not the schema).
    let mut bytes = std::fs::read(&path)?;
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 64 * 1024] {
        *byte = 0x5a;
    }
    std::fs::write(&path, bytes)?;

    let db = Db::open_with(DbOptions::file(&path).read_only(true).run_migrations(false)).await?;
    let health = db.health().await?;
    assert_ne!(health.quick_check, ["ok"], "quick_check missed the damage");
    assert!(!health.healthy);
    db.close().await?;
    Ok(())
}
