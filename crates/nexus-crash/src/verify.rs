//! The checks after a kill: the file is intact (SQLite, foreign keys, full-text indexes,
//! vectors, code index) and every acknowledged write is present.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::Result;
use nexus_db::{Db, SourceKind};
use nexus_store::code::content_hash;
use sqlx::{AssertSqlSafe, SqlitePool};

use crate::ack::Ack;
use crate::tree;

/// What one check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Damage: failed integrity, foreign-key, full-text, vector or code-index checks.
    pub problems: Vec<String>,
    /// Indexes (into the ack log) of acknowledged writes that are missing, with why.
    pub lost: BTreeMap<usize, String>,
}

impl Report {
    /// True when nothing is damaged and nothing acknowledged is missing.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.lost.is_empty()
    }
}

/// Opens the store file at `db` (as an application restarting after the crash would) and
/// checks it against the acknowledged writes `acks`. `tree` is the indexed source tree as it
/// is now (the state an unacknowledged indexing run may have reached).
pub async fn check(db: &Path, tree_root: &Path, acks: &[Ack]) -> Result<Report> {
    let mut report = Report::default();
    let db = match Db::open(db).await {
        Ok(db) => db,
        Err(e) => {
            report.problems.push(format!("the database does not open: {e}"));
            return Ok(report);
        }
    };
    integrity(&db, &mut report).await?;
    vectors(db.reader(), &mut report).await?;
    code_index(db.reader(), &mut report).await?;
    acknowledged(db.reader(), tree_root, acks, &mut report).await?;
    db.close().await?;
    Ok(report)
}

/// `PRAGMA integrity_check`, `PRAGMA foreign_key_check` and each FTS5 index's integrity check.
async fn integrity(db: &Db, report: &mut Report) -> Result<()> {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(db.reader()).await?;
    if rows != ["ok"] {
        report.problems.push(format!("integrity_check: {}", rows.join("; ")));
    }
    let violations: Vec<(String, Option<i64>, String, i64)> =
        sqlx::query_as("PRAGMA foreign_key_check").fetch_all(db.reader()).await?;
    for (table, rowid, parent, _) in violations {
        report.problems.push(format!("foreign key: {table} rowid {rowid:?} has no {parent} row"));
    }
    for kind in [SourceKind::Episode, SourceKind::CodeChunk, SourceKind::Requirement, SourceKind::Task] {
        if let Err(e) = nexus_fts::integrity_check(db.writer(), kind).await {
            report.problems.push(format!("fts {}: {e}", nexus_fts::index_name(kind)));
        }
    }
    Ok(())
}

/// A count that must be zero, or a problem.
async fn expect_zero(pool: &SqlitePool, what: String, sql: String, report: &mut Report) -> Result<()> {
    let count: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await?;
    if count != 0 {
        report.problems.push(format!("{what}: {count}"));
    }
    Ok(())
}

/// Every vector key names an existing row; every vector has a key; with one collection (the
/// store's), every episode and code chunk — written with their vectors — has one.
async fn vectors(pool: &SqlitePool, report: &mut Report) -> Result<()> {
    for kind in [SourceKind::Episode, SourceKind::CodeChunk, SourceKind::Requirement, SourceKind::Task] {
        let (kind, table) = (kind.as_str(), kind.table());
        let sql = format!(
            "SELECT count(*) FROM vector_keys k WHERE k.kind = '{kind}'
             AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.id = k.source_id)"
        );
        expect_zero(pool, format!("vector keys of missing {table} rows"), sql, report).await?;
    }
    let collections = nexus_vector::list_collections(pool).await?;
    for info in &collections {
        let vectors = format!("vectors_{}", info.id);
        let sql = format!("SELECT count(*) FROM {vectors} WHERE rowid NOT IN (SELECT key FROM vector_keys)");
        expect_zero(pool, format!("{vectors}: vectors without a key"), sql, report).await?;
        if collections.len() > 1 {
            continue;
        }
        for kind in [SourceKind::Episode, SourceKind::CodeChunk] {
            let (kind, table) = (kind.as_str(), kind.table());
            let sql = format!(
                "SELECT count(*) FROM {table} s WHERE NOT EXISTS (
                     SELECT 1 FROM vector_keys k WHERE k.kind = '{kind}' AND k.source_id = s.id
                     AND k.key IN (SELECT rowid FROM {vectors}))"
            );
            expect_zero(pool, format!("{table} rows without a vector in {vectors}"), sql, report).await?;
        }
    }
    Ok(())
}

