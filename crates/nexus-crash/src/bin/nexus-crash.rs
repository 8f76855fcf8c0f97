//! `nexus-crash`: runs a crash campaign (`cargo xtask crash --kills N`) and prints its summary
//! as JSON on the last line of stdout; exits non-zero when anything was lost or damaged.
// Printing the summary is this program's job.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use nexus_crash::Campaign;

/// SIGKILL a process doing mixed Nexus writes at random points; check the file after each kill.
#[derive(Parser)]
struct Args {
    /// Number of kills.
    #[arg(long, default_value_t = 10)]
    kills: u32,
    /// Seed of the delays and operation mixes (default: from the clock; printed in the summary).
    #[arg(long)]
    seed: Option<u64>,
    /// Working directory (default: a new directory under the system temp dir, removed when the
    /// campaign is clean).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Shortest time a child runs before it is killed, in milliseconds.
    #[arg(long, default_value_t = 20)]
    min_delay_ms: u64,
    /// Longest time a child runs before it is killed, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    max_delay_ms: u64,
    /// The child binary (default: `nexus-crash-child` next to this program).
    #[arg(long)]
    child: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("nexus_crash=info")),
        )
        .init();
    let args = Args::parse();
    let seed = args
        .seed
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
    let child = match args.child {
        Some(child) => child,
        None => std::env::current_exe()?.with_file_name("nexus-crash-child"),
    };
    let temporary = args.dir.is_none();
    let dir = args
        .dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("nexus-crash-{seed}-{}", std::process::id())));
    if temporary && dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let campaign = Campaign {
        child,
        dir: dir.clone(),
        kills: args.kills,
        seed,
        child_args: Vec::new(),
        delay: Duration::from_millis(args.min_delay_ms)..Duration::from_millis(args.max_delay_ms),
    };
    let summary = nexus_crash::run(&campaign).await?;
    println!("{}", serde_json::to_string(&summary)?);
    if !summary.is_clean() {
        bail!("the crash suite found problems; files kept in {}", dir.display());
    }
    if temporary {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}
