//! [`check`]: one typed report of everything that can be wrong with a Nexus database and its
//! artifact directory — SQLite's `integrity_check` and `foreign_key_check`, each full-text
//! index's `integrity-check`, vectors without rows and rows without vectors, artifacts against
//! their files, the migration version — and [`repair`], which fixes what is safe to fix
//! (rebuilds full-text indexes, drops orphan vectors and unreferenced files) and says what it
//! cannot.

use nexus_artifacts::{ArtifactStore, IntegrityReport};
use nexus_db::{Db, FTS_INDEXES, Location, SourceKind};
use nexus_vector::{Collection, Element};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection as _, SqlitePool};

use crate::error::{ArchiveError, Result, sql};

/// A row whose foreign key names a missing parent (`PRAGMA foreign_key_check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKeyProblem {
    /// The child table.
    pub table: String,
    /// The child row's rowid (`None` for tables without rowid).
    pub rowid: Option<i64>,
    /// The parent table.
    pub parent: String,
}

/// A full-text index that failed its `integrity-check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FtsProblem {
    /// The FTS5 table.
    pub index: String,
    /// SQLite's message.
    pub message: String,
}

/// Vectors of a collection that no `vector_keys` row names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanVectors {
    /// The collection.
    pub collection: String,
    /// How many.
    pub count: i64,
}

/// `vector_keys` rows whose source row is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanKeys {
    /// The kind of source row.
    pub kind: SourceKind,
    /// How many.
    pub count: i64,
}

/// Rows of a project without a vector in a collection that holds vectors for other rows of the
/// same kind and project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingVectors {
    /// The collection.
    pub collection: String,
    /// The kind of row.
    pub kind: SourceKind,
    /// The project.
    pub project_id: String,
    /// Rows without a vector.
    pub missing: i64,
    /// Rows of that kind in the project.
    pub rows: i64,
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// `PRAGMA integrity_check` findings (empty when it says `ok`).
    pub integrity: Vec<String>,
    /// `PRAGMA foreign_key_check` findings.
    pub foreign_keys: Vec<ForeignKeyProblem>,
    /// Full-text indexes that do not match their tables.
    pub fts: Vec<FtsProblem>,
    /// Vectors without a key.
    pub orphan_vectors: Vec<OrphanVectors>,
    /// Keys without a row.
    pub orphan_keys: Vec<OrphanKeys>,
    /// Rows without a vector.
    pub missing_vectors: Vec<MissingVectors>,
    /// The artifact check (`None` when no artifact store was given).
    pub artifacts: Option<IntegrityReport>,
    /// The highest applied migration.
    pub migration_version: Option<i64>,
    /// The highest migration this build knows.
    pub latest_migration: Option<i64>,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn is_healthy(&self) -> bool {
        self.problems().is_empty()
    }

    /// One line per problem found.
    pub fn problems(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.integrity.iter().map(|l| format!("integrity_check: {l}")).collect();
        for p in &self.foreign_keys {
            let row = p.rowid.map_or_else(|| "a row".to_owned(), |r| format!("rowid {r}"));
            lines.push(format!("foreign key: {} {row} names a missing {} row", p.table, p.parent));
        }
        lines.extend(self.fts.iter().map(|p| format!("full-text index {}: {}", p.index, p.message)));
        lines.extend(
            self.orphan_vectors
                .iter()
                .map(|o| format!("collection {}: {} vectors without a key", o.collection, o.count)),
        );
        lines.extend(
            self.orphan_keys.iter().map(|o| format!("{} vector keys whose {} row is gone", o.count, o.kind)),
        );
        lines.extend(self.missing_vectors.iter().map(|m| {
            format!(
                "collection {}: {} of {} {} rows of project {} have no vector",
                m.collection, m.missing, m.rows, m.kind, m.project_id
            )
        }));
        if let Some(a) = &self.artifacts {
            lines.extend(a.missing.iter().map(|id| format!("artifact {id}: file missing")));
            lines
                .extend(a.corrupt.iter().map(|id| format!("artifact {id}: file does not match its SHA-256")));
            lines.extend(a.unreferenced.iter().map(|p| format!("artifact file {} has no row", p.display())));
        }
        if self.migration_version != self.latest_migration {
            lines.push(format!(
                "schema at migration {:?}, this build's latest is {:?}",
                self.migration_version, self.latest_migration
            ));
        }
        lines
    }
}

