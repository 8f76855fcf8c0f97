//! Every route's answer on the happy path, and the shutdown's clean close.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Server, TestResult, json, problem, text};

/// Polls the knowledge item until it leaves `processing`.
pub async fn processed(server: &Server, key: &str, id: &str) -> TestResult<serde_json::Value> {
    for _ in 0..200 {
        let (_, item) =
            json(server.req(Method::GET, &format!("/v1/knowledge/{id}"), key).send().await?).await?;
        if item["status"] != "processing" {
            return Ok(item);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("knowledge item still processing after 4 s".into())
}

#[tokio::test]
async fn health_and_openapi_need_no_key() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = json(server.client.get(format!("{}/health", server.base)).send().await?).await?;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, doc) =
        json(server.client.get(format!("{}/openapi.json", server.base)).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&doc, "openapi").starts_with("3.1"));
    for path in [
        "/v1/projects",
        "/v1/knowledge/{id}",
        "/v1/research-sessions/{id}",
        "/v1/history",
        "/v1/memory",
        "/v1/search",
        "/v1/projects/{id}/state",
        "/v1/projects/{id}/state.md",
        "/v1/projects/{id}/checkpoints/{checkpoint_id}/diff",
        "/v1/projects/{id}/checkpoints/{checkpoint_id}/restore",
        "/v1/projects/{id}/continue-points",
        "/v1/projects/{id}/tasks/{task_id}/continue-points",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the document");
    }
    assert!(doc["paths"]["/v1/projects/{id}/state"]["put"].is_object(), "PUT state missing");
    // The shared error responses: a problem+json body, referring to the Problem schema.
    let conflict = &doc["paths"]["/v1/projects/{id}/state"]["put"]["responses"]["409"];
    assert_eq!(
        conflict["content"]["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
        "{conflict}"
    );
    let missing = &doc["paths"]["/v1/knowledge/{id}"]["get"]["responses"];
    assert!(missing["404"].is_object() && missing["409"].is_null(), "{missing}");
    server.stop().await
}

