//! The types every chunker shares: [`ChunkKind`], [`ChunkOptions`] and the crate-internal
//! `Segment` a language's chunker produces. This module imports nothing else from the crate,
//! so [`chunk`](super::chunk) can import the chunkers (`syntax`, `markdown`) and they can
//! import these types without an import circle.

/// What a chunk holds; [`ChunkKind::as_str`] is what `code_chunks.chunk_type` stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChunkKind {
    /// A free function (or a function-valued `const` in JavaScript/TypeScript).
    Function,
    /// A method: a function in an `impl`, trait, class or interface, or a Go method.
    Method,
    /// A struct (or union).
    Struct,
    /// An enum.
    Enum,
    /// A trait.
    Trait,
    /// A Rust `impl` block.
    Impl,
    /// A class.
    Class,
    /// An interface.
    Interface,
    /// A type alias or other type declaration.
    Type,
    /// A module or namespace with a body.
    Module,
    /// A constant or static.
    Const,
    /// A macro definition.
    Macro,
    /// A Markdown section (a heading and the text up to the next heading).
    Section,
    /// Test code: a test function (`#[test]`, `def test_…`, `func TestX`), anything in a
    /// test module (`mod tests`, `#[cfg(test)]`) or in a test file (`tests/`, `*_test.go`,
    /// `test_*.py`, `*.test.ts`, `*.spec.js`, …). Search ranks it below the code it tests.
    Test,
    /// Generated code: every chunk of a file whose first lines say so (`Code generated …
    /// DO NOT EDIT`, `@generated`, `automatically generated`). Ranked like test code.
    Generated,
    /// Anything else: imports, top-level statements, line windows of other languages.
    Block,
}

impl ChunkKind {
    /// The stored name (`"function"`, `"method"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Method => "method",
            Self::Struct => "struct",
            Self::Enum => "enum",
            Self::Trait => "trait",
            Self::Impl => "impl",
            Self::Class => "class",
            Self::Interface => "interface",
            Self::Type => "type",
            Self::Module => "module",
            Self::Const => "const",
            Self::Macro => "macro",
            Self::Section => "section",
            Self::Test => "test",
            Self::Generated => "generated",
            Self::Block => "block",
        }
    }
}

impl std::fmt::Display for ChunkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Size limits for chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// A segment with more lines than this is split into windows (default 120).
    pub max_lines: usize,
    /// A segment with more bytes than this is split into windows (default 6 KiB). A single
    /// line longer than this stays one window: chunks never cut a line.
    pub max_bytes: usize,
    /// Target number of lines of a window (default 60). Files of languages without a chunker
    /// of their own are cut into windows as soon as they have more lines than this.
    pub window_lines: usize,
    /// Definitions (or sections) of at most this many lines, not counting trailing blank
    /// lines, that follow each other with the same kind are grouped into one chunk of up to
    /// `window_lines` lines and `max_bytes` bytes (default 2; 0 turns grouping off). This keeps
    /// runs of one-line constants or type aliases from becoming thousands of tiny chunks.
    pub small_lines: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self { max_lines: 120, max_bytes: 6 * 1024, window_lines: 60, small_lines: 2 }
    }
}

/// A contiguous range of lines (0-based, inclusive) produced by a language's chunker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// First line, 0-based.
    pub(crate) first: usize,
    /// Last line, 0-based, inclusive.
    pub(crate) last: usize,
    /// What the lines hold.
    pub(crate) kind: ChunkKind,
    /// Names the segment defines (see [`Chunk::symbols`](super::Chunk::symbols)).
    pub(crate) symbols: Vec<String>,
    /// Nothing worth a chunk of its own: merged into a neighbour.
    pub(crate) filler: bool,
    /// The header lines of the containers around it, outermost first (see
    /// [`Chunk::context`](super::Chunk::context)).
    pub(crate) context: Option<String>,
    /// The definition's own header (see [`Chunk::signature`](super::Chunk::signature)).
    pub(crate) signature: Option<String>,
    /// Lines after which a long definition may be cut (ends of its body's statements),
    /// ascending.
    pub(crate) cuts: Vec<usize>,
}

impl Segment {
    /// A segment that is not filler, without context or signature.
    pub(crate) fn new(first: usize, last: usize, kind: ChunkKind, symbols: Vec<String>) -> Self {
        Self { first, last, kind, symbols, filler: false, context: None, signature: None, cuts: Vec::new() }
    }
}
