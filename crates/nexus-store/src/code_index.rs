//! The code index: [`Store::index_dir`] walks a tree, chunks what changed, embeds the new
//! chunks and stores them with their full-text entries and vectors — incrementally.
//!
//! A file's record in `indexed_files` holds its content hash. On the next run an unchanged
//! file is skipped without being read twice or embedded; a changed file's chunks are replaced;
//! a file gone from the tree (deleted, renamed or now ignored) has its chunks removed. A file
//! or directory that cannot be read is not gone: it is reported in
//! [`IndexReport::unreadable`] with the reason and its files keep their chunks. Identical
//! chunk texts are embedded once: the embedder's persistent cache is keyed by content hash.
//!
//! Walking and chunking are nexus-code's ([`crate::code`]); this module runs them on blocking
//! threads and stores what they produce.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use nexus_code::{self as code, Chunk, CodeError, SourceFile, Walk, WalkOptions, WalkStats};
use nexus_db::code_chunks::NewCodeChunk;
use nexus_db::{ProjectId, SourceKind, Timestamp, code_chunks, indexed_files};
use nexus_vector::Item;
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::error::{Result, StoreError};
use crate::store::Store;

/// Most files written per transaction (and embedded per batch).
const FILES_PER_BATCH: usize = 64;

/// Bytes of file content at which a batch closes (so it holds at most this plus one file of
/// up to `max_file_size`). A batch is held in memory three times over — the files, their
/// chunks, one vector per chunk (1.5 KiB at 384 dimensions, whatever the chunk's size) — so
/// it is bounded by size, not only by count: 64 large generated files made one batch of
/// 150,000 chunks and 600 MiB of heap.
const BATCH_BYTES: usize = 2 << 20;

/// Files the walker may read ahead of the indexer (each up to `max_file_size`, 1 MiB).
const WALK_AHEAD: usize = 16;

/// Where an indexing run is, for progress reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexProgress {
    /// Files found so far (grows while the walk streams; final in the last report).
    pub files_total: usize,
    /// Files dealt with so far (indexed, unchanged or removed).
    pub files_done: usize,
    /// Chunks written so far.
    pub chunks_written: usize,
    /// Paths that could not be read so far (their indexed files are kept).
    pub unreadable: usize,
    /// The file just dealt with.
    pub current: Option<String>,
}

/// What an indexing run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexReport {
    /// Files the walk yielded.
    pub files_seen: usize,
    /// New or changed files (re)indexed.
    pub files_indexed: usize,
    /// Files skipped because their content hash is unchanged.
    pub files_unchanged: usize,
    /// Files removed from the index because they left the tree.
    pub files_removed: usize,
    /// Chunks written.
    pub chunks_written: usize,
    /// Chunks removed (from changed and removed files).
    pub chunks_removed: u64,
    /// Files the walk skipped as binary, too large or not UTF-8.
    pub files_skipped: u64,
    /// Files and directories that could not be read, with the reason. They are not taken as
    /// gone: the files indexed under them keep their chunks.
    pub unreadable: Vec<Unreadable>,
    /// Indexed files kept as they were because they (or a directory above them) could not
    /// be read.
    pub files_kept: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// A path the walk could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// The path relative to the root, `/`-separated (`.` for the root itself); absolute when
    /// it is not under the root.
    pub path: String,
    /// Why it could not be read (for example `Permission denied (os error 13)`).
    pub reason: String,
}

/// Turns a [`Chunk`] into the row stored for it (nexus-code knows nothing of the database).
///
/// ```
/// use nexus_store::IntoNewCodeChunk;
/// use nexus_store::code::{self, SourceFile};
/// let file = SourceFile::new("src/a.rs", "fn a() {}\n");
/// let row = code::chunk_file(&file).remove(0).into_new_code_chunk("p1");
/// assert_eq!((row.project_id.as_str(), row.chunk_type.as_str(), row.language.as_str()), ("p1", "function", "rust"));
/// ```
pub trait IntoNewCodeChunk {
    /// The row to insert into `code_chunks` for project `project_id`.
    fn into_new_code_chunk(self, project_id: impl Into<ProjectId>) -> NewCodeChunk;
}

