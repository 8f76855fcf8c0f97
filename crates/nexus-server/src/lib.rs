//! # nexus-server
//!
//! Nexus over HTTP (`nexus serve`): a JSON API under `/v1` on axum for programs that cannot
//! link the Rust crates — projects and their state, memory, search, and the research domain
//! (knowledge, research sessions, history with exports).
//!
//! * Every route but `/health` and `/openapi.json` needs `Authorization: Bearer <key>`
//!   ([`auth`]); keys are created with `nexus user create` / `nexus user key add` and stored
//!   only as hashes. A user reaches only their own resources: another user's answers 404,
//!   exactly like a missing one.
//! * Errors are `application/problem+json` with a stable `type` per kind ([`ServerError`]).
//! * Lists are cursor-paginated (`?cursor=&limit=`, `next_cursor` in the answer).
//! * Bodies over the limit get 413 before they are read; each request has a trace span with
//!   its request id (`x-request-id`, generated when absent, echoed in the response).
//! * At most [`ServerConfig::max_concurrent`] body-less requests run at once, the others wait
//!   their turn in arrival order ([`admission`]).
//! * [`serve`] shuts down gracefully: stops accepting, finishes requests in flight and
//!   background jobs, then closes the database (WAL checkpointed).
//! * The OpenAPI 3.1 document ([`ApiDoc`]) is generated from the handlers, served at
//!   `/openapi.json`.
//!
//! See `docs/server.md` for the routes and a curl walk-through.

pub mod admission;
mod app;
pub mod auth;
mod error;
mod extract;
mod fetch;
mod html;
mod openapi;
mod responses;
mod roots;
pub mod routes;

pub use app::{AppState, ServerConfig, router, serve, shutdown_signal};
pub use error::{Problem, Result, ServerError};
pub use openapi::ApiDoc;
