//! The code index's front half: from a directory to chunks ready to be stored as
//! `code_chunks` rows.
//!
//! * [`walk`] lists the files to index under a root (honouring `.gitignore`, skipping binary
//!   and huge files) as [`SourceFile`]s: relative path, [`Language`], content, content hash.
//! * [`chunk_file`] splits a file into [`Chunk`]s: line ranges with the symbols they define,
//!   which [`Chunk::into_new_code_chunk`] turns into `nexus_db::code_chunks::NewCodeChunk`s.
//!
//! ```no_run
//! use nexus_store::code::{self, WalkOptions};
//! for file in code::walk("/src/shop", &WalkOptions::default())? {
//!     for chunk in code::chunk_file(&file?) {
//!         println!("{}:{}-{} {} {:?}", chunk.file, chunk.start_line, chunk.end_line, chunk.kind, chunk.symbols);
//!     }
//! }
//! # Ok::<(), nexus_store::StoreError>(())
//! ```
//!
//! How files are cut is described in `docs/code-index.md`.

mod chunk;
mod grammar;
mod hash;
mod language;
mod lines;
mod markdown;
mod syntax;
mod walk;

pub use chunk::{Chunk, ChunkKind, ChunkOptions, chunk_file, chunk_file_with};
pub use hash::content_hash;
pub use language::{Language, UnknownLanguage};
pub use walk::{SourceFile, Walk, WalkOptions, WalkStats, walk};
