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

/// The authenticating statement also says whether the key's user owns the project a request
/// names (which spares project routes a statement of their own); a key of another user, an
/// unknown project or none named is not ownership, and the routes still answer 404 for them.
#[tokio::test]
async fn authentication_tells_whether_the_named_project_is_owned() -> TestResult {
    let server = Server::start().await?;
    let alice = server.user("alice@example.com").await?;
    let bob = server.user("bob@example.com").await?;
    let (status, body) = json(
        server
            .req(Method::POST, "/v1/projects", &alice)
            .json(&serde_json::json!({"name": "p"}))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let project = nexus_db::ProjectId::from(crate::harness::text(&body, "id"));
    let db = server.store.db();
    let owns = |key: &str, project: Option<&nexus_db::ProjectId>| {
        let key = key.to_owned();
        let project = project.cloned();
        async move {
            let found = api_keys::authenticate(db, &key, project.as_ref()).await?;
            TestResult::Ok(found.map(|f| f.owns_project))
        }
    };
    assert_eq!(owns(&alice, Some(&project)).await?, Some(true));
    assert_eq!(owns(&bob, Some(&project)).await?, Some(false));
    assert_eq!(owns(&alice, None).await?, Some(false));
    assert_eq!(owns(&alice, Some(&nexus_db::ProjectId::from("nope".to_owned()))).await?, Some(false));
    assert_eq!(owns(&format!("nxk_{}", "0".repeat(64)), Some(&project)).await?, None);

    for path in [format!("/v1/memory?project={project}&q=x"), format!("/v1/projects/{project}/state")] {
        let (status, _) = json(server.req(Method::GET, &path, &alice).send().await?).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        problem(server.req(Method::GET, &path, &bob).send().await?, StatusCode::NOT_FOUND, "not-found")
            .await?;
    }
    server.stop().await
}
