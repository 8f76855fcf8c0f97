//! The `nexus` binary against temp databases: index, search (text and JSON), stats, health,
//! one-line errors with a non-zero exit, and which flags each subcommand takes; `nexus mcp`
//! driven by rmcp's client over stdio ([`mcp`]) and over streamable HTTP with keys
//! ([`mcp_http`]).

#[path = "cli/mcp.rs"]
mod mcp;
#[path = "cli/mcp_http.rs"]
mod mcp_http;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The variables that choose or configure the embedder.
const EMBEDDER_VARS: [&str; 5] =
    ["NEXUS_EMBEDDER", "OPENAI_API_KEY", "OPENAI_BASE_URL", "NEXUS_EMBED_MODEL", "NEXUS_EMBED_DIMENSIONS"];

/// `nexus --db DB ARGS…` with no embedder configured in the environment and no neural model
/// (an empty model directory), so the offline default is the hashing embedder.
fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexus"));
    command
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("NEXUS_DB")
        .env("NEXUS_MODEL_DIR", db.with_extension("no-model"));
    for var in EMBEDDER_VARS {
        command.env_remove(var);
    }
    command
}

fn nexus(db: &Path, args: &[&str]) -> std::io::Result<Output> {
    command(db, args).output()
}

/// stderr without the informational `note:` lines (such as the one saying the neural model is
/// not installed): what is left is the error, if any.
fn errors(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| !l.starts_with("note: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The sample tree (`nexus_testkit::SHOP`: `src/cart.rs`, `src/auth.py`) under `dir/shop`.
fn tree(dir: &Path) -> std::io::Result<std::path::PathBuf> {
    nexus_testkit::write_tree(&dir.join("shop"), nexus_testkit::SHOP)
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

    let stats = nexus(&db, &["stats", "--json"])?;
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout)?;
    assert_eq!(stats["vectors"]["total"], 2);
    let health = nexus(&db, &["health"])?;
    assert!(health.status.success());
    // Health names the embedder the other commands use; without the model files it is the
    // hashing embedder, and one line on stderr says how to get the neural one.
    let report: serde_json::Value = serde_json::from_slice(&health.stdout)?;
    assert_eq!(report["embedder"]["kind"], "hashing");
    assert_eq!(report["embedder"]["model"], "nexus-local-hash-v1");
    let err = String::from_utf8_lossy(&health.stderr);
    assert!(err.contains("fetch-model.sh") && err.lines().count() == 1, "{err}");
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
        let err = errors(&out);
        assert!(!out.status.success());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
    }
    let corrupt = dir.path().join("corrupt.db");
    fs::write(&corrupt, "this is not a database, just text long enough to have a header......")?;
    let out = nexus(&corrupt, &["stats"])?;
    let err = errors(&out);
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
    let mut child = command(&db, &["search", "cart total password", "--limit", "200"])
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

#[test]
fn a_blank_query_is_an_empty_query() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    for (query, mode) in [("", "hybrid"), ("   ", "hybrid"), ("", "fts"), ("\t\n", "vector")] {
        let out = nexus(&db, &["search", query, "--mode", mode])?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{query:?} {mode}: {err}");
        assert_eq!(err.trim_end(), "nexus: empty query", "{query:?} {mode}");
    }
    Ok(())
}

#[test]
fn stats_prints_tables_and_json_on_request() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());

    let human = nexus(&db, &["stats"])?;
    assert!(human.status.success(), "{}", String::from_utf8_lossy(&human.stderr));
    let text = stdout(&human);
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err(), "{text}");
    for expected in ["table", "projects", "code_chunks", "full-text index", "vector collection", "2 vectors"]
    {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("code_chunks ") && l.trim_end().ends_with(" 2")), "{text}");

    let json = nexus(&db, &["stats", "--json"])?;
    assert!(json.status.success());
    let value: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(value["vectors"]["total"], 2);
    assert!(value["tables"].as_array().is_some_and(|t| t.iter().any(|t| t["table"] == "code_chunks")));
    assert!(value["fts"].is_array() && value["database_bytes"].is_i64());
    Ok(())
}

