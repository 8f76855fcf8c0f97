//! Writes on a full disk: every write function either stores its row and says `Ok`, or stores
//! nothing and says `Err`; after room is freed, writes work again without reopening.
//!
//! Two ways to fill the database, both run when possible:
//! * a real full file system: a 6 MiB tmpfs mounted for the test (3 MiB of it a ballast file, deleted to free room) (needs root and the right to
//!   mount, as in CI here). The disk fills while SQLite appends the commit to the WAL, which is
//!   exactly where `INSERT … RETURNING` read with `fetch_one` used to report `Ok` for rows that
//!   were never stored;
//! * `PRAGMA max_page_count` on the writer connection, portable: the database stops growing.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;

use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::{
    AgentId, Db, DbError, EpisodeId, FeatureId, ProjectId, RequirementId, SessionId, TaskId, agents,
    checkpoints, code_chunks, continue_points, features, indexed_files, metrics, requirements, sessions,
    sub_features, tasks,
};
use nexus_store::{Store, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What one round of writes saw.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    full: usize,
}

impl Tally {
    /// Checks one write of a new row: `Ok(row)` must read back equal, `Err` must leave no row.
    async fn created<T, F>(&mut self, what: &str, result: Result<T, DbError>, read_back: F) -> TestResult
    where
        T: PartialEq + Debug,
        F: std::future::Future<Output = Result<T, DbError>>,
    {
        match (result, read_back.await) {
            (Ok(row), Ok(stored)) => {
                assert_eq!(row, stored, "{what}: Ok row differs from the stored row");
                self.ok += 1;
            }
            (Ok(row), Err(e)) => panic!("{what}: said Ok({row:?}) but the row is not stored: {e}"),
            (Err(e), Err(DbError::NotFound { .. })) => self.failed(what, &e),
            (Err(e), stored) => panic!("{what}: said Err({e}) but stored {stored:?}"),
        }
        Ok(())
    }

    /// Checks one change of an existing row: `Ok(row)` must read back equal, `Err` must leave
    /// the row as it was.
    fn changed<T: PartialEq + Debug>(&mut self, what: &str, before: T, result: Result<T, DbError>, after: T) {
        match result {
            Ok(row) => {
                assert_eq!(row, after, "{what}: Ok row differs from the stored row");
                self.ok += 1;
            }
            Err(e) => {
                assert_eq!(before, after, "{what}: said Err({e}) but the row changed");
                self.failed(what, &e);
            }
        }
    }

    /// A store call failed: a disk-full database error, or a vector write error (sqlite-vec
    /// reports a failed write to its shadow tables as SQLITE_ERROR, "out of memory").
    fn store_failed(&mut self, what: &str, error: StoreError) {
        match error {
            StoreError::Db(e) | StoreError::Vector(nexus_vector::VectorError::Db(e)) => self.failed(what, &e),
            StoreError::Vector(nexus_vector::VectorError::Sqlx { .. }) => self.full += 1,
            other => panic!("{what}: expected a disk-full error, got {other:?}"),
        }
    }

    fn failed(&mut self, what: &str, error: &DbError) {
        if matches!(error, DbError::InvalidTransition { .. }) {
            return; // an earlier step of the same row failed on the full disk
        }
        assert!(error.is_full(), "{what}: expected a typed disk-full error, got {error:?}");
        self.full += 1;
    }

    /// Checks one delete: `Ok` means the row is gone, `Err` that it is still there.
    fn deleted<T>(&mut self, what: &str, result: Result<T, DbError>, gone: bool) {
        match result {
            Ok(_) => {
                assert!(gone, "{what}: said Ok but the row is still there");
                self.ok += 1;
            }
            Err(e) => {
                assert!(!gone, "{what}: said Err({e}) but the row is gone");
                self.failed(what, &e);
            }
        }
    }
}

/// A change of an existing row, checked with [`Tally::changed`]: `$read` reads the row.
macro_rules! change {
    ($t:expr, $what:literal, $read:expr, $write:expr) => {
        if let Ok(before) = $read.await {
            let result = $write.await;
            let after = $read.await?;
            $t.changed($what, before, result, after);
        }
    };
}

