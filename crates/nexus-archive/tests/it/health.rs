//! `check`, `repair` and `backup` on real files: broken indexes, orphan vectors, missing and
//! stray artifact files, a database file with damaged pages, a backup taken while writing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nexus_archive::{backup, check, repair};
use nexus_db::{Db, SourceKind};
use nexus_testkit::Rng;

use crate::{Site, TestResult, collection, seed};

#[tokio::test]
async fn check_finds_and_repair_fixes_what_is_safe() -> TestResult {
    let site = Site::new().await?;
    let shop = seed(&site, "shop", &mut Rng::new(11), 4).await?;
    let clean = check(&site.db, Some(&site.store)).await?;
    assert!(clean.is_healthy(), "{:?}", clean.problems());
    assert_eq!(clean.migration_version, clean.latest_migration);

    // A ghost document in a full-text index, a key without a row, a vector without a key,
    // an episode without its vector, a stray file and a missing file.
    sqlx::query("INSERT INTO episodes_fts (rowid, content, summary) VALUES (999999, 'ghost', NULL)")
        .execute(site.db.writer())
        .await?;
    sqlx::query("INSERT INTO vector_keys (kind, source_id) VALUES ('episode', 'ghost')")
        .execute(site.db.writer())
        .await?;
    let vectors = collection(&site.db).await?;
    let orphan = format!(
        "INSERT INTO {} (rowid, project_id, kind, label, embedding) VALUES (999999, ?1, 'episode', '', ?2)",
        vectors.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(orphan))
        .bind(shop.as_str())
        .bind(nexus_db::f32_bytes(&[0.5_f32; crate::DIMS]).to_vec())
        .execute(site.db.writer())
        .await?;
    let episode: String =
        sqlx::query_scalar("SELECT id FROM episodes LIMIT 1").fetch_one(site.db.reader()).await?;
    vectors.delete(site.db.writer(), SourceKind::Episode, &episode).await?;
    std::fs::write(site.store.root().join(shop.as_str()).join("stray"), b"x")?;
    let artifact =
        nexus_db::artifacts::list(site.db.reader(), &shop, None, nexus_db::Page::default()).await?;
    std::fs::remove_file(site.store.path_of(&artifact[0])?)?;

    let found = check(&site.db, Some(&site.store)).await?;
    assert!(!found.is_healthy());
    assert_eq!(found.fts.iter().map(|p| p.index.as_str()).collect::<Vec<_>>(), ["episodes_fts"]);
    assert_eq!(found.orphan_keys.len(), 1);
    assert_eq!(found.orphan_vectors.len(), 1);
    assert_eq!(found.missing_vectors.len(), 1);
    assert_eq!(found.missing_vectors[0].missing, 1);
    let artifacts = found.artifacts.as_ref().ok_or("no artifact report")?;
    assert_eq!((artifacts.missing.len(), artifacts.unreferenced.len()), (1, 1));

    let repaired = repair(&site.db, Some(&site.store)).await?;
    assert_eq!(repaired.fts_rebuilt, ["episodes_fts"]);
    assert_eq!(repaired.orphan_keys_removed, 1);
    assert!(repaired.orphan_vectors_removed >= 1);
    let after = &repaired.after;
    assert!(after.fts.is_empty() && after.orphan_keys.is_empty() && after.orphan_vectors.is_empty());
    // Not safe to fix: the missing vector (needs the embedder) and the missing file.
    assert_eq!(after.missing_vectors.len(), 1);
    assert_eq!(after.artifacts.as_ref().map(|a| (a.missing.len(), a.unreferenced.len())), Some((1, 0)));
    assert_eq!(repaired.not_repaired.len(), 2, "{:?}", repaired.not_repaired);
    Ok(())
}

/// The recovery procedure of docs/operations.md, on a file whose pages the test damages: check
/// reports it, the backup taken before is sound and replaces it.
#[tokio::test]
async fn a_damaged_file_is_reported_and_a_backup_restores_it() -> TestResult {
    let site = Site::new().await?;
    seed(&site, "shop", &mut Rng::new(12), 40).await?;
    let saved = backup(&site.db, Some(&site.store), &site.path("backup.db"), Arc::new(())).await?;
    assert!(saved.check.is_healthy(), "{:?}", saved.check.problems());
    assert_eq!(saved.artifact_files, 3);

    // Damage the pages of one index of the live file.
    let pages: Vec<i64> = sqlx::query_scalar("SELECT pageno FROM dbstat WHERE name = 'tasks_status_idx'")
        .fetch_all(site.db.reader())
        .await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(site.db.reader()).await?;
    let path = site.path("nexus.db");
    site.db.clone().close().await?;
    let mut bytes = std::fs::read(&path)?;
    for page in &pages {
        let start = usize::try_from((page - 1) * page_size)?;
        let end = start + usize::try_from(page_size)?;
        bytes[start..end].iter_mut().for_each(|b| *b = 0x5a);
    }
    std::fs::write(&path, &bytes)?;

    let damaged = Db::open(&path).await?;
    let report = check(&damaged, None).await?;
    assert!(!report.integrity.is_empty(), "the damage was not found");
    assert!(!report.is_healthy());
    damaged.close().await?;

    // Restore: the backup replaces the file (and its artifact directory).
    std::fs::copy(site.path("backup.db"), &path)?;
    let restored = Db::open(&path).await?;
    let store = nexus_artifacts::ArtifactStore::open(&restored, saved.artifact_root.clone()).await?;
    let report = check(&restored, Some(&store)).await?;
    assert!(report.is_healthy(), "{:?}", report.problems());
    restored.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_backup_taken_while_writers_write_is_consistent() -> TestResult {
    let site = Site::new().await?;
    seed(&site, "shop", &mut Rng::new(13), 5).await?;
    // The writer's episodes go to a project without vectors (the check would miss them).
    let log = nexus_testkit::project(&site.db, "log").await?;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop, shop) = (site.db.clone(), Arc::clone(&stop), log.clone());
        tokio::spawn(async move {
            let mut written = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                let new = nexus_db::episodes::NewEpisode::new(
                    &shop,
                    nexus_db::episodes::EpisodeType::Decision,
                    "during backup",
                );
                nexus_db::episodes::create(db.writer(), new).await?;
                written += 1;
                tokio::task::yield_now().await;
            }
            Ok::<u64, nexus_db::DbError>(written)
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let report = backup(&site.db, Some(&site.store), &site.path("live.db"), Arc::new(())).await?;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await??;
    assert!(written > 0);
    assert!(report.check.is_healthy(), "{:?}", report.check.problems());
    let copy = Db::open(site.path("live.db")).await?;
    let copied = crate::count(&copy, "episodes").await?;
    assert!(copied >= 5 && copied <= 5 + i64::try_from(written)?, "{copied}");
    copy.close().await?;

    let err = backup(&site.db, None, &site.path("live.db"), Arc::new(())).await;
    assert!(matches!(err, Err(nexus_archive::ArchiveError::Exists(_))), "{err:?}");
    Ok(())
}