#[test]
fn single_leg_modes_show_that_legs_score() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    // Files without the word, so that it is rare enough for BM25 to weigh it (in a corpus of
    // two files its IDF is next to nothing).
    for i in 0..8 {
        fs::write(
            root.join(format!("src/util{i}.rs")),
            format!("pub fn helper_{i}() -> u32 {{\n    {i}\n}}\n"),
        )?;
    }
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    let search = |args: &[&str]| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        let out = nexus(&db, &[&["search", "password", "--json"][..], args].concat())?;
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(serde_json::from_slice(&out.stdout)?)
    };

    let fts = search(&["--mode", "fts", "--explain"])?;
    let hit = &fts["hits"][0];
    assert_eq!(hit["file"], "src/auth.py");
    assert_eq!(hit["score_kind"], "bm25");
    assert_eq!(hit["score"], hit["explain"]["fts"]["score"], "{hit}");
    let bm25 = hit["score"].as_f64().ok_or("no score")?;
    assert!(bm25 > 0.1, "an RRF value, not BM25: {bm25}");
    // Without --explain: the same score, and no breakdown in the output.
    let plain = search(&["--mode", "fts"])?;
    assert_eq!(plain["hits"][0]["score"], hit["score"]);
    assert!(plain["hits"][0]["explain"].is_null());

    let vector = search(&["--mode", "vector", "--explain"])?;
    let hit = &vector["hits"][0];
    assert_eq!(hit["score_kind"], "distance");
    let distance = hit["score"].as_f64().ok_or("no score")?;
    let leg = hit["explain"]["vector"]["score"].as_f64().ok_or("no leg score")?;
    assert!((distance + leg).abs() < 1e-9 && (0.0..=2.0).contains(&distance), "{hit}");

    let hybrid = search(&[])?;
    assert_eq!(hybrid["hits"][0]["score_kind"], "rrf");
    assert!(hybrid["hits"][0]["score"].as_f64().is_some_and(|s| s < 0.05));

    let text = nexus(&db, &["search", "password", "--mode", "fts"])?;
    let first = stdout(&text).lines().next().unwrap_or_default().to_owned();
    assert!(first.contains("src/auth.py") && first.contains(&format!("bm25 {bm25:.4}")), "{first}");
    let text = nexus(&db, &["search", "password", "--mode", "vector"])?;
    assert!(stdout(&text).lines().next().is_some_and(|l| l.contains("  distance 0.")), "{}", stdout(&text));
    Ok(())
}

#[test]
fn without_embedder_flag_the_library_rule_picks_the_embedder() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    let root = tree(dir.path())?;
    // Nothing configured: the offline local embedder, for index, search and stats alike.
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    let found = nexus(&db, &["search", "cart total", "--json"])?;
    assert!(found.status.success(), "{}", String::from_utf8_lossy(&found.stderr));
    let value: serde_json::Value = serde_json::from_slice(&found.stdout)?;
    assert_eq!(value["hits"][0]["file"], "src/cart.rs");
    let stats: serde_json::Value = serde_json::from_slice(&nexus(&db, &["stats", "--json"])?.stdout)?;
    assert_eq!(stats["vectors"]["model"], "nexus-local-hash-v1");

    // OPENAI_BASE_URL set: the rule picks openai, whose collection this file does not have
    // (and nothing is sent: a read-only open fails first); `--embedder local` overrides it.
    let with_openai =
        |args: &[&str]| command(&db, args).env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1").output();
    let out = with_openai(&["stats"])?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("text_embedding_3_small"), "{err}");
    let out = with_openai(&["stats", "--embedder", "local"])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

