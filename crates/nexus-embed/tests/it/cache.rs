//! The persistent cache: a text is embedded once (counted at the HTTP peer), survives a
//! reopen, only misses reach the provider, vectors are stored as little-endian f32 BLOBs.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use nexus_db::Db;
use nexus_embed::{
    CacheOptions, CacheStats, CachedEmbedder, EmbedError, Embedder, EmbedderConfig, EmbedderKind,
    LOCAL_MODEL, LocalEmbedder, OpenAiEmbedder,
};
use support::{TestResult, config, echo_server, embedder, fresh_server, received_inputs};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

async fn temp_db() -> Result<(tempfile::TempDir, Db), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("nexus.db")).await?;
    Ok((dir, db))
}

#[tokio::test]
async fn the_same_text_is_requested_once() -> TestResult {
    let server = echo_server().await;
    let (_dir, db) = temp_db().await?;
    let cached = CachedEmbedder::new(embedder(&server)?, db);
    let first = cached.embed(&["alpha", "beta"]).await?;
    cached.flush().await?;
    let second = cached.embed(&["beta", "alpha"]).await?;
    assert_eq!(second, [first[1].clone(), first[0].clone()]);
    // A vector enters memory when it is asked for again: the second call reads the database.
    assert_eq!(cached.stats(), CacheStats { memory_hits: 0, db_hits: 2, misses: 2 });
    assert_eq!(cached.embed(&["alpha"]).await?, [first[0].clone()]);
    assert_eq!(received_inputs(&server).await.len(), 1, "a later call reached the peer");
    assert_eq!(cached.stats(), CacheStats { memory_hits: 1, db_hits: 2, misses: 2 });
    Ok(())
}

#[tokio::test]
async fn the_cache_survives_a_reopen() -> TestResult {
    let server = echo_server().await;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nexus.db");
    let first = {
        let db = Db::open(&path).await?;
        let cached = CachedEmbedder::new(embedder(&server)?, db.clone());
        let vectors = cached.embed(&["persistent"]).await?;
        cached.flush().await?;
        db.close().await?;
        vectors
    };
    let db = Db::open(&path).await?;
    let cached = CachedEmbedder::new(embedder(&server)?, db);
    assert_eq!(cached.embed(&["persistent"]).await?, first);
    assert_eq!(received_inputs(&server).await.len(), 1);
    assert_eq!(cached.stats(), CacheStats { memory_hits: 0, db_hits: 1, misses: 0 });
    assert_eq!(cached.stored().await?, 1);
    Ok(())
}

#[tokio::test]
async fn only_misses_are_sent_each_once_in_one_call() -> TestResult {
    let server = echo_server().await;
    let (_dir, db) = temp_db().await?;
    // Memory off: the hits below come from the database.
    let cached = CachedEmbedder::with_options(embedder(&server)?, db, CacheOptions { memory_bytes: 0 });
    let warm = cached.embed(&["a", "b"]).await?;
    cached.flush().await?;
    let vectors = cached.embed(&["c", "a", "d", "c", "b", "d"]).await?;
    assert_eq!(received_inputs(&server).await, [vec!["a", "b"], vec!["c", "d"]]);
    assert_eq!(vectors[1], warm[0]);
    assert_eq!(vectors[4], warm[1]);
    assert_eq!(vectors[0], vectors[3]);
    assert_eq!(vectors[2], vectors[5]);
    assert_eq!(cached.stats(), CacheStats { memory_hits: 0, db_hits: 2, misses: 4 });
    Ok(())
}