/// Every indexed file has exactly its recorded number of chunks; no chunk lacks its file.
async fn code_index(pool: &SqlitePool, report: &mut Report) -> Result<()> {
    let sql = "SELECT count(*) FROM indexed_files f WHERE f.chunks !=
                   (SELECT count(*) FROM code_chunks c WHERE c.project_id = f.project_id AND c.file = f.path)";
    expect_zero(pool, "indexed files whose chunk count is wrong".into(), sql.into(), report).await?;
    let sql = "SELECT count(*) FROM code_chunks c WHERE NOT EXISTS
                   (SELECT 1 FROM indexed_files f WHERE f.project_id = c.project_id AND f.path = c.file)";
    expect_zero(pool, "code chunks of files not indexed".into(), sql.into(), report).await
}

/// How far along a task status is in the workload's lifecycle.
fn rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "in_progress" => 1,
        "completed" => 2,
        _ => 3,
    }
}

/// Every acknowledged write is present.
async fn acknowledged(pool: &SqlitePool, tree_root: &Path, acks: &[Ack], report: &mut Report) -> Result<()> {
    let projects: BTreeSet<String> =
        sqlx::query_scalar("SELECT id FROM projects").fetch_all(pool).await?.into_iter().collect();
    let episodes: HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT id, content FROM episodes")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(id, content)| (id, content_hash(content.as_bytes())))
            .collect();
    let tasks: HashMap<String, String> =
        sqlx::query_as("SELECT id, status FROM tasks").fetch_all(pool).await?.into_iter().collect();
    // Only each task's latest acknowledgement and the latest indexing run are checked: a later
    // one supersedes the earlier.
    let mut latest_task = HashMap::new();
    let mut latest_index = None;
    for (n, ack) in acks.iter().enumerate() {
        match ack {
            Ack::Project { id } if !projects.contains(id) => {
                report.lost.insert(n, format!("project {id} missing"));
            }
            Ack::Project { .. } => {}
            Ack::Episode { id, hash } => match episodes.get(id) {
                None => {
                    report.lost.insert(n, format!("episode {id} missing"));
                }
                Some(found) if found != hash => {
                    report.lost.insert(n, format!("episode {id} has other content"));
                }
                Some(_) => {}
            },
            Ack::Task { id, status } => {
                latest_task.insert(id.as_str(), (n, status.as_str()));
            }
            Ack::Index { files } => latest_index = Some((n, files)),
        }
    }
    for (id, (n, acked)) in latest_task {
        match tasks.get(id) {
            None => {
                report.lost.insert(n, format!("task {id} missing"));
            }
            Some(found) if rank(found) < rank(acked) => {
                report.lost.insert(n, format!("task {id} is {found}, acknowledged {acked}"));
            }
            Some(_) => {}
        }
    }
    if let Some((n, acked)) = latest_index {
        let indexed: BTreeMap<String, String> = sqlx::query_as("SELECT path, hash FROM indexed_files")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
        // An unacknowledged run after the acknowledged one may have indexed the tree as it is
        // on disk now, in part: each file must be as acknowledged or as on disk.
        let now = tree::listing(tree_root)?;
        let paths: BTreeSet<&String> = acked.keys().chain(now.keys()).chain(indexed.keys()).collect();
        let wrong: Vec<&str> = paths
            .into_iter()
            .filter(|path| {
                let found = indexed.get(*path);
                found != acked.get(*path) && found != now.get(*path)
            })
            .map(String::as_str)
            .collect();
        if !wrong.is_empty() {
            report.lost.insert(n, format!("indexed files not as acknowledged: {}", wrong.join(", ")));
        }
    }
    Ok(())
}
