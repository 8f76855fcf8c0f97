//! `cargo xtask eval-code [options]`: how well code search finds the function a question is
//! about, measured the CodeSearchNet way on crates of the local cargo registry.
//!
//! 1. [`corpus`]: copy the `src/` trees of `--crates` to a temporary tree, remove the `///`
//!    doc comments of every documented function, and keep, per function, the first sentence
//!    of its doc (at least three words) as the query and its file and lines as the answer.
//! 2. Index the blanked tree with the real `Store::index_dir` (the chosen embedder, its
//!    vectors cached in `--embed-cache` so a second run embeds only what changed).
//! 3. Shuffle the queries with `--seed`, split them in two halves (`--split train` to tune,
//!    `test` to report), keep `--queries` of the split, and run each through the real search
//!    (`Store::search_code`, what `nexus search --code` runs) in fts, vector and hybrid mode.
//! 4. Score: a hit is *right* when it is in the answer's file and overlaps its lines, *strictly
//!    right* when it also overlaps no other function. Success@1, Success@10, MRR@10 (first
//!    right hit) and strict Success@1, per mode; the last line is one JSON object.

mod corpus;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_embed::{Embedder, EmbedderConfig, EmbedderKind};
use nexus_fts::FieldWeights;
use nexus_search::Source;
use nexus_search::{Fusion, Mode, NameMatch, Weights};
use nexus_store::Store;
use nexus_store::db::Db;
use nexus_store::db::code_chunks::CodeChunk;
use nexus_store::db::projects::{self, NewProject};

use corpus::{Functions, Query};

use crate::eval::percentile_ms;

/// The crates indexed by default: small to medium, of different domains and styles.
const DEFAULT_CRATES: &str = "bytes,either,globset,lru,smallvec,tempfile,url,walkdir";

/// Which half of the shuffled queries to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// The first half: tune on it.
    Train,
    /// The second half: report it.
    Test,
    /// Every query.
    All,
}

/// Which embedder indexes and embeds the queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbedderArg {
    /// The offline default: neural when its model files are installed, else hashing.
    Local,
    /// The local neural embedder (all-MiniLM-L6-v2).
    Neural,
    /// The hashing embedder.
    Hashing,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Crates (names without version; the newest version found is used), comma-separated.
    #[arg(long, default_value = DEFAULT_CRATES, value_delimiter = ',')]
    crates: Vec<String>,
    /// The registry's source directory [default: $CARGO_HOME/registry/src or ~/.cargo/registry/src].
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Which half of the shuffled queries to run.
    #[arg(long, value_enum, default_value = "train")]
    split: Split,
    /// Most queries run (of the split), after the seeded shuffle.
    #[arg(long, alias = "limit", default_value_t = 400)]
    queries: usize,
    /// Seed of the shuffle.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Embedder.
    #[arg(long, value_enum, default_value = "local")]
    embedder: EmbedderArg,
    /// Keep computed vectors in this Nexus database, so later runs embed only new texts.
    #[arg(long)]
    embed_cache: Option<PathBuf>,
    /// Weight of the vector leg in hybrid mode [default: the store's code-search fusion].
    #[arg(long)]
    w_vector: Option<f64>,
    /// RRF rank constant in hybrid mode [default: the store's].
    #[arg(long)]
    rrf_k: Option<f64>,
    /// Print each query of the hybrid run with the rank of its answer.
    #[arg(long)]
    verbose: bool,
    /// BM25 weights of the code index's columns for the keyword leg, in bm25() order:
    /// `file,symbols,content,identifiers,name,context,signature` [default: nexus-fts's].
    /// Repeat to compare several (fts and hybrid, after the main table; the main table and
    /// the JSON use the first).
    #[arg(long, value_parser = parse_weights)]
    fts_weights: Vec<FieldWeights>,
    /// Extra vector-leg weights to compare in hybrid mode, comma-separated (with each
    /// `--fts-weights`).
    #[arg(long, value_delimiter = ',')]
    grid_vector: Vec<f64>,
    /// Name-match re-ranking of code hits as `name,owner,signature,depth` (nexus-search
    /// `NameMatch`) [default: the store's]. Repeat to compare several (hybrid, after the main
    /// table; the main table and the JSON use the first).
    #[arg(long, value_parser = parse_name_match)]
    name_match: Vec<NameMatch>,
    /// Factor of the fused score of test and generated chunks [default: the store's].
    #[arg(long)]
    test_weight: Option<f64>,
    /// Factor of the fused score of `block` chunks [default: the store's].
    #[arg(long)]
    block_weight: Option<f64>,
}