#[test]
fn subcommands_reject_flags_they_would_ignore() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cli.db");
    for args in [
        &["migrate", "--embedder", "local"][..],
        &["health", "--embedder", "local"],
        &["health", "--no-migrate"],
        &["search", "x", "--no-migrate"],
        &["stats", "--no-migrate"],
        &["demo", "--no-migrate"],
        &["--embedder", "local", "stats"],
    ] {
        let out = nexus(&db, args)?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("unexpected argument"), "{args:?}: {err}");
    }
    assert!(!db.exists());
    // --db is taken before or after the subcommand.
    let out = Command::new(env!("CARGO_BIN_EXE_nexus")).arg("migrate").arg("--db").arg(&db).output()?;
    assert!(out.status.success() && db.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// `nexus ARGS` run as user `nobody` (65534) through `setpriv`, or `None` when this process is
/// not root (then permissions already apply to it) or `setpriv` cannot run.
fn nexus_as_nobody(db: &Path, args: &[&str]) -> Option<Output> {
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_nexus"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("NEXUS_DB")
        .env("NEXUS_MODEL_DIR", db.with_extension("no-model"))
        .env_remove("NEXUS_EMBEDDER")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .ok()?;
    // setpriv itself failed (no privilege to switch, or nobody cannot reach the binary).
    let err = String::from_utf8_lossy(&output.stderr);
    (!err.starts_with("setpriv:") && !err.contains("Permission denied (os error 13)")
        || err.contains("nexus:"))
    .then_some(output)
}

#[test]
#[allow(clippy::print_stderr)] // says why it skips, where the test runner shows it
fn reading_commands_work_in_a_read_only_directory() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    fs::create_dir(&data)?;
    let db = data.join("cli.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy()])?.status.success());
    // Nobody may write the file or create anything beside it (no -wal, no -shm).
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
    fs::set_permissions(&db, fs::Permissions::from_mode(0o444))?;
    fs::set_permissions(&data, fs::Permissions::from_mode(0o555))?;
    let Some(first) = nexus_as_nobody(&db, &["search", "cart", "--json"]) else {
        eprintln!("skipped: cannot run the binary as nobody here (needs root and setpriv)");
        return Ok(());
    };
    assert!(first.status.success(), "search: {}", String::from_utf8_lossy(&first.stderr));
    let value: serde_json::Value = serde_json::from_slice(&first.stdout)?;
    assert_eq!(value["hits"][0]["file"], "src/cart.rs");
    for args in [&["stats"][..], &["health"]] {
        let out = nexus_as_nobody(&db, args).ok_or("setpriv stopped working")?;
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // Writing is refused with a one-line error, not a panic.
    let index = nexus_as_nobody(&db, &["index", &root.to_string_lossy()]).ok_or("setpriv stopped working")?;
    let err = errors(&index);
    assert!(!index.status.success() && err.starts_with("nexus: ") && !err.contains("panicked"), "{err}");
    let entries: Vec<_> = fs::read_dir(&data)?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    assert_eq!(entries, ["cli.db"], "something was created beside the database");
    fs::set_permissions(&data, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[test]
fn state_checkpoints_and_tasks_by_project_name() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("state.db");
    let root = tree(dir.path())?;
    let indexed = nexus(&db, &["index", &root.to_string_lossy(), "--project", "shop"])?;
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));

    // A task typed into STATE.md by hand becomes a row.
    let exported = dir.path().join("STATE.md");
    let out = nexus(&db, &["state", "export", "shop", "-o", &exported.to_string_lossy()])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text =
        fs::read_to_string(&exported)?.replace("## Tasks\n", "## Tasks\n- [ ] write the cart | totals\n");
    fs::write(&exported, text)?;
    let created = nexus(&db, &["checkpoint", "create", "shop", "--reason", "before import", "--json"])?;
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let checkpoint: serde_json::Value = serde_json::from_slice(&created.stdout)?;
    let id = checkpoint["id"].as_str().ok_or("checkpoint id")?.to_owned();
    // The checkpoint changed nothing of the plan, so the exported file is not stale.
    let imported = nexus(&db, &["state", "import", &exported.to_string_lossy()])?;
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));

    let tasks = nexus(&db, &["tasks", "shop", "--json"])?;
    let rows: serde_json::Value = serde_json::from_slice(&tasks.stdout)?;
    assert_eq!(rows[0]["name"], "write the cart | totals");
    let shown = stdout(&nexus(&db, &["state", "show", "shop"])?);
    assert!(shown.contains("- [ ] write the cart \\| totals · pending · `"), "{shown}");

    let diff = stdout(&nexus(&db, &["checkpoint", "diff", &id])?);
    assert!(diff.contains("tasks: 1 added"), "{diff}");
    let restored = nexus(&db, &["checkpoint", "restore", &id])?;
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&nexus(&db, &["tasks", "shop", "--json"])?.stdout)?;
    assert_eq!(rows.as_array().map(Vec::len), Some(0), "restored to before the import");
    let listed = stdout(&nexus(&db, &["checkpoint", "list", "shop"])?);
    assert!(listed.contains("before_restore") && listed.contains("before import"), "{listed}");
    assert!(stdout(&nexus(&db, &["resume", "shop"])?).contains("nothing to resume"));

    let unknown = nexus(&db, &["state", "show", "nope"])?;
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&unknown.stderr).trim(), "nexus: unknown project \"nope\"");
    Ok(())
}

