//! The triggers keep every index exactly in step with its table: inserts, updates of indexed
//! columns, updates of other columns, deletes, deletes cascaded from a project, `INSERT OR
//! REPLACE` and VACUUM. After each step every marker word finds exactly the rows whose current
//! text has it, and FTS5's integrity check (index == content) passes.

use crate::common;

use std::collections::BTreeSet;

use common::{TempDb, TestResult, chunk, episode, project, requirement, task, transcript};
use nexus_db::{Db, SourceKind, episodes, projects, requirements, tasks, transcripts};
use nexus_fts::{FtsQuery, search};

/// Ids of the rows of `kind` that `word` finds.
async fn found(db: &Db, kind: SourceKind, word: &str) -> TestResult<BTreeSet<String>> {
    let hits = search(db.reader(), &FtsQuery::new(word).kinds([kind]).limit(1000)).await?;
    Ok(hits.into_iter().map(|h| h.id).collect())
}

/// The ids of `kind` whose indexed text, read from the base table, contains `word`.
async fn expected(db: &Db, kind: SourceKind, word: &str) -> TestResult<BTreeSet<String>> {
    let pattern = format!("%{word}%");
    let sql = match kind {
        SourceKind::Episode => "SELECT id FROM episodes WHERE content LIKE ?1 OR summary LIKE ?1",
        SourceKind::CodeChunk => {
            "SELECT id FROM code_chunks WHERE file LIKE ?1 OR symbols LIKE ?1 OR content LIKE ?1"
        }
        SourceKind::Requirement => {
            "SELECT id FROM requirements WHERE description LIKE ?1 OR user_stories LIKE ?1"
        }
        SourceKind::Task => "SELECT id FROM tasks WHERE name LIKE ?1 OR description LIKE ?1",
        SourceKind::TranscriptEntry => {
            "SELECT transcript_id || '#' || seq FROM transcript_entries WHERE content LIKE ?1"
        }
    };
    let ids: Vec<String> = sqlx::query_scalar(sql).bind(pattern).fetch_all(db.reader()).await?;
    Ok(ids.into_iter().collect())
}

/// Every marker finds exactly what the base tables say, and every index passes FTS5's
/// integrity check and counts as many rows as its table.
async fn assert_in_sync(db: &Db, markers: &[&str]) -> TestResult {
    for kind in SourceKind::ALL {
        for word in markers {
            assert_eq!(found(db, *kind, word).await?, expected(db, *kind, word).await?, "{kind} / {word}");
        }
        nexus_fts::integrity_check(db.writer(), *kind).await?;
        let stats = nexus_fts::stats(db.reader(), *kind).await?;
        assert_eq!(stats.indexed_rows, stats.source_rows, "{kind}");
    }
    Ok(())
}

const MARKERS: &[&str] = &["zebrafinch", "quokka", "axolotl", "narwhal", "pangolin", "okapi"];

#[tokio::test]
async fn inserts_updates_and_deletes_keep_every_index_in_sync() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;

    let e1 = episode(&db, &p, "the zebrafinch sings", Some("quokka summary")).await?;
    let e2 = episode(&db, &p, "an axolotl regrows", None).await?;
    let t1 = task(&db, &p, "feed the narwhal", Some("with zebrafinch seed")).await?;
    let t2 = task(&db, &p, "walk the pangolin", None).await?;
    let r1 = requirement(&db, &p, "The okapi must be shown", &["As a keeper I see the quokka"]).await?;
    let r2 = requirement(&db, &p, "Axolotl tanks", &[]).await?;
    let c1 = chunk(&db, &p, "src/narwhal.rs", "fn swim() { zebrafinch() }", &["swim"]).await?;
    let c2 = chunk(&db, &p, "src/okapi.rs", "fn graze() {}", &["PangolinWalker"]).await?;
    let t = transcript(&db, &p, &["I fed the okapi", "the quokka is asleep"]).await?;
    assert_in_sync(&db, MARKERS).await?;

    // Updates of indexed columns move the markers.
    let mut e1 = e1;
    e1.content = "the narwhal dives".into();
    e1.summary = None;
    episodes::update(db.writer(), &e1).await?;
    let mut t1 = t1;
    t1.description = Some("with okapi hay".into());
    tasks::update(db.writer(), &t1).await?;
    let mut r1 = r1;
    r1.user_stories = vec!["As a vet I treat the pangolin".into()];
    requirements::update(db.writer(), &r1).await?;
    sqlx::query(
        "UPDATE code_chunks SET content = 'fn swim() { quokka() }', file = 'src/axolotl.rs' WHERE id = ?",
    )
    .bind(&c1.id)
    .execute(db.writer())
    .await?;
    assert_in_sync(&db, MARKERS).await?;

    // Updates of other columns leave the index alone (and correct).
    episodes::record_access(db.writer(), &e2.id).await?;
    tasks::start(db.writer(), &t2.id, &"agent-1".into()).await?;
    requirements::validate(db.writer(), &r2.id).await?;
    sqlx::query("UPDATE code_chunks SET complexity = 7 WHERE id = ?")
        .bind(&c2.id)
        .execute(db.writer())
        .await?;
    assert_in_sync(&db, MARKERS).await?;

    // Deletes.
    episodes::delete(db.writer(), &e2.id).await?;
    tasks::delete(db.writer(), &t2.id).await?;
    requirements::delete(db.writer(), &r2.id).await?;
    nexus_db::code_chunks::delete(db.writer(), &c2.id).await?;
    transcripts::delete(db.writer(), &t.id).await?;
    assert_in_sync(&db, MARKERS).await?;
    assert!(found(&db, SourceKind::Episode, "axolotl").await?.is_empty());
    assert_eq!(found(&db, SourceKind::CodeChunk, "axolotl").await?, BTreeSet::from([c1.id.to_string()]));
    Ok(())
}

