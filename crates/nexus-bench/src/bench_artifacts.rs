//! `cargo xtask bench artifacts [--log-mib N] [--small N] [--small-bytes N]`: the artifact
//! store's speed and compression.
//!
//! * A generated build log of `--log-mib` MiB (default 1024) is streamed into `put` from a
//!   generator (no source file), then read back through `get`; the generator alone, read to
//!   nowhere, is the baseline measured in the same run.
//! * `--small` (default 10,000) distinct small text files of about `--small-bytes` bytes are
//!   put one after another, then all read back.
//! * This repository's `git log -p` is put as a log: its compression ratio is printed next to
//!   the `zstd -3` command line on the same bytes (the zstd crate at level 3 when the command
//!   is missing; it is reported either way).
//!
//! MB/s are 10^6 bytes of original content per second. The last line is one JSON object.

use std::io::Write as _;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use anyhow::Context;
use nexus_artifacts::{ArtifactStore, PutOptions, StoreOptions};
use nexus_db::Db;
use nexus_db::artifacts::ArtifactKind;
use nexus_db::projects::{self, NewProject};
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the generated log, MiB.
    #[arg(long, default_value_t = 1024)]
    log_mib: u64,
    /// Number of small files.
    #[arg(long, default_value_t = 10_000)]
    small: usize,
    /// Approximate size of each small file, bytes.
    #[arg(long, default_value_t = 2048)]
    small_bytes: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let db = Db::open(scratch.path().join("artifacts.db")).await?;
    let project = projects::create(db.writer(), NewProject::new("bench", "/bench")).await?.id;
    let store =
        ArtifactStore::open_with(&db, StoreOptions { max_size: u64::MAX, ..StoreOptions::default() }).await?;
    let log_bytes = args.log_mib << 20;

    // The baseline: the generator alone.
    let started = Instant::now();
    let generated = tokio::io::copy(&mut LogGenerator::new(log_bytes, 1), &mut tokio::io::sink()).await?;
    let generate_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let put = store
        .put(
            &project,
            ArtifactKind::Log,
            "build.log",
            "text/plain",
            LogGenerator::new(log_bytes, 1),
            PutOptions::default(),
        )
        .await?;
    let log_put_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut content = store.get(&put.artifact.id).await?;
    let read = tokio::io::copy(&mut content.reader, &mut tokio::io::sink()).await?;
    let log_get_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(read == generated, "read back {read} bytes of {generated}");
    let log_ratio = ratio(put.artifact.size, put.artifact.stored_size);
    println!(
        "log {:.0} MiB: generator alone {:.0} MB/s, put {:.0} MB/s, get {:.0} MB/s, stored {:.1}x smaller ({})",
        generated as f64 / f64::from(1 << 20),
        mb_s(generated, generate_s),
        mb_s(generated, log_put_s),
        mb_s(read, log_get_s),
        log_ratio,
        put.artifact.compression
    );

    let mut rng = fastrand::Rng::with_seed(7);
    let files: Vec<Vec<u8>> = (0..args.small).map(|i| small_file(&mut rng, i, args.small_bytes)).collect();
    let small_total: u64 = files.iter().map(|f| f.len() as u64).sum();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(files.len());
    for (i, bytes) in files.iter().enumerate() {
        let name = format!("file-{i}.txt");
        let put = store
            .put(&project, ArtifactKind::File, &name, "text/plain", &bytes[..], PutOptions::default())
            .await?;
        ids.push(put.artifact.id);
    }
    let small_put_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut small_read = 0;
    for id in &ids {
        let mut content = store.get(id).await?;
        small_read += tokio::io::copy(&mut content.reader, &mut tokio::io::sink()).await?;
    }
    let small_get_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(small_read == small_total, "small files: read back {small_read} of {small_total}");
    println!(
        "{} small files ({} bytes): put {:.0} files/s ({:.1} MB/s), get {:.0} files/s ({:.1} MB/s)",
        files.len(),
        small_total,
        files.len() as f64 / small_put_s,
        mb_s(small_total, small_put_s),
        files.len() as f64 / small_get_s,
        mb_s(small_read, small_get_s)
    );

    let git_log = git_log_p()?;
    let put = store
        .put(&project, ArtifactKind::Diff, "git-log-p", "text/x-diff", &git_log[..], PutOptions::default())
        .await?;
    let ours = ratio(put.artifact.size, put.artifact.stored_size);
    let crate_l3 = zstd::bulk::compress(&git_log, 3)?.len() as i64;
    let crate_ratio = ratio(git_log.len() as i64, crate_l3);
    let cli = zstd_cli(&git_log)?;
    let (reference, reference_ratio) = match cli {
        Some(bytes) => ("zstd -3 (command line)", ratio(git_log.len() as i64, bytes)),
        None => ("zstd crate level 3 (no zstd command)", crate_ratio),
    };
    println!(
        "git log -p ({} bytes): store {:.2}x, {reference} {:.2}x, zstd crate level 3 {:.2}x",
        git_log.len(),
        ours,
        reference_ratio,
        crate_ratio
    );
    db.close().await?;

    println!(
        "{}",
        json!({
            "bench": "artifacts",
            "log_mib": args.log_mib,
            "log_generator_mb_s": round(mb_s(generated, generate_s), 1),
            "log_put_mb_s": round(mb_s(generated, log_put_s), 1),
            "log_get_mb_s": round(mb_s(read, log_get_s), 1),
            "log_put_over_generator": round(generate_s / log_put_s, 2),
            "log_ratio": round(log_ratio, 2),
            "small_files": files.len(),
            "small_bytes": small_total,
            "small_put_files_s": round(files.len() as f64 / small_put_s, 1),
            "small_put_mb_s": round(mb_s(small_total, small_put_s), 2),
            "small_get_files_s": round(files.len() as f64 / small_get_s, 1),
            "small_get_mb_s": round(mb_s(small_read, small_get_s), 2),
            "git_log_bytes": git_log.len(),
            "git_log_ratio": round(ours, 2),
            "git_log_reference": reference,
            "git_log_reference_ratio": round(reference_ratio, 2),
            "git_log_zstd_crate_l3_ratio": round(crate_ratio, 2),
            "ratio_over_reference": round(ours / reference_ratio, 2),
        })
    );
    Ok(())
}

