//! Splitting a file into [`Chunk`]s: the public types and the language-independent steps
//! (described on [`chunk_file_with`]) that follow a language's own segmentation.

use nexus_db::code_chunks::NewCodeChunk;

use super::lines::Lines;
use super::{Language, SourceFile, content_hash, markdown, syntax};

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

/// A piece of a file: a range of whole lines, what it defines and its exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The file's relative path.
    pub file: String,
    /// First line, 1-based.
    pub start_line: usize,
    /// Last line, 1-based, inclusive.
    pub end_line: usize,
    /// The text of lines `start_line..=end_line`, line terminators included.
    pub content: String,
    /// Names the chunk defines, qualified by their container (`Builder`, `Builder::execute`,
    /// `Cart.total`), or the heading of a Markdown section. Empty for plain blocks.
    pub symbols: Vec<String>,
    /// What the chunk holds.
    pub kind: ChunkKind,
    /// The file's language.
    pub language: Language,
    /// 1 + the number of branching constructs (`if`, loops, `match`/`case` arms, `catch`,
    /// `&&`, `||`, conditional expressions) that start in the chunk; `None` for languages
    /// that are not parsed.
    pub complexity: Option<u32>,
    /// SHA-256 of `content` (see [`content_hash`]).
    pub hash: String,
}

impl Chunk {
    /// The row to insert into `code_chunks` for project `project_id`.
    pub fn into_new_code_chunk(self, project_id: impl Into<String>) -> NewCodeChunk {
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
        }
    }
}

/// A contiguous range of lines (0-based, inclusive) produced by a language's chunker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) kind: ChunkKind,
    pub(crate) symbols: Vec<String>,
    /// Nothing worth a chunk of its own: merged into a neighbour.
    pub(crate) filler: bool,
}

impl Segment {
    pub(crate) fn new(first: usize, last: usize, kind: ChunkKind, symbols: Vec<String>) -> Self {
        Self { first, last, kind, symbols, filler: false }
    }
}

/// Splits `file` into chunks with the default [`ChunkOptions`].
///
/// ```
/// use nexus_store::code::{self, ChunkKind, SourceFile};
/// let file = SourceFile::new("cart.py", "import math\n\nclass Cart:\n    def total(self):\n        return 0\n");
/// let chunks = code::chunk_file(&file);
/// assert_eq!(chunks[1].kind, ChunkKind::Class);
/// assert_eq!(chunks[1].symbols, ["Cart", "Cart.total"]);
/// assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), file.content);
/// ```
pub fn chunk_file(file: &SourceFile) -> Vec<Chunk> {
    chunk_file_with(file, &ChunkOptions::default())
}

/// Splits `file` into chunks.
///
/// A chunker for the file's language (tree-sitter for Rust, Python, TypeScript/TSX,
/// JavaScript and Go; headings for Markdown; one block for anything else) first cuts the file
/// into *segments*: contiguous line ranges, in order, that together cover every line once.
/// Then, for every language alike:
///
/// 1. Blank lines at the start of a segment move to the end of the one before it. Segments
///    marked as filler (blank lines, a lone closing brace between definitions) are
///    merged into the segment before them (into the one after them at the start of a file).
/// 2. Runs of small segments of the same kind (one-line constants, say) are grouped, see
///    [`ChunkOptions::small_lines`].
/// 3. Segments over [`ChunkOptions::max_lines`] or [`ChunkOptions::max_bytes`] are split into
///    windows of about [`ChunkOptions::window_lines`] lines, without overlap, that keep the
///    segment's symbols and kind (for languages without a chunker of their own, the line
///    limit is `window_lines` itself). A window ends after a blank line when one is close to its
///    end.
/// 4. Windows holding only whitespace are merged into their neighbour, and every segment
///    becomes a [`Chunk`] with its exact text, hash and complexity.
///
/// So every line of a file belongs to exactly one chunk, a chunk's `content` is exactly its
/// lines (line terminators included: concatenating a file's chunks gives back the file), and
/// no chunk is blank. A file with no visible character has no chunks.
pub fn chunk_file_with(file: &SourceFile, options: &ChunkOptions) -> Vec<Chunk> {
    let lines = Lines::new(&file.content);
    if lines.len() == 0 {
        return Vec::new();
    }
    let whole = || vec![Segment::new(0, lines.len() - 1, ChunkKind::Block, Vec::new())];
    // Without structure to follow, a file is cut into windows as soon as it exceeds one.
    let unstructured = ChunkOptions { max_lines: options.window_lines, ..*options };
    let (segments, branches, limits) = match file.language {
        Language::Markdown => (markdown::segments(&lines), None, options),
        language if language.has_grammar() => {
            match syntax::segments(language, &file.content, &lines, options) {
                Some(parsed) => (parsed.segments, Some(parsed.branches_per_line), options),
                None => (whole(), None, &unstructured),
            }
        }
        _ => (whole(), None, &unstructured),
    };
    let segments = merge_into_neighbours(shift_leading_blanks(segments, &lines), &lines, |s| {
        s.filler || is_blank(&lines, s)
    });
    let segments = group_small(segments, &lines, options);
    let windows = segments.into_iter().flat_map(|s| split_oversize(s, &lines, limits)).collect();
    let segments = merge_into_neighbours(windows, &lines, |s| is_blank(&lines, s));
    let complexity = branches.map(|per_line| {
        let mut prefix = Vec::with_capacity(per_line.len() + 1);
        prefix.push(0u32);
        for n in per_line {
            prefix.push(prefix[prefix.len() - 1].saturating_add(n));
        }
        prefix
    });
    segments
        .into_iter()
        .map(|s| {
            let content = lines.span(s.first, s.last).to_owned();
            Chunk {
                file: file.path.clone(),
                start_line: s.first + 1,
                end_line: s.last + 1,
                hash: content_hash(content.as_bytes()),
                content,
                symbols: s.symbols,
                kind: s.kind,
                language: file.language,
                complexity: complexity.as_ref().map(|p| (p[s.last + 1] - p[s.first]).saturating_add(1)),
            }
        })
        .collect()
}

