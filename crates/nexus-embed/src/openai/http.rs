//! The HTTP layer under async-openai, and what a failed attempt means.
//!
//! async-openai's default transport retries 429 and 5xx on its own (3 times, 100 ms–8 s
//! backoff) and drops the response headers when it reports an error, so `Retry-After` would
//! be lost. We install [`StatusService`] instead (async-openai's `middleware` hook): it sends
//! each request exactly once and turns every non-2xx answer into an [`HttpStatusError`]
//! carrying the status, the server's message and its `Retry-After`. All retrying is ours
//! ([`super::retry::RetryPolicy`]), decided by [`classify`].

use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use futures::future::BoxFuture;
use reqwest::StatusCode;

use super::retry::retry_after;

/// A tower service that executes async-openai's requests with a plain `reqwest::Client`,
/// once, and reports non-2xx answers as [`HttpStatusError`].
#[derive(Clone, Debug)]
pub(super) struct StatusService {
    client: reqwest::Client,
}

impl StatusService {
    pub(super) fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl tower::Service<HttpRequestFactory> for StatusService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let client = self.client.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = client.execute(request).await?;
            if response.status().is_success() {
                Ok(response)
            } else {
                Err(OpenAIError::Boxed(Box::new(HttpStatusError::read(response).await)))
            }
        })
    }
}

/// A non-2xx answer: status, the server's error message and type, and `Retry-After`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub(super) struct HttpStatusError {
    pub status: StatusCode,
    pub message: String,
    /// OpenAI's `error.type` and `error.code` (e.g. `insufficient_quota`), when present.
    pub labels: Vec<String>,
    pub retry_after: Option<Duration>,
}

impl HttpStatusError {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        let (message, labels) = error_message(&body);
        Self { status, message, labels, retry_after }
    }
}

/// The message (and OpenAI's error type and code) from an error body. OpenAI sends
/// `{"error": {"message", "type", "code"}}`; other servers send `{"error": "…"}`,
/// `{"message": "…"}`, `{"detail": "…"}` or plain text.
fn error_message(body: &[u8]) -> (String, Vec<String>) {
    const MAX_CHARS: usize = 500;
    let text = |s: &str| s.chars().take(MAX_CHARS).collect::<String>();
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if let Some(json) = &json {
        let error = &json["error"];
        let labels = ["type", "code"]
            .iter()
            .filter_map(|k| error[*k].as_str())
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        let message = [&error["message"], error, &json["message"], &json["detail"]]
            .into_iter()
            .find_map(serde_json::Value::as_str);
        if let Some(message) = message {
            return (text(message), labels);
        }
    }
    let raw = String::from_utf8_lossy(body);
    let raw = raw.trim();
    (if raw.is_empty() { "(empty body)".to_owned() } else { text(raw) }, Vec::new())
}

/// What one failed attempt means for the batch.
#[derive(Debug)]
pub(super) enum Failure {
    /// 401/403: the credentials are wrong. Final.
    Auth { status: u16, message: String },
    /// 429 with `insufficient_quota`: retrying cannot help. Final.
    QuotaExhausted { message: String },
    /// Another 4xx: the request itself is wrong. Final.
    BadRequest { status: u16, message: String },
    /// A 2xx whose body is not an embeddings response. Final.
    InvalidResponse { message: String },
    /// The request could not be built (bad URL or header). Final.
    Config { message: String },
    /// 429: slow down. Retried, honouring `Retry-After`.
    RateLimited { message: String, retry_after: Option<Duration> },
    /// 5xx. Retried.
    Server { status: u16, message: String, retry_after: Option<Duration> },
    /// Client timeout or 408. Retried.
    Timeout,
    /// Connection refused, reset, DNS, TLS, broken body. Retried.
    Connection { message: String },
}

impl Failure {
    /// True when another attempt may succeed.
    pub(super) fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server { .. } | Self::Timeout | Self::Connection { .. }
        )
    }

    /// The wait the server asked for, if any.
    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Classifies an error from async-openai (which includes our [`StatusService`]'s).
pub(super) fn classify(error: OpenAIError) -> Failure {
    match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpStatusError>() {
            Ok(status) => classify_status(*status),
            Err(other) => Failure::Connection { message: other.to_string() },
        },
        OpenAIError::Reqwest(e) if e.is_timeout() => Failure::Timeout,
        OpenAIError::Reqwest(e) if e.is_builder() => Failure::Config { message: e.to_string() },
        OpenAIError::Reqwest(e) => Failure::Connection { message: error_chain(&e) },
        OpenAIError::JSONDeserialize(e, body) => {
            let body: String = body.chars().take(200).collect();
            Failure::InvalidResponse { message: format!("{e} in {body:?}") }
        }
        OpenAIError::InvalidArgument(message) => Failure::Config { message },
        other => Failure::InvalidResponse { message: other.to_string() },
    }
}

fn classify_status(error: HttpStatusError) -> Failure {
    let HttpStatusError { status, message, labels, retry_after } = error;
    match status.as_u16() {
        401 | 403 => Failure::Auth { status: status.as_u16(), message },
        408 => Failure::Timeout,
        429 if labels.iter().any(|l| l == "insufficient_quota") => Failure::QuotaExhausted { message },
        429 => Failure::RateLimited { message, retry_after },
        code if status.is_server_error() => Failure::Server { status: code, message, retry_after },
        code => Failure::BadRequest { status: code, message },
    }
}

/// An error with its sources ("error sending request: connection refused"), since reqwest's
/// top-level message alone rarely says what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_several_servers() {
        let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let openai = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(
            error_message(openai),
            ("Incorrect API key".into(), labels(&["invalid_request_error", "invalid_api_key"]))
        );
        let quota = br#"{"error":{"message":"quota","type":"insufficient_quota","code":null}}"#;
        assert_eq!(error_message(quota), ("quota".into(), labels(&["insufficient_quota"])));
        assert_eq!(error_message(br#"{"error":"model not found"}"#), ("model not found".into(), vec![]));
        assert_eq!(error_message(br#"{"detail":"bad"}"#), ("bad".into(), vec![]));
        assert_eq!(error_message(b"upstream connect error"), ("upstream connect error".into(), vec![]));
        assert_eq!(error_message(b""), ("(empty body)".into(), vec![]));
    }

    #[test]
    fn statuses_map_to_failures() {
        let failure = |code: u16, label: Option<&str>| {
            classify_status(HttpStatusError {
                status: StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
                message: "m".into(),
                labels: label.map(str::to_owned).into_iter().collect(),
                retry_after: None,
            })
        };
        assert!(matches!(failure(401, None), Failure::Auth { status: 401, .. }));
        assert!(matches!(failure(403, None), Failure::Auth { status: 403, .. }));
        assert!(matches!(failure(429, None), Failure::RateLimited { .. }));
        assert!(matches!(failure(429, Some("insufficient_quota")), Failure::QuotaExhausted { .. }));
        assert!(matches!(failure(408, None), Failure::Timeout));
        assert!(matches!(failure(400, None), Failure::BadRequest { status: 400, .. }));
        assert!(matches!(failure(404, None), Failure::BadRequest { status: 404, .. }));
        assert!(matches!(failure(503, None), Failure::Server { status: 503, .. }));
        assert!(failure(500, None).is_retryable() && !failure(422, None).is_retryable());
    }
}