#[tokio::test]
async fn deleting_a_project_removes_its_rows_from_every_index() -> TestResult {
    let db = TempDb::new().await?;
    let (doomed, kept) = (project(&db, "doomed").await?, project(&db, "kept").await?);
    for p in [&doomed, &kept] {
        episode(&db, p, "zebrafinch notes", Some("okapi")).await?;
        task(&db, p, "zebrafinch task", Some("okapi")).await?;
        requirement(&db, p, "zebrafinch requirement", &["okapi story"]).await?;
        chunk(&db, p, "src/zebrafinch.rs", "fn okapi() {}", &["ZebraFinch"]).await?;
        transcript(&db, p, &["zebrafinch and okapi"]).await?;
    }
    projects::delete(db.writer(), &doomed).await?; // ON DELETE CASCADE to every table

    assert_in_sync(&db, &["zebrafinch", "okapi"]).await?;
    for kind in SourceKind::ALL {
        let stats = nexus_fts::stats(db.reader(), *kind).await?;
        assert_eq!((stats.indexed_rows, stats.source_rows), (1, 1), "{kind}");
        let hits = search(db.reader(), &FtsQuery::new("zebrafinch").kinds([*kind])).await?;
        assert_eq!(hits.len(), 1, "{kind}");
        let owner_of = match kind {
            SourceKind::TranscriptEntry => "SELECT t.project_id FROM transcript_entries AS e \
                 JOIN transcripts AS t ON t.id = e.transcript_id WHERE e.transcript_id || '#' || e.seq = ?"
                .to_owned(),
            _ => format!("SELECT project_id FROM {} WHERE id = ?", kind.table()),
        };
        let owner: String = sqlx::query_scalar(sqlx::AssertSqlSafe(owner_of))
            .bind(&hits[0].id)
            .fetch_one(db.reader())
            .await?;
        assert_eq!(owner, kept);
    }
    Ok(())
}

#[tokio::test]
async fn insert_or_replace_removes_the_replaced_rows_text() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let e = episode(&db, &p, "zebrafinch", None).await?;
    // REPLACE deletes the old row; Nexus connections set recursive_triggers so the delete
    // trigger fires for it.
    sqlx::query(
        "INSERT OR REPLACE INTO episodes (id, project_id, type, content, created_at)
         VALUES (?, ?, 'decision', 'quokka', 0)",
    )
    .bind(&e.id)
    .bind(&p)
    .execute(db.writer())
    .await?;
    assert_in_sync(&db, &["zebrafinch", "quokka"]).await?;
    assert_eq!(found(&db, SourceKind::Episode, "quokka").await?, BTreeSet::from([e.id.into()]));
    Ok(())
}

#[tokio::test]
async fn vacuum_keeps_rowids_and_the_indexes_valid() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let mut kept = BTreeSet::new();
    for i in 0..30 {
        let e = episode(&db, &p, &format!("zebrafinch number{i}"), None).await?;
        let c = chunk(&db, &p, &format!("src/f{i}.rs"), "fn zebrafinch() {}", &[]).await?;
        if i % 3 == 0 {
            episodes::delete(db.writer(), &e.id).await?; // gaps in the rowids
            nexus_db::code_chunks::delete(db.writer(), &c.id).await?;
        } else {
            kept.insert(e.id.into());
        }
    }
    sqlx::query("VACUUM").execute(db.writer()).await?;
    assert_in_sync(&db, &["zebrafinch", "number4", "number6"]).await?;
    assert_eq!(found(&db, SourceKind::Episode, "zebrafinch").await?, kept);
    Ok(())
}
