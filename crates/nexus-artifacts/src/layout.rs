//! Where files go: `<root>/<project_id>/<kind>/<sha256[0..2]>/<sha256>[.zst]`, temporary files
//! in `<root>/.tmp/`, and the checks that keep names and project ids inside the root.

use std::path::{Path, PathBuf};

use nexus_db::ProjectId;
use nexus_db::artifacts::{ArtifactKind, Compression};

use crate::error::{ArtifactError, Result};

/// The directory of temporary files under the root (a dot name: never a project id).
pub(crate) const TEMP_DIR: &str = ".tmp";

/// Longest accepted artifact name, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// The paths of an artifact root.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding every file of a project.
    pub(crate) fn project_dir(&self, project: &ProjectId) -> Result<PathBuf> {
        check_project_id(project)?;
        Ok(self.root.join(project.as_str()))
    }

    /// The file of content `sha256` of a project and kind, stored with `compression`.
    pub(crate) fn file(
        &self,
        project: &ProjectId,
        kind: ArtifactKind,
        sha256: &str,
        compression: Compression,
    ) -> Result<PathBuf> {
        let prefix = sha256.get(..2).unwrap_or("00");
        let name = match compression {
            Compression::None => sha256.to_owned(),
            Compression::Zstd => format!("{sha256}.zst"),
        };
        Ok(self.project_dir(project)?.join(kind.as_str()).join(prefix).join(name))
    }

    /// The directory of temporary files.
    pub(crate) fn temp_dir(&self) -> PathBuf {
        self.root.join(TEMP_DIR)
    }

    /// A fresh temporary file name.
    pub(crate) fn temp_file(&self) -> PathBuf {
        self.temp_dir().join(format!("{}.part", uuid::Uuid::now_v7()))
    }
}

/// Refuses an artifact name that is empty, too long, holds NUL, is absolute (`/x`, `\x`,
/// `C:…`) or has a `..` component: names are recorded, never used as paths, but a name that
/// would escape a directory if someone did is refused all the same.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |reason| Err(ArtifactError::BadName { name: name.to_owned(), reason });
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > MAX_NAME_BYTES {
        return bad("longer than 1024 bytes");
    }
    if name.contains('\0') {
        return bad("contains NUL");
    }
    let bytes = name.as_bytes();
    if bytes[0] == b'/'
        || bytes[0] == b'\\'
        || (bytes.len() > 1 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
    {
        return bad("absolute path");
    }
    if name.split(['/', '\\']).any(|part| part == "..") {
        return bad("has a `..` component");
    }
    Ok(())
}

/// A project id is a directory name under the root: ASCII letters, digits, `-`, `_` and `.`,
/// not starting with `.` (which also rules out `.`, `..` and the temporary directory).
fn check_project_id(project: &ProjectId) -> Result<()> {
    let id = project.as_str();
    let ok = !id.is_empty()
        && id.len() <= 255
        && !id.starts_with('.')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(()) } else { Err(ArtifactError::BadProjectId(id.to_owned())) }
}
