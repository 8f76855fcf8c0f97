//! # nexus-store
//!
//! The façade an agent orchestrator imports: it ties the Nexus database, the code index,
//! memory and search together.
//!
//! This version holds the front half of the code index, [`code`]: walking a source tree
//! (honouring `.gitignore`, skipping binary and huge files), detecting each file's language and
//! splitting files into [`code::Chunk`]s — one per definition for Rust, Python,
//! TypeScript/TSX, JavaScript and Go (parsed with tree-sitter), one per section for Markdown,
//! line windows for everything else — ready to be stored as `code_chunks` rows.
//!
//! ```
//! use nexus_store::code::{self, SourceFile};
//!
//! let file = SourceFile::new("src/lib.rs", "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
//! let chunks = code::chunk_file(&file);
//! assert_eq!(chunks.len(), 1);
//! assert_eq!(chunks[0].symbols, ["add"]);
//! assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 4));
//! ```

pub mod code;
mod error;

pub use error::{Result, StoreError};
