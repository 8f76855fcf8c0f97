//! `cargo xtask eval --dataset DIR --mode fts|vector|hybrid --out RUN.trec [options]`:
//! retrieval quality of Nexus search on a dataset in the BEIR layout.
//!
//! 1. Load the corpus into a fresh database file through the public API ([`ingest`]): one
//!    episode per document and, for the vector modes, its vector — the dataset's own
//!    (`--embedder provided`, the default) or an offline embedder's (`--embedder neural`,
//!    `hashing`, or `local`: whichever is the offline default). With `neural` and a dataset
//!    that has vectors, every computed vector is compared with the provided one (lowest
//!    cosine reported).
//! 2. Run every query of the chosen qrels split through `nexus_search::search` in the chosen
//!    mode ([`queries`]), timing each.
//! 3. Write a TREC run (top `--top` per query) and score it with [`metrics`], which mirrors
//!    `evaluate.py` of the shared evaluation tools; print the metrics and latency, the last
//!    line as one JSON object.

mod agreement;
mod dataset;
mod embeddings;
mod ingest;
mod metrics;
mod queries;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_db::Db;
use nexus_embed::{Embedder, EmbedderConfig, EmbedderKind};
use nexus_search::{Fusion, Weights};
use nexus_vector::{Collection, CollectionSpec, Metric};

use dataset::{Dataset, Split};
use embeddings::Vectors;
use ingest::DocVectors;
use queries::QueryPlan;

/// Search modes the harness can evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Keyword search only (nexus-fts, BM25).
    Fts,
    /// Vector search only (nexus-vector, exact cosine KNN).
    Vector,
    /// Both legs fused (nexus-search).
    Hybrid,
}

/// How plain query words combine in the keyword leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchArg {
    /// A document needs any of the words.
    Any,
    /// A document needs all of the words.
    All,
}

/// The fusion method of hybrid mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FusionArg {
    /// Reciprocal rank fusion (`--rrf-k`, weights).
    Rrf,
    /// Min-max normalised scores (weights).
    Minmax,
    /// Distribution-based normalised scores (weights).
    Dbsf,
}

/// Where vectors come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbedderArg {
    /// The dataset's `doc-embeddings.f32` / `query-embeddings.f32`.
    Provided,
    /// The offline default: `neural` when its model files are installed, else `hashing`.
    Local,
    /// The local neural embedder (nexus-embed `NeuralEmbedder`, all-MiniLM-L6-v2).
    Neural,
    /// The hashing embedder (nexus-embed `LocalEmbedder`).
    Hashing,
}

