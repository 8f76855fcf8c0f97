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