/// `name,owner,signature,depth` as a [`NameMatch`].
fn parse_name_match(text: &str) -> Result<NameMatch, String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>().map_err(|e| format!("{v}: {e}")))
        .collect::<Result<_, _>>()?;
    let [name, owner, signature, depth] = values[..] else {
        return Err(format!("4 values expected, got {}", values.len()));
    };
    if !(depth >= 0.0 && depth.fract() == 0.0) {
        return Err(format!("depth must be a whole number, not {depth}"));
    }
    Ok(NameMatch { name, owner, signature, depth: depth as usize })
}

/// `file,symbols,content,identifiers,name,context,signature` as the code columns of
/// [`FieldWeights`].
fn parse_weights(text: &str) -> Result<FieldWeights, String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| v.trim().parse::<f64>().map_err(|e| format!("{v}: {e}")))
        .collect::<Result<_, _>>()?;
    let [file, symbols, content, identifiers, name, context, signature] = values[..] else {
        return Err(format!("7 weights expected, got {}", values.len()));
    };
    Ok(FieldWeights {
        code_file: file,
        code_symbols: symbols,
        code_content: content,
        code_identifiers: identifiers,
        code_name: name,
        code_context: context,
        code_signature: signature,
        ..FieldWeights::default()
    })
}

/// One mode's scores.
#[derive(Debug, Default, Clone, Copy)]
struct Scores {
    success_1: f64,
    success_10: f64,
    mrr_10: f64,
    strict_1: f64,
    strict_10: f64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(evaluate(args))
}

fn registry(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.registry {
        return Ok(dir.clone());
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    Ok(home.join("registry").join("src"))
}

async fn evaluate(args: Args) -> anyhow::Result<()> {
    let registry = registry(&args)?;
    let scratch = tempfile::tempdir()?;
    let tree = scratch.path().join("tree");
    let mut functions = Functions::default();
    let mut queries: Vec<Query> = Vec::new();
    let mut used = Vec::new();
    for name in &args.crates {
        let krate = corpus::find_crate(&registry, name)?;
        let found = corpus::blank_crate(&krate, name, &tree, &mut functions)?;
        used.push(format!("{}({})", krate.file_name().and_then(|n| n.to_str()).unwrap_or(name), found.len()));
        queries.extend(found);
    }
    println!("crates: {}", used.join(" "));
    let mut rng = fastrand::Rng::with_seed(args.seed);
    rng.shuffle(&mut queries);
    let half = queries.len() / 2;
    let total = queries.len();
    let mut queries: Vec<Query> = match args.split {
        Split::Train => queries.into_iter().take(half).collect(),
        Split::Test => queries.into_iter().skip(half).collect(),
        Split::All => queries,
    };
    queries.truncate(args.queries);

    let kind = match args.embedder {
        EmbedderArg::Local => EmbedderKind::Local,
        EmbedderArg::Neural => EmbedderKind::Neural,
        EmbedderArg::Hashing => EmbedderKind::Hashing,
    };
    let config = EmbedderConfig::from_env_for(Some(kind))?;
    let cache = match &args.embed_cache {
        Some(path) => Some(Db::open(path).await?),
        None => None,
    };
    let embedder: Arc<dyn Embedder> = match &cache {
        Some(db) => config.build_cached(db.clone())?,
        None => config.build()?,
    };
    let store = Store::builder(scratch.path().join("eval.db")).embedder(Arc::clone(&embedder)).open().await?;
    let project = projects::create(store.db().writer(), NewProject::new("eval-code", "/eval-code")).await?;
    let report = store.index_dir(&project.id, &tree, |_| {}).await?;
    println!(
        "indexed {} files, {} chunks in {:.1} s with {}",
        report.files_indexed,
        report.chunks_written,
        report.elapsed.as_secs_f64(),
        embedder.model()
    );
    println!("queries: {} of {total} ({:?} split, seed {})", queries.len(), args.split, args.seed);

    let eval = Eval {
        args: &args,
        store: &store,
        project: &project.id,
        model: embedder.model(),
        queries: &queries,
        functions: &functions,
    };
    let mut summary = serde_json::Map::new();
    let weights = args.fts_weights.first().copied().unwrap_or_default();
    println!("mode\tS@1\tS@10\tMRR@10\tstrict S@1\tstrict S@10\tp50 ms");
    for (name, mode) in [("fts", Mode::FtsOnly), ("vector", Mode::VectorOnly), ("hybrid", Mode::Hybrid)] {
        let verbose = args.verbose && mode == Mode::Hybrid;
        let fusion = fusion(&args, embedder.model());
        let run = Run { mode, fusion, weights, verbose, name_match: args.name_match.first().copied() };
        let (scores, latencies) = eval.run(run).await?;
        let p50 = percentile_ms(&latencies, 0.5);
        println!(
            "{name}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{p50:.1}",
            scores.success_1, scores.success_10, scores.mrr_10, scores.strict_1, scores.strict_10
        );
        summary.insert(
            name.to_owned(),
            serde_json::json!({
                "success@1": round4(scores.success_1),
                "success@10": round4(scores.success_10),
                "mrr@10": round4(scores.mrr_10),
                "strict_success@1": round4(scores.strict_1),
                "strict_success@10": round4(scores.strict_10),
                "p50_ms": round4(p50),
            }),
        );
    }
    eval.grid().await?;
    eval.name_match_grid().await?;
    store.close().await?;
    if let Some(cache) = cache {
        embedder.flush().await?;
        cache.close().await?;
    }
    summary.insert("split".into(), format!("{:?}", args.split).to_lowercase().into());
    summary.insert("queries".into(), queries.len().into());
    summary.insert("seed".into(), args.seed.into());
    summary.insert("crates".into(), args.crates.join(",").into());
    summary.insert("chunks".into(), report.chunks_written.into());
    summary.insert("embedder".into(), embedder.model().into());
    println!("{}", serde_json::Value::Object(summary));
    Ok(())
}

/// The store's code-search fusion for `model`, with `--w-vector` and `--rrf-k` applied.
fn fusion(args: &Args, model: &str) -> Fusion {
    match nexus_store::code_fusion(model) {
        Fusion::Rrf { k, weights } => Fusion::Rrf {
            k: args.rrf_k.unwrap_or(k),
            weights: Weights { vector: args.w_vector.unwrap_or(weights.vector), ..weights },
        },
        other => other,
    }
}

/// What every run of one evaluation shares: the indexed store, the queries, the options.
struct Eval<'a> {
    args: &'a Args,
    store: &'a Store,
    project: &'a nexus_store::db::ProjectId,
    model: &'a str,
    queries: &'a [Query],
    functions: &'a Functions,
}

