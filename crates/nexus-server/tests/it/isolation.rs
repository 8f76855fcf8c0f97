//! Per-user isolation: 100 attempts by one user on another's resources (read, update, delete,
//! list, search, export) all answer 404 exactly like a missing resource, or show nothing of
//! the other user's; and nothing of the owner's was changed.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Server, TestResult, json, text};

#[tokio::test]
async fn a_hundred_cross_user_attempts_all_look_like_missing_resources() -> TestResult {
    let server = Server::start().await?;
    let alice = server.user("alice@example.com").await?;
    let mallory = server.user("mallory@example.com").await?;

    // Alice's resources.
    let (_, project) =
        json(server.req(Method::POST, "/v1/projects", &alice).json(&json!({"name": "secret"})).send().await?)
            .await?;
    let project = text(&project, "id");
    let (_, task) = json(
        server
            .req(Method::POST, &format!("/v1/projects/{project}/tasks"), &alice)
            .json(&json!({"name": "t"}))
            .send()
            .await?,
    )
    .await?;
    let task = text(&task, "id");
    let (_, checkpoint) = json(
        server
            .req(Method::POST, &format!("/v1/projects/{project}/checkpoints"), &alice)
            .json(&json!({"reason": "baseline"}))
            .send()
            .await?,
    )
    .await?;
    let checkpoint = text(&checkpoint, "id");
    // Mallory's own project, its state and STATE.md: valid bodies to aim at Alice's project.
    let (_, own) =
        json(server.req(Method::POST, "/v1/projects", &mallory).json(&json!({"name": "mine"})).send().await?)
            .await?;
    let own = text(&own, "id");
    let (_, own_state) =
        json(server.req(Method::GET, &format!("/v1/projects/{own}/state"), &mallory).send().await?).await?;
    let own_md = server
        .req(Method::GET, &format!("/v1/projects/{own}/state.md"), &mallory)
        .send()
        .await?
        .text()
        .await?;
    let (_, item) = json(
        server
            .req(Method::POST, "/v1/knowledge", &alice)
            .json(&json!({"kind": "text", "title": "plans", "content": "the launch codeword is zebra"}))
            .send()
            .await?,
    )
    .await?;
    let item = text(&item, "id");
    let (_, session) = json(
        server
            .req(Method::POST, "/v1/research-sessions", &alice)
            .json(&json!({"topic": "zebra launch"}))
            .send()
            .await?,
    )
    .await?;
    let session = text(&session, "id");
    let (_, entry) = json(
        server
            .req(Method::POST, &format!("/v1/research-sessions/{session}/history"), &alice)
            .json(&json!({"tags": ["x"]}))
            .send()
            .await?,
    )
    .await?;
    let entry = text(&entry, "id");
    server
        .req(Method::POST, "/v1/memory", &alice)
        .json(&json!({"project": project, "content": "zebra is the codeword"}))
        .send()
        .await?;

    // What a missing resource answers (the reference every attempt must equal).
    let (missing_status, missing) =
        json(server.req(Method::GET, "/v1/knowledge/no-such-id", &mallory).send().await?).await?;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);

    let attempts: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/v1/projects/{project}"), None),
        (Method::GET, format!("/v1/projects/{project}/state"), None),
        (Method::GET, format!("/v1/projects/{project}/state.md"), None),
        (Method::GET, format!("/v1/projects/{project}/checkpoints"), None),
        (Method::POST, format!("/v1/projects/{project}/checkpoints"), Some(json!({"reason": "x"}))),
        (Method::POST, format!("/v1/projects/{project}/tasks"), Some(json!({"name": "x"}))),
        (Method::GET, format!("/v1/projects/{project}/tasks/ready"), None),
        (
            Method::POST,
            format!("/v1/projects/{project}/tasks/{task}/workflow"),
            Some(json!({"action": "fail", "reason": "x"})),
        ),
        (Method::PUT, format!("/v1/projects/{project}/state"), Some(own_state.clone())),
        (Method::PUT, format!("/v1/projects/{project}/state?force=true"), Some(own_state.clone())),
        (Method::GET, format!("/v1/projects/{project}/checkpoints/{checkpoint}/diff"), None),
        (Method::POST, format!("/v1/projects/{project}/checkpoints/{checkpoint}/restore"), None),
        // Alice's checkpoint and task through Mallory's own project.
        (Method::GET, format!("/v1/projects/{own}/checkpoints/{checkpoint}/diff"), None),
        (Method::POST, format!("/v1/projects/{own}/checkpoints/{checkpoint}/restore"), None),
        (
            Method::POST,
            format!("/v1/projects/{own}/tasks/{task}/workflow"),
            Some(json!({"action": "block", "blocking_task_id": task})),
        ),
        (Method::GET, format!("/v1/projects/{own}/tasks/{task}/continue-points"), None),
        (
            Method::POST,
            format!("/v1/projects/{project}/tasks/{task}/workflow"),
            Some(json!({"action": "assign", "agent_id": "a"})),
        ),
        (Method::GET, format!("/v1/projects/{project}/continue-points"), None),
        (
            Method::POST,
            format!("/v1/projects/{project}/continue-points"),
            Some(json!({"task_id": task, "last_action": "x"})),
        ),
        (Method::GET, format!("/v1/projects/{project}/tasks/{task}/continue-points"), None),
        (Method::POST, "/v1/memory".to_owned(), Some(json!({"project": project, "content": "x"}))),
        (Method::GET, format!("/v1/memory?project={project}&q=zebra"), None),
        (Method::GET, format!("/v1/search?project={project}&q=zebra"), None),
        (Method::GET, format!("/v1/knowledge/{item}"), None),
        (Method::DELETE, format!("/v1/knowledge/{item}"), None),
        (Method::GET, format!("/v1/research-sessions/{session}"), None),
        (
            Method::PATCH,
            format!("/v1/research-sessions/{session}"),
            Some(json!({"version": 1, "phase": "error"})),
        ),
        (Method::DELETE, format!("/v1/research-sessions/{session}"), None),
        (Method::POST, format!("/v1/research-sessions/{session}/history"), Some(json!({"tags": []}))),
        (Method::GET, format!("/v1/history/{entry}"), None),
        (Method::GET, format!("/v1/history/{entry}/export?format=csv"), None),
        (Method::DELETE, format!("/v1/history/{entry}"), None),
    ];
    let mut tried = 0;
    while tried < 100 {
        for (method, path, body) in &attempts {
            let mut request = server.req(method.clone(), path, &mallory);
            if let Some(body) = body {
                request = request.json(body);
            }
            let (status, answer) = json(request.send().await?).await?;
            assert_eq!((status, &answer), (missing_status, &missing), "{method} {path}");
            tried += 1;
        }
        let md = server
            .req(Method::PUT, &format!("/v1/projects/{project}/state.md"), &mallory)
            .body(own_md.clone());
        let (status, answer) = json(md.send().await?).await?;
        assert_eq!((status, &answer), (missing_status, &missing), "PUT state.md");
        tried += 1;
    }

    // Lists, search and exports show nothing of Alice's.
    for path in [
        "/v1/projects",
        "/v1/knowledge",
        "/v1/research-sessions",
        "/v1/history",
        "/v1/history/export",
        "/v1/search?q=zebra",
    ] {
        let (status, body) = json(server.req(Method::GET, path, &mallory).send().await?).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !body.to_string().contains("zebra") && !body.to_string().contains("secret"),
            "{path}: {body}"
        );
    }

    // Alice's resources are untouched.
    for path in [
        format!("/v1/knowledge/{item}"),
        format!("/v1/research-sessions/{session}"),
        format!("/v1/history/{entry}"),
    ] {
        let (status, body) = json(server.req(Method::GET, &path, &alice).send().await?).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        if path.contains("research") {
            assert_eq!((body["version"].as_i64(), body["phase"].as_str()), (Some(1), Some("topic")));
        }
    }
    let (_, ready) =
        json(server.req(Method::GET, &format!("/v1/projects/{project}/tasks/ready"), &alice).send().await?)
            .await?;
    assert_eq!(ready["items"].as_array().map(Vec::len), Some(1), "the task was not failed by mallory");
    let (_, state) =
        json(server.req(Method::GET, &format!("/v1/projects/{project}/state"), &alice).send().await?).await?;
    assert_eq!(
        (state["project"]["name"].as_str(), state["tasks"][0]["status"].as_str()),
        (Some("secret"), Some("pending")),
        "the state was not saved over nor restored by mallory: {state}"
    );
    assert_eq!(state["continue_points"], json!([]), "{state}");
    let (_, checkpoints) =
        json(server.req(Method::GET, &format!("/v1/projects/{project}/checkpoints"), &alice).send().await?)
            .await?;
    assert_eq!(checkpoints["items"].as_array().map(Vec::len), Some(1), "no safety checkpoint: no restore");
    server.stop().await
}
