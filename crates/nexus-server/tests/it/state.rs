//! Projects' state over HTTP: saving a whole state (409 when stale, `?force=true`), STATE.md
//! import, checkpoint diff and restore, every workflow move with its typed refusals, continue
//! points, cursor pagination of the project lists, and which project roots the API allows.

use nexus_db::agents::{self, AgentType, NewAgent};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use nexus_server::ServerConfig;

use crate::harness::{Server, TestResult, json, problem, text};

/// A project of `key`'s user and its id.
async fn project(server: &Server, key: &str, name: &str) -> TestResult<String> {
    let (status, body) =
        json(server.req(Method::POST, "/v1/projects", key).json(&json!({"name": name})).send().await?)
            .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(text(&body, "id"))
}

/// A task of the project and its id.
async fn task(server: &Server, key: &str, project: &str, body: Value) -> TestResult<String> {
    let (status, body) = json(
        server.req(Method::POST, &format!("/v1/projects/{project}/tasks"), key).json(&body).send().await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(text(&body, "id"))
}

async fn get(server: &Server, key: &str, path: &str) -> TestResult<Value> {
    let (status, body) = json(server.req(Method::GET, path, key).send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    Ok(body)
}

#[tokio::test]
async fn saving_a_stale_state_is_a_conflict_unless_forced() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let id = project(&server, &key, "shop").await?;
    task(&server, &key, &id, json!({"name": "cart totals"})).await?;
    let path = format!("/v1/projects/{id}/state");
    let loaded = get(&server, &key, &path).await?;

    let mut renamed = loaded.clone();
    renamed["tasks"][0]["name"] = json!("cart totals in cents");
    let (status, saved) = json(server.req(Method::PUT, &path, &key).json(&renamed).send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["tasks"][0]["name"], "cart totals in cents");
    assert_ne!(saved["revision"], loaded["revision"]);

    // The state read before that save is stale: refused, nothing written.
    let mut stale = loaded.clone();
    stale["tasks"][0]["name"] = json!("lost update");
    let body = problem(
        server.req(Method::PUT, &path, &key).json(&stale).send().await?,
        StatusCode::CONFLICT,
        "state-conflict",
    )
    .await?;
    assert!(text(&body, "detail").contains("changed since"), "{body}");
    assert_eq!(get(&server, &key, &path).await?["tasks"][0]["name"], "cart totals in cents");
    let (status, forced) =
        json(server.req(Method::PUT, &format!("{path}?force=true"), &key).json(&stale).send().await?).await?;
    assert_eq!((status, forced["tasks"][0]["name"].as_str()), (StatusCode::OK, Some("lost update")));

    // A state of another project, a dependency the state does not hold, a malformed body.
    let other = project(&server, &key, "other").await?;
    problem(
        server.req(Method::PUT, &format!("/v1/projects/{other}/state"), &key).json(&forced).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    let mut dangling = forced.clone();
    dangling["tasks"][0]["depends_on"] = json!(["no-such-task"]);
    problem(
        server.req(Method::PUT, &path, &key).json(&dangling).send().await?,
        StatusCode::BAD_REQUEST,
        "unknown-dependency",
    )
    .await?;
    problem(
        server.req(Method::PUT, &path, &key).json(&json!({"tasks": []})).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn state_md_is_imported_with_the_rules_of_a_save() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let id = project(&server, &key, "shop").await?;
    task(&server, &key, &id, json!({"name": "cart totals"})).await?;
    let path = format!("/v1/projects/{id}/state.md");
    let exported = server.req(Method::GET, &path, &key).send().await?.text().await?;
    assert!(exported.contains("- [ ] cart totals"), "{exported}");

    // Ticking the task completes it; a new line without an id adds a task.
    let edited = exported.replace("- [ ] cart totals", "- [x] cart totals\n- [ ] checkout page");
    let (status, saved) = json(
        server
            .req(Method::PUT, &path, &key)
            .header("content-type", "text/markdown")
            .body(edited.clone())
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let tasks = saved["tasks"].as_array().cloned().unwrap_or_default();
    assert_eq!(tasks.len(), 2, "{saved}");
    assert!(tasks.iter().any(|t| t["name"] == "cart totals" && t["status"] == "completed"));
    assert!(tasks.iter().any(|t| t["name"] == "checkout page" && t["status"] == "pending"));

    // The same file again is stale now; a file that is not STATE.md names its line.
    problem(
        server.req(Method::PUT, &path, &key).body(edited).send().await?,
        StatusCode::CONFLICT,
        "state-conflict",
    )
    .await?;
    let body = problem(
        server.req(Method::PUT, &path, &key).body("# hello\n").send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-markdown",
    )
    .await?;
    assert!(text(&body, "detail").contains("line 1"), "{body}");
    assert_eq!(
        get(&server, &key, &format!("/v1/projects/{id}/state")).await?["tasks"].as_array().map(Vec::len),
        Some(2)
    );
    server.stop().await
}

#[tokio::test]
async fn checkpoints_diff_and_restore() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let id = project(&server, &key, "shop").await?;
    let first = task(&server, &key, &id, json!({"name": "cart totals"})).await?;
    let checkpoints = format!("/v1/projects/{id}/checkpoints");
    let (status, saved) =
        json(server.req(Method::POST, &checkpoints, &key).json(&json!({"reason": "before"})).send().await?)
            .await?;
    assert_eq!(status, StatusCode::CREATED);
    let checkpoint = text(&saved, "id");

    // Changes after the checkpoint: a new task and a renamed one.
    let second = task(&server, &key, &id, json!({"name": "checkout"})).await?;
    let mut state = get(&server, &key, &format!("/v1/projects/{id}/state")).await?;
    for t in state["tasks"].as_array_mut().into_iter().flatten() {
        if t["id"] == first.as_str() {
            t["name"] = json!("cart totals in cents");
        }
    }
    let (status, _) =
        json(server.req(Method::PUT, &format!("/v1/projects/{id}/state"), &key).json(&state).send().await?)
            .await?;
    assert_eq!(status, StatusCode::OK);

    let diff = get(&server, &key, &format!("{checkpoints}/{checkpoint}/diff")).await?;
    assert_eq!(diff["tables"]["tasks"]["added"], json!([second]), "{diff}");
    assert_eq!(diff["tables"]["tasks"]["changed"][0]["id"], first.as_str(), "{diff}");
    assert_eq!(
        diff["tables"]["tasks"]["changed"][0]["fields"]["name"],
        json!(["cart totals", "cart totals in cents"]),
        "{diff}"
    );

    let (status, restored) =
        json(server.req(Method::POST, &format!("{checkpoints}/{checkpoint}/restore"), &key).send().await?)
            .await?;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["restored"], checkpoint.as_str());
    let tasks = restored["state"]["tasks"].as_array().cloned().unwrap_or_default();
    assert_eq!(tasks.len(), 1, "{restored}");
    assert_eq!(tasks[0]["name"], "cart totals");
    let safety = text(&restored["safety_checkpoint"], "id");

    // Now nothing differs from the checkpoint; the safety checkpoint holds the undone work.
    let diff = get(&server, &key, &format!("{checkpoints}/{checkpoint}/diff")).await?;
    assert_eq!(diff["tables"], json!({}), "{diff}");
    let diff = get(&server, &key, &format!("{checkpoints}/{checkpoint}/diff?against={safety}")).await?;
    assert_eq!(diff["tables"]["tasks"]["added"], json!([second]), "{diff}");

    // The timeline is paged: two checkpoints, one per page.
    let page = get(&server, &key, &format!("{checkpoints}?limit=1")).await?;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let next = text(&page, "next_cursor");
    let page = get(&server, &key, &format!("{checkpoints}?limit=1&cursor={next}")).await?;
    assert_eq!((page["items"].as_array().map(Vec::len), &page["next_cursor"]), (Some(1), &Value::Null));
    problem(
        server.req(Method::GET, &format!("{checkpoints}?cursor=nope"), &key).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;

    // A checkpoint of another project of the same user is not this project's.
    let other = project(&server, &key, "other").await?;
    problem(
        server
            .req(Method::POST, &format!("/v1/projects/{other}/checkpoints/{checkpoint}/restore"), &key)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await?;
    problem(
        server
            .req(Method::GET, &format!("{checkpoints}/{checkpoint}/diff?against=nope"), &key)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn every_workflow_move_and_its_refusals() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let agent =
        agents::create(server.store.db().writer(), NewAgent::new(AgentType::Coder)).await?.id.to_string();
    let id = project(&server, &key, "shop").await?;
    let first = task(&server, &key, &id, json!({"name": "schema"})).await?;
    let second = task(&server, &key, &id, json!({"name": "api", "depends_on": [first]})).await?;
    problem(
        server
            .req(Method::POST, &format!("/v1/projects/{id}/tasks"), &key)
            .json(&json!({"name": "x", "depends_on": ["no-such-task"]}))
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "unknown-dependency",
    )
    .await?;
    let step = |task: &str, body: Value| {
        server.req(Method::POST, &format!("/v1/projects/{id}/tasks/{task}/workflow"), &key).json(&body)
    };

    problem(
        step(&second, json!({"action": "assign", "agent_id": agent})).send().await?,
        StatusCode::CONFLICT,
        "unfinished-dependency",
    )
    .await?;
    problem(
        step(&first, json!({"action": "start", "agent_id": "no-such-agent"})).send().await?,
        StatusCode::BAD_REQUEST,
        "unknown-agent",
    )
    .await?;
    let (status, assigned) =
        json(step(&first, json!({"action": "assign", "agent_id": agent})).send().await?).await?;
    assert_eq!((status, assigned["status"].as_str()), (StatusCode::OK, Some("queued")), "{assigned}");
    let (_, started) =
        json(step(&first, json!({"action": "start", "agent_id": agent})).send().await?).await?;
    assert_eq!(started["status"], "in_progress", "{started}");
    let (_, completed) =
        json(step(&first, json!({"action": "complete", "actual_minutes": 5})).send().await?).await?;
    assert_eq!(completed["status"], "completed", "{completed}");
    let (status, _) =
        json(step(&second, json!({"action": "start", "agent_id": agent})).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    let (_, failed) = json(step(&second, json!({"action": "fail", "reason": "flaky"})).send().await?).await?;
    assert_eq!(failed["status"], "failed", "{failed}");

    let third = task(&server, &key, &id, json!({"name": "docs"})).await?;
    problem(
        step(&third, json!({"action": "block", "blocking_task_id": "no-such-task"})).send().await?,
        StatusCode::BAD_REQUEST,
        "unknown-dependency",
    )
    .await?;
    let (status, blocked) =
        json(step(&third, json!({"action": "block", "blocking_task_id": second})).send().await?).await?;
    assert_eq!((status, blocked["status"].as_str()), (StatusCode::OK, Some("blocked")), "{blocked}");
    assert_eq!(blocked["blocked_by"], second.as_str());
    problem(
        step(&third, json!({"action": "jump"})).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn continue_points_save_resume_and_history() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let id = project(&server, &key, "shop").await?;
    let first = task(&server, &key, &id, json!({"name": "schema"})).await?;
    let second = task(&server, &key, &id, json!({"name": "api"})).await?;
    let points = format!("/v1/projects/{id}/continue-points");
    for (task, action) in
        [(&first, "wrote the table"), (&first, "added the index"), (&second, "stubbed routes")]
    {
        let (status, point) = json(
            server
                .req(Method::POST, &points, &key)
                .json(&json!({"task_id": task, "last_action": action, "file": "src/db.rs", "line": 12,
                              "next_steps": ["test it"]}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED, "{point}");
        assert_eq!(point["next_steps"], json!(["test it"]));
    }
    // Resume: the latest point of each unfinished task, paged.
    let resume = get(&server, &key, &points).await?;
    let actions: Vec<&str> =
        resume["items"].as_array().into_iter().flatten().filter_map(|p| p["last_action"].as_str()).collect();
    assert_eq!(actions.len(), 2, "{resume}");
    assert!(actions.contains(&"added the index") && actions.contains(&"stubbed routes"), "{resume}");
    let page = get(&server, &key, &format!("{points}?limit=1")).await?;
    assert_eq!((page["items"].as_array().map(Vec::len), page["next_cursor"].as_str()), (Some(1), Some("1")));
    // A task's history, newest first.
    let history = get(&server, &key, &format!("/v1/projects/{id}/tasks/{first}/continue-points")).await?;
    assert_eq!(history["items"][0]["last_action"], "added the index", "{history}");
    assert_eq!(history["items"].as_array().map(Vec::len), Some(2));

    // A task of another project is unknown here.
    let other = project(&server, &key, "other").await?;
    let foreign = task(&server, &key, &other, json!({"name": "elsewhere"})).await?;
    problem(
        server
            .req(Method::POST, &points, &key)
            .json(&json!({"task_id": foreign, "last_action": "x"}))
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "unknown-task",
    )
    .await?;
    problem(
        server
            .req(Method::GET, &format!("/v1/projects/{id}/tasks/{foreign}/continue-points"), &key)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn a_project_root_is_an_api_name_or_inside_the_projects_directory() -> TestResult {
    // Checkpoints run git in a project's root: a user must not choose any directory.
    let secret = tempfile::tempdir()?;
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let create = |body: Value| server.req(Method::POST, "/v1/projects", &key).json(&body).send();
    let outside = secret.path().display().to_string();
    for root in [outside.as_str(), "/", "relative/dir", "api://../x"] {
        let body = problem(
            create(json!({"name": format!("p {root}"), "root_path": root})).await?,
            StatusCode::BAD_REQUEST,
            "root-not-allowed",
        )
        .await?;
        assert!(text(&body, "detail").contains("not allowed"), "{body}");
    }
    let (status, named) = json(create(json!({"name": "named", "root_path": "api://named"})).await?).await?;
    assert_eq!((status, text(&named, "root_path")), (StatusCode::CREATED, "api://named".to_owned()));
    let (status, plain) = json(create(json!({"name": "plain"})).await?).await?;
    assert_eq!((status, text(&plain, "root_path")), (StatusCode::CREATED, "api://plain".to_owned()));

    // Nor can a saved state move an existing project's root out.
    let id = text(&plain, "id");
    let path = format!("/v1/projects/{id}/state");
    let mut moved = get(&server, &key, &path).await?;
    moved["project"]["root_path"] = json!(outside);
    problem(
        server.req(Method::PUT, &path, &key).json(&moved).send().await?,
        StatusCode::BAD_REQUEST,
        "root-not-allowed",
    )
    .await?;
    let (status, checkpoint) = json(
        server
            .req(Method::POST, &format!("/v1/projects/{id}/checkpoints"), &key)
            .json(&json!({"reason": "probe"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{checkpoint}");
    assert!(checkpoint["git_commit"].is_null(), "no git ran for an api:// root: {checkpoint}");
    server.stop().await?;

    // With a projects directory, a directory inside it is allowed (stored resolved).
    let projects = tempfile::tempdir()?;
    std::fs::create_dir(projects.path().join("shop"))?;
    let config =
        ServerConfig { projects_dir: Some(projects.path().to_path_buf()), ..ServerConfig::default() };
    let server = Server::with_config(config).await?;
    let key = server.user("a@example.com").await?;
    let create = |body: Value| server.req(Method::POST, "/v1/projects", &key).json(&body).send();
    let shop = projects.path().join("shop");
    let (status, body) =
        json(create(json!({"name": "shop", "root_path": shop.display().to_string()})).await?).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(text(&body, "root_path"), std::fs::canonicalize(&shop)?.display().to_string());
    for root in [outside.clone(), projects.path().join("shop/../..").display().to_string()] {
        problem(
            create(json!({"name": "out", "root_path": root})).await?,
            StatusCode::BAD_REQUEST,
            "root-not-allowed",
        )
        .await?;
    }
    server.stop().await
}
