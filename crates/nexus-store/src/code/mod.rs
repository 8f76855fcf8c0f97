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
//! How files are cut:
//!
//! | language | chunks |
//! |---|---|
//! | Rust, Python, TypeScript, TSX, JavaScript, Go | one per top-level definition (function, struct, enum, trait, impl, class, interface, type, module, const, macro) with the doc comments, attributes and decorators above it; the lines between definitions (imports, statements) as `block`s; a container over the size limit (impl, trait, class, module) split into one chunk per member (`Type::method`) |
//! | Markdown | one per heading, up to the next heading |
//! | anything else | windows of up to 60 lines, without overlap |
//!
//! Everywhere, every line belongs to exactly one chunk, chunks over 120 lines or 6 KiB are cut
//! into windows that keep their symbols, and runs of one- or two-line definitions of one kind
//! are grouped. `docs/code-index.md` has the details.

mod chunk;
mod grammar;
mod hash;
mod language;
mod lines;
mod markdown;
mod syntax;
mod types;
pub(crate) mod walk;

pub use chunk::{Chunk, chunk_file, chunk_file_with};
pub use hash::content_hash;
pub use language::{Language, UnknownLanguage};
pub use types::{ChunkKind, ChunkOptions};
pub use walk::{SourceFile, Walk, WalkOptions, WalkStats, walk};
