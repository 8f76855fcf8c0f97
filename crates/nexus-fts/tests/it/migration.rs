//! Migration 0013 on a database written before it: the code index is rebuilt with its new
//! columns (name, context, signature) from the rows already there, and stays in step with
//! later writes.

use nexus_db::{Db, DbOptions, ProjectId, SourceKind, code_chunks};
use nexus_fts::{FieldWeights, FtsQuery, integrity_check, search};

use crate::common::{TestResult, new_chunk};

/// Weights that count one column of the code index only.
fn only(column: &str) -> FieldWeights {
    let w = |name: &str| if name == column { 1.0 } else { 0.0 };
    FieldWeights {
        code_file: w("file"),
        code_symbols: w("symbols"),
        code_content: w("content"),
        code_identifiers: w("identifiers"),
        code_name: w("name"),
        code_context: w("context"),
        code_signature: w("signature"),
        ..FieldWeights::default()
    }
}

/// The ids of the chunks of project `p` that score above 0 for `text` with `weights`.
async fn scored(db: &Db, text: &str, weights: FieldWeights) -> TestResult<Vec<String>> {
    let mut query = FtsQuery::new(text).project("p").kinds([SourceKind::CodeChunk]);
    query.weights = weights;
    Ok(search(db.reader(), &query).await?.into_iter().filter(|h| h.score > 0.0).map(|h| h.id).collect())
}

#[tokio::test]
async fn chunks_written_before_0013_are_found_by_name_after_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("old.db");
    let old = Db::open_with(DbOptions::file(&path).run_migrations(false)).await?;
    nexus_db::migrate::MIGRATOR.run_to(12, old.writer()).await?;
    sqlx::query(
        "INSERT INTO projects (id, name, mode, root_path, created_at, updated_at)
         VALUES ('p', 'p', 'genesis', '/p', 0, 0)",
    )
    .execute(old.writer())
    .await?;
    // Rows as the schema of 0012 takes them: no context, no signature.
    let rows = [
        (
            "c1",
            "src/buf.rs",
            "pub fn with_capacity(n: usize) -> BytesMut {\n    todo!()\n}\n",
            r#"["BytesMut::with_capacity"]"#,
        ),
        ("c2", "src/lib.rs", "pub fn unrelated() {\n    // a capacity of 3\n}\n", r#"["unrelated"]"#),
        ("c3", "src/lib.rs", "use std::io;\n", "[]"),
    ];
    for (id, file, content, symbols) in rows {
        sqlx::query(
            "INSERT INTO code_chunks (id, project_id, file, start_line, end_line, content, symbols,
                                      chunk_type, language, hash, indexed_at)
             VALUES (?1, 'p', ?2, 1, 3, ?3, ?4, 'function', 'rust', ?1, 0)",
        )
        .bind(id)
        .bind(file)
        .bind(content)
        .bind(symbols)
        .execute(old.writer())
        .await?;
    }
    sqlx::query(
        "INSERT INTO indexed_files (project_id, path, hash, language, chunks, bytes, indexed_at)
         VALUES ('p', 'src/buf.rs', 'abc', 'rust', 1, 60, 0)",
    )
    .execute(old.writer())
    .await?;
    old.close().await?;

    let db = Db::open(&path).await?;
    assert_eq!(db.health().await?.migration_version, nexus_db::migrate::latest_version());
    integrity_check(db.writer(), SourceKind::CodeChunk).await?;
    // The name column holds the method's name without its type, camelCase humps and all.
    assert_eq!(scored(&db, "capacity", only("name")).await?, ["c1"]);
    assert_eq!(scored(&db, "capacity", only("content")).await?.len(), 2);
    assert_eq!(scored(&db, "bytes", only("name")).await?, Vec::<String>::new());
    // With the default weights the chunk named so comes first.
    let hits = search(db.reader(), &FtsQuery::new("with capacity").project("p")).await?;
    assert_eq!(hits.first().map(|h| h.id.as_str()), Some("c1"));
    // The next index re-chunks the file once to fill context and signature.
    let hash: String = sqlx::query_scalar("SELECT hash FROM indexed_files").fetch_one(db.reader()).await?;
    assert_eq!(hash, "");

    // Rows written after the migration are indexed with their context and signature, and
    // updates and deletes keep the index exact.
    let mut new = new_chunk(
        &ProjectId::from("p"),
        "src/cursor.rs",
        "fn remaining(&self) -> usize { 0 }\n",
        &["Cursor::remaining"],
    );
    new.context = Some("impl<T: AsRef<[u8]>> Buf for IoCursor<T>".into());
    new.signature = Some("fn remaining(&self) -> usize".into());
    let cursor = code_chunks::create(db.writer(), new).await?;
    assert_eq!(scored(&db, "cursor", only("context")).await?, [cursor.id.to_string()]);
    assert_eq!(scored(&db, "IoCursor", only("context")).await?, [cursor.id.to_string()]);
    assert_eq!(scored(&db, "usize", only("signature")).await?, [cursor.id.to_string()]);
    sqlx::query("UPDATE code_chunks SET signature = 'fn left(&self) -> u64' WHERE id = ?1")
        .bind(cursor.id.as_str())
        .execute(db.writer())
        .await?;
    assert_eq!(scored(&db, "usize", only("signature")).await?, Vec::<String>::new());
    code_chunks::delete(db.writer(), &"c1".into()).await?;
    integrity_check(db.writer(), SourceKind::CodeChunk).await?;
    assert_eq!(scored(&db, "capacity", only("name")).await?, Vec::<String>::new());
    db.close().await?;
    Ok(())
}
