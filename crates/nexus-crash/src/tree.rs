//! The small source tree the workload indexes and mutates between indexing runs: Rust, Python
//! and Markdown files added, rewritten and deleted at random.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fastrand::Rng;
use nexus_store::code::{self, WalkOptions};

/// Fewer files than this and the next mutation always adds one.
const MIN_FILES: usize = 4;
/// More files than this and the next mutation never adds one.
const MAX_FILES: usize = 24;

/// Words the generated identifiers and prose are made of.
const WORDS: &[&str] = &[
    "cart", "total", "price", "cents", "order", "queue", "agent", "task", "review", "merge", "index",
    "vector", "search", "memory", "episode", "commit", "branch", "worker", "retry", "backoff",
];

/// Files of the tree under `root`, relative and `/`-separated.
fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in ["src", "py", "docs"] {
        let dir = root.join(dir);
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            found.push(entry?.path());
        }
    }
    found.sort();
    Ok(found)
}

/// `n` random words joined by `sep`.
fn words(rng: &mut Rng, n: usize, sep: &str) -> String {
    (0..n).map(|_| WORDS[rng.usize(..WORDS.len())]).collect::<Vec<_>>().join(sep)
}

/// The content of a new or rewritten file at `path`.
fn content(rng: &mut Rng, path: &Path) -> String {
    let defs = rng.usize(1..6);
    let mut out = String::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("rs") => {
            for _ in 0..defs {
                let name = words(rng, 3, "_");
                let doc = words(rng, 8, " ");
                let n = rng.u32(..1000);
                out.push_str(&format!("/// {doc}.\npub fn {name}(x: u32) -> u32 {{\n    x + {n}\n}}\n\n"));
            }
        }
        Some("py") => {
            for _ in 0..defs {
                let name = words(rng, 3, "_");
                let doc = words(rng, 8, " ");
                let n = rng.u32(..1000);
                out.push_str(&format!("def {name}(x):\n    \"\"\"{doc}.\"\"\"\n    return x + {n}\n\n"));
            }
        }
        _ => {
            for _ in 0..defs {
                let title = words(rng, 3, " ");
                let body = words(rng, 30, " ");
                out.push_str(&format!("# {title}\n\n{body}.\n\n"));
            }
        }
    }
    out
}

/// Changes the tree under `root` once: adds a file, rewrites one or deletes one.
pub fn mutate(root: &Path, rng: &mut Rng) -> Result<()> {
    let existing = files(root)?;
    let add = existing.len() < MIN_FILES || (existing.len() < MAX_FILES && rng.u8(..3) == 0);
    if add {
        let (dir, ext) = [("src", "rs"), ("py", "py"), ("docs", "md")][rng.usize(..3)];
        let path = root.join(dir).join(format!("f{}.{ext}", rng.u32(..)));
        fs::create_dir_all(root.join(dir))?;
        let text = content(rng, &path);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    } else if let Some(path) = rng.choice(&existing) {
        if rng.bool() {
            let text = content(rng, path);
            fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        } else {
            fs::remove_file(path).with_context(|| format!("deleting {}", path.display()))?;
        }
    }
    Ok(())
}

/// Path → content hash of every file `Store::index_dir` would index under `root`, computed
/// with the same walk.
pub fn listing(root: &Path) -> Result<BTreeMap<String, String>> {
    if !root.is_dir() {
        return Ok(BTreeMap::new());
    }
    let mut listing = BTreeMap::new();
    for file in code::walk(root, &WalkOptions::default())? {
        let file = file?;
        listing.insert(file.path, file.hash);
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_keep_a_small_nonempty_tree() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut rng = Rng::with_seed(7);
        for _ in 0..200 {
            mutate(dir.path(), &mut rng)?;
        }
        let files = listing(dir.path())?;
        assert!((MIN_FILES - 1..=MAX_FILES).contains(&files.len()), "{} files", files.len());
        Ok(())
    }
}
