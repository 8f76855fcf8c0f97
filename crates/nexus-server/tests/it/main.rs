//! The integration tests of nexus-server, one binary with a module per area: each test starts
//! the real server on 127.0.0.1 (ephemeral port) over a real database file in a temp dir and
//! talks to it with a real HTTP client (reqwest).

mod auth;
mod harness;
mod isolation;
mod limits;
mod research;
mod routes;
mod state;
mod urls;
