//! [`export`]: one project, or every project, into one archive — a zstd-compressed tar stream
//! whose first member is the [`Manifest`].
//!
//! The rows are read in one read transaction (a consistent snapshot while writers go on) and
//! staged as JSON lines in a temporary directory, so the manifest, written first, can give
//! every member's size and SHA-256; then the tar stream is written from the staged files and
//! the artifact files. Memory stays bounded: rows stream from SQLite to the staged files, and
//! files stream into the archive.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use futures::TryStreamExt as _;
use nexus_artifacts::ArtifactStore;
use nexus_db::{Db, ProjectId, artifacts};
use nexus_vector::{Collection, Element};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _, SqliteConnection};

use crate::catalog::{self, ARCHIVED};
use crate::error::{ArchiveError, IoContext, Result, blocking, sql};
use crate::hashing::{HashingReader, HashingWriter, hash_file};
use crate::manifest::{
    FORMAT_NAME, FORMAT_VERSION, MANIFEST_MEMBER, Manifest, Member, MemberContent, ProjectEntry,
};
use crate::progress::Progress;
use crate::value::row_values;

/// zstd level of archives.
const LEVEL: i32 = 3;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One project.
    Project(ProjectId),
    /// Every project.
    Workspace,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportReport {
    /// The manifest written.
    pub manifest: Manifest,
    /// Bytes of the archive.
    pub archive_bytes: u64,
}

/// A member staged on disk (or an artifact file in place) before the tar stream is written.
struct Staged {
    member: Member,
    path: PathBuf,
}

/// Writes the archive of `scope` to `out`. Memory stays bounded whatever the project's size;
/// the rows are staged in a temporary directory first.
///
/// # Errors
/// [`ArchiveError::UnknownTable`] when the database has a table the archive format does not
/// know; `Db` errors (an unknown project is `NotFound`); write errors of `out`.
pub async fn export<W: Write + Send + 'static>(
    db: &Db,
    store: &ArtifactStore,
    scope: Scope,
    out: W,
    progress: Arc<dyn Progress>,
) -> Result<ExportReport> {
    let staging = tempfile::tempdir().io("creating a staging directory in", std::env::temp_dir())?;
    let mut conn = db.reader().acquire().await.map_err(sql("export"))?;
    sqlx::query("BEGIN").execute(&mut *conn).await.map_err(sql("export"))?;
    let read = read_snapshot(&mut conn, store, &scope, staging.path().to_path_buf(), progress.as_ref()).await;
    sqlx::query("ROLLBACK").execute(&mut *conn).await.map_err(sql("export"))?;
    drop(conn);
    let (manifest, staged) = read?;

    let total = staged.iter().map(|s| s.member.bytes).sum();
    progress.phase("writing", total);
    let manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| write_error(MANIFEST_MEMBER, e.into()))?;
    let archive_bytes = blocking(move || write_tar(out, &manifest_json, &staged, progress.as_ref())).await?;
    drop(staging);
    Ok(ExportReport { manifest, archive_bytes })
}

