//! The OpenAI-compatible provider against a wiremock peer: batching, order, retries,
//! `Retry-After`, error mapping, request parameters.

use crate::support;

use std::time::{Duration, Instant};

use nexus_embed::{EmbedError, Embedder, OpenAiConfig, OpenAiEmbedder, RetryPolicy};
use serde_json::json;
use support::{
    DIMS, EchoEmbeddings, TestResult, config, echo_server, embedder, expected_vector, fresh_server,
    received_inputs,
};
use wiremock::matchers::{body_partial_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text number {i} {}", "x".repeat(i % 7))).collect()
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn batches_by_input_count_and_keeps_input_order() -> TestResult {
    let server = echo_server().await;
    let embedder = OpenAiEmbedder::new(OpenAiConfig { max_inputs_per_request: 3, ..config(&server) })?;
    let texts = texts(8);
    let vectors = embedder.embed(&refs(&texts)).await?;

    let requests = received_inputs(&server).await;
    let mut sizes: Vec<usize> = requests.iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [2, 3, 3]);
    // Every text sent exactly once.
    let mut sent: Vec<String> = requests.into_iter().flatten().collect();
    sent.sort();
    let mut all = texts.clone();
    all.sort();
    assert_eq!(sent, all);
    // The peer lists data in reverse; vectors still come back in input order.
    for (text, vector) in texts.iter().zip(&vectors) {
        let mut expected = expected_vector(text);
        expected.resize(DIMS, 0.5);
        assert_eq!(vector, &expected, "{text}");
    }
    Ok(())
}

#[tokio::test]
async fn batches_by_estimated_tokens() -> TestResult {
    let server = echo_server().await;
    let embedder = OpenAiEmbedder::new(OpenAiConfig { max_tokens_per_request: 250, ..config(&server) })?;
    let texts: Vec<String> = (0..6).map(|i| format!("{i}{}", "y".repeat(99))).collect(); // 100 bytes each
    let vectors = embedder.embed(&refs(&texts)).await?;
    assert_eq!(vectors.len(), 6);
    let requests = received_inputs(&server).await;
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.len() == 2), "{requests:?}");
    Ok(())
}

#[tokio::test]
async fn sends_model_key_and_dimensions() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", "Bearer sk-test"))
        .and(body_partial_json(json!({ "model": "text-embedding-3-small", "dimensions": 4 })))
        .respond_with(EchoEmbeddings::new(DIMS))
        .expect(1)
        .mount(&server)
        .await;
    let embedder =
        OpenAiEmbedder::new(OpenAiConfig { model: "text-embedding-3-small".into(), ..config(&server) })?;
    assert_eq!((embedder.model(), embedder.dimensions()), ("text-embedding-3-small", 4));
    embedder.embed(&["hello"]).await?;
    server.verify().await;

    // Other models get no `dimensions` parameter unless asked (many servers reject it).
    let server = echo_server().await;
    embedder_for(&server, None)?.embed(&["hello"]).await?;
    embedder_for(&server, Some(true))?.embed(&["hello"]).await?;
    let bodies: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.body_json().unwrap_or_default())
        .collect();
    assert_eq!(bodies[0].get("dimensions"), None);
    assert_eq!(bodies[1]["dimensions"], 4);
    Ok(())
}

fn embedder_for(server: &MockServer, send_dimensions: Option<bool>) -> nexus_embed::Result<OpenAiEmbedder> {
    OpenAiEmbedder::new(OpenAiConfig { send_dimensions, ..config(server) })
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("overloaded"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(EchoEmbeddings::new(DIMS)).mount(&server).await;
    let vectors = embedder(&server)?.embed(&["a", "b"]).await?;
    assert_eq!(vectors.len(), 2);
    assert_eq!(received_inputs(&server).await.len(), 3);
    Ok(())
}

#[tokio::test]
async fn honours_retry_after() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1").set_body_json(json!({
            "error": { "message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded" }
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(EchoEmbeddings::new(DIMS)).mount(&server).await;
    let started = Instant::now();
    embedder(&server)?.embed(&["a"]).await?;
    // The backoff alone would be a few milliseconds; the server asked for a second.
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    assert_eq!(received_inputs(&server).await.len(), 2);
    Ok(())
}

#[tokio::test]
async fn gives_up_when_retry_after_is_too_long() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = embedder(&server)?.embed(&["a", "b"]).await.err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        Some(EmbedError::RateLimited { attempts: 1, retry_after: Some(wait), inputs, .. }) => {
            assert_eq!(wait, Duration::from_secs(120));
            assert_eq!(inputs, [0, 1]);
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(received_inputs(&server).await.len(), 1);
    Ok(())
}

