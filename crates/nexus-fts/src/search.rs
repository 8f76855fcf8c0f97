//! [`search`]: one ranked list of hits over the chosen indexes, filtered by project and kind
//! inside the same SQL statement.
//!
//! Run it on the reader pool (`db.reader()`): it only reads, so it runs concurrently with the
//! writer and with other searches (hybrid search runs it beside a vector query).

use nexus_db::episodes::EpisodeType;
use nexus_db::{InterruptGuard, Json, SourceKind};
use serde::{Deserialize, Serialize};
use sqlx::{Acquire, Connection, Sqlite, SqliteConnection, SqlitePool};
use tracing::debug;

use crate::error::{FtsError, Result};
use crate::maintenance::index_name;
use crate::query::{MatchExpression, MatchMode};
use crate::scratch::{self, Shape};
use crate::snippet::{FULL_ROW_BYTES, LargeRows};
use crate::topk::{Presumed, Ranked, Reader, SMALL_MATCHES, Target, from_presumed, top_k};
use crate::weights::FieldWeights;

/// A full-text query: the user's text and where and how to search.
///
/// ```
/// use nexus_db::SourceKind;
/// use nexus_fts::FtsQuery;
/// let query = FtsQuery::new("parse_query -legacy").project("p-1").kinds([SourceKind::CodeChunk]).limit(10);
/// assert_eq!(query.kinds, [SourceKind::CodeChunk]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FtsQuery {
    /// The user's text, in the query language of [`crate::query`].
    pub text: String,
    /// How plain words combine (default [`MatchMode::Any`]).
    pub mode: MatchMode,
    /// Which kinds of rows to search; empty means all.
    pub kinds: Vec<SourceKind>,
    /// Only rows of this project.
    pub project: Option<String>,
    /// Only episodes of these types (other kinds are unaffected); empty means all.
    pub episode_types: Vec<EpisodeType>,
    /// Maximum hits to return (default 20).
    pub limit: u32,
    /// Hits to skip, for paging (default 0).
    pub offset: u32,
    /// BM25 column weights.
    pub weights: FieldWeights,
    /// How snippets are cut and marked; `None` skips them (cheaper when only ids and
    /// scores are needed, as for fusion).
    pub snippet: Option<SnippetStyle>,
}

