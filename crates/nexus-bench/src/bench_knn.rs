//! `cargo xtask bench knn [--n N] [--dims D] [--queries N] [--from DIR]`: vector KNN speed and
//! recall (nexus-vector). Not a timed test: it prints a table and, last, one JSON line.
//!
//! Data: `--n` seeded random unit vectors of `--dims` (a worst case for quantisation), or the
//! real embeddings of `--from DIR` (`doc-embeddings.f32` and `query-embeddings.f32`). All
//! vectors belong to episodes of one project, except every 100th, a code chunk (the 1 % kind).
//!
//! Measured per query (p50/p95 over `--queries`, after a warm-up; the methods take turns query
//! by query), through the public API from the reader pool: exact float32 KNN, int8 and bit KNN
//! with rescoring (recall@k against the exact answer), and exact KNN filtered to the 1 % kind.
//! Two baselines from the same data: `app_layer` (BLOBs in an ordinary table, every row read and
//! its cosine computed in Rust per query, as the reference research recommends) and
//! `scan_bound` (one contiguous `Vec<f32>` scanned in memory: what memory bandwidth allows).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures::TryStreamExt;
use nexus_db::{Db, DbOptions, SourceKind, code_chunks, episodes, projects};
use nexus_vector::{Collection, CollectionSpec, Element, Item, KnnQuery, Metric};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of synthetic vectors (ignored with --from).
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    /// Dimensions of synthetic vectors (ignored with --from, which reads 384).
    #[arg(long, default_value_t = 384)]
    dims: usize,
    /// Number of queries (default: 200 synthetic; with --from, every query vector in the file).
    #[arg(long)]
    queries: Option<usize>,
    /// Neighbours per query.
    #[arg(long, default_value_t = 10)]
    k: u32,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Read real embeddings from DIR (doc-embeddings.f32, query-embeddings.f32; 384 dims).
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
    /// Candidates per result of the int8 collection (default: the collection's default).
    #[arg(long)]
    int8_oversample: Option<u32>,
    /// Candidates per result of the bit collection (default: the collection's default).
    #[arg(long)]
    bit_oversample: Option<u32>,
    /// Queries of the app-layer baseline (each reads the whole table; default: all queries).
    #[arg(long)]
    app_queries: Option<usize>,
    /// SQLite mmap size in MiB (default: nexus-db's default).
    #[arg(long)]
    mmap_mib: Option<u64>,
    /// Where to put the database (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    db_dir: Option<PathBuf>,
}

/// The vectors of a run: unit-length documents and queries, row-major.
struct Data {
    source: String,
    dims: usize,
    docs: Vec<f32>,
    queries: Vec<f32>,
}

impl Data {
    fn doc(&self, i: usize) -> &[f32] {
        &self.docs[i * self.dims..(i + 1) * self.dims]
    }
    fn query(&self, i: usize) -> &[f32] {
        &self.queries[i * self.dims..(i + 1) * self.dims]
    }
    fn n(&self) -> usize {
        self.docs.len() / self.dims
    }
    fn n_queries(&self) -> usize {
        self.queries.len() / self.dims
    }
}

fn kind_of(i: usize) -> SourceKind {
    if i.is_multiple_of(100) { SourceKind::CodeChunk } else { SourceKind::Episode }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = match &args.from {
        Some(dir) => read_dir(dir, args.queries)?,
        None => synthetic(args.n, args.dims, args.queries.unwrap_or(200), args.seed),
    };
    ensure!(data.n() > 0 && data.n_queries() > 0, "no data");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(bench(&args, &data))
}

