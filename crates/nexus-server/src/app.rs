//! The server: [`ServerConfig`], the shared [`AppState`], the [`router`] (routes, auth,
//! body limit, request ids and trace spans) and [`serve`], which runs it until a shutdown
//! signal and then closes the store cleanly.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use nexus_db::{Timestamp, research_sessions};
use nexus_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::task::LocalPoolHandle;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::admission::{Admission, admit, default_max_concurrent};
use crate::auth::require_key;
use crate::error::{Result, ServerError};
use crate::fetch::{FetchConfig, Fetcher};
use crate::openapi;
use crate::routes::{checkpoints, history, knowledge, me, memory, projects, research, search, tasks};

/// How the server runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest request body in bytes (default 8 MiB); larger ones get 413 before being read.
    pub body_limit: usize,
    /// Lifetime of a research session unless the request says otherwise (default 7 days).
    pub session_ttl: Duration,
    /// How often expired research sessions are removed (default 1 minute).
    pub cleanup_every: Duration,
    /// How long shutdown waits for background jobs (knowledge processing) to finish.
    pub drain_timeout: Duration,
    /// Time for fetching a knowledge URL, redirects and body included (default 20 s).
    pub fetch_timeout: Duration,
    /// Redirects followed when fetching a knowledge URL (default 5).
    pub fetch_max_redirects: usize,
    /// Fetch knowledge URLs on loopback, private and link-local addresses (default false:
    /// they are refused, so that users cannot reach the server's own network).
    pub allow_private_urls: bool,
    /// The directory inside which a project created or saved over the API may have its
    /// `root_path` (`nexus serve --projects-dir`). Default none: such projects get `api://`
    /// roots only, so that checkpoints never run `git` in a directory a user chose.
    pub projects_dir: Option<std::path::PathBuf>,
    /// Requests without a body (`GET`, `HEAD`, `DELETE`) that run at once; more wait for a turn
    /// in arrival order ([`crate::admission`]). Default four per core; 0: no limit.
    pub max_concurrent: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            body_limit: 8 << 20,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            cleanup_every: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(20),
            fetch_max_redirects: 5,
            allow_private_urls: false,
            projects_dir: None,
            max_concurrent: default_max_concurrent(),
        }
    }
}

/// What every handler shares: the store, the configuration, the URL fetcher and the
/// background jobs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store (database, embedder, vector collection).
    pub store: Store,
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// Fetches knowledge URLs (or why it cannot: the HTTP client failed to build).
    pub(crate) fetcher: Arc<std::result::Result<Fetcher, String>>,
    jobs: Arc<Mutex<JoinSet<()>>>,
    /// Threads that run the store futures the compiler cannot prove `Send`
    /// ([`crate::routes::off_thread`]), one per core, each many of them at once.
    pub(crate) local: LocalPoolHandle,
}

impl AppState {
    /// The state of a server over `store`.
    pub fn new(store: Store, config: ServerConfig) -> Self {
        let fetcher = Fetcher::new(FetchConfig {
            max_bytes: config.body_limit,
            timeout: config.fetch_timeout,
            max_redirects: config.fetch_max_redirects,
            allow_private: config.allow_private_urls,
        });
        if let Err(error) = &fetcher {
            tracing::error!(%error, "knowledge URLs cannot be fetched");
        }
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self {
            store,
            config: Arc::new(config),
            fetcher: Arc::new(fetcher),
            jobs: Arc::default(),
            local: LocalPoolHandle::new(threads),
        }
    }

    /// Runs `job` in the background; shutdown waits for it (up to the drain timeout).
    pub fn spawn_job(&self, job: impl Future<Output = ()> + Send + 'static) {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while jobs.try_join_next().is_some() {}
        jobs.spawn(job);
    }

