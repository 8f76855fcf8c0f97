//! Admission control: at most [`ServerConfig::max_concurrent`](crate::ServerConfig) requests
//! without a body (`GET`, `HEAD`, `DELETE`: recall, search, lists, exports) run at once; the
//! others wait for a turn in the order they came ([`admit`]).
//!
//! A server whose requests all run at once shares its cores between all of them: with 64
//! clients on 2 cores, every recall is one of 64 interleaved at each await (the reader pool,
//! the local threads, the runtime's queues), and its latency is the sum of where it happened to
//! queue each time. Admitting a few at a time and queueing the rest first in, first out (the
//! semaphore is fair) lets the admitted ones finish at the speed of an unloaded server and
//! gives every waiting one the same wait: the same throughput, a much narrower latency
//! spread (docs/server.md, "Seventh session"). It is what `tower`'s concurrency limit does,
//! restricted to requests that carry no body: a request with one is admitted before its body
//! is read, so a client sending a body slowly would hold a turn for as long as it liked.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// The turns of body-less requests (one semaphore per server; `None`: no limit).
#[derive(Debug, Clone)]
pub struct Admission(Option<Arc<Semaphore>>);

impl Admission {
    /// At most `max_concurrent` body-less requests at once; 0: no limit.
    pub fn new(max_concurrent: usize) -> Self {
        Self((max_concurrent > 0).then(|| Arc::new(Semaphore::new(max_concurrent))))
    }
}

/// The default of [`ServerConfig::max_concurrent`](crate::ServerConfig): four requests per core
/// (at least four), enough to keep every core and reader connection busy while one request
/// waits on SQLite's writer or on another's statement.
pub fn default_max_concurrent() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).saturating_mul(4).max(4)
}

/// Middleware: runs a body-less request once it has a turn (waiting in arrival order), any
/// other request at once.
pub async fn admit(State(admission): State<Admission>, request: Request, next: Next) -> Response {
    let bodyless = matches!(*request.method(), Method::GET | Method::HEAD | Method::DELETE);
    let _turn = match &admission.0 {
        // The semaphore is never closed, so `acquire` cannot fail; if it ever did, the
        // request would simply run without a turn.
        Some(turns) if bodyless => turns.acquire().await.ok(),
        _ => None,
    };
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;

    use super::*;

    /// The most handlers running at once while `clients` requests of `method` are sent together
    /// to a real server on 127.0.0.1 admitting `max_concurrent`.
    type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    async fn most_at_once(max_concurrent: usize, clients: usize, method: Method) -> TestResult<usize> {
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (now2, most2) = (Arc::clone(&now), Arc::clone(&most));
        let handler = move || {
            let (now, most) = (Arc::clone(&now2), Arc::clone(&most2));
            async move {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        };
        let app = Router::new()
            .route("/", get(handler.clone()).post(handler))
            .layer(axum::middleware::from_fn_with_state(Admission::new(max_concurrent), admit));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let requests = (0..clients).map(|_| {
            let request = client.request(method.clone(), &url);
            async move { request.send().await.map(|r| r.status()) }
        });
        for status in futures::future::join_all(requests).await {
            assert_eq!(status?.as_u16(), 200);
        }
        server.abort();
        Ok(most.load(Ordering::SeqCst))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bodyless_requests_run_at_most_the_limit_at_once() -> TestResult {
        assert_eq!(most_at_once(2, 12, Method::GET).await?, 2);
        assert_eq!(most_at_once(1, 6, Method::GET).await?, 1);
        assert!(most_at_once(0, 12, Method::GET).await? > 2, "0: no limit");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_with_a_body_are_not_held_back() -> TestResult {
        assert!(most_at_once(1, 12, Method::POST).await? > 1);
        Ok(())
    }

    #[test]
    fn the_default_scales_with_the_cores() {
        assert!(default_max_concurrent() >= 4);
        assert_eq!(default_max_concurrent() % 4, 0);
    }
}
