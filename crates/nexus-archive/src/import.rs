//! [`import`]: an archive back into a database. The whole archive is verified and staged
//! first (`verify`), then applied in one write transaction; the artifact files, staged beside
//! the artifact root, are moved into place only after the commit. Any error before the commit
//! leaves the database and the artifact directory as they were.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use nexus_artifacts::ArtifactStore;
use nexus_db::artifacts::ArtifactKind;
use nexus_db::{Db, DbError, ProjectId, SourceKind, projects};
use nexus_vector::{Collection, Item, VectorError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, SqliteConnection};
use tokio::io::AsyncBufReadExt as _;

use crate::catalog::{self, Column, quote};
use crate::error::{ArchiveError, IoContext, Result, blocking, sql};
use crate::manifest::{Manifest, MemberContent};
use crate::progress::Progress;
use crate::rewrite::IdMap;
use crate::value::{bind, from_hex};
use crate::verify::{Verified, verify};

/// What to do with an archived project that is already in the database (same id or name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Fail the import; nothing is written (the default).
    #[default]
    Fail,
    /// Leave the existing project as it is and import the others.
    Skip,
    /// Delete the existing project (same id, or same name) and import the archived one.
    Replace,
    /// Import every project under fresh ids, with every reference rewritten and ` (copy)`
    /// added to a name already taken: the same archive can be imported twice side by side.
    Copy,
}

/// What happened to one archived project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Imported as archived.
    Imported,
    /// Already there: left alone.
    Skipped,
    /// Already there: replaced.
    Replaced,
    /// Imported under fresh ids.
    Copied,
}

/// One archived project after the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedProject {
    /// Its id in the archive.
    pub archived_id: String,
    /// Its id in the database (a fresh one for copies).
    pub id: String,
    /// Its name in the database.
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

/// What [`import`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The archive's manifest.
    pub manifest: Manifest,
    /// Each archived project.
    pub projects: Vec<ImportedProject>,
    /// Rows written per table (and `vectors`, `artifact files`).
    pub written: BTreeMap<String, u64>,
}

/// The plan for one archived project.
struct Plan {
    outcome: Outcome,
    /// Its id in the database.
    id: String,
    /// Projects deleted first (replace).
    replaces: Vec<ProjectId>,
}

/// Imports the archive read from `input` into `db` and `store`.
///
/// # Errors
/// Damaged archives ([`ArchiveError::Truncated`], [`ArchiveError::Damaged`],
/// [`ArchiveError::HashMismatch`], [`ArchiveError::SizeMismatch`], [`ArchiveError::BadMember`],
/// [`ArchiveError::UnknownFormat`], [`ArchiveError::NewerSchema`]), a project already there with
/// [`OnConflict::Fail`] ([`ArchiveError::Conflict`]), a vector collection of another model
/// ([`ArchiveError::EmbedderMismatch`]), rows the database refuses ([`ArchiveError::BadRow`]).
pub async fn import<R: Read + Send + 'static>(
    db: &Db,
    store: &ArtifactStore,
    input: R,
    on_conflict: OnConflict,
    progress: Arc<dyn Progress>,
) -> Result<ImportReport> {
    let staging = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(store.root())
        .io("creating a staging directory in", store.root())?;
    let dir = staging.path().to_path_buf();
    let reporter = Arc::clone(&progress);
    let verified = blocking(move || verify(input, &dir, reporter.as_ref())).await?;

    let plans = plan(db, &verified.manifest, on_conflict).await?;
    let collections = collections(db, &verified.manifest, &plans).await?;
    let ids = copy_ids(&verified, &plans).await?;
    let replaced_files = replaced_files(db, store, &plans).await?;

    progress.phase("importing", verified.manifest.members.iter().map(|m| m.rows).sum());
    let mut tx = db.begin().await?;
    sqlx::query("PRAGMA defer_foreign_keys = ON").execute(&mut *tx).await.map_err(sql("import"))?;
    for plan in &plans {
        for project in &plan.replaces {
            projects::delete(&mut *tx, project).await?;
        }
    }
    let mut written = BTreeMap::new();
    let mut tables: HashMap<String, Vec<Column>> = HashMap::new();
    for (member, file) in verified.manifest.members.iter().zip(&verified.files) {
        let plan = &plans[member.project];
        if plan.outcome == Outcome::Skipped {
            continue;
        }
        let rows = match &member.content {
            MemberContent::Table { table, columns } => {
                let target = match tables.get(table) {
                    Some(target) => target,
                    None => {
                        let target = catalog::columns(&mut tx, table).await?;
                        tables.entry(table.clone()).or_insert(target)
                    }
                };
                let copy = plan.outcome == Outcome::Copied;
                let insert = Insert::new(&member.name, table, columns, target, copy)?;
                insert.run(&mut tx, file, &ids, progress.as_ref()).await?
            }
            MemberContent::Vectors { collection } => {
                let collection = collections.get(collection).ok_or_else(|| ArchiveError::BadMember {
                    member: member.name.clone(),
                    detail: "its collection is not in the manifest".to_owned(),
                })?;
                insert_vectors(&mut tx, collection, &member.name, file, &ids, progress.as_ref()).await?
            }
            MemberContent::Artifact { .. } => 1,
        };
        let key = match &member.content {
            MemberContent::Table { table, .. } => table.clone(),
            MemberContent::Vectors { .. } => "vectors".to_owned(),
            MemberContent::Artifact { .. } => "artifact files".to_owned(),
        };
        *written.entry(key).or_default() += rows;
    }
    tx.commit().await.map_err(sql("commit"))?;

    let kept = move_artifacts(db, store, &verified, &plans).await?;
    for file in replaced_files.difference(&kept) {
        if let Err(e) = tokio::fs::remove_file(file).await {
            tracing::warn!(path = %file.display(), error = %e, "could not remove a replaced artifact file");
        }
    }
    let mut imported = Vec::with_capacity(plans.len());
    for (entry, plan) in verified.manifest.projects.iter().zip(&plans) {
        let name = match projects::get(db.reader(), &plan.id.as_str().into()).await {
            Ok(project) => project.name,
            Err(DbError::NotFound { .. }) => entry.name.clone(),
            Err(e) => return Err(e.into()),
        };
        imported.push(ImportedProject {
            archived_id: entry.id.clone(),
            id: plan.id.clone(),
            name,
            outcome: plan.outcome,
        });
    }
    drop(staging);
    Ok(ImportReport { manifest: verified.manifest, projects: imported, written })
}

