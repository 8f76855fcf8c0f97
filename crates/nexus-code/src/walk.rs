//! Walking a source tree: which files are indexed, in which order, and with which content
//! (the rules are on [`walk`]).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{CodeError, Result};
use crate::hash::content_hash;
use crate::language::Language;

/// How many leading bytes are searched for a NUL byte to tell binary files from text.
const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// The default [`WalkOptions::max_file_size`]: 1 MiB, equal to nexus-db's `MAX_CONTENT_BYTES`
/// (the largest text a row takes), so every file the walk yields can be stored. nexus-store
/// tests that the two stay equal.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 20;

/// What [`walk`] indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkOptions {
    /// Files larger than this many bytes are skipped (default [`DEFAULT_MAX_FILE_BYTES`],
    /// 1 MiB).
    pub max_file_size: u64,
    /// Whether hidden files and directories (names starting with `.`) are walked
    /// (default `false`).
    pub include_hidden: bool,
    /// Whether `.gitignore`, `.ignore` and `.git/info/exclude` files (in the root, below it
    /// and in its parent directories) are honoured (default `true`). The user's global git
    /// excludes file is never read, so the result does not depend on who runs the walk.
    pub honor_ignore_files: bool,
    /// Directory names that are never entered, at any depth, whatever the ignore files say
    /// (default `target`, `node_modules`, `.git`).
    pub skip_dirs: Vec<String>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            max_file_size: DEFAULT_MAX_FILE_BYTES,
            include_hidden: false,
            honor_ignore_files: true,
            skip_dirs: ["target", "node_modules", ".git"].map(String::from).to_vec(),
        }
    }
}

/// A text file to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the walked root, `/`-separated (what `code_chunks.file` stores).
    pub path: String,
    /// Detected language.
    pub language: Language,
    /// The file's content, exactly as on disk.
    pub content: String,
    /// SHA-256 of `content` in lowercase hex (see [`content_hash`]).
    pub hash: String,
}

impl SourceFile {
    /// A file from its relative path and content; the language is detected with
    /// [`Language::detect`] and the hash computed.
    pub fn new(path: impl Into<String>, content: impl Into<String>) -> Self {
        let (path, content) = (path.into(), content.into());
        let language = Language::detect(&path, &content);
        Self::with_language(path, language, content)
    }

    /// A file whose language the caller already knows.
    pub fn with_language(path: impl Into<String>, language: Language, content: impl Into<String>) -> Self {
        let content = content.into();
        let hash = content_hash(content.as_bytes());
        Self { path: path.into(), language, content, hash }
    }
}

/// Counts of what a [`Walk`] has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Files yielded.
    pub files: u64,
    /// Files skipped because they look binary.
    pub skipped_binary: u64,
    /// Files skipped because they are larger than [`WalkOptions::max_file_size`].
    pub skipped_too_large: u64,
    /// Files skipped because they are not valid UTF-8.
    pub skipped_not_utf8: u64,
    /// Errors yielded.
    pub errors: u64,
}

/// Reads a file's bytes, `None` when it holds more than the limit: how a [`Walk`] reads files.
/// For tests only (`Walk::with_reader`): not part of the stable API.
#[doc(hidden)]
pub type ReadFn = fn(&Path, u64) -> io::Result<Option<Vec<u8>>>;

/// The iterator returned by [`walk`]: one item per indexed file or per error.
pub struct Walk {
    inner: ignore::Walk,
    root: PathBuf,
    max_file_size: u64,
    read: ReadFn,
    stats: WalkStats,
}

