//! FTS5 snippets of given rows, and the tokens of given texts, computed in private in-memory
//! FTS5 tables.
//!
//! `snippet()` on a real index costs what setting up the query costs there — for a prefix
//! phrase (`sea*`), a merge of the doclists of every term with that prefix, ~20 ms on 100,000
//! code chunks — plus reading the row from the index's content table, which for the code index
//! is a view that computes the camelCase-split column of every row it reads (~0.3–0.6 ms a
//! row). `snippet()` only looks at the text of the rows' snippet columns and at where the
//! query's phrases occur in it, so the same statement over a table holding just those rows,
//! with the same tokenizer and the same expression, gives the same snippets, at a cost that
//! does not depend on the index.
//!
//! Two scratch tables, one per shape of snippet:
//! * `prose (a, b)`: the snippet columns of an episode, requirement, task or transcript entry
//!   (the second `NULL` when there is one), which are all the columns of their index, so
//!   `snippet(…, -1, …)` picks the best column among the same ones;
//! * `code (a, m)`: a code chunk's `content` (the snippet column of its index; the chunk may
//!   match the query through other columns only, so every row also matches `m : "x"`, a phrase
//!   that only ever occurs in `m` and so never counts in the snippet of `a`).
//!
//! A third table, `words (t)` with its `fts5vocab` instance table `words_tokens`, gives the
//! tokens of a text exactly as every index's tokenizer produces them ([`tokens`]).
//!
//! Connections are kept in a small process-wide pool between searches.

use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use nexus_db::Json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

use crate::error::{FtsError, Result};
use crate::search::SnippetStyle;

/// The tables of a scratch connection, with the tokenizer of every Nexus FTS5 index
/// (`migrations/0003_fts.sql`): `piece` for [`crate::snippet::LargeRows`], `prose` and `code`
/// for [`snippets`], `words` and its instances for [`tokens`].
const TABLES: [&str; 5] = [
    "CREATE VIRTUAL TABLE piece USING fts5 (t, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE prose USING fts5 (a, b, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE code USING fts5 (a, m, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE words USING fts5 (t, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE words_tokens USING fts5vocab (words, instance)",
];

/// Idle scratch connections kept for the next searches.
const POOLED: usize = 4;

static POOL: Mutex<Vec<SqliteConnection>> = Mutex::new(Vec::new());

/// A scratch connection: an idle one from the pool, or a new one.
pub(crate) async fn connection() -> Result<SqliteConnection> {
    if let Some(conn) = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop() {
        return Ok(conn);
    }
    let err = |e| FtsError::sqlx("snippet scratch", e);
    let mut conn =
        SqliteConnectOptions::from_str("sqlite::memory:").map_err(err)?.connect().await.map_err(err)?;
    for table in TABLES {
        sqlx::query(table).execute(&mut conn).await.map_err(err)?;
    }
    Ok(conn)
}

/// Hands `conn` back to the pool once a use of it completed (its tables are empty again).
pub(crate) fn release(conn: SqliteConnection) {
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < POOLED {
        pool.push(conn);
    }
}

/// The snippet column(s) of a row, for [`snippets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A code chunk: its content only.
    Code,
    /// Every column of a prose index (one or two), the best one chosen.
    Prose,
}

/// FTS5's `snippet()` of each of `rows` (`(rowid, first column, second column)`) for `expr`
/// (a compiled MATCH expression) in `style`, as the row's own index would cut it: `(rowid,
/// snippet)` for every row that matches.
pub(crate) async fn snippets(
    shape: Shape,
    expr: &str,
    rows: &[(i64, Option<&str>, Option<&str>)],
    style: &SnippetStyle,
) -> Result<Vec<(i64, String)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = connection().await?;
    // Fill the table and cut the snippets inside a transaction that is then rolled back, which
    // empties the table without FTS5 ever writing the rows' terms out (a commit would flush them
    // to a segment, and a DELETE tokenize every row again to remove them: together two thirds of
    // the cost, docs/fts.md). Sent as one (one hand-off to the connection's thread), with
    // numbered parameters shared by all the statements. The
    // snippets come back as one row, a JSON array of `[rowid, snippet]` (sqlx hands each row of
    // a result over on its own).
    let (statements, expr) = match shape {
        Shape::Code => (
            "BEGIN; \
             INSERT INTO code (rowid, a, m) SELECT value ->> 0, value ->> 1, 'x' FROM json_each(?1); \
             WITH cut AS MATERIALIZED (SELECT rowid AS r, snippet(code, 0, ?3, ?4, ?5, ?6) AS s FROM code \
             WHERE code MATCH ?2) SELECT json_group_array(json_array(r, s)) FROM cut; \
             ROLLBACK",
            format!("({expr}) OR m : \"x\""),
        ),
        Shape::Prose => (
            "BEGIN; \
             INSERT INTO prose (rowid, a, b) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1); \
             WITH cut AS MATERIALIZED (SELECT rowid AS r, snippet(prose, -1, ?3, ?4, ?5, ?6) AS s FROM prose \
             WHERE prose MATCH ?2) SELECT json_group_array(json_array(r, s)) FROM cut; \
             ROLLBACK",
            expr.to_owned(),
        ),
    };
    let found: Vec<Json<Vec<(i64, String)>>> = sqlx::query_scalar(statements)
        .bind(Json(rows))
        .bind(expr)
        .bind(&style.open)
        .bind(&style.close)
        .bind(&style.ellipsis)
        .bind(i64::from(style.tokens.clamp(1, 64)))
        .fetch_all(&mut conn)
        .await
        .map_err(|e| FtsError::sqlx("snippet scratch", e))?;
    // Only here did every statement run, the table being empty again: the connection can be
    // reused (after an error, possibly inside the transaction, it is dropped instead).
    release(conn);
    Ok(found.into_iter().next().map(|Json(found)| found).unwrap_or_default())
}

