//! [`EmbedderConfig`]: choosing and building the embedder from configuration or the
//! environment — OpenAI-compatible when configured, otherwise the offline default: the
//! [`NeuralEmbedder`] when its model files are in the model directory, else the hashing
//! [`LocalEmbedder`].
//!
//! | variable | meaning |
//! |---|---|
//! | `NEXUS_EMBEDDER` | `openai`, `neural`, `hashing` or `local` (the offline default: `neural` when its files are present, else `hashing`); unset: `openai` if `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else `local` |
//! | `NEXUS_MODEL_DIR` | the neural model's directory; default `$XDG_CACHE_HOME/nexus/models/all-MiniLM-L6-v2` (`~/.cache/…`) |
//! | `OPENAI_API_KEY` | API key (not needed by most local servers) |
//! | `OPENAI_BASE_URL` | API base URL, e.g. `http://localhost:11434/v1`; default OpenAI's |
//! | `NEXUS_EMBED_MODEL` | model of the OpenAI-compatible provider; default `text-embedding-3-small` |
//! | `NEXUS_EMBED_DIMENSIONS` | vector length (either provider); default the model's (1536 for `text-embedding-3-small`, 384 local) |
//!
//! Empty variables count as unset.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use nexus_db::Db;

use crate::cache::CachedEmbedder;
use crate::embedder::Embedder;
use crate::error::{EmbedError, Result};
use crate::local::{DEFAULT_LOCAL_DIMENSIONS, LocalEmbedder};
use crate::neural::NeuralEmbedder;
use crate::neural::files::{NEURAL_DIMENSIONS, model_dir_from, model_present};
use crate::openai::{OpenAiConfig, OpenAiEmbedder};

/// Which provider to use (the CLI's `--embedder openai|neural|hashing|local`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedderKind {
    /// An OpenAI-compatible server ([`OpenAiEmbedder`]).
    OpenAi,
    /// The offline default: [`EmbedderKind::Neural`] when the model's files are in the model
    /// directory, [`EmbedderKind::Hashing`] otherwise. A request only: a built configuration
    /// is always one of the others.
    Local,
    /// The local neural embedder ([`NeuralEmbedder`]); its files must be present.
    Neural,
    /// The offline hashing embedder ([`LocalEmbedder`]).
    Hashing,
}

/// What `NEXUS_EMBEDDER` and `--embedder` accept.
const KINDS: &str = "expected `openai`, `neural`, `hashing` or `local`";

impl FromStr for EmbedderKind {
    type Err = EmbedError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(Self::OpenAi),
            "local" => Ok(Self::Local),
            "neural" => Ok(Self::Neural),
            "hashing" => Ok(Self::Hashing),
            other => Err(EmbedError::config("embedder", format!("{other:?}: {KINDS}"))),
        }
    }
}

impl std::fmt::Display for EmbedderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::OpenAi => "openai",
            Self::Local => "local",
            Self::Neural => "neural",
            Self::Hashing => "hashing",
        })
    }
}

/// Which embedder to build, with its settings.
///
/// ```
/// use nexus_embed::{EmbedderConfig, EmbedderKind};
/// // With no variables set and no model directory, the hashing embedder is chosen.
/// let config = EmbedderConfig::from_vars(None, |_| None)?;
/// assert_eq!(config.kind(), EmbedderKind::Hashing);
/// let embedder = config.build()?;
/// assert_eq!(embedder.model(), "nexus-local-hash-v1");
/// # Ok::<(), nexus_embed::EmbedError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedderConfig {
    /// An OpenAI-compatible server.
    OpenAi(OpenAiConfig),
    /// The offline hashing embedder with this many dimensions.
    Local {
        /// Vector length.
        dimensions: usize,
    },
    /// The local neural embedder with its model files in this directory.
    Neural {
        /// The model directory (`config.json`, `tokenizer.json`, `model.safetensors`).
        dir: PathBuf,
    },
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        Self::Local { dimensions: DEFAULT_LOCAL_DIMENSIONS }
    }
}