#[test]
fn transcript_import_and_show() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("t.db");
    assert!(nexus(&db, &["migrate"])?.status.success());
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy(), "--project", "shop"])?.status.success());
    let log = dir.path().join("session.jsonl");
    fs::write(
        &log,
        "{\"role\":\"user\",\"content\":\"add totals\"}\n\n{\"role\":\"assistant\",\"content\":\"done\",\"usage\":{\"output_tokens\":7}}\n",
    )?;
    let imported =
        nexus(&db, &["transcript", "import", &log.to_string_lossy(), "--project", "shop", "--json"])?;
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let value: serde_json::Value = serde_json::from_slice(&imported.stdout)?;
    assert_eq!(value["count"], 2);
    let id = value["id"].as_str().ok_or("id")?.to_owned();
    let shown: serde_json::Value =
        serde_json::from_slice(&nexus(&db, &["transcript", "show", &id, "--after", "1", "--json"])?.stdout)?;
    assert_eq!(shown["entries"][0]["seq"], 2);
    assert_eq!(
        (shown["entries"][0]["role"].as_str(), shown["entries"][0]["content"].as_str()),
        (Some("assistant"), Some("done"))
    );
    assert_eq!(
        stdout(&nexus(&db, &["transcript", "show", &id])?),
        "#1 user: add totals\n#2 assistant: done\n"
    );

    fs::write(&log, "{\"role\":\"user\",\"content\":\"ok\"}\nnot json\n")?;
    let broken = nexus(&db, &["transcript", "import", &log.to_string_lossy(), "--project", "shop"])?;
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
    Ok(())
}

#[test]
fn usage_and_cleanup() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("u.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy(), "--project", "shop"])?.status.success());
    for reason in ["one", "two", "three"] {
        assert!(nexus(&db, &["checkpoint", "create", "shop", "--reason", reason])?.status.success());
    }
    let log = dir.path().join("s.jsonl");
    for _ in 0..3 {
        fs::write(&log, "{\"role\":\"user\",\"content\":\"hello\"}\n")?;
        assert!(
            nexus(&db, &["transcript", "import", &log.to_string_lossy(), "--project", "shop"])?
                .status
                .success()
        );
    }
    let build_log = dir.path().join("build.log");
    fs::write(&build_log, "compiling nexus\n".repeat(2_000))?;
    let put =
        nexus(&db, &["artifact", "put", &build_log.to_string_lossy(), "--project", "shop", "--kind", "log"])?;
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let usage: serde_json::Value =
        serde_json::from_slice(&nexus(&db, &["usage", "--project", "shop", "--json"])?.stdout)?;
    assert_eq!(usage["artifacts"][0]["bytes"], 32_000, "{usage}");
    assert!(
        usage["artifacts"][0]["stored_bytes"].as_i64().is_some_and(|n| n < 32_000),
        "compressed: {usage}"
    );
    let kinds = usage["kinds"].as_array().ok_or("kinds")?;
    assert!(
        kinds.iter().any(|k| k["kind"] == "transcripts" && k["rows"] == 3 && k["bytes"] == 15),
        "{usage}"
    );
    assert!(stdout(&nexus(&db, &["usage"])?).contains("transcripts"));

    let none = nexus(&db, &["cleanup"])?;
    assert_eq!(none.status.code(), Some(1), "a limit is required");
    let dry = stdout(&nexus(
        &db,
        &["cleanup", "--kind", "transcripts", "--kind", "checkpoints", "--max-count", "1", "--dry-run"],
    )?);
    assert!(dry.contains("would remove 2 transcripts"), "{dry}");
    assert!(!dry.contains("checkpoints"), "manual checkpoints are kept: {dry}");
    let done = stdout(&nexus(&db, &["cleanup", "--kind", "transcripts", "--max-count", "1"])?);
    assert!(done.contains("removed 2 transcripts"), "{done}");
    let usage: serde_json::Value = serde_json::from_slice(&nexus(&db, &["usage", "--json"])?.stdout)?;
    let transcripts =
        usage["kinds"].as_array().ok_or("kinds")?.iter().find(|k| k["kind"] == "transcripts").cloned();
    assert_eq!(transcripts.map(|k| k["rows"].clone()), Some(serde_json::json!(1)));
    Ok(())
}

