//! The neural model's files: where they are kept (`NEXUS_MODEL_DIR`, else the XDG cache
//! directory), which files make the model, their SHA-256, and reading them verified.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{EmbedError, Result};

/// The neural embedder's model name (all-MiniLM-L6-v2, sentence-transformers' recipe).
pub const NEURAL_MODEL: &str = "all-MiniLM-L6-v2";

/// The neural embedder's dimensions.
pub const NEURAL_DIMENSIONS: usize = 384;

/// The command that fetches the model into the cache directory, run from the repository.
pub const FETCH_COMMAND: &str = "scripts/fetch-model.sh";

/// One file of the model and its expected SHA-256 (lowercase hex).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelFile {
    /// File name inside the model directory.
    pub name: &'static str,
    /// Expected SHA-256.
    pub sha256: &'static str,
}

/// The BERT configuration.
pub(crate) const CONFIG: ModelFile = ModelFile {
    name: "config.json",
    sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
};
/// The WordPiece tokenizer.
pub(crate) const TOKENIZER: ModelFile = ModelFile {
    name: "tokenizer.json",
    sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
};
/// The weights.
pub(crate) const WEIGHTS: ModelFile = ModelFile {
    name: "model.safetensors",
    sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
};

/// Every file the model needs.
pub(crate) const FILES: [ModelFile; 3] = [CONFIG, TOKENIZER, WEIGHTS];

/// The model directory that `var` (an environment lookup) designates: `NEXUS_MODEL_DIR` when
/// set, else `$XDG_CACHE_HOME/nexus/models/all-MiniLM-L6-v2`, else
/// `$HOME/.cache/nexus/models/all-MiniLM-L6-v2`; `None` when none of them is set.
pub fn model_dir_from(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(dir) = var("NEXUS_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let cache = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(cache.join("nexus").join("models").join(NEURAL_MODEL))
}

/// [`model_dir_from`] over the process environment.
pub fn model_dir() -> Option<PathBuf> {
    model_dir_from(|name| std::env::var(name).ok())
}

/// Whether `dir` holds every file of the model (their contents are verified when loading).
pub fn model_present(dir: &Path) -> bool {
    FILES.iter().all(|file| dir.join(file.name).is_file())
}

/// The one line telling how to get the model into `dir`.
pub fn fetch_hint(dir: Option<&Path>) -> String {
    let place =
        dir.map_or_else(|| "the model cache (set NEXUS_MODEL_DIR)".to_owned(), |d| d.display().to_string());
    format!(
        "the neural embedder {NEURAL_MODEL} is not installed in {place}; using the hashing embedder \
         (get the model with `bash {FETCH_COMMAND}`)"
    )
}

/// Reads `file` from `dir` and checks its SHA-256.
pub(crate) fn read_verified(dir: &Path, file: ModelFile) -> Result<Vec<u8>> {
    let path = dir.join(file.name);
    let bytes = std::fs::read(&path).map_err(|e| EmbedError::Model {
        path: path.clone(),
        reason: format!("cannot read it ({e}); get the model with `bash {FETCH_COMMAND}`"),
    })?;
    let actual = sha256_hex(&bytes);
    if actual != file.sha256 {
        return Err(EmbedError::Model {
            path,
            reason: format!("SHA-256 {actual}, expected {} (a different or damaged file)", file.sha256),
        });
    }
    Ok(bytes)
}

/// Lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_follows_the_variables_in_order() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(model_dir_from(vars(&[])), None);
        assert_eq!(
            model_dir_from(vars(&[("HOME", "/home/a")])),
            Some(PathBuf::from("/home/a/.cache/nexus/models/all-MiniLM-L6-v2"))
        );
        assert_eq!(
            model_dir_from(vars(&[("HOME", "/home/a"), ("XDG_CACHE_HOME", "/c")])),
            Some(PathBuf::from("/c/nexus/models/all-MiniLM-L6-v2"))
        );
        assert_eq!(
            model_dir_from(vars(&[("HOME", "/home/a"), ("XDG_CACHE_HOME", "/c"), ("NEXUS_MODEL_DIR", "/m")])),
            Some(PathBuf::from("/m"))
        );
    }

    #[test]
    fn a_file_with_another_hash_is_refused() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(CONFIG.name), b"{}")?;
        let read = read_verified(dir.path(), CONFIG);
        assert!(
            matches!(read, Err(EmbedError::Model { ref reason, .. }) if reason.contains("SHA-256")),
            "{read:?}"
        );
        let missing = read_verified(dir.path(), WEIGHTS);
        assert!(
            matches!(missing, Err(EmbedError::Model { ref reason, .. }) if reason.contains("fetch-model"))
        );
        assert!(!model_present(dir.path()));
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        Ok(())
    }
}
