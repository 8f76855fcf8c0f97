//! The search builder on a real database: legs, filters, pagination, explain and errors.

use nexus_db::{
    Db, DbOptions, EpisodeId, ProjectId, SourceKind, code_chunks,
    episodes::{self, EpisodeType, NewEpisode},
    projects::{self, NewProject},
};
use nexus_embed::{Embedder, LocalEmbedder};
use nexus_search::{Fusion, Mode, SearchError, Source, search};
use nexus_testkit::{self as testkit, TempDb};
use nexus_vector::{Collection, CollectionSpec, Item, Metric};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Fixture {
    /// Holds the database file; `db` is a handle on it.
    _tmp: TempDb,
    db: Db,
    embedder: LocalEmbedder,
    memory: Collection,
    project: ProjectId,
    other_project: ProjectId,
}

const NOTES: &[&str] = &[
    "Checkpoints are restored from the latest snapshot after a crash",
    "The checkpoint restore path replays the write-ahead log",
    "Prices are stored in cents to avoid rounding errors",
    "The cart total is recomputed whenever an item changes",
    "Agents take tasks from the ready queue in priority order",
    "Restoring a checkpoint resets the agent's continue point",
    "Snapshots are compressed with zstd before they are archived",
    "The reviewer agent counts QA iterations before escalating",
];

async fn add_episode(
    f: &Fixture,
    project: &ProjectId,
    text: &str,
    kind: EpisodeType,
) -> Result<EpisodeId, Box<dyn std::error::Error>> {
    let vector = f.embedder.embed_one(text).await?;
    let mut tx = f.db.begin().await?;
    let e = episodes::create(&mut *tx, NewEpisode::new(project, kind, text)).await?;
    f.memory.upsert(&mut tx, Item::new(SourceKind::Episode, &e.id, &vector).label(kind.as_str())).await?;
    tx.commit().await?;
    Ok(e.id)
}

async fn fixture() -> Result<Fixture, Box<dyn std::error::Error>> {
    let tmp = TempDb::with_options(|o| o.readers(4)).await?;
    let db = tmp.db().clone();
    let embedder = LocalEmbedder::default();
    let spec = CollectionSpec::new("memory", embedder.model(), embedder.dimensions(), Metric::Cosine);
    let memory = Collection::open_or_create(&db, &spec).await?;
    let project = testkit::project(&db, "shop").await?;
    let other_project = testkit::project(&db, "blog").await?;
    let f = Fixture { _tmp: tmp, db, embedder, memory, project, other_project };
    for (i, note) in NOTES.iter().enumerate() {
        let kind = if i % 2 == 0 { EpisodeType::Decision } else { EpisodeType::Research };
        add_episode(&f, &f.project.clone(), note, kind).await?;
    }
    add_episode(
        &f,
        &f.other_project.clone(),
        "Checkpoints of the blog are restored nightly",
        EpisodeType::Decision,
    )
    .await?;
    let chunk = code_chunks::create(
        f.db.writer(),
        code_chunks::NewCodeChunk {
            id: None,
            project_id: f.project.clone(),
            file: "src/checkpoint.rs".into(),
            start_line: 1,
            end_line: 3,
            content: "pub fn restore_checkpoint(id: &str) -> Result<()> { todo_later(id) }".into(),
            symbols: vec!["restore_checkpoint".into()],
            chunk_type: "function".into(),
            language: "rust".into(),
            complexity: Some(1),
            hash: "h".into(),
            context: None,
            signature: None,
        },
    )
    .await?;
    let vector = f.embedder.embed_one(&chunk.content).await?;
    let mut tx = f.db.begin().await?;
    f.memory.upsert(&mut tx, Item::new(SourceKind::CodeChunk, &chunk.id, &vector)).await?;
    tx.commit().await?;
    Ok(f)
}

