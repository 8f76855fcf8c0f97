//! `nexus-bench-index` — `cargo xtask bench index [--files N] [--seed S]`: memory and speed of
//! `Store::index_dir` on a synthetic source tree.
//!
//! 1. Generate `--files` source files (default 20,000) under a temporary directory: Rust,
//!    Python, TypeScript, Go and Markdown of a few KiB each, 100 files per directory, and —
//!    like real trees with generated or vendored code — the last `--large-files` (default 128)
//!    of them large generated Rust files (about 400 KiB each) side by side in one directory.
//!    A seeded generator makes every run see the same tree, and almost every chunk is
//!    distinct (the embedding cache cannot hide the work).
//! 2. Open a store on a file in another temporary directory with the defaults (`--embedder`:
//!    the offline default, cached; `--cache-kib` and `--mmap-bytes` change SQLite's page cache and
//!    memory map) and index the tree once, then once more (nothing changed).
//!
//! Heap is counted by this binary's own `#[global_allocator]` (every Rust allocation: current
//! and peak bytes; SQLite allocates with the C allocator, so its page caches are not in it),
//! peak RSS is `VmHWM` from `/proc/self/status` (heap, SQLite's caches and the mapped database
//! pages together); the peaks of `RssAnon` (heap of Rust *and* C, SQLite's page caches
//! included) and `RssFile` (mapped files: the binary, the memory-mapped database) are sampled
//! at every progress report. It is a separate binary so the counting allocator slows no other
//! tool.
//! The last line is one JSON object.
// A benchmark's output is its report: printing it is the point (libraries use tracing).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use nexus_store::Store;
use nexus_store::db::DbOptions;
use nexus_store::db::projects::{self, NewProject};

/// The system allocator, counting the bytes currently allocated and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are only bookkeeping.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Debug, Parser)]
#[command(name = "nexus-bench-index", about = "Memory and speed of indexing a synthetic tree")]
struct Args {
    /// Source files to generate.
    #[arg(long, default_value_t = 20_000)]
    files: u32,
    /// How many of the files are large generated files (about 400 KiB each).
    #[arg(long, default_value_t = 128)]
    large_files: u32,
    /// SQLite page cache per connection, in KiB (default: nexus-db's, 32 MiB).
    #[arg(long)]
    cache_kib: Option<u32>,
    /// SQLite memory-mapped I/O size in bytes (default: nexus-db's, 256 MiB; 0 turns it off).
    #[arg(long)]
    mmap_bytes: Option<u64>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0x1dec_5eed)]
    seed: u64,
    /// The embedder: `local` (the offline default, as `nexus index` chooses it: the neural
    /// model when its files are present, else hashing), `neural`, `hashing` or `openai`.
    #[arg(long, default_value = "local")]
    embedder: nexus_embed::EmbedderKind,
}

