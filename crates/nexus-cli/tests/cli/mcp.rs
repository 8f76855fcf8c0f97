//! `nexus mcp` as a child process driven by rmcp's client over stdio: initialize and the tool
//! list with its schemas, remember then recall, index then search (with progress and
//! cancellation), the project state round trip with the task workflow and the resources, and
//! hostile arguments, each a tool error after which the server still answers. The streamable
//! HTTP transport and its keys are tested in [`super::mcp_http`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, ProgressNotificationParam,
    ReadResourceRequestParams, Request, ResourceContents, ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::TestResult;

/// The client: counts the progress notifications it receives.
#[derive(Debug, Clone, Default)]
pub(super) struct Client {
    progress: Arc<Mutex<Vec<f64>>>,
    progressed: Arc<Notify>,
}

impl ClientHandler for Client {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let Ok(mut seen) = self.progress.lock() {
            seen.push(params.progress);
        }
        self.progressed.notify_one();
    }
}

pub(super) type Session = RunningService<RoleClient, Client>;

/// `nexus --db DB mcp --embedder hashing --root R…`, connected.
pub(super) async fn connect(db: &Path, roots: &[&Path]) -> Result<Session, Box<dyn std::error::Error>> {
    let mut command = super::command(db, &["mcp", "--embedder", "hashing"]);
    for root in roots {
        command.arg("--root").arg(root);
    }
    let transport = TokioChildProcess::new(tokio::process::Command::from(command))?;
    Ok(Client::default().serve(transport).await?)
}

pub(super) async fn call(
    session: &Session,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, Box<dyn std::error::Error>> {
    let Value::Object(args) = args else { return Err("arguments must be an object".into()) };
    Ok(session.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)).await?)
}

pub(super) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.as_str()).collect()
}

/// The tool's JSON answer; an error result fails the test with its message.
pub(super) fn ok_json(result: &CallToolResult) -> Result<Value, Box<dyn std::error::Error>> {
    if result.is_error == Some(true) {
        return Err(format!("tool error: {}", text(result)).into());
    }
    Ok(serde_json::from_str(&text(result))?)
}

/// The message of a tool error; a success fails the test.
pub(super) fn tool_error(result: &CallToolResult) -> Result<String, Box<dyn std::error::Error>> {
    if result.is_error != Some(true) {
        return Err(format!("expected a tool error, got {}", text(result)).into());
    }
    Ok(text(result))
}

/// A temp dir with the shop tree under `shop/` (a root) and a sibling `outside/`.
pub(super) fn workspace() -> Result<(tempfile::TempDir, std::path::PathBuf), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = super::tree(dir.path())?;
    std::fs::create_dir_all(dir.path().join("outside"))?;
    Ok((dir, root))
}

/// On project `shop` (the indexed shop tree): remembers a decision and a piece of research,
/// recalls the decision first with its type and importance, and finds `cart_total` in the code.
pub(super) async fn remember_recall_search(session: &Session) -> TestResult {
    let remembered = ok_json(
        &call(
            session,
            "remember",
            json!({ "project": "shop", "type": "decision", "content": "Cart totals are kept in integer cents", "importance": 2.5 }),
        )
        .await?,
    )?;
    call(
        session,
        "remember",
        json!({ "project": "shop", "type": "research", "content": "Passwords are hashed with argon2" }),
    )
    .await?;
    let recalled =
        ok_json(&call(session, "recall", json!({ "project": "shop", "query": "cents totals" })).await?)?;
    let first = &recalled["episodes"][0];
    assert_eq!(first["id"], remembered["id"]);
    assert_eq!((first["type"].as_str(), first["importance"].as_f64()), (Some("decision"), Some(2.5)));
    let found = ok_json(
        &call(
            session,
            "search",
            json!({ "query": "cart_total", "project": "shop", "kinds": ["code"], "mode": "fts" }),
        )
        .await?,
    )?;
    let hit = &found["hits"][0];
    assert_eq!((hit["kind"].as_str(), hit["location"].as_str()), (Some("code"), Some("src/cart.rs:1-4")));
    assert_eq!(hit["symbols"], json!(["cart_total"]));
    Ok(())
}