async fn bench(args: &Args, data: &Data) -> anyhow::Result<()> {
    let k = args.k as usize;
    let temp = tempfile::tempdir()?;
    let dir = args.db_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench-knn.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut options = DbOptions::file(&path);
    if let Some(mib) = args.mmap_mib {
        options = options.mmap_size(mib * 1024 * 1024);
    }
    let db = Db::open_with(options).await?;
    println!(
        "bench knn: {} vectors × {} dims ({}), {} queries, k={k}",
        data.n(),
        data.dims,
        data.source,
        data.n_queries()
    );

    let (project, ids) = source_rows(&db, data.n()).await?;
    let dims = data.dims;
    let spec =
        |name: &str, element| CollectionSpec::new(name, "bench", dims, Metric::Cosine).element(element);
    let exact = Collection::open_or_create(&db, &spec("exact", Element::Float32)).await?;
    let int8 = Collection::open_or_create(&db, &spec("int8", Element::Int8)).await?;
    let bit = if dims.is_multiple_of(8) {
        Some(Collection::open_or_create(&db, &spec("bit", Element::Bit)).await?)
    } else {
        None
    };

    let insert_per_s = insert(&db, &exact, data, &ids).await?;
    let int8_insert_per_s = insert(&db, &int8, data, &ids).await?;
    let bit_insert_per_s = match &bit {
        Some(bit) => Some(insert(&db, bit, data, &ids).await?),
        None => None,
    };
    app_table(&db, data, &ids, &project).await?;

    // Ground truth: the exact top k of every query, by a brute-force scan (also the bound).
    let scan = Scan::new(data);
    let truth: Vec<Vec<usize>> =
        (0..data.n_queries()).map(|q| scan.top_k(data.query(q), k, |_| true)).collect();
    let truth_1pct: Vec<Vec<usize>> = (0..data.n_queries())
        .map(|q| scan.top_k(data.query(q), k, |i| kind_of(i) == SourceKind::CodeChunk))
        .collect();
    let index_of: std::collections::HashMap<&str, usize> =
        ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();

    let knn = |c: &Collection, filtered: bool, oversample: Option<u32>| {
        let (db, project, index_of) = (&db, &project, &index_of);
        let truth = if filtered { &truth_1pct } else { &truth };
        let c = c.clone();
        move |q: usize| {
            let c = c.clone();
            async move {
                let query = KnnQuery::new(data.query(q), k as u32).project(project);
                let query = if filtered { query.kinds(&[SourceKind::CodeChunk]) } else { query };
                let query = match oversample {
                    Some(factor) => query.oversample(factor),
                    None => query,
                };
                let hits = c.knn(db.reader(), &query).await?;
                ensure!(
                    hits.len() == k.min(if filtered { data.n().div_ceil(100) } else { data.n() }),
                    "short answer"
                );
                let found =
                    hits.iter().filter(|h| index_of.get(h.id.as_str()).is_some_and(|i| truth[q].contains(i)));
                anyhow::Ok(found.count())
            }
        }
    };
    let queries = data.n_queries();
    let app_queries = args.app_queries.unwrap_or(queries).min(queries);
    let exact_knn = knn(&exact, false, None);
    let int8_knn = knn(&int8, false, args.int8_oversample);
    let bit_knn = bit.as_ref().map(|bit| knn(bit, false, args.bit_oversample));
    let filtered_knn = knn(&exact, true, None);
    let app = |q: usize| {
        let (db, truth, project) = (&db, &truth, &project);
        async move {
            let top = app_layer_knn(db, project, data.query(q), k).await?;
            anyhow::Ok(top.iter().filter(|i| truth[q].contains(i)).count())
        }
    };
    let scan_one = |q: usize| {
        let (scan, truth) = (&scan, &truth);
        async move {
            let top = scan.top_k(data.query(q), k, |_| true);
            anyhow::Ok(top.iter().filter(|i| truth[q].contains(i)).count())
        }
    };
    // Warm-up, untimed: caches, prepared statements, pool connections.
    for q in 0..queries.min(3) {
        exact_knn(q).await?;
        int8_knn(q).await?;
        if let Some(bit_knn) = &bit_knn {
            bit_knn(q).await?;
        }
        filtered_knn(q).await?;
        app(q).await?;
        scan_one(q).await?;
    }
    // Query by query, every method in turn: load changes on a shared machine hit all alike.
    let [mut exact_run, mut int8_run, mut bit_run, mut filtered_run, mut app_run, mut scan_run] =
        ["exact", "int8", "bit", "filtered_1pct", "app_layer", "scan_bound"].map(Run::new);
    for q in 0..queries {
        exact_run.time(q, exact_knn(q)).await?;
        int8_run.time(q, int8_knn(q)).await?;
        if let Some(bit_knn) = &bit_knn {
            bit_run.time(q, bit_knn(q)).await?;
        }
        filtered_run.time(q, filtered_knn(q)).await?;
        if q < app_queries {
            app_run.time(q, app(q)).await?;
        }
        scan_run.time(q, scan_one(q)).await?;
    }
    let bit_run = bit.as_ref().map(|_| bit_run);

    let bytes = |c: &Collection| {
        let db = &db;
        let c = c.clone();
        async move { anyhow::Ok(c.stats(db.reader()).await?.bytes) }
    };
    let exact_bytes = bytes(&exact).await?;
    let int8_bytes = bytes(&int8).await?;
    let bit_bytes = match &bit {
        Some(bit) => Some(bytes(bit).await?),
        None => None,
    };

    println!();
    println!("{:<16} {:>9} {:>9} {:>10} {:>11}", "method", "p50 ms", "p95 ms", "recall@k", "vs exact");
    let rows = [
        Some(&exact_run),
        Some(&int8_run),
        bit_run.as_ref(),
        Some(&filtered_run),
        Some(&app_run),
        Some(&scan_run),
    ];
    for run in rows.into_iter().flatten() {
        println!(
            "{:<16} {:>9.2} {:>9.2} {:>10.4} {:>10.2}×",
            run.name,
            run.p50_ms(),
            run.p95_ms(),
            run.recall(k),
            exact_run.p50_ms() / run.p50_ms()
        );
    }
    println!();
    println!(
        "inserts/s: float32 {insert_per_s:.0}, int8 {int8_insert_per_s:.0}, bit {}",
        opt(bit_insert_per_s)
    );
    println!("bytes: float32 {exact_bytes}, int8 {int8_bytes}, bit {}", opt(bit_bytes));
    println!(
        "exact is {:.2}× scan_bound and {:.1}× faster than app_layer; int8 {:.2}× and bit {} faster than exact",
        exact_run.p50_ms() / scan_run.p50_ms(),
        app_run.p50_ms() / exact_run.p50_ms(),
        exact_run.p50_ms() / int8_run.p50_ms(),
        bit_run.as_ref().map_or("n/a".into(), |b| format!("{:.2}×", exact_run.p50_ms() / b.p50_ms())),
    );
    let sqlite_vec_cflags = option_env!("CFLAGS_x86_64_unknown_linux_gnu").unwrap_or("");
    let summary = json!({
        "n": data.n(),
        "dims": data.dims,
        "queries": queries,
        "k": k,
        "source": data.source,
        "int8_oversample": args.int8_oversample.unwrap_or(Element::Int8.default_oversample()),
        "bit_oversample": args.bit_oversample.unwrap_or(Element::Bit.default_oversample()),
        "exact_p50_ms": round(exact_run.p50_ms()),
        "exact_p95_ms": round(exact_run.p95_ms()),
        "exact_recall_at_10": round(exact_run.recall(k)),
        "int8_p50_ms": round(int8_run.p50_ms()),
        "int8_p95_ms": round(int8_run.p95_ms()),
        "int8_recall_at_10": round(int8_run.recall(k)),
        "bit_rescored_p50_ms": bit_run.as_ref().map(|b| round(b.p50_ms())),
        "bit_rescored_p95_ms": bit_run.as_ref().map(|b| round(b.p95_ms())),
        "bit_rescored_recall_at_10": bit_run.as_ref().map(|b| round(b.recall(k))),
        "filtered_1pct_p50_ms": round(filtered_run.p50_ms()),
        "filtered_1pct_p95_ms": round(filtered_run.p95_ms()),
        "app_layer_p50_ms": round(app_run.p50_ms()),
        "app_layer_p95_ms": round(app_run.p95_ms()),
        "app_layer_queries": app_run.times.len(),
        "scan_bound_p50_ms": round(scan_run.p50_ms()),
        "scan_bound_p95_ms": round(scan_run.p95_ms()),
        "insert_per_s": insert_per_s.round(),
        "int8_insert_per_s": int8_insert_per_s.round(),
        "bit_insert_per_s": bit_insert_per_s.map(f64::round),
        "exact_bytes": exact_bytes,
        "int8_bytes": int8_bytes,
        "bit_bytes": bit_bytes,
        "exact_vs_scan_bound": round(exact_run.p50_ms() / scan_run.p50_ms()),
        "app_layer_vs_exact": round(app_run.p50_ms() / exact_run.p50_ms()),
        "exact_vs_int8": round(exact_run.p50_ms() / int8_run.p50_ms()),
        "exact_vs_bit_rescored": bit_run.as_ref().map(|b| round(exact_run.p50_ms() / b.p50_ms())),
        "sqlite_vec_cflags": sqlite_vec_cflags,
    });
    db.close().await?;
    println!("{summary}");
    Ok(())
}