impl FtsQuery {
    /// A query for `text` over every kind and project, first 20 hits.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            mode: MatchMode::default(),
            kinds: Vec::new(),
            project: None,
            episode_types: Vec::new(),
            limit: 20,
            offset: 0,
            weights: FieldWeights::default(),
            snippet: Some(SnippetStyle::default()),
        }
    }

    /// Only rows of this project.
    pub fn project(mut self, project_id: impl Into<String>) -> Self {
        self.project = Some(project_id.into());
        self
    }

    /// Only these kinds of rows.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = SourceKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// Only episodes of these types.
    pub fn episode_types(mut self, types: impl IntoIterator<Item = EpisodeType>) -> Self {
        self.episode_types = types.into_iter().collect();
        self
    }

    /// At most `limit` hits.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Skip the first `offset` hits.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = offset;
        self
    }

    /// How plain words combine.
    pub fn mode(mut self, mode: MatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// Snippets in this style, or none.
    pub fn snippet(mut self, style: Option<SnippetStyle>) -> Self {
        self.snippet = style;
        self
    }

    fn wants(&self, kind: SourceKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// How snippets are cut and which markers surround matched words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetStyle {
    /// Inserted before a matched word (default `<mark>`).
    pub open: String,
    /// Inserted after a matched word (default `</mark>`).
    pub close: String,
    /// Marks text left out at either end (default `…`).
    pub ellipsis: String,
    /// Snippet length in tokens, 1 to 64 (default 24; values outside are clamped).
    pub tokens: u8,
}

impl Default for SnippetStyle {
    fn default() -> Self {
        Self { open: "<mark>".into(), close: "</mark>".into(), ellipsis: "…".into(), tokens: 24 }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FtsHit {
    /// Which table the row is in.
    pub kind: SourceKind,
    /// The row's id (its TEXT primary key).
    pub id: String,
    /// The row's SQLite rowid (the FTS5 document id).
    pub rowid: i64,
    /// Relevance, higher is better: the negated FTS5 `bm25()` with the query's weights,
    /// so `>= 0`. Comparable between hits of one kind for one query; kinds have separate
    /// indexes with their own term statistics, so fuse kinds by rank rather than by score.
    pub score: f64,
    /// A short extract around the best match, matched words between the style's markers
    /// (for code chunks, always from `content`); `None` when the query asked for none. For a
    /// row of more than 4 KiB, the best window among its first matching 4 KiB pieces, cut in
    /// time linear in the row (`docs/fts.md`, "Snippets on large rows").
    pub snippet: Option<String>,
}

/// Searches the full-text indexes.
///
/// Hits come best first (ties by kind, then id, so pages are stable), after `offset`, at most
/// `limit` of them. A row matches when its indexed text matches the query and, if set, its
/// `project_id` is the query's project.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nexus_db::{Db, SourceKind, episodes, projects};
/// use nexus_fts::{FtsQuery, search};
/// let db = Db::in_memory().await?;
/// let p = projects::create(db.writer(), projects::NewProject::new("shop", "/src/shop")).await?;
/// let note = episodes::NewEpisode::new(&p.id, episodes::EpisodeType::Decision, "Totals are kept in cents.");
/// let note = episodes::create(db.writer(), note).await?;
///
/// let hits = search(db.reader(), &FtsQuery::new("cent total").project(&p.id)).await?;
/// assert_eq!((hits[0].kind, hits[0].id.as_str()), (SourceKind::Episode, note.id.as_str()));
/// assert_eq!(hits[0].snippet.as_deref(), Some("<mark>Totals</mark> are kept in <mark>cents</mark>."));
/// # Ok(()) }
/// ```
///
/// `ex` is a pool (`db.reader()`) or `&mut` a connection: a search runs a few statements (the
/// top-k pruning of `docs/fts.md`, then the one that returns the hits) in one read transaction.
/// A warm search without snippets on one index (hybrid search's keyword leg, its score lists
/// cached) is answered by a single statement instead when it can be (`in_one_statement`;
/// `docs/fts.md`, "One statement for a warm search").
///
/// To make a search cancellable, run it on a reader taken with [`nexus_db::InterruptGuard`]:
/// dropping the search (or cutting it with a timeout) then interrupts its statement.
///
/// # Errors
/// [`FtsError::EmptyQuery`] when the text has nothing to search for,
/// [`FtsError::InvalidWeight`] for a bad weight, [`FtsError::Db`] when SQLite fails.
pub async fn search<'e>(ex: impl Acquire<'e, Database = Sqlite>, query: &FtsQuery) -> Result<Vec<FtsHit>> {
    let (prose, code) = expressions(query)?;
    debug!(%prose, %code, kinds = ?query.kinds, project = ?query.project, "fts search");
    let mut conn = ex.acquire().await.map_err(|e| FtsError::sqlx("fts search", e))?;
    if !conn.is_in_transaction()
        && let Some(hits) = in_one_statement(Reader::Held(&mut conn), query, (&prose, &code)).await?
    {
        return Ok(hits);
    }
    in_transaction(&mut conn, query, (&prose, &code)).await
}

/// [`search`] on a reader of `pool`, cancellable: when the future is dropped (or cut by a
/// timeout) while a statement that can run long runs, that statement is interrupted and the
/// reader goes back to the pool at once ([`InterruptGuard`]). A warm search answered by one
/// statement at the presumed snapshot (`docs/fts.md`, "One statement for a warm search") —
/// a filter over the rows already ranked in memory, which cannot run long — takes a plain
/// reader for that statement instead: the guard's handle costs a round trip to the
/// connection's thread. This is how hybrid search runs its keyword leg.
///
/// # Errors
/// As [`search`].
pub async fn search_interruptible(pool: &SqlitePool, query: &FtsQuery) -> Result<Vec<FtsHit>> {
    let (prose, code) = expressions(query)?;
    debug!(%prose, %code, kinds = ?query.kinds, project = ?query.project, "fts search (interruptible)");
    if let Some(hits) = in_one_statement(Reader::Pool(pool), query, (&prose, &code)).await? {
        return Ok(hits);
    }
    let mut guard = InterruptGuard::acquire(pool).await.map_err(FtsError::from)?;
    let hits = in_transaction(&mut guard, query, (&prose, &code)).await;
    guard.release();
    hits
}

/// The search in one read transaction on `conn` (module docs of `topk`): the pruned top k of
/// each index that allows it, the full ranking of the others, merged and paged, with snippets.
async fn in_transaction(
    conn: &mut SqliteConnection,
    query: &FtsQuery,
    (prose, code): (&MatchExpression, &MatchExpression),
) -> Result<Vec<FtsHit>> {
    // One read transaction (a savepoint inside the caller's), so the pre-ranked rows and the
    // statement that returns them see the same snapshot.
    let mut conn = Connection::begin(&mut *conn).await.map_err(|e| FtsError::sqlx("fts search", e))?;
    // The best `limit + offset` rows of each index whose top k can be found without scoring
    // every match (`topk`); the statement below ranks the other wanted indexes in full and
    // merges both.
    let mut pruned: Vec<Pruned> = Vec::new();
    let mut wants = INDEXES.map(|kind| (kind, query.wants(kind)));
    for (kind, wanted) in &mut wants {
        if !*wanted {
            continue;
        }
        let weights = query.weights.of(*kind);
        let target = target(query, *kind, (prose, code), &weights);
        if let Some(top) = top_k(&mut conn, &target).await? {
            *wanted = false;
            pruned.extend(top.into_iter().map(|r| Pruned::new(*kind, r)));
        }
    }
    let hits = if wants.iter().any(|(_, wanted)| *wanted) {
        ranked_hits(&mut conn, query, (prose, code), wants.map(|(_, wanted)| wanted), &pruned).await?
    } else {
        // Every wanted index was ranked by `top_k`: merging and paging its rows needs no
        // statement.
        let hits = in_order(pruned, query.limit, query.offset);
        match &query.snippet {
            Some(style) => with_snippets(&mut conn, style, (prose, code), hits, &[]).await?,
            None => hits,
        }
    };
    conn.commit().await.map_err(|e| FtsError::sqlx("fts search", e))?;
    Ok(hits)
}

/// `query`'s text compiled for the prose indexes and for the code index, once its weights are
/// checked.
fn expressions(query: &FtsQuery) -> Result<(MatchExpression, MatchExpression)> {
    query.weights.validate()?;
    Ok((
        MatchExpression::parse(&query.text, query.mode, SourceKind::Episode)?,
        MatchExpression::parse(&query.text, query.mode, SourceKind::CodeChunk)?,
    ))
}

/// The hits of `query` from one statement, without a transaction ([`from_presumed`]), or `None`
/// when the search must run in a read transaction. Tried only for a query without snippets
/// whose `limit + offset` rows come from one index; `from_presumed` then runs its statement
/// only when every score list of the query is cached at the index's presumed snapshot, and the
/// answer is used only when that statement read that very snapshot on a `query_only`
/// connection and settled the top k.
///
/// [`search`] does not try it when its connection is inside a transaction, the caller's (a
/// pool's connection never is): on the writer (`Db::begin`) its
/// uncommitted index changes are not in the version records yet, so the check would reject the
/// answer and the statement would be wasted (in a reader's transaction the search's own is a
/// savepoint anyway: it runs there as before). The presumed snapshot
/// itself only ever comes from a `query_only` connection ([`Snapshot::read`] records only
/// cacheable ones), so nothing a writer reads makes a reader trust stale lists; a search on
/// the writer outside a transaction (which nothing in Nexus runs) spends the statement and is
/// rejected by its `query_only` column.
///
/// [`Snapshot::read`]: crate::cache::Snapshot::read
async fn in_one_statement(
    reader: Reader<'_>,
    query: &FtsQuery,
    exprs: (&MatchExpression, &MatchExpression),
) -> Result<Option<Vec<FtsHit>>> {
    if query.snippet.is_some() {
        return Ok(None);
    }
    let mut wanted = INDEXES.into_iter().filter(|kind| query.wants(*kind));
    let (Some(kind), None) = (wanted.next(), wanted.next()) else { return Ok(None) };
    let weights = query.weights.of(kind);
    match from_presumed(reader, &target(query, kind, exprs, &weights)).await? {
        Presumed::Answered(top) => {
            let top = top.into_iter().map(|r| Pruned::new(kind, r)).collect();
            Ok(Some(in_order(top, query.limit, query.offset)))
        }
        Presumed::NotTried | Presumed::Discarded => Ok(None),
    }
}

/// What [`top_k`] ranks for `query` in the index of `kind`: its best `limit + offset` rows.
fn target<'q>(
    query: &'q FtsQuery,
    kind: SourceKind,
    (prose, code): (&'q MatchExpression, &'q MatchExpression),
    weights: &'q [f64],
) -> Target<'q> {
    Target {
        kind,
        expr: if kind == SourceKind::CodeChunk { code } else { prose },
        weights,
        project: query.project.as_deref(),
        episode_types: Some(&query.episode_types),
        k: usize::try_from(u64::from(query.limit) + u64::from(query.offset)).unwrap_or(usize::MAX),
        prune_above: SMALL_MATCHES,
    }
}

