//! `cargo xtask bench state [--sizes TASKS:FEATURES,…] [--runs N]`: project state speed.
//!
//! For each size, a generated project (features with two sub-features each, tasks spread over
//! the features with a dependency on the previous task every third task, a requirement per
//! ten tasks, ten agents holding tasks) is written to a database file, then timed `--runs`
//! times each: `nexus_state::load`, the same load done the naive way (one query per table and
//! per feature, no transaction: the baseline), `checkpoint`, `restore`, STATE.md `export` and
//! `import` (parse and save).
//!
//! The last line is one JSON object for the largest size, with the p50s and the ratio of the
//! naive load to `load`.

use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_db::agents::{self, AgentType, NewAgent};
use nexus_db::checkpoints;
use nexus_db::continue_points;
use nexus_db::features::{self, FeatureFilter, NewFeature};
use nexus_db::projects::{self, NewProject};
use nexus_db::requirements::{self, NewRequirement, RequirementFilter};
use nexus_db::sessions::{self, SessionFilter};
use nexus_db::sub_features::{self, NewSubFeature, SubFeatureFilter};
use nexus_db::tasks::{self, NewTask, TaskFilter};
use nexus_db::{Db, ProjectId, TaskId};
use nexus_state::{CheckpointRequest, SaveMode, markdown};
use serde_json::json;

use crate::eval::percentile_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Project sizes as TASKS:FEATURES, comma-separated.
    #[arg(long, default_value = "1000:100,10000:500")]
    sizes: String,
    /// Timed runs of each operation per size.
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let sizes = parse_sizes(&args.sizes)?;
    let runs = args.runs.max(1);
    println!(
        "{:>7} {:>8} {:>9} {:>10} {:>11} {:>10} {:>10} {:>10}",
        "tasks", "features", "load p50", "naive p50", "checkpoint", "restore", "export md", "import md"
    );
    let mut last = json!({});
    for (task_count, feature_count) in sizes {
        let scratch = tempfile::tempdir()?;
        let db = Db::open(scratch.path().join("state.db")).await?;
        let project = generate(&db, task_count, feature_count).await?;

        let load = time(runs, || async { nexus_state::load(&db, &project).await.map(drop) }).await?;
        let naive = time(runs, || naive_load(&db, &project)).await?;
        let checkpoint = time(runs, || async {
            nexus_state::checkpoint(&db, &project, CheckpointRequest::manual("bench")).await.map(drop)
        })
        .await?;
        let target = checkpoints::latest(db.reader(), &project).await?.context("a checkpoint was taken")?.id;
        let restore = time(runs, || async { nexus_state::restore(&db, &target).await.map(drop) }).await?;
        let state = nexus_state::load(&db, &project).await?;
        let export = time(runs, || async {
            std::hint::black_box(markdown::export(&state));
            Ok::<(), nexus_state::StateError>(())
        })
        .await?;
        let text = markdown::export(&state);
        let import =
            time(runs, || async { markdown::import(&db, &text, SaveMode::Force).await.map(drop) }).await?;
        db.close().await?;

        let p50 = |samples: &[Duration]| round2(percentile_ms(samples, 0.5));
        println!(
            "{:>7} {:>8} {:>7.2}ms {:>8.2}ms {:>9.2}ms {:>8.2}ms {:>8.2}ms {:>8.2}ms",
            task_count,
            feature_count,
            p50(&load),
            p50(&naive),
            p50(&checkpoint),
            p50(&restore),
            p50(&export),
            p50(&import)
        );
        last = json!({
            "bench": "state",
            "tasks": task_count,
            "features": feature_count,
            "runs": runs,
            "load_p50_ms": p50(&load),
            "naive_load_p50_ms": p50(&naive),
            "naive_over_load": round2(percentile_ms(&naive, 0.5) / percentile_ms(&load, 0.5).max(1e-9)),
            "checkpoint_p50_ms": p50(&checkpoint),
            "restore_p50_ms": p50(&restore),
            "export_md_p50_ms": p50(&export),
            "import_md_p50_ms": p50(&import),
            "state_md_bytes": text.len(),
        });
    }
    println!("{last}");
    Ok(())
}

fn parse_sizes(text: &str) -> anyhow::Result<Vec<(usize, usize)>> {
    text.split(',')
        .map(|pair| {
            let (tasks, features) = pair.split_once(':').context("a size is TASKS:FEATURES")?;
            Ok((tasks.trim().parse()?, features.trim().parse::<usize>()?.max(1)))
        })
        .collect()
}

async fn time<F, Fut, E>(runs: usize, mut op: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    op().await?; // warm-up
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        op().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// Writes the generated project; returns its id.
async fn generate(db: &Db, task_count: usize, feature_count: usize) -> anyhow::Result<ProjectId> {
    let mut tx = db.begin().await?;
    let project = projects::create(&mut *tx, NewProject::new("bench", "/nonexistent/bench")).await?.id;
    let mut features = Vec::with_capacity(feature_count);
    for f in 0..feature_count {
        let mut new = NewFeature::new(&project, format!("feature {f}"));
        new.description = Some(format!("what feature {f} is for"));
        let feature = features::create(&mut *tx, new).await?;
        for s in 0..2 {
            sub_features::create(&mut *tx, NewSubFeature::new(&feature.id, format!("part {s} of {f}")))
                .await?;
        }
        features.push(feature.id);
    }
    let mut agent_ids = Vec::new();
    for _ in 0..10 {
        agent_ids.push(agents::create(&mut *tx, NewAgent::new(AgentType::Coder)).await?.id);
    }
    let mut previous: Option<TaskId> = None;
    for t in 0..task_count {
        let mut new = NewTask::new(&project, format!("task {t}: implement step {t} of the plan"));
        new.feature_id = Some(features[t % features.len()].clone());
        new.description = Some(format!("details of task {t}"));
        new.tags = vec!["bench".into(), format!("batch-{}", t / 100)];
        new.priority = (t % 5) as i64 + 1;
        if t % 3 == 0
            && let Some(previous) = &previous
        {
            new.depends_on = vec![previous.clone()];
        }
        let task = tasks::create(&mut *tx, new).await?;
        if t % 97 == 0 {
            let agent = &agent_ids[(t / 97) % agent_ids.len()];
            tasks::start(&mut *tx, &task.id, agent).await?;
            agents::assign_task(&mut *tx, agent, &task.id).await?;
        }
        previous = Some(task.id);
        if t % 10 == 0 {
            requirements::create(
                &mut *tx,
                NewRequirement::new(&project, "functional", format!("requirement {t}")),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(project)
}

/// The baseline: the same rows read with one query per table and per feature, each on its
/// own (no transaction, so not even a consistent snapshot).
async fn naive_load(db: &Db, project: &ProjectId) -> Result<(), nexus_db::DbError> {
    let r = db.reader();
    projects::get(r, project).await?;
    let features = features::list(r, project, &FeatureFilter::default()).await?;
    let mut tasks_seen = 0;
    for feature in &features {
        sub_features::list(r, &feature.id, &SubFeatureFilter::default()).await?;
        let filter = TaskFilter { feature_id: Some(feature.id.clone()), ..TaskFilter::default() };
        tasks_seen += tasks::list(r, project, &filter).await?.len();
    }
    std::hint::black_box(tasks_seen);
    requirements::list(r, project, &RequirementFilter::default()).await?;
    agents::list_for_project(r, project).await?;
    sessions::list(r, project, &SessionFilter::default()).await?;
    checkpoints::latest(r, project).await?;
    continue_points::latest_for_unfinished_tasks(r, project).await?;
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
