//! `cargo xtask bench archive [--chunks N] [--artifact-mib N] [--dims N] [--quick]`: export and
//! import of one project holding `--chunks` code chunks (default 100,000) with a vector each
//! (`--dims`, default 384) and `--artifact-mib` MiB of artifacts (default 1024, generated build
//! logs in 64 MiB files, stored zstd-compressed). `--quick`: 5,000 chunks and 64 MiB.
//!
//! Measured: `nexus_archive::export` to a file, `nexus_archive::import` into an empty
//! database, and, as the baseline of the same run, a plain copy of the database file and the
//! artifact directory (what a backup of a closed file costs). MB/s are 10^6 bytes of database
//! file plus original artifact content per second. The last line is one JSON object.

use std::sync::Arc;
use std::time::Instant;

use nexus_archive::{OnConflict, Scope};
use nexus_artifacts::{ArtifactStore, PutOptions, StoreOptions};
use nexus_db::artifacts::ArtifactKind;
use nexus_db::projects::{self, NewProject};
use nexus_db::{Db, SourceKind};
use nexus_vector::{Collection, CollectionSpec, Item, Metric};
use serde_json::json;

use crate::bench_artifacts::LogGenerator;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Code chunks (each with a vector).
    #[arg(long, default_value_t = 100_000)]
    chunks: usize,
    /// Artifact content, MiB.
    #[arg(long, default_value_t = 1024)]
    artifact_mib: u64,
    /// Vector dimensions.
    #[arg(long, default_value_t = 384)]
    dims: usize,
    /// A small run: 5,000 chunks, 64 MiB of artifacts.
    #[arg(long)]
    quick: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

/// Size of one artifact file, bytes.
const ARTIFACT_BYTES: u64 = 64 << 20;