impl IntoNewCodeChunk for Chunk {
    fn into_new_code_chunk(self, project_id: impl Into<ProjectId>) -> NewCodeChunk {
        NewCodeChunk {
            id: None,
            project_id: project_id.into(),
            file: self.file,
            // Line numbers of a file held in memory fit in i64.
            start_line: self.start_line as i64,
            end_line: self.end_line as i64,
            content: self.content,
            symbols: self.symbols,
            chunk_type: self.kind.as_str().to_owned(),
            language: self.language.as_str().to_owned(),
            complexity: self.complexity.map(i64::from),
            hash: self.hash,
            context: self.context,
            signature: self.signature,
        }
    }
}

/// What a walk could not read: indexed files there are kept, not taken as gone.
#[derive(Debug, Default)]
struct Unread {
    /// Unreadable files, relative to the root.
    files: HashSet<String>,
    /// Unreadable paths whose descendants are unknown too (directories), relative to the root.
    dirs: Vec<String>,
    /// An error without a usable path: nothing can be taken as gone.
    everything: bool,
}

impl Unread {
    /// Records a walk error; returns the report entry for it, `None` for errors that hide no
    /// indexable file (a name that is not UTF-8 could never be indexed).
    fn record(&mut self, root: &Path, error: &CodeError) -> Option<Unreadable> {
        let relative = |path: &Path| -> Option<String> {
            let rel = path.strip_prefix(root).ok()?;
            let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
            parts.map(|parts| parts.join("/"))
        };
        let (path, reason) = match error {
            CodeError::NonUtf8Path { .. } => return None,
            CodeError::ReadFile { path, source } => {
                match relative(path) {
                    Some(rel) => {
                        self.files.insert(rel);
                    }
                    None => self.everything = true,
                }
                (Some(path.as_path()), source.to_string())
            }
            CodeError::Walk { path, source } => {
                match path.as_deref().and_then(relative) {
                    Some(rel) if rel.is_empty() => self.everything = true,
                    Some(rel) => self.dirs.push(rel),
                    None => self.everything = true,
                }
                // The OS error alone: the walker's I/O errors repeat the path in their message.
                let reason = source
                    .io_error()
                    .map(|io| os_reason(io).unwrap_or_else(|| io.to_string()))
                    .unwrap_or_else(|| source.to_string());
                (path.as_deref(), reason)
            }
            other => {
                self.everything = true;
                (None, other.to_string())
            }
        };
        let shown = match path {
            Some(p) => relative(p)
                .map(|rel| if rel.is_empty() { ".".to_owned() } else { rel })
                .unwrap_or_else(|| p.display().to_string()),
            None => "<tree>".to_owned(),
        };
        Some(Unreadable { path: shown, reason })
    }

