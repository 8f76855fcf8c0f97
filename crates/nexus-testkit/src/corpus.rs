//! Sample source trees on disk: writing files under a root (parents created), and a small
//! multi-language tree several tests index.

use std::path::{Path, PathBuf};

/// A small project: a Rust file and a Python file under `src/`, each one definition (the
/// tree the CLI tests index and search).
pub const SHOP: &[(&str, &str)] = &[
    (
        "src/cart.rs",
        "/// Sums the cart in cents.\npub fn cart_total(items: &[u64]) -> u64 {\n    items.iter().sum()\n}\n",
    ),
    ("src/auth.py", "def check_password(hashed, plain):\n    return hashed == hash(plain)\n"),
];

/// Writes `content` to `root/path`, creating the parent directories.
pub fn write_file(root: &Path, path: &str, content: impl AsRef<[u8]>) -> std::io::Result<()> {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}

/// Writes every `(path, content)` of `files` under `root` and returns `root`.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(root)?;
    for (path, content) in files {
        write_file(root, path, content)?;
    }
    Ok(root.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::{SHOP, write_tree};

    #[test]
    fn the_shop_tree_is_written_with_its_directories() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = write_tree(&dir.path().join("shop"), SHOP)?;
        for (path, content) in SHOP {
            assert_eq!(std::fs::read_to_string(root.join(path))?, *content);
        }
        Ok(())
    }
}
