//! `nexus-crash-child`: the process the crash suite kills. Opens the store and does mixed,
//! acknowledged writes until killed (see `nexus_crash::workload`).

use std::path::PathBuf;

use clap::Parser;
use nexus_crash::workload::{self, Fault, Workload};

/// Mixed writes into a Nexus store, each acknowledged in a log once committed.
#[derive(Parser)]
struct Args {
    /// The store file (created when missing).
    #[arg(long)]
    db: PathBuf,
    /// The source tree to index (created and changed by the workload).
    #[arg(long)]
    tree: PathBuf,
    /// The acknowledgement log (JSON lines, appended).
    #[arg(long)]
    acks: PathBuf,
    /// Seed of the operation mix.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many operations (default: run until killed).
    #[arg(long)]
    ops: Option<u64>,
    /// A deliberate bug, to show the suite catches it.
    #[arg(long, value_enum)]
    fault: Option<Fault>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let Args { db, tree, acks, seed, ops, fault } = args;
    workload::run(&Workload { db, tree, acks, seed, ops, fault }).await
}
