//! `nexus`: the Nexus storage command line.
//!
//! ```text
//! nexus [--db PATH] [--embedder local|openai] <command>
//!   migrate                 apply pending migrations
//!   health                  the database's health as JSON
//!   index PATH [--project NAME]
//!                           index a source tree (incremental; progress bar on a terminal)
//!   search QUERY [--project NAME] [--mode hybrid|fts|vector] [--limit N] [--explain] [--json]
//!   stats                   rows, index sizes, vector collection
//!   demo                    index this repository and run three example searches
//! ```
//! `--db` defaults to `./nexus.db` (or `NEXUS_DB`). Errors are one line on stderr and a
//! non-zero exit status.
// A command-line tool's job is to print: stdout for results, stderr for errors.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `println!` that returns the write error instead of panicking, so a closed pipe
/// (`nexus search x | head -1`) ends the command quietly (see `main`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "nexus", version, about = "Nexus storage: state, memory and search in one SQLite file")]
struct Cli {
    /// The database file.
    #[arg(long, global = true, env = "NEXUS_DB", default_value = "nexus.db")]
    db: PathBuf,
    /// Do not apply pending migrations when opening the database.
    #[arg(long, global = true)]
    no_migrate: bool,
    /// Which embedder turns text into vectors: the offline default, or an OpenAI-compatible
    /// server (OPENAI_API_KEY, OPENAI_BASE_URL, NEXUS_EMBED_MODEL, NEXUS_EMBED_DIMENSIONS).
    #[arg(long, global = true, env = "NEXUS_EMBEDDER", value_enum, default_value = "local")]
    embedder: EmbedderArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EmbedderArg {
    /// Deterministic local hashing embedder: no network, no key.
    Local,
    /// An OpenAI-compatible embeddings endpoint.
    Openai,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Keyword and vector search fused with RRF.
    Hybrid,
    /// Keyword search only.
    Fts,
    /// Vector search only.
    Vector,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and print the schema version.
    Migrate,
    /// Print the database's health (pragmas, tables, versions, migrations) as JSON.
    Health,
    /// Index a source tree into a project (created when missing); re-runs are incremental.
    Index {
        /// The directory to index.
        path: PathBuf,
        /// The project's name (default: the directory's name).
        #[arg(long)]
        project: Option<String>,
    },
    /// Search indexed code and memory.
    Search {
        /// The query (words, "phrases", prefix*, -excluded, OR).
        query: String,
        /// Only this project (by name).
        #[arg(long)]
        project: Option<String>,
        /// Which legs to run.
        #[arg(long, value_enum, default_value = "hybrid")]
        mode: ModeArg,
        /// Hits to show.
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// Show each hit's per-leg ranks, scores and contributions.
        #[arg(long)]
        explain: bool,
        /// Print one JSON object with a `hits` array.
        #[arg(long)]
        json: bool,
    },
    /// Rows per table, full-text index sizes and the vector collection, as JSON.
    Stats,
    /// Index this repository's code and docs and run three example searches.
    Demo,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("NEXUS_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nexus: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.is::<commands::MissingDb>() => {
            eprintln!("nexus: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("nexus: {}", output::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// True when the error is stdout's reader having gone away: not a failure of the command.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
