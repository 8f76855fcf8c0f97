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
    /// A project's state as STATE.md: show, export, import.
    #[command(subcommand)]
    State(StateCommand),
    /// Checkpoints of a project's state: create, list, diff, restore.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Where to resume a project's work: the latest continue point of each unfinished task.
    Resume(ProjectArgs),
    /// A project's tasks as a table.
    Tasks(TasksArgs),
    /// Agent transcripts: import a JSONL log, show entries.
    #[command(subcommand)]
    Transcript(TranscriptCommand),
    /// Rows and bytes per project and kind of history, and the database's tables and indexes.
    Usage(UsageArgs),
    /// Remove history beyond the given limits (oldest first), in every project.
    Cleanup(CleanupArgs),
    /// Artifacts (logs, diffs, bundles, files) kept beside the database: put, get, list.
    #[command(subcommand)]
    Artifact(ArtifactCommand),
    /// Serve the HTTP API (`/v1`, bearer keys; see docs/server.md) until ctrl-c or SIGTERM.
    Serve(ServeArgs),
    /// Users of the HTTP API and their keys: create, key add|revoke|list.
    #[command(subcommand)]
    User(UserCommand),
    /// Export a project (or every project, --all) to an archive, or as JSON, Markdown or CSV.
    Export(ExportArgs),
    /// Import an archive made by `nexus export`.
    Import(ImportArgs),
    /// Copy the live database and its artifact directory to PATH (then check the copy).
    Backup(BackupArgs),
    /// Check the database and its artifacts (exit 0 healthy, 1 problems found).
    Check(CheckArgs),
    /// Serve memory, code search and project state to MCP clients (stdio, or HTTP with --http).
    Mcp(McpArgs),
}

/// `nexus serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7700")]
    pub addr: String,
    /// Largest request body in bytes (larger ones get 413).
    #[arg(long, default_value_t = 8 << 20)]
    pub body_limit: usize,
    /// Let knowledge URLs on loopback, private and link-local addresses be fetched (refused
    /// by default, so that users cannot reach the server's own network).
    #[arg(long)]
    pub allow_private_urls: bool,
    /// Let projects created over the API have a root directory inside DIR (by default they
    /// get `api://` roots only: checkpoints run git in a project's root).
    #[arg(long, value_name = "DIR")]
    pub projects_dir: Option<std::path::PathBuf>,
    /// Requests without a body (GET, HEAD, DELETE) that run at once; more wait their turn in
    /// arrival order (default: four per core; 0: no limit).
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// The embedder.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
}

/// `nexus user`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print their first API key (shown once).
    Create {
        /// The user's email.
        email: String,
        /// Print `{"user_id", "key"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A user's API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Give a user an existing project, so their keys reach it over `nexus serve` and
    /// `nexus mcp --http` (a project made by the command line has no owner).
    Own {
        /// The user's email.
        email: String,
        /// The project, by name or id.
        project: String,
    },
}

/// `nexus user key`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create another key for a user and print it (shown once).
    Add {
        /// The user's email.
        email: String,
        /// A label for the key.
        #[arg(long)]
        name: Option<String>,
        /// Print `{"user_id", "key_id", "key"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one of a user's keys.
    Revoke {
        /// The user's email.
        email: String,
        /// The key's id (from `nexus user key list`).
        key_id: String,
    },
    /// List a user's keys (ids, prefixes, last use; never the keys).
    List {
        /// The user's email.
        email: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `nexus export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project (name or id); leave out with --all or --history.
    #[arg(required_unless_present_any = ["all", "history"], conflicts_with_all = ["all", "history"])]
    pub project: Option<String>,
    /// Export this user's research history (by email) with --format instead of a project.
    #[arg(long, value_name = "EMAIL", requires = "format", conflicts_with_all = ["all", "tables"])]
    pub history: Option<String>,
    /// Every project of the database in one archive.
    #[arg(long)]
    pub all: bool,
    /// Output file (required for archives; exports for people default to stdout).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Export for people instead of an archive: json, md or csv.
    #[arg(long, value_enum, conflicts_with = "all")]
    pub format: Option<FormatArg>,
    /// Tables for --format (repeatable): tasks, features, requirements, episodes, metrics,
    /// transcripts (default all; csv takes one, default tasks).
    #[arg(long = "table", requires = "format")]
    pub tables: Vec<String>,
}

/// `--format` of `nexus export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// One JSON document.
    Json,
    /// A Markdown report.
    Md,
    /// CSV (RFC 4180) of one table.
    Csv,
}

/// `nexus import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive.
    pub file: PathBuf,
    /// What to do with a project already in the database.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_conflict: ConflictArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--on-conflict` of `nexus import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConflictArg {
    /// Fail; nothing is written.
    Fail,
    /// Leave the existing project alone.
    Skip,
    /// Replace the existing project.
    Replace,
    /// Import under fresh ids, side by side.
    Copy,
}

