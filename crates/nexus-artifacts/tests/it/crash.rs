//! A writer killed (SIGKILL) between renaming an artifact's file into place and committing its
//! row: the integrity check finds the file no row names, and repair removes it.
//!
//! The writer is this test binary run again as a child process with `CHILD_ENV` set, running
//! only the ignored test `crash::child_writer`, whose store's commit hook signals the parent
//! and then waits to be killed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexus_artifacts::{ArtifactStore, PutOptions};
use nexus_db::artifacts::ArtifactKind;
use nexus_db::{Db, projects};
use nexus_testkit::{Rng, TempDb};

use crate::{TestResult, log_text};

/// The directory of the parent's database, given to the child.
const CHILD_ENV: &str = "NEXUS_ARTIFACTS_CRASH_CHILD_DIR";

fn marker(dir: &Path) -> PathBuf {
    dir.join("renamed")
}

#[tokio::test]
async fn a_writer_killed_between_rename_and_commit_leaves_only_an_unreferenced_file() -> TestResult {
    let db = TempDb::new().await?;
    let project = nexus_testkit::project(&db, "crash").await?;
    let dir = db.dir().to_path_buf();

    let mut child = Command::new(std::env::current_exe()?)
        .args(["crash::child_writer", "--exact", "--ignored", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let renamed = loop {
        if let Ok(path) = std::fs::read_to_string(marker(&dir)) {
            break PathBuf::from(path);
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("the child writer ended before the commit point: {status}").into());
        }
        if Instant::now() > deadline {
            child.kill()?;
            return Err("the child writer did not reach the commit point".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill()?; // SIGKILL
    child.wait()?;

    assert!(renamed.is_file(), "the file was renamed into place: {}", renamed.display());
    let store = ArtifactStore::open(&db, None).await?;
    assert!(store.list(&project, None, nexus_db::Page::default()).await?.is_empty(), "no row was committed");
    let report = store.check().await?;
    assert_eq!(report.rows, 0);
    assert_eq!(report.unreferenced, vec![renamed.clone()]);
    let repaired = store.repair().await?;
    assert_eq!(repaired.removed, vec![renamed.clone()]);
    assert!(!renamed.exists());
    assert!(store.check().await?.is_clean());
    // The store works normally afterwards.
    let again = store
        .put(&project, ArtifactKind::Log, "again", "text/plain", &b"fine"[..], PutOptions::default())
        .await?;
    assert!(store.verify(&again.artifact.id).await?);
    projects::get(db.reader(), &project).await?;
    Ok(())
}

/// The child side: only does something when run by the test above (`CHILD_ENV` set).
#[tokio::test]
#[ignore = "the child process of the crash test; runs only when that test spawns it"]
async fn child_writer() -> TestResult {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return Err(format!("{CHILD_ENV} is not set: this test is run by the crash test").into());
    };
    let db = Db::open(dir.join("nexus.db")).await?;
    let project = projects::find_by_name(db.reader(), "crash").await?.ok_or("no project")?.id;
    let signal = dir.clone();
    let hook = Arc::new(move |path: &Path| {
        let temp = signal.join("renamed.tmp");
        if std::fs::write(&temp, path.to_string_lossy().as_bytes()).is_ok() {
            let _ = std::fs::rename(&temp, marker(&signal));
        }
        // Wait (up to an hour) for the SIGKILL: the row is never inserted.
        for _ in 0..3600 {
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let store = ArtifactStore::open(&db, None).await?.with_commit_hook(hook);
    let log = log_text(&mut Rng::new(10), 5_000);
    store
        .put(&project, ArtifactKind::Log, "crash.log", "text/plain", &log[..], PutOptions::default())
        .await?;
    Err("the commit hook returned".into())
}
