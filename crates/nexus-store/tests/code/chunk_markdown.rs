//! chunk_markdown
