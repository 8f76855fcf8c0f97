//! Documents: text that is not a file of an indexed tree (a knowledge item of the HTTP API)
//! stored as chunks of one path of a project, searchable like indexed code.
//! [`Store::index_document`] replaces the path's chunks; [`Store::remove_document`] drops them.

use nexus_code::{self as code, SourceFile};
use nexus_db::{ProjectId, SourceKind, code_chunks};
use nexus_vector::Item;

use crate::code_index::IntoNewCodeChunk;
use crate::error::{Result, StoreError};
use crate::store::Store;

impl Store {
    /// Chunks `content` as the file `path` (Markdown sections for `.md`, line windows
    /// otherwise), embeds the chunks (outside the write lock) and replaces the path's chunks in
    /// `project` with them, vectors included, in one transaction. Returns the chunk count.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_store::Result<()> {
    /// use nexus_db::projects::{self, NewProject};
    /// let store = nexus_store::Store::builder_in_memory().open().await?;
    /// let p = projects::create(store.db().writer(), NewProject::new("kb", "kb://")).await?;
    /// let chunks = store.index_document(&p.id, "notes/a.md", "# Prices\nKept in cents.\n").await?;
    /// assert_eq!(chunks, 1);
    /// # Ok(()) }
    /// ```
    pub async fn index_document(&self, project: &ProjectId, path: &str, content: &str) -> Result<u64> {
        let file = SourceFile::new(path, content);
        let chunks = tokio::task::spawn_blocking(move || code::chunk_file(&file))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let texts: Vec<&str> = chunks.iter().map(|c| c.content.as_str()).collect();
        let vectors = self.embedder().embed(&texts).await?;
        if vectors.len() != chunks.len() {
            return Err(StoreError::Task(format!("{} vectors for {} chunks", vectors.len(), chunks.len())));
        }
        let mut tx = self.db().begin().await?;
        code_chunks::delete_for_file(&mut *tx, project, path).await?;
        let count = chunks.len() as u64;
        for (chunk, vector) in chunks.into_iter().zip(vectors) {
            let row = code_chunks::create(&mut *tx, chunk.into_new_code_chunk(project)).await?;
            let item = Item::new(SourceKind::CodeChunk, &row.id, &vector).label(&row.language);
            self.collection().upsert(&mut tx, item).await?;
        }
        tx.commit().await.map_err(nexus_db::DbError::from)?;
        self.warmer().wrote();
        Ok(count)
    }

    /// Deletes the chunks (and their vectors) of `path` in `project`; returns how many.
    pub async fn remove_document(&self, project: &ProjectId, path: &str) -> Result<u64> {
        let removed = code_chunks::delete_for_file(self.db().writer(), project, path).await?;
        if removed > 0 {
            self.warmer().wrote();
        }
        Ok(removed)
    }
}
