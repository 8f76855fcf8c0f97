//! `cargo xtask bench serve [--connections N] [--seconds S] [--episodes N] [--corpus C]
//! [--access-flush-ms N] [--vector-element float32|int8] [--readers N] [--mmap-mib N]
//! [--max-concurrent N]`: the HTTP API under load.
//!
//! 1. A fresh database with one user, one project and `--episodes` episodes (hashing
//!    embedder), served by `nexus_server::serve` on 127.0.0.1 (ephemeral port).
//!    The text of episodes, queries and knowledge comes from `--corpus`:
//!    - `zipf` (the default): words of a vocabulary of [`ZIPF_VOCABULARY`] made-up words
//!      (generated from syllables with a fixed seed), drawn with Zipf's law (exponent 1, as
//!      in natural text): a few words are in most episodes, most words in a few, and a query's
//!      three words are drawn the same way.
//!    - `words16` (the corpus of the first measurements, kept so their figures stay
//!      comparable): every word drawn uniformly from 16 words, so each query word is in about
//!      half of all episodes — a keyword search scores thousands of rows per query, which real
//!      memories never ask for.
//! 2. Baseline, in the same run: `Store::recall` called directly (no HTTP), one at a time,
//!    and the stages of one recall timed apart, with their CPU time per query (query
//!    embedding, keyword leg, vector leg, the whole search with a recall's candidates and
//!    with the search's default 100, the whole recall).
//! 3. The load generator (reqwest, in this process): `--connections` concurrent keep-alive
//!    connections, each sending its next request when the last one is answered, for
//!    `--seconds` per workload: recall (`GET /v1/memory`), search (`GET /v1/search`),
//!    knowledge create (`POST /v1/knowledge`), and a mixed workload (70 % recall, 10 % search,
//!    10 % remember, 10 % knowledge create).
//! 4. Graceful shutdown, then the file is reopened: every acknowledged write (2xx with an id)
//!    must be there (`lost_writes`), and `PRAGMA integrity_check` must say ok.
//!
//! Requests/s, p50/p99, and per request the CPU milliseconds, page faults and context
//! switches of the whole process over the workload divided by the requests answered (server
//! and load generator together, from `getrusage`) per workload; the same per direct recall and
//! per stage; how many vectors per KNN the int8 prefilter left to score exactly
//! (`vector_rescored_per_knn`); and the vector leg's recall@10 against an exact scan (`knn_recall_at_10`, which
//! `--vector-element int8` trades for speed). The last line is one JSON object with the figures
//! and the load average before and after. Load generator and server share the machine's
//! cores: on busy cores the wall-clock figures follow the load, the CPU figures do not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_db::episodes::{EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::{Db, DbOptions, ProjectId, SourceKind, api_keys, users};
use nexus_embed::{Embedder, LocalEmbedder};
use nexus_search::Mode;
use nexus_server::ServerConfig;
use nexus_store::{RecallOptions, Store};
use nexus_vector::{Element, KnnQuery};
use serde_json::json;
use tokio::sync::oneshot;

use crate::eval::percentile_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds per workload.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Episodes in the project recall searches.
    #[arg(long, default_value_t = 10_000)]
    episodes: usize,
    /// Milliseconds recall's access counts wait in memory before a background task writes
    /// them (`StoreBuilder::access_flush_interval`; default: the store's, 5,000); 0: every
    /// recall writes its counts before it returns, as before they were kept in memory.
    #[arg(long)]
    access_flush_ms: Option<u64>,
    /// Reader connections of the store (default: the store's default, from the core count).
    #[arg(long)]
    readers: Option<u32>,
    /// Where the text comes from (module docs).
    #[arg(long, value_enum, default_value_t = CorpusKind::Zipf)]
    corpus: CorpusKind,
    /// Element type of the store's vector collection (`StoreBuilder::vector_element`):
    /// `float32` (the default) or `int8` (scans int8 copies, rescores with float32).
    #[arg(long, value_enum, default_value_t = VectorElement::Float32)]
    vector_element: VectorElement,
    /// SQLite memory-mapped I/O per connection, in MiB (default: the store's default, 256;
    /// 0 turns it off).
    #[arg(long)]
    mmap_mib: Option<u64>,
    /// Body-less requests the server runs at once (`ServerConfig::max_concurrent`; default
    /// the server's, four per core; 0: no limit, every request at once).
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// Writes every answered request to this CSV file (`workload,sent_ms,latency_ms`, the send
    /// time counted from the workload's start), to see whether slow requests cluster in time.
    #[arg(long)]
    timeline: Option<std::path::PathBuf>,
    /// Only these workloads (comma-separated: recall, search, knowledge, mixed; default all),
    /// for quicker A/B runs.
    #[arg(long, value_enum, value_delimiter = ',')]
    workloads: Vec<Workload>,
}

