//! Property tests: any user text either compiles to a MATCH expression that SQLite's FTS5
//! accepts — run against the real indexes of a migrated database — or is a typed
//! `EmptyQuery`. Never an SQLite syntax error, never a panic.

use crate::common;

use common::{TestResult, chunk, episode, project, requirement, task};
use nexus_db::{Db, SourceKind};
use nexus_fts::{FtsError, FtsQuery, MatchExpression, MatchMode, search};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Fragments that mean something to FTS5, SQL or the query language, plus control
/// characters, emoji and non-Latin text.
const NASTY: &[&str] = &[
    "\"",
    "\"\"",
    "'",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(",
    "NEAR/2",
    "(",
    ")",
    "{",
    "}",
    "c++",
    "*",
    "**",
    ":",
    "col:",
    "content:",
    "^",
    "-",
    "--",
    "+",
    ",",
    ";",
    "\\",
    "%",
    "_",
    "\0",
    "\u{1}",
    "\u{7f}",
    "\n",
    "\t",
    "\u{85}",
    "\u{200b}",
    "\u{feff}",
    "🎉",
    "👩‍💻",
    "é",
    "e\u{301}",
    "ß",
    "中文",
    "עברית",
    "parseQuery",
    "parse_query",
    "query.rs",
    "HTTPServer",
    "x",
    "42",
    " ",
    "  ",
];

fn fragment_soup(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NASTY), 0..max).prop_map(|parts| parts.concat())
}

async fn seeded_db() -> TestResult<Db> {
    let db = Db::in_memory().await?;
    let p = project(&db, "props").await?;
    episode(&db, &p, "parse the query: c++ AND (NEAR) col:x ^start", Some("résumé 中文 🎉")).await?;
    task(&db, &p, "HTTPServer OR parse_query", Some("\"quoted\" -excluded *")).await?;
    requirement(&db, &p, "NOT a requirement", &["As a user, I type c++"]).await?;
    chunk(&db, &p, "src/query.rs", "fn parseQuery(text: &str) {}", &["parseQuery"]).await?;
    Ok(db)
}

/// Checks one text: every index accepts its expression, and the full search statement runs.
async fn check(db: &Db, text: &str) -> Result<(), TestCaseError> {
    for mode in [MatchMode::Any, MatchMode::All] {
        for kind in SourceKind::ALL {
            match MatchExpression::parse(text, mode, *kind) {
                Ok(expr) => {
                    let index = nexus_fts::index_name(*kind);
                    let sql = format!("SELECT count(*) FROM {index} WHERE {index} MATCH ?");
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                        .bind(expr.as_str())
                        .fetch_one(db.reader())
                        .await
                        .map_err(|e| {
                            TestCaseError::fail(format!(
                                "{kind} rejected {:?} from {text:?}: {e}",
                                expr.as_str()
                            ))
                        })?;
                }
                Err(FtsError::EmptyQuery) => {}
                Err(e) => return Err(TestCaseError::fail(format!("{text:?}: unexpected error {e}"))),
            }
        }
        match search(db.reader(), &FtsQuery::new(text).mode(mode)).await {
            Ok(_) | Err(FtsError::EmptyQuery) => {}
            Err(e) => return Err(TestCaseError::fail(format!("search({text:?}): {e}"))),
        }
    }
    // Text without a letter or digit never searches.
    if !text.chars().any(char::is_alphanumeric) {
        prop_assert!(matches!(
            MatchExpression::parse(text, MatchMode::Any, SourceKind::Episode),
            Err(FtsError::EmptyQuery)
        ));
    }
    Ok(())
}

fn run(cases: u32, strategy: impl Strategy<Value = String>) -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let db = runtime.block_on(seeded_db())?;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner.run(&strategy, |text| runtime.block_on(check(&db, &text)))?;
    Ok(())
}

#[test]
fn arbitrary_strings_are_valid_queries_or_empty() -> TestResult {
    run(300, any::<String>())
}

#[test]
fn fts5_syntax_soup_is_valid_queries_or_empty() -> TestResult {
    run(500, fragment_soup(40))
}

#[test]
fn ten_kilobyte_texts_are_valid_queries_or_empty() -> TestResult {
    let long_soup = fragment_soup(200)
        .prop_map(|s| if s.is_empty() { "(".repeat(10_000) } else { s.repeat(10_000 / s.len() + 1) });
    run(12, prop_oneof![long_soup, "[a-zA-Z0-9 .\"*():^-]{10000,10100}", ".{10000}"])
}
