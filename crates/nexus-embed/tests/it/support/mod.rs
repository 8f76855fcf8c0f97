//! A fake OpenAI-compatible embeddings peer on wiremock, and helpers shared by the tests.

use std::time::Duration;

use nexus_embed::{OpenAiConfig, OpenAiEmbedder, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Dimensions the fake peer answers with.
pub const DIMS: usize = 4;

/// The vector the fake peer gives `text`: a function of the text alone, so a test can tell
/// which input a vector belongs to.
pub fn expected_vector(text: &str) -> Vec<f32> {
    let bytes = text.as_bytes();
    vec![
        text.len() as f32,
        f32::from(bytes.first().copied().unwrap_or(0)),
        f32::from(bytes.last().copied().unwrap_or(0)),
        1.0,
    ]
}

/// Answers an embeddings request like OpenAI, but lists `data` in reverse order (each item
/// with its `index`), as a server is allowed to.
pub struct EchoEmbeddings {
    dims: usize,
    delay: Duration,
}

impl EchoEmbeddings {
    /// Vectors of `dims` values ([`expected_vector`] padded with 0.5).
    pub fn new(dims: usize) -> Self {
        Self { dims, delay: Duration::ZERO }
    }

    /// Answers after `delay`.
    pub fn with_delay(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }
}

impl Respond for EchoEmbeddings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let inputs = request_inputs(request);
        let data: Vec<Value> = inputs
            .iter()
            .enumerate()
            .rev()
            .map(|(index, text)| {
                let mut vector = expected_vector(text);
                vector.resize(self.dims, 0.5);
                json!({ "object": "embedding", "index": index, "embedding": vector })
            })
            .collect();
        ResponseTemplate::new(200).set_delay(self.delay).set_body_json(json!({
            "object": "list",
            "model": "fake",
            "data": data,
            "usage": { "prompt_tokens": inputs.len() * 3, "total_tokens": inputs.len() * 3 },
        }))
    }
}

/// The `input` strings of a recorded embeddings request.
pub fn request_inputs(request: &Request) -> Vec<String> {
    let body: Value = request.body_json().unwrap_or(Value::Null);
    match &body["input"] {
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A fresh mock peer of this test's own. Not `MockServer::start()`: that hands out pooled
/// servers, and a request a previous test's client still had in flight (a timed-out or
/// cancelled batch) can land in the next test's recorded requests.
pub async fn fresh_server() -> MockServer {
    MockServer::builder().start().await
}

/// A peer that answers every `/v1/embeddings` request with [`EchoEmbeddings`].
pub async fn echo_server() -> MockServer {
    let server = fresh_server().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(EchoEmbeddings::new(DIMS))
        .mount(&server)
        .await;
    server
}

/// A config pointing at `server`, with millisecond backoff so retry tests stay fast.
pub fn config(server: &MockServer) -> OpenAiConfig {
    OpenAiConfig {
        api_key: Some("sk-test".into()),
        base_url: Some(format!("{}/v1", server.uri())),
        model: "fake-embedder".into(),
        dimensions: Some(DIMS),
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(5),
        },
        ..OpenAiConfig::default()
    }
}

pub fn embedder(server: &MockServer) -> Result<OpenAiEmbedder, nexus_embed::EmbedError> {
    OpenAiEmbedder::new(config(server))
}

/// The inputs of every request the peer received, in arrival order.
pub async fn received_inputs(server: &MockServer) -> Vec<Vec<String>> {
    server.received_requests().await.unwrap_or_default().iter().map(request_inputs).collect()
}