/// What to do with each archived project, from what the database holds.
async fn plan(db: &Db, manifest: &Manifest, on_conflict: OnConflict) -> Result<Vec<Plan>> {
    let mut plans = Vec::with_capacity(manifest.projects.len());
    for entry in &manifest.projects {
        let by_id = match projects::get(db.reader(), &entry.id.as_str().into()).await {
            Ok(project) => Some(project.id),
            Err(DbError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let by_name = projects::find_by_name(db.reader(), &entry.name).await?.map(|p| p.id);
        let mut clashes: Vec<ProjectId> = by_id.into_iter().chain(by_name).collect();
        clashes.dedup();
        let plan = match (on_conflict, clashes.is_empty()) {
            (OnConflict::Copy, _) => {
                Plan { outcome: Outcome::Copied, id: nexus_db::new_id(), replaces: Vec::new() }
            }
            (_, true) => Plan { outcome: Outcome::Imported, id: entry.id.clone(), replaces: Vec::new() },
            (OnConflict::Fail, false) => {
                return Err(ArchiveError::Conflict { id: entry.id.clone(), name: entry.name.clone() });
            }
            (OnConflict::Skip, false) => {
                Plan { outcome: Outcome::Skipped, id: entry.id.clone(), replaces: Vec::new() }
            }
            (OnConflict::Replace, false) => {
                Plan { outcome: Outcome::Replaced, id: entry.id.clone(), replaces: clashes }
            }
        };
        plans.push(plan);
    }
    Ok(plans)
}

/// The archive's vector collections, opened or created. A collection of the same name with
/// another model, dimensions, metric or element type is refused.
async fn collections(db: &Db, manifest: &Manifest, plans: &[Plan]) -> Result<HashMap<String, Collection>> {
    let mut opened = HashMap::new();
    if plans.iter().all(|p| p.outcome == Outcome::Skipped) {
        return Ok(opened);
    }
    for spec in &manifest.collections {
        match Collection::open(db.reader(), &spec.name).await {
            Ok(existing) => {
                let there = existing.spec();
                if (&there.model, there.dimensions, there.metric, there.element)
                    != (&spec.model, spec.dimensions, spec.metric, spec.element)
                {
                    return Err(ArchiveError::EmbedderMismatch {
                        name: spec.name.clone(),
                        archive: format!("{} ({} dimensions)", spec.model, spec.dimensions),
                        database: format!("{} ({} dimensions)", there.model, there.dimensions),
                    });
                }
                opened.insert(spec.name.clone(), existing);
            }
            Err(VectorError::UnknownCollection { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for spec in &manifest.collections {
        if !opened.contains_key(&spec.name) {
            opened.insert(spec.name.clone(), Collection::open_or_create(db, spec).await?);
        }
    }
    Ok(opened)
}

/// Fresh ids for every row of the projects imported as copies (the project's own is the
/// planned one).
async fn copy_ids(verified: &Verified, plans: &[Plan]) -> Result<IdMap> {
    let mut ids = IdMap::default();
    for (index, plan) in plans.iter().enumerate() {
        if plan.outcome != Outcome::Copied {
            continue;
        }
        ids.insert(&verified.manifest.projects[index].id, &plan.id);
        for (member, file) in verified.manifest.members.iter().zip(&verified.files) {
            let MemberContent::Table { columns, .. } = &member.content else { continue };
            let Some(position) = columns.iter().position(|c| c == "id") else { continue };
            if member.project != index {
                continue;
            }
            let mut lines = lines(file).await?;
            let mut row = 0;
            while let Some(line) = lines.next_line().await.io("reading", file)? {
                row += 1;
                if let Some(Value::String(id)) = parse_row(&member.name, row, &line)?.get(position) {
                    ids.assign(id);
                }
            }
        }
    }
    Ok(ids)
}

/// The artifact files of the projects a replace deletes.
async fn replaced_files(db: &Db, store: &ArtifactStore, plans: &[Plan]) -> Result<HashSet<PathBuf>> {
    let mut files = HashSet::new();
    for project in plans.iter().flat_map(|p| &p.replaces) {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM artifacts WHERE project_id = ?1")
            .bind(project.as_str())
            .fetch_all(db.reader())
            .await
            .map_err(sql("artifacts"))?;
        for id in ids {
            let artifact = nexus_db::artifacts::get(db.reader(), &id.into()).await?;
            files.insert(store.path_of(&artifact)?);
        }
    }
    Ok(files)
}

/// Moves the staged artifact files of the imported projects to their places; returns them.
async fn move_artifacts(
    db: &Db,
    store: &ArtifactStore,
    verified: &Verified,
    plans: &[Plan],
) -> Result<HashSet<PathBuf>> {
    let mut placed = HashSet::new();
    for (member, file) in verified.manifest.members.iter().zip(&verified.files) {
        let MemberContent::Artifact { kind, sha256 } = &member.content else { continue };
        let plan = &plans[member.project];
        if plan.outcome == Outcome::Skipped {
            continue;
        }
        let kind: ArtifactKind = kind.parse().map_err(|_| ArchiveError::BadMember {
            member: member.name.clone(),
            detail: format!("unknown artifact kind {kind:?}"),
        })?;
        let project: ProjectId = plan.id.as_str().into();
        let Some(artifact) = nexus_db::artifacts::find_by_hash(db.reader(), &project, kind, sha256).await?
        else {
            return Err(ArchiveError::BadMember {
                member: member.name.clone(),
                detail: "no artifacts row of the archive names this file".to_owned(),
            });
        };
        let dest = store.path_of(&artifact)?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.io("creating", parent)?;
        }
        tokio::fs::rename(file, &dest).await.io("moving an imported artifact to", &dest)?;
        placed.insert(dest);
    }
    Ok(placed)
}

/// The lines of a staged file.
async fn lines(path: &std::path::Path) -> Result<tokio::io::Lines<tokio::io::BufReader<tokio::fs::File>>> {
    let file = tokio::fs::File::open(path).await.io("reading", path)?;
    Ok(tokio::io::BufReader::with_capacity(1 << 16, file).lines())
}

/// One row of a member: a JSON array.
fn parse_row(member: &str, row: u64, line: &str) -> Result<Vec<Value>> {
    serde_json::from_str(line).map_err(|e| ArchiveError::BadRow {
        member: member.to_owned(),
        row,
        detail: e.to_string(),
    })
}

/// The insert statement of one table member.
struct Insert<'a> {
    member: &'a str,
    sql: Arc<str>,
    /// The archive's columns, in its order.
    columns: &'a [String],
    is_projects: bool,
    copy: bool,
}

impl<'a> Insert<'a> {
    /// The statement inserting rows of `columns` into `table`, whose columns here are
    /// `target`. An `INTEGER PRIMARY KEY` (transcript entries) keeps its archived value when
    /// it is free and gets a fresh one when another row holds it (such ids are never
    /// referenced by other rows).
    fn new(
        member: &'a str,
        table: &str,
        columns: &'a [String],
        target: &[Column],
        copy: bool,
    ) -> Result<Self> {
        catalog::archived(table).ok_or_else(|| ArchiveError::BadMember {
            member: member.to_owned(),
            detail: format!("table {table} is not an archived table"),
        })?;
        let mut params = Vec::with_capacity(columns.len());
        for (i, name) in columns.iter().enumerate() {
            let Some(column) = target.iter().find(|c| &c.name == name) else {
                return Err(ArchiveError::BadMember {
                    member: member.to_owned(),
                    detail: format!("column {table}.{name} is not in this database"),
                });
            };
            let n = i + 1;
            params.push(if column.integer_key {
                format!(
                    "CASE WHEN EXISTS (SELECT 1 FROM {} WHERE {} = ?{n}) THEN NULL ELSE ?{n} END",
                    quote(table),
                    quote(name)
                )
            } else {
                format!("?{n}")
            });
        }
        let names: Vec<String> = columns.iter().map(|n| quote(n)).collect();
        let sql =
            format!("INSERT INTO {} ({}) VALUES ({})", quote(table), names.join(", "), params.join(", "));
        Ok(Self { member, sql: sql.into(), columns, is_projects: table == "projects", copy })
    }

    /// Inserts every row of the staged `file`; returns the count.
    async fn run(
        &self,
        conn: &mut SqliteConnection,
        file: &std::path::Path,
        ids: &IdMap,
        progress: &dyn Progress,
    ) -> Result<u64> {
        let mut lines = lines(file).await?;
        let mut row = 0;
        while let Some(line) = lines.next_line().await.io("reading", file)? {
            row += 1;
            let bad = |detail: String| ArchiveError::BadRow { member: self.member.to_owned(), row, detail };
            let mut values = parse_row(self.member, row, &line)?;
            if values.len() != self.columns.len() {
                return Err(bad(format!("{} values for {} columns", values.len(), self.columns.len())));
            }
            let mut args = SqliteArguments::default();
            for (value, column) in values.iter_mut().zip(self.columns) {
                if self.copy {
                    ids.rewrite(column, value);
                    if self.is_projects && *column == "name" {
                        *value = Value::String(free_name(conn, value).await?);
                    }
                }
                bind(&mut args, std::mem::take(value)).map_err(&bad)?;
            }
            sqlx::query_with(AssertSqlSafe(Arc::clone(&self.sql)), args)
                .execute(&mut *conn)
                .await
                .map_err(|e| bad(e.to_string()))?;
            progress.advance(1);
        }
        Ok(row)
    }
}

/// `name`, or `name (copy)`, `name (copy 2)`, … when the name is taken.
async fn free_name(conn: &mut SqliteConnection, name: &Value) -> Result<String> {
    let base = name.as_str().unwrap_or_default();
    let mut candidate = base.to_owned();
    let mut n = 1;
    while projects::find_by_name(&mut *conn, &candidate).await?.is_some() {
        candidate = if n == 1 { format!("{base} (copy)") } else { format!("{base} (copy {n})") };
        n += 1;
    }
    Ok(candidate)
}

/// Stores the vectors of one member; returns the count.
async fn insert_vectors(
    conn: &mut SqliteConnection,
    collection: &Collection,
    member: &str,
    file: &std::path::Path,
    ids: &IdMap,
    progress: &dyn Progress,
) -> Result<u64> {
    let mut lines = lines(file).await?;
    let mut row = 0;
    while let Some(line) = lines.next_line().await.io("reading", file)? {
        row += 1;
        let bad = |detail: String| ArchiveError::BadRow { member: member.to_owned(), row, detail };
        let (kind, id, label, hex): (String, String, Option<String>, String) =
            serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let kind: SourceKind = kind.parse().map_err(|_| bad(format!("unknown kind {kind:?}")))?;
        let vector = from_hex(&hex)
            .and_then(|bytes| nexus_db::f32s_from_bytes(&bytes))
            .ok_or_else(|| bad("the vector is not little-endian f32 hex".to_owned()))?;
        let mut item = Item::new(kind, ids.get(&id), &vector);
        if let Some(label) = &label {
            item = item.label(label);
        }
        collection.restore(conn, item).await?;
        progress.advance(1);
    }
    Ok(row)
}
