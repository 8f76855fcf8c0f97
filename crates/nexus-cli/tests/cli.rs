//! The `nexus` binary against temp databases: index, search (text and JSON), stats, health,
//! and one-line errors with a non-zero exit.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn nexus(db: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_nexus"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("NEXUS_DB")
        .env_remove("NEXUS_EMBEDDER")
        .env_remove("OPENAI_API_KEY")
        .output()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn tree(dir: &Path) -> std::io::Result<std::path::PathBuf> {
    let root = dir.join("shop");
    fs::create_dir_all(root.join("src"))?;
    fs::write(
        root.join("src/cart.rs"),
        "/// Sums the cart in cents.\npub fn cart_total(items: &[u64]) -> u64 {\n    items.iter().sum()\n}\n",
    )?;
    fs::write(
        root.join("src/auth.py"),
        "def check_password(hashed, plain):\n    return hashed == hash(plain)\n",
    )?;
    Ok(root)
}

#[test]
fn index_then_search_as_text_and_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    let root_arg = root.to_string_lossy();

    let indexed = nexus(&db, &["index", &root_arg, "--project", "shop"])?;
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));
    assert!(stdout(&indexed).contains("2 new or changed"), "{}", stdout(&indexed));
    let again = nexus(&db, &["index", &root_arg, "--project", "shop"])?;
    assert!(stdout(&again).contains("2 unchanged"), "{}", stdout(&again));

    let found = nexus(&db, &["search", "cart total", "--project", "shop", "--explain"])?;
    assert!(found.status.success());
    let text = stdout(&found);
    assert!(text.lines().next().is_some_and(|l| l.contains("src/cart.rs:1-4")), "{text}");
    assert!(text.contains("fts rank 1"), "{text}");

    let json = nexus(&db, &["search", "password", "--mode", "fts", "--json"])?;
    let value: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(value["hits"][0]["file"], "src/auth.py");
    assert_eq!(value["hits"][0]["start_line"], 1);

    // Hostile text is searched as text.
    for hostile in ["c++ AND (", "\"unbalanced", "NEAR(", "*", "-"] {
        let out = nexus(&db, &["search", hostile, "--json"])?;
        assert!(out.status.success(), "{hostile:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let stats = nexus(&db, &["stats"])?;
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout)?;
    assert_eq!(stats["vectors"]["total"], 2);
    let health = nexus(&db, &["health"])?;
    assert!(health.status.success());
    Ok(())
}

#[test]
fn errors_are_one_line_with_a_failing_status() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["search".into(), "x".into(), "--project".into(), "nope".into()], "unknown project"),
        (vec!["index".into(), dir.path().join("missing").to_string_lossy().into_owned()], "cannot index"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = nexus(&db, &args)?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
    }
    let corrupt = dir.path().join("corrupt.db");
    fs::write(&corrupt, "this is not a database, just text long enough to have a header......")?;
    let out = nexus(&corrupt, &["stats"])?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.starts_with("nexus: ") && err.trim_end().lines().count() == 1, "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    Ok(())
}

#[test]
fn reading_commands_refuse_a_missing_database_with_status_2() -> TestResult {
    let dir = tempfile::tempdir()?;
    let typo = dir.path().join("typo.db");
    for args in [&["search", "x"][..], &["stats"], &["health"]] {
        let out = nexus(&typo, args)?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end(),
            format!(
                "nexus: no database at {} (create one with nexus migrate or nexus index)",
                typo.display()
            )
        );
        assert!(!typo.exists(), "{args:?} created the file");
    }
    Ok(())
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .arg("--db")
        .arg(&db)
        .args(["search", "cart total password", "--limit", "200"])
        .env_remove("NEXUS_EMBEDDER")
        .env_remove("OPENAI_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    drop(child.stdout.take()); // the reader goes away before anything is printed
    let out = child.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    Ok(())
}

#[test]
fn processes_migrating_a_fresh_file_at_once_all_succeed() -> TestResult {
    let dir = tempfile::tempdir()?;
    for round in 0..10 {
        let db = dir.path().join(format!("race-{round}.db"));
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_nexus"))
                    .arg("--db")
                    .arg(&db)
                    .arg("migrate")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        for child in children {
            let out = child.wait_with_output()?;
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let health = nexus(&db, &["health"])?;
        assert!(health.status.success(), "round {round}: {}", String::from_utf8_lossy(&health.stderr));
    }
    Ok(())
}

#[test]
fn reading_commands_work_while_another_process_holds_the_write_lock() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let holder = runtime.block_on(nexus_db::Db::open(&db))?;
    let tx = runtime.block_on(holder.begin())?; // BEGIN IMMEDIATE: the write lock, held
    for args in [&["search", "cart", "--json"][..], &["stats"], &["health"]] {
        let started = std::time::Instant::now();
        let out = nexus(&db, args)?;
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        // The busy timeout is 30 s: a command that waited for the lock would take that long.
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{args:?} waited for the write lock");
    }
    let search = nexus(&db, &["search", "cart", "--json"])?;
    let value: serde_json::Value = serde_json::from_slice(&search.stdout)?;
    assert_eq!(value["hits"][0]["file"], "src/cart.rs");
    runtime.block_on(tx.rollback())?;
    runtime.block_on(holder.close())?;
    Ok(())
}
