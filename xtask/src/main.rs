//! Project automation, run as `cargo xtask <command>`.
//!
//! * `prepare` — regenerate `.sqlx/` (the offline query data) from scratch: a fresh database,
//!   the migrations, and a check build with the query macros online.
//! * `prepare --check` — the same into a scratch directory, failing if `.sqlx/` differs.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod prepare;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Nexus project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate `.sqlx/` offline query data from a freshly migrated database.
    Prepare {
        /// Do not write `.sqlx/`; fail if it is stale.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { check } => prepare::run(check),
    }
}