/// Checks `db` (and the artifact files of `store`, when given). Runs full-text integrity
/// checks on the writer connection (FTS5 runs them as writes that change nothing); reads
/// every page and every artifact byte, so it takes a while on a large database.
pub async fn check(db: &Db, store: Option<&ArtifactStore>) -> Result<CheckReport> {
    let mut report = CheckReport { integrity: integrity(db).await?, ..CheckReport::default() };
    let health = db.health().await?;
    report.migration_version = health.migration_version;
    report.latest_migration = health.latest_migration;
    let fks: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
            .fetch_all(db.reader())
            .await
            .map_err(sql("foreign_key_check"))?;
    report.foreign_keys =
        fks.into_iter().map(|(table, rowid, parent)| ForeignKeyProblem { table, rowid, parent }).collect();
    for index in FTS_INDEXES {
        let statement = format!("INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)");
        match sqlx::query(AssertSqlSafe(statement)).execute(db.writer()).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(e))
                if e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 11) =>
            {
                report.fts.push(FtsProblem { index: (*index).to_owned(), message: e.message().to_owned() });
            }
            Err(e) => return Err(sql("fts")(e)),
        }
    }
    for kind in SourceKind::ALL.iter().filter(|k| k.has_vectors()) {
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(orphan_keys(*kind, "SELECT count(*)")))
            .bind(kind.as_str())
            .fetch_one(db.reader())
            .await
            .map_err(sql("vector_keys"))?;
        if count > 0 {
            report.orphan_keys.push(OrphanKeys { kind: *kind, count });
        }
    }
    for collection in collections(db).await? {
        let mut count = 0;
        for statement in orphan_vectors(&collection, "SELECT count(*)") {
            let found: i64 = sqlx::query_scalar(AssertSqlSafe(statement))
                .fetch_one(db.reader())
                .await
                .map_err(sql("vectors"))?;
            count += found;
        }
        if count > 0 {
            report.orphan_vectors.push(OrphanVectors { collection: collection.name().to_owned(), count });
        }
        report.missing_vectors.extend(missing_vectors(db.reader(), &collection).await?);
    }
    if let Some(store) = store {
        report.artifacts = Some(store.check().await?);
    }
    Ok(report)
}

/// `PRAGMA integrity_check`: the findings, empty when `ok`. Damage that stops the check is
/// its finding. It runs on a connection of its own: a pooled connection may hold full-text
/// index state cached before a rebuild and report damage that is no longer there.
async fn integrity(db: &Db) -> Result<Vec<String>> {
    let found = match db.location() {
        Location::File(path) => {
            let mut conn = own_connection(path).await?;
            let found =
                sqlx::query_scalar::<_, String>("PRAGMA integrity_check(100)").fetch_all(&mut conn).await;
            conn.close().await.map_err(sql("integrity_check"))?;
            found
        }
        Location::InMemory => sqlx::query_scalar("PRAGMA integrity_check(100)").fetch_all(db.reader()).await,
    };
    match found {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Ok(Vec::new()),
        Ok(lines) => Ok(lines),
        Err(sqlx::Error::Database(e))
            if e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 11 | 26)) =>
        {
            Ok(vec![format!("the check stopped: {}", e.message())])
        }
        Err(e) => Err(sql("integrity_check")(e)),
    }
}

/// A new connection to the database file at `path`, outside the handle's pools.
pub(crate) async fn own_connection(path: &std::path::Path) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(false);
    SqliteConnection::connect_with(&options).await.map_err(sql("connect"))
}

/// Every registered collection.
async fn collections(db: &Db) -> Result<Vec<Collection>> {
    let mut opened = Vec::new();
    for info in nexus_vector::list_collections(db.reader()).await? {
        opened.push(Collection::open(db.reader(), &info.spec.name).await?);
    }
    Ok(opened)
}

/// `<head> FROM vector_keys` of the keys of `kind` (bound as `?1`) whose row is gone.
fn orphan_keys(kind: SourceKind, head: &str) -> String {
    format!(
        "{head} FROM vector_keys WHERE kind = ?1 AND NOT EXISTS (SELECT 1 FROM {} s WHERE s.id = vector_keys.source_id)",
        kind.table()
    )
}

/// `<head> FROM <table> WHERE <no key>` for the collection's vec0 table and, for quantised
/// collections, its float32 table.
fn orphan_vectors(collection: &Collection, head: &str) -> Vec<String> {
    let table = collection.table();
    let mut statements =
        vec![format!("{head} FROM {table} WHERE rowid NOT IN (SELECT key FROM vector_keys)")];
    if collection.element() != Element::Float32 {
        statements.push(format!("{head} FROM {table}_float WHERE key NOT IN (SELECT key FROM vector_keys)"));
    }
    statements
}