/// Reads the projects of `scope` in the open read transaction on `conn`, staging each table's
/// and collection's rows under `dir` and listing the artifact files.
async fn read_snapshot(
    conn: &mut SqliteConnection,
    store: &ArtifactStore,
    scope: &Scope,
    dir: PathBuf,
    progress: &dyn Progress,
) -> Result<(Manifest, Vec<Staged>)> {
    catalog::check_known(conn).await?;
    let migration_version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(sql("_sqlx_migrations"))?;
    let projects: Vec<(String, String)> = match scope {
        Scope::Project(id) => {
            let project = nexus_db::projects::get(&mut *conn, id).await?;
            vec![(project.id.to_string(), project.name)]
        }
        Scope::Workspace => sqlx::query_as("SELECT id, name FROM projects ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(sql("projects"))?,
    };
    let mut collections = Vec::new();
    for info in nexus_vector::list_collections(&mut *conn).await? {
        collections.push(Collection::open(&mut *conn, &info.spec.name).await?);
    }
    let mut tables = Vec::with_capacity(ARCHIVED.len());
    for table in ARCHIVED {
        tables.push((table, catalog::columns(conn, table.name).await?));
    }

    progress.phase("reading", 0);
    let mut staged = Vec::new();
    for (index, (id, _)) in projects.iter().enumerate() {
        for (table, columns) in &tables {
            let name = format!("projects/{index}/tables/{}.jsonl", table.name);
            let path = dir.join(format!("{index}-{}.jsonl", table.name));
            let mut file = StagedFile::create(&path)?;
            let mut rows = sqlx::query(catalog::select(table, columns)).bind(id).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(sql(table.name))? {
                let values = row_values(&row).map_err(sql(table.name))?;
                file.line(&values, &name)?;
                progress.advance(1);
            }
            drop(rows);
            let content = MemberContent::Table {
                table: table.name.to_owned(),
                columns: columns.iter().map(|c| c.name.clone()).collect(),
            };
            staged.push(file.finish(name, index, content, path)?);
        }
        for collection in &collections {
            let name = format!("projects/{index}/vectors/{}.jsonl", collection.name());
            let path = dir.join(format!("{index}-vectors-{}.jsonl", collection.name()));
            let mut file = StagedFile::create(&path)?;
            let mut rows = sqlx::query(vectors_select(collection)).bind(id).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await.map_err(sql("vectors"))? {
                let e = sql("vectors");
                let kind: String = row.try_get(0).map_err(&e)?;
                let source: String = row.try_get(1).map_err(&e)?;
                let label: Option<String> = row.try_get(2).map_err(&e)?;
                let embedding: Vec<u8> = row.try_get(3).map_err(&e)?;
                file.line(&(kind, source, label, nexus_db::hex(&embedding)), &name)?;
                progress.advance(1);
            }
            drop(rows);
            if file.rows > 0 {
                let content = MemberContent::Vectors { collection: collection.name().to_owned() };
                staged.push(file.finish(name, index, content, path)?);
            }
        }
        staged.extend(artifact_members(conn, store, index, id).await?);
    }
    let used: Vec<_> = collections
        .iter()
        .filter(|c| {
            staged.iter().any(|s| matches!(&s.member.content, MemberContent::Vectors { collection } if collection == c.name()))
        })
        .map(|c| c.spec().clone())
        .collect();
    let manifest = Manifest {
        format: FORMAT_NAME.to_owned(),
        format_version: FORMAT_VERSION,
        migration_version,
        nexus_version: env!("CARGO_PKG_VERSION").to_owned(),
        workspace: matches!(scope, Scope::Workspace),
        projects: projects.into_iter().map(|(id, name)| ProjectEntry { id, name }).collect(),
        collections: used,
        members: staged.iter().map(|s| s.member.clone()).collect(),
    };
    Ok((manifest, staged))
}

/// The artifact files of project `id`, hashed as stored.
async fn artifact_members(
    conn: &mut SqliteConnection,
    store: &ArtifactStore,
    index: usize,
    id: &str,
) -> Result<Vec<Staged>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM artifacts WHERE project_id = ?1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql("artifacts"))?;
    let mut members = Vec::with_capacity(ids.len());
    for artifact_id in ids {
        let artifact = artifacts::get(&mut *conn, &artifact_id.into()).await?;
        let path = store.path_of(&artifact)?;
        let file = path.clone();
        let (bytes, sha256) = blocking(move || hash_file(&file).io("reading", file)).await?;
        let name = format!(
            "projects/{index}/artifacts/{}/{}",
            artifact.kind,
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        );
        let content = MemberContent::Artifact { kind: artifact.kind.to_string(), sha256: artifact.sha256 };
        members
            .push(Staged { member: Member { name, project: index, content, rows: 1, bytes, sha256 }, path });
    }
    Ok(members)
}