#[test]
fn transcript_search_with_filters() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("ts.db");
    let root = tree(dir.path())?;
    assert!(nexus(&db, &["index", &root.to_string_lossy(), "--project", "shop"])?.status.success());
    let log = dir.path().join("s.jsonl");
    fs::write(
        &log,
        "{\"role\":\"user\",\"content\":\"store totals in cents\"}\n{\"role\":\"assistant\",\"content\":\"totals are cents now\"}\n",
    )?;
    assert!(
        nexus(
            &db,
            &["transcript", "import", &log.to_string_lossy(), "--project", "shop", "--agent", "coder-1"]
        )?
        .status
        .success()
    );
    let found: serde_json::Value = serde_json::from_slice(
        &nexus(
            &db,
            &["transcript", "search", "cents", "--project", "shop", "--role", "assistant", "--json"],
        )?
        .stdout,
    )?;
    assert_eq!(found["hits"].as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found["hits"][0]["seq"], 2);
    let text = stdout(&nexus(&db, &["transcript", "search", "cents", "--agent", "someone-else"])?);
    assert_eq!(text.trim(), "no hits");
    let empty = nexus(&db, &["transcript", "search", " "])?;
    assert_eq!(String::from_utf8_lossy(&empty.stderr).trim(), "nexus: empty query");
    Ok(())
}