#[tokio::test]
async fn projects_state_checkpoints_and_the_task_workflow() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let (status, project) =
        json(server.req(Method::POST, "/v1/projects", &key).json(&json!({"name": "shop"})).send().await?)
            .await?;
    assert_eq!(status, StatusCode::CREATED);
    let id = text(&project, "id");
    let (_, list) = json(server.req(Method::GET, "/v1/projects", &key).send().await?).await?;
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (status, got) =
        json(server.req(Method::GET, &format!("/v1/projects/{id}"), &key).send().await?).await?;
    assert_eq!((status, text(&got, "name")), (StatusCode::OK, "shop".to_owned()));
    problem(
        server.req(Method::POST, "/v1/projects", &key).json(&json!({"name": "shop"})).send().await?,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await?;

    let (status, task) = json(
        server
            .req(Method::POST, &format!("/v1/projects/{id}/tasks"), &key)
            .json(&json!({"name": "cart totals"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED);
    let task_id = text(&task, "id");
    let (_, ready) =
        json(server.req(Method::GET, &format!("/v1/projects/{id}/tasks/ready"), &key).send().await?).await?;
    assert_eq!(ready["items"][0]["id"], task_id.as_str());
    // Completing a task never started is refused; failing one is a workflow step.
    let workflow = format!("/v1/projects/{id}/tasks/{task_id}/workflow");
    problem(
        server.req(Method::POST, &workflow, &key).json(&json!({"action": "complete"})).send().await?,
        StatusCode::CONFLICT,
        "invalid-transition",
    )
    .await?;
    let (status, failed) = json(
        server
            .req(Method::POST, &workflow, &key)
            .json(&json!({"action": "fail", "reason": "flaky"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, failed["status"].as_str()), (StatusCode::OK, Some("failed")));

    let (status, state) =
        json(server.req(Method::GET, &format!("/v1/projects/{id}/state"), &key).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["tasks"][0]["name"], "cart totals");
    let md = server.req(Method::GET, &format!("/v1/projects/{id}/state.md"), &key).send().await?;
    assert_eq!(md.status(), StatusCode::OK);
    assert!(md.text().await?.contains("cart totals"));
    let (status, _) = json(
        server
            .req(Method::POST, &format!("/v1/projects/{id}/checkpoints"), &key)
            .json(&json!({"reason": "before"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (_, checkpoints) =
        json(server.req(Method::GET, &format!("/v1/projects/{id}/checkpoints"), &key).send().await?).await?;
    assert_eq!(checkpoints["items"].as_array().map(Vec::len), Some(1));
    server.stop().await
}

#[tokio::test]
async fn memory_search_and_knowledge() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let (_, project) =
        json(server.req(Method::POST, "/v1/projects", &key).json(&json!({"name": "kb"})).send().await?)
            .await?;
    let project = text(&project, "id");
    let (status, _) = json(
        server
            .req(Method::POST, "/v1/memory", &key)
            .json(&json!({"project": project, "type": "decision", "content": "Prices are kept in cents"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (status, recalled) = json(
        server
            .req(Method::GET, "/v1/memory", &key)
            .query(&[("project", project.as_str()), ("q", "prices cents")])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recalled["items"][0]["episode"]["content"], "Prices are kept in cents");
    let (_, hits) = json(
        server
            .req(Method::GET, "/v1/search", &key)
            .query(&[("project", project.as_str()), ("q", "cents")])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(hits["items"][0]["source"]["kind"], "episode");

    // Text knowledge: accepted at once, then indexed and searchable without a project.
    let (status, item) = json(
        server
            .req(Method::POST, "/v1/knowledge", &key)
            .json(&json!({"kind": "text", "title": "Rates", "content": "# Exchange rates\nRates refresh hourly from the central bank."}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, item["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")));
    let item = processed(&server, &key, &text(&item, "id")).await?;
    assert_eq!((item["status"].as_str(), item["chunk_count"].as_i64()), (Some("completed"), Some(1)));
    let (_, hits) = json(
        server.req(Method::GET, "/v1/search", &key).query(&[("q", "exchange rates hourly")]).send().await?,
    )
    .await?;
    assert!(
        hits["items"][0]["source"]["row"]["content"].as_str().unwrap_or("").contains("central bank"),
        "{hits}"
    );

    // A file upload (multipart), and one that cannot be processed: failed, with the reason.
    let form = reqwest::multipart::Form::new()
        .text("title", "notes")
        .part("file", reqwest::multipart::Part::bytes(b"fn main() {}\n".to_vec()).file_name("main.rs"));
    let (status, file) =
        json(server.req(Method::POST, "/v1/knowledge", &key).multipart(form).send().await?).await?;
    assert_eq!(
        (status, file["kind"].as_str(), file["file_name"].as_str()),
        (StatusCode::ACCEPTED, Some("file"), Some("main.rs"))
    );
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![0xff, 0xfe, 0x00]).file_name("x.bin"));
    let (_, bad) =
        json(server.req(Method::POST, "/v1/knowledge", &key).multipart(form).send().await?).await?;
    let bad = processed(&server, &key, &text(&bad, "id")).await?;
    assert_eq!(bad["status"], "failed");
    assert!(text(&bad, "error").contains("UTF-8"), "{bad}");
    processed(&server, &key, &text(&file, "id")).await?;

    // Filters, then delete (the chunks go with it).
    let (_, failed) =
        json(server.req(Method::GET, "/v1/knowledge", &key).query(&[("status", "failed")]).send().await?)
            .await?;
    assert_eq!(failed["items"].as_array().map(Vec::len), Some(1));
    let (_, files) =
        json(server.req(Method::GET, "/v1/knowledge", &key).query(&[("kind", "file")]).send().await?).await?;
    assert_eq!(files["items"].as_array().map(Vec::len), Some(2));
    let (_, titled) =
        json(server.req(Method::GET, "/v1/knowledge", &key).query(&[("title", "rat")]).send().await?).await?;
    assert_eq!(titled["items"].as_array().map(Vec::len), Some(1));
    let rates = text(&titled["items"][0], "id");
    let deleted = server.req(Method::DELETE, &format!("/v1/knowledge/{rates}"), &key).send().await?;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (_, hits) = json(
        server.req(Method::GET, "/v1/search", &key).query(&[("q", "exchange rates hourly")]).send().await?,
    )
    .await?;
    assert!(!hits.to_string().contains("central bank"), "{hits}");
    problem(
        server.req(Method::GET, &format!("/v1/knowledge/{rates}"), &key).send().await?,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn history_tags_search_delete_and_exports() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let mut ids = Vec::new();
    for (topic, report, tags) in [
        ("solar panels", "Panels pay back in seven years", vec!["energy", "home"]),
        ("heat pumps", "Pumps beat gas boilers, quote \"COP\", commas, too", vec!["energy"]),
        ("sourdough", "Starter needs daily feeding", vec!["food", "home"]),
    ] {
        let (_, session) = json(
            server
                .req(Method::POST, "/v1/research-sessions", &key)
                .json(&json!({"topic": topic}))
                .send()
                .await?,
        )
        .await?;
        let sid = text(&session, "id");
        let (status, _) = json(
            server
                .req(Method::PATCH, &format!("/v1/research-sessions/{sid}"), &key)
                .json(&json!({"version": 1, "final_report": report}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!(status, StatusCode::OK);
        let (status, entry) = json(
            server
                .req(Method::POST, &format!("/v1/research-sessions/{sid}/history"), &key)
                .json(&json!({"tags": tags}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(text(&entry, "id"));
    }
    let count = |body: &serde_json::Value| body["items"].as_array().map_or(0, Vec::len);
    let (_, any) =
        json(server.req(Method::GET, "/v1/history", &key).query(&[("tags", "energy,food")]).send().await?)
            .await?;
    assert_eq!(count(&any), 3);
    let (_, all) = json(
        server
            .req(Method::GET, "/v1/history", &key)
            .query(&[("tags", "energy,home"), ("match", "all")])
            .send()
            .await?,
    )
    .await?;
    assert_eq!((count(&all), all["items"][0]["title"].as_str()), (1, Some("solar panels")));
    let (_, found) =
        json(server.req(Method::GET, "/v1/history", &key).query(&[("q", "boiler")]).send().await?).await?;
    assert_eq!((count(&found), found["items"][0]["title"].as_str()), (1, Some("heat pumps")));
    // Cursor pagination: pages of one, newest first, never repeating.
    let (_, first) =
        json(server.req(Method::GET, "/v1/history", &key).query(&[("limit", "2")]).send().await?).await?;
    let cursor = text(&first, "next_cursor");
    let (_, second) = json(
        server
            .req(Method::GET, "/v1/history", &key)
            .query(&[("limit", "2"), ("cursor", cursor.as_str())])
            .send()
            .await?,
    )
    .await?;
    assert_eq!((count(&first), count(&second), second["next_cursor"].is_null()), (2, 1, true));
    assert_eq!(second["items"][0]["id"], ids[0].as_str());

    let csv = server.req(Method::GET, "/v1/history/export", &key).query(&[("format", "csv")]).send().await?;
    assert!(csv.headers()["content-type"].to_str()?.starts_with("text/csv"));
    let csv = csv.text().await?;
    assert!(csv.starts_with("id,session_id,title,tags,created_at,report"));
    assert!(csv.contains("\"Pumps beat gas boilers, quote \"\"COP\"\", commas, too\""), "{csv}");
    let md = server
        .req(Method::GET, &format!("/v1/history/{}/export", ids[2]), &key)
        .query(&[("format", "md")])
        .send()
        .await?;
    assert!(md.text().await?.starts_with("# sourdough"));
    let (_, exported) = json(server.req(Method::GET, "/v1/history/export", &key).send().await?).await?;
    assert_eq!(exported.as_array().map(Vec::len), Some(3));
    let (status, one) =
        json(server.req(Method::GET, &format!("/v1/history/{}", ids[1]), &key).send().await?).await?;
    assert_eq!((status, one["snapshot"]["topic"].as_str()), (StatusCode::OK, Some("heat pumps")));
    assert_eq!(
        server.req(Method::DELETE, &format!("/v1/history/{}", ids[1]), &key).send().await?.status(),
        StatusCode::NO_CONTENT
    );
    let (_, left) = json(server.req(Method::GET, "/v1/history", &key).send().await?).await?;
    assert_eq!(count(&left), 2);
    server.stop().await
}

#[tokio::test]
async fn me_and_settings() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("Me@Example.com").await?;
    let (_, me) = json(server.req(Method::GET, "/v1/me", &key).send().await?).await?;
    assert_eq!(me["email"], "Me@Example.com");
    let (status, me) =
        json(server.req(Method::PUT, "/v1/me/settings", &key).json(&json!({"theme": "dark"})).send().await?)
            .await?;
    assert_eq!((status, me["settings"]["theme"].as_str()), (StatusCode::OK, Some("dark")));
    problem(
        server.req(Method::PUT, "/v1/me/settings", &key).json(&json!([1])).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    server.stop().await
}

#[tokio::test]
async fn shutdown_checkpoints_the_wal_into_the_database_file() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    for i in 0..20 {
        let (status, _) = json(
            server
                .req(Method::POST, "/v1/projects", &key)
                .json(&json!({"name": format!("p{i}")}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!(status, StatusCode::CREATED);
    }
    let dir = server.shutdown().await?;
    let wal = dir.path().join("nexus.db-wal");
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0, "the WAL was not checkpointed");
    let db = nexus_db::Db::open_with(nexus_db::DbOptions::file(dir.path().join("nexus.db")).read_only(true))
        .await?;
    let counts = db.table_counts().await?;
    let projects = counts.tables.iter().find(|t| t.table == "projects").map(|t| t.rows);
    assert_eq!(projects, Some(21), "20 projects and the user's knowledge project");
    db.close().await?;
    Ok(())
}