/// The workloads of `--workloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Recall,
    Search,
    Knowledge,
    Mixed,
}

/// The text generators of `--corpus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CorpusKind {
    /// Made-up words with Zipf's law.
    Zipf,
    /// 16 words, uniformly.
    Words16,
}

/// The element types of `--vector-element`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum VectorElement {
    Float32,
    Int8,
}

/// A request of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Recall,
    Search,
    Remember,
    Knowledge,
}

/// What one workload measured.
#[derive(Debug, Default)]
struct Outcome {
    latencies: Vec<Duration>,
    /// When each answered request was sent, from the workload's start (same order as
    /// `latencies`).
    sent: Vec<Duration>,
    errors: u64,
    /// Ids of acknowledged writes: (table, id).
    acked: Vec<(&'static str, String)>,
    elapsed: Duration,
    /// What the whole process (server and load generator) used during the workload.
    usage: Usage,
}

impl Outcome {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU milliseconds, page faults and context switches (server and load generator) per
    /// answered request.
    fn per_request(&self) -> (f64, f64, f64) {
        self.usage.per(self.latencies.len())
    }
}

/// What this process (every thread, live or ended) has used so far: CPU time (user and
/// system), page faults (minor and major) and context switches (voluntary and involuntary),
/// from `getrusage(RUSAGE_SELF)`; zeros where it fails. None of them depends much on what else
/// runs on the machine, so they are the figures to compare between runs on busy cores.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    cpu: Duration,
    faults: u64,
    switches: u64,
}

impl Usage {
    #[allow(unsafe_code)]
    fn now() -> Self {
        // SAFETY: `rusage` is plain integers, for which all zeros is a valid value, and
        // getrusage only writes the struct it is given a valid pointer to.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Self::default();
        }
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        let count = |n: libc::c_long| n.max(0) as u64;
        Self {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            faults: count(usage.ru_minflt) + count(usage.ru_majflt),
            switches: count(usage.ru_nvcsw) + count(usage.ru_nivcsw),
        }
    }

    /// What was used between `earlier` and this.
    fn since(self, earlier: Self) -> Self {
        Self {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            faults: self.faults.saturating_sub(earlier.faults),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }

    /// Per unit of `n`: CPU milliseconds, page faults, context switches.
    fn per(self, n: usize) -> (f64, f64, f64) {
        let n = n.max(1) as f64;
        (self.cpu.as_secs_f64() * 1e3 / n, self.faults as f64 / n, self.switches as f64 / n)
    }
}

/// The vocabulary of `--corpus words16`.
const WORDS: [&str; 16] = [
    "cart",
    "totals",
    "cents",
    "checkout",
    "retry",
    "agent",
    "decision",
    "schema",
    "migration",
    "index",
    "search",
    "vector",
    "token",
    "budget",
    "review",
    "deploy",
];

/// Words of the `zipf` corpus.
const ZIPF_VOCABULARY: usize = 5_000;

/// A deterministic text generator: sentences of `words` words.
#[derive(Debug, Clone)]
struct Corpus {
    words: Vec<String>,
    /// Cumulative Zipf weights of `words` (rank order), ending at 1; empty: uniform.
    cumulative: Vec<f64>,
}

impl Corpus {
    fn new(kind: CorpusKind) -> Self {
        match kind {
            CorpusKind::Words16 => {
                Self { words: WORDS.iter().map(|w| (*w).to_owned()).collect(), cumulative: Vec::new() }
            }
            CorpusKind::Zipf => {
                const ONSETS: [&str; 16] =
                    ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z"];
                const NUCLEI: [&str; 8] = ["a", "e", "i", "o", "u", "ai", "ou", "ea"];
                let mut rng = fastrand::Rng::with_seed(0x21f);
                let mut seen = std::collections::HashSet::new();
                let mut words = Vec::with_capacity(ZIPF_VOCABULARY);
                while words.len() < ZIPF_VOCABULARY {
                    let syllables = rng.usize(2..=4);
                    let word: String = (0..syllables)
                        .map(|_| {
                            format!(
                                "{}{}",
                                ONSETS[rng.usize(..ONSETS.len())],
                                NUCLEI[rng.usize(..NUCLEI.len())]
                            )
                        })
                        .collect();
                    if seen.insert(word.clone()) {
                        words.push(word);
                    }
                }
                let total: f64 = (1..=words.len()).map(|r| 1.0 / r as f64).sum();
                let mut sum = 0.0;
                let cumulative = (1..=words.len())
                    .map(|r| {
                        sum += 1.0 / r as f64 / total;
                        sum
                    })
                    .collect();
                Self { words, cumulative }
            }
        }
    }