/// Projects with some but not all rows of a kind vectorised in `collection`.
async fn missing_vectors(pool: &SqlitePool, collection: &Collection) -> Result<Vec<MissingVectors>> {
    let mut found = Vec::new();
    for kind in SourceKind::ALL.iter().filter(|k| k.has_vectors()) {
        let statement = format!(
            "SELECT s.project_id, count(*), count(v.rowid) FROM {} s \
             LEFT JOIN vector_keys k ON k.kind = ?1 AND k.source_id = s.id \
             LEFT JOIN {} v ON v.rowid = k.key GROUP BY s.project_id",
            kind.table(),
            collection.table()
        );
        let groups: Vec<(String, i64, i64)> = sqlx::query_as(AssertSqlSafe(statement))
            .bind(kind.as_str())
            .fetch_all(pool)
            .await
            .map_err(sql("vectors"))?;
        for (project_id, rows, with) in groups {
            if with > 0 && with < rows {
                found.push(MissingVectors {
                    collection: collection.name().to_owned(),
                    kind: *kind,
                    project_id,
                    missing: rows - with,
                    rows,
                });
            }
        }
    }
    Ok(found)
}

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Full-text indexes rebuilt.
    pub fts_rebuilt: Vec<String>,
    /// Vector keys without a row removed (with their vectors).
    pub orphan_keys_removed: u64,
    /// Vectors without a key removed.
    pub orphan_vectors_removed: u64,
    /// What the artifact repair did (unreferenced files removed, rows marked).
    pub artifacts: Option<nexus_artifacts::RepairReport>,
    /// Problems left: what repair cannot fix safely, one line each with what to do.
    pub not_repaired: Vec<String>,
    /// The check after the repair.
    pub after: CheckReport,
}

/// Checks, then fixes what is safe: rebuilds the full-text indexes that failed, removes vector
/// keys whose row is gone and vectors without a key, and runs the artifact repair (removes
/// unreferenced files, marks rows whose file is missing or damaged). Page damage, foreign-key
/// violations, rows without vectors and missing artifact files are reported, not touched.
pub async fn repair(db: &Db, store: Option<&ArtifactStore>) -> Result<RepairReport> {
    let before = check(db, store).await?;
    let mut fts_rebuilt = Vec::new();
    for problem in &before.fts {
        let index = FTS_INDEXES
            .iter()
            .find(|i| **i == problem.index)
            .ok_or_else(|| ArchiveError::UnknownTable(problem.index.clone()))?;
        let statement = format!("INSERT INTO {index} ({index}) VALUES ('rebuild')");
        sqlx::query(AssertSqlSafe(statement)).execute(db.writer()).await.map_err(sql("fts"))?;
        tracing::info!(index, "full-text index rebuilt");
        fts_rebuilt.push((*index).to_owned());
    }
    let mut orphan_keys_removed = 0;
    for problem in &before.orphan_keys {
        let done = sqlx::query(AssertSqlSafe(orphan_keys(problem.kind, "DELETE")))
            .bind(problem.kind.as_str())
            .execute(db.writer())
            .await
            .map_err(sql("vector_keys"))?;
        orphan_keys_removed += done.rows_affected();
    }
    let mut orphan_vectors_removed = 0;
    for collection in collections(db).await? {
        if !before.orphan_vectors.iter().any(|o| o.collection == collection.name()) {
            continue;
        }
        // The float32 table first: its trigger removes the vec0 row of each key it deletes.
        for statement in orphan_vectors(&collection, "DELETE").into_iter().rev() {
            let done =
                sqlx::query(AssertSqlSafe(statement)).execute(db.writer()).await.map_err(sql("vectors"))?;
            orphan_vectors_removed += done.rows_affected();
        }
    }
    let artifacts = match store {
        Some(store) => Some(store.repair().await?),
        None => None,
    };
    let after = check(db, store).await?;
    let mut not_repaired = after.problems();
    if !after.integrity.is_empty() {
        not_repaired
            .push("damaged pages: restore a backup or recover the file (docs/operations.md)".to_owned());
    }
    Ok(RepairReport {
        fts_rebuilt,
        orphan_keys_removed,
        orphan_vectors_removed,
        artifacts,
        not_repaired,
        after,
    })
}