#[tokio::test]
async fn vectors_are_stored_as_little_endian_f32() -> TestResult {
    let (_dir, db) = temp_db().await?;
    let cached = CachedEmbedder::new(LocalEmbedder::new(8)?, db.clone());
    let vector = cached.embed_one("stored bytes").await?;
    cached.flush().await?;
    let (model, dimensions, hash, blob): (String, i64, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT model, dimensions, text_hash, vector FROM embedding_cache")
            .fetch_one(db.reader())
            .await?;
    assert_eq!((model.as_str(), dimensions), ("nexus-local-hash-v1", 8));
    assert_eq!(hash.len(), 32);
    let expected: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(blob, expected);
    Ok(())
}

#[tokio::test]
async fn models_and_dimensions_do_not_share_entries() -> TestResult {
    let (_dir, db) = temp_db().await?;
    let small = CachedEmbedder::new(LocalEmbedder::new(8)?, db.clone());
    let large = CachedEmbedder::new(LocalEmbedder::new(16)?, db.clone());
    let a = small.embed_one("same text").await?;
    let b = large.embed_one("same text").await?;
    small.flush().await?;
    large.flush().await?;
    assert_eq!((a.len(), b.len()), (8, 16));
    assert_eq!((small.stored().await?, large.stored().await?), (1, 1));
    assert_eq!(large.stats().misses, 1);

    assert_eq!(small.clear().await?, 1);
    assert_eq!((small.stored().await?, large.stored().await?), (0, 1));
    small.embed_one("same text").await?;
    small.flush().await?;
    assert_eq!(small.stats().misses, 2, "cleared entries are embedded again");
    Ok(())
}

/// An embedder that counts its calls and texts, and fails on the text "bad".
#[derive(Debug, Default)]
struct Counting {
    inner: LocalEmbedder,
    calls: AtomicUsize,
    texts: AtomicUsize,
}

#[async_trait]
impl Embedder for Counting {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    async fn embed(&self, texts: &[&str]) -> nexus_embed::Result<Vec<Vec<f32>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        let bad: Vec<usize> =
            texts.iter().enumerate().filter(|(_, t)| **t == "bad").map(|(i, _)| i).collect();
        if !bad.is_empty() {
            return Err(EmbedError::BadRequest {
                model: "m".into(),
                status: 400,
                message: "bad".into(),
                inputs: bad,
            });
        }
        self.inner.embed(texts).await
    }
}

