//! Transcripts on real database files: gapless numbering under concurrent appends, JSONL
//! import (all or nothing), keyset pages, tail and the stream.

use std::sync::Arc;

use futures::TryStreamExt;
use nexus_db::transcripts::{self, EntryFilter, NewEntry, NewTranscript, Role};
use nexus_db::{DbError, TranscriptId};
use nexus_testkit::TempDb;
use nexus_transcripts::{TranscriptError, entries, import_jsonl};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn concurrent_appends_number_every_transcript_without_gaps() -> TestResult {
    let db = Arc::new(TempDb::new().await?);
    let project = nexus_testkit::project(&db, "shop").await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(transcripts::create(db.writer(), NewTranscript::new(&project)).await?.id);
    }
    let mut tasks = Vec::new();
    for worker in 0..12 {
        let (db, id) = (Arc::clone(&db), ids[worker % ids.len()].clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..10 {
                let batch: Vec<_> = (0..3)
                    .map(|i| NewEntry::new(Role::Assistant, format!("w{worker} r{round} e{i}")))
                    .collect();
                transcripts::append(db.writer(), &id, &batch).await?;
            }
            Ok::<_, DbError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    for id in &ids {
        let all: Vec<_> = entries(&db, id, 7).try_collect().await?;
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=120).collect::<Vec<_>>());
        assert_eq!(transcripts::get(db.reader(), id).await?.entry_count, 120);
    }
    assert!(
        transcripts::append(db.writer(), &"missing".into(), &[NewEntry::new(Role::User, "x")]).await.is_err()
    );
    Ok(())
}

#[tokio::test]
async fn a_broken_line_names_itself_and_writes_nothing() -> TestResult {
    let db = TempDb::new().await?;
    let project = nexus_testkit::project(&db, "shop").await?;
    let mut log = String::new();
    for i in 0..1_000 {
        log.push_str(&format!("{{\"role\":\"user\",\"content\":\"line {i}\",\"source\":\"cli\"}}\n"));
    }
    log.push_str("{\"role\":\"user\",\"content\":\"unterminated\n");
    match import_jsonl(&db, NewTranscript::new(&project), log.as_bytes()).await {
        Err(TranscriptError::Line { line, .. }) => assert_eq!(line, 1_001),
        other => return Err(format!("expected a line error, got {other:?}").into()),
    }
    assert!(
        transcripts::list(db.reader(), &project, nexus_db::Page::default()).await?.is_empty(),
        "nothing written"
    );

    let good = &log[..log.rfind("{\"role\":\"user\",\"content\":\"unterminated").ok_or("marker")?];
    let (transcript, count) = import_jsonl(&db, NewTranscript::new(&project), good.as_bytes()).await?;
    assert_eq!((count, transcript.entry_count), (1_000, 1_000));
    let last = transcripts::tail(db.reader(), &transcript.id, 2).await?;
    assert_eq!(
        last.iter().map(|e| (e.seq, e.content.as_str())).collect::<Vec<_>>(),
        [(999, "line 998"), (1_000, "line 999")]
    );
    assert_eq!(last[0].metadata.as_ref().map(|m| m.0.clone()), Some(serde_json::json!({"source": "cli"})));
    Ok(())
}

#[tokio::test]
async fn pages_are_keyset_reads_and_deleting_takes_the_entries() -> TestResult {
    let db = TempDb::new().await?;
    let project = nexus_testkit::project(&db, "shop").await?;
    let id: TranscriptId = transcripts::create(db.writer(), NewTranscript::new(&project)).await?.id;
    let batch: Vec<_> = (0..250).map(|i| NewEntry::new(Role::Tool, format!("output {i}"))).collect();
    assert_eq!(transcripts::append(db.writer(), &id, &batch).await?, Some((1, 250)));
    assert_eq!(transcripts::append(db.writer(), &id, &[]).await?, None);
    let page = transcripts::page(db.reader(), &id, 240, 50).await?;
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), (241..=250).collect::<Vec<_>>());
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT * FROM transcript_entries WHERE transcript_id = 'x' AND seq > 5 ORDER BY seq LIMIT 10",
    )
    .fetch_all(db.reader())
    .await?;
    let plan: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
    let plan = plan.join("; ");
    assert!(plan.contains("USING INDEX") && !plan.contains("TEMP B-TREE"), "{plan}");
    transcripts::delete(db.writer(), &id).await?;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM transcript_entries").fetch_one(db.reader()).await?;
    assert_eq!(left, 0);
    Ok(())
}

#[tokio::test]
async fn search_filters_by_project_agent_role_and_time() -> TestResult {
    let db = TempDb::new().await?;
    let shop = nexus_testkit::project(&db, "shop").await?;
    let blog = nexus_testkit::project(&db, "blog").await?;
    let mut new = NewTranscript::new(&shop);
    new.agent_id = Some("coder-1".into());
    let coder = transcripts::create(db.writer(), new).await?.id;
    let other = transcripts::create(db.writer(), NewTranscript::new(&blog)).await?.id;
    let mut late = NewEntry::new(Role::Assistant, "The cart totals are now in cents");
    late.created_at = Some(nexus_db::Timestamp::from_millis(2_000));
    let mut early = NewEntry::new(Role::User, "Please store cart totals as cents");
    early.created_at = Some(nexus_db::Timestamp::from_millis(1_000));
    transcripts::append(db.writer(), &coder, &[early, late]).await?;
    transcripts::append(db.writer(), &other, &[NewEntry::new(Role::User, "cents in the blog")]).await?;

    let all = nexus_transcripts::search(&db, "cents", &EntryFilter::default(), 10).await?;
    assert_eq!(all.len(), 3);
    let shop_only = EntryFilter { project_id: Some(shop.clone()), ..EntryFilter::default() };
    assert_eq!(nexus_transcripts::search(&db, "cents", &shop_only, 10).await?.len(), 2);
    let assistant =
        EntryFilter { role: Some(Role::Assistant), agent_id: Some("coder-1".into()), ..shop_only.clone() };
    let hits = nexus_transcripts::search(&db, "cent*", &assistant, 10).await?;
    assert_eq!(hits.iter().map(|h| (h.seq, h.snippet.contains("[cents]"))).collect::<Vec<_>>(), [(2, true)]);
    let before = EntryFilter { until: Some(nexus_db::Timestamp::from_millis(1_500)), ..shop_only };
    assert_eq!(
        nexus_transcripts::search(&db, "cart", &before, 10).await?.iter().map(|h| h.seq).collect::<Vec<_>>(),
        [1]
    );
    // Hostile text is a query, not FTS5 syntax.
    assert!(nexus_transcripts::search(&db, "\"unbalanced AND (", &EntryFilter::default(), 10).await.is_ok());
    assert!(matches!(
        nexus_transcripts::search(&db, "   ", &EntryFilter::default(), 10).await,
        Err(TranscriptError::Query(_))
    ));
    Ok(())
}
