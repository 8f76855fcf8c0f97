//! Research sessions: phase rules, optimistic concurrency (a stale version is 409 and changes
//! nothing), expiry (410, then removed by cleanup).

use std::time::Duration;

use nexus_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Server, TestResult, json, problem, text};

#[tokio::test]
async fn phases_move_only_forward_one_step_or_to_error() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let (status, session) = json(
        server
            .req(Method::POST, "/v1/research-sessions", &key)
            .json(&json!({"topic": "tides"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (status, session["phase"].as_str(), session["version"].as_i64()),
        (StatusCode::CREATED, Some("topic"), Some(1))
    );
    let path = format!("/v1/research-sessions/{}", text(&session, "id"));
    let mut version = 1;
    // Skipping a phase, going back and an unknown phase are refused.
    for (phase, status, kind) in [
        ("feedback", StatusCode::CONFLICT, "invalid-transition"),
        ("completed", StatusCode::CONFLICT, "invalid-transition"),
        ("sideways", StatusCode::BAD_REQUEST, "invalid-request"),
    ] {
        problem(
            server
                .req(Method::PATCH, &path, &key)
                .json(&json!({"version": version, "phase": phase}))
                .send()
                .await?,
            status,
            kind,
        )
        .await?;
    }
    for phase in ["questions", "feedback", "planning", "executing", "completed"] {
        let (status, body) = json(
            server
                .req(Method::PATCH, &path, &key)
                .json(&json!({"version": version, "phase": phase}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!((status, body["phase"].as_str()), (StatusCode::OK, Some(phase)), "{body}");
        version += 1;
        assert_eq!(body["version"].as_i64(), Some(version));
        if phase == "planning" {
            problem(
                server
                    .req(Method::PATCH, &path, &key)
                    .json(&json!({"version": version, "phase": "questions"}))
                    .send()
                    .await?,
                StatusCode::CONFLICT,
                "invalid-transition",
            )
            .await?;
        }
    }
    // Completed is final: not even error.
    problem(
        server
            .req(Method::PATCH, &path, &key)
            .json(&json!({"version": version, "phase": "error"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "invalid-transition",
    )
    .await?;
    // Any unfinished phase may go to error.
    let (_, other) = json(
        server.req(Method::POST, "/v1/research-sessions", &key).json(&json!({"topic": "x"})).send().await?,
    )
    .await?;
    let (status, failed) = json(
        server
            .req(Method::PATCH, &format!("/v1/research-sessions/{}", text(&other, "id")), &key)
            .json(&json!({"version": 1, "phase": "error", "error": "search provider down"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (status, failed["phase"].as_str(), failed["error"].as_str()),
        (StatusCode::OK, Some("error"), Some("search provider down"))
    );
    server.stop().await
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let (_, session) = json(
        server
            .req(Method::POST, "/v1/research-sessions", &key)
            .json(&json!({"topic": "tides"}))
            .send()
            .await?,
    )
    .await?;
    let path = format!("/v1/research-sessions/{}", text(&session, "id"));
    let (status, v2) = json(
        server
            .req(Method::PATCH, &path, &key)
            .json(&json!({"version": 1, "questions": "which coast?", "phase": "questions"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, v2["version"].as_i64()), (StatusCode::OK, Some(2)));
    // A second writer still at version 1.
    for stale in [json!({"version": 1, "questions": "overwritten?"}), json!({"version": 7, "feedback": "x"})]
    {
        problem(
            server.req(Method::PATCH, &path, &key).json(&stale).send().await?,
            StatusCode::CONFLICT,
            "version-conflict",
        )
        .await?;
    }
    let (_, now) = json(server.req(Method::GET, &path, &key).send().await?).await?;
    assert_eq!(now, v2);

    // Concurrent updates from the same version: exactly one wins.
    let mut racers = Vec::new();
    for i in 0..8 {
        racers.push(
            server
                .req(Method::PATCH, &path, &key)
                .json(&json!({"version": 2, "feedback": format!("writer {i}")}))
                .send(),
        );
    }
    let mut won = 0;
    for result in futures::future::join_all(racers).await {
        let status = result?.status();
        assert!(status == StatusCode::OK || status == StatusCode::CONFLICT, "{status}");
        won += usize::from(status == StatusCode::OK);
    }
    assert_eq!(won, 1);
    let (_, now) = json(server.req(Method::GET, &path, &key).send().await?).await?;
    assert_eq!(now["version"].as_i64(), Some(3));
    server.stop().await
}

#[tokio::test]
async fn expired_sessions_answer_gone_and_are_cleaned_up() -> TestResult {
    let config = ServerConfig { cleanup_every: Duration::from_millis(300), ..ServerConfig::default() };
    let server = Server::with_config(config).await?;
    let key = server.user("a@example.com").await?;
    let (_, short) = json(
        server
            .req(Method::POST, "/v1/research-sessions", &key)
            .json(&json!({"topic": "t", "ttl_seconds": 1}))
            .send()
            .await?,
    )
    .await?;
    let (_, long) = json(
        server.req(Method::POST, "/v1/research-sessions", &key).json(&json!({"topic": "u"})).send().await?,
    )
    .await?;
    let path = format!("/v1/research-sessions/{}", text(&short, "id"));
    let (status, _) = json(server.req(Method::GET, &path, &key).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Expired: 410 for reads, updates and snapshots (unless cleanup already removed it: 404).
    let (status, _) = json(server.req(Method::GET, &path, &key).send().await?).await?;
    assert!(status == StatusCode::GONE || status == StatusCode::NOT_FOUND, "{status}");
    let (_, listed) = json(server.req(Method::GET, "/v1/research-sessions", &key).send().await?).await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["items"][0]["id"], long["id"]);
    // Cleanup runs every 300 ms: the row is soon gone (404).
    tokio::time::sleep(Duration::from_millis(700)).await;
    problem(server.req(Method::GET, &path, &key).send().await?, StatusCode::NOT_FOUND, "not-found").await?;
    server.stop().await
}

#[tokio::test]
async fn expired_answers_gone_before_cleanup() -> TestResult {
    let config = ServerConfig { cleanup_every: Duration::from_secs(3600), ..ServerConfig::default() };
    let server = Server::with_config(config).await?;
    let key = server.user("a@example.com").await?;
    let (_, short) = json(
        server
            .req(Method::POST, "/v1/research-sessions", &key)
            .json(&json!({"topic": "t", "ttl_seconds": 1}))
            .send()
            .await?,
    )
    .await?;
    let path = format!("/v1/research-sessions/{}", text(&short, "id"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    problem(server.req(Method::GET, &path, &key).send().await?, StatusCode::GONE, "expired").await?;
    problem(
        server
            .req(Method::PATCH, &path, &key)
            .json(&json!({"version": 1, "phase": "questions"}))
            .send()
            .await?,
        StatusCode::GONE,
        "expired",
    )
    .await?;
    problem(
        server.req(Method::POST, &format!("{path}/history"), &key).json(&json!({})).send().await?,
        StatusCode::GONE,
        "expired",
    )
    .await?;
    server.stop().await
}
