//! `nexus mcp --http` as a child process on an ephemeral loopback port, with users and keys made
//! by `nexus user`: requests without a live key get 401 with `WWW-Authenticate: Bearer` (raw
//! requests), rmcp's streamable-HTTP client with a key initializes, lists the tools and runs
//! remember → recall → search, each key reaches only its user's projects and sessions, and no
//! key reaches the server's log.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::ReadResourceRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::TestResult;
use super::mcp::{Client, Session, call, ok_json, remember_recall_search, tool_error, workspace};

type Error = Box<dyn std::error::Error>;

/// A `nexus mcp --http 0` child process and everything it wrote to stderr.
struct HttpServer {
    child: tokio::process::Child,
    /// `http://127.0.0.1:PORT/mcp`.
    url: String,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl HttpServer {
    /// Starts the server on `db` (index roots: `root`) with debug logging, and waits for its
    /// address.
    async fn start(db: &Path, root: &Path) -> Result<Self, Error> {
        // reqwest (here and inside rmcp's client) needs a crypto provider even for plain HTTP.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut command = super::command(db, &["mcp", "--embedder", "hashing", "--http", "0", "--root"]);
        command.arg(root).env("NEXUS_LOG", "debug").stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = tokio::process::Command::from(command).kill_on_drop(true).spawn()?;
        let mut lines = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let keep = |log: &Arc<Mutex<String>>, line: &str| {
            if let Ok(mut log) = log.lock() {
                log.push_str(line);
                log.push('\n');
            }
        };
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                keep(&log, &line);
                if let Some(url) = line.strip_prefix("nexus mcp: serving ") {
                    return url.to_owned();
                }
            }
            String::new()
        })
        .await?;
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"), "{url:?}");
        let rest = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep(&rest, &line);
            }
        });
        Ok(Self { child, url, log, http: reqwest::Client::new() })
    }

    /// rmcp's streamable-HTTP client, initialized with `key`.
    async fn connect(&self, key: &str) -> Result<Session, Error> {
        let config = StreamableHttpClientTransportConfig::with_uri(self.url.as_str()).auth_header(key);
        let transport = StreamableHttpClientTransport::from_config(config);
        Ok(tokio::time::timeout(Duration::from_secs(30), Client::default().serve(transport)).await??)
    }

    /// A raw JSON-RPC POST with this `Authorization` header and session, if any; the body of
    /// the answer is not read.
    async fn post(
        &self,
        authorization: Option<&str>,
        session: Option<&str>,
        body: &Value,
    ) -> Result<reqwest::Response, Error> {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(session) = session {
            request = request.header("mcp-session-id", session).header("mcp-protocol-version", "2025-06-18");
        }
        Ok(tokio::time::timeout(Duration::from_secs(30), request.send()).await??)
    }

    /// Stops the server; returns its log.
    async fn stop(mut self) -> Result<String, Error> {
        self.child.kill().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(self.log.lock().map_err(|e| e.to_string())?.clone())
    }
}

/// STATE.md with its data block's `root_path` replaced by `root`.
fn with_root(markdown: &str, root: &str) -> Option<String> {
    let key = "\"root_path\": \"";
    let start = markdown.find(key)? + key.len();
    let end = start + markdown[start..].find('"')?;
    Some(format!("{}{root}{}", &markdown[..start], &markdown[end..]))
}

fn initialize() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "raw", "version": "1" } } })
}

