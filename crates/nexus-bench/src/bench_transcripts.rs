//! `cargo xtask bench transcripts [--entries N] [--batch N] [--pages N]`: transcript speed.
//!
//! 1. Append `--entries` entries (agent-log-like text of 100–600 bytes, a tool call every
//!    fifth) to one transcript in batches of `--batch` through `nexus_db::transcripts::append`:
//!    the append rate.
//! 2. Time `--pages` keyset page reads of 100 entries near the start and near the end.
//! 3. Stream every entry (`nexus_transcripts::entries`, pages of 1,000) and sample this
//!    process's resident set size, against its size at rest just before.
//!
//! The last line is one JSON object with the figures.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use nexus_db::Db;
use nexus_db::projects::{self, NewProject};
use nexus_db::transcripts::{self, NewEntry, NewTranscript, Role};
use serde_json::json;

use crate::eval::percentile_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Entries to append.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u32,
    /// Entries per append call.
    #[arg(long, default_value_t = 100)]
    batch: u32,
    /// Page reads to time at each end.
    #[arg(long, default_value_t = 200)]
    pages: u32,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let db = Db::open(scratch.path().join("transcripts.db")).await?;
    let project = projects::create(db.writer(), NewProject::new("bench", "/nonexistent")).await?;
    let transcript = transcripts::create(db.writer(), NewTranscript::new(&project.id)).await?.id;
    let mut rng = fastrand::Rng::with_seed(0x7a5c);
    let words =
        ["cargo", "test", "failed", "assert", "cart", "total", "cents", "retry", "the", "agent", "fixed"];

    let started = Instant::now();
    let batch = args.batch.max(1);
    let mut written = 0u32;
    while written < args.entries {
        let n = batch.min(args.entries - written);
        let entries: Vec<NewEntry> = (0..n)
            .map(|i| {
                let seq = written + i;
                let len = rng.usize(15..90);
                let text: Vec<&str> = (0..len).map(|_| words[rng.usize(..words.len())]).collect();
                let role = [Role::User, Role::Assistant, Role::Assistant, Role::Tool][seq as usize % 4];
                let mut entry = NewEntry::new(role, text.join(" "));
                if seq.is_multiple_of(5) {
                    entry.tool_name = Some("bash".into());
                    entry.tool_call_id = Some(format!("call_{seq}"));
                }
                entry.output_tokens = Some(i64::from(seq % 500));
                entry
            })
            .collect();
        transcripts::append(db.writer(), &transcript, &entries).await?;
        written += n;
    }
    let append = started.elapsed();
    let total = i64::from(args.entries);

    let mut start_pages = Vec::new();
    let mut end_pages = Vec::new();
    for i in 0..args.pages {
        let near_start = i64::from(i % 50) * 100;
        let near_end = (total - 100 - i64::from(i % 50) * 100).max(0);
        for (after, samples) in [(near_start, &mut start_pages), (near_end, &mut end_pages)] {
            let t = Instant::now();
            let page = transcripts::page(db.reader(), &transcript, after, 100).await?;
            samples.push(t.elapsed());
            std::hint::black_box(page);
        }
    }

    let rest = rss_kib();
    let (peak, streamed) = {
        let mut peak = rest;
        let mut streamed = 0u64;
        let mut stream = std::pin::pin!(nexus_transcripts::entries(&db, &transcript, 1_000));
        let started = Instant::now();
        while let Some(entry) = stream.try_next().await? {
            streamed += 1;
            std::hint::black_box(&entry);
            if streamed.is_multiple_of(10_000) {
                peak = peak.max(rss_kib());
            }
        }
        (peak.max(rss_kib()), (streamed, started.elapsed()))
    };
    db.close().await?;

    let p50 = |s: &[Duration]| (percentile_ms(s, 0.5) * 1000.0).round() / 1000.0;
    let append_per_s = (f64::from(args.entries) / append.as_secs_f64()).round();
    let extra_mib = ((peak.saturating_sub(rest)) as f64 / 1024.0 * 10.0).round() / 10.0;
    println!(
        "appended {} entries in {:.1}s ({append_per_s}/s, batches of {batch})",
        args.entries,
        append.as_secs_f64()
    );
    println!("page of 100: p50 {} ms near the start, {} ms near the end", p50(&start_pages), p50(&end_pages));
    println!(
        "streamed {} entries in {:.1}s; RSS {:.1} MiB at rest, +{extra_mib} MiB at peak",
        streamed.0,
        streamed.1.as_secs_f64(),
        rest as f64 / 1024.0
    );
    println!(
        "{}",
        json!({
            "bench": "transcripts",
            "entries": args.entries,
            "batch": batch,
            "append_s": (append.as_secs_f64() * 100.0).round() / 100.0,
            "append_per_s": append_per_s,
            "page_start_p50_ms": p50(&start_pages),
            "page_end_p50_ms": p50(&end_pages),
            "streamed": streamed.0,
            "stream_s": (streamed.1.as_secs_f64() * 100.0).round() / 100.0,
            "rss_at_rest_mib": (rest as f64 / 1024.0 * 10.0).round() / 10.0,
            "stream_extra_rss_mib": extra_mib,
        })
    );
    Ok(())
}

/// This process's resident set size in KiB (`/proc/self/status`; 0 where unavailable).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