    fn word(&self, rng: &mut fastrand::Rng) -> &str {
        let index = if self.cumulative.is_empty() {
            rng.usize(..self.words.len())
        } else {
            let x = rng.f64();
            self.cumulative.partition_point(|&c| c < x).min(self.words.len() - 1)
        };
        &self.words[index]
    }

    fn sentence(&self, rng: &mut fastrand::Rng, words: usize) -> String {
        (0..words).map(|_| self.word(rng)).collect::<Vec<_>>().join(" ")
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let load_before = load_average();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let scratch = tempfile::tempdir()?;
    let path = scratch.path().join("serve.db");
    let mut options = DbOptions::file(&path);
    if let Some(readers) = args.readers {
        options = options.readers(readers);
    }
    if let Some(mib) = args.mmap_mib {
        options = options.mmap_size(mib << 20);
    }
    let element = match args.vector_element {
        VectorElement::Float32 => Element::Float32,
        VectorElement::Int8 => Element::Int8,
    };
    let mut builder = Store::builder(&path)
        .db_options(options)
        .embedder(Arc::new(LocalEmbedder::new(384)?))
        .vector_element(element);
    if let Some(ms) = args.access_flush_ms {
        builder = builder.access_flush_interval(Duration::from_millis(ms));
    }
    let store = builder.open().await?;
    let user = users::create(store.db().writer(), "bench@example.com").await?;
    let key = api_keys::create(store.db().writer(), &user.id, None).await?.key;
    let project = projects::create(store.db().writer(), NewProject::new("bench", "api://bench")).await?;
    users::own_project(store.db().writer(), &user.id, &project.id).await?;
    let corpus = Arc::new(Corpus::new(args.corpus));
    let mut rng = fastrand::Rng::with_seed(0x5e7e);
    let seeded = Instant::now();
    let mut texts = Vec::with_capacity(args.episodes);
    for _ in 0..args.episodes {
        let text = corpus.sentence(&mut rng, 12);
        let episode =
            store.remember(NewEpisode::new(&project.id, EpisodeType::Decision, text.clone())).await?;
        texts.push((episode.id.to_string(), text));
    }
    println!("seeded {} episodes in {:.1} s", args.episodes, seeded.elapsed().as_secs_f64());
    let knn_recall = knn_recall_at_10(&store, &project.id, &texts, &corpus).await?;
    println!("vector leg recall@10 against an exact scan: {knn_recall:.4}");

    let stages = stage_profile(&store, &project.id, &corpus).await?;
    for Stage { name, p50_ms, cpu_ms, switches } in &stages {
        println!(
            "direct {name:<14} p50 {p50_ms:>7.3} ms  CPU {cpu_ms:>7.3} ms  {switches:>5.0} context switches"
        );
    }

    // Baseline: recall without HTTP, one at a time.
    let mut direct = Vec::new();
    let before = Usage::now();
    for _ in 0..300 {
        let query = corpus.sentence(&mut rng, 3);
        let started = Instant::now();
        store.recall(&project.id, &query, &RecallOptions::default()).await?;
        direct.push(started.elapsed());
    }
    let (direct_cpu_ms, direct_faults, direct_switches) = Usage::now().since(before).per(direct.len());
    let direct_p50 = percentile_ms(&direct, 0.50);
    let direct_p99 = percentile_ms(&direct, 0.99);
    println!(
        "direct recall (no HTTP): p50 {direct_p50:.2} ms, p99 {direct_p99:.2} ms, CPU {direct_cpu_ms:.2} ms, \
         {direct_faults:.0} page faults, {direct_switches:.0} context switches per recall"
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let max_concurrent = args.max_concurrent.unwrap_or_else(nexus_server::admission::default_max_concurrent);
    let config = ServerConfig { max_concurrent, ..ServerConfig::default() };
    let server = tokio::spawn(nexus_server::serve(store.clone(), listener, config, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.connections).build()?;
    let target = Target { client, base, key, project: project.id.to_string(), corpus };

    let duration = Duration::from_secs(args.seconds);
    let mut outcomes = Vec::new();
    for (workload, name, mix) in [
        (Workload::Recall, "recall", &[Op::Recall][..]),
        (Workload::Search, "search", &[Op::Search][..]),
        (Workload::Knowledge, "knowledge", &[Op::Knowledge][..]),
        (
            Workload::Mixed,
            "mixed",
            &[
                Op::Recall,
                Op::Recall,
                Op::Recall,
                Op::Recall,
                Op::Recall,
                Op::Recall,
                Op::Recall,
                Op::Search,
                Op::Remember,
                Op::Knowledge,
            ][..],
        ),
    ] {
        if !args.workloads.is_empty() && !args.workloads.contains(&workload) {
            continue;
        }
        let outcome = load(&target, mix, args.connections, duration).await;
        let (cpu, faults, switches) = outcome.per_request();
        println!(
            "{name:<10} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  per request: CPU {cpu:>6.2} ms, \
             {faults:>5.0} page faults, {switches:>5.0} context switches  errors {}",
            outcome.rps(),
            percentile_ms(&outcome.latencies, 0.50),
            percentile_ms(&outcome.latencies, 0.99),
            outcome.errors
        );
        outcomes.push((name, outcome));
    }

    if let Some(path) = &args.timeline {
        write_timeline(path, &outcomes)?;
    }
    let _ = stop.send(());
    server.await.context("server task")??;
    // How many vectors per KNN the int8 prefilter left to score exactly (of `episodes`).
    let resident = store.collection().resident_stats();
    let rescored_per_knn = resident.rescored as f64 / resident.answered.max(1) as f64;
    println!(
        "resident KNN: {} answered, {rescored_per_knn:.1} vectors scored exactly per query",
        resident.answered
    );
    drop(store);

    // Every acknowledged write must be in the file; the file must be intact.
    let db = Db::open_with(DbOptions::file(&path).read_only(true)).await?;
    let mut lost = 0u64;
    let mut acked = 0u64;
    for (_, outcome) in &outcomes {
        for (table, id) in &outcome.acked {
            acked += 1;
            let found: Option<i64> = match *table {
                "episodes" => sqlx::query_scalar("SELECT 1 FROM episodes WHERE id = ?"),
                _ => sqlx::query_scalar("SELECT 1 FROM knowledge_items WHERE id = ?"),
            }
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
            lost += u64::from(found.is_none());
        }
    }
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(db.reader()).await?;
    let integrity = integrity.join("; ");
    db.close().await?;
    println!("acknowledged writes {acked}, lost {lost}, integrity_check {integrity}");

    let errors: u64 = outcomes.iter().map(|(_, o)| o.errors).sum();
    let get = |name: &str| outcomes.iter().find(|(n, _)| *n == name).map(|(_, o)| o);
    let mut report = json!({
        "bench": "serve",
        "connections": args.connections,
        "seconds_per_workload": args.seconds,
        "episodes": args.episodes,
        "corpus": format!("{:?}", args.corpus).to_lowercase(),
        "access_flush_ms": args.access_flush_ms.unwrap_or(nexus_store::ACCESS_FLUSH_INTERVAL.as_millis() as u64),
        "readers": args.readers,
        "mmap_mib": args.mmap_mib,
        "max_concurrent": max_concurrent,
        "vector_element": format!("{:?}", args.vector_element).to_lowercase(),
        "knn_recall_at_10": knn_recall,
        "vector_rescored_per_knn": rescored_per_knn,
        "direct_recall_p50_ms": direct_p50,
        "direct_recall_p99_ms": direct_p99,
        "direct_recall_cpu_ms": direct_cpu_ms,
        "direct_recall_faults": direct_faults,
        "direct_recall_switches": direct_switches,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "errors": errors,
        "acknowledged_writes": acked,
        "lost_writes": lost,
        "integrity_check": integrity,
    });
    for name in ["recall", "search", "knowledge", "mixed"] {
        if let Some(o) = get(name) {
            report[format!("{name}_rps")] = json!((o.rps() * 10.0).round() / 10.0);
            report[format!("{name}_p50_ms")] = json!(percentile_ms(&o.latencies, 0.50));
            report[format!("{name}_p99_ms")] = json!(percentile_ms(&o.latencies, 0.99));
            let (cpu, faults, switches) = o.per_request();
            report[format!("{name}_cpu_ms_per_req")] = json!(cpu);
            report[format!("{name}_faults_per_req")] = json!(faults);
            report[format!("{name}_switches_per_req")] = json!(switches);
        }
    }
    for Stage { name, p50_ms, cpu_ms, switches } in &stages {
        report[format!("direct_{name}_p50_ms")] = json!(p50_ms);
        report[format!("direct_{name}_cpu_ms")] = json!(cpu_ms);
        report[format!("direct_{name}_switches")] = json!(switches);
    }
    if let Some(o) = get("recall") {
        report["recall_p50_vs_direct"] = json!(percentile_ms(&o.latencies, 0.50) / direct_p50.max(1e-9));
    }
    println!("{report}");
    Ok(())
}

/// Writes `workload,sent_ms,latency_ms` for every answered request of `outcomes`.
fn write_timeline(path: &std::path::Path, outcomes: &[(&str, Outcome)]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "workload,sent_ms,latency_ms")?;
    for (name, outcome) in outcomes {
        for (sent, latency) in outcome.sent.iter().zip(&outcome.latencies) {
            writeln!(out, "{name},{:.3},{:.3}", sent.as_secs_f64() * 1e3, latency.as_secs_f64() * 1e3)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Where and as whom the load generator sends.
#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    base: String,
    key: String,
    project: String,
    corpus: Arc<Corpus>,
}

/// Runs `connections` closed-loop clients over `mix` (round robin from a random start) for
/// `duration`.
async fn load(target: &Target, mix: &[Op], connections: usize, duration: Duration) -> Outcome {
    let started = Instant::now();
    let before = Usage::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for worker in 0..connections {
        let target = target.clone();
        let mix = mix.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(worker as u64);
            let mut outcome = Outcome::default();
            let mut i = rng.usize(..mix.len());
            while Instant::now() < deadline {
                let op = mix[i % mix.len()];
                i += 1;
                let sent = Instant::now();
                match send(&target, op, &mut rng).await {
                    Ok(write) => {
                        outcome.latencies.push(sent.elapsed());
                        outcome.sent.push(sent - started);
                        if let Some(write) = write {
                            outcome.acked.push(write);
                        }
                    }
                    Err(_) => outcome.errors += 1,
                }
            }
            outcome
        }));
    }
    let mut total = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(o) => {
                total.latencies.extend(o.latencies);
                total.sent.extend(o.sent);
                total.errors += o.errors;
                total.acked.extend(o.acked);
            }
            Err(_) => total.errors += 1,
        }
    }
    total.elapsed = started.elapsed();
    total.usage = Usage::now().since(before);
    total
}