/// The tokens of each of `texts`, in order, as every Nexus index's tokenizer produces them
/// (case folded, diacritics removed, Porter-stemmed): `"Parsing foo-bar"` gives `pars foo bar`.
pub(crate) async fn tokens(texts: &[&str]) -> Result<Vec<Vec<String>>> {
    let mut tokens = vec![Vec::new(); texts.len()];
    if texts.is_empty() {
        return Ok(tokens);
    }
    let mut conn = connection().await?;
    // Inside a transaction rolled back afterwards, which empties the table without FTS5
    // flushing the terms to a segment or tokenizing the texts again to delete them (as for
    // [`snippets`]). Sent as one: one hand-off to the connection's thread.
    let found: std::result::Result<Vec<(i64, String)>, sqlx::Error> = sqlx::query_as(
        "BEGIN; \
         INSERT INTO words (rowid, t) SELECT key, value FROM json_each(?1); \
         SELECT doc, term FROM words_tokens ORDER BY doc, offset; \
         ROLLBACK",
    )
    .bind(Json(texts))
    .fetch_all(&mut conn)
    .await;
    // Only when every statement ran is the table empty again and the connection reusable
    // (after an error, possibly inside the transaction, it is dropped instead).
    if found.is_ok() {
        release(conn);
    }
    for (doc, term) in found.map_err(|e| FtsError::sqlx("tokens scratch", e))? {
        if let Some(text) = usize::try_from(doc).ok().and_then(|doc| tokens.get_mut(doc)) {
            text.push(term);
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snippets of both shapes and tokens, twice with the same rowids (a row left behind would
    /// collide): the pooled connection's tables are empty after each use, and no transaction is open.
    #[tokio::test]
    async fn snippets_leave_the_scratch_tables_empty() -> Result<()> {
        let style = SnippetStyle::default();
        let rows = [(1, Some("the quick brown fox"), None), (2, Some("a lazy dog"), Some("foxes sleep"))];
        for _ in 0..2 {
            let prose = snippets(Shape::Prose, "fox", &rows, &style).await?;
            assert_eq!(
                prose,
                vec![
                    (1, "the quick brown <mark>fox</mark>".to_owned()),
                    (2, "<mark>foxes</mark> sleep".to_owned())
                ]
            );
            let code = snippets(Shape::Code, "lazy", &rows, &style).await?;
            assert_eq!(
                code.iter().find(|(rowid, _)| *rowid == 2),
                Some(&(2, "a <mark>lazy</mark> dog".to_owned()))
            );
            assert_eq!(
                tokens(&["Parsing foo-bar", "lazy"]).await?,
                [vec!["pars", "foo", "bar"], vec!["lazi"]]
            );
            let mut conn = connection().await?;
            let err = |e| FtsError::sqlx("snippet scratch", e);
            let left: (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM prose), (SELECT count(*) FROM code), (SELECT count(*) FROM words)",
            )
            .fetch_one(&mut conn)
            .await
            .map_err(err)?;
            assert_eq!(left, (0, 0, 0));
            let autocommit: i64 = sqlx::query_scalar("SELECT count(*) FROM prose WHERE prose MATCH 'fox'")
                .fetch_one(&mut conn)
                .await
                .map_err(err)?;
            assert_eq!(autocommit, 0, "nothing matches in the emptied index");
            sqlx::query("BEGIN").execute(&mut conn).await.map_err(err)?;
            sqlx::query("ROLLBACK").execute(&mut conn).await.map_err(err)?;
            release(conn);
        }
        Ok(())
    }
}