    /// Whether the indexed file `path` was hidden by something unreadable.
    fn covers(&self, path: &str) -> bool {
        self.everything
            || self.files.contains(path)
            || self.dirs.iter().any(|dir| {
                path.strip_prefix(dir.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
    }
}

impl Store {
    /// Indexes the tree under `root` into `project_id`'s code chunks, calling `progress` as
    /// files are dealt with. See the module docs for what is incremental.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use nexus_db::projects::{self, NewProject};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("lib.rs"), "/// Adds.\npub fn add(a: i32, b: i32) -> i32 { a + b }\n")?;
    /// let store = nexus_store::Store::builder_in_memory().open().await?;
    /// let p = projects::create(store.db().writer(), NewProject::new("demo", "/demo")).await?;
    /// let first = store.index_dir(&p.id, dir.path(), |_| {}).await?;
    /// assert_eq!((first.files_indexed, first.chunks_written), (1, 1));
    /// let again = store.index_dir(&p.id, dir.path(), |_| {}).await?;
    /// assert_eq!((again.files_unchanged, again.chunks_written), (1, 0));
    /// # Ok(()) }
    /// ```
    pub async fn index_dir(
        &self,
        project_id: &ProjectId,
        root: impl AsRef<Path>,
        progress: impl FnMut(&IndexProgress) + Send,
    ) -> Result<IndexReport> {
        let walk = code::walk(root.as_ref(), &WalkOptions::default())?;
        self.index_walk(project_id, walk, progress).await
    }

    /// [`Store::index_dir`] over a walk already started.
    async fn index_walk(
        &self,
        project_id: &ProjectId,
        walk: Walk,
        mut progress: impl FnMut(&IndexProgress) + Send,
    ) -> Result<IndexReport> {
        let started = Instant::now();
        // Path → hash of every file indexed before; a file the walk yields is taken out, so what
        // is left at the end is what the walk did not see. (The only state that grows with the
        // tree: about 200 bytes a file.)
        let mut known: HashMap<String, String> = indexed_files::list(self.db().reader(), project_id)
            .await?
            .into_iter()
            .map(|f| (f.path, f.hash))
            .collect();
        // The walk streams files from a blocking thread; only changed files are kept, a batch
        // at a time, so memory stays bounded whatever the size of the tree.
        let root = walk.root().to_path_buf();
        let (mut files, walker) = spawn_walk(walk);
        let mut report = IndexReport::default();
        let mut state =
            IndexProgress { files_total: 0, files_done: 0, chunks_written: 0, unreadable: 0, current: None };
        let mut unread = Unread::default();
        let mut batch = Vec::with_capacity(FILES_PER_BATCH);
        let mut batch_bytes = 0;
        while let Some(item) = files.recv().await {
            let file = match item {
                Ok(file) => file,
                Err(e) => {
                    warn!(error = %e, "unreadable; its indexed files are kept");
                    if let Some(entry) = unread.record(&root, &e) {
                        report.unreadable.push(entry);
                        state.unreadable += 1;
                    }
                    continue;
                }
            };
            report.files_seen += 1;
            state.files_total += 1;
            if known.remove(&file.path).is_some_and(|hash| hash == file.hash) {
                report.files_unchanged += 1;
                state.files_done += 1;
                continue;
            }
            batch_bytes += file.content.len();
            batch.push(file);
            if batch.len() == FILES_PER_BATCH || batch_bytes >= BATCH_BYTES {
                self.write_batch(project_id, std::mem::take(&mut batch), &mut report, &mut state).await?;
                batch_bytes = 0;
                progress(&state);
            }
        }
        if !batch.is_empty() {
            self.write_batch(project_id, batch, &mut report, &mut state).await?;
            progress(&state);
        }
        let walk_stats = walker.await.map_err(|e| StoreError::Task(e.to_string()))??;
        report.files_skipped =
            walk_stats.skipped_binary + walk_stats.skipped_too_large + walk_stats.skipped_not_utf8;
        progress(&state);

        let (gone, kept) = split_missing(known.keys(), &unread);
        report.files_kept = kept;
        if !gone.is_empty() {
            let mut tx = self.db().begin().await?;
            for path in &gone {
                report.chunks_removed += code_chunks::delete_for_file(&mut *tx, project_id, path).await?;
                indexed_files::delete(&mut *tx, project_id, path).await?;
            }
            tx.commit().await.map_err(nexus_db::DbError::from)?;
            report.files_removed = gone.len();
            state.files_total += gone.len();
            state.files_done += gone.len();
            progress(&state);
        }
        report.elapsed = started.elapsed();
        info!(
            %project_id,
            indexed = report.files_indexed,
            unchanged = report.files_unchanged,
            removed = report.files_removed,
            unreadable = report.unreadable.len(),
            kept = report.files_kept,
            chunks = report.chunks_written,
            elapsed = ?report.elapsed,
            "indexed tree"
        );
        if report.chunks_written > 0 || report.chunks_removed > 0 {
            self.warmer().wrote();
        }
        Ok(report)
    }

    /// Chunks, embeds and writes one batch of new or changed files.
    async fn write_batch(
        &self,
        project_id: &ProjectId,
        batch: Vec<SourceFile>,
        report: &mut IndexReport,
        state: &mut IndexProgress,
    ) -> Result<()> {
        let chunked = chunk_blocking(batch).await?;
        // What is embedded is chosen for retrieval (path, context, signature, then the
        // content), not the stored content alone: see `Chunk::embedding_text`.
        let owned: Vec<String> =
            chunked.iter().flat_map(|(_, chunks)| chunks.iter().map(Chunk::embedding_text)).collect();
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        // Embed before taking the write lock: readers and other writers are not held up.
        let vectors = self.embedder().embed(&texts).await?;
        if vectors.len() != texts.len() {
            // The Embedder contract is one vector per text; refuse to store chunks without one.
            return Err(nexus_embed::EmbedError::InvalidResponse {
                model: self.embedder().model().to_owned(),
                message: format!("{} vectors for {} chunks", vectors.len(), texts.len()),
                inputs: (vectors.len()..texts.len()).collect(),
            }
            .into());
        }
        let mut vectors = vectors.into_iter();
        let mut tx = self.db().begin().await?;
        for (file, chunks) in chunked {
            report.chunks_removed += code_chunks::delete_for_file(&mut *tx, project_id, &file.path).await?;
            let count = chunks.len();
            for chunk in chunks {
                let Some(vector) = vectors.next() else { break }; // lengths checked above
                let row = code_chunks::create(&mut *tx, chunk.into_new_code_chunk(project_id)).await?;
                let item = Item::new(SourceKind::CodeChunk, &row.id, &vector).label(&row.language);
                self.collection().upsert(&mut tx, item).await?;
            }
            indexed_files::upsert(
                &mut *tx,
                &indexed_files::IndexedFile {
                    project_id: project_id.clone(),
                    path: file.path.clone(),
                    hash: file.hash.clone(),
                    language: file.language.as_str().to_owned(),
                    chunks: i64::try_from(count).unwrap_or(i64::MAX),
                    bytes: i64::try_from(file.content.len()).unwrap_or(i64::MAX),
                    indexed_at: Timestamp::now(),
                },
            )
            .await?;
            report.files_indexed += 1;
            report.chunks_written += count;
            state.files_done += 1;
            state.chunks_written += count;
            state.current = Some(file.path);
        }
        tx.commit().await.map_err(nexus_db::DbError::from)?;
        Ok(())
    }
}

/// Files (or per-path errors) streamed by the walker, and the walker's final counts.
type WalkStream = (mpsc::Receiver<Result<SourceFile, CodeError>>, tokio::task::JoinHandle<Result<WalkStats>>);

/// The innermost OS error in `error`'s chain, as `Permission denied (os error 13)`.
fn os_reason(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(code) = e.downcast_ref::<std::io::Error>().and_then(std::io::Error::raw_os_error) {
            return Some(std::io::Error::from_raw_os_error(code).to_string());
        }
        current = e.source();
    }
    None
}

/// Splits the indexed files the walk did not yield into those really gone (to remove) and
/// how many are kept because something unreadable hides them.
fn split_missing<'a>(missing: impl Iterator<Item = &'a String>, unread: &Unread) -> (Vec<&'a String>, usize) {
    let mut kept = 0;
    let mut gone = Vec::new();
    for path in missing {
        if unread.covers(path) {
            kept += 1;
        } else {
            gone.push(path);
        }
    }
    (gone, kept)
}

/// Runs `walk` on a blocking thread, streaming its items through a bounded channel.
fn spawn_walk(mut walk: Walk) -> WalkStream {
    let (sender, receiver) = mpsc::channel(WALK_AHEAD);
    let walker = tokio::task::spawn_blocking(move || {
        for item in &mut walk {
            if sender.blocking_send(item).is_err() {
                break; // the indexer stopped (an error); stop walking
            }
        }
        Ok(walk.stats())
    });
    (receiver, walker)
}

/// Chunks files on a blocking thread (tree-sitter parsing is CPU work).
async fn chunk_blocking(files: Vec<SourceFile>) -> Result<Vec<(SourceFile, Vec<Chunk>)>> {
    tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|file| {
                let chunks = code::chunk_file(&file);
                (file, chunks)
            })
            .collect()
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use nexus_db::projects::{self, NewProject};

