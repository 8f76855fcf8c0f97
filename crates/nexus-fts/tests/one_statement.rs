//! The one-statement search (`docs/fts.md`, "One statement for a warm search"): a warm search
//! without snippets on one index answers from one statement at the index's presumed snapshot,
//! with the very hits of a search in a read transaction, and falls back to that search whenever
//! the statement read anything else.
//!
//! A binary of its own, not a module of `it`: the cache, its counters and the presumed snapshots
//! are process-wide, so any search of another test running beside these would move the counters
//! they check or replace the snapshot they rely on. Within this binary the tests take
//! [`SERIAL`] and start from an empty cache.

use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::{Db, DbError, ProjectId, SourceKind};
use nexus_fts::{CacheStats, DEFAULT_CACHE_BYTES, FtsHit, FtsQuery, cache_stats, search, set_cache_limit};
use nexus_testkit::{TempDb, project};
use tokio::sync::{Mutex, MutexGuard};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Held by each test for its whole run (see the module doc).
static SERIAL: Mutex<()> = Mutex::const_new(());

/// The lock, and the cache emptied at its default bound (counters and presumed snapshots
/// included).
async fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().await;
    set_cache_limit(DEFAULT_CACHE_BYTES);
    guard
}

async fn note(db: &Db, project: &ProjectId, content: &str) -> Result<String, DbError> {
    Ok(episodes::create(db.writer(), NewEpisode::new(project, EpisodeType::Decision, content))
        .await?
        .id
        .into())
}

/// `n` notes of `project` that match `invoice total`, no two with the same score (more
/// mentions and shorter text score higher), and twice as many that do not match (so that the
/// words are in fewer than half the rows, where FTS5's idf is above its floor); the ids of the
/// matching ones.
async fn notes(db: &Db, project: &ProjectId, n: usize) -> TestResult<Vec<String>> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mentions = "invoice ".repeat(1 + i % 4);
        let filler = "line ".repeat(i);
        ids.push(note(db, project, &format!("{mentions}{filler}total")).await?);
    }
    noise(db, project, 2 * n).await?;
    Ok(ids)
}

/// `n` notes of `project` that do not match.
async fn noise(db: &Db, project: &ProjectId, n: usize) -> TestResult {
    for i in 0..n {
        note(db, project, &format!("nothing to see here {i}")).await?;
    }
    Ok(())
}

/// The ids of `hits`, in order.
fn ids(hits: &[FtsHit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

/// A note that outscores every note of [`notes`] for `invoice total`.
const STRONG: &str = "invoice invoice invoice invoice total total total";

/// The keyword leg's kind of query: one index, no snippets.
fn keyword_leg(project: &ProjectId, limit: u32) -> FtsQuery {
    FtsQuery::new("invoice total").project(project).kinds([SourceKind::Episode]).limit(limit).snippet(None)
}

/// The search with the cache turned off (the SQL path, FTS5's own `bm25()`), then on again
/// (emptied).
async fn uncached(db: &Db, query: &FtsQuery) -> TestResult<Vec<FtsHit>> {
    set_cache_limit(0);
    let hits = search(db.reader(), query).await;
    set_cache_limit(DEFAULT_CACHE_BYTES);
    Ok(hits?)
}

/// `(one_statement, one_statement_fallbacks)` since `before`.
fn one_statement_since(before: CacheStats) -> (u64, u64) {
    let now = cache_stats();
    (now.one_statement - before.one_statement, now.one_statement_fallbacks - before.one_statement_fallbacks)
}

/// Thirty notes and the keyword leg's query for their top 5, searched twice: the second time
/// answered by one statement (checked), its hits `warm`.
struct Warm {
    db: TempDb,
    p: ProjectId,
    query: FtsQuery,
    warm: Vec<FtsHit>,
}

async fn warm() -> TestResult<Warm> {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    notes(&db, &p, 30).await?;
    let query = keyword_leg(&p, 5);
    search(db.reader(), &query).await?;
    let before = cache_stats();
    let warm = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (1, 0), "lists cached at the presumed snapshot");
    Ok(Warm { db, p, query, warm })
}

#[tokio::test]
async fn a_warm_search_is_one_statement_with_the_same_hits() -> TestResult {
    let _serial = serial().await;
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let matching = notes(&db, &p, 60).await?;
    let query = keyword_leg(&p, 10);

    let before = cache_stats();
    let first = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (0, 0), "cold: nothing presumed, nothing cached");
    assert_eq!(first.len(), 10);
    assert!(first.iter().all(|h| matching.contains(&h.id) && h.snippet.is_none()), "{first:?}");

    let before = cache_stats();
    let second = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (1, 0), "warm: one statement");
    assert_eq!(cache_stats().hits - before.hits, 2, "its two lists count as hits");
    assert_eq!(cache_stats().misses, before.misses);
    assert_eq!(second, first, "the same hits, scores and order");

    // A page further on, also one statement, is the same page of the ranking.
    let before = cache_stats();
    let page = search(db.reader(), &query.clone().limit(4).offset(3)).await?;
    assert_eq!(one_statement_since(before), (1, 0));
    assert_eq!(page, first[3..7]);

    assert_eq!(uncached(&db, &query).await?, first, "FTS5's own ranking");
    Ok(())
}

