//! Tests of the code index's front half: walking trees, detecting languages, chunking.

mod chunk_go;
mod chunk_js;
mod chunk_markdown;
mod chunk_python;
mod chunk_rust;
mod properties;
mod walk;

use nexus_code::{Chunk, ChunkKind, SourceFile};

/// What tests return: any error fails the test.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Chunks `content` as the file `path`, after checking the invariants every chunking keeps.
pub fn chunks(path: &str, content: &str) -> Vec<Chunk> {
    let file = SourceFile::new(path, content);
    let chunks = nexus_code::chunk_file(&file);
    assert_exact(&file, &chunks);
    chunks
}

/// `(start_line, end_line, kind, symbols)` of each chunk, for compact assertions.
pub fn outline(chunks: &[Chunk]) -> Vec<(usize, usize, ChunkKind, Vec<&str>)> {
    chunks
        .iter()
        .map(|c| (c.start_line, c.end_line, c.kind, c.symbols.iter().map(String::as_str).collect()))
        .collect()
}

/// The chunk defining `symbol`.
pub fn find<'a>(chunks: &'a [Chunk], symbol: &str) -> &'a Chunk {
    chunks
        .iter()
        .find(|c| c.symbols.iter().any(|s| s == symbol))
        .unwrap_or_else(|| panic!("no chunk defines {symbol}: {:#?}", outline(chunks)))
}

/// The invariants of every chunking: chunks are in order, cover every line of the file once,
/// hold exactly their lines, are never blank, and carry the file's path, language and the
/// hash of their content.
pub fn assert_exact(file: &SourceFile, chunks: &[Chunk]) {
    let context = &file.path;
    if file.content.trim().is_empty() {
        assert!(chunks.is_empty(), "{context}: a blank file has no chunks");
        return;
    }
    let lines: Vec<&str> = file.content.split_inclusive('\n').collect();
    let mut next_line = 1;
    for chunk in chunks {
        assert_eq!(chunk.start_line, next_line, "{context}: chunks are contiguous: {:?}", outline(chunks));
        assert!(chunk.end_line >= chunk.start_line, "{context}: end before start");
        assert_eq!(
            chunk.content,
            lines[chunk.start_line - 1..chunk.end_line].concat(),
            "{context}: exact content"
        );
        assert!(!chunk.content.trim().is_empty(), "{context}: blank chunk at {}", chunk.start_line);
        assert_eq!(chunk.hash, nexus_code::content_hash(chunk.content.as_bytes()), "{context}: hash");
        assert_eq!((chunk.file.as_str(), chunk.language), (file.path.as_str(), file.language));
        next_line = chunk.end_line + 1;
    }
    assert_eq!(next_line, lines.len() + 1, "{context}: the chunks reach the last line");
    assert_eq!(chunks.iter().map(|c| c.content.as_str()).collect::<String>(), file.content);
}