fn is_blank(lines: &Lines<'_>, segment: &Segment) -> bool {
    (segment.first..=segment.last).all(|l| lines.is_blank(l))
}

/// Moves the blank lines that start a segment to the end of the segment before it, so blank
/// lines trail what they follow.
fn shift_leading_blanks(mut segments: Vec<Segment>, lines: &Lines<'_>) -> Vec<Segment> {
    for index in 1..segments.len() {
        let segment = &mut segments[index];
        let mut first = segment.first;
        while first < segment.last && lines.is_blank(first) {
            first += 1;
        }
        if first > segment.first {
            segment.first = first;
            segments[index - 1].last = first - 1;
        }
    }
    segments
}

/// Merges every segment matching `minor` into the previous kept segment (or, before the
/// first kept one, into the next). When all segments are minor, the result is one block if
/// any of them has a visible character, else nothing.
fn merge_into_neighbours(
    segments: Vec<Segment>,
    lines: &Lines<'_>,
    minor: impl Fn(&Segment) -> bool,
) -> Vec<Segment> {
    let mut kept: Vec<Segment> = Vec::with_capacity(segments.len());
    let mut leading: Option<Segment> = None;
    for segment in segments {
        if minor(&segment) {
            match kept.last_mut() {
                Some(last) => last.last = segment.last,
                None => match &mut leading {
                    Some(lead) => lead.last = segment.last,
                    None => leading = Some(segment),
                },
            }
        } else {
            let mut segment = segment;
            if let Some(lead) = leading.take() {
                segment.first = lead.first;
            }
            kept.push(segment);
        }
    }
    match leading {
        Some(lead) if kept.is_empty() && !is_blank(lines, &lead) => vec![Segment { filler: false, ..lead }],
        _ => kept,
    }
}

/// Groups runs of small segments of the same kind (see [`ChunkOptions::small_lines`]).
fn group_small(segments: Vec<Segment>, lines: &Lines<'_>, options: &ChunkOptions) -> Vec<Segment> {
    let is_small = |s: &Segment| {
        let last_visible = (s.first..=s.last).rev().find(|&l| !lines.is_blank(l)).unwrap_or(s.first);
        s.kind != ChunkKind::Block && last_visible - s.first < options.small_lines
    };
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    // Whether the last segment of `out` is small (a group that may grow).
    let mut growing = false;
    for segment in segments {
        let small = is_small(&segment);
        if let Some(group) = out.last_mut().filter(|g| {
            small
                && growing
                && g.kind == segment.kind
                && segment.last - g.first < options.window_lines
                && lines.bytes(g.first, segment.last) <= options.max_bytes
        }) {
            group.last = segment.last;
            for symbol in segment.symbols {
                if !group.symbols.contains(&symbol) {
                    group.symbols.push(symbol);
                }
            }
            continue;
        }
        growing = small;
        out.push(segment);
    }
    out
}

/// `segment` itself when it is within the limits, else its windows.
fn split_oversize(segment: Segment, lines: &Lines<'_>, options: &ChunkOptions) -> Vec<Segment> {
    let (max_lines, max_bytes) = (options.max_lines.max(1), options.max_bytes.max(1));
    let count = segment.last - segment.first + 1;
    let bytes = lines.bytes(segment.first, segment.last);
    if count <= max_lines && bytes <= max_bytes {
        return vec![segment];
    }
    // Balanced windows: as many as the line and byte limits need, of equal line counts.
    let windows = count.div_ceil(options.window_lines.max(1)).max(bytes.div_ceil(max_bytes));
    let target = count.div_ceil(windows).max(1);
    let mut out = Vec::with_capacity(windows + 1);
    let mut first = segment.first;
    while first <= segment.last {
        let mut last = (first + target - 1).min(segment.last);
        while last > first && lines.bytes(first, last) > max_bytes {
            last -= 1;
        }
        if last < segment.last {
            // End after a blank line in the last half of the window, if there is one.
            let floor = first + (last - first) / 2;
            if let Some(blank) = (floor..=last).rev().find(|&l| lines.is_blank(l)) {
                last = blank;
            }
        }
        out.push(Segment { first, last, ..segment.clone() });
        first = last + 1;
    }
    out
}