/// Snippets for `hits`, rows found by a search of `query` run without them (`snippet: None`),
/// in `query`'s snippet style (the default style when it has none): the hits again, with
/// snippets, best first. This is how a caller that ranks many candidates but shows a few
/// (hybrid search) builds snippets only for the rows it shows.
///
/// # Errors
/// As [`search`].
pub async fn snippets<'e>(
    ex: impl Acquire<'e, Database = Sqlite>,
    query: &FtsQuery,
    hits: &[FtsHit],
) -> Result<Vec<FtsHit>> {
    snippets_of_rows(ex, query, hits, &[]).await
}

/// The snippet columns of a row the caller already holds (read in the same go as the rest of
/// the row), so [`snippets_of_rows`] need not read them again: for an episode its `content` and
/// `summary`, a code chunk its `content`, a task its `name` and `description`, a transcript
/// entry its `content`, a requirement its `description` and `user_stories` as stored (the JSON
/// text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnippetText<'a> {
    /// Which index the row is in.
    pub kind: SourceKind,
    /// The row's rowid ([`FtsHit::rowid`]).
    pub rowid: i64,
    /// The index's snippet columns, in the index's order (the second `None` when there is one).
    pub columns: [Option<&'a str>; 2],
}

/// [`snippets`], with the snippet columns of some of the rows given in `texts`; the columns of
/// the others are read from their tables (one statement per kind).
///
/// # Errors
/// As [`search`].
pub async fn snippets_of_rows<'e>(
    ex: impl Acquire<'e, Database = Sqlite>,
    query: &FtsQuery,
    hits: &[FtsHit],
    texts: &[SnippetText<'_>],
) -> Result<Vec<FtsHit>> {
    let (prose, code) = expressions(query)?;
    let mut conn = ex.acquire().await.map_err(|e| FtsError::sqlx("fts snippets", e))?;
    let given: Vec<Pruned> = hits
        .iter()
        .map(|h| Pruned { kind: h.kind, id: h.id.clone(), rowid: h.rowid, rank: -h.score })
        .collect();
    let hits = in_order(given, u32::try_from(hits.len()).unwrap_or(u32::MAX), 0);
    let style = query.snippet.clone().unwrap_or_default();
    with_snippets(&mut conn, &style, (&prose, &code), hits, texts).await
}

