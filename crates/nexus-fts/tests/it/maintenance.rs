//! Maintenance: the integrity check detects an index that no longer matches its table,
//! rebuild repairs it, optimize keeps answers unchanged, stats report rows and size.

use crate::common;

use common::{TempDb, TestResult, chunk, episode, project, requirement, task, transcript};
use nexus_db::SourceKind;
use nexus_fts::{FtsError, FtsQuery, search};

#[tokio::test]
async fn integrity_check_detects_drift_and_rebuild_repairs_it() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let real = episode(&db, &p, "a real memory", None).await?;
    nexus_fts::integrity_check(db.writer(), SourceKind::Episode).await?;

    // A write that bypasses the triggers: a document the table does not have.
    sqlx::query("INSERT INTO episodes_fts (rowid, content, summary) VALUES (999999, 'ghost memory', NULL)")
        .execute(db.writer())
        .await?;
    let err = nexus_fts::integrity_check(db.writer(), SourceKind::Episode).await.err();
    assert!(matches!(err, Some(FtsError::Corrupt { index: "episodes_fts", .. })), "{err:?}");
    let stats = nexus_fts::stats(db.reader(), SourceKind::Episode).await?;
    assert_eq!((stats.indexed_rows, stats.source_rows), (2, 1));

    nexus_fts::rebuild(db.writer(), SourceKind::Episode).await?;
    nexus_fts::integrity_check(db.writer(), SourceKind::Episode).await?;
    let hits = search(db.reader(), &FtsQuery::new("memory")).await?;
    assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [real.id.as_str()]);
    assert!(search(db.reader(), &FtsQuery::new("ghost")).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn every_index_rebuilds_optimizes_and_reports_stats() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let notes: Vec<String> = (0..20).map(|i| format!("lantern entry {i}")).collect();
    transcript(&db, &p, &notes.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    for i in 0..20 {
        let text = format!("lantern note {i}");
        episode(&db, &p, &text, Some("lanterns")).await?;
        task(&db, &p, &text, None).await?;
        requirement(&db, &p, &text, &["lantern story"]).await?;
        chunk(&db, &p, &format!("src/lantern{i}.rs"), "fn lightLantern() {}", &["lightLantern"]).await?;
    }
    let before = search(db.reader(), &FtsQuery::new("lantern").limit(100)).await?;
    assert_eq!(before.len(), 100);
    for kind in SourceKind::ALL {
        nexus_fts::rebuild(db.writer(), *kind).await?;
        nexus_fts::optimize(db.writer(), *kind).await?;
        nexus_fts::integrity_check(db.writer(), *kind).await?;
        let stats = nexus_fts::stats(db.reader(), *kind).await?;
        assert_eq!((stats.kind, stats.index), (*kind, nexus_fts::index_name(*kind)));
        assert_eq!((stats.indexed_rows, stats.source_rows), (20, 20), "{kind}");
        assert!(stats.size_bytes > 0, "{kind}");
    }
    assert_eq!(search(db.reader(), &FtsQuery::new("lantern").limit(100)).await?, before);
    Ok(())
}

/// Snippets are cut, and score lists keyed, with the tokens of nexus-fts's scratch tables,
/// whose tokenizer must be every index's (a new index with another one would need its own).
#[tokio::test]
async fn every_index_tokenizes_as_the_scratch_tables_do() -> TestResult {
    let db = TempDb::new().await?;
    for index in nexus_db::FTS_INDEXES {
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = ?1")
            .bind(index)
            .fetch_one(db.reader())
            .await?;
        assert!(sql.contains("tokenize = 'porter unicode61 remove_diacritics 2'"), "{index}: {sql}");
    }
    Ok(())
}
