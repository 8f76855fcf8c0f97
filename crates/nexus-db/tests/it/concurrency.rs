//! Many writers and many readers on one file: no write ever sees SQLITE_BUSY, every write lands.
// The test reports its measured throughput on stderr.
#![allow(clippy::print_stderr)]

use std::time::Instant;

use nexus_db::{Db, DbError, episodes, projects};

const WRITERS: usize = 16;
const READERS: usize = 16;
const WRITES_PER_TASK: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_and_sixteen_readers_never_see_busy() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("busy.db")).await?;
    let project = projects::create(db.writer(), projects::NewProject::new("load", "/load")).await?;

    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (db, project_id) = (db.clone(), project.id.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..WRITES_PER_TASK {
                let content = format!("writer {w} episode {i}");
                if i % 2 == 0 {
                    // Plain autocommit writes through the writer pool...
                    let new =
                        episodes::NewEpisode::new(&project_id, episodes::EpisodeType::Research, content);
                    episodes::create(db.writer(), new).await?;
                } else {
                    // ...and multi-statement write transactions.
                    let project_id = project_id.clone();
                    db.transaction(|tx| {
                        Box::pin(async move {
                            let new = episodes::NewEpisode::new(
                                &project_id,
                                episodes::EpisodeType::Decision,
                                content,
                            );
                            let e = episodes::create(&mut *tx, new).await?;
                            episodes::record_access(&mut *tx, &e.id).await?;
                            Ok::<_, DbError>(())
                        })
                    })
                    .await?;
                }
            }
            Ok::<_, DbError>(())
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (db, project_id) = (db.clone(), project.id.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0usize;
            let mut last_seen = 0i64;
            while last_seen < (WRITERS * WRITES_PER_TASK) as i64 {
                let seen = episodes::count(db.reader(), &project_id).await?;
                assert!(seen >= last_seen, "a reader never sees the count go backwards");
                last_seen = seen;
                reads += 1;
                tokio::task::yield_now().await;
            }
            Ok::<_, DbError>(reads)
        }));
    }

    let mut errors = Vec::new();
    for handle in writers {
        if let Err(e) = handle.await? {
            errors.push(e);
        }
    }
    let write_elapsed = started.elapsed();
    let mut total_reads = 0;
    for handle in readers {
        match handle.await? {
            Ok(reads) => total_reads += reads,
            Err(e) => errors.push(e),
        }
    }
    let busy = errors.iter().filter(|e| e.is_busy()).count();
    assert!(errors.is_empty(), "{} errors ({busy} busy), first: {:?}", errors.len(), errors.first());

    let total = WRITERS * WRITES_PER_TASK;
    assert_eq!(episodes::count(db.reader(), &project.id).await?, total as i64, "every write is there");
    let accessed: i64 =
        sqlx::query_scalar("SELECT SUM(access_count) FROM episodes").fetch_one(db.reader()).await?;
    assert_eq!(accessed, (total / 2) as i64, "every transaction's second statement is there");
    eprintln!(
        "concurrency: {total} writes by {WRITERS} tasks in {:.2?} ({:.0} writes/s), {total_reads} reads by {READERS} tasks, 0 busy errors",
        write_elapsed,
        total as f64 / write_elapsed.as_secs_f64()
    );
    db.close().await?;
    Ok(())
}
