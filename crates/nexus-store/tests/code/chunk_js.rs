//! chunk_js
