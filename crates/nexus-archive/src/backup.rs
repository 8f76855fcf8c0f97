//! [`backup`]: a consistent copy of a live database (`VACUUM INTO` on a connection of its own:
//! a read transaction, so writers go on meanwhile) and of its artifact directory, then the
//! copy is opened and checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nexus_artifacts::ArtifactStore;
use nexus_db::{Db, DbOptions, Location};
use serde::Serialize;
use sqlx::Connection as _;

use crate::check::{CheckReport, check, own_connection};
use crate::error::{ArchiveError, IoContext, Result, sql};
use crate::progress::Progress;

/// What [`backup`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    /// The copy of the database.
    pub path: PathBuf,
    /// Its size.
    pub database_bytes: u64,
    /// The copy of the artifact directory (`<path>.artifacts`), when there was one.
    pub artifact_root: Option<PathBuf>,
    /// Artifact files copied.
    pub artifact_files: u64,
    /// Their bytes.
    pub artifact_bytes: u64,
    /// The check of the copy.
    pub check: CheckReport,
}

/// Copies the database of `db` to `dest` (which must not exist) and the files of `store` to
/// `<dest>.artifacts`, then opens the copy and checks it. The database copy is one snapshot;
/// artifact files are immutable once their row commits, so every row of the snapshot finds
/// its file (files added meanwhile are copied too and show as unreferenced in the copy's
/// check only if their row committed after the snapshot: the check reports them).
pub async fn backup(
    db: &Db,
    store: Option<&ArtifactStore>,
    dest: &Path,
    progress: Arc<dyn Progress>,
) -> Result<BackupReport> {
    let Location::File(source) = db.location() else {
        return Err(ArchiveError::InMemory("a backup copies a database file"));
    };
    if tokio::fs::try_exists(dest).await.io("looking at", dest)? {
        return Err(ArchiveError::Exists(dest.to_path_buf()));
    }
    let mut conn = own_connection(source).await?;
    let total: i64 =
        sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            .fetch_one(&mut conn)
            .await
            .map_err(sql("backup"))?;
    progress.phase("copying the database", u64::try_from(total).unwrap_or(0));
    let watch = watch_size(dest.to_path_buf(), Arc::clone(&progress));
    let copied = sqlx::query("VACUUM INTO ?1")
        .bind(dest.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .map_err(sql("backup"));
    watch.abort();
    copied?;
    conn.close().await.map_err(sql("backup"))?;
    let database_bytes = tokio::fs::metadata(dest).await.io("reading", dest)?.len();

    let mut report = BackupReport {
        path: dest.to_path_buf(),
        database_bytes,
        artifact_root: None,
        artifact_files: 0,
        artifact_bytes: 0,
        check: CheckReport::default(),
    };
    let copy = Db::open_with(DbOptions::file(dest)).await?;
    let copy_store = match store {
        Some(store) => {
            let mut root = dest.as_os_str().to_owned();
            root.push(".artifacts");
            let root = PathBuf::from(root);
            let (files, bytes) = copy_tree(store.root(), &root, progress.as_ref()).await?;
            report.artifact_root = Some(root.clone());
            report.artifact_files = files;
            report.artifact_bytes = bytes;
            Some(ArtifactStore::open(&copy, Some(root)).await?)
        }
        None => None,
    };
    report.check = check(&copy, copy_store.as_ref()).await?;
    copy.close().await?;
    Ok(report)
}

/// Reports the growing size of `dest` until aborted.
fn watch_size(dest: PathBuf, progress: Arc<dyn Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reported = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(meta) = tokio::fs::metadata(&dest).await {
                progress.advance(meta.len().saturating_sub(reported));
                reported = reported.max(meta.len());
            }
        }
    })
}

/// Copies every file under `from` to `to`, leaving out top-level entries whose name starts
/// with `.` (temporary files of puts and imports). Returns files and bytes copied.
async fn copy_tree(from: &Path, to: &Path, progress: &dyn Progress) -> Result<(u64, u64)> {
    progress.phase("copying artifacts", 0);
    let (mut files, mut bytes) = (0, 0);
    let mut dirs = vec![(from.to_path_buf(), to.to_path_buf(), true)];
    while let Some((dir, target, top)) = dirs.pop() {
        tokio::fs::create_dir_all(&target).await.io("creating", &target)?;
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(ArchiveError::Io { action: "listing", path: dir, source: e }),
        };
        while let Some(entry) = entries.next_entry().await.io("listing", &dir)? {
            let name = entry.file_name();
            if top && name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if entry.file_type().await.io("reading", &path)?.is_dir() {
                dirs.push((path, target.join(&name), false));
            } else {
                let copied = tokio::fs::copy(&path, target.join(&name)).await.io("copying", &path)?;
                files += 1;
                bytes += copied;
                progress.advance(copied);
            }
        }
    }
    Ok((files, bytes))
}