    use super::*;

    /// A temporary directory holding `tree/` with `files` (name, content) in it, and that
    /// tree's path (the store goes beside it).
    fn tree_of(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> io::Result<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::tempdir()?;
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree)?;
        for (name, content) in files {
            std::fs::write(tree.join(name), content)?;
        }
        Ok((dir, tree))
    }

    fn walk_error(path: PathBuf) -> CodeError {
        let io = io::Error::from(io::ErrorKind::PermissionDenied);
        let source = ignore::Error::WithPath { path: path.clone(), err: Box::new(ignore::Error::Io(io)) };
        CodeError::Walk { path: Some(path), source }
    }

    fn missing<'a>(known: &'a [String], seen: &[&str], unread: &Unread) -> (Vec<&'a String>, usize) {
        split_missing(known.iter().filter(|k| !seen.contains(&k.as_str())), unread)
    }

    #[test]
    fn the_walk_yields_only_files_the_database_takes() {
        assert_eq!(code::DEFAULT_MAX_FILE_BYTES, nexus_db::MAX_CONTENT_BYTES as u64);
        assert_eq!(WalkOptions::default().max_file_size, code::DEFAULT_MAX_FILE_BYTES);
    }

    #[test]
    fn into_new_code_chunk_keeps_every_field() {
        let file = SourceFile::new("src/a.rs", "/// Doc.\nfn a() {\n    if x {}\n}\n");
        let chunk = code::chunk_file(&file).remove(0);
        let method =
            SourceFile::new("src/b.rs", "impl B {\n    fn one(&self) {}\n\n    fn two(&self) {}\n}\n");
        let method = code::chunk_file(&method).remove(0).into_new_code_chunk("p1");
        assert_eq!(method.context.as_deref(), Some("impl B"));
        assert_eq!(method.signature.as_deref(), Some("fn one(&self)"));
        let row = chunk.clone().into_new_code_chunk("p1");
        assert_eq!(row.id, None);
        assert_eq!(row.project_id, "p1");
        assert_eq!(row.file, "src/a.rs");
        assert_eq!((row.start_line, row.end_line), (1, 4));
        assert_eq!(row.content, chunk.content);
        assert_eq!(row.symbols, ["a"]);
        assert_eq!(row.chunk_type, "function");
        assert_eq!(row.language, "rust");
        assert_eq!(row.complexity, Some(2));
        assert_eq!(row.hash, chunk.hash);
        assert_eq!((row.context, row.signature.as_deref()), (None, Some("fn a()")));
    }

    #[test]
    fn only_files_not_hidden_by_an_unreadable_path_are_gone() {
        let root = Path::new("/tree");
        let known: Vec<String> = ["a.rs", "locked.rs", "sub/x.rs", "sub/deep/y.rs", "subway.rs", "gone.rs"]
            .map(String::from)
            .to_vec();
        let mut unread = Unread::default();
        assert_eq!(
            missing(&known, &["a.rs"], &unread).0.len(),
            5,
            "nothing unreadable: all missing are gone"
        );

        let denied = |p: &str| CodeError::ReadFile {
            path: root.join(p),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let entry = unread.record(root, &denied("locked.rs"));
        assert_eq!(entry.as_ref().map(|e| e.path.as_str()), Some("locked.rs"));
        let entry = unread.record(root, &walk_error(root.join("sub")));
        assert_eq!(entry.as_ref().map(|e| e.path.as_str()), Some("sub"));
        assert!(entry.is_some_and(|e| e.reason.contains("ermission denied")));
        let (gone, kept) = missing(&known, &["a.rs"], &unread);
        assert_eq!(gone, ["subway.rs", "gone.rs"], "`subway.rs` is not under `sub/`");
        assert_eq!(kept, 3);

        // A name that is not UTF-8 could never be indexed: it hides nothing.
        assert!(unread.record(root, &CodeError::NonUtf8Path { path: root.join("x") }).is_none());
        // An unreadable root, or an error without a path: nothing is gone.
        let mut unread = Unread::default();
        assert_eq!(
            unread.record(root, &walk_error(root.to_path_buf())).map(|e| e.path),
            Some(".".to_owned())
        );
        assert_eq!(missing(&known, &[], &unread), (vec![], 6));
        let mut unread = Unread::default();
        let io = io::Error::from(io::ErrorKind::Other);
        unread.record(root, &CodeError::Walk { path: None, source: ignore::Error::Io(io) });
        assert_eq!(missing(&known, &[], &unread), (vec![], 6));
    }

    #[tokio::test]
    async fn a_batch_is_bounded_by_size_not_only_by_count()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        // Files just over a third of the byte budget: a batch closes after three of them.
        let line = "a plain line of text, the same in every file\n";
        let (dir, tree) = tree_of((0..7).map(|n| {
            (format!("f{n}.txt"), format!("file {n}\n{}", line.repeat(BATCH_BYTES / 3 / line.len() + 1)))
        }))?;
        let store = Store::open(dir.path().join("store.db")).await?;
        let project = projects::create(store.db().writer(), NewProject::new("p", "/p")).await?;
        let mut done = Vec::new();
        let report = store.index_dir(&project.id, &tree, |p| done.push(p.files_done)).await?;
        assert_eq!(report.files_indexed, 7);
        assert_eq!(done, [3, 6, 7, 7], "progress after each batch, then after the walk");
        Ok(())
    }

    #[tokio::test]
    async fn the_code_index_is_warmed_again_after_it_changed()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        // 600 chunks with `widget`: more rows than a score list needs to be cached.
        let (dir, tree) = tree_of(
            (0..600).map(|i| (format!("f{i}.rs"), format!("pub fn f{i}() -> u32 {{ widget({i}) }}\n"))),
        )?;
        let store = Store::builder(dir.path().join("store.db"))
            .warm_search_after(Some(std::time::Duration::from_millis(50)))
            .open()
            .await?;
        let project = projects::create(store.db().writer(), NewProject::new("p", "/p")).await?;
        assert_eq!(store.warmer().last(), None);
        store.index_dir(&project.id, &tree, |_| {}).await?;
        let started = std::time::Instant::now();
        while store.warmer().last().is_none() && started.elapsed() < std::time::Duration::from_secs(20) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let warmed = store.warmer().last().ok_or("not warmed 20 s after indexing")?;
        assert!(warmed.lists >= 1 && warmed.rows >= 600, "{warmed:?}");
        store.close().await?;
        Ok(())
    }

    /// Fails for every file named `locked.rs`, like `chmod 000` does for a user other than
    /// root (tests often run as root, who reads anything).
    fn locked_unreadable(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
        if path.file_name().is_some_and(|n| n == "locked.rs") {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        let bytes = std::fs::read(path)?;
        Ok((bytes.len() as u64 <= max).then_some(bytes))
    }

    #[tokio::test]
    async fn an_unreadable_file_keeps_its_chunks_and_is_reported()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let (dir, tree) = tree_of([
            ("a.rs".to_owned(), "pub fn a() -> u32 { 1 }\n".to_owned()),
            ("locked.rs".to_owned(), "pub fn locked() -> u32 { 2 }\n".to_owned()),
        ])?;
        let store = Store::open(dir.path().join("store.db")).await?;
        let project = projects::create(store.db().writer(), NewProject::new("p", "/p")).await?;
        let first = store.index_dir(&project.id, &tree, |_| {}).await?;
        assert_eq!(first.files_indexed, 2);

        std::fs::remove_file(tree.join("a.rs"))?;
        let walk = code::walk(&tree, &WalkOptions::default())?.with_reader(locked_unreadable);
        let mut last = None;
        let report = store.index_walk(&project.id, walk, |p| last = Some(p.clone())).await?;
        assert_eq!((report.files_removed, report.files_kept, report.chunks_removed), (1, 1, 1), "{report:?}");
        assert_eq!(report.unreadable.len(), 1);
        assert_eq!(report.unreadable[0].path, "locked.rs");
        assert!(report.unreadable[0].reason.contains("ermission denied"), "{report:?}");
        assert_eq!(last.map(|p| p.unreadable), Some(1));
        let files: Vec<String> = indexed_files::list(store.db().reader(), &project.id)
            .await?
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(files, ["locked.rs"]);
        let chunks: i64 =
            sqlx::query_scalar("SELECT count(*) FROM code_chunks WHERE project_id = ? AND file = ?")
                .bind(&project.id)
                .bind("locked.rs")
                .fetch_one(store.db().reader())
                .await?;
        assert_eq!(chunks, 1, "the unreadable file keeps its chunk");
        Ok(())
    }
}
