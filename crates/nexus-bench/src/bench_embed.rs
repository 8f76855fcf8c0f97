//! `cargo xtask bench embed [--dataset DIR] [--docs N] [--query-runs N] [--no-reference]`:
//! speed of the local neural embedder (all-MiniLM-L6-v2 on the CPU) against the same model in
//! Python, in the same run on the same texts.
//!
//! 1. Embed the first `--docs` SciFact documents (`title + " " + text`, all 5,183 by default)
//!    in one `NeuralEmbedder::embed` call (uncached): documents per second.
//! 2. Embed one 10-word query `--query-runs` times, one call each, after a warm-up: p50/p95.
//! 3. The reference: `scripts/bench-embed-reference.sh`, which installs sentence-transformers
//!    (PyTorch) with pip into a venv under the target directory once, loads the same verified
//!    model files with the same recipe (256 pieces, mean pooling, L2 norm) and times the same
//!    two things. Its vectors are compared with ours (lowest cosine).
//!
//! The last line is one JSON object: `docs`, `docs_per_s`, `reference_docs_per_s`,
//! `query_p50_ms`, `reference_query_p50_ms`, the ratio, and the agreement.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use nexus_embed::{Embedder, NeuralEmbedder};
use serde_json::{Value, json};

use crate::eval::percentile_ms;

/// The query whose latency is measured: ten words.
const QUERY: &str = "does vitamin d deficiency increase the risk of hip fractures";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The SciFact folder (corpus.jsonl) [default: ../shared/eval/scifact beside the workspace].
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Documents to embed (from the start of corpus.jsonl; 0 = all).
    #[arg(long, default_value_t = 0)]
    docs: usize,
    /// Timed single-query calls.
    #[arg(long, default_value_t = 200)]
    query_runs: usize,
    /// Skip the Python reference.
    #[arg(long)]
    no_reference: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let dataset = args.dataset.clone().unwrap_or_else(|| workspace_root().join("../shared/eval/scifact"));
    let corpus = dataset.join("corpus.jsonl");
    let texts = read_docs(&corpus, args.docs)?;
    let Some(model_dir) = nexus_embed::model_dir().filter(|d| nexus_embed::model_present(d)) else {
        bail!("{}", nexus_embed::fetch_hint(nexus_embed::model_dir().as_deref()));
    };
    let started = Instant::now();
    let embedder = NeuralEmbedder::load(&model_dir)?;
    let load = started.elapsed();
    println!(
        "model {} loaded and verified from {} in {:.2} s",
        embedder.model(),
        model_dir.display(),
        load.as_secs_f64()
    );

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let vectors = embedder.embed(&refs).await?;
    let seconds = started.elapsed().as_secs_f64();
    let docs_per_s = texts.len() as f64 / seconds;
    println!("nexus   {} docs in {seconds:.1} s: {docs_per_s:.1} docs/s", texts.len());

    for _ in 0..5 {
        embedder.embed(&[QUERY]).await?;
    }
    let mut latencies = Vec::with_capacity(args.query_runs);
    for _ in 0..args.query_runs {
        let started = Instant::now();
        embedder.embed(&[QUERY]).await?;
        latencies.push(started.elapsed());
    }
    let (p50, p95) = (percentile_ms(&latencies, 0.5), percentile_ms(&latencies, 0.95));
    println!("nexus   one 10-word query: p50 {p50:.2} ms, p95 {p95:.2} ms");

    let mut summary = json!({
        "model": embedder.model(),
        "docs": texts.len(),
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "docs_seconds": round(seconds),
        "docs_per_s": round(docs_per_s),
        "query_p50_ms": round(p50),
        "query_p95_ms": round(p95),
        "model_load_s": round(load.as_secs_f64()),
    });
    if !args.no_reference {
        let reference = reference(&corpus, &model_dir, texts.len(), args.query_runs)?;
        let reference_docs_per_s = reference["docs_per_s"].as_f64().unwrap_or(f64::NAN);
        let reference_p50 = reference["query_p50_ms"].as_f64().unwrap_or(f64::NAN);
        let min_cosine = min_cosine(&vectors, Path::new(reference["vectors"].as_str().unwrap_or_default()))?;
        println!(
            "python  {} docs: {reference_docs_per_s:.1} docs/s; one 10-word query p50 {reference_p50:.2} ms ({})",
            texts.len(),
            reference["implementation"].as_str().unwrap_or("?")
        );
        println!("lowest cosine between the two implementations' document vectors: {min_cosine:.5}");
        if let Some(fields) = summary.as_object_mut() {
            fields.insert("reference".into(), reference["implementation"].clone());
            fields.insert("reference_docs_per_s".into(), json!(round(reference_docs_per_s)));
            fields.insert("reference_query_p50_ms".into(), json!(round(reference_p50)));
            fields.insert("docs_per_s_vs_reference".into(), json!(round(docs_per_s / reference_docs_per_s)));
            fields.insert("min_cosine_vs_reference".into(), json!(round(f64::from(min_cosine))));
        }
    }
    println!("{summary}");
    Ok(())
}

/// `(title + " " + text).strip()` of the first `limit` documents (all when 0).
fn read_docs(corpus: &Path, limit: usize) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(corpus).with_context(|| format!("reading {}", corpus.display()))?;
    let lines = text.lines().filter(|l| !l.trim().is_empty());
    let lines: Vec<&str> = if limit == 0 { lines.collect() } else { lines.take(limit).collect() };
    lines
        .into_iter()
        .map(|line| {
            let row: Value = serde_json::from_str(line)?;
            let field = |name: &str| row[name].as_str().unwrap_or_default().to_owned();
            Ok(format!("{} {}", field("title"), field("text")).trim().to_owned())
        })
        .collect()
}

/// Runs the Python reference on the same documents; its last stdout line is a JSON object.
fn reference(corpus: &Path, model_dir: &Path, docs: usize, query_runs: usize) -> anyhow::Result<Value> {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let out = target.join("bench-embed");
    let output = Command::new("bash")
        .arg(root.join("scripts/bench-embed-reference.sh"))
        .arg(&out)
        .arg(corpus)
        .arg(model_dir)
        .arg(docs.to_string())
        .arg(query_runs.to_string())
        .arg(QUERY)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running scripts/bench-embed-reference.sh")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("the Python reference failed ({}): {stdout}", output.status);
    }
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("the reference's last line is not JSON: {last}"))
}

/// Lowest cosine between `ours` and the reference's raw float32 vectors, row by row.
fn min_cosine(ours: &[Vec<f32>], reference: &Path) -> anyhow::Result<f32> {
    let bytes = std::fs::read(reference).with_context(|| format!("reading {}", reference.display()))?;
    let theirs: Vec<f32> =
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let dims = ours.first().map_or(0, Vec::len);
    if dims == 0 || theirs.len() != ours.len() * dims {
        bail!("{} holds {} values, expected {} × {dims}", reference.display(), theirs.len(), ours.len());
    }
    Ok(ours
        .iter()
        .zip(theirs.chunks_exact(dims))
        .map(|(a, b)| {
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
            dot / (norm(a) * norm(b))
        })
        .fold(f32::INFINITY, f32::min))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