/// The page of `given` the search statement would return for them alone: best first (by
/// `bm25()`, then kind, then id, as its `ORDER BY`), after `offset`, at most `limit`; no
/// snippets yet.
fn in_order(mut given: Vec<Pruned>, limit: u32, offset: u32) -> Vec<FtsHit> {
    given.sort_by(|a, b| {
        a.rank
            .total_cmp(&b.rank)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
            .then_with(|| a.id.cmp(&b.id))
    });
    given
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|p| FtsHit { kind: p.kind, id: p.id, rowid: p.rowid, score: -p.rank, snippet: None })
        .collect()
}

/// Every index, in the order of [`ranked_hits`]' flags.
const INDEXES: [SourceKind; 5] = [
    SourceKind::Episode,
    SourceKind::CodeChunk,
    SourceKind::Requirement,
    SourceKind::Task,
    SourceKind::TranscriptEntry,
];

/// The search statement: the rows of `given` (already ranked, with their `bm25()`) and the
/// full ranking of each index whose flag in `wants` (in [`INDEXES`] order) is set, merged,
/// paged by the query's limit and offset, then their snippets ([`with_snippets`]).
async fn ranked_hits(
    conn: &mut SqliteConnection,
    query: &FtsQuery,
    (prose, code): (&MatchExpression, &MatchExpression),
    [episodes, code_chunks, requirements, tasks, transcript_entries]: [bool; INDEXES.len()],
    given: &[Pruned],
) -> Result<Vec<FtsHit>> {
    let w = &query.weights;
    let (limit, offset) = (i64::from(query.limit), i64::from(query.offset));
    // One statement: the ranked, filtered, paged hits of every wanted index (an unwanted
    // index's branch is skipped by its constant-false flag).
    let episode_types = (!query.episode_types.is_empty()).then_some(Json(&query.episode_types));
    let rows = sqlx::query!(
        r#"SELECT 'episode' AS "kind!: SourceKind", e.id AS "id!: String", e.rowid AS "rowid!: i64",
                  bm25(episodes_fts, ?4, ?5) AS "rank!: f64"
           FROM episodes_fts CROSS JOIN episodes AS e ON e.rowid = episodes_fts.rowid
           WHERE ?3 AND episodes_fts MATCH ?1 AND (?2 IS NULL OR e.project_id = ?2)
                 AND (?20 IS NULL OR e.type IN (SELECT value FROM json_each(?20)))
           UNION ALL
           SELECT 'code_chunk', c.id, c.rowid, bm25(code_chunks_fts, ?7, ?8, ?9, ?10, ?24, ?25, ?26)
           FROM code_chunks_fts CROSS JOIN code_chunks AS c ON c.rowid = code_chunks_fts.rowid
           WHERE ?6 AND code_chunks_fts MATCH ?19 AND (?2 IS NULL OR c.project_id = ?2)
           UNION ALL
           SELECT 'requirement', r.id, r.rowid, bm25(requirements_fts, ?12, ?13)
           FROM requirements_fts CROSS JOIN requirements AS r ON r.rowid = requirements_fts.rowid
           WHERE ?11 AND requirements_fts MATCH ?1 AND (?2 IS NULL OR r.project_id = ?2)
           UNION ALL
           SELECT 'task', t.id, t.rowid, bm25(tasks_fts, ?15, ?16)
           FROM tasks_fts CROSS JOIN tasks AS t ON t.rowid = tasks_fts.rowid
           WHERE ?14 AND tasks_fts MATCH ?1 AND (?2 IS NULL OR t.project_id = ?2)
           UNION ALL
           SELECT 'transcript_entry', x.transcript_id || '#' || x.seq, x.id, bm25(transcript_entries_fts, ?23)
           FROM transcript_entries_fts CROSS JOIN transcript_entries AS x ON x.id = transcript_entries_fts.rowid
           WHERE ?22 AND transcript_entries_fts MATCH ?1
                 AND (?2 IS NULL OR x.transcript_id IN (SELECT id FROM transcripts WHERE project_id = ?2))
           UNION ALL
           SELECT value ->> 'kind', value ->> 'id', value ->> 'rowid', value ->> 'rank'
           FROM json_each(?21)
           ORDER BY 4, 1, 2 LIMIT ?17 OFFSET ?18"#,
        prose.as_str(),
        query.project,
        episodes,
        w.episode_content,
        w.episode_summary,
        code_chunks,
        w.code_file,
        w.code_symbols,
        w.code_content,
        w.code_identifiers,
        requirements,
        w.requirement_description,
        w.requirement_user_stories,
        tasks,
        w.task_name,
        w.task_description,
        limit,
        offset,
        code.as_str(),
        episode_types,
        Json(given),
        transcript_entries,
        w.transcript_content,
        w.code_name,
        w.code_context,
        w.code_signature,
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| FtsError::sqlx("fts search", e))?;
    let hits = rows
        .into_iter()
        .map(|r| FtsHit { kind: r.kind, id: r.id, rowid: r.rowid, score: -r.rank, snippet: None })
        .collect();
    match &query.snippet {
        Some(style) => with_snippets(conn, style, (prose, code), hits, &[]).await,
        None => Ok(hits),
    }
}