/// A delete of an existing row, checked with [`Tally::deleted`]: `$read` reads the row.
macro_rules! delete {
    ($t:expr, $what:literal, $read:expr, $write:expr) => {
        if $read.await.is_ok() {
            let result = $write.await;
            let gone = matches!($read.await, Err(DbError::NotFound { .. }));
            $t.deleted($what, result, gone);
        }
    };
}

impl Tally {}

/// One round: every nexus-db write function once, then the store's remember and index_dir.
/// The `indexed_files` row of `path`, or `NotFound`.
async fn indexed_file(
    db: &Db,
    project: &ProjectId,
    path: &str,
) -> Result<indexed_files::IndexedFile, DbError> {
    let files = indexed_files::list(db.reader(), project).await?;
    files.into_iter().find(|f| f.path == path).ok_or_else(|| DbError::not_found("indexed_files", path))
}

async fn round(
    store: &Store,
    project: &ProjectId,
    tree: &Path,
    i: usize,
) -> Result<Tally, Box<dyn std::error::Error>> {
    let db = store.db();
    let (w, r) = (db.writer(), db.reader());
    let mut t = Tally::default();
    let text = format!("round {i}: {}", "disk full payload ".repeat(400));
    let id = |table: &str| format!("{table}-{i}");

    let mut new = NewProject::new(id("project"), "/p");
    new.id = Some(id("project").into());
    t.created("projects::create", projects::create(w, new).await, projects::get(r, &id("project").into()))
        .await?;

    let mut new = features::NewFeature::new(project, id("feature"));
    new.id = Some(id("feature").into());
    new.description = Some(text.clone());
    t.created("features::create", features::create(w, new).await, features::get(r, &id("feature").into()))
        .await?;
    if let Ok(before) = features::get(r, &id("feature").into()).await {
        let result = features::record_task_completed(w, &before.id).await;
        let after = features::get(r, &before.id).await?;
        t.changed("features::record_task_completed", before, result, after);
    }

    if features::get(r, &id("feature").into()).await.is_ok() {
        let mut new = sub_features::NewSubFeature::new(id("feature"), id("sub"));
        new.id = Some(id("sub").into());
        let result = sub_features::create(w, new).await;
        t.created("sub_features::create", result, sub_features::get(r, &id("sub").into())).await?;
    }

    let mut new = agents::NewAgent::new(agents::AgentType::Coder);
    new.id = Some(id("agent").into());
    t.created("agents::create", agents::create(w, new).await, agents::get(r, &id("agent").into())).await?;

    let mut new = tasks::NewTask::new(project, id("task"));
    new.id = Some(id("task").into());
    new.description = Some(text.clone());
    t.created("tasks::create", tasks::create(w, new).await, tasks::get(r, &id("task").into())).await?;
    if let (Ok(before), Ok(_)) =
        (tasks::get(r, &id("task").into()).await, agents::get(r, &id("agent").into()).await)
    {
        let result = tasks::start(w, &before.id, &id("agent").into()).await;
        let after = tasks::get(r, &before.id).await?;
        t.changed("tasks::start", before, result, after);
        let before = agents::get(r, &id("agent").into()).await?;
        let result = agents::record_tokens(w, &before.id, 100).await;
        let after = agents::get(r, &before.id).await?;
        t.changed("agents::record_tokens", before, result, after);
    }

    let mut new = checkpoints::NewCheckpoint::new(project, serde_json::json!({ "note": text }));
    new.id = Some(id("checkpoint").into());
    let result = checkpoints::create(w, new).await;
    t.created("checkpoints::create", result, checkpoints::get(r, &id("checkpoint").into())).await?;

    let mut new = metrics::NewMetric::new(project, metrics::MetricType::TokenUsage, i as f64);
    new.id = Some(id("metric").into());
    t.created("metrics::create", metrics::create(w, new).await, metrics::get(r, &id("metric").into()))
        .await?;

    let before = sessions::list(r, project, &sessions::SessionFilter::default()).await?.len();
    let result = sessions::create(w, project, sessions::SessionType::Execution, None).await;
    let session = result.as_ref().map_or_else(|_| SessionId::from("not created"), |s| s.id.clone());
    let read_back = async {
        let stored = sessions::list(r, project, &sessions::SessionFilter::default()).await?;
        if stored.len() == before {
            Err(DbError::not_found("sessions", "new"))
        } else {
            sessions::get(r, &session).await
        }
    };
    t.created("sessions::create", result, read_back).await?;
    if let Ok(before) = sessions::get(r, &session).await {
        let result = sessions::set_data(w, &before.id, serde_json::json!({ "text": text })).await;
        let after = sessions::get(r, &before.id).await?;
        t.changed("sessions::set_data", before, result, after);
    }

    let mut new = episodes::NewEpisode::new(project, EpisodeType::Decision, text.clone());
    new.id = Some(id("episode").into());
    t.created("episodes::create", episodes::create(w, new).await, episodes::get(r, &id("episode").into()))
        .await?;
    if let Ok(mut before) = episodes::get(r, &id("episode").into()).await {
        let original = before.clone();
        before.content.push_str(" (edited)");
        let result = episodes::update(w, &before).await;
        let after = episodes::get(r, &before.id).await?;
        t.changed("episodes::update", original, result, after);
    }

    let mut new = requirements::NewRequirement::new(project, "functional", &text);
    new.id = Some(id("requirement").into());
    let result = requirements::create(w, new).await;
    t.created("requirements::create", result, requirements::get(r, &id("requirement").into())).await?;

    if tasks::get(r, &id("task").into()).await.is_ok() {
        let mut new = continue_points::NewContinuePoint::new(project, id("task"), text.clone());
        new.id = Some(id("continue").into());
        let result = continue_points::create(w, new).await;
        t.created("continue_points::create", result, continue_points::get(r, &id("continue").into())).await?;
    }

    let new = code_chunks::NewCodeChunk {
        id: Some(id("chunk").into()),
        project_id: project.clone(),
        file: format!("src/f{i}.rs"),
        start_line: 1,
        end_line: 40,
        content: text.clone(),
        symbols: vec![format!("f{i}")],
        chunk_type: "function".into(),
        language: "rust".into(),
        complexity: None,
        hash: format!("{i:064x}"),
        context: None,
        signature: None,
    };
    t.created(
        "code_chunks::create",
        code_chunks::create(w, new).await,
        code_chunks::get(r, &id("chunk").into()),
    )
    .await?;

    let file = indexed_files::IndexedFile {
        project_id: project.clone(),
        path: format!("manual/{i}.rs"),
        hash: format!("{i:064x}"),
        language: "rust".into(),
        chunks: 0,
        bytes: 1,
        indexed_at: nexus_db::Timestamp::now(),
    };
    let result = indexed_files::upsert(w, &file).await.map(|()| file.clone());
    t.created("indexed_files::upsert", result, indexed_file(db, project, &file.path)).await?;

    // Every other change of every table.
    let (pid, fid, tid, aid) = (
        ProjectId::from(id("project")),
        FeatureId::from(id("feature")),
        TaskId::from(id("task")),
        AgentId::from(id("agent")),
    );
    change!(
        t,
        "projects::set_status",
        projects::get(r, &pid),
        projects::set_status(w, &pid, projects::ProjectStatus::Planning)
    );
    if let Ok(mut p) = projects::get(r, &pid).await {
        p.description = Some(text.clone());
        change!(t, "projects::update", projects::get(r, &pid), projects::update(w, &p));
    }
    change!(
        t,
        "features::set_status",
        features::get(r, &fid),
        features::set_status(w, &fid, features::WorkStatus::InProgress)
    );
    if let Ok(mut f) = features::get(r, &fid).await {
        f.name.push_str(" (renamed)");
        change!(t, "features::update", features::get(r, &fid), features::update(w, &f));
    }
    if let Ok(mut sf) = sub_features::get(r, &id("sub").into()).await {
        sf.description = Some(text.clone());
        change!(t, "sub_features::update", sub_features::get(r, &sf.id), sub_features::update(w, &sf));
    }
    change!(t, "agents::assign_task", agents::get(r, &aid), agents::assign_task(w, &aid, &tid));
    change!(
        t,
        "agents::set_status",
        agents::get(r, &aid),
        agents::set_status(w, &aid, agents::AgentStatus::Working)
    );
    change!(t, "tasks::record_qa_iteration", tasks::get(r, &tid), tasks::record_qa_iteration(w, &tid));
    change!(t, "tasks::submit_for_review", tasks::get(r, &tid), tasks::submit_for_review(w, &tid));
    change!(t, "tasks::complete", tasks::get(r, &tid), tasks::complete(w, &tid, Some(5)));
    change!(t, "agents::finish_task", agents::get(r, &aid), agents::finish_task(w, &aid, true));
    if let Ok(mut a) = agents::get(r, &aid).await {
        a.system_prompt = Some(text.clone());
        change!(t, "agents::update", agents::get(r, &aid), agents::update(w, &a));
    }
    change!(t, "agents::terminate", agents::get(r, &aid), agents::terminate(w, &aid, "round over"));
    let mut new = tasks::NewTask::new(project, id("task2"));
    new.id = Some(id("task2").into());
    t.created("tasks::create (2)", tasks::create(w, new).await, tasks::get(r, &id("task2").into())).await?;
    let tid2 = TaskId::from(id("task2"));
    change!(t, "tasks::assign", tasks::get(r, &tid2), tasks::assign(w, &tid2, &aid));
    change!(t, "tasks::block", tasks::get(r, &tid2), tasks::block(w, &tid2, &tid));
    change!(t, "tasks::fail", tasks::get(r, &tid2), tasks::fail(w, &tid2, &text));
    if let Ok(mut task) = tasks::get(r, &tid2).await {
        task.description = Some(text.clone());
        change!(t, "tasks::update", tasks::get(r, &tid2), tasks::update(w, &task));
    }
    let rid = RequirementId::from(id("requirement"));
    change!(t, "requirements::validate", requirements::get(r, &rid), requirements::validate(w, &rid));
    if let Ok(mut req) = requirements::get(r, &rid).await {
        req.description.push_str(" (revised)");
        change!(t, "requirements::update", requirements::get(r, &rid), requirements::update(w, &req));
    }
    change!(
        t,
        "sessions::set_status",
        sessions::get(r, &session),
        sessions::set_status(w, &session, sessions::SessionStatus::Paused)
    );
    let eid = EpisodeId::from(id("episode"));
    change!(t, "episodes::record_access", episodes::get(r, &eid), episodes::record_access(w, &eid));

    // Deletes: by id for every table with one, and the by-file / by-age ones.
    delete!(
        t,
        "metrics::delete",
        metrics::get(r, &id("metric").into()),
        metrics::delete(w, &id("metric").into())
    );
    delete!(
        t,
        "checkpoints::delete",
        checkpoints::get(r, &id("checkpoint").into()),
        checkpoints::delete(w, &id("checkpoint").into())
    );
    delete!(
        t,
        "continue_points::delete",
        continue_points::get(r, &id("continue").into()),
        continue_points::delete(w, &id("continue").into())
    );
    delete!(t, "sessions::delete", sessions::get(r, &session), sessions::delete(w, &session));
    delete!(t, "requirements::delete", requirements::get(r, &rid), requirements::delete(w, &rid));
    delete!(
        t,
        "sub_features::delete",
        sub_features::get(r, &id("sub").into()),
        sub_features::delete(w, &id("sub").into())
    );
    delete!(t, "tasks::delete", tasks::get(r, &tid2), tasks::delete(w, &tid2));
    delete!(t, "agents::delete", agents::get(r, &aid), agents::delete(w, &aid));
    delete!(t, "episodes::delete", episodes::get(r, &eid), episodes::delete(w, &eid));
    let chunk_file = format!("src/f{i}.rs");
    delete!(
        t,
        "code_chunks::delete_for_file",
        code_chunks::get(r, &id("chunk").into()),
        code_chunks::delete_for_file(w, project, &chunk_file)
    );
    delete!(
        t,
        "code_chunks::delete",
        code_chunks::get(r, &id("chunk").into()),
        code_chunks::delete(w, &id("chunk").into())
    );
    let manual = format!("manual/{i}.rs");
    delete!(
        t,
        "indexed_files::delete",
        indexed_file(db, project, &manual),
        indexed_files::delete(w, project, &manual)
    );
    let before = episodes::count(r, project).await?;
    let result = episodes::delete_least_valuable(w, project, 1).await;
    let after = episodes::count(r, project).await?;
    match result {
        Ok(ids) => assert_eq!(after, before - ids.len() as i64, "delete_least_valuable: Ok but count is off"),
        Err(e) => {
            assert_eq!(after, before, "delete_least_valuable said Err({e}) but deleted");
            t.failed("episodes::delete_least_valuable", &e);
        }
    }
    let result = episodes::delete_created_before(w, project, nexus_db::Timestamp::from_millis(0)).await;
    let after_old = episodes::count(r, project).await?;
    match result {
        Ok(ids) => assert!(ids.is_empty() && after_old == after, "delete_created_before(0) deleted rows"),
        Err(e) => {
            assert_eq!(after_old, after, "delete_created_before said Err({e}) but deleted");
            t.failed("episodes::delete_created_before", &e);
        }
    }
    delete!(t, "features::delete", features::get(r, &fid), features::delete(w, &fid));
    delete!(t, "projects::delete", projects::get(r, &pid), projects::delete(w, &pid));

    // A write transaction: both rows or neither.
    let result = async {
        let mut tx = db.begin().await?;
        let mut a = NewProject::new(id("tx-a"), "/a");
        a.id = Some(id("tx-a").into());
        let mut b = NewProject::new(id("tx-b"), "/b");
        b.id = Some(id("tx-b").into());
        projects::create(&mut *tx, a).await?;
        projects::create(&mut *tx, b).await?;
        tx.commit().await?;
        Ok::<_, DbError>(())
    }
    .await;
    let stored = (
        projects::get(r, &id("tx-a").into()).await.is_ok(),
        projects::get(r, &id("tx-b").into()).await.is_ok(),
    );
    match result {
        Ok(()) => {
            assert_eq!(stored, (true, true), "transaction said Ok but rows are missing");
            t.ok += 1;
        }
        Err(e) => {
            assert_eq!(stored, (false, false), "transaction said Err({e}) but stored rows");
            t.failed("transaction", &e);
        }
    }

    // Full-text maintenance: a rebuild or merge either completes or leaves the index as it was
    // (checked by FTS5's own integrity check, which compares the index with its table).
    for kind in [nexus_db::SourceKind::Episode, nexus_db::SourceKind::CodeChunk] {
        for what in ["nexus_fts::rebuild", "nexus_fts::optimize"] {
            let result = if what == "nexus_fts::rebuild" {
                nexus_fts::rebuild(w, kind).await
            } else {
                nexus_fts::optimize(w, kind).await
            };
            match result {
                Ok(()) => t.ok += 1,
                Err(nexus_fts::FtsError::Db(e)) => t.failed(what, &e),
                Err(other) => panic!("{what}: expected a disk-full error, got {other:?}"),
            }
            if let Err(e) = nexus_fts::integrity_check(w, kind).await.or_else(|e| match e {
                nexus_fts::FtsError::Db(ref d) if d.is_full() => Ok(()), // the check itself needs a write slot
                other => Err(other),
            }) {
                panic!("{what} left the {kind:?} index inconsistent: {e}");
            }
        }
    }

    // The store: memory (episode + FTS + vector + embedding cache) and the code index.
    let before = episodes::count(r, project).await?;
    let content = format!("memory {i}: {}", "remember this fact ".repeat(300));
    match store.remember(NewEpisode::new(project, EpisodeType::Decision, content)).await {
        Ok(episode) => {
            assert_eq!(episodes::get(r, &episode.id).await?, episode, "remember: Ok row not stored");
            t.ok += 1;
        }
        Err(e) => {
            assert_eq!(episodes::count(r, project).await?, before, "remember said Err({e}) but stored");
            t.store_failed("remember", e);
        }
    }
    let before = episodes::count(r, project).await?;
    let policy = nexus_store::RetentionPolicy {
        max_age: None,
        max_episodes: Some(before.unsigned_abs().saturating_sub(1)),
    };
    match store.prune(project, &policy).await {
        Ok(report) => {
            let after = episodes::count(r, project).await?;
            assert!(after < before || before == 0, "prune: Ok but nothing removed ({report:?})");
            t.ok += 1;
        }
        Err(e) => {
            assert_eq!(episodes::count(r, project).await?, before, "prune said Err({e}) but removed");
            t.store_failed("prune", e);
        }
    }
    let path = format!("f{i}.rs");
    std::fs::write(tree.join(&path), format!("/// Function {i}.\npub fn f{i}() -> usize {{\n    {i}\n}}\n"))?;
    let stored = |files: Vec<indexed_files::IndexedFile>| files.iter().any(|f| f.path == path);
    match store.index_dir(project, tree, |_| {}).await {
        Ok(report) if report.unreadable.is_empty() => {
            assert!(stored(indexed_files::list(r, project).await?), "index_dir: Ok but {path} not stored");
            t.ok += 1;
        }
        Ok(report) => panic!("index_dir reported unreadable paths: {:?}", report.unreadable),
        Err(e) => {
            let filter = code_chunks::CodeChunkFilter { file: Some(path.clone()), ..Default::default() };
            let chunks = code_chunks::list(r, project, &filter).await?;
            assert!(
                !stored(indexed_files::list(r, project).await?) && chunks.is_empty(),
                "index_dir said Err({e}) but stored {path}"
            );
            t.store_failed("index_dir", e);
        }
    }
    Ok(t)
}

