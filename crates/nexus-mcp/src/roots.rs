//! [`Roots`]: the directories the `index` tool may read, resolved once at start; a path is
//! accepted only when its canonical form (symbolic links and `..` resolved) lies inside one.

use std::path::{Path, PathBuf};

use crate::error::{McpError, Result};

/// The canonical directories `index` may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots(Vec<PathBuf>);

impl Roots {
    /// Resolves `dirs` (each must exist); an empty list means the current directory.
    pub fn new(dirs: &[PathBuf]) -> Result<Self> {
        let dirs = if dirs.is_empty() { vec![PathBuf::from(".")] } else { dirs.to_vec() };
        let roots = dirs.iter().map(|dir| canonical(dir)).collect::<Result<Vec<_>>>()?;
        Ok(Self(roots))
    }

    /// The roots, canonical.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.0
    }

    /// The canonical form of `path` when it lies inside a root; a relative path is taken
    /// relative to the first root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf> {
        let given = Path::new(path);
        let joined = match self.0.first() {
            Some(first) if given.is_relative() => first.join(given),
            _ => given.to_path_buf(),
        };
        let resolved = canonical(&joined)?;
        if self.0.iter().any(|root| resolved.starts_with(root)) {
            Ok(resolved)
        } else {
            Err(McpError::OutsideRoots { path: resolved.display().to_string(), roots: self.to_string() })
        }
    }
}

impl std::fmt::Display for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self.0.iter().map(|r| r.display().to_string()).collect();
        f.write_str(&shown.join(", "))
    }
}

fn canonical(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).map_err(|source| McpError::Path { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_a_root_resolve() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::create_dir_all(dir.path().join("other"))?;
        let roots = Roots::new(std::slice::from_ref(&root))?;
        let root = std::fs::canonicalize(&root)?;
        assert_eq!(roots.resolve("src")?, root.join("src"));
        assert_eq!(roots.resolve(&root.join("src").display().to_string())?, root.join("src"));
        assert!(matches!(roots.resolve("../other"), Err(McpError::OutsideRoots { .. })));
        assert!(matches!(roots.resolve("src/../../other"), Err(McpError::OutsideRoots { .. })));
        assert!(matches!(roots.resolve("/"), Err(McpError::OutsideRoots { .. })));
        assert!(matches!(roots.resolve("missing"), Err(McpError::Path { .. })));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("other"), root.join("escape"))?;
            assert!(matches!(roots.resolve("escape"), Err(McpError::OutsideRoots { .. })));
        }
        Ok(())
    }
}