#[tokio::test]
async fn inner_errors_name_the_callers_inputs() -> TestResult {
    let db = Db::in_memory().await?;
    let inner = Arc::new(Counting::default());
    let cached = CachedEmbedder::new(Arc::clone(&inner), db);
    cached.embed(&["ok"]).await?;
    // "bad" is the inner call's input 0, but the caller's inputs 1 and 3.
    match cached.embed(&["ok", "bad", "fine", "bad"]).await {
        Err(EmbedError::BadRequest { inputs, .. }) => assert_eq!(inputs, [1, 3]),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    // Nothing of the failed call was cached; "fine" is embedded on the next call.
    cached.embed(&["fine"]).await?;
    assert_eq!(inner.texts.load(Ordering::SeqCst), 1 + 2 + 1);
    // Blank inputs are refused before anything is looked up.
    match cached.embed(&["ok", " "]).await {
        Err(EmbedError::EmptyInput { inputs }) => assert_eq!(inputs, [1]),
        other => panic!("expected EmptyInput, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_failed_cache_write_still_returns_the_vectors() -> TestResult {
    let db = Db::in_memory().await?;
    sqlx::query(
        "CREATE TRIGGER embedding_cache_full BEFORE INSERT ON embedding_cache
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(db.writer())
    .await?;
    let inner = Arc::new(Counting::default());
    let cached = CachedEmbedder::with_options(Arc::clone(&inner), db, CacheOptions { memory_bytes: 0 });
    let vectors = cached.embed(&["paid for"]).await?;
    // The write fails whether it ran at once or now (the writer may have been busy): either
    // way the queue is emptied and nothing is stored.
    assert!(matches!(cached.flush().await, Ok(()) | Err(EmbedError::Cache { operation: "write", .. })));
    assert_eq!(vectors, inner.inner.embed(&["paid for"]).await?);
    assert_eq!(cached.stored().await?, 0);
    cached.embed(&["paid for"]).await?;
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2, "not cached, so embedded again");
    Ok(())
}

#[tokio::test]
async fn a_failed_cache_read_is_an_error() -> TestResult {
    let db = Db::in_memory().await?;
    sqlx::query("DROP TABLE embedding_cache").execute(db.writer()).await?;
    let cached = CachedEmbedder::new(LocalEmbedder::default(), db);
    assert!(matches!(cached.embed(&["x"]).await, Err(EmbedError::Cache { operation: "read", .. })));
    Ok(())
}

#[tokio::test]
async fn the_memory_lru_is_bounded() -> TestResult {
    let db = Db::in_memory().await?;
    let inner = Arc::new(Counting { inner: LocalEmbedder::new(4)?, ..Counting::default() });
    // Room for two vectors of 4 dimensions.
    let cached =
        CachedEmbedder::with_options(Arc::clone(&inner), db, CacheOptions { memory_bytes: 2 * 4 * 4 });
    cached.embed(&["one", "two", "three"]).await?;
    cached.flush().await?;
    // Read back from the database: now remembered, but only two fit.
    cached.embed(&["one", "two", "three"]).await?;
    cached.embed(&["one", "two", "three"]).await?;
    let stats = cached.stats();
    assert_eq!(stats.memory_hits, 2, "{stats:?}");
    assert_eq!(stats.db_hits, 3 + 1, "{stats:?}");
    Ok(())
}

#[tokio::test]
async fn failures_of_the_provider_are_not_cached() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .and(body_string_contains("rejected"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&server)
        .await;
    let (_dir, db) = temp_db().await?;
    let cached = CachedEmbedder::new(OpenAiEmbedder::new(config(&server))?, db);
    assert!(matches!(cached.embed(&["rejected"]).await, Err(EmbedError::BadRequest { .. })));
    assert_eq!(cached.stored().await?, 0);
    Ok(())
}

#[tokio::test]
async fn the_default_configuration_works_offline_with_the_cache() -> TestResult {
    let db = Db::in_memory().await?;
    // Neural when its model files are installed (cached), hashing otherwise (not cached).
    let embedder = EmbedderConfig::from_vars(None, |_| None)?.build_cached(db.clone())?;
    let vectors = embedder.embed(&["no network needed", "fn offline() {}"]).await?;
    assert_eq!(vectors.len(), 2);
    assert!(vectors.iter().all(|v| v.len() == 384));
    embedder.flush().await?;
    let cached = if embedder.model() == LOCAL_MODEL { 0 } else { 2 };
    assert_eq!(rows(&db).await?, cached, "{} vectors cached", embedder.model());
    Ok(())
}

#[tokio::test]
async fn the_hashing_embedder_is_not_worth_caching_and_is_built_uncached() -> TestResult {
    let db = Db::in_memory().await?;
    assert!(!LocalEmbedder::default().caching_pays());
    assert!(!CachedEmbedder::new(LocalEmbedder::default(), db.clone()).caching_pays(), "caches already");
    let embedder =
        EmbedderConfig::from_vars(Some(EmbedderKind::Hashing), |_| None)?.build_cached(db.clone())?;
    assert!(!embedder.caching_pays());
    embedder.embed(&["hashed, never stored"]).await?;
    embedder.flush().await?;
    assert_eq!(rows(&db).await?, 0);
    Ok(())
}

/// The number of rows in the cache table, read through a fresh reader query.
async fn rows(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM embedding_cache").fetch_one(db.reader()).await
}

#[tokio::test]
async fn embedding_inside_a_write_transaction_does_not_wait_for_the_writer() -> TestResult {
    let (_dir, db) = temp_db().await?;
    let cached = CachedEmbedder::new(LocalEmbedder::default(), db.clone());
    let tx = db.begin().await?;
    let started = std::time::Instant::now();
    let vector =
        tokio::time::timeout(std::time::Duration::from_secs(2), cached.embed_one("inside a transaction"))
            .await
            .map_err(|_| "embed_one waited for the writer")??;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(cached.queued(), 1, "the new vector waits for the writer");
    assert_eq!(rows(&db).await?, 0);
    // Served from the queue meanwhile, without embedding again.
    assert_eq!(cached.embed_one("inside a transaction").await?, vector);
    assert_eq!(cached.stats().misses, 1);
    tx.commit().await?;
    // The background task writes it once the writer is free.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while rows(&db).await? == 0 {
        assert!(std::time::Instant::now() < deadline, "the queued vector was never written");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(cached.queued(), 0);
    assert_eq!(cached.stored().await?, 1);
    Ok(())
}

#[tokio::test]
async fn flush_writes_what_waited_for_the_writer() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nexus.db");
    let db = Db::open(&path).await?;
    let cached =
        CachedEmbedder::with_options(LocalEmbedder::default(), db.clone(), CacheOptions { memory_bytes: 0 });
    let tx = db.begin().await?;
    let vectors = cached.embed(&["one", "two", "one"]).await?;
    assert_eq!(cached.queued(), 2);
    // flush waits for the writer: it returns once the transaction ends.
    let flushed = tokio::spawn(async move { cached.flush().await.map(|()| cached) });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    tx.rollback().await?;
    let cached = flushed.await??;
    assert_eq!(cached.queued(), 0);
    db.close().await?;

    let db = Db::open(&path).await?;
    let reopened = CachedEmbedder::new(LocalEmbedder::default(), db);
    assert_eq!(reopened.embed(&["two", "one"]).await?, [vectors[1].clone(), vectors[0].clone()]);
    assert_eq!(reopened.stats(), CacheStats { memory_hits: 0, db_hits: 2, misses: 0 });
    Ok(())
}