fn main() -> anyhow::Result<()> {
    nexus_embed::tune_allocator();
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let tree = tempfile::tempdir()?;
    let scratch = tempfile::tempdir()?;
    let started = Instant::now();
    let tree_bytes = generate(tree.path(), args.files, args.large_files.min(args.files), args.seed)?;
    println!(
        "generated {} files ({:.1} MiB) in {:.1} s",
        args.files,
        tree_bytes as f64 / f64::from(1 << 20),
        started.elapsed().as_secs_f64()
    );

    let mut options = DbOptions::file(scratch.path().join("bench.db"));
    if let Some(kib) = args.cache_kib {
        options = options.cache_size_kib(kib);
    }
    if let Some(bytes) = args.mmap_bytes {
        options = options.mmap_size(bytes);
    }
    let embedder = nexus_embed::EmbedderConfig::from_env_for(Some(args.embedder))?.build()?;
    println!("embedder: {} ({} dimensions)", embedder.model(), embedder.dimensions());
    let store =
        Store::builder(scratch.path().join("bench.db")).db_options(options).embedder(embedder).open().await?;
    let project = projects::create(store.db().writer(), NewProject::new("bench", "/bench")).await?;
    let heap_before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(heap_before, Ordering::Relaxed);
    let mut peak_heap_seen_at = Vec::new();
    let mut rss = Rss::default();
    let started = Instant::now();
    let report = store
        .index_dir(&project.id, tree.path(), |p| {
            rss.sample();
            // Heap every 2,000 files: a bounded index shows a flat line here.
            if p.files_done / 2000 > peak_heap_seen_at.len() {
                peak_heap_seen_at.push((p.files_done, CURRENT.load(Ordering::Relaxed), rss.anon_now));
            }
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_heap = PEAK.load(Ordering::Relaxed);
    let heap_after = CURRENT.load(Ordering::Relaxed);
    let mib = |bytes: usize| bytes as f64 / f64::from(1 << 20);
    for (files, heap, anon) in &peak_heap_seen_at {
        println!(
            "  after {files:>6} files: heap {:.1} MiB, RssAnon {:.1} MiB",
            mib(*heap),
            mib(*anon as usize)
        );
    }
    println!(
        "indexed {} files, {} chunks in {:.1} s ({:.0} files/s, {:.0} chunks/s); heap before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB",
        report.files_indexed,
        report.chunks_written,
        seconds,
        report.files_indexed as f64 / seconds,
        report.chunks_written as f64 / seconds,
        mib(heap_before),
        mib(peak_heap),
        mib(heap_after),
    );
    anyhow::ensure!(
        report.files_indexed == args.files as usize,
        "indexed {} of {} files",
        report.files_indexed,
        args.files
    );

    let started = Instant::now();
    let again = store.index_dir(&project.id, tree.path(), |_| rss.sample()).await?;
    let second_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(again.files_unchanged == args.files as usize, "second run: {again:?}");
    let peak_heap_both = PEAK.load(Ordering::Relaxed);
    let peak_rss = peak_rss_bytes()?;
    println!(
        "second run (unchanged): {second_seconds:.2} s; peak heap over both runs {:.1} MiB; peak RSS {:.1} MiB (sampled peaks: anonymous {:.1} MiB, file-backed {:.1} MiB)",
        mib(peak_heap_both),
        mib(peak_rss as usize),
        mib(rss.anon_peak as usize),
        mib(rss.file_peak as usize),
    );
    let model = store.embedder().model().to_owned();
    store.close().await?;
    println!(
        "{}",
        serde_json::json!({
            "bench": "index",
            "embedder": model,
            "files": report.files_indexed,
            "chunks": report.chunks_written,
            "tree_bytes": tree_bytes,
            "seconds": seconds,
            "second_run_seconds": second_seconds,
            "heap_before_bytes": heap_before,
            "peak_heap_bytes": peak_heap_both,
            "heap_after_bytes": heap_after,
            "peak_rss_bytes": peak_rss,
            "peak_rss_anon_bytes": rss.anon_peak,
            "peak_rss_file_bytes": rss.file_peak,
        })
    );
    Ok(())
}

/// A `/proc/self/status` field in bytes (the file gives kB).
fn status_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// `VmHWM` (peak resident set size) of this process, in bytes.
fn peak_rss_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status_bytes(&status, "VmHWM:").context("no VmHWM in /proc/self/status")
}

/// Sampled peaks of the anonymous and file-backed parts of the resident set.
#[derive(Debug, Default)]
struct Rss {
    anon_now: u64,
    anon_peak: u64,
    file_peak: u64,
}

impl Rss {
    fn sample(&mut self) {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            self.anon_now = status_bytes(&status, "RssAnon:").unwrap_or(0);
            self.anon_peak = self.anon_peak.max(self.anon_now);
            self.file_peak = self.file_peak.max(status_bytes(&status, "RssFile:").unwrap_or(0));
        }
    }
}

/// Writes `files` source files under `root`, 100 per directory, the last `large` of them
/// large generated files in `generated/`; returns their total size.
fn generate(root: &Path, files: u32, large: u32, seed: u64) -> anyhow::Result<u64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut total = 0u64;
    let small = files - large;
    for n in 0..small {
        let dir = root.join(format!("pkg{:04}", n / 100));
        if n % 100 == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        let (name, content) = source_file(&mut rng, n);
        total += content.len() as u64;
        std::fs::write(dir.join(name), content)?;
    }
    let dir = root.join("generated");
    std::fs::create_dir_all(&dir)?;
    for n in 0..large {
        let content = generated_file(&mut rng, n);
        total += content.len() as u64;
        std::fs::write(dir.join(format!("bindings{n:04}.rs")), content)?;
    }
    Ok(total)
}

/// A generated Rust file of about 400 KiB: constants and small functions, as in FFI bindings.
fn generated_file(rng: &mut fastrand::Rng, n: u32) -> String {
    let mut out = format!("//! Generated bindings, part {n}. Do not edit.\n\n");
    let mut item = 0u32;
    while out.len() < 400 * 1024 {
        let (a, b) = (word(rng).to_uppercase(), word(rng).to_uppercase());
        if item % 4 == 3 {
            out.push_str(&format!(
                "/// Calls `{a}_{b}` ({n}.{item}).\npub unsafe fn {}_{}_{item}(handle: *mut u8, flags: u32) -> i32 {{\n    let code = flags ^ {};\n    if handle.is_null() {{\n        return -1;\n    }}\n    code as i32\n}}\n\n",
                a.to_lowercase(),
                b.to_lowercase(),
                rng.u32(..100_000)
            ));
        } else {
            out.push_str(&format!("pub const {a}_{b}_{item}: u32 = {};\n", rng.u32(..u32::MAX)));
        }
        item += 1;
    }
    out
}

