//! Knowledge items of kind `url`: the background job fetches the page from a tiny HTTP server
//! on 127.0.0.1 (allowed by `allow_private_urls`), reduces HTML to text, follows a redirect,
//! and fails — with the reason — on 404, an oversized page, a non-text page, a redirect loop,
//! a timeout; by default loopback addresses are refused (the SSRF guard).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode as Status, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use nexus_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Server, TestResult, json, problem, text};
use crate::routes::processed;

/// The body limit of these tests' server: also the largest page it fetches.
const LIMIT: usize = 64 * 1024;

/// A web site on 127.0.0.1 (ephemeral port): its base URL and how many requests it answered.
async fn site() -> TestResult<(String, Arc<AtomicUsize>)> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/zebra.html",
            get(|| async {
                let html = "<html><head><title>Zebras</title><script>var tracking = 1;</script></head>\
                    <body><h1>Zebra stripes</h1><p>Every zebra has a unique pattern of <b>stripes</b>.</p></body></html>";
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html)
            }),
        )
        .route("/notes.md", get(|| async { ([(header::CONTENT_TYPE, "text/markdown")], "# Okapi\nThe okapi is a giraffid.") }))
        .route("/moved", get(|| async { Redirect::temporary("/zebra.html") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/big.txt", get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "x".repeat(LIMIT + 1)) }))
        .route("/logo.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0x89, b'P', b'N', b'G']) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .fallback(|| async { (Status::NOT_FOUND, "no such page").into_response() })
        .layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
            counted.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, hits))
}

/// Creates a url item and waits for its job to end.
async fn fetched(server: &Server, key: &str, url: &str) -> TestResult<Value> {
    let (status, item) = json(
        server
            .req(Method::POST, "/v1/knowledge", key)
            .json(&json!({"kind": "url", "title": url, "url": url}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, item["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")), "{item}");
    processed(server, key, &text(&item, "id")).await
}

fn allowing_loopback() -> ServerConfig {
    ServerConfig {
        body_limit: LIMIT,
        allow_private_urls: true,
        fetch_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn pages_are_fetched_reduced_to_text_and_searchable() -> TestResult {
    let (site, hits) = site().await?;
    let server = Server::with_config(allowing_loopback()).await?;
    let key = server.user("a@example.com").await?;

    let item = fetched(&server, &key, &format!("{site}/zebra.html")).await?;
    assert_eq!(item["status"], "completed", "{item}");
    assert_eq!(item["content_type"], "text/html", "{item}");
    let content = text(&item, "content");
    assert!(content.contains("Zebra stripes") && content.contains("unique pattern of stripes"), "{content}");
    assert!(!content.contains("tracking") && !content.contains('<'), "{content}");
    assert_eq!(item["size"].as_u64(), Some(content.len() as u64));
    assert!(item["chunk_count"].as_i64().unwrap_or(0) >= 1, "{item}");
    let (_, found) = json(
        server.req(Method::GET, "/v1/search", &key).query(&[("q", "zebra unique pattern")]).send().await?,
    )
    .await?;
    assert!(
        found["items"][0]["source"]["row"]["content"].as_str().unwrap_or("").contains("zebra"),
        "{found}"
    );

    // Text as it is; a redirect followed.
    let notes = fetched(&server, &key, &format!("{site}/notes.md")).await?;
    assert_eq!(
        (notes["status"].as_str(), notes["content"].as_str()),
        (Some("completed"), Some("# Okapi\nThe okapi is a giraffid."))
    );
    let moved = fetched(&server, &key, &format!("{site}/moved")).await?;
    assert!(text(&moved, "content").contains("Zebra stripes"), "{moved}");

    // Content given with the URL is used as it is: nothing is fetched.
    let before = hits.load(Ordering::SeqCst);
    let (_, given) = json(
        server
            .req(Method::POST, "/v1/knowledge", &key)
            .json(&json!({"kind": "url", "title": "t", "url": format!("{site}/zebra.html"), "content": "my own copy"}))
            .send()
            .await?,
    )
    .await?;
    let given = processed(&server, &key, &text(&given, "id")).await?;
    assert_eq!(
        (given["status"].as_str(), given["content"].as_str()),
        (Some("completed"), Some("my own copy"))
    );
    assert_eq!(hits.load(Ordering::SeqCst), before, "a URL with content was fetched");
    server.stop().await
}

#[tokio::test]
async fn failures_are_recorded_with_their_reason() -> TestResult {
    let (site, _) = site().await?;
    let server = Server::with_config(allowing_loopback()).await?;
    let key = server.user("a@example.com").await?;
    for (path, reason) in [
        ("/missing", "404"),
        ("/big.txt", "larger than 65536 bytes"),
        ("/logo.png", "not a text page (content type image/png)"),
        ("/loop", "redirects"),
        ("/slow", "timed out"),
    ] {
        let item = fetched(&server, &key, &format!("{site}{path}")).await?;
        assert_eq!(
            (item["status"].as_str(), item["chunk_count"].as_i64()),
            (Some("failed"), Some(0)),
            "{item}"
        );
        assert!(text(&item, "error").contains(reason), "{path}: {item}");
        assert_eq!(item["content"], "", "{item}");
    }
    // URLs that are not http(s) are refused when the item is created.
    for url in ["file:///etc/passwd", "ftp://example.com/x", "not a url"] {
        problem(
            server
                .req(Method::POST, "/v1/knowledge", &key)
                .json(&json!({"kind": "url", "title": "t", "url": url}))
                .send()
                .await?,
            StatusCode::BAD_REQUEST,
            "invalid-request",
        )
        .await?;
    }
    server.stop().await
}

#[tokio::test]
async fn loopback_and_private_addresses_are_refused_by_default() -> TestResult {
    let (site, hits) = site().await?;
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let port = site.rsplit(':').next().unwrap_or_default();
    for (url, reason) in [
        (format!("{site}/zebra.html"), "127.0.0.1 is a loopback, private or link-local address"),
        (format!("http://localhost:{port}/zebra.html"), "localhost resolves to a loopback"),
        (format!("http://[::1]:{port}/zebra.html"), "::1 is a loopback"),
        ("http://169.254.169.254/latest/meta-data/".to_owned(), "169.254.169.254 is a loopback"),
        ("http://10.0.0.1/".to_owned(), "10.0.0.1 is a loopback"),
    ] {
        let item = fetched(&server, &key, &url).await?;
        assert_eq!(item["status"], "failed", "{item}");
        assert!(text(&item, "error").contains(reason), "{url}: {item}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the guard let a request through");
    server.stop().await
}