/// This repository's `git log -p` (run from the workspace root, as xtask does).
fn git_log_p() -> anyhow::Result<Vec<u8>> {
    let out = Command::new("git").args(["log", "-p", "--no-color"]).output().context("running git log -p")?;
    anyhow::ensure!(
        out.status.success() && !out.stdout.is_empty(),
        "git log -p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// The size `zstd -3` makes of `bytes`, or `None` when the command is missing.
fn zstd_cli(bytes: &[u8]) -> anyhow::Result<Option<i64>> {
    let child =
        Command::new("zstd").args(["-3", "-c", "-q"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context("running zstd"),
    };
    let mut stdin = child.stdin.take().context("zstd stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("the zstd writer thread panicked"))??;
    anyhow::ensure!(out.status.success(), "zstd -3 failed");
    Ok(Some(out.stdout.len() as i64))
}

/// One small text file: a header naming it, then lines of words.
fn small_file(rng: &mut fastrand::Rng, index: usize, bytes: usize) -> Vec<u8> {
    let mut text = format!("file {index}\n");
    while text.len() < bytes {
        let words: Vec<String> = (0..8).map(|_| word(rng)).collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    text.into_bytes()
}

fn word(rng: &mut fastrand::Rng) -> String {
    (0..rng.usize(3..9)).map(|_| rng.alphanumeric()).collect()
}

/// An `AsyncRead` of `remaining` bytes of a plausible build log: timestamps, levels, crate
/// names, paths and numbers from a seeded generator.
pub(crate) struct LogGenerator {
    remaining: u64,
    rng: fastrand::Rng,
    line: Vec<u8>,
    at: usize,
    n: u64,
}

impl LogGenerator {
    pub(crate) fn new(bytes: u64, seed: u64) -> Self {
        Self { remaining: bytes, rng: fastrand::Rng::with_seed(seed), line: Vec::new(), at: 0, n: 0 }
    }

    fn next_line(&mut self) {
        const LEVELS: [&str; 4] = ["INFO", "INFO", "DEBUG", "WARN"];
        const VERBS: [&str; 5] = ["Compiling", "Checking", "Running", "Finished", "Downloaded"];
        self.n += 1;
        let level = LEVELS[self.rng.usize(..LEVELS.len())];
        let verb = VERBS[self.rng.usize(..VERBS.len())];
        let name = word(&mut self.rng);
        self.line.clear();
        let _ = writeln!(
            self.line,
            "2026-11-29T23:{:02}:{:02}.{:03}Z {level} {verb} {name} v0.{}.{} (target/debug/deps/lib{name}-{:016x}.rlib) in {}ms",
            (self.n / 60_000) % 60,
            (self.n / 1000) % 60,
            self.n % 1000,
            self.rng.u32(0..20),
            self.rng.u32(0..10),
            self.rng.u64(..),
            self.rng.u32(1..5000),
        );
        self.at = 0;
    }
}

impl AsyncRead for LogGenerator {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        while self.remaining > 0 && buf.remaining() > 0 {
            if self.at == self.line.len() {
                self.next_line();
            }
            let this = &mut *self;
            let n = (this.line.len() - this.at)
                .min(buf.remaining())
                .min(usize::try_from(this.remaining).unwrap_or(usize::MAX));
            buf.put_slice(&this.line[this.at..this.at + n]);
            this.at += n;
            this.remaining -= n as u64;
        }
        Poll::Ready(Ok(()))
    }
}

fn ratio(size: i64, stored: i64) -> f64 {
    size as f64 / (stored.max(1) as f64)
}

fn mb_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds.max(1e-9)
}

/// `x` rounded to `places` decimals (for the JSON line).
fn round(x: f64, places: i32) -> f64 {
    let scale = 10_f64.powi(places);
    (x * scale).round() / scale
}