#[test]
fn artifact_put_get_and_list() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("a.db");
    let root = tree(dir.path())?;
    let indexed = nexus(&db, &["index", &root.to_string_lossy(), "--project", "shop"])?;
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));
    let log = dir.path().join("build.log");
    let text = "compiling shop v0.1.0\nwarning: unused variable\n".repeat(2000);
    fs::write(&log, &text)?;

    let put = nexus(
        &db,
        &["artifact", "put", &log.to_string_lossy(), "--project", "shop", "--kind", "log", "--json"],
    )?;
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let value: serde_json::Value = serde_json::from_slice(&put.stdout)?;
    let id = value["id"].as_str().ok_or("id")?.to_owned();
    assert_eq!(value["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(value["compression"], "zstd");
    assert!(dir.path().join("a.db.artifacts").is_dir());

    let got = nexus(&db, &["artifact", "get", &id])?;
    assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
    assert_eq!(got.stdout, text.as_bytes());
    let copy = dir.path().join("copy.log");
    assert!(nexus(&db, &["artifact", "get", &id, "-o", &copy.to_string_lossy()])?.status.success());
    assert_eq!(fs::read_to_string(&copy)?, text);

    let listed = stdout(&nexus(&db, &["artifact", "list", "--project", "shop"])?);
    assert!(listed.contains(&id) && listed.contains("build.log"), "{listed}");
    let rows: serde_json::Value =
        serde_json::from_slice(&nexus(&db, &["artifact", "list", "--project", "shop", "--json"])?.stdout)?;
    assert_eq!(rows.as_array().map(Vec::len), Some(1));

    let bad = nexus(
        &db,
        &["artifact", "put", &log.to_string_lossy(), "--project", "shop", "--kind", "log", "--name", "../x"],
    )?;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid artifact name"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    Ok(())
}

#[test]
fn export_import_backup_and_check_from_the_command_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("a.db");
    let root = tree(dir.path())?;
    let indexed =
        nexus(&db, &["index", root.to_str().ok_or("path")?, "--project", "shop", "--embedder", "hashing"])?;
    assert!(indexed.status.success(), "{}", errors(&indexed));
    let check = nexus(&db, &["check"])?;
    assert!(check.status.success(), "{}{}", stdout(&check), errors(&check));

    let archive = dir.path().join("shop.nexus");
    let export = nexus(&db, &["export", "shop", "-o", archive.to_str().ok_or("path")?])?;
    assert!(export.status.success(), "{}", errors(&export));
    assert!(stdout(&export).contains("exported 1 project(s)"), "{}", stdout(&export));
    let csv = nexus(&db, &["export", "shop", "--format", "csv", "--table", "tasks"])?;
    assert!(csv.status.success() && stdout(&csv).starts_with("id,project_id,"), "{}", errors(&csv));
    // A user's research history, through the exporter the server uses.
    let user = nexus(&db, &["user", "create", "a@example.com"])?;
    assert!(user.status.success(), "{}", errors(&user));
    let history = nexus(&db, &["export", "--history", "a@example.com", "--format", "csv"])?;
    assert_eq!(stdout(&history), "id,session_id,title,tags,created_at,report\n", "{}", errors(&history));
    let history = nexus(&db, &["export", "--history", "a@example.com", "--format", "json"])?;
    assert_eq!(stdout(&history), "[]", "{}", errors(&history));
    let nobody = nexus(&db, &["export", "--history", "b@example.com", "--format", "md"])?;
    assert!(!nobody.status.success() && errors(&nobody).contains("b@example.com"), "{}", errors(&nobody));
    // A project made by the command line gets an owner, once; then that user's keys reach it.
    let own = nexus(&db, &["user", "own", "a@example.com", "shop"])?;
    assert!(own.status.success() && stdout(&own).contains("now owns project shop"), "{}", errors(&own));
    let again = nexus(&db, &["user", "own", "a@example.com", "shop"])?;
    assert!(again.status.success() && stdout(&again).contains("already owns"), "{}", errors(&again));
    assert!(nexus(&db, &["user", "create", "b@example.com"])?.status.success());
    let taken = nexus(&db, &["user", "own", "b@example.com", "shop"])?;
    assert!(!taken.status.success() && errors(&taken).contains("already has an owner"), "{}", errors(&taken));
    let unknown = nexus(&db, &["user", "own", "a@example.com", "no-such-project"])?;
    assert!(
        !unknown.status.success() && errors(&unknown).contains("no-such-project"),
        "{}",
        errors(&unknown)
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let owned = runtime.block_on(async {
        let opened = nexus_db::Db::open(&db).await?;
        let user = nexus_db::users::find_by_email(opened.reader(), "a@example.com").await?;
        let shop = nexus_state::find_project(&opened, "shop").await?;
        let owned = nexus_db::users::owns_project(opened.reader(), &user.id, &shop.id).await?;
        opened.close().await?;
        Ok::<_, Box<dyn std::error::Error>>(owned)
    })?;
    assert!(owned, "the row is in project_owners");

    let other = dir.path().join("b.db");
    let import = nexus(&other, &["import", archive.to_str().ok_or("path")?])?;
    assert!(import.status.success(), "{}", errors(&import));
    let again = nexus(&other, &["import", archive.to_str().ok_or("path")?])?;
    assert_eq!(again.status.code(), Some(1), "a second import must conflict");
    let copy = nexus(&other, &["import", archive.to_str().ok_or("path")?, "--on-conflict", "copy"])?;
    assert!(copy.status.success() && stdout(&copy).contains("shop (copy)"), "{}", errors(&copy));
    let search = nexus(&other, &["search", "cart total", "--project", "shop", "--embedder", "hashing"])?;
    assert!(stdout(&search).contains("cart.rs"), "{}", stdout(&search));

    let backup = nexus(&other, &["backup", dir.path().join("backup.db").to_str().ok_or("path")?])?;
    assert!(backup.status.success(), "{}", errors(&backup));
    let checked = nexus(&dir.path().join("backup.db"), &["check"])?;
    assert!(checked.status.success(), "{}", stdout(&checked));

    // A problem makes check fail; --repair fixes it.
    fs::write(dir.path().join("b.db.artifacts").join("stray"), b"x")?;
    let found = nexus(&other, &["check"])?;
    assert_eq!(found.status.code(), Some(1));
    assert!(stdout(&found).contains("has no row"), "{}", stdout(&found));
    let repaired = nexus(&other, &["check", "--repair"])?;
    assert!(repaired.status.success(), "{}{}", stdout(&repaired), errors(&repaired));
    Ok(())
}