impl EmbedderArg {
    /// The nexus-embed provider, `None` for the provided vectors.
    fn kind(self) -> Option<EmbedderKind> {
        match self {
            Self::Provided => None,
            Self::Local => Some(EmbedderKind::Local),
            Self::Neural => Some(EmbedderKind::Neural),
            Self::Hashing => Some(EmbedderKind::Hashing),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Dataset directory (corpus.jsonl, queries.jsonl, qrels-*.tsv, and for vector modes
    /// doc-ids.txt, doc-embeddings.f32, query-ids.txt, query-embeddings.f32).
    #[arg(long)]
    dataset: PathBuf,
    /// Search mode to evaluate.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Where to write the TREC run file.
    #[arg(long)]
    out: PathBuf,
    /// Which judgments (and queries) to use; tune on train, report test.
    #[arg(long, value_enum, default_value = "test")]
    qrels: Split,
    /// Results kept per query.
    #[arg(long, default_value_t = 100)]
    top: u32,
    /// How plain words combine in the keyword leg.
    #[arg(long = "match", value_enum, default_value = "any")]
    match_mode: MatchArg,
    /// Fusion method (hybrid mode).
    #[arg(long, value_enum, default_value = "rrf")]
    fusion: FusionArg,
    /// RRF rank constant.
    #[arg(long, default_value_t = 60.0)]
    rrf_k: f64,
    /// Weight of the keyword leg.
    #[arg(long, default_value_t = 1.0)]
    w_fts: f64,
    /// Weight of the vector leg [default: the store's default for the embedder: 1, or
    /// nexus-store's lower weight for the hashing embedder].
    #[arg(long)]
    w_vector: Option<f64>,
    /// Candidates per leg (at least --top).
    #[arg(long, default_value_t = 100)]
    candidates: u32,
    /// Where vectors come from.
    #[arg(long, value_enum, default_value = "provided")]
    embedder: EmbedderArg,
    /// Keep the embedder's vectors in this Nexus database (nexus-embed's persistent cache), so
    /// a second run with the same embedder (another mode, the other split) embeds nothing.
    #[arg(long)]
    embed_cache: Option<PathBuf>,
}

impl EvalArgs {
    /// The fusion asked for; the vector weight defaults to what the store uses with `model`.
    fn fusion(&self, model: &str) -> Fusion {
        let default = match nexus_store::default_fusion(model) {
            Fusion::Rrf { weights, .. } | Fusion::MinMax { weights } | Fusion::Distribution { weights } => {
                weights
            }
        };
        let weights = Weights { fts: self.w_fts, vector: self.w_vector.unwrap_or(default.vector) };
        match self.fusion {
            FusionArg::Rrf => Fusion::Rrf { k: self.rrf_k, weights },
            FusionArg::Minmax => Fusion::MinMax { weights },
            FusionArg::Dbsf => Fusion::Distribution { weights },
        }
    }

    /// The run's tag; `model` names the vectors (the embedder's model, or `provided`).
    fn tag(&self, model: &str) -> String {
        let mut tag = match self.mode {
            Mode::Fts => format!("nexus-fts-{:?}", self.match_mode),
            Mode::Vector => "nexus-vector".to_owned(),
            Mode::Hybrid => format!("nexus-hybrid-{:?}", self.fusion),
        };
        if self.mode != Mode::Fts {
            tag.push_str(&format!("-{model}"));
        }
        tag.to_lowercase()
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    run_returning(args).map(|_| ())
}

/// Runs the evaluation and returns the mean metrics.
fn run_returning(args: EvalArgs) -> anyhow::Result<metrics::Metrics> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(evaluate(args))
}

async fn evaluate(args: EvalArgs) -> anyhow::Result<metrics::Metrics> {
    let dataset = Dataset::load(&args.dataset, args.qrels)
        .with_context(|| format!("loading dataset {}", args.dataset.display()))?;
    let scratch = tempfile::tempdir()?;
    let db = Db::open(scratch.path().join("eval.db")).await?;
    let wants_vectors = args.mode != Mode::Fts;
    let cache = match &args.embed_cache {
        Some(path) if wants_vectors && args.embedder != EmbedderArg::Provided => Some(Db::open(path).await?),
        _ => None,
    };
    let embedder: Option<Arc<dyn Embedder>> = match (args.embedder.kind(), &cache) {
        (Some(kind), Some(cache)) if wants_vectors => {
            Some(EmbedderConfig::from_env_for(Some(kind))?.build_cached(cache.clone())?)
        }
        (Some(kind), None) if wants_vectors => Some(EmbedderConfig::from_env_for(Some(kind))?.build()?),
        _ => None,
    };
    let (doc_vectors, query_vectors) = match (wants_vectors, &embedder) {
        (true, None) => {
            (Some(Vectors::load(&args.dataset, "doc")?), Some(Vectors::load(&args.dataset, "query")?))
        }
        _ => (None, None),
    };
    let model = embedder.as_ref().map_or_else(|| "provided".to_owned(), |e| e.model().to_owned());
    let collection = if wants_vectors {
        let dimensions = match (&doc_vectors, &embedder) {
            (Some(v), _) => v.dimensions,
            (None, Some(e)) => e.dimensions(),
            (None, None) => 0,
        };
        let spec = CollectionSpec::new("eval", model.clone(), dimensions, Metric::Cosine);
        Some(Collection::open_or_create(&db, &spec).await?)
    } else {
        None
    };
    let source = match (&doc_vectors, &embedder) {
        (Some(v), _) => DocVectors::Provided(v),
        (None, Some(e)) => DocVectors::Embedded(e.as_ref()),
        (None, None) => DocVectors::None,
    };

    let started = Instant::now();
    let loaded = ingest::load_corpus(&db, &dataset, collection.as_ref(), source).await?;
    let project = loaded.project;
    println!("loaded {} documents in {:.1} s", dataset.documents.len(), started.elapsed().as_secs_f64());
    let agreement = match (&embedder, &loaded.vectors) {
        (Some(e), Some(vectors)) if e.model() == nexus_embed::NEURAL_MODEL => {
            agreement::with_provided(&args.dataset, &dataset, vectors, e.as_ref()).await?
        }
        _ => None,
    };
    if let Some(a) = &agreement {
        println!("agreement with the provided vectors: {a}");
    }

    let plan = QueryPlan {
        project: &project,
        mode: match args.mode {
            Mode::Fts => nexus_search::Mode::FtsOnly,
            Mode::Vector => nexus_search::Mode::VectorOnly,
            Mode::Hybrid => nexus_search::Mode::Hybrid,
        },
        fusion: args.fusion(&model),
        candidates: args.candidates,
        top: args.top,
        match_mode: match args.match_mode {
            MatchArg::Any => nexus_fts::MatchMode::Any,
            MatchArg::All => nexus_fts::MatchMode::All,
        },
        collection: collection.as_ref(),
        query_vectors: query_vectors.as_ref(),
        embedder: embedder.as_deref(),
    };
    let (results, latencies) = queries::run_queries(&db, &dataset, &plan).await?;
    db.close().await?;
    if let (Some(embedder), Some(cache)) = (&embedder, cache) {
        embedder.flush().await?;
        cache.close().await?;
    }
    let tag = args.tag(&model);

    metrics::write_run(&args.out, &results, &tag)?;
    let run = metrics::read_run(&args.out)?;
    let (mean, queries, missing) = metrics::evaluate(&run, &dataset.qrels);
    let (p50, p95) = (percentile_ms(&latencies, 0.50), percentile_ms(&latencies, 0.95));
    println!("run written to {}", args.out.display());
    println!("queries={queries} missing_from_run={missing}");
    println!(
        "nDCG@10\t{:.4}\nRecall@10\t{:.4}\nRecall@100\t{:.4}\nMRR@10\t{:.4}",
        mean.ndcg_10, mean.recall_10, mean.recall_100, mean.mrr_10
    );
    println!("latency p50 {p50:.3} ms, p95 {p95:.3} ms");
    let summary = serde_json::json!({
        "dataset": args.dataset.display().to_string(),
        "mode": tag,
        "qrels": args.qrels.name(),
        "fusion": format!("{:?}", plan.fusion),
        "candidates": args.candidates,
        "queries": queries,
        "missing_from_run": missing,
        "ndcg@10": round4(mean.ndcg_10),
        "recall@10": round4(mean.recall_10),
        "recall@100": round4(mean.recall_100),
        "mrr@10": round4(mean.mrr_10),
        "latency_p50_ms": round4(p50),
        "latency_p95_ms": round4(p95),
        "min_cosine_to_provided": agreement.map(|a| round4(f64::from(a.min_doc.min(a.min_query)))),
    });
    println!("{summary}");
    Ok(mean)
}

/// Nearest-rank percentile of `samples`, in milliseconds.
pub fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn args(dataset: &Path, out: &Path, qrels: Split) -> EvalArgs {
        EvalArgs {
            dataset: dataset.to_path_buf(),
            mode: Mode::Fts,
            out: out.to_path_buf(),
            qrels,
            top: 100,
            match_mode: MatchArg::Any,
            fusion: FusionArg::Rrf,
            rrf_k: 60.0,
            w_fts: 1.0,
            w_vector: None,
            candidates: 100,
            embedder: EmbedderArg::Provided,
            embed_cache: None,
        }
    }

    #[test]
    fn any_directory_of_the_layout_is_evaluated_end_to_end() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let doc = |id: &str, title: &str, text: &str| {
            serde_json::json!({"_id": id, "title": title, "text": text, "metadata": {}}).to_string()
        };
        let corpus = [
            doc("d1", "Lanterns", "Paper lanterns glow at night."),
            doc("d2", "Bridges", "Suspension bridges carry heavy loads."),
            doc("d3", "", "Night markets sell paper goods."),
        ];
        fs::write(dir.path().join("corpus.jsonl"), corpus.join("\n") + "\n")?;
        let queries = [
            r#"{"_id": "q1", "text": "glowing lanterns", "metadata": {}}"#,
            r#"{"_id": "q2", "text": "bridge load", "metadata": {}}"#,
        ];
        fs::write(dir.path().join("queries.jsonl"), queries.join("\n"))?;
        fs::write(dir.path().join("qrels-test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")?;
        fs::write(dir.path().join("qrels-train.tsv"), "query-id\tcorpus-id\tscore\nq1\td3\t1\n")?;

        let out = dir.path().join("run.trec");
        let test = run_returning(args(dir.path(), &out, Split::Test))?;
        assert_eq!((test.ndcg_10, test.recall_100, test.mrr_10), (1.0, 1.0, 1.0));
        let run = fs::read_to_string(&out)?;
        assert!(
            run.lines().next().is_some_and(|l| l.starts_with("q1 Q0 d1 1 ") && l.ends_with(" nexus-fts-any")),
            "{run}"
        );

        // The train split judges d3 for q1, a document with none of q1's words.
        let train = run_returning(args(dir.path(), &out, Split::Train))?;
        assert_eq!((train.ndcg_10, train.recall_100), (0.0, 0.0));
        Ok(())
    }

    /// The SciFact figure of docs/fts.md, as a regression check (skipped without the data).
    #[test]
    fn scifact_bm25_reaches_the_target() -> anyhow::Result<()> {
        // The shared evaluation data sits beside the project root.
        let dataset = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/scifact");
        if !dataset.join("corpus.jsonl").exists() {
            eprintln!("skipped: {} is absent", dataset.display());
            return Ok(());
        }
        let dir = tempfile::tempdir()?;
        let metrics = run_returning(args(&dataset, &dir.path().join("scifact.trec"), Split::Test))?;
        assert!(metrics.ndcg_10 >= 0.680, "nDCG@10 {}", metrics.ndcg_10);
        Ok(())
    }
}
