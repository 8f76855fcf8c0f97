//! [`ArtifactStore`]: `put` (streamed, hashed, compressed when it pays, deduplicated, crash
//! safe), `get`, `verify`, `list` and deletion. The integrity check lives in `integrity`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use async_compression::Level;
use async_compression::tokio::bufread::ZstdDecoder;
use async_compression::tokio::write::ZstdEncoder;
use nexus_db::artifacts::{self, Artifact, ArtifactKind, ArtifactState, Compression, NewArtifact};
use nexus_db::{ArtifactId, Db, DbError, Location, Page, ProjectId, TaskId, projects};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::RwLock;

use crate::compress;
use crate::error::{ArtifactError, IoContext, Result};
use crate::layout::{Layout, check_name};

/// Bytes read from the content at a time; also the sample that decides compression.
const BLOCK: usize = 64 * 1024;

/// Called with the final path of a new artifact file after it is renamed into place and
/// before its row is inserted (fault injection: the crash test stops the process here).
pub type CommitHook = Arc<dyn Fn(&Path) + Send + Sync>;

/// How to open an [`ArtifactStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Where files go (default `<database file>.artifacts/`).
    pub root: Option<PathBuf>,
    /// Largest artifact accepted, in bytes (default 4 GiB).
    pub max_size: u64,
    /// zstd level (default 3).
    pub level: i32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { root: None, max_size: 4 << 30, level: 3 }
    }
}

/// Optional details of a `put`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The task the artifact belongs to.
    pub task_id: Option<TaskId>,
    /// The transcript the artifact belongs to.
    pub transcript_id: Option<String>,
    /// The content's size when known (a file's length): over the limit, the put is refused
    /// before anything is written. Without it the limit is enforced while reading.
    pub size_hint: Option<u64>,
}

/// What `put` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The artifact holding the content.
    pub artifact: Artifact,
    /// True when the project already had this content under this kind: `artifact` is that
    /// existing row (its name and content type are the first put's), nothing new was kept.
    pub deduplicated: bool,
}

/// An artifact's original bytes, streamed from its file.
pub struct Content {
    /// The artifact (content type, size, hash, …).
    pub artifact: Artifact,
    /// The original bytes (decompressed when the file is compressed).
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content").field("artifact", &self.artifact).finish_non_exhaustive()
    }
}

/// Artifacts of a Nexus database: rows in its `artifacts` table, bytes in files under a root
/// directory. Cheap to clone; clones share the in-process lock that keeps `repair` and
/// `delete_project` from running while a `put` is between writing its file and its row.
#[derive(Clone)]
pub struct ArtifactStore {
    db: Db,
    layout: Layout,
    max_size: u64,
    level: i32,
    hook: Option<CommitHook>,
    gate: Arc<RwLock<()>>,
}

