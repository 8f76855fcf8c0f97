//! Filling the cache of score lists before searches need it ([`warm`]).
//!
//! The lists that cost the most to compute are those of the terms found in the most rows (a
//! `bm25()` pass over tens of thousands of rows each), and they are also the ones most queries
//! share. [`warm`] computes them ahead of the searches — when a server starts, after the code
//! index changed — so that a query's first run merges lists instead of scoring every row that
//! holds a common word. The terms come from the index's vocabulary (an `fts5vocab` table over
//! it, created in the temporary schema of a private connection), most rows first; their
//! lists are keyed by tokens ([`crate::phrase_key`]), so every word a user types that stems to
//! one of them finds its list. Warming stops before the lists would fill half of the cache's
//! bound, so searches keep room for their own.

use std::time::Duration;

use nexus_db::{Db, Location, SourceKind};
use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tracing::{debug, info};

use crate::cache::{self, Snapshot};
use crate::error::{FtsError, Result};
use crate::maintenance::index_name;
use crate::phrase_key;
use crate::weights::FieldWeights;

/// Terms [`warm`] is usually asked for: on 100,000 code chunks, the lists of the 1,024 most
/// frequent terms take about 30 MiB and 4 s of one core to compute (`docs/fts.md`, "Warming").
pub const WARM_TERMS: usize = 1024;

/// Terms in fewer rows are not warmed: their lists cost well under a millisecond to compute
/// when a search first needs them (and are kept from then on).
pub(crate) const WARM_MIN_ROWS: usize = 512;

/// Bytes a cached list takes per row (rowid offset and term index), to budget [`warm`].
const BYTES_PER_ROW: i64 = 6;

/// What [`warm`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Warmed {
    /// Terms whose lists were computed and cached (terms already cached are not counted).
    pub lists: usize,
    /// Rows in those lists.
    pub rows: usize,
}

/// Computes and caches the score lists of (at most) the `terms` terms found in the most rows of
/// `kind`'s index, with the column weights the searches will use (`weights`), so that the
/// first searches with those words merge cached lists. Terms in fewer rows than lists are
/// cached for are skipped, and warming stops before the lists would take half of the cache's
/// bound. Reads only, on a private connection to `db`'s file, in one read transaction;
/// an in-memory database, or a cache turned off, has nothing to warm.
///
/// # Errors
/// [`FtsError::InvalidWeight`] for bad weights; [`FtsError::Db`] when the file cannot be read.
pub async fn warm(db: &Db, kind: SourceKind, weights: &FieldWeights, terms: usize) -> Result<Warmed> {
    weights.validate()?;
    let Location::File(path) = db.location() else { return Ok(Warmed::default()) };
    let table = index_name(kind);
    let err = |e| FtsError::sqlx(table, e);
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(err)?;
    let warmed = warm_on(&mut conn, table, &weights.of(kind), terms).await;
    if let Err(e) = conn.close().await {
        debug!(error = %e, "closing the warming connection");
    }
    warmed
}

/// [`warm`] on `conn`, a private connection to the database file.
async fn warm_on(
    conn: &mut SqliteConnection,
    table: &'static str,
    weights: &[f64],
    terms: usize,
) -> Result<Warmed> {
    let err = |e| FtsError::sqlx(table, e);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab (main, {table}, row)"
    )))
    .execute(&mut *conn)
    .await
    .map_err(err)?;
    // Only query-only connections' lists are cached (`cache::Snapshot`).
    sqlx::query("PRAGMA query_only = 1").execute(&mut *conn).await.map_err(err)?;
    let mut tx = conn.begin().await.map_err(err)?;
    let snapshot = Snapshot::read(&mut tx, table).await?;
    let budget = i64::try_from(cache::cache_stats().limit / 2).unwrap_or(i64::MAX);
    if !snapshot.cacheable() || terms == 0 || budget == 0 {
        return Ok(Warmed::default());
    }
    let frequent: Vec<(String, i64)> =
        sqlx::query_as("SELECT term, doc FROM temp.vocab WHERE doc >= ?1 ORDER BY doc DESC, term LIMIT ?2")
            .bind(i64::try_from(WARM_MIN_ROWS).unwrap_or(i64::MAX))
            .bind(i64::try_from(terms).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(err)?;
    let mut spent = 0i64;
    let phrases: Vec<String> = frequent
        .iter()
        .take_while(|(_, rows)| {
            spent = spent.saturating_add(rows.saturating_mul(BYTES_PER_ROW));
            spent <= budget
        })
        .map(|(term, _)| format!("\"{}\"", term.replace('"', "\"\"")))
        .collect();
    let keys = phrase_key::keys(&phrases).await?;
    let mut warmed = Warmed::default();
    for (phrase, key) in phrases.iter().zip(&keys) {
        if let Some(rows) = cache::fill(&mut tx, &snapshot, table, weights, (phrase, key)).await? {
            warmed.lists += 1;
            warmed.rows += rows;
        }
    }
    tx.commit().await.map_err(err)?;
    info!(table, lists = warmed.lists, rows = warmed.rows, "fts score lists warmed");
    Ok(warmed)
}