/// `hits` with their snippets, per kind. The rows' snippet columns are taken from `given` or
/// read from the base table (one statement per kind, for the rows not given); rows of at most [`FULL_ROW_BYTES`] there get FTS5's
/// `snippet()`, computed in a scratch table that holds just them ([`scratch`]: the same
/// snippets as on the real index, without setting the query up on it — a merge of every
/// matching term's doclist for a prefix phrase — or reading rows through the code index's
/// content view); larger rows get theirs from [`LargeRows`] in linear time, since `snippet()`
/// is quadratic in a row's matches.
async fn with_snippets(
    conn: &mut SqliteConnection,
    style: &SnippetStyle,
    (prose, code): (&MatchExpression, &MatchExpression),
    mut hits: Vec<FtsHit>,
    given: &[SnippetText<'_>],
) -> Result<Vec<FtsHit>> {
    let mut large = LargeRows::default();
    for kind in INDEXES {
        let rowids: Vec<i64> = hits.iter().filter(|h| h.kind == kind).map(|h| h.rowid).collect();
        if rowids.is_empty() {
            continue;
        }
        let mut texts: Vec<SnippetColumns> = given
            .iter()
            .filter(|t| t.kind == kind && rowids.contains(&t.rowid))
            .map(|t| (t.rowid, t.columns[0].map(str::to_owned), t.columns[1].map(str::to_owned)))
            .collect();
        let missing: Vec<i64> = rowids.into_iter().filter(|r| !texts.iter().any(|t| t.0 == *r)).collect();
        let expr = if kind == SourceKind::CodeChunk { code } else { prose };
        // The snippet columns, in the order of the index's columns.
        let (shape, first_column, second_column) = match kind {
            SourceKind::Episode => (Shape::Prose, "s.content", "s.summary"),
            SourceKind::CodeChunk => (Shape::Code, "s.content", "NULL"),
            SourceKind::Requirement => (Shape::Prose, "s.description", "s.user_stories"),
            SourceKind::Task => (Shape::Prose, "s.name", "s.description"),
            SourceKind::TranscriptEntry => (Shape::Prose, "s.content", "NULL"),
        };
        if !missing.is_empty() {
            let base = kind.table();
            // One row, a JSON array of the rows (sqlx hands each row of a result over on its own).
            let Json(read): Json<Vec<SnippetColumns>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT json_group_array(json_array(s.rowid, {first_column}, {second_column})) \
                     FROM {base} AS s WHERE s.rowid IN (SELECT value FROM json_each(?1))"
            )))
            .bind(Json(&missing))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| FtsError::sqlx(index_name(kind), e))?;
            texts.extend(read);
        }
        let size = |first: &Option<String>, second: &Option<String>| {
            first.as_deref().map_or(0, str::len) + second.as_deref().map_or(0, str::len)
        };
        let is_large = |first: &Option<String>, second: &Option<String>| {
            i64::try_from(size(first, second)).unwrap_or(i64::MAX) > FULL_ROW_BYTES
        };
        let small: Vec<(i64, Option<&str>, Option<&str>)> = texts
            .iter()
            .filter(|(_, first, second)| !is_large(first, second))
            .map(|(rowid, first, second)| (*rowid, first.as_deref(), second.as_deref()))
            .collect();
        let mut cut = scratch::snippets(shape, expr.as_str(), &small, style).await?;
        let terms = expr.highlight_terms();
        for (rowid, first, second) in texts.iter().filter(|(_, first, second)| is_large(first, second)) {
            let columns: Vec<&str> = [first.as_deref(), second.as_deref()].into_iter().flatten().collect();
            let (text, work) = large.snippet(&columns, &terms, style).await?;
            debug!(%kind, rowid, pieces = work.pieces, bytes = work.bytes, "large-row snippet");
            cut.push((*rowid, text));
        }
        for (rowid, text) in cut {
            for hit in hits.iter_mut().filter(|h| h.kind == kind && h.rowid == rowid) {
                hit.snippet = Some(text.clone());
            }
        }
    }
    for hit in &mut hits {
        hit.snippet.get_or_insert_with(String::new);
    }
    Ok(hits)
}

/// A row's snippet columns, by rowid: its first and second column (either may be `NULL`).
type SnippetColumns = (i64, Option<String>, Option<String>);

/// A row ranked by [`top_k`], handed to the search statement as JSON.
#[derive(Debug, Serialize)]
struct Pruned {
    kind: SourceKind,
    id: String,
    rowid: i64,
    rank: f64,
}

impl Pruned {
    fn new(kind: SourceKind, ranked: Ranked) -> Self {
        Self { kind, id: ranked.id, rowid: ranked.rowid, rank: ranked.rank }
    }
}