#[tokio::test]
async fn hybrid_finds_by_meaning_and_keyword_and_explains_both_legs() -> TestResult {
    let f = fixture().await?;
    let results = search(&f.db)
        .text("how are checkpoints restored")
        .embed_with(&f.embedder)
        .collection(&f.memory)
        .project(&f.project)
        .limit(3)
        .explain(true)
        .execute()
        .await?;
    assert_eq!(results.hits.len(), 3);
    let Source::Episode(best) = &results.hits[0].source else { panic!("expected an episode first") };
    assert!(best.content.contains("estor"), "{}", best.content);
    let explain = results.hits[0].explain.ok_or("no explain")?;
    let (fts, vector) = (explain.fts.ok_or("no fts leg")?, explain.vector.ok_or("no vector leg")?);
    assert!((fts.contribution + vector.contribution - results.hits[0].score).abs() < 1e-12);
    assert!((fts.contribution - 1.0 / (60.0 + fts.rank as f64)).abs() < 1e-12, "RRF k=60 by default");
    assert!(results.hits[0].snippet.as_deref().is_some_and(|s| s.contains("<mark>")));
    assert!(results.hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(results.fts_candidates > 0 && results.vector_candidates > 0);
    Ok(())
}

#[tokio::test]
async fn filters_apply_inside_both_legs() -> TestResult {
    let f = fixture().await?;
    let all = |mode| {
        search(&f.db)
            .text("checkpoint restored")
            .embed_with(&f.embedder)
            .collection(&f.memory)
            .project(&f.project)
            .kinds([SourceKind::CodeChunk])
            .mode(mode)
            .limit(50)
    };
    for mode in [Mode::Hybrid, Mode::FtsOnly, Mode::VectorOnly] {
        let results = all(mode).execute().await?;
        assert_eq!(results.hits.len(), 1, "{mode:?}: only the one code chunk");
        assert!(matches!(results.hits[0].source, Source::CodeChunk(_)));
    }
    // Another project's rows never show up.
    let results = search(&f.db)
        .text("checkpoints restored")
        .embed_with(&f.embedder)
        .collection(&f.memory)
        .project(&f.other_project)
        .limit(50)
        .execute()
        .await?;
    assert_eq!(results.hits.len(), 1);
    assert!(
        results
            .hits
            .iter()
            .all(|h| matches!(&h.source, Source::Episode(e) if e.project_id == f.other_project))
    );
    // Labels filter the vector leg inside the KNN.
    let research = search(&f.db)
        .embedding(f.embedder.embed_one("checkpoint").await?)
        .collection(&f.memory)
        .project(&f.project)
        .labels(["research"])
        .mode(Mode::VectorOnly)
        .limit(50)
        .execute()
        .await?;
    assert_eq!(research.hits.len(), 4);
    assert!(
        research
            .hits
            .iter()
            .all(|h| matches!(&h.source, Source::Episode(e) if e.episode_type == EpisodeType::Research))
    );
    Ok(())
}

#[tokio::test]
async fn cursor_pages_neither_repeat_nor_skip() -> TestResult {
    let f = fixture().await?;
    let query = || {
        search(&f.db)
            .text("checkpoint agent snapshot cart prices")
            .embed_with(&f.embedder)
            .collection(&f.memory)
            .project(&f.project)
            .fusion(Fusion::rrf(60.0))
    };
    let everything = query().limit(100).execute().await?;
    assert!(everything.next.is_none());
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page = query().limit(3);
        if let Some(c) = &cursor {
            page = page.after(c)?;
        }
        let results = page.execute().await?;
        paged.extend(results.hits.iter().map(|h| h.source.id().into_owned()));
        match results.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let all: Vec<String> = everything.hits.iter().map(|h| h.source.id().into_owned()).collect();
    assert_eq!(paged, all);
    assert_eq!(
        all.len(),
        NOTES.len() + 1,
        "every episode and the chunk are candidates of one leg or the other"
    );
    Ok(())
}

#[tokio::test]
async fn missing_inputs_are_typed_errors_not_silent_fallbacks() -> TestResult {
    let f = fixture().await?;
    let text_only = search(&f.db).text("checkpoint").collection(&f.memory).execute().await;
    assert!(matches!(text_only, Err(SearchError::NoEmbedding { mode: Mode::Hybrid })), "{text_only:?}");
    let no_collection = search(&f.db).text("checkpoint").embed_with(&f.embedder).execute().await;
    assert!(matches!(no_collection, Err(SearchError::NoCollection { .. })));
    let no_text = search(&f.db).mode(Mode::FtsOnly).execute().await;
    assert!(matches!(no_text, Err(SearchError::MissingText { mode: Mode::FtsOnly })));
    // FtsOnly needs neither an embedder nor a collection.
    assert!(!search(&f.db).text("checkpoint").mode(Mode::FtsOnly).execute().await?.hits.is_empty());
    let bad_cursor = search(&f.db).text("x").after("not-a-cursor");
    assert!(matches!(bad_cursor, Err(SearchError::InvalidCursor(_))));
    let zero = search(&f.db).text("x").mode(Mode::FtsOnly).limit(0).execute().await;
    assert!(matches!(zero, Err(SearchError::InvalidOption { option: "limit", .. })));
    let wrong_dims =
        search(&f.db).embedding(vec![1.0, 0.0]).collection(&f.memory).mode(Mode::VectorOnly).execute().await;
    assert!(matches!(wrong_dims, Err(SearchError::Vector(_))), "{wrong_dims:?}");
    Ok(())
}

#[tokio::test]
async fn hostile_text_is_searched_as_text() -> TestResult {
    let f = fixture().await?;
    for text in ["c++ AND (", "\"unbalanced", "NEAR(a b", "*", "-", "what's: ^x", "🦀 checkpoint"] {
        let results =
            search(&f.db).text(text).embed_with(&f.embedder).collection(&f.memory).limit(5).execute().await;
        assert!(results.is_ok(), "{text:?}: {results:?}");
    }
    Ok(())
}

#[tokio::test]
async fn max_distance_and_min_score_cut_the_list() -> TestResult {
    let f = fixture().await?;
    let near = search(&f.db)
        .embedding(f.embedder.embed_one("Prices are stored in cents to avoid rounding errors").await?)
        .collection(&f.memory)
        .mode(Mode::VectorOnly)
        .max_distance(0.01)
        .limit(50)
        .execute()
        .await?;
    assert_eq!(near.hits.len(), 1, "only the identical text is that close");
    let strict = search(&f.db)
        .text("checkpoint restored")
        .embed_with(&f.embedder)
        .collection(&f.memory)
        .min_score(2.0 / 62.0)
        .limit(50)
        .execute()
        .await?;
    assert!(strict.hits.iter().all(|h| h.score >= 2.0 / 62.0));
    assert!(!strict.hits.is_empty() && strict.hits.len() < NOTES.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_searches_leave_the_only_reader_free() -> TestResult {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir()?;
    let options =
        DbOptions::file(dir.path().join("one.db")).readers(1).acquire_timeout(Duration::from_secs(2));
    let db = Db::open_with(options).await?;
    let p = projects::create(db.writer(), NewProject::new("p", "/p")).await?.id;
    // A 1 MiB episode (remember's limit) full of matches, and a few small ones.
    let big = "The agent returned a checkpoint to the queue. ".repeat(22_700);
    episodes::create(db.writer(), NewEpisode::new(&p, EpisodeType::Decision, big)).await?;
    for i in 0..10 {
        let note = format!("Note {i}: the checkpoint was restored.");
        episodes::create(db.writer(), NewEpisode::new(&p, EpisodeType::Decision, note)).await?;
    }
    // Searches dropped at different points: before, during and after their statements.
    for micros in [0, 50, 200, 1_000, 5_000, 20_000] {
        let pending = search(&db).text("checkpoint returned").mode(Mode::FtsOnly).project(&p).execute();
        let _ = tokio::time::timeout(Duration::from_micros(micros), pending).await;
    }
    let started = Instant::now();
    let results = search(&db).text("checkpoint").mode(Mode::FtsOnly).project(&p).limit(20).execute().await?;
    assert_eq!(results.hits.len(), 11);
    for hit in &results.hits {
        let snippet = hit.snippet.as_deref().unwrap_or_default();
        assert!(snippet.contains("<mark>checkpoint</mark>") && snippet.len() < 1_000, "{snippet:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "the reader was stuck: {:?}", started.elapsed());
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn transcript_entries_are_found_by_the_keyword_leg_and_fused_with_the_rest() -> TestResult {
    use nexus_db::transcripts::{self, NewEntry, NewTranscript, Role};
    let f = fixture().await?;
    let mine = transcripts::create(f.db.writer(), NewTranscript::new(f.project.clone())).await?;
    let entries = [
        NewEntry::new(Role::User, "Please restore the checkpoint from Tuesday"),
        NewEntry::new(Role::Assistant, "Listing the snapshots first"),
    ];
    transcripts::append(f.db.writer(), &mine.id, &entries).await?;
    let theirs = transcripts::create(f.db.writer(), NewTranscript::new(f.other_project.clone())).await?;
    transcripts::append(f.db.writer(), &theirs.id, &[NewEntry::new(Role::User, "restore the checkpoint")])
        .await?;

    // Hybrid over every kind: the entry comes from the keyword leg, beside episodes and code.
    let results = search(&f.db)
        .text("restore checkpoint")
        .embed_with(&f.embedder)
        .collection(&f.memory)
        .project(&f.project)
        .limit(50)
        .explain(true)
        .execute()
        .await?;
    let entry = results
        .hits
        .iter()
        .find(|h| matches!(h.source, Source::TranscriptEntry(_)))
        .ok_or("no transcript entry among the hits")?;
    let Source::TranscriptEntry(row) = &entry.source else { unreachable!() };
    assert_eq!((&row.transcript_id, row.seq, row.role), (&mine.id, 1, Role::User));
    assert_eq!(entry.source.id(), transcripts::entry_key(&mine.id, 1));
    assert!(entry.snippet.as_deref().is_some_and(|s| s.contains("<mark>")), "{:?}", entry.snippet);
    let explain = entry.explain.ok_or("no explain")?;
    assert!(explain.fts.is_some() && explain.vector.is_none());
    assert!(results.hits.iter().any(|h| matches!(h.source, Source::Episode(_))));
    let entries = results.hits.iter().filter(|h| matches!(h.source, Source::TranscriptEntry(_))).count();
    assert_eq!(entries, 1, "the other project's transcript is filtered out");

    // Only transcript entries, keyword mode.
    let only = search(&f.db)
        .text("snapshots")
        .kinds([SourceKind::TranscriptEntry])
        .mode(Mode::FtsOnly)
        .execute()
        .await?;
    assert_eq!(only.hits.len(), 1);
    assert_eq!(only.hits[0].source.id(), transcripts::entry_key(&mine.id, 2));
    Ok(())
}

#[tokio::test]
async fn chunk_types_are_weighted_and_filtered() -> TestResult {
    let f = fixture().await?;
    // A test chunk that matches the query better than the function it tests.
    let chunk = code_chunks::create(
        f.db.writer(),
        code_chunks::NewCodeChunk {
            id: None,
            project_id: f.project.clone(),
            file: "tests/checkpoint.rs".into(),
            start_line: 1,
            end_line: 3,
            content:
                "#[test]\nfn restore_checkpoint_restores() { restore_checkpoint(\"checkpoint\").unwrap(); }"
                    .into(),
            symbols: vec!["restore_checkpoint_restores".into()],
            chunk_type: "test".into(),
            language: "rust".into(),
            complexity: Some(1),
            hash: "t".into(),
            context: None,
            signature: None,
        },
    )
    .await?;
    let vector = f.embedder.embed_one(&chunk.content).await?;
    let mut tx = f.db.begin().await?;
    f.memory.upsert(&mut tx, Item::new(SourceKind::CodeChunk, &chunk.id, &vector)).await?;
    tx.commit().await?;
    let base = || {
        search(&f.db)
            .text("restore checkpoint")
            .collection(&f.memory)
            .embed_with(&f.embedder)
            .kinds([SourceKind::CodeChunk])
            .project(f.project.clone())
    };
    let types = |hits: &[nexus_search::Hit]| -> Vec<String> {
        hits.iter()
            .filter_map(|h| match &h.source {
                Source::CodeChunk(c) => Some(c.chunk_type.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(types(&base().execute().await?.hits), ["test", "function"]);
    let demoted = base().chunk_type_weight("test", 0.25).execute().await?;
    assert_eq!(types(&demoted.hits), ["function", "test"], "ranked lower, not hidden");
    let only = base().chunk_types(["test"]).execute().await?;
    assert_eq!(types(&only.hits), ["test"]);
    let bad = base().chunk_type_weight("test", -1.0).execute().await;
    assert!(matches!(bad, Err(SearchError::InvalidOption { option: "chunk_type_weight", .. })));
    Ok(())
}
