//! Opening, health, sqlite-vec on every connection, transactions, and a clean close.

use std::time::Duration;

use nexus_db::{CheckpointMode, Db, DbError, DbOptions, Location, projects};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn a_file_database_is_healthy_with_wal_foreign_keys_and_every_table() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("nexus.db")).await?;
    let health = db.health().await?;
    assert!(health.healthy, "{health:?}");
    assert!(health.wal_mode && health.foreign_keys);
    assert!(health.sqlite_version.starts_with("3."));
    assert!(health.sqlite_vec_version.starts_with('v'));
    assert_eq!(health.migration_version, nexus_db::migrate::latest_version());
    for table in ["projects", "tasks", "episodes", "code_chunks", "continue_points"] {
        assert!(health.tables.iter().any(|t| t == table), "{table} missing");
    }
    db.ping().await?;
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn sqlite_vec_and_pragmas_are_on_every_pooled_connection() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = Db::open_with(DbOptions::file(dir.path().join("n.db")).readers(4)).await?;
    // Hold four reader connections at once so each is a distinct connection.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(db.reader().acquire().await?);
    }
    for conn in &mut held {
        let (version, fk, sync, query_only): (String, i64, i64, i64) =
            sqlx::query_as("SELECT vec_version(), (SELECT foreign_keys FROM pragma_foreign_keys), (SELECT synchronous FROM pragma_synchronous), (SELECT query_only FROM pragma_query_only)")
                .fetch_one(&mut **conn)
                .await?;
        assert!(version.starts_with('v'));
        assert_eq!(
            (fk, sync, query_only),
            (1, 1, 1),
            "foreign keys on, synchronous NORMAL, readers query-only"
        );
    }
    drop(held);
    let mut writer = db.writer().acquire().await?;
    let distance: f64 =
        sqlx::query_scalar("SELECT vec_distance_l2('[1, 2]', '[1, 4]')").fetch_one(&mut *writer).await?;
    assert_eq!(distance, 2.0);
    Ok(())
}

#[tokio::test]
async fn readers_cannot_write() -> TestResult {
    let db = Db::in_memory().await?;
    let attempt = sqlx::query(
        "INSERT INTO agents (id, type, spawned_at, last_activity_at) VALUES ('a', 'coder', 0, 0)",
    )
    .execute(db.reader())
    .await;
    assert!(attempt.is_err());
    Ok(())
}

#[tokio::test]
async fn an_in_memory_database_is_shared_by_every_connection_and_private_to_its_handle() -> TestResult {
    let db = Db::open_with(DbOptions::in_memory().readers(3)).await?;
    assert_eq!(db.location(), &Location::InMemory);
    let p = projects::create(db.writer(), projects::NewProject::new("m", "/m")).await?;
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(db.reader().acquire().await?);
    }
    for conn in &mut readers {
        assert_eq!(projects::get(&mut **conn, &p.id).await?.name, "m");
    }
    drop(readers);
    let other = Db::in_memory().await?;
    assert!(matches!(projects::get(other.reader(), &p.id).await, Err(DbError::NotFound { .. })));
    assert!(db.health().await?.healthy, "in-memory databases are healthy without WAL");
    Ok(())
}