impl std::fmt::Debug for Walk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk").field("root", &self.root).field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// Walks the tree under `root`.
///
/// It honours `.gitignore` (also outside a git repository), `.ignore` and
/// `.git/info/exclude` files, skips hidden files and the directories named in
/// [`WalkOptions::skip_dirs`] (`target`, `node_modules`, `.git` by default), never follows
/// symbolic links, and skips files that are binary (a NUL byte in their first 8 KiB), larger
/// than [`WalkOptions::max_file_size`] or not UTF-8. Each indexed file comes out as a
/// [`SourceFile`]: its `/`-separated path relative to the root, its language, its content and
/// the SHA-256 of that content.
///
/// Order is deterministic: depth first, the entries of each directory sorted by name (byte
/// order). Fails only when `root` is not a directory; a path that cannot be read (or whose
/// name is not UTF-8) is an `Err` item of the iterator, and the walk goes on.
///
/// ```no_run
/// use nexus_code::WalkOptions;
/// let mut files = nexus_code::walk("/src/shop", &WalkOptions::default())?;
/// for file in &mut files {
///     match file {
///         Ok(file) => println!("{} ({}, {} bytes)", file.path, file.language, file.content.len()),
///         Err(e) => eprintln!("skipped: {e}"),
///     }
/// }
/// println!("{:?}", files.stats());
/// # Ok::<(), nexus_code::CodeError>(())
/// ```
pub fn walk(root: impl AsRef<Path>, options: &WalkOptions) -> Result<Walk> {
    let given = root.as_ref();
    let invalid = |source| CodeError::InvalidRoot { path: given.to_owned(), source };
    let root = std::fs::canonicalize(given).map_err(invalid)?;
    if !root.is_dir() {
        return Err(invalid(io::Error::new(io::ErrorKind::NotADirectory, "not a directory")));
    }
    let honor = options.honor_ignore_files;
    let skip_dirs = options.skip_dirs.clone();
    let inner = ignore::WalkBuilder::new(&root)
        .hidden(!options.include_hidden)
        .parents(honor)
        .ignore(honor)
        .git_ignore(honor)
        .git_exclude(honor)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir && entry.depth() > 0 && skip_dirs.iter().any(|d| entry.file_name() == d.as_str()))
        })
        .build();
    Ok(Walk {
        inner,
        root,
        max_file_size: options.max_file_size,
        read: read_limited,
        stats: WalkStats::default(),
    })
}

impl Walk {
    /// The walked root, canonicalized.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads files with `read` instead of from the disk. For tests only (a read that fails
    /// even for root, who ignores permission bits): not part of the stable API.
    #[doc(hidden)]
    pub fn with_reader(mut self, read: ReadFn) -> Self {
        self.read = read;
        self
    }

    /// What has been yielded and skipped so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> WalkStats {
        self.stats
    }

    /// Reads one regular file; `Ok(None)` when it is skipped.
    fn load(&mut self, path: &Path) -> Result<Option<SourceFile>> {
        let relative = relative_path(&self.root, path)?;
        let read_error = |source| CodeError::ReadFile { path: path.to_owned(), source };
        let bytes = match (self.read)(path, self.max_file_size).map_err(read_error)? {
            Some(bytes) => bytes,
            None => {
                tracing::debug!(file = %relative, "skipped: larger than the size limit");
                self.stats.skipped_too_large += 1;
                return Ok(None);
            }
        };
        if bytes[..bytes.len().min(BINARY_SNIFF_LEN)].contains(&0) {
            tracing::debug!(file = %relative, "skipped: binary");
            self.stats.skipped_binary += 1;
            return Ok(None);
        }
        let Ok(content) = String::from_utf8(bytes) else {
            tracing::debug!(file = %relative, "skipped: not UTF-8");
            self.stats.skipped_not_utf8 += 1;
            return Ok(None);
        };
        Ok(Some(SourceFile::new(relative, content)))
    }
}

impl Iterator for Walk {
    type Item = Result<SourceFile>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let item = match self.inner.next()? {
                Ok(entry) => {
                    if let Some(partial) = entry.error() {
                        tracing::warn!(path = %entry.path().display(), error = %partial, "ignore file partly unreadable");
                    }
                    // Symbolic links have their own file type (links are not followed), so
                    // only regular files inside the root get here.
                    if !entry.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    self.load(entry.path())
                }
                Err(source) => Err(CodeError::Walk { path: error_path(&source), source }),
            };
            match item {
                Ok(None) => continue,
                Ok(Some(file)) => {
                    self.stats.files += 1;
                    return Some(Ok(file));
                }
                Err(e) => {
                    self.stats.errors += 1;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// `path` relative to `root`, `/`-separated.
fn relative_path(root: &Path, path: &Path) -> Result<String> {
    let non_utf8 = || CodeError::NonUtf8Path { path: path.to_owned() };
    // The walker yields `root.join(...)`, so the prefix is always there.
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts = relative.components().map(|c| c.as_os_str().to_str().ok_or_else(non_utf8));
    parts.collect::<Result<Vec<_>>>().map(|parts| parts.join("/"))
}

/// The file's bytes, or `None` when it holds more than `max` bytes.
fn read_limited(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > max {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Read at most one byte past the limit, in case the file grew since `metadata`.
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// The path an ignore error is about, when it names one.
fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}
