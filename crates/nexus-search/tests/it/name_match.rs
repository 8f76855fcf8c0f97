//! `Search::name_match`: code candidates re-ranked by how well the query's words name them.

use nexus_db::{Db, ProjectId, SourceKind, code_chunks, projects};
use nexus_fts::FieldWeights;
use nexus_search::{Mode, NameMatch, SearchError, Source, search};
use nexus_testkit::TempDb;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Adds a code chunk named `symbol` with `signature` and `content`.
async fn add(db: &Db, project: &ProjectId, symbol: &str, signature: &str, content: &str) -> TestResult {
    code_chunks::create(
        db.writer(),
        code_chunks::NewCodeChunk {
            id: None,
            project_id: project.clone(),
            file: "src/buffer.rs".into(),
            start_line: 1,
            end_line: 3,
            content: content.into(),
            symbols: vec![symbol.into()],
            chunk_type: "method".into(),
            language: "rust".into(),
            complexity: Some(1),
            hash: symbol.into(),
            context: Some("impl Buffer".into()),
            signature: Some(signature.into()),
        },
    )
    .await?;
    Ok(())
}

/// The symbols of the hits of `query`, best first, keyword leg only with the body's words
/// weighing most (so the chunk whose body repeats the query's words comes first unaided).
async fn ranked(
    db: &Db,
    project: &ProjectId,
    query: &str,
    name_match: NameMatch,
) -> Result<Vec<String>, SearchError> {
    let body_first = FieldWeights {
        code_file: 0.01,
        code_symbols: 0.01,
        code_content: 10.0,
        code_identifiers: 0.01,
        code_name: 0.01,
        code_context: 0.01,
        code_signature: 0.01,
        ..FieldWeights::default()
    };
    let results = search(db)
        .text(query)
        .kinds([SourceKind::CodeChunk])
        .project(project.clone())
        .mode(Mode::FtsOnly)
        .fts_weights(body_first)
        .name_match(name_match)
        .execute()
        .await?;
    Ok(results
        .hits
        .into_iter()
        .filter_map(|h| match h.source {
            Source::CodeChunk(c) => c.symbols.first().cloned(),
            _ => None,
        })
        .collect())
}

#[tokio::test]
async fn the_chunk_the_query_names_comes_first() -> TestResult {
    let tmp = TempDb::new().await?;
    let db = tmp.db().clone();
    let project = projects::create(db.writer(), projects::NewProject::new("buf", "/src/buf")).await?;
    add(
        &db,
        &project.id,
        "Buffer::new",
        "pub fn new() -> Buffer",
        "// Creates a buffer with the default capacity: a buffer whose capacity grows.\n\
         pub fn new() -> Buffer { Buffer::sized(DEFAULT_CAPACITY) }",
    )
    .await?;
    add(
        &db,
        &project.id,
        "Buffer::with_capacity",
        "pub fn with_capacity(cap: usize) -> Buffer",
        "pub fn with_capacity(cap: usize) -> Buffer { Buffer::sized(cap) }",
    )
    .await?;
    add(
        &db,
        &project.id,
        "Buffer::is_dir",
        "pub fn is_dir(&self) -> bool",
        "pub fn is_dir(&self) -> bool { self.kind == 2 }",
    )
    .await?;
    add(
        &db,
        &project.id,
        "Buffer::is_file",
        "pub fn is_file(&self) -> bool",
        "// True when the entry is a file, not a directory; a directory entry is never a file.\n\
         pub fn is_file(&self) -> bool { self.kind == 1 }",
    )
    .await?;

    let off = NameMatch::default();
    let on = NameMatch { name: 0.4, owner: 0.2, signature: 0.8, depth: 10 };
    let query = "Creates a buffer with the given capacity";
    assert_eq!(ranked(&db, &project.id, query, off).await?[..2], ["Buffer::new", "Buffer::with_capacity"]);
    assert_eq!(ranked(&db, &project.id, query, on).await?[..2], ["Buffer::with_capacity", "Buffer::new"]);

    // Abbreviations match their long form: `dir` is "directory".
    let query = "Returns true if the entry is a directory";
    assert_eq!(ranked(&db, &project.id, query, off).await?[0], "Buffer::is_file");
    assert_eq!(ranked(&db, &project.id, query, on).await?[0], "Buffer::is_dir");
    // Depth 0 re-ranks nothing.
    let none = NameMatch { depth: 0, ..on };
    assert_eq!(ranked(&db, &project.id, query, none).await?[0], "Buffer::is_file");

    let bad = ranked(&db, &project.id, query, NameMatch { name: f64::NAN, ..on }).await;
    assert!(matches!(bad, Err(SearchError::InvalidOption { option: "name_match", .. })));
    Ok(())
}
