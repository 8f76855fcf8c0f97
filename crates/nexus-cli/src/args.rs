//! The command line's shape: clap types only, no behaviour.
//!
//! `--db` is the one flag every subcommand uses, so it is global. The others are grouped
//! ([`EmbedderArgs`], [`MigrationArgs`]) and flattened into the subcommands they affect, so a
//! subcommand that would ignore a flag rejects it instead.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `nexus`: the parsed command line.
#[derive(Debug, Parser)]
#[command(name = "nexus", version, about = "Nexus storage: state, memory and search in one SQLite file")]
pub struct Cli {
    /// The database file.
    #[arg(long, global = true, env = "NEXUS_DB", default_value = "nexus.db")]
    pub db: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations (creating the file when missing) and print the schema version.
    Migrate,
    /// Print the database's health (pragmas, tables, versions, migrations) as JSON.
    Health,
    /// Index a source tree into a project (created when missing); re-runs are incremental.
    Index(IndexArgs),
    /// Search indexed code and memory.
    Search(SearchArgs),
    /// Rows per table, full-text index sizes and the vector collection.
    Stats(StatsArgs),
    /// Index this repository's code and docs and run three example searches.
    Demo(DemoArgs),
}

/// The embedder choice, for the subcommands that embed text or read a vector collection.
#[derive(Debug, Clone, Copy, Args)]
pub struct EmbedderArgs {
    /// Which embedder turns text into vectors [default: from the environment, see --help].
    ///
    /// Without this flag: NEXUS_EMBEDDER, else `openai` when OPENAI_API_KEY or OPENAI_BASE_URL
    /// is set, else `local`. `local` is the offline default: `neural` when its model files are
    /// in the model cache (NEXUS_MODEL_DIR; scripts/fetch-model.sh fetches them), else
    /// `hashing`. `openai` calls an OpenAI-compatible server (OPENAI_API_KEY, OPENAI_BASE_URL,
    /// NEXUS_EMBED_MODEL, NEXUS_EMBED_DIMENSIONS).
    #[arg(long, value_enum)]
    pub embedder: Option<EmbedderArg>,
}

/// Migration control, for the subcommands that open the database for writing.
#[derive(Debug, Clone, Copy, Args)]
pub struct MigrationArgs {
    /// Do not apply pending migrations when opening the database.
    #[arg(long)]
    pub no_migrate: bool,
}

/// `nexus index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The directory to index.
    pub path: PathBuf,
    /// The project's name (default: the directory's name).
    #[arg(long)]
    pub project: Option<String>,
    /// The embedder for the chunks' vectors.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
    /// Whether to migrate on open.
    #[command(flatten)]
    pub migration: MigrationArgs,
}

/// `nexus search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (words, "phrases", prefix*, -excluded, OR).
    pub query: String,
    /// Only this project (by name).
    #[arg(long)]
    pub project: Option<String>,
    /// Which legs to run; the score shown is that mode's (rrf, bm25 or distance).
    ///
    /// hybrid shows the fused RRF value, fts the BM25 score (higher is better), vector the
    /// cosine distance (lower is better).
    #[arg(long, value_enum, default_value = "hybrid")]
    pub mode: ModeArg,
    /// Hits to show.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Show each hit's per-leg ranks, scores and contributions.
    #[arg(long)]
    pub explain: bool,
    /// Print one JSON object with a `hits` array.
    #[arg(long)]
    pub json: bool,
    /// The embedder for the query text.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
}

/// `nexus stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print the figures as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// The embedder whose vector collection is reported.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
}

/// `nexus demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The embedder for the chunks and the queries.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
}

/// The `--embedder` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedderArg {
    /// The offline default: `neural` when its model files are present, else `hashing`.
    Local,
    /// all-MiniLM-L6-v2 on the CPU (its files must be in the model cache).
    Neural,
    /// Deterministic hashing embedder: no network, no key, no model files.
    Hashing,
    /// An OpenAI-compatible embeddings endpoint.
    Openai,
}

/// The `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Keyword and vector search fused with RRF.
    Hybrid,
    /// Keyword search only.
    Fts,
    /// Vector search only.
    Vector,
}

impl ModeArg {
    /// The name used on the command line and in `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Fts => "fts",
            Self::Vector => "vector",
        }
    }
}