#[tokio::test]
async fn initialize_lists_every_tool_with_its_schema() -> TestResult {
    let (dir, root) = workspace()?;
    let session = connect(&dir.path().join("mcp.db"), &[&root]).await?;
    let info = session.peer_info().ok_or("no server info")?;
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("nexus"));
    assert!(info.capabilities.tools.is_some() && info.capabilities.resources.is_some());

    let tools = session.list_all_tools().await?;
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "checkpoint",
            "continue_point_save",
            "index",
            "recall",
            "remember",
            "resume",
            "search",
            "state",
            "task_complete",
            "task_fail",
            "task_start",
            "tasks_ready"
        ]
    );
    let required = |name: &str| -> Vec<String> {
        let tool = tools.iter().find(|t| t.name == name);
        let list = tool.and_then(|t| t.input_schema.get("required")).and_then(Value::as_array);
        let mut names: Vec<String> =
            list.into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        names.sort();
        names
    };
    assert_eq!(required("remember"), ["content", "project", "type"]);
    assert_eq!(required("recall"), ["project", "query"]);
    assert_eq!(required("search"), ["query"]);
    assert_eq!(required("index"), ["path", "project"]);
    assert_eq!(required("state"), ["project"]);
    for tool in &tools {
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{} needs a description",
            tool.name
        );
    }
    let remember = tools.iter().find(|t| t.name == "remember").ok_or("no remember")?;
    let schema = Value::Object((*remember.input_schema).clone()).to_string();
    for episode_type in ["code_generation", "error_fix", "review_feedback", "decision", "research"] {
        assert!(schema.contains(episode_type), "remember's schema lacks {episode_type}: {schema}");
    }
    session.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn remember_recall_then_index_and_search_the_code() -> TestResult {
    let (dir, root) = workspace()?;
    let session = connect(&dir.path().join("mcp.db"), &[&root]).await?;

    // Indexing creates the project; a progress token brings progress notifications.
    let request = CallToolRequestParams::new("index")
        .with_arguments(json!({ "project": "shop", "path": "." }).as_object().cloned().unwrap_or_default());
    let handle = session
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(request)),
            PeerRequestOptions::no_options(),
        )
        .await?;
    let ServerResult::CallToolResult(indexed) = handle.await_response().await? else {
        return Err("index did not answer with a tool result".into());
    };
    let report = ok_json(&indexed)?;
    assert_eq!((report["files_indexed"].as_u64(), report["chunks_written"].as_u64()), (Some(2), Some(2)));
    let progress = session.service().progress.lock().map_err(|e| e.to_string())?.clone();
    assert!(!progress.is_empty(), "no progress notification");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "progress must increase: {progress:?}");

    remember_recall_search(&session).await?;
    let only_research = ok_json(
        &call(&session, "recall", json!({ "project": "shop", "query": "cents", "types": ["research"] }))
            .await?,
    )?;
    assert!(only_research["episodes"].as_array().is_some_and(|e| e.iter().all(|e| e["type"] == "research")));
    let everywhere = ok_json(&call(&session, "search", json!({ "query": "argon2" })).await?)?;
    assert_eq!(everywhere["hits"][0]["kind"], "episode");
    session.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn indexing_stops_when_the_client_cancels() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("big");
    const FILES: usize = 1500;
    for i in 0..FILES {
        nexus_testkit::write_file(
            &root,
            &format!("m{}/f{i}.rs", i % 20),
            format!("pub fn f{i}() -> u32 {{ {i} }}\n"),
        )?;
    }
    let session = connect(&dir.path().join("mcp.db"), &[&root]).await?;
    let request = CallToolRequestParams::new("index")
        .with_arguments(json!({ "project": "big", "path": "." }).as_object().cloned().unwrap_or_default());
    let handle = session
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(request)),
            PeerRequestOptions::no_options(),
        )
        .await?;
    tokio::time::timeout(Duration::from_secs(60), session.service().progressed.notified()).await?;
    handle.cancel(Some("test".into())).await?;

    // The server goes on answering, and a second run finds part of the tree already indexed.
    let again = ok_json(&call(&session, "index", json!({ "project": "big", "path": "." })).await?)?;
    let (indexed, unchanged) = (again["files_indexed"].as_u64(), again["files_unchanged"].as_u64());
    assert_eq!(indexed.zip(unchanged).map(|(a, b)| a + b), Some(FILES as u64), "{again}");
    assert!(indexed.is_some_and(|n| n > 0), "the cancelled run indexed everything: {again}");
    assert!(unchanged.is_some_and(|n| n > 0), "the cancelled run indexed nothing: {again}");
    session.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn state_round_trip_with_tasks_checkpoints_and_resources() -> TestResult {
    let (dir, root) = workspace()?;
    let session = connect(&dir.path().join("mcp.db"), &[&root]).await?;
    let project =
        ok_json(&call(&session, "index", json!({ "project": "shop", "path": root })).await?)?["project_id"]
            .as_str()
            .ok_or("no project id")?
            .to_owned();

    // Read STATE.md, add a task by hand, apply it, read it back.
    let state = text(&call(&session, "state", json!({ "project": "shop" })).await?);
    assert!(state.starts_with("# Project State: shop"), "{state}");
    let edited = state.replace("## Tasks\n", "## Tasks\n- [ ] price rounding\n");
    let applied = text(&call(&session, "state", json!({ "project": project, "markdown": edited })).await?);
    assert!(applied.contains("price rounding"), "{applied}");
    let read = text(&call(&session, "state", json!({ "project": "shop" })).await?);
    assert_eq!(read, applied);
    // The first text is stale now: refused unless forced.
    let stale =
        tool_error(&call(&session, "state", json!({ "project": "shop", "markdown": edited })).await?)?;
    assert!(stale.contains("changed since"), "{stale}");

    let ready = ok_json(&call(&session, "tasks_ready", json!({ "project": "shop" })).await?)?;
    let task = ready["tasks"][0]["id"].as_str().ok_or("no ready task")?.to_owned();
    let started =
        ok_json(&call(&session, "task_start", json!({ "task_id": task, "agent_id": "coder-1" })).await?)?;
    assert_eq!(started["status"], "in_progress");
    let point = json!({ "project": "shop", "task_id": task, "last_action": "wrote the test", "file": "src/cart.rs",
        "line": 3, "next_steps": ["round half to even"] });
    ok_json(&call(&session, "continue_point_save", point).await?)?;
    let resume = ok_json(&call(&session, "resume", json!({ "project": "shop" })).await?)?;
    assert_eq!(resume["continue_points"][0]["last_action"], "wrote the test");
    assert_eq!(resume["continue_points"][0]["next_steps"], json!(["round half to even"]));
    let checkpoint =
        ok_json(&call(&session, "checkpoint", json!({ "project": "shop", "reason": "mid task" })).await?)?;
    let failed = ok_json(
        &call(&session, "task_fail", json!({ "task_id": task, "reason": "rounding off by one" })).await?,
    )?;
    assert_eq!(failed["task"]["status"], "failed");
    let restarted = call(&session, "task_start", json!({ "task_id": task, "agent_id": "coder-1" })).await?;
    ok_json(&restarted)?;
    let completed =
        ok_json(&call(&session, "task_complete", json!({ "task_id": task, "actual_minutes": 7 })).await?)?;
    assert_eq!(completed["status"], "completed");

    // Resources: the STATE.md and the latest checkpoint of each project.
    let resources = session.list_all_resources().await?;
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    let state_uri = format!("nexus://projects/{project}/STATE.md");
    let checkpoint_uri = format!("nexus://projects/{project}/checkpoints/latest");
    assert_eq!(uris, [state_uri.as_str(), checkpoint_uri.as_str()]);
    let read_text = |contents: &[ResourceContents]| match contents.first() {
        Some(ResourceContents::TextResourceContents { text, .. }) => text.clone(),
        _ => String::new(),
    };
    let state_md = session.read_resource(ReadResourceRequestParams::new(state_uri)).await?;
    assert_eq!(
        read_text(&state_md.contents),
        text(&call(&session, "state", json!({ "project": "shop" })).await?)
    );
    let latest = session.read_resource(ReadResourceRequestParams::new(checkpoint_uri)).await?;
    let latest: Value = serde_json::from_str(&read_text(&latest.contents))?;
    assert_eq!(latest["checkpoint"]["id"], checkpoint["id"]);
    assert!(latest["state_md"].as_str().is_some_and(|md| md.contains("price rounding")));
    let unknown =
        session.read_resource(ReadResourceRequestParams::new("nexus://projects/nope/STATE.md")).await;
    assert!(unknown.is_err(), "an unknown resource must be an error");
    session.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn hostile_arguments_are_tool_errors_and_the_server_keeps_answering() -> TestResult {
    let (dir, root) = workspace()?;
    let outside = dir.path().join("outside");
    let session = connect(&dir.path().join("mcp.db"), &[&root]).await?;
    ok_json(&call(&session, "index", json!({ "project": "shop", "path": "." })).await?)?;
    let huge = "x".repeat((1 << 20) + 1);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("remember", json!({ "project": "shop", "type": "decision", "content": 42 }), "invalid type"),
        ("remember", json!({ "project": "shop", "type": "gossip", "content": "x" }), "unknown variant"),
        ("remember", json!({ "project": "shop", "content": "x" }), "missing field `type`"),
        ("remember", json!({ "project": "shop", "type": "decision", "content": huge }), "limit"),
        (
            "remember",
            json!({ "project": "nowhere", "type": "decision", "content": "x" }),
            "unknown project \"nowhere\"; known projects: shop",
        ),
        (
            "remember",
            json!({ "project": "shop", "type": "decision", "content": "x", "task_id": "t-404" }),
            "unknown task t-404",
        ),
        ("recall", json!({ "project": "shop", "query": huge }), "more than 4096"),
        ("recall", json!({ "project": "shop", "query": "x", "limit": 0 }), "between 1 and 100"),
        ("recall", json!({ "project": "shop", "query": "x", "limit": -3 }), "invalid value"),
        ("search", json!({ "query": "   " }), "empty"),
        ("search", json!({ "query": "cart", "mode": "psychic" }), "unknown variant"),
        ("search", json!({ "query": "cart", "project": "nowhere" }), "unknown project"),
        ("search", json!({ "query": "\"unbalanced" }), ""),
        ("index", json!({ "project": "shop", "path": outside.to_string_lossy() }), "outside the roots"),
        ("index", json!({ "project": "shop", "path": "../outside" }), "outside the roots"),
        ("index", json!({ "project": "shop", "path": "/" }), "outside the roots"),
        ("index", json!({ "project": "shop", "path": "missing" }), "cannot use path"),
        ("index", json!({ "project": "shop", "path": "src/cart.rs" }), "not a directory"),
        ("state", json!({ "project": "shop", "markdown": "not a state" }), "STATE.md"),
        ("state", json!({ "project": ["shop"] }), "invalid type"),
        ("task_start", json!({ "task_id": "t-404", "agent_id": "a" }), "unknown task"),
        ("task_complete", json!({ "task_id": "t-404" }), "unknown task"),
        ("task_fail", json!({ "task_id": "t-404", "reason": "x" }), "unknown task"),
        (
            "continue_point_save",
            json!({ "project": "shop", "task_id": "t-404", "last_action": "x" }),
            "unknown task",
        ),
        ("checkpoint", json!({ "project": "shop" }), "missing field `reason`"),
        ("resume", json!({ "project": "shop", "extra": true }), "unknown field"),
    ];
    for (tool, args, expected) in cases {
        let result = call(&session, tool, args.clone()).await?;
        if expected.is_empty() {
            // Either answer is fine; it must be an answer.
            continue;
        }
        let message = tool_error(&result).map_err(|e| format!("{tool} {args:.80}: {e}"))?;
        assert!(message.contains(expected), "{tool}: {message:.300} (expected {expected:?})");
        assert!(
            message.len() < 2000,
            "{tool}: the message should not echo the argument: {} bytes",
            message.len()
        );
    }
    // An unknown tool is a protocol error, not a crash.
    assert!(call(&session, "format_disk", json!({})).await.is_err());
    // Still serving.
    ok_json(
        &call(
            &session,
            "remember",
            json!({ "project": "shop", "type": "decision", "content": "still here" }),
        )
        .await?,
    )?;
    assert_eq!(session.list_all_tools().await?.len(), 12);
    session.cancel().await?;
    Ok(())
}
