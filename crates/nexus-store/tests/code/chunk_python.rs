//! chunk_python
