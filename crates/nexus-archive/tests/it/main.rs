//! Integration tests of nexus-archive on real database files in temp dirs.

mod archive;
mod damage;
mod health;
mod people;
mod prop;

use std::path::Path;
use std::sync::Arc;

use nexus_archive::{ExportReport, ImportReport, OnConflict, Scope};
use nexus_artifacts::{ArtifactStore, PutOptions};
use nexus_db::artifacts::ArtifactKind;
use nexus_db::{Db, ProjectId, SourceKind};
use nexus_testkit::Rng;
use nexus_vector::{Collection, CollectionSpec, Item, Metric};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Dimensions of the test collection.
pub(crate) const DIMS: usize = 8;

/// A database file with its artifact store, in its own temp dir.
pub(crate) struct Site {
    pub(crate) db: Db,
    pub(crate) store: ArtifactStore,
    pub(crate) dir: tempfile::TempDir,
}

impl Site {
    pub(crate) async fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("nexus.db")).await?;
        let store = ArtifactStore::open(&db, None).await?;
        Ok(Self { db, store, dir })
    }

    pub(crate) fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Exports `scope` to `file` in this site's dir.
    pub(crate) async fn export(
        &self,
        scope: Scope,
        file: &str,
    ) -> Result<ExportReport, nexus_archive::ArchiveError> {
        let out = std::fs::File::create(self.path(file))
            .map_err(|source| nexus_archive::ArchiveError::Write { what: file.to_owned(), source })?;
        nexus_archive::export(&self.db, &self.store, scope, out, Arc::new(())).await
    }

    /// Imports the archive at `path`.
    pub(crate) async fn import(
        &self,
        path: &Path,
        mode: OnConflict,
    ) -> Result<ImportReport, nexus_archive::ArchiveError> {
        let input = std::fs::File::open(path).map_err(|source| nexus_archive::ArchiveError::Write {
            what: path.display().to_string(),
            source,
        })?;
        nexus_archive::import(&self.db, &self.store, input, mode, Arc::new(())).await
    }
}

/// The test collection.
pub(crate) async fn collection(db: &Db) -> Result<Collection, nexus_vector::VectorError> {
    Collection::open_or_create(db, &CollectionSpec::new("test_vectors", "test-model", DIMS, Metric::Cosine))
        .await
}

/// Words of the seeded text (FTS finds them).
pub(crate) const WORDS: &[&str] =
    &["cart", "payment", "invoice", "shipping", "refund", "discount", "tax", "coupon"];

