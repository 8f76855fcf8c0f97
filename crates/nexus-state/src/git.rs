//! The git commit of a project's tree, for checkpoints: `git rev-parse HEAD` and whether
//! `git status` shows uncommitted changes. No repository (or no git) is not an error.

use std::path::Path;

use tokio::process::Command;
use tracing::debug;

/// Where a project's tree stood in git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitPosition {
    /// The commit `HEAD` points at.
    pub commit: String,
    /// True when the tree has uncommitted changes (untracked files included).
    pub dirty: bool,
}

/// The position of the repository at `root`, or `None` when `root` is not inside a git
/// work tree with at least one commit (or git is not installed). A relative root (such as an
/// `api://` name) names no directory: it is not resolved against the process's working
/// directory, where the project never was.
pub(crate) async fn position(root: &Path) -> Option<GitPosition> {
    if !root.is_absolute() || !root.is_dir() {
        return None;
    }
    let commit = git(root, &["rev-parse", "--verify", "HEAD"]).await?;
    let status = git(root, &["status", "--porcelain"]).await?;
    Some(GitPosition { commit: commit.trim().to_owned(), dirty: !status.trim().is_empty() })
}

async fn git(root: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(root).args(args).kill_on_drop(true).output().await;
    match output {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).ok(),
        Ok(out) => {
            debug!(root = %root.display(), ?args, status = ?out.status, "git gave no answer");
            None
        }
        Err(e) => {
            debug!(root = %root.display(), error = %e, "git could not run");
            None
        }
    }
}
