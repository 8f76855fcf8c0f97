//! `cargo xtask prepare [--check]`: offline query data for sqlx's macros, made reproducibly.
//!
//! 1. Create a fresh SQLite file under `target/xtask/` and apply `migrations/` to it.
//! 2. `cargo clean -p` every workspace package, then `cargo check --workspace --all-targets`
//!    with `DATABASE_URL` pointing at that file and `SQLX_OFFLINE_DIR` at a scratch
//!    directory: each `query!` describes itself against the database and writes its JSON.
//! 3. Replace `.sqlx/` with the result, or (with `--check`) compare and fail on any difference.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

pub fn run(check: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let work = root.join("target/xtask/prepare");
    let _ = fs::remove_dir_all(&work);
    let out = work.join("sqlx");
    fs::create_dir_all(&out)?;
    let db = work.join("prepare.db");

    migrate(&root.join("migrations"), &db)?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut clean = Command::new(&cargo);
    clean.current_dir(&root).args(["clean", "--quiet"]);
    for package in workspace_packages(&cargo, &root)?.iter().filter(|p| *p != "xtask") {
        clean.args(["-p", package]);
    }
    ensure!(clean.status()?.success(), "cargo clean failed");

    let status = Command::new(&cargo)
        .current_dir(&root)
        .args(["check", "--quiet", "--workspace", "--all-targets"])
        .env("DATABASE_URL", format!("sqlite:{}", db.display()))
        .env("SQLX_OFFLINE", "false")
        .env("SQLX_OFFLINE_DIR", &out)
        .status()
        .context("running cargo check")?;
    ensure!(status.success(), "cargo check with live query macros failed");

    let generated = read_dir_files(&out)?;
    ensure!(!generated.is_empty(), "no query data was generated");
    let committed_dir = root.join(".sqlx");
    if check {
        let committed = read_dir_files(&committed_dir).unwrap_or_default();
        let mut problems = Vec::new();
        for name in generated.keys().filter(|n| !committed.contains_key(*n)) {
            problems.push(format!("missing from .sqlx: {name}"));
        }
        for name in committed.keys().filter(|n| !generated.contains_key(*n)) {
            problems.push(format!("stale file in .sqlx: {name}"));
        }
        for (name, content) in &generated {
            if committed.get(name).is_some_and(|c| c != content) {
                problems.push(format!("outdated in .sqlx: {name}"));
            }
        }
        if !problems.is_empty() {
            bail!(".sqlx is stale; run `cargo xtask prepare` and commit it:\n  {}", problems.join("\n  "));
        }
        println!(".sqlx is up to date ({} queries)", generated.len());
    } else {
        let _ = fs::remove_dir_all(&committed_dir);
        fs::create_dir_all(&committed_dir)?;
        for (name, content) in &generated {
            fs::write(committed_dir.join(name), content)?;
        }
        println!("wrote {} query files to .sqlx/", generated.len());
    }
    Ok(())
}

/// Applies the migrations in `dir` to a new database file at `db`.
fn migrate(dir: &Path, db: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        use sqlx::sqlite::SqliteConnectOptions;
        let pool =
            sqlx::SqlitePool::connect_with(SqliteConnectOptions::new().filename(db).create_if_missing(true))
                .await?;
        sqlx::migrate::Migrator::new(dir).await?.run(&pool).await?;
        pool.close().await;
        anyhow::Ok(())
    })
}

/// Names of the workspace's packages.
fn workspace_packages(cargo: &str, root: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    ensure!(output.status.success(), "cargo metadata failed");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    Ok(packages)
}

/// File name → content of every file in `dir`.
fn read_dir_files(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.insert(entry.file_name().to_string_lossy().into_owned(), fs::read(entry.path())?);
        }
    }
    Ok(files)
}