/// Seeds a project named `name` with rows in every archived table, vectors and artifacts;
/// `size` scales the row counts.
pub(crate) async fn seed(
    site: &Site,
    name: &str,
    rng: &mut Rng,
    size: usize,
) -> Result<ProjectId, Box<dyn std::error::Error>> {
    let db = &site.db;
    let p = nexus_db::new_id();
    let now = 1_700_000_000_000_i64;
    let text = |rng: &mut Rng| -> String {
        let n = 3 + rng.below(8);
        (0..n).map(|_| *rng.pick(WORDS).unwrap_or(&"x")).collect::<Vec<_>>().join(" ")
            + &format!(" \"quoted\", comma, line\nbreak ü {}", rng.word(5))
    };
    let exec = |sql: &'static str| sqlx::query(sql);
    exec("INSERT INTO projects (id, name, description, mode, root_path, settings, created_at, updated_at) VALUES (?1, ?2, ?3, 'genesis', '/src', '{\"k\":1}', ?4, ?4)")
        .bind(&p).bind(name).bind(text(rng)).bind(now).execute(db.writer()).await?;
    let feature = nexus_db::new_id();
    exec("INSERT INTO features (id, project_id, name, created_at, updated_at) VALUES (?1, ?2, 'f', ?3, ?3)")
        .bind(&feature)
        .bind(&p)
        .bind(now)
        .execute(db.writer())
        .await?;
    let sub = nexus_db::new_id();
    exec("INSERT INTO sub_features (id, feature_id, name, created_at) VALUES (?1, ?2, 'sf', ?3)")
        .bind(&sub)
        .bind(&feature)
        .bind(now)
        .execute(db.writer())
        .await?;
    let mut tasks: Vec<String> = Vec::new();
    for i in 0..size.max(1) {
        let id = nexus_db::new_id();
        let deps = serde_json::to_string(&tasks.iter().take(2).collect::<Vec<_>>())?;
        exec("INSERT INTO tasks (id, project_id, feature_id, sub_feature_id, name, description, depends_on, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)")
            .bind(&id).bind(&p).bind(&feature).bind(&sub).bind(format!("task {i} {}", text(rng))).bind(text(rng)).bind(deps).bind(now + i as i64)
            .execute(db.writer()).await?;
        tasks.push(id);
    }
    exec("INSERT INTO requirements (id, project_id, category, description, confidence, created_at) VALUES (?1, ?2, 'c', ?3, ?4, ?5)")
        .bind(nexus_db::new_id()).bind(&p).bind(text(rng)).bind(rng.unit()).bind(now).execute(db.writer()).await?;
    let cp1 = nexus_db::new_id();
    let state = serde_json::json!({ "tasks": tasks, "project": p });
    exec("INSERT INTO checkpoints (id, project_id, name, state, created_at) VALUES (?1, ?2, 'one', ?3, ?4)")
        .bind(&cp1)
        .bind(&p)
        .bind(state.to_string())
        .bind(now)
        .execute(db.writer())
        .await?;
    exec("INSERT INTO checkpoints (id, project_id, name, parent_id, created_at) VALUES (?1, ?2, 'two', ?3, ?4)")
        .bind(nexus_db::new_id()).bind(&p).bind(&cp1).bind(now + 1).execute(db.writer()).await?;
    exec("INSERT INTO metrics (id, project_id, task_id, type, value, timestamp) VALUES (?1, ?2, ?3, 'token_usage', ?4, ?5)")
        .bind(nexus_db::new_id()).bind(&p).bind(&tasks[0]).bind(rng.unit() * 1e6).bind(now).execute(db.writer()).await?;
    let session = nexus_db::new_id();
    exec("INSERT INTO sessions (id, project_id, type, data, started_at) VALUES (?1, ?2, 'planning', '{\"a\":[1,2]}', ?3)")
        .bind(&session).bind(&p).bind(now).execute(db.writer()).await?;
    exec("INSERT INTO continue_points (id, project_id, task_id, last_action, saved_at) VALUES (?1, ?2, ?3, 'edit', ?4)")
        .bind(nexus_db::new_id()).bind(&p).bind(&tasks[0]).bind(now).execute(db.writer()).await?;
    exec("INSERT INTO indexed_files (project_id, path, hash, language, chunks, bytes, indexed_at) VALUES (?1, 'src/a.rs', 'h', 'rust', 1, 10, ?2)")
        .bind(&p).bind(now).execute(db.writer()).await?;
    let transcript = nexus_db::new_id();
    exec("INSERT INTO transcripts (id, project_id, session_id, entry_count, created_at, updated_at) VALUES (?1, ?2, ?3, 2, ?4, ?4)")
        .bind(&transcript).bind(&p).bind(&session).bind(now).execute(db.writer()).await?;
    for seq in 1..=2 {
        exec("INSERT INTO transcript_entries (transcript_id, seq, role, content, created_at) VALUES (?1, ?2, 'user', ?3, ?4)")
            .bind(&transcript).bind(seq).bind(text(rng)).bind(now).execute(db.writer()).await?;
    }
    let vectors = collection(db).await?;
    for i in 0..size.max(1) {
        let episode = nexus_db::new_id();
        exec("INSERT INTO episodes (id, project_id, type, content, importance, task_id, created_at) VALUES (?1, ?2, 'decision', ?3, ?4, ?5, ?6)")
            .bind(&episode).bind(&p).bind(text(rng)).bind(rng.unit()).bind(&tasks[i % tasks.len()]).bind(now).execute(db.writer()).await?;
        let chunk = nexus_db::new_id();
        exec("INSERT INTO code_chunks (id, project_id, file, start_line, end_line, content, symbols, chunk_type, language, hash, indexed_at) VALUES (?1, ?2, 'src/a.rs', 1, 3, ?3, '[\"fooBar\"]', 'function', 'rust', 'h', ?4)")
            .bind(&chunk).bind(&p).bind(text(rng)).bind(now).execute(db.writer()).await?;
        let mut conn = db.writer().acquire().await?;
        vectors
            .upsert(&mut conn, Item::new(SourceKind::Episode, &episode, &rng.unit_vector(DIMS)).label("e"))
            .await?;
        vectors.upsert(&mut conn, Item::new(SourceKind::CodeChunk, &chunk, &rng.unit_vector(DIMS))).await?;
    }
    let project: ProjectId = p.as_str().into();
    for i in 0..2 {
        let body = format!("log {i} {}\n", text(rng)).repeat(50 + rng.below(50));
        site.store
            .put(
                &project,
                ArtifactKind::Log,
                &format!("run-{i}.log"),
                "text/plain",
                body.as_bytes(),
                PutOptions::default(),
            )
            .await?;
    }
    site.store
        .put(
            &project,
            ArtifactKind::Bundle,
            "b.bin",
            "application/octet-stream",
            &rng.word(64).into_bytes()[..],
            PutOptions::default(),
        )
        .await?;
    Ok(project)
}

