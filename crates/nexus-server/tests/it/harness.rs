//! A running server for one test: a store in a temp dir, `serve` on an ephemeral port, a
//! client, users with keys, and a clean stop that closes the database.

use std::sync::Arc;

use nexus_db::{api_keys, users};
use nexus_embed::LocalEmbedder;
use nexus_server::ServerConfig;
use nexus_store::Store;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A server under test.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<nexus_server::Result<()>>>,
}

impl Server {
    /// A server with the default configuration.
    pub async fn start() -> TestResult<Self> {
        Self::with_config(ServerConfig::default()).await
    }

    /// A server with `config`.
    pub async fn with_config(config: ServerConfig) -> TestResult<Self> {
        // reqwest is built without a crypto provider (workspace features); plain HTTP needs
        // none, but the client refuses to build without one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir()?;
        let store = Store::builder(dir.path().join("nexus.db"))
            .embedder(Arc::new(LocalEmbedder::new(64)?))
            .open()
            .await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(nexus_server::serve(store.clone(), listener, config, async {
            let _ = stopped.await;
        }));
        Ok(Self { base, client: reqwest::Client::new(), store, dir, stop: Some(stop), task: Some(task) })
    }

    /// A new user and their key.
    pub async fn user(&self, email: &str) -> TestResult<String> {
        let user = users::create(self.store.db().writer(), email).await?;
        Ok(api_keys::create(self.store.db().writer(), &user.id, None).await?.key)
    }

    /// A request to `path` with `key`.
    pub fn req(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key)
    }

    /// Stops the server (graceful shutdown) and waits for it to close the database.
    pub async fn stop(self) -> TestResult {
        self.shutdown().await.map(drop)
    }

    /// Stops the server and returns its directory (the database file is `nexus.db` there).
    pub async fn shutdown(mut self) -> TestResult<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(self.dir)
    }
}

/// The response's status and JSON body.
pub async fn json(response: Response) -> TestResult<(StatusCode, Value)> {
    let status = response.status();
    let text = response.text().await?;
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
    Ok((status, value))
}

/// `body["field"]` as text.
pub fn text(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_default().to_owned()
}

/// Asserts a problem response of this status and kind.
pub async fn problem(response: Response, status: StatusCode, kind: &str) -> TestResult<Value> {
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (got, body) = json(response).await?;
    assert_eq!(got, status, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], format!("urn:nexus:problem:{kind}"), "{body}");
    assert_eq!(body["status"], status.as_u16());
    Ok(body)
}
