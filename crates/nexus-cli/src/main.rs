//! `nexus`: the Nexus storage command line.
//!
//! ```text
//! nexus [--db PATH] <command>
//!   migrate                 apply pending migrations (creating the file when missing)
//!   health                  the database's health and the embedder in use, as JSON
//!   index PATH [--project NAME] [--embedder local|neural|hashing|openai] [--no-migrate]
//!                           index a source tree (incremental; progress bar on a terminal)
//!   search QUERY [--project NAME] [--mode hybrid|fts|vector] [--limit N] [--explain] [--json]
//!                [--embedder local|neural|hashing|openai]
//!                           hybrid shows the RRF score, fts the BM25 score, vector the distance
//!   stats [--json] [--embedder local|neural|hashing|openai]
//!                           rows per table, full-text index sizes, vector collection
//!   demo [--embedder local|neural|hashing|openai]
//!                           index this repository and run three example searches
//!   state show|export|import  a project's STATE.md (show PROJECT, export PROJECT -o FILE,
//!                           import FILE [--force])
//!   checkpoint create|list|diff|restore
//!                           create PROJECT --reason TEXT, list PROJECT, diff A [B], restore ID
//!   resume PROJECT          the latest continue point of each unfinished task
//!   tasks PROJECT [--status S]  the project's tasks as a table
//!   transcript import FILE.jsonl --project P [--agent A] | show ID [--after N] [--limit N] [--follow]
//!   usage [--project P]     rows and bytes per project and kind, tables and indexes
//!   cleanup [--kind K]... [--max-age-days N] [--max-count N] [--max-bytes N] [--dry-run]
//!   artifact put|get|list   put FILE --project P --kind K [--json], get ID [-o FILE],
//!                           list --project P [--kind K] [--json]
//!   serve [--addr HOST:PORT] [--body-limit BYTES] [--allow-private-urls]
//!                           the HTTP API (default 127.0.0.1:7700)
//!   user create EMAIL [--json] | key add EMAIL [--name N] [--json] | key revoke EMAIL KEY_ID
//!        | key list EMAIL [--json]   users of the HTTP API and their keys
//!   export PROJECT -o FILE.nexus | --all -o FILE.nexus | PROJECT --format json|md|csv [--table T]...
//!        | --history EMAIL --format json|md|csv   a user's research history
//!   import FILE.nexus [--on-conflict fail|skip|replace|copy]
//!   backup PATH             a checked copy of the live database (and PATH.artifacts)
//!   check [--repair]        integrity, foreign keys, FTS, vectors, artifacts; exit 1 on problems
//!   mcp [--root DIR]... [--http ADDR] [--embedder ...]
//!                           serve memory, search and state over MCP (stdio; HTTP with --http)
//! ```
//! A project is named by name or id; the state commands print text, or JSON with `--json`.
//! `--db` (any position) defaults to `./nexus.db` (or `NEXUS_DB`). Without `--embedder`,
//! nexus-embed's rule picks the embedder: `NEXUS_EMBEDDER`, else `openai` when
//! `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else the offline `local` one: `neural`
//! (all-MiniLM-L6-v2) when its model files are installed, else `hashing`, with one line on
//! stderr saying how to get the model.
//!
//! search, stats, health, state show/export, checkpoint list/diff, resume, tasks and artifact get/list only read: they open the file read-only and, when it does not
//! exist, say so and exit with status 2. Other errors are one line on stderr and status 1;
//! usage errors are clap's, status 2. A closed stdout (`nexus search x | head -1`) ends the
//! command quietly with status 0.
//!
//! Layout: [`args`] (the clap types), `commands/<name>.rs` (one per subcommand, opening the
//! database through `commands/open.rs`), [`output`] (printing); this file parses, dispatches
//! and maps errors to the exit status.
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

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::commands::open::MissingDb;

fn main() -> ExitCode {
    // Before any thread allocates: the neural embedder's tensors are reused, not re-mapped.
    nexus_embed::tune_allocator();
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.is::<MissingDb>() => {
            eprintln!("nexus: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("nexus: {}", output::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Runs the subcommand.
async fn run(cli: Cli) -> anyhow::Result<()> {
    let db = cli.db.as_path();
    match &cli.command {
        Command::Migrate => commands::migrate::run(db).await,
        Command::Health => commands::health::run(db).await,
        Command::Index(args) => commands::index::run(db, args).await,
        Command::Search(args) => commands::search::run(db, args).await,
        Command::Stats(args) => commands::stats::run(db, args).await,
        Command::Demo(args) => commands::demo::run(db, args).await,
        Command::State(command) => commands::state::run(db, command).await,
        Command::Checkpoint(command) => commands::checkpoint::run(db, command).await,
        Command::Resume(args) => commands::resume::run(db, args).await,
        Command::Tasks(args) => commands::tasks::run(db, args).await,
        Command::Transcript(command) => commands::transcript::run(db, command).await,
        Command::Usage(args) => commands::usage::run(db, args).await,
        Command::Cleanup(args) => commands::cleanup::run(db, args).await,
        Command::Artifact(command) => commands::artifact::run(db, command).await,
        Command::Serve(args) => commands::serve::run(db, args).await,
        Command::User(command) => commands::user::run(db, command).await,
        Command::Export(args) => commands::export::run(db, args).await,
        Command::Import(args) => commands::import::run(db, args).await,
        Command::Backup(args) => commands::backup::run(db, args).await,
        Command::Check(args) => commands::check::run(db, args).await,
        Command::Mcp(args) => commands::mcp::run(db, args).await,
    }
}

/// True when the error is stdout's reader having gone away: not a failure of the command.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