/// async-openai retries 429 by itself by default; ours replaces it, so the number of
/// requests is exactly what our policy says.
#[tokio::test]
async fn rate_limit_exhausts_our_retries_and_only_ours() -> TestResult {
    for max_retries in [0u32, 2] {
        let server = fresh_server().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(429)
                    .set_body_json(json!({ "error": { "message": "slow down", "type": "requests" } })),
            )
            .mount(&server)
            .await;
        let config = config(&server);
        let embedder = OpenAiEmbedder::new(OpenAiConfig {
            retry: RetryPolicy { max_retries, ..config.retry },
            ..config
        })?;
        match embedder.embed(&["a"]).await {
            Err(EmbedError::RateLimited { attempts, message, .. }) => {
                assert_eq!(attempts, max_retries + 1);
                assert_eq!(message, "slow down");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert_eq!(received_inputs(&server).await.len(), max_retries as usize + 1);
    }
    Ok(())
}

#[tokio::test]
async fn client_errors_are_not_retried() -> TestResult {
    let cases = [
        (401, json!({ "error": { "message": "Incorrect API key provided", "code": "invalid_api_key" } })),
        (400, json!({ "error": { "message": "dimensions not supported", "type": "invalid_request_error" } })),
        (
            429,
            json!({ "error": { "message": "You exceeded your current quota", "type": "insufficient_quota" } }),
        ),
        (404, json!({ "error": "model \"nope\" not found, try pulling it first" })),
    ];
    for (status, body) in cases {
        let server = fresh_server().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let err = embedder(&server)?.embed(&["a", "b", "c"]).await.err();
        match (status, &err) {
            (401, Some(EmbedError::Auth { status: 401, message, .. })) => {
                assert!(message.contains("API key"))
            }
            (400, Some(EmbedError::BadRequest { status: 400, message, .. })) => {
                assert!(message.contains("dimensions"))
            }
            (429, Some(EmbedError::RateLimited { attempts: 1, message, .. })) => {
                assert!(message.contains("quota"))
            }
            (404, Some(EmbedError::BadRequest { status: 404, message, .. })) => {
                assert!(message.contains("not found"))
            }
            _ => panic!("HTTP {status}: unexpected {err:?}"),
        }
        assert_eq!(err.as_ref().map(EmbedError::inputs), Some(&[0, 1, 2][..]));
        assert_eq!(received_inputs(&server).await.len(), 1, "HTTP {status} was retried");
    }
    Ok(())
}

#[tokio::test]
async fn a_failed_batch_names_its_inputs() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .and(body_string_contains("poison"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({ "error": { "message": "input too long" } })),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(EchoEmbeddings::new(DIMS)).mount(&server).await;
    let embedder = OpenAiEmbedder::new(OpenAiConfig { max_inputs_per_request: 2, ..config(&server) })?;
    let err = embedder.embed(&["a", "b", "c", "poison", "e"]).await.err();
    match err {
        Some(EmbedError::BadRequest { status: 400, inputs, .. }) => assert_eq!(inputs, [2, 3]),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() -> TestResult {
    // A client-side timeout, and HTTP 408 from the server.
    let slow = fresh_server().await;
    Mock::given(method("POST"))
        .respond_with(EchoEmbeddings::new(DIMS).with_delay(Duration::from_millis(800)))
        .mount(&slow)
        .await;
    let status_408 = fresh_server().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(408)).mount(&status_408).await;
    for server in [&slow, &status_408] {
        let config = config(server);
        let embedder = OpenAiEmbedder::new(OpenAiConfig {
            request_timeout: Duration::from_millis(100),
            retry: RetryPolicy { max_retries: 1, ..config.retry },
            ..config
        })?;
        match embedder.embed(&["a"]).await {
            Err(EmbedError::Timeout { attempts: 2, inputs, .. }) => assert_eq!(inputs, [0]),
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert_eq!(received_inputs(server).await.len(), 2);
    }
    Ok(())
}

#[tokio::test]
async fn unreachable_server_is_a_connection_error() -> TestResult {
    // A port that was just listening and is now closed (wiremock pools its servers, so a
    // dropped MockServer may still answer).
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let server = fresh_server().await;
    let config = config(&server);
    let embedder = OpenAiEmbedder::new(OpenAiConfig {
        base_url: Some(format!("http://127.0.0.1:{port}/v1")),
        retry: RetryPolicy { max_retries: 2, ..config.retry },
        ..config
    })?;
    match embedder.embed(&["a"]).await {
        Err(EmbedError::Connection { attempts: 3, inputs, .. }) => assert_eq!(inputs, [0]),
        other => panic!("expected Connection, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn malformed_responses_are_typed_errors() -> TestResult {
    let bodies = [
        // Wrong vector length.
        json!({ "data": [{ "index": 0, "embedding": [1.0, 2.0] }] }),
        // Index out of range.
        json!({ "data": [{ "index": 5, "embedding": [1.0, 2.0, 3.0, 4.0] }] }),
        // Too few vectors for the inputs (sent two).
        json!({ "data": [] }),
        // Not an embeddings response at all.
        json!({ "status": "ok" }),
    ];
    for (n, body) in bodies.into_iter().enumerate() {
        let server = fresh_server().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
        let input: &[&str] = if n == 0 { &["a"] } else { &["a", "b"] };
        let err = embedder(&server)?.embed(input).await.err();
        match (n, &err) {
            (0, Some(EmbedError::DimensionMismatch { expected: 4, actual: 2, index: 0, .. })) => {}
            (1..=3, Some(EmbedError::InvalidResponse { inputs, .. })) => assert_eq!(inputs, &[0, 1]),
            _ => panic!("case {n}: unexpected {err:?}"),
        }
        assert_eq!(received_inputs(&server).await.len(), 1, "case {n} was retried");
    }
    Ok(())
}

#[tokio::test]
async fn concurrency_is_bounded() -> TestResult {
    let server = fresh_server().await;
    let delay = Duration::from_millis(150);
    Mock::given(method("POST"))
        .respond_with(EchoEmbeddings::new(DIMS).with_delay(delay))
        .mount(&server)
        .await;
    let embedder = OpenAiEmbedder::new(OpenAiConfig {
        max_inputs_per_request: 1,
        max_concurrent_requests: 2,
        ..config(&server)
    })?;
    let started = Instant::now();
    embedder.embed(&["a", "b", "c", "d", "e", "f"]).await?;
    // Six requests, two at a time: at least three rounds of the peer's delay.
    assert!(started.elapsed() >= delay * 3, "{:?}", started.elapsed());
    assert_eq!(received_inputs(&server).await.len(), 6);
    Ok(())
}

#[tokio::test]
async fn blank_inputs_are_rejected_before_any_request() -> TestResult {
    let server = echo_server().await;
    match embedder(&server)?.embed(&["a", "", "  "]).await {
        Err(EmbedError::EmptyInput { inputs }) => assert_eq!(inputs, [1, 2]),
        other => panic!("expected EmptyInput, got {other:?}"),
    }
    assert!(embedder(&server)?.embed(&[]).await?.is_empty());
    assert!(received_inputs(&server).await.is_empty());
    Ok(())
}

#[tokio::test]
async fn servers_without_usage_or_with_a_trailing_slash_work() -> TestResult {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{ "embedding": [0.1, 0.2, 0.3, 0.4] }, { "embedding": [0.5, 0.6, 0.7, 0.8] }]
        })))
        .mount(&server)
        .await;
    let config = config(&server);
    let base_url = config.base_url.as_ref().map(|u| format!("{u}/"));
    let embedder = OpenAiEmbedder::new(OpenAiConfig { base_url, api_key: None, ..config })?;
    let vectors = embedder.embed(&["a", "b"]).await?;
    assert_eq!(vectors, [vec![0.1, 0.2, 0.3, 0.4], vec![0.5, 0.6, 0.7, 0.8]]);
    Ok(())
}