#[tokio::test]
async fn transactions_commit_on_ok_and_roll_back_on_err() -> TestResult {
    let db = Db::in_memory().await?;
    let kept = db
        .transaction(|tx| {
            Box::pin(async move {
                let p = projects::create(&mut *tx, projects::NewProject::new("kept", "/k")).await?;
                Ok::<_, DbError>(p.id)
            })
        })
        .await?;
    let failed: Result<(), DbError> = db
        .transaction(|tx| {
            Box::pin(async move {
                projects::create(&mut *tx, projects::NewProject::new("lost", "/l")).await?;
                projects::get(&mut *tx, &"missing".into()).await?; // fails: rolls everything back
                Ok(())
            })
        })
        .await;
    assert!(matches!(failed, Err(DbError::NotFound { .. })));
    let all = projects::list(db.reader(), &projects::ProjectFilter::default()).await?;
    assert_eq!(all.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [kept.as_str()]);

    // A transaction dropped without commit rolls back too.
    {
        let mut tx = db.begin().await?;
        projects::create(&mut *tx, projects::NewProject::new("dropped", "/d")).await?;
    }
    assert_eq!(projects::list(db.reader(), &projects::ProjectFilter::default()).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_passive_checkpoint_copies_what_no_reader_needs_and_never_waits() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nexus.db");
    let db = Db::open(&path).await?;
    let first = projects::create(db.writer(), projects::NewProject::new("first", "/1")).await?;
    let done = db.checkpoint(CheckpointMode::Passive).await?;
    assert!(!done.busy && done.wal_pages > 0, "{done:?}");
    assert_eq!(done.checkpointed_pages, done.wal_pages, "no reader: every page");
    // The main file alone now holds the row, though the WAL was not emptied.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy)?;
    let copied = Db::open(&copy).await?;
    assert_eq!(projects::get(copied.reader(), &first.id).await?.name, "first");
    copied.close().await?;

    // A reader in a transaction keeps the snapshot from before the next write: the checkpoint
    // returns at once and leaves that write's pages in the WAL.
    let mut snapshot = db.reader().begin().await?;
    assert_eq!(projects::list(&mut *snapshot, &projects::ProjectFilter::default()).await?.len(), 1);
    projects::create(db.writer(), projects::NewProject::new("second", "/2")).await?;
    let partial =
        tokio::time::timeout(Duration::from_secs(5), db.checkpoint(CheckpointMode::Passive)).await??;
    assert!(partial.checkpointed_pages < partial.wal_pages, "{partial:?}");
    snapshot.rollback().await?;
    let rest = db.checkpoint(CheckpointMode::Passive).await?;
    assert_eq!(rest.checkpointed_pages, rest.wal_pages, "{rest:?}");
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn close_checkpoints_the_wal_so_the_main_file_holds_everything() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nexus.db");
    let db = Db::open(&path).await?;
    let p = projects::create(db.writer(), projects::NewProject::new("durable", "/d")).await?;
    let wal = dir.path().join("nexus.db-wal");
    assert!(std::fs::metadata(&wal)?.len() > 0, "the write sits in the WAL before close");
    db.close().await?;
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "the WAL is empty after close");

    // Opening the main file alone (no WAL) finds the row.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy)?;
    let reopened = Db::open(&copy).await?;
    assert_eq!(projects::get(reopened.reader(), &p.id).await?.name, "durable");
    reopened.close().await?;
    Ok(())
}

#[tokio::test]
async fn migrations_can_be_left_to_the_caller() -> TestResult {
    let dir = tempfile::tempdir()?;
    let options =
        DbOptions::file(dir.path().join("n.db")).run_migrations(false).busy_timeout(Duration::from_secs(1));
    let db = Db::open_with(options).await?;
    let health = db.health().await?;
    assert!(!health.healthy);
    assert_eq!(health.migration_version, None);
    assert_eq!(db.migrate().await?, nexus_db::migrate::latest_version());
    assert!(db.health().await?.healthy);
    Ok(())
}

#[tokio::test]
async fn bad_options_and_unopenable_paths_are_typed_errors() {
    let zero = Db::open_with(DbOptions::in_memory().readers(0)).await;
    assert!(matches!(zero, Err(DbError::InvalidOption { option: "readers", .. })));
    let no_buffer = Db::open_with(DbOptions::in_memory().row_buffer(0)).await;
    assert!(matches!(no_buffer, Err(DbError::InvalidOption { option: "row_buffer", .. })));
    let missing_dir = Db::open("/nonexistent-dir/for/sure/nexus.db").await;
    assert!(matches!(missing_dir, Err(DbError::Open { .. })));
}