/// `SELECT kind, source_id, label, float32 embedding` of one project's vectors of a collection.
fn vectors_select(collection: &Collection) -> AssertSqlSafe<String> {
    let table = collection.table();
    let (join, embedding) = match collection.element() {
        Element::Float32 => (String::new(), "v.embedding"),
        // Quantised collections keep the float32 vectors in `<table>_float` (nexus-vector).
        Element::Int8 | Element::Bit => (format!("JOIN {table}_float f ON f.key = v.rowid"), "f.embedding"),
    };
    AssertSqlSafe(format!(
        "SELECT k.kind, k.source_id, v.label, {embedding} FROM {table} v {join} \
         JOIN vector_keys k ON k.key = v.rowid WHERE v.project_id = ?1 ORDER BY k.kind, k.source_id"
    ))
}

/// A JSON-lines file being staged, hashed as written.
struct StagedFile {
    writer: HashingWriter<BufWriter<std::fs::File>>,
    rows: u64,
}

impl StagedFile {
    fn create(path: &std::path::Path) -> Result<Self> {
        let file = std::fs::File::create(path).io("creating", path)?;
        Ok(Self { writer: HashingWriter::new(BufWriter::with_capacity(1 << 16, file)), rows: 0 })
    }

    fn line(&mut self, value: &impl Serialize, member: &str) -> Result<()> {
        serde_json::to_writer(&mut self.writer, value).map_err(|e| write_error(member, e.into()))?;
        self.writer.write_all(b"\n").map_err(|e| write_error(member, e))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self, name: String, project: usize, content: MemberContent, path: PathBuf) -> Result<Staged> {
        let rows = self.rows;
        let (_, bytes, sha256) = self.writer.finish().map_err(|e| write_error(&name, e))?;
        Ok(Staged { member: Member { name, project, content, rows, bytes, sha256 }, path })
    }
}

fn write_error(what: &str, source: std::io::Error) -> ArchiveError {
    ArchiveError::Write { what: what.to_owned(), source }
}

/// Counts the bytes written to the destination.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the tar stream (manifest first, then every staged member), zstd-compressed with a
/// checksum, and returns the bytes written. An artifact file that changed since it was hashed
/// fails the export.
fn write_tar<W: Write>(out: W, manifest: &[u8], staged: &[Staged], progress: &dyn Progress) -> Result<u64> {
    let archive = |e: std::io::Error| write_error("the archive", e);
    let mut encoder =
        zstd::stream::write::Encoder::new(Counting { inner: out, bytes: 0 }, LEVEL).map_err(archive)?;
    encoder.include_checksum(true).map_err(archive)?;
    let mut tar = tar::Builder::new(encoder);
    append(&mut tar, MANIFEST_MEMBER, manifest.len() as u64, manifest).map_err(archive)?;
    let report = |n| progress.advance(n);
    for item in staged {
        let file = std::fs::File::open(&item.path).io("reading", &item.path)?;
        let mut reader = HashingReader::new(std::io::BufReader::with_capacity(1 << 16, file), &report);
        append(&mut tar, &item.member.name, item.member.bytes, &mut reader)
            .map_err(|e| write_error(&item.member.name, e))?;
        let (bytes, sha256) = reader.finish();
        if bytes != item.member.bytes || sha256 != item.member.sha256 {
            return Err(ArchiveError::HashMismatch {
                member: item.member.name.clone(),
                expected: item.member.sha256.clone(),
                actual: sha256,
            });
        }
    }
    let encoder = tar.into_inner().map_err(archive)?;
    let mut counting = encoder.finish().map_err(archive)?;
    counting.flush().map_err(archive)?;
    Ok(counting.bytes)
}

/// Appends one member of `size` bytes read from `data` (deterministic header: no times, no
/// owners).
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    data: impl std::io::Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data.take(size))
}
