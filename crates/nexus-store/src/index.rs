//! The code index: [`Store::index_dir`] walks a tree, chunks what changed, embeds the new
//! chunks and stores them with their full-text entries and vectors — incrementally.
//!
//! A file's record in `indexed_files` holds its content hash. On the next run an unchanged
//! file is skipped without being read twice or embedded; a changed file's chunks are replaced;
//! a file gone from the tree (deleted or renamed) has its chunks removed. Identical chunk texts
//! are embedded once: the embedder's persistent cache is keyed by content hash.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nexus_db::{SourceKind, Timestamp, code_chunks, indexed_files};
use nexus_vector::Item;
use serde::Serialize;
use tracing::{info, warn};

use crate::code::{self, Chunk, SourceFile, WalkOptions, WalkStats};
use crate::error::{Result, StoreError};
use crate::store::Store;

/// Files written per transaction (and embedded per batch).
const FILES_PER_BATCH: usize = 64;

/// Where an indexing run is, for progress reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexProgress {
    /// Files found by the walk.
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
        let (files, walk_stats, walk_errors) = walk_blocking(root.as_ref().to_path_buf()).await?;
        let mut report = IndexReport {
            files_seen: files.len(),
            files_skipped: walk_stats.skipped_binary
                + walk_stats.skipped_too_large
                + walk_stats.skipped_not_utf8,
            errors: walk_errors,
            ..IndexReport::default()
        };
        let known: HashMap<String, String> = indexed_files::list(self.db().reader(), project_id)
            .await?
            .into_iter()
            .map(|f| (f.path, f.hash))
            .collect();
        let gone: Vec<String> =
            known.keys().filter(|path| !files.iter().any(|f| &f.path == *path)).cloned().collect();
        let (changed, unchanged): (Vec<SourceFile>, Vec<SourceFile>) =
            files.into_iter().partition(|f| known.get(&f.path) != Some(&f.hash));
        report.files_unchanged = unchanged.len();
        let mut state = IndexProgress {
            files_total: report.files_seen + gone.len(),
            files_done: unchanged.len(),
            chunks_written: 0,
            current: None,
        };
        progress(&state);

        if !gone.is_empty() {
            let mut tx = self.db().begin().await?;
            for path in &gone {
                report.chunks_removed += code_chunks::delete_for_file(&mut *tx, project_id, path).await?;
                indexed_files::delete(&mut *tx, project_id, path).await?;
            }
            tx.commit().await.map_err(nexus_db::DbError::from)?;
            report.files_removed = gone.len();
            state.files_done += gone.len();
            progress(&state);
        }

        let mut changed = changed.into_iter().peekable();
        while changed.peek().is_some() {
            let batch: Vec<SourceFile> = changed.by_ref().take(FILES_PER_BATCH).collect();
            let chunked = chunk_blocking(batch).await?;
            let texts: Vec<&str> =
                chunked.iter().flat_map(|(_, chunks)| chunks.iter().map(|c| c.content.as_str())).collect();
            // Embed before taking the write lock: readers and other writers are not held up.
            let mut vectors = self.embedder().embed(&texts).await?.into_iter();
            let mut tx = self.db().begin().await?;
            for (file, chunks) in chunked {
                report.chunks_removed +=
                    code_chunks::delete_for_file(&mut *tx, project_id, &file.path).await?;
                let count = chunks.len();
                for chunk in chunks {
                    let row = code_chunks::create(&mut *tx, chunk.into_new_code_chunk(project_id)).await?;
                    let Some(vector) = vectors.next() else { break };
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
}

/// Walks the tree on a blocking thread; returns the files, the walk's counts and the errors.
async fn walk_blocking(root: PathBuf) -> Result<(Vec<SourceFile>, WalkStats, Vec<String>)> {
    tokio::task::spawn_blocking(move || {
        let mut walk = code::walk(&root, &WalkOptions::default())?;
        let (mut files, mut errors) = (Vec::new(), Vec::new());
        for item in &mut walk {
            match item {
                Ok(file) => files.push(file),
                Err(e) => {
                    warn!(error = %e, "skipped while indexing");
                    errors.push(e.to_string());
                }
            }
        }
        Ok((files, walk.stats(), errors))
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
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