/// Writes until writes fail for several rounds in a row (calling `limit` before each
/// round), then frees room with `free` and checks that every write works again on the same
/// handle.
async fn fill_then_recover(
    store: &Store,
    tree: &Path,
    limit: impl AsyncFn(&Db) -> TestResult,
    free: impl AsyncFnOnce(&Db) -> TestResult,
) -> TestResult {
    let project = projects::create(store.db().writer(), NewProject::new("full", "/full")).await?.id;
    let (mut ok, mut full, mut full_rounds) = (0, 0, 0);
    for i in 0..400 {
        limit(store.db()).await?;
        let tally = round(store, &project, tree, i).await?;
        ok += tally.ok;
        full += tally.full;
        full_rounds = if tally.full > 0 { full_rounds + 1 } else { 0 };
        if full_rounds == 3 {
            break;
        }
    }
    assert!(full_rounds == 3, "the database never filled up ({ok} writes ok, {full} failed)");
    assert!(ok > 0, "nothing was written before the disk filled up");

    free(store.db()).await?;
    let tally = round(store, &project, tree, 1_000_000).await?;
    assert_eq!(tally.full, 0, "writes still fail after room was freed: {tally:?}");
    assert!(tally.ok >= 20, "{tally:?}");
    Ok(())
}

#[tokio::test]
async fn max_page_count_full_writes_are_all_or_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree)?;
    let store = Store::open(dir.path().join("full.db")).await?;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(store.db().writer()).await?;
    // The pragma holds for one connection, and the pool replaces the writer after a failed
    // commit: set it again before every round.
    let limit = async |db: &Db| {
        let sql = format!("PRAGMA max_page_count = {}", pages + 300);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(db.writer()).await?;
        Ok(())
    };
    fill_then_recover(&store, &tree, limit, async |db: &Db| {
        sqlx::raw_sql("PRAGMA max_page_count = 1073741823").execute(db.writer()).await?;
        Ok(())
    })
    .await?;
    store.close().await?;
    Ok(())
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Self> {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Self(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
#[allow(clippy::print_stderr)] // says why it skips, where the test runner shows it
async fn real_full_disk_writes_are_all_or_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mount_point = dir.path().join("small");
    std::fs::create_dir(&mount_point)?;
    let Some(_tmpfs) = Tmpfs::mount(&mount_point, "6m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root); the max_page_count test still runs");
        return Ok(());
    };
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree)?;
    // Room to free later: a ballast file on the same file system.
    let ballast = mount_point.join("ballast");
    std::fs::write(&ballast, vec![0u8; 3 << 20])?;
    let store = Store::open(mount_point.join("full.db")).await?;
    fill_then_recover(
        &store,
        &tree,
        async |_db: &Db| Ok(()),
        async |_db: &Db| {
            std::fs::remove_file(&ballast)?;
            Ok(())
        },
    )
    .await?;
    store.close().await?;
    Ok(())
}