/// How to run the queries.
#[derive(Debug, Clone, Copy)]
struct Run {
    mode: Mode,
    fusion: Fusion,
    weights: FieldWeights,
    /// Print each query with the rank of its answer.
    verbose: bool,
    /// The name-match re-ranking, when not the store's.
    name_match: Option<NameMatch>,
}

impl Eval<'_> {
    /// The comparisons asked for with `--fts-weights` and `--grid-vector`: fts and hybrid per
    /// weights, hybrid per extra vector weight, one line each.
    async fn grid(&self) -> anyhow::Result<()> {
        let Eval { args, model, .. } = *self;
        if args.fts_weights.len() < 2 && args.grid_vector.is_empty() {
            return Ok(());
        }
        let all = if args.fts_weights.is_empty() {
            vec![FieldWeights::default()]
        } else {
            args.fts_weights.clone()
        };
        println!(
            "grid: weights (file,symbols,content,identifiers,name,context,signature) mode [w_vector]\tS@1\tS@10\tMRR@10\tstrict S@1"
        );
        for weights in all {
            let w = [
                weights.code_file,
                weights.code_symbols,
                weights.code_content,
                weights.code_identifiers,
                weights.code_name,
                weights.code_context,
                weights.code_signature,
            ]
            .map(|x| x.to_string())
            .join(",");
            let base = fusion(args, model);
            let vectors: Vec<Option<f64>> =
                std::iter::once(None).chain(args.grid_vector.iter().copied().map(Some)).collect();
            let mut runs = vec![(
                format!("{w} fts"),
                Run { mode: Mode::FtsOnly, fusion: base, weights, verbose: false, name_match: None },
            )];
            for v in vectors {
                let fusion = match (base, v) {
                    (Fusion::Rrf { k, weights: fw }, Some(v)) => {
                        Fusion::Rrf { k, weights: Weights { vector: v, ..fw } }
                    }
                    (other, _) => other,
                };
                let label = v.map_or_else(|| format!("{w} hybrid"), |v| format!("{w} hybrid {v}"));
                runs.push((
                    label,
                    Run { mode: Mode::Hybrid, fusion, weights, verbose: false, name_match: None },
                ));
            }
            for (label, run) in runs {
                let (s, _) = self.run(run).await?;
                println!(
                    "{label}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                    s.success_1, s.success_10, s.mrr_10, s.strict_1
                );
            }
        }
        Ok(())
    }

    /// The comparisons asked for with a repeated `--name-match`: hybrid per setting, one line each.
    async fn name_match_grid(&self) -> anyhow::Result<()> {
        let Eval { args, model, .. } = *self;
        if args.name_match.len() < 2 {
            return Ok(());
        }
        println!("grid: name match (name,owner,signature,depth) hybrid\tS@1\tS@10\tMRR@10\tstrict S@1");
        let weights = args.fts_weights.first().copied().unwrap_or_default();
        for &m in &args.name_match {
            let run = Run {
                mode: Mode::Hybrid,
                fusion: fusion(args, model),
                weights,
                verbose: false,
                name_match: Some(m),
            };
            let (s, _) = self.run(run).await?;
            println!(
                "{},{},{},{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                m.name, m.owner, m.signature, m.depth, s.success_1, s.success_10, s.mrr_10, s.strict_1
            );
        }
        Ok(())
    }

    /// Runs every query as `run` says; the mean scores and each query's latency.
    async fn run(
        &self,
        Run { mode, fusion, weights, verbose, name_match }: Run,
    ) -> anyhow::Result<(Scores, Vec<Duration>)> {
        let Eval { args, store, project, queries, functions, .. } = *self;
        let mut sum = Scores::default();
        let mut latencies = Vec::with_capacity(queries.len());
        for query in queries {
            let started = Instant::now();
            let mut search = store
                .search_code()
                .text(query.text.as_str())
                .limit(10)
                .mode(mode)
                .fusion(fusion)
                .fts_weights(weights)
                .project(project.clone());
            if let Some(name_match) = name_match {
                search = search.name_match(name_match);
            }
            if let Some(factor) = args.test_weight {
                search = search.chunk_type_weight("test", factor).chunk_type_weight("generated", factor);
            }
            if let Some(factor) = args.block_weight {
                search = search.chunk_type_weight("block", factor);
            }
            let results = search.execute().await;
            latencies.push(started.elapsed());
            let hits: Vec<CodeChunk> = match results {
                Ok(results) => results
                    .hits
                    .into_iter()
                    .filter_map(|h| match h.source {
                        Source::CodeChunk(chunk) => Some(chunk),
                        _ => None,
                    })
                    .collect(),
                Err(_) => Vec::new(), // an unsearchable query finds nothing
            };
            let right = |c: &CodeChunk| {
                let lines = (line(c.start_line), line(c.end_line));
                c.file == query.file && lines.0 <= query.lines.1 && query.lines.0 <= lines.1
            };
            let strict = |c: &CodeChunk| {
                right(c)
                    && !functions.overlaps_other(
                        &query.file,
                        query.lines,
                        (line(c.start_line), line(c.end_line)),
                    )
            };
            let first = hits.iter().position(right);
            let first_strict = hits.iter().position(strict);
            if verbose {
                let top = hits
                    .first()
                    .map(|c| format!("{}:{}-{}", c.file, c.start_line, c.end_line))
                    .unwrap_or_default();
                println!(
                    "  {:?}\t{:?}\t{} {}:{}-{}\ttop {top}",
                    first.map(|r| r + 1),
                    first_strict.map(|r| r + 1),
                    query.text,
                    query.file,
                    query.lines.0,
                    query.lines.1
                );
            }
            if let Some(rank) = first {
                sum.success_1 += f64::from(u8::from(rank == 0));
                sum.success_10 += 1.0;
                sum.mrr_10 += 1.0 / (rank as f64 + 1.0);
            }
            if let Some(rank) = first_strict {
                sum.strict_1 += f64::from(u8::from(rank == 0));
                sum.strict_10 += 1.0;
            }
        }
        let n = queries.len().max(1) as f64;
        let mean = Scores {
            success_1: sum.success_1 / n,
            success_10: sum.success_10 / n,
            mrr_10: sum.mrr_10 / n,
            strict_1: sum.strict_1 / n,
            strict_10: sum.strict_10 / n,
        };
        Ok((mean, latencies))
    }
}

fn line(l: i64) -> usize {
    usize::try_from(l).unwrap_or(0)
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
