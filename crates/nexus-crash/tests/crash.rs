//! The crash suite as CI runs it: 10 SIGKILLs of a child doing mixed writes; nothing lost,
//! nothing damaged.
// The campaign's summary is printed for the CI log.
#![allow(clippy::print_stderr)]

use std::time::Duration;

use nexus_crash::{Campaign, workload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kills_lose_nothing_acknowledged_and_damage_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let campaign = Campaign {
        child: env!("CARGO_BIN_EXE_nexus-crash-child").into(),
        dir: dir.path().to_path_buf(),
        kills: 10,
        seed: 19,
        child_args: Vec::new(),
        delay: Duration::from_millis(50)..Duration::from_millis(2000),
    };
    let summary = nexus_crash::run(&campaign).await?;
    eprintln!("{}", serde_json::to_string(&summary)?);
    assert!(summary.acknowledged > 10, "too few writes to mean anything: {summary:?}");
    assert_eq!(summary.child_failures, 0, "{summary:?}");
    assert_eq!(summary.corrupt, 0, "{summary:?}");
    assert_eq!(summary.lost, 0, "{summary:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_finishes_leaves_a_clean_store() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let run = workload::Workload {
        db: dir.path().join("nexus.db"),
        tree: dir.path().join("tree"),
        acks: dir.path().join("acks.jsonl"),
        seed: 5,
        ops: Some(40),
        fault: None,
    };
    workload::run(&run).await?;
    let acks = nexus_crash::ack::read(&run.acks)?;
    assert_eq!(acks.len(), 41, "the project and 40 operations");
    let report = nexus_crash::verify::check(&run.db, &run.tree, &acks).await?;
    assert!(report.is_clean(), "{report:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_see_losses_and_damage() -> anyhow::Result<()> {
    use nexus_crash::ack::{Ack, AckLog};
    let dir = tempfile::tempdir()?;
    let run = workload::Workload {
        db: dir.path().join("nexus.db"),
        tree: dir.path().join("tree"),
        acks: dir.path().join("acks.jsonl"),
        seed: 11,
        ops: Some(60),
        fault: None,
    };
    workload::run(&run).await?;
    AckLog::open(&run.acks)?.append(&Ack::Episode { id: "never-written".into(), hash: "0".into() })?;
    let db = nexus_db::Db::open(&run.db).await?;
    sqlx::query("UPDATE tasks SET status = 'pending' WHERE status = 'completed'")
        .execute(db.writer())
        .await?;
    sqlx::query("DELETE FROM vector_keys WHERE kind = 'episode' AND key = (SELECT min(key) FROM vector_keys WHERE kind = 'episode')")
        .execute(db.writer())
        .await?;
    sqlx::query("UPDATE indexed_files SET chunks = chunks + 1").execute(db.writer()).await?;
    db.close().await?;

    let acks = nexus_crash::ack::read(&run.acks)?;
    let report = nexus_crash::verify::check(&run.db, &run.tree, &acks).await?;
    let lost: Vec<&String> = report.lost.values().collect();
    assert!(lost.iter().any(|why| why.contains("never-written")), "{lost:?}");
    assert!(lost.iter().any(|why| why.contains("is pending, acknowledged completed")), "{lost:?}");
    let problems = report.problems.join("\n");
    assert!(problems.contains("episodes rows without a vector"), "{problems}");
    assert!(problems.contains("chunk count is wrong"), "{problems}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_acknowledged_before_its_commit_is_caught() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let campaign = Campaign {
        child: env!("CARGO_BIN_EXE_nexus-crash-child").into(),
        dir: dir.path().to_path_buf(),
        kills: 10,
        seed: 23,
        child_args: vec!["--fault".into(), "ack-before-commit".into()],
        delay: Duration::from_millis(100)..Duration::from_millis(800),
    };
    let summary = nexus_crash::run(&campaign).await?;
    eprintln!("{}", serde_json::to_string(&summary)?);
    assert!(summary.lost > 0, "the suite missed acknowledged-but-uncommitted writes: {summary:?}");
    assert!(summary.problems.iter().any(|p| p.contains("task") && p.contains("missing")), "{summary:?}");
    assert_eq!(summary.corrupt, 0, "{summary:?}");
    Ok(())
}