/// The 1-minute load average (`/proc/loadavg`), to print next to wall-clock figures.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Sends one request; a write answers with the table and id it acknowledged.
async fn send(
    target: &Target,
    op: Op,
    rng: &mut fastrand::Rng,
) -> anyhow::Result<Option<(&'static str, String)>> {
    let Target { client, base, key, project, corpus } = target;
    let sentence = |rng: &mut fastrand::Rng, words| corpus.sentence(rng, words);
    let request = match op {
        Op::Recall => client
            .get(format!("{base}/v1/memory"))
            .query(&[("project", project.as_str()), ("q", sentence(rng, 3).as_str())]),
        Op::Search => client
            .get(format!("{base}/v1/search"))
            .query(&[("project", project.as_str()), ("q", sentence(rng, 3).as_str())]),
        Op::Remember => client
            .post(format!("{base}/v1/memory"))
            .json(&json!({"project": project, "type": "decision", "content": sentence(rng, 12)})),
        Op::Knowledge => client
            .post(format!("{base}/v1/knowledge"))
            .json(&json!({"kind": "text", "title": sentence(rng, 2), "content": sentence(rng, 60)})),
    };
    let response = request.bearer_auth(key).send().await?;
    anyhow::ensure!(response.status().is_success(), "status {}", response.status());
    let body: serde_json::Value = response.json().await?;
    let table = match op {
        Op::Remember => "episodes",
        Op::Knowledge => "knowledge_items",
        Op::Recall | Op::Search => return Ok(None),
    };
    let id = body["id"].as_str().context("no id in a write's answer")?.to_owned();
    Ok(Some((table, id)))
}