fn opt(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.0}"))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Latencies and hits of one method.
struct Run {
    name: &'static str,
    times: Vec<Duration>,
    found: usize,
}

impl Run {
    fn new(name: &'static str) -> Self {
        Self { name, times: Vec::new(), found: 0 }
    }

    /// Times `work` (query `q`), which returns how many true neighbours it found.
    async fn time(
        &mut self,
        q: usize,
        work: impl Future<Output = anyhow::Result<usize>>,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        self.found += work.await.with_context(|| format!("{}, query {q}", self.name))?;
        self.times.push(start.elapsed());
        Ok(())
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let mut times = self.times.clone();
        times.sort();
        let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len());
        times[rank - 1].as_secs_f64() * 1000.0
    }
    fn p50_ms(&self) -> f64 {
        self.percentile_ms(0.50)
    }
    fn p95_ms(&self) -> f64 {
        self.percentile_ms(0.95)
    }
    fn recall(&self, k: usize) -> f64 {
        self.found as f64 / (k * self.times.len()) as f64
    }
}

/// One project with `n` source rows (99 % episodes, 1 % code chunks); returns its id and the
/// row ids. Not timed.
async fn source_rows(db: &Db, n: usize) -> anyhow::Result<(nexus_db::ProjectId, Vec<String>)> {
    let project = projects::create(db.writer(), projects::NewProject::new("bench", "/bench")).await?.id;
    let mut ids = Vec::with_capacity(n);
    for batch in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut tx = db.begin().await?;
        for &i in batch {
            let id = match kind_of(i) {
                SourceKind::CodeChunk => {
                    let chunk = code_chunks::NewCodeChunk {
                        id: None,
                        project_id: project.clone(),
                        file: format!("src/file{i}.rs"),
                        start_line: 1,
                        end_line: 10,
                        content: "fn f() {}".into(),
                        symbols: vec![],
                        chunk_type: "function".into(),
                        language: "rust".into(),
                        complexity: None,
                        hash: format!("{i}"),
                        context: None,
                        signature: None,
                    };
                    code_chunks::create(&mut *tx, chunk).await?.id.into_string()
                }
                _ => {
                    let episode =
                        episodes::NewEpisode::new(&project, episodes::EpisodeType::Research, "bench");
                    episodes::create(&mut *tx, episode).await?.id.into_string()
                }
            };
            ids.push(id);
        }
        tx.commit().await?;
    }
    Ok((project, ids))
}

