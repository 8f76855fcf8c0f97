//! `nexus`: the Nexus storage command line.
//!
//! ```text
//! nexus [--db PATH] migrate    apply pending migrations
//! nexus [--db PATH] health     print the database's health as JSON
//! ```
//! `--db` defaults to `./nexus.db` and can come from `NEXUS_DB`. Errors are one line on
//! stderr and a non-zero exit status.
// A command-line tool's job is to print: stdout for results, stderr for errors.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nexus_db::{Db, DbOptions};

#[derive(Parser)]
#[command(name = "nexus", version, about = "Nexus storage: state, memory and search in one SQLite file")]
struct Cli {
    /// The database file.
    #[arg(long, global = true, env = "NEXUS_DB", default_value = "nexus.db")]
    db: PathBuf,
    /// Do not apply pending migrations when opening the database.
    #[arg(long, global = true)]
    no_migrate: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and print the schema version.
    Migrate,
    /// Print the database's health (pragmas, tables, versions, migrations) as JSON.
    Health,
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexus: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Migrate => {
            let db = Db::open_with(DbOptions::file(&cli.db).run_migrations(false)).await?;
            let version = db.migrate().await?;
            db.close().await?;
            println!("{}", serde_json::json!({ "db": cli.db, "migration_version": version }));
        }
        Command::Health => {
            let db = Db::open_with(DbOptions::file(&cli.db).run_migrations(!cli.no_migrate)).await?;
            let health = db.health().await?;
            db.close().await?;
            println!("{}", serde_json::to_string_pretty(&health)?);
            if !health.healthy {
                anyhow::bail!("database is not healthy (run `nexus migrate`?)");
            }
        }
    }
    Ok(())
}