/// One stage of a recall timed alone: p50 wall-clock, and the mean CPU milliseconds and
/// context switches (whole process) per query.
#[derive(Debug)]
struct Stage {
    name: &'static str,
    p50_ms: f64,
    cpu_ms: f64,
    switches: f64,
}

/// The p50 and the mean CPU time (whole process) of each stage of a recall, each timed apart
/// over the same 200 queries, one at a time: the query embedding, the keyword leg alone, the
/// vector leg alone, the whole search (both legs, fusion, hydration, snippets) with the
/// candidates of a recall ([`nexus_store::RECALL_CANDIDATES`]) and with the search's default,
/// and the whole recall (search and access counts).
async fn stage_profile(store: &Store, project: &ProjectId, corpus: &Corpus) -> anyhow::Result<Vec<Stage>> {
    let mut rng = fastrand::Rng::with_seed(0x57a6e);
    let queries: Vec<String> = (0..200).map(|_| corpus.sentence(&mut rng, 3)).collect();
    let search = |query: &str| {
        store
            .search()
            .text(query)
            .project(project)
            .kinds([SourceKind::Episode])
            .candidates(nexus_store::RECALL_CANDIDATES)
    };
    let mut stages = Vec::new();
    let mut times = Vec::new();
    let mut usage = Usage::now();
    let mut done = |stage: &'static str, times: &mut Vec<Duration>, stages: &mut Vec<Stage>| {
        let now = Usage::now();
        let (cpu_ms, _, switches) = now.since(usage).per(times.len());
        usage = now;
        stages.push(Stage {
            name: stage,
            p50_ms: percentile_ms(&std::mem::take(times), 0.5),
            cpu_ms,
            switches,
        });
    };
    for query in &queries {
        let started = Instant::now();
        store.embedder().embed_one(query).await?;
        times.push(started.elapsed());
    }
    done("embed", &mut times, &mut stages);
    for (stage, mode) in [("fts_leg", Mode::FtsOnly), ("vector_leg", Mode::VectorOnly)] {
        for query in &queries {
            let started = Instant::now();
            search(query).mode(mode).snippets(false).limit(1).execute().await?;
            times.push(started.elapsed());
        }
        done(stage, &mut times, &mut stages);
    }
    for query in &queries {
        let started = Instant::now();
        search(query).execute().await?;
        times.push(started.elapsed());
    }
    done("search", &mut times, &mut stages);
    for query in &queries {
        let started = Instant::now();
        search(query).candidates(100).execute().await?;
        times.push(started.elapsed());
    }
    done("search100", &mut times, &mut stages);
    for query in &queries {
        let started = Instant::now();
        store.recall(project, query, &RecallOptions::default()).await?;
        times.push(started.elapsed());
    }
    done("recall", &mut times, &mut stages);
    Ok(stages)
}