/// The members of an archive (name, rows, bytes, SHA-256): what two exports of the same
/// content agree on.
pub(crate) fn members(report: &ExportReport) -> Vec<(String, u64, u64, String)> {
    report.manifest.members.iter().map(|m| (m.name.clone(), m.rows, m.bytes, m.sha256.clone())).collect()
}

/// Asserts two exports have the same members, naming those that differ.
pub(crate) fn assert_same_members(a: &ExportReport, b: &ExportReport) {
    let (a, b) = (members(a), members(b));
    let differ: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).map(|(x, _)| x.0.clone()).collect();
    assert!(
        a.len() == b.len() && differ.is_empty(),
        "members differ: {differ:?} ({} vs {})",
        a.len(),
        b.len()
    );
}

/// Rows of `table` in `db`.
pub(crate) async fn count(db: &Db, table: &str) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(db.reader())
        .await?)
}

/// Ids of the FTS hits for `word` of `project` in each searchable index (sorted: ranks depend
/// on the whole database's statistics).
pub(crate) async fn fts_hits(
    db: &Db,
    project: &str,
    word: &str,
) -> Result<Vec<Vec<String>>, Box<dyn std::error::Error>> {
    let mut hits = Vec::new();
    for (index, table) in
        [("episodes_fts", "episodes"), ("tasks_fts", "tasks"), ("code_chunks_fts", "code_chunks")]
    {
        let sql = format!(
            "SELECT t.id FROM {index} f JOIN {table} t ON t.rowid = f.rowid WHERE {index} MATCH ?1 AND t.project_id = ?2 ORDER BY t.id"
        );
        hits.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(word)
                .bind(project)
                .fetch_all(db.reader())
                .await?,
        );
    }
    Ok(hits)
}

/// SHA-256 of every file under `dir` (sorted by path), and of the database files: to show
/// that a failed import changed nothing.
pub(crate) fn fingerprint(dir: &Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                dirs.push(entry.path());
            } else {
                let name = entry.path().strip_prefix(dir)?.display().to_string();
                if name.ends_with("-shm") {
                    continue;
                }
                out.push((name, nexus_db::sha256_hex(&std::fs::read(entry.path())?)));
            }
        }
    }
    out.sort();
    Ok(out)
}
