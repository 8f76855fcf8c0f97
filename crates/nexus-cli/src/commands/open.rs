//! Opening the database for a command: read-only for the reading commands (the file must
//! exist), read-write (created and migrated) for the writing ones, with the embedder that
//! `--embedder` or nexus-embed's environment rule picks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use nexus_db::{Db, DbOptions};
use nexus_embed::{Embedder, EmbedderConfig, EmbedderKind};
use nexus_store::Store;

use crate::args::{EmbedderArg, EmbedderArgs};

/// How a command uses the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads: the file must exist; it is opened read-only (works on a read-only file or
    /// directory and while another process writes). Nothing is migrated: an out-of-date
    /// schema is an error naming the versions.
    ReadOnly,
    /// Writes: the file is created when missing and migrated unless told otherwise.
    ReadWrite {
        /// Apply pending migrations on open.
        migrate: bool,
    },
}

/// A reading command was pointed at a file that does not exist (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("no database at {} (create one with nexus migrate or nexus index)", .0.display())]
pub struct MissingDb(pub PathBuf);

/// The database file a reading command needs, or [`MissingDb`].
pub fn existing_db(path: &Path) -> anyhow::Result<&Path> {
    if path.is_file() { Ok(path) } else { Err(MissingDb(path.to_path_buf()).into()) }
}

/// Opens the database alone (no embedder), for the state commands: read-only (the file must
/// exist) or read-write (created and migrated).
pub async fn open_db(path: &Path, access: Access) -> anyhow::Result<Db> {
    let options = match access {
        Access::ReadOnly => DbOptions::file(existing_db(path)?).read_only(true),
        Access::ReadWrite { migrate } => DbOptions::file(path).run_migrations(migrate),
    };
    Db::open_with(options).await.with_context(|| format!("cannot open {}", path.display()))
}

/// Opens the store at `db` with the embedder `args` chooses: the flag when given, otherwise
/// nexus-embed's rule (`NEXUS_EMBEDDER`, else openai when OpenAI settings are present, else
/// the offline local embedder).
pub async fn open_store(db: &Path, args: EmbedderArgs, access: Access) -> anyhow::Result<Store> {
    if access == Access::ReadOnly {
        existing_db(db)?;
    }
    let (embedder, _) = choose_embedder(args)?;
    let builder = Store::builder(db).embedder(Arc::clone(&embedder));
    let builder = match access {
        Access::ReadOnly => builder.read_only(true),
        Access::ReadWrite { migrate } => builder.run_migrations(migrate),
    };
    builder.open().await.with_context(|| format!("cannot open {}", db.display()))
}

/// The embedder `args` chooses (the flag, else nexus-embed's environment rule), built, and
/// its kind (openai, neural or hashing). When the offline default falls back to the hashing
/// embedder because the neural model is not installed, one line on stderr says how to get it.
pub fn choose_embedder(args: EmbedderArgs) -> anyhow::Result<(Arc<dyn Embedder>, EmbedderKind)> {
    let kind = args.embedder.map(|arg| match arg {
        EmbedderArg::Local => EmbedderKind::Local,
        EmbedderArg::Neural => EmbedderKind::Neural,
        EmbedderArg::Hashing => EmbedderKind::Hashing,
        EmbedderArg::Openai => EmbedderKind::OpenAi,
    });
    let config = EmbedderConfig::from_env_for(kind)?;
    let asked_hashing = kind == Some(EmbedderKind::Hashing)
        || (kind.is_none()
            && std::env::var("NEXUS_EMBEDDER").is_ok_and(|v| v.trim().eq_ignore_ascii_case("hashing")));
    if config.kind() == EmbedderKind::Hashing && !asked_hashing {
        note(&nexus_embed::fetch_hint(nexus_embed::model_dir().as_deref()));
    }
    let kind = config.kind();
    Ok((config.build()?, kind))
}

/// One line of information on stderr (stdout stays the command's output).
#[allow(clippy::print_stderr)]
fn note(line: &str) {
    eprintln!("note: {line}");
}