#[tokio::test]
async fn a_write_between_searches_sends_the_search_back_to_its_transaction() -> TestResult {
    let _serial = serial().await;
    let Warm { db, p, query, warm } = warm().await?;

    // A row that outscores every other: the lists cached before it must not rank the next search.
    let new = note(&db, &p, STRONG).await?;
    let before = cache_stats();
    let after_write = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (0, 1), "the statement saw another version: fell back");
    let now = cache_stats();
    assert_eq!((now.hits - before.hits, now.misses - before.misses), (0, 2), "counted once, by the fallback");
    assert_eq!(ids(&after_write)[0], new, "{after_write:?}");
    assert!(ids(&warm).iter().all(|id| *id != new));
    assert_eq!(after_write, uncached(&db, &query).await?);

    // The fallback read the new version: it is the presumed one now.
    search(db.reader(), &query).await?;
    let before = cache_stats();
    assert_eq!(search(db.reader(), &query).await?, after_write);
    assert_eq!(one_statement_since(before), (1, 0));
    Ok(())
}

#[tokio::test]
async fn a_search_on_a_connection_that_can_write_never_answers_from_one_statement() -> TestResult {
    let _serial = serial().await;
    let Warm { db, p, query, warm } = warm().await?;

    // A reader inside a transaction: not tried, same hits.
    let mut read = db.reader().begin().await?;
    let before = cache_stats();
    assert_eq!(search(&mut *read, &query).await?, warm);
    assert_eq!(one_statement_since(before), (0, 0), "no statement tried inside a transaction");
    read.commit().await?;

    // The writer outside a transaction: its statement runs and is rejected (not query-only).
    let before = cache_stats();
    assert_eq!(search(db.writer(), &query).await?, warm);
    assert_eq!(one_statement_since(before), (0, 1), "the writer's answer is discarded");

    // Inside the writer's transaction, with a row the cached lists do not have: not tried, and
    // the row is found.
    let mut tx = db.begin().await?;
    let new: String =
        episodes::create(&mut *tx, NewEpisode::new(&p, EpisodeType::Decision, STRONG)).await?.id.into();
    let before = cache_stats();
    let in_tx = search(&mut *tx, &query).await?;
    assert_eq!(one_statement_since(before), (0, 0), "no statement tried inside a transaction");
    assert_eq!(ids(&in_tx)[0], new, "{in_tx:?}");
    tx.commit().await?;

    // Committed, the readers rank the same; the presumed snapshot is stale now.
    let before = cache_stats();
    assert_eq!(search(db.reader(), &query).await?, in_tx);
    assert_eq!(one_statement_since(before), (0, 1));
    assert_eq!(uncached(&db, &query).await?, in_tx);
    Ok(())
}

#[tokio::test]
async fn filters_that_need_more_than_one_round_send_the_search_back() -> TestResult {
    let _serial = serial().await;
    let db = TempDb::new().await?;
    let (mine, other) = (project(&db, "mine").await?, project(&db, "other").await?);
    // The other project's notes outscore all of mine: the first round of filters (the best
    // 2k + 20 = 26 rows) holds none of mine.
    for i in 0..60 {
        note(&db, &other, &format!("invoice invoice {}total", "pad ".repeat(i))).await?;
    }
    noise(&db, &other, 150).await?;
    let mut mine_ids = Vec::new();
    for i in 0..6 {
        let filler = "a long note about the ledger and its many line items ".repeat(3 + i);
        mine_ids.push(note(&db, &mine, &format!("{filler}invoice")).await?);
    }
    let query = keyword_leg(&mine, 3);
    let first = search(db.reader(), &query).await?;
    let before = cache_stats();
    let second = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (0, 1), "one round does not settle the top 3");
    let now = cache_stats();
    assert_eq!((now.hits - before.hits, now.misses - before.misses), (2, 0), "counted once, by the fallback");
    assert_eq!(second, first);
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|h| mine_ids.contains(&h.id)), "{second:?}");
    assert_eq!(second, uncached(&db, &query).await?);

    // The other project's top 3 is settled in the first round: one statement.
    let query = keyword_leg(&other, 3);
    search(db.reader(), &query).await?;
    let before = cache_stats();
    let top = search(db.reader(), &query).await?;
    assert_eq!(one_statement_since(before), (1, 0));
    assert_eq!(top, uncached(&db, &query).await?);
    Ok(())
}
