//! Upload limits: a body over the limit gets 413 (problem+json) whether its length is declared
//! or it streams without one; a body under the limit is accepted.

use futures::stream;
use nexus_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Server, TestResult, json, problem};

const LIMIT: usize = 64 * 1024;

#[tokio::test]
async fn bodies_over_the_limit_get_413() -> TestResult {
    let server = Server::with_config(ServerConfig { body_limit: LIMIT, ..ServerConfig::default() }).await?;
    let key = server.user("a@example.com").await?;
    let under = json!({"kind": "text", "title": "t", "content": "a ".repeat(LIMIT / 4)});
    let (status, _) =
        json(server.req(Method::POST, "/v1/knowledge", &key).json(&under).send().await?).await?;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Declared length over the limit.
    let over = json!({"kind": "text", "title": "t", "content": "a ".repeat(LIMIT)});
    problem(
        server.req(Method::POST, "/v1/knowledge", &key).json(&over).send().await?,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
    )
    .await?;
    // A multipart upload over the limit.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![b'x'; LIMIT * 2]).file_name("big.txt"));
    problem(
        server.req(Method::POST, "/v1/knowledge", &key).multipart(form).send().await?,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
    )
    .await?;
    // Streamed (chunked, no length) over the limit: cut off while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        std::iter::once(Ok(b"{\"kind\":\"text\",\"title\":\"t\",\"content\":\"".to_vec()))
            .chain((0..LIMIT / 1024 * 2).map(|_| Ok(vec![b'a'; 1024])))
            .chain(std::iter::once(Ok(b"\"}".to_vec())))
            .collect();
    let response = server
        .req(Method::POST, "/v1/knowledge", &key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing over the limit was stored.
    let (_, list) = json(server.req(Method::GET, "/v1/knowledge", &key).send().await?).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    server.stop().await
}

#[tokio::test]
async fn malformed_requests_are_400_problems() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let bad = server
        .req(Method::POST, "/v1/projects", &key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    problem(bad, StatusCode::BAD_REQUEST, "invalid-request").await?;
    problem(
        server.req(Method::GET, "/v1/history?limit=0", &key).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    problem(
        server.req(Method::GET, "/v1/history?limit=abc", &key).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    problem(
        server.req(Method::GET, "/v1/memory", &key).send().await?,
        StatusCode::BAD_REQUEST,
        "invalid-request",
    )
    .await?;
    problem(server.req(Method::GET, "/v1/nowhere", &key).send().await?, StatusCode::NOT_FOUND, "not-found")
        .await?;
    server.stop().await
}