#[test]
fn invalid_configs_are_rejected() {
    let base = OpenAiConfig { api_key: Some("k".into()), ..OpenAiConfig::default() };
    let bad = [
        ("base_url", OpenAiConfig { base_url: Some("not a url".into()), ..base.clone() }),
        ("base_url", OpenAiConfig { base_url: Some("ftp://host/v1".into()), ..base.clone() }),
        ("api_key", OpenAiConfig { api_key: None, ..base.clone() }),
        ("api_key", OpenAiConfig { api_key: Some("sk\nx".into()), ..base.clone() }),
        ("model", OpenAiConfig { model: " ".into(), ..base.clone() }),
        ("dimensions", OpenAiConfig { model: "custom".into(), ..base.clone() }),
        ("dimensions", OpenAiConfig { dimensions: Some(0), ..base.clone() }),
        ("max_inputs_per_request", OpenAiConfig { max_inputs_per_request: 4096, ..base.clone() }),
        ("max_concurrent_requests", OpenAiConfig { max_concurrent_requests: 0, ..base.clone() }),
    ];
    for (setting, config) in bad {
        match OpenAiEmbedder::new(config) {
            Err(EmbedError::Config { setting: s, .. }) if s == setting => {}
            other => panic!("{setting}: unexpected {other:?}"),
        }
    }
    assert!(OpenAiEmbedder::new(base).is_ok_and(|e| e.dimensions() == 1536));
}
