//! `cargo xtask bench fts [--rows N] [--queries N]`: full-text search speed over synthetic
//! code chunks.
//!
//! 1. Generate `--rows` code chunks (Rust-like functions built from a skewed vocabulary of
//!    about 2,000 words: camelCase, PascalCase and snake_case names, paths, symbols) and insert
//!    them through `nexus_db::code_chunks::create`, so the FTS triggers index them; then
//!    `nexus_fts::optimize`; then `nexus_fts::warm` with `--warm-terms` (the score lists of the
//!    index's most frequent terms, as `nexus serve` computes them when it starts; `warming_*`
//!    keys; 0 skips it).
//! 2. Time `--queries` searches (`nexus_fts::search` on the reader pool, code chunks of the
//!    project, top 10, default [`MatchMode::Any`], then again with `All`): plain words,
//!    identifier parts, snake_case and camelCase names, file names, prefixes, phrases,
//!    exclusions (also timed per shape, `shape_*` keys), and again as the keyword leg of
//!    `bench hybrid` asks (top 100, no snippets, `top100_*` keys); besides wall-clock time,
//!    each query's CPU time (`*cpu*` keys), which a loaded machine inflates far less. This
//!    first pass fills nexus-fts's cache of per-phrase score lists as it goes (`--cache-mib`,
//!    its hit rate is `cache_hit_rate`); a second pass over the same queries (`warm_*` keys)
//!    times a warm cache.
//! 3. Time two baselines in the same run on the same queries: the bare FTS5 statement
//!    (`MATCH` + `ORDER BY rank LIMIT 10`, no join, filter or snippet) and an unindexed
//!    `LIKE '%word%'` scan for the query's first word.
//!
//! The last line is one JSON object with the figures and the ratios.

use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_db::{Db, SourceKind, code_chunks, projects};
use nexus_fts::{FieldWeights, FtsQuery, MatchExpression, MatchMode};

use crate::eval::percentile_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Code chunks to generate.
    #[arg(long, default_value_t = 100_000)]
    rows: u32,
    /// Queries to time.
    #[arg(long, default_value_t = 500)]
    queries: u32,
    /// Queries to time for the slow LIKE-scan baseline.
    #[arg(long, default_value_t = 40)]
    like_queries: u32,
    /// Queries to profile: FTS5's exact ranking timed stage by stage (`profile_*` keys).
    #[arg(long, default_value_t = 100)]
    profile_queries: u32,
    /// Bound of nexus-fts's cache of per-phrase score lists, in MiB (0: no cache).
    #[arg(long, default_value_t = nexus_fts::DEFAULT_CACHE_BYTES >> 20)]
    cache_mib: usize,
    /// Terms whose score lists `nexus_fts::warm` computes before the queries (0: none).
    #[arg(long, default_value_t = nexus_fts::WARM_TERMS)]
    warm_terms: usize,
    /// Keep the database in this file, and reuse it when it already holds the chunks (for
    /// repeated runs while developing; `load_rows_per_s` is then 0).
    #[arg(long)]
    db: Option<std::path::PathBuf>,
}