    /// Waits for the background jobs (up to the drain timeout), then cancels what is left.
    async fn drain(&self) {
        let mut jobs =
            std::mem::take(&mut *self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let drained = tokio::time::timeout(self.config.drain_timeout, async {
            while jobs.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            tracing::warn!(left = jobs.len(), "background jobs still running at shutdown: cancelled");
            jobs.shutdown().await;
        }
    }
}

/// The `x-request-id` header.
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole API: `/health`, `/openapi.json` and the authenticated `/v1` routes.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    let v1 = Router::new()
        .route("/me", get(me::get))
        .route("/me/settings", put(me::put_settings))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{id}", get(projects::get))
        .route("/projects/{id}/state", get(projects::state).put(projects::put_state))
        .route("/projects/{id}/state.md", get(projects::state_md).put(projects::put_state_md))
        .route("/projects/{id}/checkpoints", get(checkpoints::list).post(checkpoints::create))
        .route("/projects/{id}/checkpoints/{checkpoint_id}/diff", get(checkpoints::diff))
        .route("/projects/{id}/checkpoints/{checkpoint_id}/restore", post(checkpoints::restore))
        .route("/projects/{id}/tasks", post(tasks::create))
        .route("/projects/{id}/tasks/ready", get(tasks::ready))
        .route("/projects/{id}/tasks/{task_id}/workflow", post(tasks::workflow))
        .route("/projects/{id}/tasks/{task_id}/continue-points", get(tasks::task_continue_points))
        .route("/projects/{id}/continue-points", get(tasks::resume).post(tasks::save_continue_point))
        .route("/memory", get(memory::recall).post(memory::remember))
        .route("/search", get(search::search))
        .route("/knowledge", get(knowledge::list).post(knowledge::create))
        .route("/knowledge/{id}", get(knowledge::get).delete(knowledge::delete))
        .route("/research-sessions", get(research::list).post(research::create))
        .route("/research-sessions/{id}", get(research::get).patch(research::update).delete(research::delete))
        .route("/research-sessions/{id}/history", post(research::snapshot))
        .route("/history", get(history::list))
        .route("/history/export", get(history::export_all))
        .route("/history/{id}", get(history::get).delete(history::delete))
        .route("/history/{id}/export", get(history::export_one))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key))
        // Outside authentication: a request waits for its turn before it reads the database.
        .route_layer(middleware::from_fn_with_state(Admission::new(state.config.max_concurrent), admit));
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .nest("/v1", v1)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(middleware::from_fn_with_state(limit, refuse_declared_oversize))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            // The path only: never headers (the key) nor the query.
            tracing::info_span!("request", request_id = %id, method = %request.method(),
                                    path = %request.uri().path(), user = tracing::field::Empty)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .with_state(state)
}

/// `GET /health`: the server is up (no authentication).
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Any other path: a 404 problem.
async fn not_found() -> ServerError {
    ServerError::NotFound { what: "route" }
}

/// A body whose declared `Content-Length` is over the limit gets 413 before any of it is
/// read (bodies without one are cut off by the limit layers as they stream).
async fn refuse_declared_oversize(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return ServerError::TooLarge.into_response();
    }
    next.run(request).await
}

/// Serves `store` on `listener` until `shutdown` completes: then stops accepting, lets the
/// requests in flight finish, waits for background jobs, and closes the store (the WAL is
/// checkpointed into the database file). Expired research sessions are removed meanwhile.
pub async fn serve(
    store: Store,
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    // Before the first request: the code index's most frequent terms' score lists, so first
    // searches do not score every row holding a common word (a failure only costs speed).
    match store.warm_search().await {
        Ok(warmed) => tracing::debug!(lists = warmed.lists, rows = warmed.rows, "search warmed"),
        Err(error) => tracing::warn!(%error, "search not warmed"),
    }
    let state = AppState::new(store.clone(), config);
    let cleanup = tokio::spawn(cleanup_loop(state.clone()));
    let app = router(state.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServerError::Io { context: "serving", source });
    cleanup.abort();
    state.drain().await;
    drop(state);
    store.close().await?;
    tracing::info!("server stopped; database closed");
    served
}

/// Removes expired research sessions every `cleanup_every`.
async fn cleanup_loop(state: AppState) {
    let mut tick = tokio::time::interval(state.config.cleanup_every);
    loop {
        tick.tick().await;
        match research_sessions::delete_expired(state.store.db().writer(), Timestamp::now()).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "expired research sessions removed"),
            Err(error) => tracing::warn!(%error, "cleanup of expired research sessions failed"),
        }
    }
}

/// Completes on ctrl-c or (on Unix) SIGTERM: the shutdown signal `nexus serve` uses.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received: finishing requests in flight");
}
