//! The campaign: spawn the child, let it write for a random time, SIGKILL it, check the file,
//! and again — each child continuing on the same file, tree and ack log.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fastrand::Rng;
use serde::Serialize;
use tracing::{info, warn};

use crate::{ack, verify};

/// Delays of the early kills (see [`Campaign::delay`]).
const EARLY: std::ops::Range<Duration> = Duration::ZERO..Duration::from_millis(40);

/// At most this many problem descriptions are kept in the [`Summary`].
const MAX_PROBLEMS: usize = 20;

/// How to run a campaign.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The `nexus-crash-child` binary.
    pub child: PathBuf,
    /// Working directory: the store file, its tree, the ack log and the children's stderr.
    pub dir: PathBuf,
    /// Number of children to kill.
    pub kills: u32,
    /// Seed of the delays and of the children's operation mixes.
    pub seed: u64,
    /// Extra arguments for every child (such as `--fault ack-before-commit`).
    pub child_args: Vec<String>,
    /// Each child is killed after a delay drawn uniformly from this range — except the first
    /// and one in eight others, drawn from 0–40 ms to land while the child opens the store.
    pub delay: std::ops::Range<Duration>,
}

/// What a campaign found; printed as JSON by `cargo xtask crash`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Children killed with SIGKILL.
    pub kills: u32,
    /// Writes the API acknowledged (lines of the ack log).
    pub acknowledged: usize,
    /// Acknowledged writes by kind (`project`, `episode`, `task`, `index`).
    pub acknowledged_by_kind: BTreeMap<String, usize>,
    /// Kills that came before the child acknowledged anything (while it opened the store, or
    /// during its first write).
    pub kills_before_first_ack: u32,
    /// Acknowledged writes missing after a kill.
    pub lost: usize,
    /// Kills after which an integrity, foreign-key, full-text, vector or code-index check failed.
    pub corrupt: u32,
    /// Children that exited on their own (an error) before being killed.
    pub child_failures: u32,
    /// The seed, to replay.
    pub seed: u64,
    /// Wall time in seconds.
    pub elapsed_secs: f64,
    /// The first problems found (damage, losses, child errors), for the report.
    pub problems: Vec<String>,
}

impl Summary {
    /// True when nothing was lost, damaged or failed.
    pub fn is_clean(&self) -> bool {
        self.lost == 0 && self.corrupt == 0 && self.child_failures == 0
    }
}

/// Runs the campaign and summarises it.
pub async fn run(campaign: &Campaign) -> Result<Summary> {
    let started = Instant::now();
    std::fs::create_dir_all(&campaign.dir).with_context(|| format!("creating {}", campaign.dir.display()))?;
    let db = campaign.dir.join("nexus.db");
    let tree = campaign.dir.join("tree");
    let acks = campaign.dir.join("acks.jsonl");
    let stderr_path = campaign.dir.join("children.log");
    let mut rng = Rng::with_seed(campaign.seed);
    let mut lost = BTreeMap::new();
    let (mut corrupt, mut child_failures, mut kills_before_first_ack) = (0, 0, 0);
    let mut acknowledged = 0;
    let mut problems = Vec::new();
    let mut note = |problem: String| {
        warn!(%problem, "crash suite");
        if problems.len() < MAX_PROBLEMS {
            problems.push(problem);
        }
    };
    for kill in 0..campaign.kills {
        let stderr = OpenOptions::new().create(true).append(true).open(&stderr_path)?;
        let mut child = Command::new(&campaign.child)
            .arg("--db")
            .arg(&db)
            .arg("--tree")
            .arg(&tree)
            .arg("--acks")
            .arg(&acks)
            .arg("--seed")
            .arg(rng.u64(..).to_string())
            .args(&campaign.child_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("spawning {}", campaign.child.display()))?;
        // The first kill, and one in eight after it, comes early: while the child opens (and
        // the first time creates and migrates) the store, or in its first writes.
        let range = if kill == 0 || rng.u8(..8) == 0 { EARLY } else { campaign.delay.clone() };
        let (low, high) = (range.start.as_micros(), range.end.as_micros().max(1));
        let delay = Duration::from_micros(u64::try_from(rng.u128(low.min(high - 1)..high)).unwrap_or(0));
        tokio::time::sleep(delay).await;
        if let Some(status) = child.try_wait()? {
            child_failures += 1;
            note(format!(
                "kill {kill}: the child exited on its own ({status}); see {}",
                stderr_path.display()
            ));
        } else {
            child.kill().context("killing the child")?; // SIGKILL on Unix
            child.wait()?;
        }
        let acked = ack::read(&acks)?;
        if acked.len() == acknowledged {
            kills_before_first_ack += 1;
        }
        acknowledged = acked.len();
        let report = verify::check(&db, &tree, &acked).await?;
        if !report.problems.is_empty() {
            corrupt += 1;
            note(format!("kill {kill} after {delay:?}: {}", report.problems.join("; ")));
        }
        for (n, why) in report.lost {
            if lost.insert(n, why.clone()).is_none() {
                note(format!("kill {kill} after {delay:?}: lost ack #{n}: {why}"));
            }
        }
        info!(kill, ?delay, acknowledged = acked.len(), lost = lost.len(), corrupt, "checked after kill");
    }
    let acked = ack::read(&acks)?;
    let mut acknowledged_by_kind = BTreeMap::new();
    for ack in &acked {
        *acknowledged_by_kind.entry(ack.kind().to_owned()).or_insert(0) += 1;
    }
    Ok(Summary {
        kills: campaign.kills,
        acknowledged: acked.len(),
        acknowledged_by_kind,
        kills_before_first_ack,
        lost: lost.len(),
        corrupt,
        child_failures,
        seed: campaign.seed,
        elapsed_secs: started.elapsed().as_secs_f64(),
        problems,
    })
}