/// The stages of FTS5's exact ranking of an OR query, each statement doing one more step than
/// the one before: matching only, bm25 of every match, the sort for the top 10, the join to the
/// base table with the project filter.
const PROFILE: [(&str, &str); 4] = [
    ("match", "SELECT count(*) FROM code_chunks_fts WHERE code_chunks_fts MATCH ?1 AND ?2 IS NOT NULL"),
    (
        "bm25",
        "SELECT sum(r) FROM (SELECT bm25(code_chunks_fts, 2.0, 3.0, 1.0, 0.5) AS r FROM code_chunks_fts \
         WHERE code_chunks_fts MATCH ?1 AND ?2 IS NOT NULL LIMIT -1)",
    ),
    (
        "sort",
        "SELECT rowid FROM code_chunks_fts WHERE code_chunks_fts MATCH ?1 AND ?2 IS NOT NULL \
         ORDER BY bm25(code_chunks_fts, 2.0, 3.0, 1.0, 0.5) LIMIT 10",
    ),
    (
        "join",
        "SELECT c.id FROM code_chunks_fts CROSS JOIN code_chunks AS c ON c.rowid = code_chunks_fts.rowid \
         WHERE code_chunks_fts MATCH ?1 AND c.project_id = ?2 \
         ORDER BY bm25(code_chunks_fts, 2.0, 3.0, 1.0, 0.5), c.id LIMIT 10",
    ),
];

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    nexus_fts::set_cache_limit(args.cache_mib << 20);
    let scratch = tempfile::tempdir()?;
    let db = Db::open(args.db.clone().unwrap_or_else(|| scratch.path().join("bench.db"))).await?;
    let mut corpus = Corpus::new(0x05ee_df75);
    let kept: Option<nexus_db::ProjectId> = sqlx::query_scalar(
        "SELECT p.id FROM projects AS p WHERE p.name = 'bench' AND (SELECT count(*) FROM code_chunks) = ?1",
    )
    .bind(args.rows)
    .fetch_optional(db.reader())
    .await?;
    let project = match &kept {
        Some(id) => projects::get(db.reader(), id).await?,
        None => projects::create(db.writer(), projects::NewProject::new("bench", "/src/bench")).await?,
    };

    let started = Instant::now();
    let mut load = None;
    if kept.is_none() {
        for batch_start in (0..args.rows).step_by(1000) {
            let mut tx = db.begin().await?;
            for n in batch_start..(batch_start + 1000).min(args.rows) {
                code_chunks::create(&mut *tx, corpus.chunk(&project.id, n)).await?;
            }
            tx.commit().await?;
        }
        load = Some(started.elapsed());
    } else {
        // The same generator state as after a load, for the same queries.
        (0..args.rows).for_each(|n| drop(corpus.chunk(&project.id, n)));
    }
    let started = Instant::now();
    if load.is_some() {
        nexus_fts::optimize(db.writer(), SourceKind::CodeChunk).await?;
    }
    let optimize = started.elapsed();
    let load_rows_per_s = load.map_or(0.0, |load| (f64::from(args.rows) / load.as_secs_f64()).round());
    let stats = nexus_fts::stats(db.reader(), SourceKind::CodeChunk).await?;
    let text_bytes: i64 = sqlx::query_scalar(
        "SELECT sum(length(CAST(file AS BLOB)) + length(CAST(content AS BLOB)) + coalesce(length(CAST(symbols AS BLOB)), 0)) FROM code_chunks",
    )
    .fetch_one(db.reader())
    .await?;
    let mib = |bytes: i64| bytes as f64 / f64::from(1 << 20);
    println!(
        "indexed {} chunks ({:.1} MiB of text) in {:.1} s ({:.0} rows/s with triggers), optimize {:.1} s, index {:.1} MiB",
        stats.indexed_rows,
        mib(text_bytes),
        load.unwrap_or_default().as_secs_f64(),
        load_rows_per_s,
        optimize.as_secs_f64(),
        mib(stats.size_bytes)
    );

    let started = Instant::now();
    let warmed =
        nexus_fts::warm(&db, SourceKind::CodeChunk, &FieldWeights::default(), args.warm_terms).await?;
    let warming = started.elapsed();
    println!(
        "warmed the score lists of {} terms ({} rows) in {:.2} s",
        warmed.lists,
        warmed.rows,
        warming.as_secs_f64()
    );
    let queries: Vec<String> = (0..args.queries).map(|i| corpus.query(i)).collect();
    for text in queries.iter().take(20) {
        nexus_fts::search(db.reader(), &search_query(text, &project.id)).await?; // warm-up
    }
    let (mut nexus, mut all, mut bare, mut like) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut by_shape, mut top100): ([Vec<Duration>; SHAPES.len()], _) = (Default::default(), Vec::new());
    // CPU time of each query (all threads of this process), which other load inflates far less
    // than wall-clock time: `search`, the top 100, the bare statement.
    let mut cpu: [Vec<Duration>; 3] = Default::default();
    let mut hits_total = 0usize;
    for (i, text) in queries.iter().enumerate() {
        let (started, cpu_started) = (Instant::now(), cpu_ns());
        let hits = nexus_fts::search(db.reader(), &search_query(text, &project.id)).await?;
        nexus.push(started.elapsed());
        cpu[0].push(Duration::from_nanos(cpu_ns().saturating_sub(cpu_started)));
        by_shape[i % SHAPES.len()].push(started.elapsed());
        hits_total += hits.len();

        // What the keyword leg of `bench hybrid` asks: 100 candidates, no snippets.
        let (started, cpu_started) = (Instant::now(), cpu_ns());
        nexus_fts::search(db.reader(), &search_query(text, &project.id).limit(100).snippet(None)).await?;
        top100.push(started.elapsed());
        cpu[1].push(Duration::from_nanos(cpu_ns().saturating_sub(cpu_started)));

        let started = Instant::now();
        nexus_fts::search(db.reader(), &search_query(text, &project.id).mode(MatchMode::All)).await?;
        all.push(started.elapsed());

        let expr = MatchExpression::parse(text, MatchMode::Any, SourceKind::CodeChunk)?;
        let (started, cpu_started) = (Instant::now(), cpu_ns());
        sqlx::query("SELECT rowid FROM code_chunks_fts WHERE code_chunks_fts MATCH ? ORDER BY rank LIMIT 10")
            .bind(expr.as_str())
            .fetch_all(db.reader())
            .await?;
        bare.push(started.elapsed());
        cpu[2].push(Duration::from_nanos(cpu_ns().saturating_sub(cpu_started)));
    }
    // The first pass above filled nexus-fts's cache of score lists as it went (its phrases
    // repeat across queries); a second pass over the same queries times a warm cache.
    let first_pass = nexus_fts::cache_stats();
    let (mut warm, mut warm_cpu) = (Vec::new(), Vec::new());
    for text in &queries {
        let (started, cpu_started) = (Instant::now(), cpu_ns());
        nexus_fts::search(db.reader(), &search_query(text, &project.id)).await?;
        warm.push(started.elapsed());
        warm_cpu.push(Duration::from_nanos(cpu_ns().saturating_sub(cpu_started)));
    }
    let second_pass = nexus_fts::cache_stats();
    let hit_rate = |hits: u64, misses: u64| round3(hits as f64 / (hits + misses).max(1) as f64);
    for text in queries.iter().take(args.like_queries as usize) {
        let word =
            text.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| !w.is_empty()).context("query word")?;
        let started = Instant::now();
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM code_chunks WHERE project_id = ? AND content LIKE ?",
        )
        .bind(&project.id)
        .bind(format!("%{word}%"))
        .fetch_one(db.reader())
        .await?;
        like.push(started.elapsed());
    }
    let mut profile: [Vec<Duration>; PROFILE.len()] = Default::default();
    let (mut matches, mut no_snippets) = (0i64, Vec::new());
    for text in queries.iter().take(args.profile_queries as usize) {
        let expr = MatchExpression::parse(text, MatchMode::Any, SourceKind::CodeChunk)?;
        for (i, (_, sql)) in PROFILE.iter().enumerate() {
            let started = Instant::now();
            let rows = sqlx::query(*sql).bind(expr.as_str()).bind(&project.id).fetch_all(db.reader()).await?;
            profile[i].push(started.elapsed());
            if i == 0 {
                matches += rows.first().map(|r| sqlx::Row::get::<i64, _>(r, 0)).unwrap_or(0);
            }
        }
        let started = Instant::now();
        nexus_fts::search(db.reader(), &search_query(text, &project.id).snippet(None)).await?;
        no_snippets.push(started.elapsed());
    }
    db.close().await?;

    let p = |samples: &[Duration], q| percentile_ms(samples, q);
    for (i, (stage, _)) in PROFILE.iter().enumerate() {
        println!(
            "profile, exact FTS5 up to {stage}: p50 {:.3} ms, p95 {:.3} ms",
            p(&profile[i], 0.5),
            p(&profile[i], 0.95)
        );
    }
    println!(
        "nexus_fts::search (top 10): p50 {:.3} ms, p95 {:.3} ms over {} queries, {:.1} hits/query",
        p(&nexus, 0.5),
        p(&nexus, 0.95),
        nexus.len(),
        hits_total as f64 / nexus.len() as f64
    );
    for (shape, samples) in SHAPES.iter().zip(&by_shape) {
        println!("  shape {shape:<9}: p50 {:.3} ms, p95 {:.3} ms", p(samples, 0.5), p(samples, 0.95));
    }
    println!(
        "CPU time per query: search p50 {:.3} ms, p95 {:.3} ms; top 100 p50 {:.3}, p95 {:.3}; bare FTS5 p50 {:.3}, p95 {:.3}",
        p(&cpu[0], 0.5),
        p(&cpu[0], 0.95),
        p(&cpu[1], 0.5),
        p(&cpu[1], 0.95),
        p(&cpu[2], 0.5),
        p(&cpu[2], 0.95)
    );
    println!(
        "second pass, warm cache: p50 {:.3} ms, p95 {:.3} ms; CPU p50 {:.3}, p95 {:.3} ms; \
         cache hit rate {:.3} (first pass) / {:.3} (second), {} lists, {:.1} MiB",
        p(&warm, 0.5),
        p(&warm, 0.95),
        p(&warm_cpu, 0.5),
        p(&warm_cpu, 0.95),
        hit_rate(first_pass.hits, first_pass.misses),
        hit_rate(second_pass.hits - first_pass.hits, second_pass.misses - first_pass.misses),
        second_pass.entries,
        second_pass.bytes as f64 / f64::from(1 << 20)
    );
    println!("same, top 100 without snippets: p50 {:.3} ms, p95 {:.3} ms", p(&top100, 0.5), p(&top100, 0.95));
    println!("same with MatchMode::All: p50 {:.3} ms, p95 {:.3} ms", p(&all, 0.5), p(&all, 0.95));
    println!("baseline bare FTS5 MATCH: p50 {:.3} ms, p95 {:.3} ms", p(&bare, 0.5), p(&bare, 0.95));
    println!(
        "baseline LIKE scan: p50 {:.3} ms, p95 {:.3} ms over {} queries",
        p(&like, 0.5),
        p(&like, 0.95),
        like.len()
    );
    let summary = serde_json::json!({
        "bench": "fts",
        "rows": args.rows,
        "queries": nexus.len(),
        "load_rows_per_s": load_rows_per_s,
        "text_bytes": text_bytes,
        "index_bytes": stats.size_bytes,
        "p50_ms": round3(p(&nexus, 0.5)),
        "p95_ms": round3(p(&nexus, 0.95)),
        "all_p50_ms": round3(p(&all, 0.5)),
        "all_p95_ms": round3(p(&all, 0.95)),
        "bare_fts5_p50_ms": round3(p(&bare, 0.5)),
        "bare_fts5_p95_ms": round3(p(&bare, 0.95)),
        "like_scan_p50_ms": round3(p(&like, 0.5)),
        "p50_vs_bare_fts5": round3(p(&nexus, 0.5) / p(&bare, 0.5)),
        "like_scan_p50_vs_p50": round3(p(&like, 0.5) / p(&nexus, 0.5)),
        "profile_queries": profile[0].len(),
        "profile_matches_per_query": (matches as f64 / profile[0].len().max(1) as f64).round(),
        "profile_match_p50_ms": round3(p(&profile[0], 0.5)),
        "profile_match_p95_ms": round3(p(&profile[0], 0.95)),
        "profile_bm25_p50_ms": round3(p(&profile[1], 0.5)),
        "profile_bm25_p95_ms": round3(p(&profile[1], 0.95)),
        "profile_sort_p50_ms": round3(p(&profile[2], 0.5)),
        "profile_sort_p95_ms": round3(p(&profile[2], 0.95)),
        "profile_join_p50_ms": round3(p(&profile[3], 0.5)),
        "profile_join_p95_ms": round3(p(&profile[3], 0.95)),
        "profile_search_no_snippets_p50_ms": round3(p(&no_snippets, 0.5)),
        "profile_search_no_snippets_p95_ms": round3(p(&no_snippets, 0.95)),
        "cpu_p50_ms": round3(p(&cpu[0], 0.5)),
        "cpu_p95_ms": round3(p(&cpu[0], 0.95)),
        "top100_cpu_p50_ms": round3(p(&cpu[1], 0.5)),
        "top100_cpu_p95_ms": round3(p(&cpu[1], 0.95)),
        "bare_fts5_cpu_p50_ms": round3(p(&cpu[2], 0.5)),
        "bare_fts5_cpu_p95_ms": round3(p(&cpu[2], 0.95)),
        "top100_no_snippets_p50_ms": round3(p(&top100, 0.5)),
        "top100_no_snippets_p95_ms": round3(p(&top100, 0.95)),
        "shape_p50_ms": shapes(&by_shape, 0.5),
        "shape_p95_ms": shapes(&by_shape, 0.95),
    });
    let cache = serde_json::json!({
        "warm_p50_ms": round3(p(&warm, 0.5)),
        "warm_p95_ms": round3(p(&warm, 0.95)),
        "warm_cpu_p50_ms": round3(p(&warm_cpu, 0.5)),
        "warm_cpu_p95_ms": round3(p(&warm_cpu, 0.95)),
        "cache_mib": args.cache_mib,
        "cache_hit_rate": hit_rate(first_pass.hits, first_pass.misses),
        "warm_cache_hit_rate": hit_rate(second_pass.hits - first_pass.hits, second_pass.misses - first_pass.misses),
        "cache_lists": second_pass.entries,
        "cache_bytes": second_pass.bytes,
        "warming_terms": args.warm_terms,
        "warming_lists": warmed.lists,
        "warming_rows": warmed.rows,
        "warming_ms": round3(warming.as_secs_f64() * 1e3),
    });
    let mut summary = summary;
    if let (Some(all), serde_json::Value::Object(more)) = (summary.as_object_mut(), cache) {
        all.extend(more);
    }
    println!("{summary}");
    Ok(())
}