/// Upserts every vector into `collection`, 1000 per transaction; returns vectors per second.
async fn insert(db: &Db, collection: &Collection, data: &Data, ids: &[String]) -> anyhow::Result<f64> {
    let start = Instant::now();
    for batch in (0..data.n()).collect::<Vec<_>>().chunks(1000) {
        let mut tx = db.begin().await?;
        for &i in batch {
            collection.upsert(&mut tx, Item::new(kind_of(i), &ids[i], data.doc(i))).await?;
        }
        tx.commit().await?;
    }
    Ok(data.n() as f64 / start.elapsed().as_secs_f64())
}

/// The app-layer baseline's table: embeddings as little-endian float32 BLOBs in a row table.
async fn app_table(db: &Db, data: &Data, ids: &[String], project: &str) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE app_embeddings (source_id TEXT NOT NULL PRIMARY KEY, project_id TEXT NOT NULL, \
         embedding BLOB NOT NULL)",
    )
    .execute(db.writer())
    .await?;
    for batch in (0..data.n()).collect::<Vec<_>>().chunks(5000) {
        let mut tx = db.begin().await?;
        for &i in batch {
            let bytes: Vec<u8> = data.doc(i).iter().flat_map(|v| v.to_le_bytes()).collect();
            sqlx::query("INSERT INTO app_embeddings VALUES (?, ?, ?)")
                .bind(&ids[i])
                .bind(project)
                .bind(bytes)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The app-layer KNN: read every row of the project, compute cosine similarity in Rust,
/// keep the top k. Returns row indices (ids are `ids[i]`, found by the order of insertion).
async fn app_layer_knn(db: &Db, project: &str, query: &[f32], k: usize) -> anyhow::Result<Vec<usize>> {
    let query_norm = query.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut top = TopK::new(k);
    let mut rows = sqlx::query_as::<_, (i64, Vec<u8>)>(
        "SELECT rowid - 1, embedding FROM app_embeddings WHERE project_id = ? ORDER BY rowid",
    )
    .bind(project)
    .fetch(db.reader());
    while let Some((index, bytes)) = rows.try_next().await? {
        let (mut dot, mut norm) = (0.0f32, 0.0f32);
        for (x, q) in bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).zip(query) {
            dot += x * q;
            norm += x * x;
        }
        top.push(1.0 - dot / (norm.sqrt() * query_norm), usize::try_from(index)?);
    }
    Ok(top.into_indices())
}

/// The memory-bound baseline: the unit vectors in one contiguous `Vec<f32>`, scanned with a
/// dot product the compiler vectorises (cosine distance = 1 − dot for unit vectors).
struct Scan<'a> {
    data: &'a Data,
}