/// `nexus backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new database file (must not exist); artifacts go to PATH.artifacts.
    pub path: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `nexus check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Fix what is safe (rebuild full-text indexes, drop orphan vectors and files).
    #[arg(long)]
    pub repair: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `nexus usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Only this project (name or id).
    #[arg(long)]
    pub project: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `nexus cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Kinds the limits apply to (repeatable; default: all).
    #[arg(long = "kind", value_enum)]
    pub kinds: Vec<HistoryKindArg>,
    /// Remove rows older than this many days.
    #[arg(long)]
    pub max_age_days: Option<u64>,
    /// Keep at most this many rows per project and kind (the newest).
    #[arg(long)]
    pub max_count: Option<u64>,
    /// Keep at most this many bytes per project and kind (the newest rows that fit).
    #[arg(long)]
    pub max_bytes: Option<u64>,
    /// Report what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A kind of history, for `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryKindArg {
    /// Transcripts and their entries.
    Transcripts,
    /// Checkpoints (manual ones are always kept).
    Checkpoints,
    /// Metrics.
    Metrics,
    /// Episodes.
    Episodes,
    /// Artifacts and their files.
    Artifacts,
}

/// `nexus transcript …`.
#[derive(Debug, Subcommand)]
pub enum TranscriptCommand {
    /// Import a JSONL agent log (one JSON object per line) as a new transcript.
    Import {
        /// The JSONL file.
        file: PathBuf,
        /// The project (name or id).
        #[arg(long)]
        project: String,
        /// The agent whose conversation it is.
        #[arg(long)]
        agent: Option<String>,
        /// Print `{"id", "count"}`.
        #[arg(long)]
        json: bool,
    },
    /// Search transcript entries by text (words, "phrases", prefix*, -excluded, OR).
    Search {
        /// The query.
        query: String,
        /// Only this project (name or id).
        #[arg(long)]
        project: Option<String>,
        /// Only transcripts of this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Only entries of this role (system, user, assistant, tool).
        #[arg(long)]
        role: Option<String>,
        /// Hits to show.
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a transcript's entries in order.
    Show {
        /// The transcript id.
        id: String,
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Entries to print (default: all).
        #[arg(long)]
        limit: Option<u32>,
        /// Keep printing entries as they are appended (until interrupted).
        #[arg(long)]
        follow: bool,
        /// Print `{"entries": [...]}` (each with `seq`, `role`, `content`).
        #[arg(long, conflicts_with = "follow")]
        json: bool,
    },
}

/// A project named by name or id, with `--json`.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project (name or id).
    pub project: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `nexus state …`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print the project's STATE.md (with `--json`: the state as JSON).
    Show(ProjectArgs),
    /// Write the project's STATE.md to a file.
    Export {
        /// The project (name or id).
        project: String,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Apply a (possibly hand-edited) STATE.md: creates the project when the database does not
    /// have it; refused when the project changed since the file was exported, unless --force.
    Import {
        /// The STATE.md file.
        file: PathBuf,
        /// Overwrite changes made since the file was exported.
        #[arg(long)]
        force: bool,
        /// Print the saved state as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `nexus checkpoint …`.
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Take a checkpoint of the project's state.
    Create {
        /// The project (name or id).
        project: String,
        /// Why it is taken.
        #[arg(long)]
        reason: String,
        /// Print the checkpoint (with its `id`) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The project's checkpoints, newest first.
    List(ProjectArgs),
    /// What changed from checkpoint A to checkpoint B (default: the project now).
    Diff {
        /// The earlier checkpoint's id.
        a: String,
        /// The later checkpoint's id (default: the current state).
        b: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make the project's planning state what the checkpoint captured (a safety checkpoint is
    /// taken first).
    Restore {
        /// The checkpoint's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `nexus tasks`.
#[derive(Debug, Args)]
pub struct TasksArgs {
    /// The project (name or id).
    pub project: String,
    /// Only tasks with this status.
    #[arg(long)]
    pub status: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
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
    /// Search the indexed code only (code chunks), with the fusion tuned for code; test and
    /// generated code rank lower.
    #[arg(long)]
    pub code: bool,
    /// Only code chunks of this kind (function, method, struct, test, generated, …); implies
    /// --code. Repeatable.
    #[arg(long = "kind", value_name = "KIND")]
    pub chunk_kinds: Vec<String>,
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

/// `nexus artifact …`.
#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Store a file as an artifact of a project (compressed when it pays, stored once per
    /// project and kind).
    Put {
        /// The file.
        file: PathBuf,
        /// The project (name or id).
        #[arg(long)]
        project: String,
        /// What it is: log, diff, bundle, file or other.
        #[arg(long)]
        kind: nexus_db::artifacts::ArtifactKind,
        /// The name to record (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// The MIME type (default: from the file's extension).
        #[arg(long)]
        content_type: Option<String>,
        /// Print the artifact (with its `id` and `sha256`) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an artifact's original bytes to a file, or to stdout.
    Get {
        /// The artifact's id.
        id: String,
        /// The file to write (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// A project's artifacts, oldest first.
    List {
        /// The project (name or id).
        #[arg(long)]
        project: String,
        /// Only artifacts of this kind.
        #[arg(long)]
        kind: Option<nexus_db::artifacts::ArtifactKind>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `nexus mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// A directory the `index` tool may read (repeatable; default: the current directory).
    #[arg(long = "root", value_name = "DIR")]
    pub roots: Vec<PathBuf>,
    /// Serve streamable HTTP on this address instead of stdio (`PORT` alone binds 127.0.0.1);
    /// every request needs `Authorization: Bearer <key>` (`nexus user key add`).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// The embedder for memory and search.
    #[command(flatten)]
    pub embedder: EmbedderArgs,
    /// Whether to migrate on open.
    #[command(flatten)]
    pub migration: MigrationArgs,
}