impl std::fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactStore")
            .field("root", &self.layout.root())
            .field("max_size", &self.max_size)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl ArtifactStore {
    /// The store of `db` with its files under `root` (default `<database file>.artifacts/`).
    pub async fn open(db: &Db, root: Option<PathBuf>) -> Result<Self> {
        Self::open_with(db, StoreOptions { root, ..StoreOptions::default() }).await
    }

    /// The store of `db` with these options. Creates the root unless the database is read-only.
    pub async fn open_with(db: &Db, options: StoreOptions) -> Result<Self> {
        let root = match (options.root, db.location()) {
            (Some(root), _) => root,
            (None, Location::File(path)) => {
                let mut name = path.as_os_str().to_owned();
                name.push(".artifacts");
                PathBuf::from(name)
            }
            (None, Location::InMemory) => return Err(ArtifactError::NoRoot),
        };
        let layout = Layout::new(root);
        if !db.is_read_only() {
            let temp = layout.temp_dir();
            tokio::fs::create_dir_all(&temp).await.io("creating", &temp)?;
        }
        Ok(Self {
            db: db.clone(),
            layout,
            max_size: options.max_size,
            level: options.level,
            hook: None,
            gate: Arc::new(RwLock::new(())),
        })
    }

    /// Calls `hook` after each new file is renamed into place, before its row is inserted.
    /// For fault-injection tests: a hook that never returns leaves the state a crash there would.
    #[must_use]
    pub fn with_commit_hook(mut self, hook: CommitHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn gate(&self) -> &RwLock<()> {
        &self.gate
    }

    /// Where an artifact's file is.
    pub fn path_of(&self, artifact: &Artifact) -> Result<PathBuf> {
        self.layout.file(&artifact.project_id, artifact.kind, &artifact.sha256, artifact.compression)
    }

    /// Stores the bytes of `reader` as an artifact of `project`.
    ///
    /// Memory stays bounded (one 64 KiB block plus the zstd window) whatever the size. The
    /// bytes are hashed while read, compressed with zstd unless the content type is a
    /// compressed one or the first block does not shrink below 95 %, and written to a
    /// temporary file under the root that is fsynced, renamed into place (the directory
    /// fsynced) and only then recorded in the database: a crash leaves at worst a file that no
    /// row references, which [`check`](Self::check) lists and [`repair`](Self::repair) removes.
    ///
    /// The same content of the same project and kind is stored once: the second put returns
    /// the first artifact with [`PutOutcome::deduplicated`] set.
    ///
    /// Refused before anything is written: a bad name ([`check_name`]), a project id that is
    /// not a plain directory name, an unknown project, and a `size_hint` over the limit. Content
    /// found over the limit while reading is refused too, its temporary file removed.
    pub async fn put<R: AsyncRead + Unpin>(
        &self,
        project: &ProjectId,
        kind: ArtifactKind,
        name: &str,
        content_type: &str,
        reader: R,
        options: PutOptions,
    ) -> Result<PutOutcome> {
        check_name(name)?;
        self.layout.project_dir(project)?;
        if let Some(size) = options.size_hint.filter(|size| *size > self.max_size) {
            return Err(ArtifactError::TooLarge { size, limit: self.max_size });
        }
        projects::get(self.db.reader(), project).await?;
        let _shared = self.gate.read().await;

        let written = self.write_temp(content_type, reader).await?;
        let dest = self.layout.file(project, kind, &written.sha256, written.compression)?;

        if let Some(existing) =
            artifacts::find_by_hash(self.db.reader(), project, kind, &written.sha256).await?
        {
            return self.reuse(existing, written, dest).await;
        }
        self.place(&written.temp, &dest).await?;
        written.temp.disarm();
        if let Some(hook) = &self.hook {
            hook(&dest);
        }
        let new = NewArtifact {
            id: None,
            project_id: project.clone(),
            task_id: options.task_id,
            transcript_id: options.transcript_id,
            kind,
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size: to_i64(written.size),
            stored_size: to_i64(written.stored_size),
            sha256: written.sha256.clone(),
            compression: written.compression,
        };
        if let Some(artifact) = artifacts::create(self.db.writer(), new).await? {
            tracing::debug!(id = %artifact.id, size = written.size, stored = written.stored_size, "artifact stored");
            return Ok(PutOutcome { artifact, deduplicated: false });
        }
        // A concurrent put of the same content won the insert: keep its row, and drop our file
        // unless it is the very file that row names.
        let existing = artifacts::find_by_hash(self.db.reader(), project, kind, &written.sha256)
            .await?
            .ok_or_else(|| DbError::not_found("artifacts", &written.sha256))?;
        if self.path_of(&existing)? != dest {
            remove_file_if_present(&dest).await?;
        }
        Ok(PutOutcome { artifact: existing, deduplicated: true })
    }

    /// The put of content the project already has under this kind: the existing row, its file
    /// put back from the new one when it had gone.
    async fn reuse(&self, existing: Artifact, written: Written, dest: PathBuf) -> Result<PutOutcome> {
        let current = self.path_of(&existing)?;
        let present = tokio::fs::try_exists(&current).await.io("looking for", &current)?;
        if present && existing.state == ArtifactState::Present {
            return Ok(PutOutcome { artifact: existing, deduplicated: true });
        }
        self.place(&written.temp, &dest).await?;
        written.temp.disarm();
        if present && current != dest {
            remove_file_if_present(&current).await?;
        }
        let artifact = artifacts::set_stored(
            self.db.writer(),
            &existing.id,
            written.compression,
            to_i64(written.stored_size),
        )
        .await?;
        Ok(PutOutcome { artifact, deduplicated: true })
    }

    /// Streams `reader` into a temporary file: hashed, compressed when it pays, fsynced.
    async fn write_temp<R: AsyncRead + Unpin>(&self, content_type: &str, mut reader: R) -> Result<Written> {
        let temp = TempFile(Some(self.layout.temp_file()));
        let path = temp.path().to_path_buf();
        let mut buf = vec![0_u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            let n = reader.read(&mut buf[filled..]).await.map_err(ArtifactError::Read)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        let mut size = filled as u64;
        self.check_size(size)?;
        let compression = compress::choose(content_type, &buf[..filled], self.level);

        let file = tokio::fs::File::create(&path).await.io("creating", &path)?;
        let mut sink: Pin<Box<dyn AsyncWrite + Send>> = match compression {
            Compression::None => Box::pin(BufWriter::new(file)),
            Compression::Zstd => {
                Box::pin(ZstdEncoder::with_quality(BufWriter::new(file), Level::Precise(self.level)))
            }
        };
        let mut hasher = Sha256::new();
        let mut chunk = &buf[..filled];
        loop {
            hasher.update(chunk);
            sink.write_all(chunk).await.io("writing", &path)?;
            let n = reader.read(&mut buf).await.map_err(ArtifactError::Read)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            self.check_size(size)?;
            chunk = &buf[..n];
        }
        sink.shutdown().await.io("writing", &path)?;
        drop(sink);
        sync_file(&path).await?;
        let mut stored_size = tokio::fs::metadata(&path).await.io("reading", &path)?.len();
        let mut written_compression = compression;
        let mut temp = temp;
        if compression == Compression::Zstd && !compress::pays(stored_size, size) {
            // The first block compressed well, the whole did not: keep the bytes as they are.
            let plain = TempFile(Some(self.layout.temp_file()));
            stored_size = decompress_file(&path, plain.path()).await?;
            sync_file(plain.path()).await?;
            temp = plain;
            written_compression = Compression::None;
        }
        Ok(Written {
            temp,
            size,
            stored_size,
            sha256: nexus_db::hex(&hasher.finalize()),
            compression: written_compression,
        })
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.max_size {
            Err(ArtifactError::TooLarge { size, limit: self.max_size })
        } else {
            Ok(())
        }
    }

    /// Renames `temp` to `dest` and fsyncs the directory (and, when it had to create
    /// directories, each of them up to the root).
    async fn place(&self, temp: &TempFile, dest: &Path) -> Result<()> {
        let dir = dest.parent().unwrap_or(self.layout.root());
        let existed = tokio::fs::try_exists(dir).await.io("looking for", dir)?;
        if !existed {
            tokio::fs::create_dir_all(dir).await.io("creating", dir)?;
        }
        tokio::fs::rename(temp.path(), dest).await.io("renaming into", dest)?;
        sync_dir(dir).await?;
        if !existed {
            for parent in dir.ancestors().skip(1) {
                sync_dir(parent).await?;
                if parent == self.layout.root() {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The artifact's row and a reader of its original bytes.
    pub async fn get(&self, id: &ArtifactId) -> Result<Content> {
        let artifact = artifacts::get(self.db.reader(), id).await?;
        let reader = self.open_file(&artifact).await?;
        Ok(Content { artifact, reader })
    }

    /// A reader of an artifact's original bytes.
    pub(crate) async fn open_file(&self, artifact: &Artifact) -> Result<Pin<Box<dyn AsyncRead + Send>>> {
        let path = self.path_of(artifact)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ArtifactError::Missing { id: artifact.id.clone(), path });
            }
            Err(e) => return Err(e).io("opening", path),
        };
        Ok(match artifact.compression {
            Compression::None => Box::pin(file),
            Compression::Zstd => Box::pin(ZstdDecoder::new(BufReader::new(file))),
        })
    }

    /// Re-reads the artifact's file: true when its bytes still have the recorded SHA-256 and
    /// size (false too when a compressed file no longer decompresses);
    /// [`ArtifactError::Missing`] when the file is gone.
    pub async fn verify(&self, id: &ArtifactId) -> Result<bool> {
        let artifact = artifacts::get(self.db.reader(), id).await?;
        self.verify_artifact(&artifact).await
    }

    pub(crate) async fn verify_artifact(&self, artifact: &Artifact) -> Result<bool> {
        let mut reader = self.open_file(artifact).await?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0_u8; BLOCK];
        let mut size = 0_u64;
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    size += n as u64;
                }
                // A damaged zstd frame: the content is not what was stored.
                Err(e)
                    if artifact.compression == Compression::Zstd
                        && e.kind() != std::io::ErrorKind::Interrupted =>
                {
                    tracing::warn!(id = %artifact.id, error = %e, "artifact does not decompress");
                    return Ok(false);
                }
                Err(e) => return Err(e).io("reading", self.path_of(artifact)?),
            }
        }
        Ok(size == artifact.size.unsigned_abs() && nexus_db::hex(&hasher.finalize()) == artifact.sha256)
    }

    /// A project's artifacts (of one kind when given), oldest first.
    pub async fn list(
        &self,
        project: &ProjectId,
        kind: Option<ArtifactKind>,
        page: Page,
    ) -> Result<Vec<Artifact>> {
        Ok(artifacts::list(self.db.reader(), project, kind, page).await?)
    }

    /// Deletes an artifact: its row, then its file (a crash in between leaves an unreferenced
    /// file for `repair`).
    pub async fn delete(&self, id: &ArtifactId) -> Result<()> {
        let artifact = artifacts::get(self.db.reader(), id).await?;
        artifacts::delete(self.db.writer(), id).await?;
        remove_file_if_present(&self.path_of(&artifact)?).await
    }

    /// Deletes these artifacts: the rows in one statement, then their files (a crash in between
    /// leaves unreferenced files for `repair`). Ids that name no artifact are skipped; returns
    /// the rows deleted.
    pub async fn delete_many(&self, ids: &[ArtifactId]) -> Result<Vec<Artifact>> {
        // Exclusive: a `put` of identical content must not be handed a row deleted here.
        let _exclusive = self.gate.write().await;
        let deleted = artifacts::delete_many(self.db.writer(), ids).await?;
        for artifact in &deleted {
            remove_file_if_present(&self.path_of(artifact)?).await?;
        }
        Ok(deleted)
    }

    /// Deletes every artifact of a project: the rows, then the project's directory. Returns
    /// how many rows were deleted. (Deleting the project itself cascades to the rows; its
    /// directory is then unreferenced and `repair` removes it.)
    pub async fn delete_project(&self, project: &ProjectId) -> Result<usize> {
        let dir = self.layout.project_dir(project)?;
        let _exclusive = self.gate.write().await;
        let deleted = artifacts::delete_project(self.db.writer(), project).await?;
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).io("removing", dir),
        }
        Ok(deleted.len())
    }
}

