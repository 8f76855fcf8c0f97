//! The façade on real database files: memory (remember, recall, prune) and the incremental
//! code index (add, change, delete, rename).

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::{DbError, ProjectId, code_chunks};
use nexus_embed::{Embedder, LocalEmbedder};
use nexus_store::{RecallOptions, RetentionPolicy, Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn store() -> Result<(tempfile::TempDir, Store, ProjectId), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("store.db")).await?;
    let project = projects::create(store.db().writer(), NewProject::new("shop", "/shop")).await?;
    Ok((dir, store, project.id))
}

async fn vectors(store: &Store) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(store.collection().stats(store.db().reader()).await?.total)
}

#[tokio::test]
async fn remember_writes_episode_and_vector_together_or_not_at_all() -> TestResult {
    let (_dir, store, project) = store().await?;
    let e =
        store.remember(NewEpisode::new(&project, EpisodeType::Decision, "Prices are kept in cents")).await?;
    assert_eq!(vectors(&store).await?, 1);
    assert_eq!(episodes::get(store.db().reader(), &e.id).await?.content, "Prices are kept in cents");

    // An episode for a missing project fails on the foreign key: neither row nor vector stays.
    let orphan = store.remember(NewEpisode::new("no-such-project", EpisodeType::Decision, "lost")).await;
    assert!(
        matches!(orphan, Err(StoreError::Db(DbError::Constraint { table: "episodes", .. }))),
        "{orphan:?}"
    );
    assert_eq!(vectors(&store).await?, 1);
    assert_eq!(episodes::count(store.db().reader(), &"no-such-project".into()).await?, 0);

    let huge = "x".repeat(nexus_store::MAX_EPISODE_BYTES + 1);
    assert!(matches!(
        store.remember(NewEpisode::new(&project, EpisodeType::Research, huge)).await,
        Err(StoreError::TooLarge { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn recall_finds_relevant_episodes_filters_by_type_and_counts_access() -> TestResult {
    let (_dir, store, project) = store().await?;
    let cents = store
        .remember(NewEpisode::new(&project, EpisodeType::Decision, "Prices are stored in cents"))
        .await?;
    let retry = store
        .remember(NewEpisode::new(
            &project,
            EpisodeType::ErrorFix,
            "Fixed the flaky checkout test by retrying",
        ))
        .await?;
    store
        .remember(NewEpisode::new(&project, EpisodeType::Research, "Compared three payment providers"))
        .await?;

    let found = store.recall(&project, "how are prices stored", &RecallOptions::default()).await?;
    assert_eq!(found[0].episode.id, cents.id);
    assert_eq!(found[0].episode.access_count, 1);
    assert!(found[0].episode.last_accessed_at.is_some());
    let again = store.recall(&project, "prices cents", &RecallOptions::default()).await?;
    assert_eq!(again[0].episode.access_count, 2);

    let fixes = RecallOptions { types: vec![EpisodeType::ErrorFix], ..Default::default() };
    let only_fixes = store.recall(&project, "prices test", &fixes).await?;
    assert_eq!(only_fixes.iter().map(|r| r.episode.id.as_str()).collect::<Vec<_>>(), [retry.id.as_str()]);

    let floor = RecallOptions { min_score: Some(1.0), ..Default::default() };
    assert!(store.recall(&project, "prices", &floor).await?.is_empty(), "nothing clears an impossible floor");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_recalls_count_every_access_exactly_once() -> TestResult {
    // In memory, written in the background; and written by each recall before it returns.
    for interval in [nexus_store::ACCESS_FLUSH_INTERVAL, Duration::ZERO] {
        let dir = tempfile::tempdir()?;
        let store =
            Store::builder(dir.path().join("store.db")).access_flush_interval(interval).open().await?;
        let project = projects::create(store.db().writer(), NewProject::new("shop", "/shop")).await?.id;
        concurrent_recalls(&store, &project).await?;
    }
    Ok(())
}

async fn concurrent_recalls(store: &Store, project: &ProjectId) -> TestResult {
    for i in 0..8 {
        let text = format!("Prices are kept in cents, note {i}");
        store.remember(NewEpisode::new(project, EpisodeType::Decision, text)).await?;
    }
    let recalls = 40;
    let options = RecallOptions { limit: 5, ..Default::default() };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..recalls {
        let (store, project, options) = (store.clone(), project.clone(), options.clone());
        // On blocking threads: recall's future is not `Send` (as the server runs it).
        let handle = tokio::runtime::Handle::current();
        tasks.spawn_blocking(move || handle.block_on(store.recall(&project, "prices cents", &options)));
    }
    let mut seen: std::collections::HashMap<String, Vec<i64>> = std::collections::HashMap::new();
    while let Some(recalled) = tasks.join_next().await {
        let recalled = recalled??;
        assert_eq!(recalled.len(), 5);
        // One recall's episodes are counted at once: they all show the same count.
        let count = recalled[0].episode.access_count;
        assert!(recalled.iter().all(|r| r.episode.access_count == count), "{recalled:?}");
        for r in recalled {
            seen.entry(r.episode.id.to_string()).or_default().push(r.episode.access_count);
        }
    }
    assert_eq!(seen.len(), 5, "the same five episodes every time");
    store.flush_accesses().await?;
    for (id, mut counts) in seen {
        counts.sort_unstable();
        // Each recall saw its own access and every access counted before it (and maybe some
        // counted while it ran): the k-th smallest count is at least k, and the last recall
        // to count saw all 40.
        assert_eq!(counts.len(), recalls as usize, "{id}");
        assert!(counts.iter().zip(1..).all(|(&count, k)| (k..=recalls).contains(&count)), "{id}: {counts:?}");
        assert_eq!(counts.last(), Some(&recalls), "{id}");
        assert_eq!(episodes::get(store.db().reader(), &id.as_str().into()).await?.access_count, recalls);
    }
    Ok(())
}

#[tokio::test]
async fn recall_writes_its_counts_in_the_background_and_on_close() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let store = Store::builder(&path).access_flush_interval(Duration::from_secs(3600)).open().await?;
    let project = projects::create(store.db().writer(), NewProject::new("shop", "/shop")).await?.id;
    let cents =
        store.remember(NewEpisode::new(&project, EpisodeType::Decision, "Prices are kept in cents")).await?;
    for expected in 1..=3 {
        let found = store.recall(&project, "prices cents", &RecallOptions::default()).await?;
        assert_eq!(found[0].episode.access_count, expected, "stored count plus pending accesses");
    }
    let stored = episodes::get(store.db().reader(), &cents.id).await?;
    assert_eq!((stored.access_count, stored.last_accessed_at), (0, None), "the recalls wrote nothing");
    store.flush_accesses().await?;
    assert_eq!(episodes::get(store.db().reader(), &cents.id).await?.access_count, 3);
    let found = store.recall(&project, "prices cents", &RecallOptions::default()).await?;
    assert_eq!(found[0].episode.access_count, 4);
    store.close().await?;

    let reopened = Store::open(&path).await?;
    let stored = episodes::get(reopened.db().reader(), &cents.id).await?;
    assert_eq!(stored.access_count, 4, "close wrote the pending access");
    assert!(stored.last_accessed_at.is_some());
    reopened.close().await?;
    Ok(())
}

#[tokio::test]
async fn an_int8_collection_is_created_on_request_and_keeps_its_type() -> TestResult {
    use nexus_store::search::Mode;
    use nexus_vector::Element;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let store = Store::builder(&path).vector_element(Element::Int8).open().await?;
    assert_eq!(store.collection().element(), Element::Int8);
    let project = projects::create(store.db().writer(), NewProject::new("shop", "/shop")).await?.id;
    let cents =
        store.remember(NewEpisode::new(&project, EpisodeType::Decision, "Prices are kept in cents")).await?;
    let found = store.search().text("prices in cents").mode(Mode::VectorOnly).execute().await?;
    assert_eq!(found.hits.len(), 1);
    store.close().await?;
    let reopened = Store::builder(&path).vector_element(Element::Float32).open().await?;
    assert_eq!(reopened.collection().element(), Element::Int8, "an existing collection keeps its type");
    assert_eq!(episodes::get(reopened.db().reader(), &cents.id).await?.content, "Prices are kept in cents");
    reopened.close().await?;
    Ok(())
}

#[tokio::test]
async fn prune_counts_the_accesses_still_in_memory() -> TestResult {
    let (_dir, store, project) = store().await?;
    let mut ids = Vec::new();
    for i in 0..3 {
        let new = NewEpisode::new(&project, EpisodeType::Research, format!("note number {i}"));
        ids.push(store.remember(new).await?.id);
    }
    let found = store.recall(&project, "number 0", &RecallOptions { limit: 1, ..Default::default() }).await?;
    assert_eq!(found[0].episode.id, ids[0]);
    // Equal importance: the least accessed go first, so the recalled episode stays.
    let policy = RetentionPolicy { max_age: None, max_episodes: Some(1) };
    let report = store.prune(&project, &policy).await?;
    assert_eq!(report.excess, [ids[1].clone(), ids[2].clone()]);
    assert_eq!(episodes::get(store.db().reader(), &ids[0]).await?.access_count, 1);
    Ok(())
}

#[tokio::test]
async fn prune_removes_old_then_least_valuable_episodes_with_their_vectors() -> TestResult {
    let (_dir, store, project) = store().await?;
    let mut ids = Vec::new();
    for i in 0..6 {
        let mut new = NewEpisode::new(&project, EpisodeType::Research, format!("note number {i}"));
        new.importance = if i == 0 { 0.1 } else { 1.0 + f64::from(i) };
        ids.push(store.remember(new).await?.id);
    }
    // Make one episode old.
    sqlx::query("UPDATE episodes SET created_at = created_at - 100 * 86400000 WHERE id = ?")
        .bind(&ids[5])
        .execute(store.db().writer())
        .await?;
    store.recall(&project, "note number 1", &RecallOptions { limit: 1, ..Default::default() }).await?;

    let policy = RetentionPolicy { max_age: Some(Duration::from_secs(90 * 86400)), max_episodes: Some(3) };
    let report = store.prune(&project, &policy).await?;
    assert_eq!(report.expired, [ids[5].clone()]);
    // Left: 0 (importance 0.1), 1 (accessed), 2, 3, 4; two must go: 0 first, then the least
    // important of the rest (1, importance 2.0).
    assert_eq!(report.excess, [ids[0].clone(), ids[1].clone()]);
    assert_eq!(report.removed(), 3);
    assert_eq!(episodes::count(store.db().reader(), &project).await?, 3);
    assert_eq!(vectors(&store).await?, 3, "vectors went with their episodes");
    assert_eq!(store.prune(&project, &policy).await?.removed(), 0);
    Ok(())
}

#[tokio::test]
async fn index_dir_is_incremental_across_add_change_delete_and_rename() -> TestResult {
    let (dir, store, project) = store().await?;
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("src"))?;
    fs::write(tree.join("src/lib.rs"), "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n")?;
    fs::write(tree.join("src/util.py"), "def parse_query(text):\n    return text.split()\n")?;
    fs::write(tree.join("README.md"), "# Demo\n\nA demo tree.\n")?;
    fs::write(tree.join(".gitignore"), "ignored.txt\n")?;
    fs::write(tree.join("ignored.txt"), "never indexed\n")?;
    fs::write(tree.join("blob.bin"), [0u8, 1, 2, 3, 0, 9])?;

    let mut calls = 0;
    let first = store.index_dir(&project, &tree, |_| calls += 1).await?;
    assert_eq!((first.files_indexed, first.files_unchanged, first.files_removed), (3, 0, 0));
    assert!(calls >= 2, "progress is reported");
    assert_eq!(first.files_skipped, 1, "the binary file");
    let chunks = code_chunks::list(store.db().reader(), &project, &Default::default()).await?;
    assert_eq!(chunks.len(), first.chunks_written);
    assert!(chunks.iter().any(|c| c.file == "src/lib.rs" && c.symbols == ["add"]));
    assert!(!chunks.iter().any(|c| c.file == "ignored.txt"));
    assert_eq!(vectors(&store).await?, chunks.len() as u64);

    let unchanged = store.index_dir(&project, &tree, |_| {}).await?;
    assert_eq!((unchanged.files_indexed, unchanged.files_unchanged, unchanged.chunks_written), (0, 3, 0));

    // Change one file, delete one, rename one.
    fs::write(tree.join("src/lib.rs"), "pub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n")?;
    fs::remove_file(tree.join("README.md"))?;
    fs::rename(tree.join("src/util.py"), tree.join("src/query.py"))?;
    let next = store.index_dir(&project, &tree, |_| {}).await?;
    assert_eq!((next.files_indexed, next.files_unchanged, next.files_removed), (2, 0, 2));
    let files: Vec<String> = code_chunks::list(store.db().reader(), &project, &Default::default())
        .await?
        .into_iter()
        .map(|c| c.file)
        .collect();
    assert_eq!(files, ["src/lib.rs", "src/query.py"]);
    assert_eq!(vectors(&store).await?, 2, "vectors of replaced and removed chunks are gone");

    let hits = store.search().text("parse query").project(&project).limit(3).execute().await?;
    assert!(
        hits.hits
            .iter()
            .any(|h| matches!(&h.source, nexus_search::Source::CodeChunk(c) if c.file == "src/query.py"))
    );
    Ok(())
}

#[tokio::test]
async fn index_dir_reports_a_missing_root() -> TestResult {
    let (dir, store, project) = store().await?;
    let missing = store.index_dir(&project, dir.path().join("nope"), |_| {}).await;
    assert!(
        matches!(missing, Err(StoreError::Code(nexus_store::code::CodeError::InvalidRoot { .. }))),
        "{missing:?}"
    );
    Ok(())
}

#[tokio::test]
async fn stats_count_rows_indexes_and_vectors() -> TestResult {
    let (_dir, store, project) = store().await?;
    store.remember(NewEpisode::new(&project, EpisodeType::Decision, "one")).await?;
    let stats = store.stats().await?;
    assert!(stats.tables.iter().any(|t| t.table == "episodes" && t.rows == 1));
    assert!(stats.fts.iter().any(|f| f.index == "episodes_fts" && f.indexed_rows == 1));
    assert_eq!(stats.vectors.total, 1);
    assert!(stats.database_bytes > 0);
    let json = serde_json::to_value(&stats)?;
    assert!(json["tables"].is_array());
    assert_eq!(json["tables"][0], serde_json::json!({ "table": "access_writes", "rows": 1 }));
    // The schema's tables: every table but the FTS and vector ones and sqlx's own.
    let health = store.db().health().await?;
    let schema: Vec<&String> = health
        .tables
        .iter()
        .filter(|t| !t.contains("_fts") && !t.starts_with("vectors_") && !t.starts_with('_'))
        .collect();
    assert_eq!(stats.tables.iter().map(|t| &t.table).collect::<Vec<_>>(), schema);
    let counts = store.db().table_counts().await?;
    assert_eq!(counts.fts.len(), 6);
    assert!(counts.fts.iter().any(|f| f.index == "episodes_fts" && f.documents == 1 && f.bytes > 0));
    assert_eq!(counts.vectors.len(), 1);
    assert_eq!(
        (counts.vectors[0].collection.as_str(), counts.vectors[0].rows),
        (store.collection().name(), 1)
    );
    assert!(counts.vectors[0].bytes > 0);
    Ok(())
}

/// The hashing embedder as if it were a costly model: [`Embedder::caching_pays`] keeps its
/// default (true), so the store caches it.
#[derive(Debug)]
struct Costly(LocalEmbedder);

#[async_trait::async_trait]
impl Embedder for Costly {
    fn model(&self) -> &str {
        "costly-test-model"
    }

    fn dimensions(&self) -> usize {
        self.0.dimensions()
    }

    async fn embed(&self, texts: &[&str]) -> nexus_embed::Result<Vec<Vec<f32>>> {
        self.0.embed(texts).await
    }
}

async fn cached_rows(path: &std::path::Path) -> Result<i64, Box<dyn std::error::Error>> {
    let db = nexus_db::Db::open(path).await?;
    Ok(sqlx::query_scalar("SELECT count(*) FROM embedding_cache").fetch_one(db.reader()).await?)
}

#[tokio::test]
async fn embedding_inside_a_transaction_returns_at_once_and_is_cached_by_close() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store.db");
    let store = Store::builder(&path).embedder(Arc::new(Costly(LocalEmbedder::default()))).open().await?;
    let tx = store.db().begin().await?;
    // The embedding cache writes through the single writer, which `tx` holds: it must not wait.
    let embedded =
        tokio::time::timeout(Duration::from_secs(2), store.embedder().embed_one("held writer")).await;
    assert!(matches!(embedded, Ok(Ok(_))), "embed_one inside a transaction: {embedded:?}");
    tx.commit().await?;
    store.close().await?;
    assert_eq!(
        cached_rows(&path).await?,
        1,
        "the vector embedded while the writer was held was written by close"
    );
    Ok(())
}

#[tokio::test]
async fn the_hashing_embedder_is_not_cached() -> TestResult {
    let (dir, store, project) = store().await?;
    let path = dir.path().join("store.db");
    store.remember(NewEpisode::new(&project, EpisodeType::Decision, "hashed, not stored")).await?;
    store.search().text("hashed").limit(1).execute().await?;
    store.close().await?;
    assert_eq!(cached_rows(&path).await?, 0, "hashing costs less than a lookup: nothing is cached");
    Ok(())
}

/// Whether permission bits stop this process (they do not stop root, who has
/// `CAP_DAC_OVERRIDE`): probes a file made unreadable.
fn permissions_apply(dir: &std::path::Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    fs::write(&probe, "x")?;
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000))?;
    let applies = fs::read(&probe).is_err();
    fs::remove_file(&probe)?;
    Ok(applies)
}

/// Runs the test named `test` of this binary again as user `nobody` (65534) through
/// `setpriv`; skips, with a message, when that is impossible.
#[allow(clippy::print_stderr)]
fn rerun_as_nobody(test: &str) -> TestResult {
    const GUARD: &str = "NEXUS_TEST_AS_NOBODY";
    if std::env::var_os(GUARD).is_some() {
        eprintln!("skipped: `chmod 000` does not stop reads, even as nobody");
        return Ok(());
    }
    let status = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(std::env::current_exe()?)
        .args([test, "--exact", "--test-threads=1"])
        .env(GUARD, "1")
        .status();
    match status {
        Ok(status) => {
            assert!(status.success(), "{test} as nobody: {status}");
            Ok(())
        }
        Err(error) => {
            eprintln!("skipped: running as root, who ignores `chmod 000`, and setpriv failed: {error}");
            Ok(())
        }
    }
}

#[tokio::test]
async fn unreadable_files_and_directories_keep_their_chunks() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store, project) = store().await?;
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("locked_dir"))?;
    fs::write(tree.join("a.rs"), "pub fn a() -> u32 { 1 }\n")?;
    fs::write(tree.join("locked.rs"), "pub fn locked() -> u32 { 2 }\n")?;
    fs::write(tree.join("locked_dir/inner.rs"), "pub fn inner() -> u32 { 3 }\n")?;
    fs::write(tree.join("gone.rs"), "pub fn gone() -> u32 { 4 }\n")?;
    if !permissions_apply(dir.path())? {
        // Root reads anything: run this very test again as `nobody`, for whom the bits apply.
        // (The keep-on-error decision is also unit-tested in code_index.rs with a failing read.)
        return rerun_as_nobody("unreadable_files_and_directories_keep_their_chunks");
    }
    assert_eq!(store.index_dir(&project, &tree, |_| {}).await?.files_indexed, 4);

    fs::set_permissions(tree.join("locked.rs"), fs::Permissions::from_mode(0o000))?;
    fs::set_permissions(tree.join("locked_dir"), fs::Permissions::from_mode(0o000))?;
    fs::remove_file(tree.join("gone.rs"))?;
    let report = store.index_dir(&project, &tree, |_| {}).await;
    fs::set_permissions(tree.join("locked_dir"), fs::Permissions::from_mode(0o755))?;
    fs::set_permissions(tree.join("locked.rs"), fs::Permissions::from_mode(0o644))?;
    let report = report?;
    assert_eq!((report.files_removed, report.files_kept, report.files_unchanged), (1, 2, 1), "{report:?}");
    let mut unreadable: Vec<&str> = report.unreadable.iter().map(|u| u.path.as_str()).collect();
    unreadable.sort_unstable();
    assert_eq!(unreadable, ["locked.rs", "locked_dir"]);
    // The reason is the OS error alone, without the path again.
    assert!(
        report
            .unreadable
            .iter()
            .all(|u| u.reason.contains("ermission denied") && !u.reason.contains("locked")),
        "{report:?}"
    );

    // Readable again: unchanged, nothing re-embedded.
    let again = store.index_dir(&project, &tree, |_| {}).await?;
    assert_eq!((again.files_unchanged, again.files_indexed, again.files_removed), (3, 0, 0), "{again:?}");
    Ok(())
}