fn search_query(text: &str, project: &str) -> FtsQuery {
    FtsQuery::new(text).project(project).kinds([SourceKind::CodeChunk]).limit(10)
}

/// CPU time used so far by every thread of this process, in ns (Linux's per-thread
/// `schedstat`; 0 where there is none).
fn cpu_ns() -> u64 {
    let threads = std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten();
    threads
        .filter_map(|thread| std::fs::read_to_string(thread.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The query shapes of [`Corpus::query`], in the order of `i % 8`.
const SHAPES: [&str; 8] = ["words", "snake", "camel", "file", "prefix", "phrase", "exclusion", "pascal"];

/// `{shape: percentile}` of the per-shape timings.
fn shapes(by_shape: &[Vec<Duration>], q: f64) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = SHAPES
        .iter()
        .zip(by_shape)
        .map(|(shape, samples)| ((*shape).to_owned(), round3(percentile_ms(samples, q)).into()))
        .collect();
    serde_json::Value::Object(map)
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Deterministic synthetic code: a word list and a SplitMix64 generator.
pub(crate) struct Corpus {
    rng: fastrand::Rng,
    words: Vec<String>,
}

const SYLLABLES: &[&str] = &[
    "ba", "co", "de", "fi", "gu", "ha", "ki", "lo", "mu", "ne", "po", "ra", "si", "tu", "ve", "xo", "ya",
    "ze", "bri", "cla", "dro", "fle", "gri", "pla", "stu", "tra",
];
const COMMON: &[&str] = &[
    "search", "builder", "parse", "query", "index", "vector", "token", "cache", "stream", "buffer", "config",
    "handler", "request", "response", "session", "user", "order", "cart", "total", "price", "item", "list",
    "map", "key", "value", "error", "result", "file", "path", "read", "write", "open", "close", "node",
    "tree", "graph", "edge", "score", "rank", "filter", "limit", "offset", "batch", "chunk", "task", "agent",
    "project",
];

impl Corpus {
    pub(crate) fn new(seed: u64) -> Self {
        let mut corpus = Self {
            rng: fastrand::Rng::with_seed(seed),
            words: COMMON.iter().map(|w| (*w).to_owned()).collect(),
        };
        while corpus.words.len() < 2000 {
            let parts = 2 + corpus.below(2);
            let word: String = (0..parts).map(|_| SYLLABLES[corpus.below(SYLLABLES.len())]).collect();
            if !corpus.words.contains(&word) {
                corpus.words.push(word);
            }
        }
        corpus
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.usize(..n)
    }

    /// A word, skewed towards the start of the list (common words are common).
    fn word(&mut self) -> String {
        let u = self.rng.f64();
        self.words[((u * u * u) * self.words.len() as f64) as usize].clone()
    }

    fn snake(&mut self) -> String {
        format!("{}_{}", self.word(), self.word())
    }

    fn camel(&mut self) -> String {
        let (a, b) = (self.word(), self.word());
        format!("{a}{}", capitalise(&b))
    }

    fn pascal(&mut self) -> String {
        (0..2 + self.below(2)).map(|_| capitalise(&self.word())).collect()
    }

    pub(crate) fn chunk(&mut self, project: &str, n: u32) -> code_chunks::NewCodeChunk {
        let (function, ty, other) = (self.snake(), self.pascal(), self.pascal());
        let mut content =
            format!("/// {} the {} of a {}.\npub fn {function}(", self.word(), self.word(), self.word());
        content +=
            &format!("{}: &{ty}, {}: {other}) -> Result<{}> {{\n", self.word(), self.word(), self.pascal());
        for _ in 0..4 + self.below(8) {
            let line = match self.below(4) {
                0 => format!("    let {} = {}.{}()?;\n", self.snake(), self.word(), self.camel()),
                1 => format!(
                    "    if {}.{} > {} {{ return Err({}::{}); }}\n",
                    self.word(),
                    self.word(),
                    self.below(100),
                    self.pascal(),
                    self.pascal()
                ),
                2 => format!(
                    "    {}::{}(&{}, \"{} {}\");\n",
                    self.pascal(),
                    self.snake(),
                    self.word(),
                    self.word(),
                    self.word()
                ),
                _ => format!("    // {} {} {} {}\n", self.word(), self.word(), self.word(), self.word()),
            };
            content += &line;
        }
        content += "}\n";
        let file = format!("src/{}/{}.rs", self.word(), self.snake());
        let lines = content.lines().count() as i64;
        code_chunks::NewCodeChunk {
            id: None,
            project_id: project.into(),
            file,
            start_line: 1 + i64::from(n % 500),
            end_line: i64::from(n % 500) + lines,
            content,
            symbols: vec![function, ty],
            chunk_type: "function".into(),
            language: "rust".into(),
            complexity: None,
            hash: format!("{n:016x}"),
            context: None,
            signature: None,
        }
    }

    pub(crate) fn query(&mut self, i: u32) -> String {
        match i % 8 {
            0 => format!("{} {}", self.word(), self.word()),
            1 => self.snake(),
            2 => self.camel(),
            3 => format!("{}.rs", self.snake()),
            4 => format!("{}*", &self.word()[..3]),
            5 => format!("\"{} {}\"", self.word(), self.word()),
            6 => format!("{} {} -{}", self.word(), self.word(), self.word()),
            _ => format!("{} {}", self.pascal(), self.word()),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
}
