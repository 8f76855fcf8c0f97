//! The code index: [`Store::index_dir`] walks a tree, chunks what changed, embeds the new
//! chunks and stores them with their full-text entries and vectors — incrementally.
//!
//! A file's record in `indexed_files` holds its content hash. On the next run an unchanged
//! file is skipped without being read twice or embedded; a changed file's chunks are replaced;
//! a file gone from the tree (deleted or renamed) has its chunks removed. Identical chunk texts
//! are embedded once: the embedder's persistent cache is keyed by content hash.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nexus_db::{SourceKind, Timestamp, code_chunks, indexed_files};
use nexus_vector::Item;
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::code::{self, Chunk, SourceFile, WalkOptions, WalkStats};
use crate::error::{Result, StoreError};
use crate::store::Store;

/// Files written per transaction (and embedded per batch).
const FILES_PER_BATCH: usize = 64;

/// Where an indexing run is, for progress reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexProgress {
    /// Files found so far (grows while the walk streams; final in the last report).
    pub files_total: usize,
    /// Files dealt with so far (indexed, unchanged or removed).
    pub files_done: usize,
    /// Chunks written so far.
    pub chunks_written: usize,
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
    /// Paths that could not be read, with the reason.
    pub errors: Vec<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
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
        project_id: &str,
        root: impl AsRef<Path>,
        mut progress: impl FnMut(&IndexProgress) + Send,
    ) -> Result<IndexReport> {
        let started = Instant::now();
        let known: HashMap<String, String> = indexed_files::list(self.db().reader(), project_id)
            .await?
            .into_iter()
            .map(|f| (f.path, f.hash))
            .collect();
        // The walk streams files from a blocking thread; only changed files are kept, a batch
        // at a time, so memory stays bounded whatever the size of the tree.
        let (files, walker) = spawn_walk(root.as_ref().to_path_buf())?;
        let mut files = files;
        let mut report = IndexReport::default();
        let mut state = IndexProgress { files_total: 0, files_done: 0, chunks_written: 0, current: None };
        let mut seen = HashSet::new();
        let mut batch = Vec::with_capacity(FILES_PER_BATCH);
        while let Some(item) = files.recv().await {
            let file = match item {
                Ok(file) => file,
                Err(e) => {
                    warn!(error = %e, "skipped while indexing");
                    report.errors.push(e.to_string());
                    continue;
                }
            };
            report.files_seen += 1;
            state.files_total += 1;
            seen.insert(file.path.clone());
            if known.get(&file.path) == Some(&file.hash) {
                report.files_unchanged += 1;
                state.files_done += 1;
                continue;
            }
            batch.push(file);
            if batch.len() == FILES_PER_BATCH {
                self.write_batch(project_id, std::mem::take(&mut batch), &mut report, &mut state).await?;
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

        let gone: Vec<&String> = known.keys().filter(|path| !seen.contains(*path)).collect();
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
            project_id,
            indexed = report.files_indexed,
            unchanged = report.files_unchanged,
            removed = report.files_removed,
            chunks = report.chunks_written,
            elapsed = ?report.elapsed,
            "indexed tree"
        );
        Ok(report)
    }

    /// Chunks, embeds and writes one batch of new or changed files.
    async fn write_batch(
        &self,
        project_id: &str,
        batch: Vec<SourceFile>,
        report: &mut IndexReport,
        state: &mut IndexProgress,
    ) -> Result<()> {
        let chunked = chunk_blocking(batch).await?;
        let texts: Vec<&str> =
            chunked.iter().flat_map(|(_, chunks)| chunks.iter().map(|c| c.content.as_str())).collect();
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
                    project_id: project_id.to_owned(),
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
type WalkStream = (mpsc::Receiver<Result<SourceFile>>, tokio::task::JoinHandle<Result<WalkStats>>);

/// Starts walking `root` on a blocking thread; fails at once when `root` is not a directory.
fn spawn_walk(root: PathBuf) -> Result<WalkStream> {
    let mut walk = code::walk(&root, &WalkOptions::default())?;
    let (sender, receiver) = mpsc::channel(FILES_PER_BATCH * 2);
    let walker = tokio::task::spawn_blocking(move || {
        for item in &mut walk {
            if sender.blocking_send(item).is_err() {
                break; // the indexer stopped (an error); stop walking
            }
        }
        Ok(walk.stats())
    });
    Ok((receiver, walker))
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
