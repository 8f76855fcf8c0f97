//! chunk_go
