//! Fuzz target `fts_query`: the FTS query language's promise is that no user text can break a
//! query. Arbitrary UTF-8 goes through `MatchExpression::parse` in both modes for every index,
//! and each expression produced runs as the `MATCH` of its real FTS5 index (the Nexus schema,
//! in memory, with a few rows); then the text runs through `nexus_fts::search`, snippets and
//! BM25 weights included. Any panic, any error other than `EmptyQuery`, and any SQLite error
//! is a finding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nexus_db::code_chunks::{self, NewCodeChunk};
use nexus_db::episodes::{self, EpisodeType, NewEpisode};
use nexus_db::projects::{self, NewProject};
use nexus_db::tasks::{self, NewTask};
use nexus_db::{Db, SourceKind};
use nexus_fts::{FtsError, FtsQuery, MatchExpression, MatchMode};
use tokio::runtime::Runtime;

/// The runtime and the in-memory database every input runs against.
fn state() -> &'static (Runtime, Db) {
    static STATE: OnceLock<(Runtime, Db)> = OnceLock::new();
    STATE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let db = runtime.block_on(async {
            let db = Db::in_memory().await.expect("database");
            let p = projects::create(db.writer(), NewProject::new("fuzz", "/fuzz")).await.expect("project");
            for text in
                ["Prices are kept in cents", "Résumé of the AND/OR NEAR parser", "索引 ünïcode \"quoted\""]
            {
                episodes::create(db.writer(), NewEpisode::new(&p.id, EpisodeType::Decision, text))
                    .await
                    .expect("episode");
                tasks::create(db.writer(), NewTask::new(&p.id, text)).await.expect("task");
            }
            let chunk = NewCodeChunk {
                id: None,
                project_id: p.id.clone(),
                file: "src/query.rs".into(),
                start_line: 1,
                end_line: 3,
                content: "pub fn parseQuery(text: &str) -> HybridSearchBuilder { todo }".into(),
                symbols: vec!["parseQuery".into()],
                chunk_type: "function".into(),
                language: "rust".into(),
                complexity: None,
                hash: "0".into(),
                context: None,
                signature: None,
            };
            code_chunks::create(db.writer(), chunk).await.expect("code chunk");
            db
        });
        (runtime, db)
    })
}

const KINDS: [SourceKind; 4] =
    [SourceKind::Episode, SourceKind::CodeChunk, SourceKind::Requirement, SourceKind::Task];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (runtime, db) = state();
    runtime.block_on(async {
        for mode in [MatchMode::Any, MatchMode::All] {
            for kind in KINDS {
                let expr = match MatchExpression::parse(text, mode, kind) {
                    Ok(expr) => expr,
                    Err(FtsError::EmptyQuery) => continue,
                    Err(e) => panic!("parse({text:?}, {mode:?}, {kind:?}): unexpected error {e}"),
                };
                let index = nexus_fts::index_name(kind);
                let sql = format!("SELECT count(*) FROM {index} WHERE {index} MATCH ?");
                let result: Result<i64, _> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(expr.as_str())
                    .fetch_one(db.reader())
                    .await;
                if let Err(e) = result {
                    panic!(
                        "{text:?} ({mode:?}, {kind:?}) compiled to {:?}, which FTS5 rejects: {e}",
                        expr.as_str()
                    );
                }
            }
        }
        match nexus_fts::search(db.reader(), &FtsQuery::new(text)).await {
            Ok(_) | Err(FtsError::EmptyQuery) => {}
            Err(e) => panic!("search({text:?}): {e}"),
        }
    });
});