/// Recall@10 of the store's KNN (the vector leg) against an exact scan of the same vectors in
/// Rust, over 100 queries of the corpus: the share of the KNN's 10 that are among the exact
/// 10 (ties at the 10th distance count as found; hashed vectors tie often).
async fn knn_recall_at_10(
    store: &Store,
    project: &ProjectId,
    texts: &[(String, String)],
    corpus: &Corpus,
) -> anyhow::Result<f64> {
    let embedder = LocalEmbedder::new(384)?;
    let unit = |mut v: Vec<f32>| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    let mut vectors = std::collections::HashMap::with_capacity(texts.len());
    for batch in texts.chunks(256) {
        let batch_texts: Vec<&str> = batch.iter().map(|(_, text)| text.as_str()).collect();
        for ((id, _), vector) in batch.iter().zip(embedder.embed(&batch_texts).await?) {
            vectors.insert(id.as_str(), unit(vector));
        }
    }
    let mut rng = fastrand::Rng::with_seed(0xc0ffee);
    let (mut found, mut asked) = (0usize, 0usize);
    for _ in 0..100 {
        let query = unit(embedder.embed_one(&corpus.sentence(&mut rng, 3)).await?);
        let similarity = |v: &[f32]| v.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>();
        let mut exact: Vec<f32> = vectors.values().map(|v| similarity(v)).collect();
        exact.sort_by(|a, b| b.total_cmp(a));
        let Some(&tenth) = exact.get(9) else { continue };
        let knn = KnnQuery::new(&query, 10).project(project.as_str()).kinds(&[SourceKind::Episode]);
        let neighbors = store.collection().knn(store.db().reader(), &knn).await?;
        asked += 10;
        found += neighbors
            .iter()
            .filter(|n| vectors.get(n.id.as_str()).is_some_and(|v| similarity(v) >= tenth - 1e-6))
            .count();
    }
    Ok(found as f64 / asked.max(1) as f64)
}