/// `nexus user ARGS… --json`, parsed.
fn user_json(db: &Path, args: &[&str]) -> Result<Value, Error> {
    let mut all = vec!["user"];
    all.extend_from_slice(args);
    all.push("--json");
    let output = super::nexus(db, &all)?;
    if !output.status.success() {
        return Err(format!("nexus user {args:?}: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Creates the user `email`; returns their first key.
fn create_user(db: &Path, email: &str) -> Result<String, Error> {
    let created = user_json(db, &["create", email])?;
    Ok(created["key"].as_str().ok_or("no key")?.to_owned())
}

#[tokio::test]
async fn requests_without_a_live_key_get_401() -> TestResult {
    let (dir, root) = workspace()?;
    let db = dir.path().join("mcp.db");
    let key = create_user(&db, "a@example.com")?;
    let second = user_json(&db, &["key", "add", "a@example.com"])?;
    let (second_id, second) =
        (second["key_id"].as_str().ok_or("no key id")?, second["key"].as_str().ok_or("no key")?);
    let server = HttpServer::start(&db, &root).await?;

    let unknown = format!("nxk_{}", "0".repeat(64));
    let refused = [
        None,
        Some("Bearer ".to_owned()),
        Some(format!("Basic {key}")),
        Some(format!("Bearer {unknown}")),
        Some(format!("Bearer {}", &key[..key.len() - 1])),
    ];
    for authorization in &refused {
        let answer = server.post(authorization.as_deref(), None, &initialize()).await?;
        assert_eq!(answer.status(), 401, "{authorization:?}");
        let challenge = answer.headers().get("www-authenticate").and_then(|v| v.to_str().ok());
        assert_eq!(challenge, Some("Bearer"), "{authorization:?}");
    }
    assert!(server.connect(&unknown).await.is_err(), "rmcp's client initialized with an unknown key");

    // A live key is accepted; once revoked, it is refused from the next request on.
    let accepted = server.post(Some(&format!("Bearer {second}")), None, &initialize()).await?;
    assert_eq!(accepted.status(), 200);
    drop(accepted);
    let revoked = super::nexus(&db, &["user", "key", "revoke", "a@example.com", second_id])?;
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let again = server.post(Some(&format!("Bearer {second}")), None, &initialize()).await?;
    assert_eq!(again.status(), 401);

    // The user's other key still works, and its use is recorded.
    let session = server.connect(&key).await?;
    assert_eq!(session.list_all_tools().await?.len(), 12);
    session.cancel().await?;
    let keys = user_json(&db, &["key", "list", "a@example.com"])?;
    let first =
        keys.as_array().and_then(|k| k.iter().find(|k| key.starts_with(k["prefix"].as_str().unwrap_or("-"))));
    assert!(first.is_some_and(|k| k["last_used_at"].is_number()), "last use not recorded: {keys}");

    let log = server.stop().await?;
    assert!(log.contains("serving MCP over streamable HTTP"), "no log: {log}");
    for secret in [&key, second] {
        assert!(!log.contains(&secret[4..]), "a key reached the log");
    }
    Ok(())
}

#[tokio::test]
async fn with_a_key_rmcp_initializes_lists_tools_and_remembers_then_recalls() -> TestResult {
    let (dir, root) = workspace()?;
    let db = dir.path().join("mcp.db");
    let key = create_user(&db, "a@example.com")?;
    let server = HttpServer::start(&db, &root).await?;
    let session = server.connect(&key).await?;
    let info = session.peer_info().ok_or("no server info")?;
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("nexus"));
    let tools = session.list_all_tools().await?;
    assert_eq!(tools.len(), 12);
    assert!(tools.iter().any(|t| t.name == "remember") && tools.iter().any(|t| t.name == "recall"));

    // The project the key's user creates is theirs.
    let indexed = ok_json(&call(&session, "index", json!({ "project": "shop", "path": "." })).await?)?;
    assert_eq!(indexed["files_indexed"].as_u64(), Some(2));
    remember_recall_search(&session).await?;
    let everywhere = tool_error(&call(&session, "search", json!({ "query": "cart" })).await?)?;
    assert!(everywhere.contains("required with an API key") && everywhere.contains("shop"), "{everywhere}");
    assert_eq!(session.list_all_resources().await?.len(), 1);
    session.cancel().await?;
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_key_reaches_only_its_users_projects_and_sessions() -> TestResult {
    let (dir, root) = workspace()?;
    let db = dir.path().join("mcp.db");
    let alice_key = create_user(&db, "alice@example.com")?;
    let bob_key = create_user(&db, "bob@example.com")?;
    let server = HttpServer::start(&db, &root).await?;

    let alice = server.connect(&alice_key).await?;
    let shop =
        ok_json(&call(&alice, "index", json!({ "project": "shop", "path": "." })).await?)?["project_id"]
            .as_str()
            .ok_or("no project id")?
            .to_owned();
    ok_json(
        &call(&alice, "remember", json!({ "project": "shop", "type": "decision", "content": "cents" }))
            .await?,
    )?;
    let state = super::mcp::text(&call(&alice, "state", json!({ "project": "shop" })).await?);
    let edited = state.replace("## Tasks\n", "## Tasks\n- [ ] price rounding\n");
    ok_json(&call(&alice, "checkpoint", json!({ "project": "shop", "reason": "before" })).await?)?;
    assert!(
        super::mcp::text(&call(&alice, "state", json!({ "project": "shop", "markdown": edited })).await?)
            .contains("price rounding")
    );
    let ready = ok_json(&call(&alice, "tasks_ready", json!({ "project": "shop" })).await?)?;
    let task = ready["tasks"][0]["id"].as_str().ok_or("no task")?.to_owned();
    // Checkpoints run git in a project's root: over HTTP a STATE.md cannot move it out of the
    // server's roots.
    let current = super::mcp::text(&call(&alice, "state", json!({ "project": "shop" })).await?);
    for root in ["/", "api://../x"] {
        let moved = with_root(&current, root).ok_or("no root_path in STATE.md")?;
        let refused =
            tool_error(&call(&alice, "state", json!({ "project": "shop", "markdown": moved })).await?)?;
        assert!(refused.contains("not allowed"), "{root}: {refused}");
    }

    // Bob's key: Alice's project is unknown by name and by id, her task too.
    let bob = server.connect(&bob_key).await?;
    for name in ["shop", shop.as_str()] {
        for (tool, args) in [
            ("recall", json!({ "project": name, "query": "cents" })),
            ("remember", json!({ "project": name, "type": "decision", "content": "mine now" })),
            ("search", json!({ "project": name, "query": "cart" })),
            ("state", json!({ "project": name })),
            ("tasks_ready", json!({ "project": name })),
            ("checkpoint", json!({ "project": name, "reason": "x" })),
            ("resume", json!({ "project": name })),
            ("continue_point_save", json!({ "project": name, "task_id": task, "last_action": "x" })),
        ] {
            let message = tool_error(&call(&bob, tool, args).await?)?;
            assert!(message.contains("unknown project"), "{tool}: {message}");
            assert!(message.contains("known projects: none yet"), "{tool} lists projects: {message}");
        }
    }
    for (tool, args) in [
        ("task_start", json!({ "task_id": task, "agent_id": "bob" })),
        ("task_complete", json!({ "task_id": task })),
        ("task_fail", json!({ "task_id": task, "reason": "x" })),
    ] {
        let message = tool_error(&call(&bob, tool, args).await?)?;
        assert!(message.contains("unknown task"), "{tool}: {message}");
    }
    let taken = tool_error(&call(&bob, "index", json!({ "project": "shop", "path": "." })).await?)?;
    assert!(taken.contains("cannot reach"), "{taken}");
    let overwrite = tool_error(&call(&bob, "state", json!({ "project": "shop", "markdown": state })).await?)?;
    assert!(overwrite.contains("unknown project"), "{overwrite}");
    assert!(bob.list_all_resources().await?.is_empty());
    for uri in
        [format!("nexus://projects/{shop}/STATE.md"), format!("nexus://projects/{shop}/checkpoints/latest")]
    {
        assert!(bob.read_resource(ReadResourceRequestParams::new(uri.clone())).await.is_err(), "{uri}");
    }

    // Bob's own project is his alone; Alice's work is untouched.
    ok_json(&call(&bob, "index", json!({ "project": "bobs", "path": "src" })).await?)?;
    let hidden = tool_error(&call(&alice, "state", json!({ "project": "bobs" })).await?)?;
    assert!(
        hidden.contains("unknown project") && hidden.contains("shop") && !hidden.contains("bobs ("),
        "{hidden}"
    );
    let ready = ok_json(&call(&alice, "tasks_ready", json!({ "project": "shop" })).await?)?;
    assert_eq!(ready["tasks"][0]["status"], "pending");
    assert_eq!(alice.list_all_resources().await?.len(), 2);
    alice.cancel().await?;
    bob.cancel().await?;

    // A session belongs to the user who opened it: another key naming it finds no session.
    let opened = server.post(Some(&format!("Bearer {alice_key}")), None, &initialize()).await?;
    let id = opened
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .ok_or("no session id")?
        .to_owned();
    drop(opened);
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let alice_auth = format!("Bearer {alice_key}");
    let bob_auth = format!("Bearer {bob_key}");
    assert_eq!(server.post(Some(&alice_auth), Some(&id), &initialized).await?.status(), 202);
    assert_eq!(server.post(Some(&bob_auth), Some(&id), &list).await?.status(), 404);
    assert_eq!(server.post(Some(&alice_auth), Some(&id), &list).await?.status(), 200);
    server.stop().await?;

    // Over stdio (whoever started the process) every project is in reach.
    let local = super::mcp::connect(&db, &[&root]).await?;
    let names: Vec<String> = local.list_all_resources().await?.iter().map(|r| r.name.clone()).collect();
    for name in ["shop STATE.md", "shop latest checkpoint", "bobs STATE.md"] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    local.cancel().await?;
    Ok(())
}
