//! Which `root_path` a project created or saved over the API may have.
//!
//! A project's checkpoints run `git` in its root directory and record what it answers, so a
//! root chosen by an API user would let them probe any directory of the server. A root given
//! over the API is therefore either an `api://` name (no directory: checkpoints record no git
//! commit), or — only when the server was started with a projects directory
//! ([`crate::ServerConfig::projects_dir`], `nexus serve --projects-dir DIR`) — an existing
//! directory inside it. Anything else is refused with [`ServerError::RootNotAllowed`].
//!
//! A path outside the projects directory is refused from its text alone (absolute, no `..`,
//! under the directory), before the file system is asked anything, so the answer does not
//! depend on what exists outside; then it is resolved (symbolic links followed) and must still
//! be inside.

use std::path::{Component, Path, PathBuf};

use crate::error::{Result, ServerError};

/// The scheme of roots that name no directory.
pub(crate) const API_ROOT_SCHEME: &str = "api://";

/// The root to store for `root` given by an API user, or why it is refused. `api://` roots are
/// kept as they are; a directory inside `projects_dir` is stored resolved.
pub(crate) fn check(projects_dir: Option<&Path>, root: &str) -> Result<String> {
    if let Some(name) = root.strip_prefix(API_ROOT_SCHEME) {
        // A relative path could still reach a directory (`api:/../x` from the server's
        // working directory): an api:// name has no `..` part.
        if Path::new(name).components().any(|c| c == Component::ParentDir) {
            return Err(refused(root, "an api:// root must not contain `..`"));
        }
        return Ok(root.to_owned());
    }
    let Some(dir) = projects_dir else {
        return Err(refused(
            root,
            "projects created over the API have an api:// root (the server allows no directory)",
        ));
    };
    let path = Path::new(root);
    let inside_by_text =
        path.is_absolute() && !path.components().any(|c| c == Component::ParentDir) && path.starts_with(dir);
    if !inside_by_text {
        return Err(refused(
            root,
            "a root must be an api:// name or a directory inside the server's projects directory",
        ));
    }
    let resolved: PathBuf = std::fs::canonicalize(path)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| refused(root, "no such directory in the server's projects directory"))?;
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !resolved.starts_with(&dir) {
        return Err(refused(root, "it leads out of the server's projects directory"));
    }
    Ok(resolved.display().to_string())
}

fn refused(root: &str, reason: &str) -> ServerError {
    ServerError::RootNotAllowed { root: root.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roots_pass_and_directories_need_the_projects_directory() -> std::io::Result<()> {
        let scratch = tempfile::tempdir()?;
        let dir = scratch.path().join("projects");
        std::fs::create_dir_all(dir.join("shop"))?;
        std::fs::create_dir_all(scratch.path().join("secret"))?;
        std::os::unix::fs::symlink(scratch.path().join("secret"), dir.join("link"))?;
        let refused = |r: Result<String>| matches!(r, Err(ServerError::RootNotAllowed { .. }));

        assert_eq!(check(None, "api://shop").ok().as_deref(), Some("api://shop"));
        assert!(refused(check(None, "api://../../etc")));
        assert!(refused(check(None, "/etc")));
        assert!(refused(check(None, &dir.join("shop").display().to_string())));

        let allowed = Some(dir.as_path());
        let shop = std::fs::canonicalize(dir.join("shop"))?.display().to_string();
        assert_eq!(check(allowed, &dir.join("shop").display().to_string()).ok(), Some(shop));
        assert!(refused(check(allowed, "/etc")));
        assert!(refused(check(allowed, "shop")), "relative");
        assert!(refused(check(allowed, &dir.join("shop/../../secret").display().to_string())));
        assert!(refused(check(allowed, &dir.join("missing").display().to_string())));
        assert!(refused(check(allowed, &dir.join("link").display().to_string())), "symlink out");
        Ok(())
    }
}
