//! Authentication: no key, a malformed header, an unknown key and a revoked key all answer 401
//! with the same problem; a key's secret never appears in an answer.

use nexus_db::{api_keys, users};
use reqwest::{Method, StatusCode};

use crate::harness::{Server, TestResult, json, problem};

#[tokio::test]
async fn missing_unknown_and_revoked_keys_are_refused() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    let url = format!("{}/v1/projects", server.base);
    let none = server.client.get(&url).send().await?;
    assert_eq!(none.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    let expected = problem(none, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    let unknown = format!("nxk_{}", "0".repeat(64));
    for request in [
        server.client.get(&url).header("authorization", format!("Basic {key}")),
        server.client.get(&url).header("authorization", "Bearer "),
        server.client.get(&url).bearer_auth(&unknown),
        server.client.get(&url).bearer_auth(&key[..key.len() - 1]),
    ] {
        let body = problem(request.send().await?, StatusCode::UNAUTHORIZED, "unauthorized").await?;
        assert_eq!(body, expected);
        assert!(!body.to_string().contains(&key[4..20]));
    }
    let (status, _) = json(server.req(Method::GET, "/v1/projects", &key).send().await?).await?;
    assert_eq!(status, StatusCode::OK);

    // Revoked: refused from the next request on; another key of the same user still works.
    let user = users::find_by_email(server.store.db().reader(), "a@example.com").await?;
    let second = api_keys::create(server.store.db().writer(), &user.id, Some("ci")).await?;
    let keys = api_keys::list(server.store.db().reader(), &user.id).await?;
    assert_eq!(keys.len(), 2);
    assert!(keys[0].last_used_at.is_some(), "the first key's use was recorded");
    api_keys::revoke(server.store.db().writer(), &user.id, &keys[0].id).await?;
    problem(
        server.req(Method::GET, "/v1/projects", &key).send().await?,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await?;
    let (status, _) = json(server.req(Method::GET, "/v1/projects", &second.key).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    server.stop().await
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() -> TestResult {
    let server = Server::start().await?;
    let key = server.user("a@example.com").await?;
    assert!(key.starts_with("nxk_") && key.len() == 68);
    let (status, _) = json(server.req(Method::GET, "/v1/me", &key).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    let dir = server.shutdown().await?;
    // The whole database file (WAL checkpointed into it): the hash is there, the key is not.
    let bytes = std::fs::read(dir.path().join("nexus.db"))?;
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(nexus_db::sha256_hex(key.as_bytes()).as_bytes()));
    assert!(!contains(key.as_bytes()));
    assert!(!contains(&key.as_bytes()[12..]));
    Ok(())
}
