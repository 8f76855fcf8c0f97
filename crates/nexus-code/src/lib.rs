//! # nexus-code
//!
//! The code index's front half: from a directory to chunks ready to be stored as
//! `code_chunks` rows. Synchronous, with no database and no async runtime: nexus-store's
//! `Store::index_dir` runs it on blocking threads, then embeds and stores the chunks.
//!
//! * [`walk`] lists the files to index under a root (honouring `.gitignore`, skipping binary
//!   and huge files) as [`SourceFile`]s: relative path, [`Language`], content, content hash.
//!   A path that cannot be read is a [`CodeError`] item, and the walk goes on.
//! * [`chunk_file`] splits a file into [`Chunk`]s: line ranges with the symbols they define
//!   (nexus-store turns them into `nexus_db::code_chunks::NewCodeChunk` rows).
//!
//! ```
//! use nexus_code::{ChunkKind, SourceFile, WalkOptions};
//!
//! // Chunking a file held in memory: one chunk per definition, with its doc comment.
//! let file = SourceFile::new("src/lib.rs", "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
//! let chunks = nexus_code::chunk_file(&file);
//! assert_eq!(chunks.len(), 1);
//! assert_eq!(chunks[0].kind, ChunkKind::Function);
//! assert_eq!(chunks[0].symbols, ["add"]);
//! assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 4));
//!
//! // Walking a tree: `.gitignore` is honoured, paths are relative and `/`-separated.
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("src"))?;
//! std::fs::write(dir.path().join("src/lib.rs"), &file.content)?;
//! std::fs::write(dir.path().join("notes.tmp"), "scratch\n")?;
//! std::fs::write(dir.path().join(".gitignore"), "*.tmp\n")?;
//! let files = nexus_code::walk(dir.path(), &WalkOptions::default())?.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["src/lib.rs"]);
//! assert_eq!(nexus_code::chunk_file(&files[0]), chunks);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules import one another without circles: `types` (the shared [`ChunkKind`],
//! [`ChunkOptions`] and segments) imports nothing else from the crate; the chunkers
//! (`syntax`, `markdown`) import it, and `chunk` imports them.
//!
//! How files are cut:
//!
//! | language | chunks |
//! |---|---|
//! | Rust, Python, TypeScript, TSX, JavaScript, Go | one per top-level definition (function, struct, enum, trait, impl, class, interface, type, module, const, macro) with the doc comments, attributes and decorators above it; the lines between definitions (imports, statements) as `block`s; a container (impl, trait, class, module) with two or more members split into one chunk per member (`Type::method`), each carrying the container's header as context; test and generated code as kinds of their own |
//! | Markdown | one per heading, up to the next heading |
//! | anything else | windows of up to 60 lines, without overlap |
//!
//! Everywhere, every line belongs to exactly one chunk, chunks over 120 lines or 6 KiB are cut
//! into windows that keep their symbols, and runs of one- or two-line definitions of one kind
//! are grouped. `docs/code-index.md` has the details.

mod chunk;
mod error;
mod grammar;
mod hash;
mod language;
mod lines;
mod markdown;
mod syntax;
mod types;
mod walk;

pub use chunk::{Chunk, chunk_file, chunk_file_with};
pub use error::{CodeError, Result};
pub use hash::content_hash;
pub use language::{Language, UnknownLanguage};
pub use types::{ChunkKind, ChunkOptions};
pub use walk::{DEFAULT_MAX_FILE_BYTES, ReadFn, SourceFile, Walk, WalkOptions, WalkStats, walk};