impl EmbedderConfig {
    /// Reads the process environment (see the module docs); `NEXUS_EMBEDDER` or the presence of
    /// OpenAI settings decides the provider.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(None, |name| std::env::var(name).ok())
    }

    /// Like [`EmbedderConfig::from_env`], with the provider forced to `kind` (the CLI's
    /// `--embedder` flag) when given.
    pub fn from_env_for(kind: Option<EmbedderKind>) -> Result<Self> {
        Self::from_vars(kind, |name| std::env::var(name).ok())
    }

    /// Builds the configuration from variables read through `var` (the environment, a config
    /// file, a test's map). `kind` overrides `NEXUS_EMBEDDER`.
    pub fn from_vars(kind: Option<EmbedderKind>, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let kind = match kind {
            Some(kind) => kind,
            None => match var("NEXUS_EMBEDDER") {
                Some(name) => name
                    .parse()
                    .map_err(|_| EmbedError::config("NEXUS_EMBEDDER", format!("{name:?}: {KINDS}")))?,
                None if var("OPENAI_API_KEY").is_some() || var("OPENAI_BASE_URL").is_some() => {
                    EmbedderKind::OpenAi
                }
                None => EmbedderKind::Local,
            },
        };
        let dimensions = var("NEXUS_EMBED_DIMENSIONS")
            .map(|v| match v.trim().parse::<usize>() {
                Ok(d) if d > 0 => Ok(d),
                _ => Err(EmbedError::config(
                    "NEXUS_EMBED_DIMENSIONS",
                    format!("{v:?}: expected a positive integer"),
                )),
            })
            .transpose()?;
        let model_dir = model_dir_from(var);
        Ok(match kind {
            EmbedderKind::Neural => {
                if dimensions.is_some_and(|d| d != NEURAL_DIMENSIONS) {
                    return Err(EmbedError::config(
                        "NEXUS_EMBED_DIMENSIONS",
                        format!("the neural embedder has {NEURAL_DIMENSIONS} dimensions"),
                    ));
                }
                let dir = model_dir.ok_or_else(|| {
                    EmbedError::config("NEXUS_MODEL_DIR", "no model directory: set NEXUS_MODEL_DIR or HOME")
                })?;
                Self::Neural { dir }
            }
            EmbedderKind::Local
                if dimensions.is_none_or(|d| d == NEURAL_DIMENSIONS)
                    && model_dir.as_deref().is_some_and(model_present) =>
            {
                Self::Neural { dir: model_dir.unwrap_or_default() }
            }
            EmbedderKind::Local | EmbedderKind::Hashing => {
                Self::Local { dimensions: dimensions.unwrap_or(DEFAULT_LOCAL_DIMENSIONS) }
            }
            EmbedderKind::OpenAi => {
                let defaults = OpenAiConfig::default();
                Self::OpenAi(OpenAiConfig {
                    api_key: var("OPENAI_API_KEY").map(|k| k.trim().to_owned()),
                    base_url: var("OPENAI_BASE_URL").map(|u| u.trim().to_owned()),
                    model: var("NEXUS_EMBED_MODEL").map(|m| m.trim().to_owned()).unwrap_or(defaults.model),
                    dimensions,
                    ..OpenAiConfig::default()
                })
            }
        })
    }

    /// The provider this configuration builds: [`EmbedderKind::OpenAi`],
    /// [`EmbedderKind::Neural`] or [`EmbedderKind::Hashing`].
    pub fn kind(&self) -> EmbedderKind {
        match self {
            Self::OpenAi(_) => EmbedderKind::OpenAi,
            Self::Local { .. } => EmbedderKind::Hashing,
            Self::Neural { .. } => EmbedderKind::Neural,
        }
    }

    /// Builds the embedder (no network traffic yet; the neural model is loaded and verified).
    pub fn build(self) -> Result<Arc<dyn Embedder>> {
        Ok(match self {
            Self::OpenAi(config) => Arc::new(OpenAiEmbedder::new(config)?),
            Self::Local { dimensions } => Arc::new(LocalEmbedder::new(dimensions)?),
            Self::Neural { dir } => Arc::new(NeuralEmbedder::load(&dir)?),
        })
    }

    /// Builds the embedder wrapped in a [`CachedEmbedder`] over `db` when caching it pays
    /// ([`Embedder::caching_pays`]: every provider but the hashing one).
    pub fn build_cached(self, db: Db) -> Result<Arc<dyn Embedder>> {
        let embedder = self.build()?;
        Ok(if embedder.caching_pays() { Arc::new(CachedEmbedder::new(embedder, db)) } else { embedder })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn nothing_set_is_local() -> Result<()> {
        assert_eq!(EmbedderConfig::from_vars(None, vars(&[]))?, EmbedderConfig::Local { dimensions: 384 });
        // Empty values count as unset.
        let config =
            EmbedderConfig::from_vars(None, vars(&[("OPENAI_API_KEY", ""), ("NEXUS_EMBEDDER", " ")]))?;
        assert_eq!(config.kind(), EmbedderKind::Hashing);
        Ok(())
    }

    #[test]
    fn a_key_or_a_base_url_selects_openai() -> Result<()> {
        let config = EmbedderConfig::from_vars(None, vars(&[("OPENAI_API_KEY", "sk-test")]))?;
        let EmbedderConfig::OpenAi(openai) = config else { panic!("expected openai") };
        assert_eq!(openai.api_key.as_deref(), Some("sk-test"));
        assert_eq!(openai.model, "text-embedding-3-small");
        let config = EmbedderConfig::from_vars(
            None,
            vars(&[
                ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
                ("NEXUS_EMBED_MODEL", "nomic-embed-text"),
                ("NEXUS_EMBED_DIMENSIONS", "768"),
            ]),
        )?;
        let EmbedderConfig::OpenAi(openai) = config else { panic!("expected openai") };
        assert_eq!((openai.model.as_str(), openai.dimensions), ("nomic-embed-text", Some(768)));
        let embedder = EmbedderConfig::OpenAi(openai).build()?;
        assert_eq!((embedder.model(), embedder.dimensions()), ("nomic-embed-text", 768));
        Ok(())
    }

    #[test]
    fn explicit_kind_wins() -> Result<()> {
        let set =
            [("OPENAI_API_KEY", "sk-test"), ("NEXUS_EMBEDDER", "openai"), ("NEXUS_EMBED_DIMENSIONS", "256")];
        let config = EmbedderConfig::from_vars(Some(EmbedderKind::Local), vars(&set))?;
        assert_eq!(config, EmbedderConfig::Local { dimensions: 256 });
        let config =
            EmbedderConfig::from_vars(None, vars(&[("NEXUS_EMBEDDER", "LOCAL"), ("OPENAI_API_KEY", "k")]))?;
        assert_eq!(config.kind(), EmbedderKind::Hashing);
        Ok(())
    }

    #[test]
    fn local_is_neural_exactly_when_the_model_files_are_present()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().to_string_lossy().into_owned();
        let set = [("NEXUS_MODEL_DIR", path.as_str())];
        // No files: `local` is the hashing embedder; `neural` is chosen but cannot be built.
        assert_eq!(EmbedderConfig::from_vars(None, vars(&set))?.kind(), EmbedderKind::Hashing);
        let neural = EmbedderConfig::from_vars(Some(EmbedderKind::Neural), vars(&set))?;
        assert_eq!(neural, EmbedderConfig::Neural { dir: dir.path().to_path_buf() });
        assert!(matches!(neural.build(), Err(EmbedError::Model { .. })));
        // With the three files (contents are checked when loading), `local` becomes neural,
        // unless other dimensions are asked for; `hashing` stays hashing.
        for name in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::write(dir.path().join(name), b"")?;
        }
        assert_eq!(EmbedderConfig::from_vars(None, vars(&set))?.kind(), EmbedderKind::Neural);
        let with_dimensions = [set[0], ("NEXUS_EMBED_DIMENSIONS", "768")];
        assert_eq!(
            EmbedderConfig::from_vars(Some(EmbedderKind::Local), vars(&with_dimensions))?,
            EmbedderConfig::Local { dimensions: 768 }
        );
        assert!(matches!(
            EmbedderConfig::from_vars(Some(EmbedderKind::Neural), vars(&with_dimensions)),
            Err(EmbedError::Config { setting: "NEXUS_EMBED_DIMENSIONS", .. })
        ));
        let hashing = [set[0], ("NEXUS_EMBEDDER", "hashing")];
        assert_eq!(EmbedderConfig::from_vars(None, vars(&hashing))?.kind(), EmbedderKind::Hashing);
        Ok(())
    }

    #[test]
    fn bad_values_are_config_errors() {
        let err = |set: &[(&str, &str)]| EmbedderConfig::from_vars(None, vars(set)).err();
        assert!(matches!(
            err(&[("NEXUS_EMBEDDER", "bert")]),
            Some(EmbedError::Config { setting: "NEXUS_EMBEDDER", .. })
        ));
        assert!(matches!(
            err(&[("NEXUS_EMBED_DIMENSIONS", "0")]),
            Some(EmbedError::Config { setting: "NEXUS_EMBED_DIMENSIONS", .. })
        ));
        // OpenAI itself without a key is refused when building, before any request.
        let config = EmbedderConfig::from_vars(Some(EmbedderKind::OpenAi), vars(&[]));
        assert!(matches!(
            config.and_then(EmbedderConfig::build),
            Err(EmbedError::Config { setting: "api_key", .. })
        ));
        // A model whose size is unknown needs NEXUS_EMBED_DIMENSIONS.
        let config = EmbedderConfig::from_vars(
            None,
            vars(&[("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"), ("NEXUS_EMBED_MODEL", "bge-small")]),
        );
        assert!(matches!(
            config.and_then(EmbedderConfig::build),
            Err(EmbedError::Config { setting: "dimensions", .. })
        ));
    }

    #[test]
    fn kind_parses_and_displays() -> Result<()> {
        for kind in [EmbedderKind::OpenAi, EmbedderKind::Local, EmbedderKind::Neural, EmbedderKind::Hashing] {
            assert_eq!(kind.to_string().parse::<EmbedderKind>()?, kind);
        }
        assert!("bert".parse::<EmbedderKind>().is_err());
        Ok(())
    }
}