const WORDS: [&str; 48] = [
    "order", "cart", "total", "price", "cents", "user", "session", "token", "cache", "entry", "index",
    "chunk", "vector", "query", "search", "result", "writer", "reader", "batch", "file", "path", "tree",
    "node", "edge", "graph", "score", "rank", "limit", "offset", "cursor", "page", "event", "memory",
    "episode", "agent", "tool", "plan", "step", "retry", "backoff", "budget", "error", "report", "stats",
    "config", "option", "value", "key",
];

fn word(rng: &mut fastrand::Rng) -> &'static str {
    WORDS[rng.usize(..WORDS.len())]
}

/// One file of a few KiB: Rust, Python, TypeScript, Go or Markdown, by `n`.
fn source_file(rng: &mut fastrand::Rng, n: u32) -> (String, String) {
    let functions = rng.usize(6..14);
    let mut out = String::new();
    let ext = match n % 5 {
        0 => {
            out.push_str(&format!(
                "//! Module {n}: {} of {}.\n\nuse std::collections::HashMap;\n\n",
                word(rng),
                word(rng)
            ));
            for f in 0..functions {
                let (a, b, c) = (word(rng), word(rng), word(rng));
                out.push_str(&format!(
                    "/// Computes the {a} of a {b} ({n}.{f}).\npub fn {a}_{b}_{f}(items: &[u64], {c}: u64) -> u64 {{\n    let mut {a} = {};\n    for item in items {{\n        if *item > {c} {{\n            {a} += item * {};\n        }}\n    }}\n    {a}\n}}\n\n",
                    rng.u32(..1000),
                    rng.u32(1..50)
                ));
            }
            "rs"
        }
        1 => {
            out.push_str(&format!("\"\"\"Module {n}: {} helpers.\"\"\"\n\nimport os\n\n", word(rng)));
            for f in 0..functions {
                let (a, b, c) = (word(rng), word(rng), word(rng));
                out.push_str(&format!(
                    "def {a}_{b}_{f}({c}, items):\n    \"\"\"Return the {a} of {b} ({n}.{f}).\"\"\"\n    total = {}\n    for item in items:\n        if item > {c}:\n            total += item * {}\n    return total\n\n\n",
                    rng.u32(..1000),
                    rng.u32(1..50)
                ));
            }
            "py"
        }
        2 => {
            out.push_str(&format!(
                "// Module {n}: {} service.\nimport {{ {} }} from './{}';\n\n",
                word(rng),
                word(rng),
                word(rng)
            ));
            for f in 0..functions {
                let (a, b, c) = (word(rng), word(rng), word(rng));
                out.push_str(&format!(
                    "/** The {a} of a {b} ({n}.{f}). */\nexport function {a}_{b}_{f}(items: number[], {c}: number): number {{\n  let total = {};\n  for (const item of items) {{\n    if (item > {c}) {{\n      total += item * {};\n    }}\n  }}\n  return total;\n}}\n\n",
                    rng.u32(..1000),
                    rng.u32(1..50)
                ));
            }
            "ts"
        }
        3 => {
            out.push_str(&format!("// Package pkg handles {} ({n}).\npackage pkg\n\n", word(rng)));
            for f in 0..functions {
                let (a, b, c) = (word(rng), word(rng), word(rng));
                out.push_str(&format!(
                    "// {a}{b}{f} returns the {a} of a {b} ({n}.{f}).\nfunc {a}{b}{f}(items []int, {c} int) int {{\n\ttotal := {}\n\tfor _, item := range items {{\n\t\tif item > {c} {{\n\t\t\ttotal += item * {}\n\t\t}}\n\t}}\n\treturn total\n}}\n\n",
                    rng.u32(..1000),
                    rng.u32(1..50)
                ));
            }
            "go"
        }
        _ => {
            out.push_str(&format!("# Notes {n}: {} and {}\n\n", word(rng), word(rng)));
            for f in 0..functions {
                out.push_str(&format!("## {} {} {f}\n\n", word(rng), word(rng)));
                for _ in 0..rng.usize(3..7) {
                    out.push_str(&format!(
                        "The {} keeps its {} in {} until the {} is {} ({n}.{f}.{}).\n",
                        word(rng),
                        word(rng),
                        word(rng),
                        word(rng),
                        word(rng),
                        rng.u32(..10_000)
                    ));
                }
                out.push('\n');
            }
            "md"
        }
    };
    (format!("f{n:05}.{ext}"), out)
}
