//! Splitting a file into [`Chunk`]s: the chunk type and the language-independent steps
//! (described on [`chunk_file_with`]) that follow a language's own segmentation.

use crate::hash::content_hash;
use crate::language::Language;
use crate::lines::Lines;
use crate::types::{ChunkKind, ChunkOptions, Segment};
use crate::walk::SourceFile;
use crate::{markdown, syntax};

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
    /// The header lines of the definitions around the chunk, outermost first, one per line:
    /// `impl<T> Display for Wrapper<T>`, `class Cart(Base):`, `mod tests`. `None` at the top
    /// level of a file.
    pub context: Option<String>,
    /// The header of the definition the chunk holds, up to its body (`pub fn total(&self) ->
    /// u64`, `def total(self, tax=0):`), whitespace collapsed; every window of a long function
    /// carries it. `None` for blocks and sections.
    pub signature: Option<String>,
}

/// Longest text [`Chunk::embedding_text`] returns, in bytes (all-MiniLM-L6-v2 reads 256
/// tokens, about 1,000 bytes of code; the rest would only cost tokenizing).
pub const MAX_EMBEDDING_BYTES: usize = 2048;

impl Chunk {
    /// The text to embed for this chunk, chosen for retrieval: the file path, the context
    /// lines, the signature, then the content (its doc comment, then the body), cut at
    /// [`MAX_EMBEDDING_BYTES`]. What comes first survives an embedder's input limit.
    pub fn embedding_text(&self) -> String {
        let mut text = String::with_capacity(MAX_EMBEDDING_BYTES.min(self.content.len() + 256));
        if let Some(symbol) = self.symbols.first() {
            text.push_str(&words(symbol));
            text.push('\n');
        }
        text.push_str(&self.file);
        text.push('\n');
        for part in [&self.context, &self.signature].into_iter().flatten() {
            text.push_str(part);
            text.push('\n');
        }
        text.push_str(&self.content);
        if text.len() > MAX_EMBEDDING_BYTES {
            let cut = (0..=MAX_EMBEDDING_BYTES).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.truncate(cut);
        }
        text
    }
}

/// An identifier as words, for the embedder: `HybridSearch::execute_all` → `hybrid search
/// execute all`, `parseHTTPHeader` → `parse http header`.
fn words(identifier: &str) -> String {
    let mut out = String::with_capacity(identifier.len() + 8);
    let chars: Vec<char> = identifier.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            continue;
        }
        let previous = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let hump = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if hump && !out.ends_with(' ') {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out.trim_end().to_owned()
}

/// Splits `file` into chunks with the default [`ChunkOptions`].
///
/// ```
/// use nexus_code::{ChunkKind, SourceFile};
/// let file = SourceFile::new("cart.py", "import math\n\nclass Cart:\n    def total(self):\n        return 0\n");
/// let chunks = nexus_code::chunk_file(&file);
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
    let segments = mark_file_kind(segments, file);
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
                context: s.context,
                signature: s.signature,
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

/// Every segment of a test file becomes [`ChunkKind::Test`], of a generated file
/// [`ChunkKind::Generated`] (Markdown and text files aside).
fn mark_file_kind(mut segments: Vec<Segment>, file: &SourceFile) -> Vec<Segment> {
    if !file.language.has_grammar() {
        return segments;
    }
    let kind = if is_test_path(&file.path) {
        ChunkKind::Test
    } else if is_generated(&file.content) {
        ChunkKind::Generated
    } else {
        return segments;
    };
    for segment in &mut segments {
        segment.kind = kind;
    }
    segments
}

/// Whether `path` is a test file: under a `tests`, `test` or `__tests__` directory, or named
/// like one (`tests.rs`, `*_test.go`, `test_*.py`, `*_test.py`, `conftest.py`, `*.test.ts`, `*.spec.js`, …).
fn is_test_path(path: &str) -> bool {
    let mut parts = path.split('/').rev();
    let name = parts.next().unwrap_or_default();
    if parts.any(|dir| matches!(dir, "tests" | "test" | "__tests__")) {
        return true;
    }
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    matches!(stem, "tests" | "test")
        || stem.ends_with("_test")
        || stem.starts_with("test_")
        || stem == "conftest"
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
}

/// Whether a file's first lines say it is generated.
fn is_generated(content: &str) -> bool {
    content.lines().take(8).any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.contains("@generated")
            || (lower.contains("generated") && lower.contains("do not edit"))
            || lower.contains("automatically generated")
            || lower.contains("auto-generated")
    })
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
            // End after a statement of the body in the last half of the window, else after a
            // blank line there, if there is one.
            let floor = first + (last - first) / 2;
            let statement = segment.cuts.iter().rev().copied().find(|&c| c >= floor && c <= last);
            if let Some(end) = statement.or_else(|| (floor..=last).rev().find(|&l| lines.is_blank(l))) {
                last = end;
            }
        }
        out.push(Segment { first, last, ..segment.clone() });
        first = last + 1;
    }
    out
}