async fn bench(args: Args) -> anyhow::Result<()> {
    let (chunks, artifact_mib) = if args.quick { (5_000, 64) } else { (args.chunks, args.artifact_mib) };
    let scratch = tempfile::tempdir()?;
    let source_path = scratch.path().join("source.db");
    let db = Db::open(&source_path).await?;
    let store =
        ArtifactStore::open_with(&db, StoreOptions { max_size: u64::MAX, ..StoreOptions::default() }).await?;
    let project = projects::create(db.writer(), NewProject::new("bench", "/bench")).await?.id;
    let collection = Collection::open_or_create(
        &db,
        &CollectionSpec::new("bench", "bench-model", args.dims, Metric::Cosine),
    )
    .await?;

    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(42);
    for batch in (0..chunks).collect::<Vec<_>>().chunks(1000) {
        let mut tx = db.begin().await?;
        for i in batch {
            let id = nexus_db::new_id();
            let content = format!(
                "/// Computes part {i} of the order total.\npub fn order_total_{i}(items: &[Item]) -> u64 {{\n    items.iter().map(|item| item.price * item.quantity + {}).sum()\n}}\n",
                rng.u32(..)
            )
            .repeat(4);
            sqlx::query(
                "INSERT INTO code_chunks (id, project_id, file, start_line, end_line, content, symbols, chunk_type, language, hash, indexed_at) \
                 VALUES (?1, ?2, ?3, 1, 16, ?4, ?5, 'function', 'rust', ?6, 1700000000000)",
            )
            .bind(&id)
            .bind(project.as_str())
            .bind(format!("src/orders/part_{}.rs", i / 20))
            .bind(&content)
            .bind(format!("[\"order_total_{i}\"]"))
            .bind(nexus_db::sha256_hex(content.as_bytes()))
            .execute(&mut *tx)
            .await?;
            let vector: Vec<f32> = (0..args.dims).map(|_| rng.f32() - 0.5).collect();
            collection.upsert(&mut tx, Item::new(SourceKind::CodeChunk, &id, &vector)).await?;
        }
        tx.commit().await?;
    }
    let mut artifact_bytes = 0;
    let mut n = 0;
    while artifact_bytes < artifact_mib << 20 {
        let size = ARTIFACT_BYTES.min((artifact_mib << 20) - artifact_bytes);
        let log = LogGenerator::new(size, n);
        store
            .put(
                &project,
                ArtifactKind::Log,
                &format!("build-{n}.log"),
                "text/plain",
                log,
                PutOptions::default(),
            )
            .await?;
        artifact_bytes += size;
        n += 1;
    }
    let seed_s = started.elapsed().as_secs_f64();
    db.clone().close().await?;
    let db = Db::open(&source_path).await?;
    let store =
        ArtifactStore::open_with(&db, StoreOptions { max_size: u64::MAX, ..StoreOptions::default() }).await?;
    let db_bytes = std::fs::metadata(&source_path)?.len();
    let stored_bytes = dir_bytes(store.root())?;

    // Baseline: copying the closed database file and the artifact directory.
    let started = Instant::now();
    std::fs::copy(&source_path, scratch.path().join("copy.db"))?;
    copy_dir(store.root(), &scratch.path().join("copy.db.artifacts"))?;
    let copy_s = started.elapsed().as_secs_f64();

    let archive = scratch.path().join("bench.nexus");
    let started = Instant::now();
    let file = std::io::BufWriter::new(std::fs::File::create(&archive)?);
    let exported =
        nexus_archive::export(&db, &store, Scope::Project(project.clone()), file, Arc::new(())).await?;
    let export_s = started.elapsed().as_secs_f64();
    let archive_bytes = exported.archive_bytes;

    let target = Db::open(scratch.path().join("target.db")).await?;
    let target_store =
        ArtifactStore::open_with(&target, StoreOptions { max_size: u64::MAX, ..StoreOptions::default() })
            .await?;
    let started = Instant::now();
    let input = std::io::BufReader::new(std::fs::File::open(&archive)?);
    nexus_archive::import(&target, &target_store, input, OnConflict::Fail, Arc::new(())).await?;
    let import_s = started.elapsed().as_secs_f64();
    let imported: i64 =
        sqlx::query_scalar("SELECT count(*) FROM code_chunks").fetch_one(target.reader()).await?;
    anyhow::ensure!(imported == i64::try_from(chunks)?, "imported {imported} chunks of {chunks}");
    target.close().await?;
    db.close().await?;

    let payload = db_bytes as f64 + artifact_bytes as f64;
    let mb_s = |secs: f64| payload / 1e6 / secs;
    println!(
        "archive of {chunks} chunks ({} dims) and {} MiB of artifacts ({} MiB stored)",
        args.dims,
        artifact_mib,
        stored_bytes >> 20
    );
    println!(
        "  database {:.1} MiB, archive {:.1} MiB, seeded in {seed_s:.1} s",
        db_bytes as f64 / 1048576.0,
        archive_bytes as f64 / 1048576.0
    );
    println!(
        "  export {export_s:.2} s ({:.0} MB/s), import {import_s:.2} s ({:.0} MB/s), file copy {copy_s:.2} s",
        mb_s(export_s),
        mb_s(import_s)
    );
    println!(
        "{}",
        json!({
            "chunks": chunks, "dims": args.dims, "artifact_bytes": artifact_bytes, "artifact_stored_bytes": stored_bytes,
            "db_bytes": db_bytes, "archive_bytes": archive_bytes,
            "export_s": export_s, "import_s": import_s, "copy_s": copy_s,
            "export_mb_s": mb_s(export_s), "import_mb_s": mb_s(import_s),
            "export_vs_copy": export_s / copy_s, "import_vs_copy": import_s / copy_s,
            "archive_vs_db": archive_bytes as f64 / db_bytes as f64,
        })
    );
    Ok(())
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        total +=
            if entry.file_type()?.is_dir() { dir_bytes(&entry.path())? } else { entry.metadata()?.len() };
    }
    Ok(total)
}

/// Copies the files under `from` to `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
