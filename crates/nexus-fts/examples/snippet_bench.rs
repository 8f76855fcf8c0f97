//! Snippets on large rows: times `nexus_fts::search` with snippets against one-line code
//! chunks and one-paragraph episodes of growing size, and prints one JSON line.
//!
//! ```sh
//! cargo run --release -p nexus-fts --example snippet_bench            # 128 KiB .. 1 MiB (the write limit)
//! cargo run --release -p nexus-fts --example snippet_bench -- 1048576  # chosen sizes (bytes)
//! ```
//!
//! Each size gets its own database file in a temp dir holding one row of that size (plus a few
//! small rows), so a slow case cannot hold up the next one. A case that takes longer than
//! `NEXUS_BENCH_TIMEOUT_S` (default 120) is reported as `null`.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use nexus_db::{Db, SourceKind, code_chunks, episodes, projects};
use nexus_fts::{FtsQuery, search};
use serde_json::{Map, Value, json};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A one-line code chunk of `bytes` bytes: `return` about every 60 bytes.
fn one_line_code(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 80);
    let mut i = 0u64;
    loop {
        let statement = format!("let v{i} = compute(v{}, limit); if v{i} > 0 {{ return v{i}; }} ", i / 2);
        if text.len() + statement.len() > bytes {
            break;
        }
        text.push_str(&statement);
        i += 1;
    }
    text
}

/// Prose of `bytes` bytes, one paragraph: sentences from a small vocabulary.
fn prose(bytes: usize) -> String {
    const SENTENCES: [&str; 6] = [
        "The agent stored a checkpoint before the retry queue drained. ",
        "Résumé of the decision: totals are kept in cents, never in floats. ",
        "A worker returned the batch to the queue after the lease expired. ",
        "Indexing the repository took longer than the orchestrator expected. ",
        "Naïve caching made the planner skip a retry of the failed step. ",
        "The reviewer asked for smaller commits and a clearer checkpoint format. ",
    ];
    let mut text = String::with_capacity(bytes + 80);
    let mut i = 0;
    while text.len() + SENTENCES[i % SENTENCES.len()].len() <= bytes {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    text
}

async fn timed(db: &Db, query: &FtsQuery, timeout: Duration) -> BenchResult<Value> {
    // Best of three: the first run also warms the page cache.
    let mut best: Option<f64> = None;
    for _ in 0..3 {
        let started = Instant::now();
        let Ok(hits) = tokio::time::timeout(timeout, search(db.reader(), query)).await else {
            return Ok(Value::Null);
        };
        let hits = hits?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let snippet_len = hits.first().and_then(|h| h.snippet.as_ref()).map_or(0, String::len);
        if query.snippet.is_some() && snippet_len == 0 {
            return Err(format!("no snippet for {:?}", query.text).into());
        }
        best = Some(best.map_or(ms, |b: f64| b.min(ms)));
        if ms > 5_000.0 {
            break;
        }
    }
    Ok(best.map_or(Value::Null, |ms| json!((ms * 1e3).round() / 1e3)))
}

async fn case(size: usize, timeout: Duration) -> BenchResult<Map<String, Value>> {
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("bench.db")).await?;
    let p = projects::create(db.writer(), projects::NewProject::new("bench", "/src/bench")).await?;
    let chunk = code_chunks::NewCodeChunk {
        id: None,
        project_id: p.id.clone(),
        file: "src/generated.rs".into(),
        start_line: 1,
        end_line: 1,
        content: one_line_code(size),
        symbols: vec!["compute".into()],
        chunk_type: "function".into(),
        language: "rust".into(),
        complexity: None,
        hash: "big".into(),
        context: None,
        signature: None,
    };
    code_chunks::create(db.writer(), chunk).await?;
    let episode = episodes::NewEpisode::new(&p.id, episodes::EpisodeType::Decision, prose(size));
    episodes::create(db.writer(), episode).await?;
    for i in 0..20 {
        let note = format!("Small note {i}: the checkpoint was restored and the call returned early.");
        episodes::create(
            db.writer(),
            episodes::NewEpisode::new(&p.id, episodes::EpisodeType::Decision, note),
        )
        .await?;
    }

    let code = |text: &str| FtsQuery::new(text).project(&p.id).kinds([SourceKind::CodeChunk]).limit(10);
    let prose_query = |text: &str| FtsQuery::new(text).project(&p.id).kinds([SourceKind::Episode]).limit(10);
    let mut out = Map::new();
    out.insert("bytes".into(), json!(size));
    out.insert("code_return_ms".into(), timed(&db, &code("return"), timeout).await?);
    out.insert("code_return_compute_ms".into(), timed(&db, &code("return compute"), timeout).await?);
    out.insert("code_return_no_snippet_ms".into(), timed(&db, &code("return").snippet(None), timeout).await?);
    out.insert(
        "episode_checkpoint_retry_ms".into(),
        timed(&db, &prose_query("checkpoint retry"), timeout).await?,
    );
    out.insert("episode_queue_ms".into(), timed(&db, &prose_query("queue"), timeout).await?);
    out.insert(
        "episode_queue_no_snippet_ms".into(),
        timed(&db, &prose_query("queue").snippet(None), timeout).await?,
    );
    db.close().await?;
    Ok(out)
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let timeout_s: u64 =
        std::env::var("NEXUS_BENCH_TIMEOUT_S").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    let timeout = Duration::from_secs(timeout_s);
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        // Up to the largest row a write accepts (nexus_db::MAX_CONTENT_BYTES, 1 MiB).
        sizes = vec![128 << 10, 512 << 10, nexus_db::MAX_CONTENT_BYTES];
    }
    let mut cases = Vec::new();
    for size in sizes {
        let result = case(size, timeout).await?;
        println!("{}", Value::Object(result.clone()));
        cases.push(Value::Object(result));
    }
    println!("{}", json!({ "bench": "fts_snippets", "cases": cases }));
    Ok(())
}