impl<'a> Scan<'a> {
    fn new(data: &'a Data) -> Self {
        Self { data }
    }

    /// The k nearest rows to `query` among those `keep` accepts.
    fn top_k(&self, query: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut top = TopK::new(k);
        for (i, row) in self.data.docs.chunks_exact(self.data.dims).enumerate() {
            if keep(i) {
                top.push(1.0 - dot(row, query), i);
            }
        }
        top.into_indices()
    }
}

/// Dot product with 16 independent accumulators (vectorised, not a serial chain).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (a_chunks, b_chunks) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The k smallest (distance, index) pairs seen, ties by index.
struct TopK {
    k: usize,
    items: Vec<(f32, usize)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self { k, items: Vec::with_capacity(k + 1) }
    }

    fn push(&mut self, distance: f32, index: usize) {
        let cmp = |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if self.items.len() == self.k
            && self.items.last().is_some_and(|last| cmp(&(distance, index), last) != Ordering::Less)
        {
            return;
        }
        let at = self.items.partition_point(|item| cmp(item, &(distance, index)) == Ordering::Less);
        self.items.insert(at, (distance, index));
        self.items.truncate(self.k);
    }

    fn into_indices(self) -> Vec<usize> {
        self.items.into_iter().map(|(_, i)| i).collect()
    }
}

/// Seeded unit vectors: `n` documents and `queries` queries of `dims` (Gaussian, normalised).
fn synthetic(n: usize, dims: usize, queries: usize, seed: u64) -> Data {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut next = move || rng.f64();
    let mut unit_vectors = |count: usize| {
        let mut out = Vec::with_capacity(count * dims);
        for _ in 0..count {
            let v: Vec<f64> = (0..dims)
                .map(|_| {
                    let (u, w) = (next().max(1e-12), next());
                    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * w).cos()
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            out.extend(v.iter().map(|x| (x / norm) as f32));
        }
        out
    };
    let docs = unit_vectors(n);
    let queries = unit_vectors(queries);
    Data { source: format!("synthetic seed {seed}"), dims, docs, queries }
}

/// Real embeddings: 384-dimension float32 rows of `DIR/doc-embeddings.f32` and
/// `DIR/query-embeddings.f32`.
fn read_dir(dir: &Path, queries: Option<usize>) -> anyhow::Result<Data> {
    const DIMS: usize = 384;
    let read = |name: &str| -> anyhow::Result<Vec<f32>> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        ensure!(bytes.len() % (4 * DIMS) == 0, "{} is not rows of {DIMS} float32", path.display());
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    };
    let docs = read("doc-embeddings.f32")?;
    let mut query_vectors = read("query-embeddings.f32")?;
    if let Some(q) = queries {
        query_vectors.truncate(q * DIMS);
    }
    Ok(Data { source: format!("{}", dir.display()), dims: DIMS, docs, queries: query_vectors })
}