/// A content written to a temporary file.
struct Written {
    temp: TempFile,
    size: u64,
    stored_size: u64,
    sha256: String,
    compression: Compression,
}

/// A temporary file, removed when dropped unless [`TempFile::disarm`]ed (renamed into place).
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a temporary artifact file");
        }
    }
}

/// Decompresses the zstd file `src` into `dest`; returns the bytes written.
async fn decompress_file(src: &Path, dest: &Path) -> Result<u64> {
    let file = tokio::fs::File::open(src).await.io("opening", src)?;
    let mut reader = ZstdDecoder::new(BufReader::new(file));
    let mut out = tokio::fs::File::create(dest).await.io("creating", dest)?;
    let n = tokio::io::copy(&mut reader, &mut out).await.io("decompressing into", dest)?;
    out.flush().await.io("writing", dest)?;
    Ok(n)
}

async fn sync_file(path: &Path) -> Result<()> {
    let file = tokio::fs::OpenOptions::new().write(true).open(path).await.io("opening", path)?;
    file.sync_all().await.io("syncing", path)
}

/// fsyncs a directory, so a rename into it survives a power loss.
async fn sync_dir(dir: &Path) -> Result<()> {
    let owned = dir.to_path_buf();
    let done =
        tokio::task::spawn_blocking(move || std::fs::File::open(&owned).and_then(|d| d.sync_all())).await;
    match done {
        Ok(result) => result.io("syncing", dir),
        Err(join) => Err(std::io::Error::other(join)).io("syncing", dir),
    }
}

pub(crate) async fn remove_file_if_present(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).io("removing", path),
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
