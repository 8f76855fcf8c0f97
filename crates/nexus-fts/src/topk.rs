//! Exact top-k of an OR query over one FTS5 index without scoring every match.
//!
//! **From score lists** (the first path, on the reader pool of a database file): the query's
//! phrases' score lists ([`crate::cache`], computed once per version of the index and kept),
//! summed per row in `bm25()`'s own order ([`crate::scores`]), which gives every match's exact
//! `bm25()` without FTS5; then the filters, checked on the best rows first ([`best_first`]).
//! Warm, a search costs a merge of in-memory arrays; cold, one `bm25()` pass per phrase.
//! A warm search can skip its read transaction: [`from_presumed`] ranks from the lists of the
//! index's presumed snapshot and checks, in the one statement of its filters, that it read it.
//!
//! **MaxScore in SQL** (connections that may not use the cache, such as a writer inside its
//! transaction or an in-memory database). FTS5's `bm25()` is a sum over the phrases of the
//! query: a row's score is
//! `Σ idf(p) · f(p)·(k1+1) / (f(p) + k1·(1 − b + b·len/avglen))` over the phrases `p` it holds,
//! and each term is below `ub(p) = idf(p)·(k1+1)`, however often `p` occurs. With the
//! document count of every phrase (which gives its `idf`, exactly as FTS5 computes it), a row
//! that holds only phrases whose bounds add up to at most `θ` scores below `θ`. MaxScore's
//! evaluation, in SQL statements over the FTS5 index:
//!
//! 1. **Counts.** `n(p)` for every phrase (`count(*)` of its matches, up to `N/2`, where the
//!    idf reaches its floor) and the row count `N` (FTS5's averages record), hence `idf(p)` and
//!    `ub(p)`. If all the phrases together match few rows, the plain statement is as cheap: no
//!    pruning. The rarest phrases are the *essential* ones (see [`splits`]), the others
//!    the *rest*, whose bounds add up to `R`.
//! 2. **Essential rows.** Every row holding an essential phrase, scored by `bm25()` over the
//!    essential phrases alone: the rest's share is left out, so this is a lower bound of the
//!    row's full score. Only the rare phrases' doclists are walked and only their rows scored.
//! 3. **A threshold.** The `k`-th best of those lower bounds among the rows that pass the
//!    filters (checked best first) is `θ`, a lower bound of the `k`-th best full score. A row
//!    without an essential phrase scores at most `R`: if `θ > R`, no such row can reach the top
//!    `k` (otherwise try a larger split, then give up).
//! 4. **Candidates.** The essential rows whose lower bound plus `R` exceeds `θ`.
//! 5. **Exact scores.** FTS5 scores `(essential) AND (rest)`: the rows holding phrases of both,
//!    scored over every phrase of the query, which is their `bm25()` for the query; a row with
//!    no phrase of the rest already has its score from step 2. The best `k` candidates by
//!    score, then id, are the same rows as the plain statement's (to the rounding of the sum).
//!
//! Each common phrase's doclist is thus walked twice (the count, and `bm25()`'s idf in step 5),
//! and `bm25()` runs on the essential rows only. Only flat OR expressions
//! ([`crate::MatchMode::Any`], optionally with exclusions) are pruned; anything else, or a
//! query that would not gain, returns `None` and the caller ranks every match.
//! `docs/fts.md`, "Top-k pruning" and "Score lists", has the measurements.

use std::collections::HashMap;
use std::sync::Arc;

use nexus_db::episodes::EpisodeType;
use nexus_db::{Json, SourceKind};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tracing::debug;

use crate::cache::{self, PhraseList, Snapshot};
use crate::error::{FtsError, Result};
use crate::maintenance::index_name;
use crate::phrase_key;
use crate::query::MatchExpression;
use crate::scores;

/// BM25's `k1`, as in FTS5's `bm25()`.
const K1: f64 = 1.2;
/// Up to this many matches in total (the sum of the phrases' counts, each at most `N/2`),
/// ranking every match costs about as much as pruning's extra statements: no pruning (the
/// default of [`Target::prune_above`]). Measured on SciFact (5,183 rows, top 100), pruning at
/// 1,000 was 10–20 % slower at p50 than not pruning.
pub(crate) const SMALL_MATCHES: i64 = 5_000;
/// Pruning goes on only when the essential rows are at most 1/this of the matches (counted as
/// the sum of the phrases' counts): scoring one costs more than a plain match (`bm25()` of the
/// essential phrases, the filters, then the full `bm25()` of the candidates).
const CANDIDATE_SHARE: i64 = 2;
/// What to rank: one index, its filters, how many hits.
pub(crate) struct Target<'q> {
    /// The index.
    pub kind: SourceKind,
    /// The compiled query for this index.
    pub expr: &'q MatchExpression,
    /// BM25 column weights, in column order.
    pub weights: &'q [f64],
    /// Only rows of this project.
    pub project: Option<&'q str>,
    /// Only episodes of these types (episodes index only); `None` for all.
    pub episode_types: Option<&'q [EpisodeType]>,
    /// How many of the best rows are wanted (limit + offset).
    pub k: usize,
    /// Prune only queries whose phrases match more rows than this in total
    /// ([`SMALL_MATCHES`]; tests lower it to prune on small corpora).
    pub prune_above: i64,
}

/// One ranked row: FTS5's `bm25()` value (lower is better) for the full query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ranked {
    /// The row's TEXT id.
    pub id: String,
    /// The row's rowid.
    pub rowid: i64,
    /// `bm25()` of the full query.
    pub rank: f64,
}

/// The best `k` rows of `target` by (`bm25()`, id), or `None` when pruning does not apply
/// and the plain statement should run.
pub(crate) async fn top_k(conn: &mut SqliteConnection, target: &Target<'_>) -> Result<Option<Vec<Ranked>>> {
    if target.k == 0 {
        return Ok(None);
    }
    if let Some(ranked) = from_lists(conn, target).await? {
        return Ok(Some(ranked));
    }
    if let Some(ranked) = pruned(conn, target).await? {
        return Ok(Some(ranked));
    }
    sorted_then_filtered(conn, target).await
}

/// The exact top k from the score lists of the query's phrases ([`cache`]), summed as
/// `bm25()` sums them ([`scores`]); `None` when the expression is not a flat OR or the
/// connection may not use the cache.
async fn from_lists(conn: &mut SqliteConnection, target: &Target<'_>) -> Result<Option<Vec<Ranked>>> {
    let table = index_name(target.kind);
    let Some(query) = ListQuery::parse(target.expr) else { return Ok(None) };
    let snapshot = Snapshot::read(conn, table).await?;
    if !snapshot.cacheable() {
        return Ok(None);
    }
    let keys = query.keys().await?;
    let mut lists = Vec::with_capacity(keys.len());
    for (phrase, key) in query.phrases.iter().zip(&keys) {
        let Some(list) = cache::phrase_list(conn, &snapshot, table, target.weights, (phrase, key)).await?
        else {
            return Ok(None);
        };
        lists.push(list);
    }
    let rows = query.ranked_rows(&lists);
    debug!(table, phrases = lists.len(), matches = rows.len(), "top-k: from score lists");
    best_first(conn, target, rows).await.map(Some)
}

/// What [`from_presumed`] came to.
#[derive(Debug)]
pub(crate) enum Presumed {
    /// It ran no statement: the expression is not a flat OR, the index has no presumed
    /// snapshot, or the cache does not hold every list at it.
    NotTried,
    /// The exact top k, from one statement.
    Answered(Vec<Ranked>),
    /// Its statement ran, but the answer cannot be used: the caller must rank as usual.
    Discarded,
}

/// The exact top k of [`from_lists`] in ONE statement, without a transaction, when the lists of
/// the index's *presumed* snapshot ([`cache::presumed`]: the last one a search found cacheable)
/// are all cached: the rows are ranked from those lists, and the first round of
/// [`best_first`]'s filters runs in a statement that also returns the [`Snapshot`] columns. A
/// statement reads one consistent snapshot of the database, so when the snapshot it returns is
/// the presumed one (a `query_only` connection to the same file, the same version of the index)
/// the lists are that snapshot's, and the answer is the one `from_lists` gives in a read
/// transaction at it, provided that round settles the top k. Anything else is
/// [`Presumed::Discarded`]. Counted in [`crate::CacheStats`] (`one_statement`,
/// `one_statement_fallbacks`); the lists count as hits only when the answer is used.
pub(crate) async fn from_presumed(reader: Reader<'_>, target: &Target<'_>) -> Result<Presumed> {
    let table = index_name(target.kind);
    if target.k == 0 {
        return Ok(Presumed::NotTried);
    }
    let Some(query) = ListQuery::parse(target.expr) else { return Ok(Presumed::NotTried) };
    let Some(presumed) = cache::presumed(table) else { return Ok(Presumed::NotTried) };
    let keys = query.keys().await?;
    let Some(lists) = cache::cached_lists(&presumed, table, target.weights, &keys) else {
        return Ok(Presumed::NotTried);
    };
    let rows = query.ranked_rows(&lists);
    let matches = rows.len();
    let mut rounds = BestFirst::new(target.k, rows);
    let (ids, seen) = match reader {
        Reader::Held(conn) => filtered_at_snapshot(conn, target, rounds.round()).await?,
        // A pool's reader is taken for the statement alone.
        Reader::Pool(pool) => {
            let mut conn = pool.acquire().await.map_err(|e| FtsError::sqlx(table, e))?;
            filtered_at_snapshot(&mut conn, target, rounds.round()).await?
        }
    };
    if !seen.same_as(&presumed) {
        debug!(table, "top-k: one statement found another snapshot than presumed; read transaction");
        cache::count_one_statement(None);
        return Ok(Presumed::Discarded);
    }
    if !rounds.passed(&ids) {
        debug!(table, matches, "top-k: one round of filters does not settle the top k; read transaction");
        cache::count_one_statement(None);
        return Ok(Presumed::Discarded);
    }
    debug!(table, phrases = lists.len(), matches, "top-k: one statement at the presumed snapshot");
    cache::count_one_statement(Some(lists.len()));
    Ok(Presumed::Answered(rounds.into_ranked()))
}

/// Where [`from_presumed`] runs its statement.
pub(crate) enum Reader<'a> {
    /// On this connection.
    Held(&'a mut SqliteConnection),
    /// On a reader of this pool, taken only if the statement runs.
    Pool(&'a SqlitePool),
}

/// A flat OR expression and the phrases whose score lists rank it: its positive phrases, in the
/// order of [`FlatOr::phrases`], then its excluded ones.
struct ListQuery {
    flat: FlatOr,
    phrases: Vec<String>,
}

impl ListQuery {
    /// `None` when `expr` is not a flat OR.
    fn parse(expr: &MatchExpression) -> Option<Self> {
        let flat = FlatOr::parse(expr.as_str())?;
        let excluded = flat.excluded_phrases()?;
        let phrases = flat.phrases.iter().map(|(phrase, _)| phrase.clone()).chain(excluded).collect();
        Some(Self { flat, phrases })
    }

    /// The cache keys of the phrases, in order ([`phrase_key`]).
    async fn keys(&self) -> Result<Vec<Arc<str>>> {
        phrase_key::keys(&self.phrases).await
    }

    /// `(rowid, bm25)` of every match, from the lists of the phrases, in order.
    fn ranked_rows(&self, lists: &[Arc<PhraseList>]) -> Vec<(i64, f64)> {
        let (positive, excluded) = lists.split_at(self.flat.phrases.len().min(lists.len()));
        let positive: Vec<&PhraseList> = positive.iter().map(AsRef::as_ref).collect();
        let excluded: Vec<&PhraseList> = excluded.iter().map(AsRef::as_ref).collect();
        scores::ranked_rows(&positive, &self.flat.sequence, &excluded)
    }
}

/// The best `k` of `rows` (`(rowid, bm25)`, any order) that pass the target's filters, by
/// (`bm25()`, id): the filters are checked on the best rows first, in rounds of growing depth,
/// until `k` rows pass and no unchecked row can reach or tie with the `k`-th.
async fn best_first(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
    rows: Vec<(i64, f64)>,
) -> Result<Vec<Ranked>> {
    let mut rounds = BestFirst::new(target.k, rows);
    while !rounds.settled() {
        let ids = filtered(conn, target, rounds.round()).await?;
        rounds.passed(&ids);
    }
    Ok(rounds.into_ranked())
}

/// The rounds of [`best_first`]: [`BestFirst::round`] gives the rows whose filters to check
/// next, [`BestFirst::passed`] takes those that pass.
struct BestFirst {
    k: usize,
    rows: Vec<(i64, f64)>,
    /// The best `k` rows checked so far that pass, best first.
    passing: Vec<Ranked>,
    /// How many of the best rows have been checked (they are first in `rows`, best first).
    checked: usize,
    /// Where the round under way ends in `rows`.
    end: usize,
    /// The next round ends at this many rows.
    depth: usize,
}

impl BestFirst {
    fn new(k: usize, rows: Vec<(i64, f64)>) -> Self {
        let depth = usize::try_from(sorted_depth(k)).unwrap_or(usize::MAX);
        Self { k, rows, passing: Vec::new(), checked: 0, end: 0, depth }
    }

    fn by_rank(a: &(i64, f64), b: &(i64, f64)) -> std::cmp::Ordering {
        a.1.total_cmp(&b.1).then(a.0.cmp(&b.0))
    }

    /// The next round's rows, best first: the best unchecked ones, up to the round's depth
    /// (none when every row is checked).
    fn round(&mut self) -> &[(i64, f64)] {
        let (checked, end) = (self.checked, self.depth.min(self.rows.len()).max(self.checked));
        if let Some(unchecked) = self.rows.get_mut(checked..)
            && end < checked + unchecked.len()
        {
            // Puts the best of the unchecked rows before `end`, and the next best at `end`.
            unchecked.select_nth_unstable_by(end - checked, Self::by_rank);
        }
        let round = self.rows.get_mut(checked..end).unwrap_or_default();
        round.sort_unstable_by(Self::by_rank);
        self.end = end;
        round
    }

    /// Takes the rows of the round that passed the filters (`ids`: their TEXT ids by rowid);
    /// whether that settles the top `k`.
    fn passed(&mut self, ids: &HashMap<i64, String>) -> bool {
        let round = self.rows.get(self.checked..self.end).unwrap_or_default();
        self.passing.extend(
            round
                .iter()
                .filter_map(|&(rowid, rank)| Some(Ranked { id: ids.get(&rowid)?.clone(), rowid, rank })),
        );
        self.passing.sort_by(|a, b| a.rank.total_cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
        self.passing.truncate(self.k);
        self.checked = self.end;
        self.depth = self.depth.saturating_mul(4);
        self.settled()
    }

    /// Whether the top `k` is known: every row is checked, or `k` rows pass and the best
    /// unchecked row scores worse than the `k`-th.
    fn settled(&self) -> bool {
        let Some(next) = self.rows.get(self.checked) else { return true };
        let kth = self.k.checked_sub(1).and_then(|i| self.passing.get(i));
        kth.is_some_and(|kth| kth.rank < next.1)
    }

    /// The top `k`, best first.
    fn into_ranked(self) -> Vec<Ranked> {
        self.passing
    }
}

/// Steps 1 to 5 of the module doc; `None` when they do not apply or would not gain.
async fn pruned(conn: &mut SqliteConnection, target: &Target<'_>) -> Result<Option<Vec<Ranked>>> {
    let table = index_name(target.kind);
    let Some(flat) = FlatOr::parse(target.expr.as_str()) else { return Ok(None) };
    if flat.phrases.len() < 2 {
        return Ok(None);
    }
    let rows = row_count(conn, table).await?;
    let mut phrases = Vec::with_capacity(flat.phrases.len());
    for (text, occurrences) in &flat.phrases {
        // Counting stops at half the rows: from there on, FTS5's idf is its floor.
        let docs: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ?1 LIMIT ?2)"
        )))
        .bind(text)
        .bind((rows + 1) / 2)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| FtsError::sqlx(table, e))?;
        let bound = f64::from(*occurrences) * idf(rows, docs) * (K1 + 1.0);
        phrases.push(Phrase { text: text.clone(), occurrences: *occurrences, docs, bound });
    }
    let matches: i64 = phrases.iter().map(|p| p.docs).sum();
    if matches <= target.prune_above {
        debug!(table, matches, "top-k: few matches, plain statement");
        return Ok(None);
    }
    // Present phrases, rarest (highest bound) first.
    phrases.retain(|p| p.docs > 0);
    phrases.sort_by(|a, b| b.bound.total_cmp(&a.bound));
    for split in splits(&phrases, matches / CANDIDATE_SHARE) {
        if let Some(top) = with_essential(conn, target, &flat, &phrases, split).await? {
            return Ok(Some(top));
        }
    }
    debug!(table, matches, "top-k: no essential split proves the top k, plain statement");
    Ok(None)
}

/// The splits worth trying, as counts of essential (rarest) phrases: the smallest one whose
/// phrases could outscore every row made of the other phrases alone, and the largest one whose
/// rows fit in `budget` (the rows [`with_essential`] scores), if it differs.
fn splits(phrases: &[Phrase], budget: i64) -> Vec<usize> {
    let affordable = (1..=phrases.len())
        .take_while(|&split| phrases[..split].iter().map(|p| p.docs).sum::<i64>() <= budget)
        .filter(|&split| bound_sum(&phrases[..split]) > bound_sum(&phrases[split..]));
    let mut splits: Vec<usize> = affordable.collect();
    if splits.len() > 2 {
        splits.drain(1..splits.len() - 1);
    }
    splits
}

/// The sum of the bounds of `phrases`.
fn bound_sum(phrases: &[Phrase]) -> f64 {
    phrases.iter().map(|p| p.bound).sum()
}

/// `phrases` OR-ed, each as often as the query has it (so `bm25()` sums what the query's does).
fn any_of(phrases: &[Phrase]) -> String {
    let each = phrases.iter().flat_map(|p| std::iter::repeat_n(p.text.as_str(), p.occurrences as usize));
    each.collect::<Vec<_>>().join(" OR ")
}

/// Steps 2 to 5 of the module doc for the `split` rarest phrases as the essential ones; `None`
/// when the rows holding only the other phrases cannot be ruled out.
async fn with_essential(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
    flat: &FlatOr,
    phrases: &[Phrase],
    split: usize,
) -> Result<Option<Vec<Ranked>>> {
    let table = index_name(target.kind);
    let (essential, rest) = phrases.split_at(split);
    let rest_bound = bound_sum(rest);
    let essential_expr = any_of(essential);
    // Step 2: every row holding an essential phrase, with those phrases' share of its score
    // (`bm25()` of the essential phrases alone; lower is better), best first.
    let mut partial = scored_rows(conn, target, &flat.with_exclusions(&essential_expr)).await?;
    partial.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Step 3: the k-th best share among the rows that pass the filters is a lower bound of the
    // k-th best full score. The filters are checked on the best rows first.
    let head = partial.len().min(usize::try_from(sorted_depth(target.k)).unwrap_or(usize::MAX));
    let mut passing = filtered(conn, target, &partial[..head]).await?;
    let mut checked = head;
    let kth = |passing: &HashMap<i64, String>| {
        partial.iter().filter(|(rowid, _)| passing.contains_key(rowid)).nth(target.k - 1).map(|(_, r)| -r)
    };
    let mut theta = kth(&passing);
    if theta.is_none() && checked < partial.len() {
        passing.extend(filtered(conn, target, &partial[checked..]).await?);
        checked = partial.len();
        theta = kth(&passing);
    }
    let Some(theta) = theta else {
        debug!(table, split, essential_rows = partial.len(), "top-k: fewer than k essential rows pass");
        return Ok(None);
    };
    // A row without an essential phrase scores at most `rest_bound`.
    if theta <= rest_bound {
        debug!(table, split, theta, rest_bound, "top-k: the other phrases could reach the top k");
        return Ok(None);
    }
    // Step 4: the candidates are the essential rows that could still reach theta.
    let candidates = partial.partition_point(|(_, r)| -r + rest_bound > theta);
    if candidates > checked {
        passing.extend(filtered(conn, target, &partial[checked..candidates]).await?);
    }
    // Step 5: their full scores. A candidate holding one of the other phrases gets its score
    // from `(essential) AND (others)` (every phrase of the query once more, so that is its
    // `bm25()` for the query); one holding none already has it.
    let full: HashMap<i64, f64> = if rest.is_empty() {
        HashMap::new()
    } else {
        let expr = flat.with_exclusions(&format!("({essential_expr}) AND ({})", any_of(rest)));
        scored_rows(conn, target, &expr).await?.into_iter().collect()
    };
    debug!(
        table,
        split,
        theta,
        rest_bound,
        essential_rows = partial.len(),
        candidates,
        rescored = full.len(),
        "top-k: pruned"
    );
    let mut ranked: Vec<Ranked> = partial[..candidates]
        .iter()
        .filter_map(|&(rowid, rank)| {
            let id = passing.remove(&rowid)?;
            Some(Ranked { id, rowid, rank: full.get(&rowid).copied().unwrap_or(rank) })
        })
        .collect();
    ranked.sort_by(|a, b| a.rank.total_cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
    ranked.truncate(target.k);
    Ok(Some(ranked))
}

/// The rows of `rows` (rowid first) that pass the target's filters, with their TEXT ids.
async fn filtered(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
    rows: &[(i64, f64)],
) -> Result<HashMap<i64, String>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let (table, sql) = filter_sql(target);
    let (Json(passing),): (Json<Vec<(i64, String)>>,) =
        bind_filters(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(rowids_of(rows)), target)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| FtsError::sqlx(table, e))?;
    Ok(passing.into_iter().collect())
}

/// [`filtered`] (even for no rows) and the [`Snapshot`] it ran at, in one statement: the filter
/// statement as a subquery, then [`Snapshot::columns`], all read at the statement's snapshot.
async fn filtered_at_snapshot(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
    rows: &[(i64, f64)],
) -> Result<(HashMap<i64, String>, Snapshot)> {
    let (table, sql) = filter_sql(target);
    let sql = format!("SELECT ({sql}), {}", Snapshot::columns(table));
    let (project, episode_types) = filter_args(target);
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(rowids_of(rows))
        .bind(project)
        .bind(episode_types)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| FtsError::sqlx(table, e))?;
    let Json(passing): Json<Vec<(i64, String)>> = row.try_get(0).map_err(|e| FtsError::sqlx(table, e))?;
    Ok((passing.into_iter().collect(), Snapshot::from_row(&row, 1, table)?))
}

/// The statement of [`filtered`], on `target`'s index (returned first): one row, a JSON array of
/// `[rowid, id]` of the rows of `?1` (a JSON array of rowids) that pass the filters (`?2`, `?3`:
/// [`bind_filters`]). One row, because sqlx hands each row of a result from the connection's
/// thread over on its own, a wake-up of the reading task each.
fn filter_sql(target: &Target<'_>) -> (&'static str, String) {
    let SqlParts { table, base, id, filters, .. } = sql_parts(target);
    let sql = format!(
        "SELECT json_group_array(json_array(s.rowid, {id})) FROM {base} AS s \
         WHERE s.rowid IN (SELECT value FROM json_each(?1)) AND {filters}"
    );
    (table, sql)
}

/// The rowids of `rows`, as JSON.
fn rowids_of(rows: &[(i64, f64)]) -> Json<Vec<i64>> {
    Json(rows.iter().map(|(rowid, _)| *rowid).collect())
}

/// One distinct phrase of the query.
#[derive(Debug, Clone)]
struct Phrase {
    /// The phrase as FTS5 syntax (`"a b"`, `"pre" *`).
    text: String,
    /// How often the query has it.
    occurrences: u32,
    /// Rows that hold it.
    docs: i64,
    /// Upper bound of its share of a row's score (times its occurrences in the query).
    bound: f64,
}

/// A flat OR expression: its phrases (with how often each occurs, and in which order) and its
/// exclusions.
#[derive(Debug, Clone, PartialEq)]
struct FlatOr {
    phrases: Vec<(String, u32)>,
    /// The phrases in the order of the expression, as indexes into `phrases`.
    sequence: Vec<usize>,
    excluded: Option<String>,
}

impl FlatOr {
    /// `expr` as phrases joined by `OR` (parentheses allowed), optionally `(…) NOT (…)`;
    /// `None` for anything else (`AND`).
    fn parse(expr: &str) -> Option<Self> {
        let (positive, excluded) = match expr.find(") NOT (") {
            Some(at) => (expr.get(1..at)?, Some(expr.get(at + 7..expr.len() - 1)?.to_owned())),
            None => (expr, None),
        };
        let (phrases, sequence) = phrases_of(positive)?;
        Some(Self { phrases, sequence, excluded })
    }

    /// The distinct excluded phrases.
    fn excluded_phrases(&self) -> Option<Vec<String>> {
        match &self.excluded {
            Some(excluded) => Some(phrases_of(excluded)?.0.into_iter().map(|(p, _)| p).collect()),
            None => Some(Vec::new()),
        }
    }

    /// `positive` with the exclusions of this expression.
    fn with_exclusions(&self, positive: &str) -> String {
        match &self.excluded {
            Some(excluded) => format!("({positive}) NOT ({excluded})"),
            None => positive.to_owned(),
        }
    }
}

/// Distinct phrases with their counts, and the order of their occurrences.
type Phrases = (Vec<(String, u32)>, Vec<usize>);

/// The distinct phrases of `expr`, phrases joined by `OR` (parentheses allowed), with how often
/// each occurs, and the order of the occurrences (indexes into the phrases); `None` when `expr`
/// is anything else.
fn phrases_of(expr: &str) -> Option<Phrases> {
    let (mut phrases, mut sequence): (Vec<(String, u32)>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut rest = expr;
    loop {
        rest = rest.trim_start_matches([' ', '(', ')']);
        if let Some(after) = rest.strip_prefix("OR ") {
            rest = after;
            continue;
        }
        let Some(after) = rest.strip_prefix('"') else { break };
        let close = after.find('"')?;
        let mut end = close + 2;
        if rest[end..].starts_with(" *") {
            end += 2;
        }
        let phrase = &rest[..end];
        let i = phrases.iter().position(|(p, _)| p == phrase).unwrap_or_else(|| {
            phrases.push((phrase.to_owned(), 0));
            phrases.len() - 1
        });
        if let Some((_, n)) = phrases.get_mut(i) {
            *n += 1;
        }
        sequence.push(i);
        rest = &rest[end..];
    }
    (rest.is_empty() && !phrases.is_empty()).then_some((phrases, sequence))
}

/// FTS5's idf: `ln((N − n + 0.5) / (n + 0.5))`, at least 1e-6.
fn idf(rows: i64, docs: i64) -> f64 {
    let idf = ((rows - docs) as f64 + 0.5).ln() - (docs as f64 + 0.5).ln();
    if idf <= 0.0 { 1e-6 } else { idf }
}

/// The index's row count, from FTS5's averages record (what `bm25()` uses as `N`).
async fn row_count(conn: &mut SqliteConnection, table: &'static str) -> Result<i64> {
    let block: Option<Vec<u8>> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT block FROM {table}_data WHERE id = 1")))
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| FtsError::sqlx(table, e))?;
    Ok(block.as_deref().and_then(varint).map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)))
}

/// SQLite's variable-length integer at the start of `bytes`.
fn varint(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Some((value << 8) | u64::from(byte));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Rows ranked before the filters: the best [`sorted_depth`] matches by `bm25()` alone (no
/// join per match), then the filters on just those. When at least `k` of them pass with a
/// score strictly better than the last of the depth, they are the exact top `k`: every row
/// after it scores no better. Otherwise (selective filters) `None`.
async fn sorted_then_filtered(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
) -> Result<Option<Vec<Ranked>>> {
    let SqlParts { table, base, weights, id, filters } = sql_parts(target);
    let depth = sorted_depth(target.k);
    let sql = format!(
        "SELECT top.rowid, {id}, top.r, coalesce({filters}, 0) FROM (SELECT rowid, bm25({table}, {weights}) AS r \
         FROM {table} WHERE {table} MATCH ?1 ORDER BY r LIMIT ?4) AS top \
         LEFT JOIN {base} AS s ON s.rowid = top.rowid"
    );
    let rows: Vec<(i64, Option<String>, f64, bool)> =
        bind_filters(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(target.expr.as_str()), target)
            .bind(depth)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| FtsError::sqlx(table, e))?;
    let complete = rows.len() < usize::try_from(depth).unwrap_or(usize::MAX);
    let last = rows.last().map_or(f64::INFINITY, |(_, _, rank, _)| *rank);
    let mut ranked: Vec<Ranked> = rows
        .into_iter()
        .filter(|(_, _, rank, pass)| *pass && (complete || *rank < last))
        .filter_map(|(rowid, id, rank, _)| Some(Ranked { id: id?, rowid, rank }))
        .collect();
    if !complete && ranked.len() < target.k {
        debug!(table, passed = ranked.len(), "top-k: filters too selective, plain statement");
        return Ok(None);
    }
    ranked.sort_by(|a, b| a.rank.total_cmp(&b.rank).then_with(|| a.id.cmp(&b.id)));
    ranked.truncate(target.k);
    Ok(Some(ranked))
}

/// How many rows [`sorted_then_filtered`] ranks before filtering, for `k` wanted.
fn sorted_depth(k: usize) -> i64 {
    i64::try_from(k.saturating_mul(2).saturating_add(20)).unwrap_or(i64::MAX)
}

/// The SQL pieces of `target`'s statements (see [`SqlParts`]).
fn sql_parts(target: &Target<'_>) -> SqlParts {
    let weights = target.weights.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(", ");
    let (id, filters) = match target.kind {
        SourceKind::Episode => (
            "s.id",
            "((?2 IS NULL OR s.project_id = ?2) AND (?3 IS NULL OR s.type IN (SELECT value FROM json_each(?3))))",
        ),
        SourceKind::TranscriptEntry => (
            "s.transcript_id || '#' || s.seq",
            "((?2 IS NULL OR s.transcript_id IN (SELECT id FROM transcripts WHERE project_id = ?2)) AND ?3 IS NULL)",
        ),
        SourceKind::CodeChunk | SourceKind::Requirement | SourceKind::Task => {
            ("s.id", "((?2 IS NULL OR s.project_id = ?2) AND ?3 IS NULL)")
        }
    };
    SqlParts { table: index_name(target.kind), base: target.kind.table(), weights, id, filters }
}

/// What the statements of one target interpolate: only names from [`index_name`] and
/// [`SourceKind::table`], formatted weights, and the fixed expressions below.
struct SqlParts {
    /// The FTS5 index.
    table: &'static str,
    /// Its base table (alias `s`).
    base: &'static str,
    /// The `bm25()` weight arguments.
    weights: String,
    /// The row's TEXT id, from `s`.
    id: &'static str,
    /// The filters on `s` (binding `?2` project and `?3` episode types).
    filters: &'static str,
}

/// Binds `?2` and `?3` of [`sql_parts`]' filters.
fn bind_filters<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments>,
    target: &Target<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments> {
    let (project, episode_types) = filter_args(target);
    query.bind(project).bind(episode_types)
}

/// `?2` and `?3` of [`sql_parts`]' filters: the project, and the episode types (episodes index
/// only, `NULL` for all).
fn filter_args<'q>(target: &Target<'q>) -> (Option<&'q str>, Option<Json<&'q [EpisodeType]>>) {
    let episode_types = target.episode_types.filter(|t| !t.is_empty() && target.kind == SourceKind::Episode);
    (target.project, episode_types.map(Json))
}

/// `(rowid, bm25)` of every row matching `expr`, no filters.
async fn scored_rows(
    conn: &mut SqliteConnection,
    target: &Target<'_>,
    expr: &str,
) -> Result<Vec<(i64, f64)>> {
    let table = index_name(target.kind);
    let weights = target.weights.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(", ");
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT rowid, bm25({table}, {weights}) FROM {table} WHERE {table} MATCH ?1"
    )))
    .bind(expr)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| FtsError::sqlx(table, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_or_expressions_are_split_into_counted_phrases() {
        let flat = FlatOr::parse(r#""query rs" OR "query" OR ("a b" OR "a B") OR "query" OR "pre" *"#);
        let phrases = flat.as_ref().map(|f| f.phrases.clone());
        assert_eq!(
            phrases,
            Some(vec![
                (r#""query rs""#.to_owned(), 1),
                (r#""query""#.to_owned(), 2),
                (r#""a b""#.to_owned(), 1),
                (r#""a B""#.to_owned(), 1),
                (r#""pre" *"#.to_owned(), 1),
            ])
        );
        let excluded = FlatOr::parse(r#"("a" OR "b") NOT ("c" OR "d e")"#);
        assert_eq!(excluded.and_then(|f| f.excluded), Some(r#""c" OR "d e""#.to_owned()));
        assert_eq!(FlatOr::parse(r#"("a" AND "b")"#), None);
        assert_eq!(FlatOr::parse(r#""a" AND "b""#), None);
    }

    #[test]
    fn varints_decode_like_sqlite() {
        assert_eq!(varint(&[0x05]), Some(5));
        assert_eq!(varint(&[0x81, 0x00]), Some(128));
        assert_eq!(varint(&[0x86, 0x8d, 0x20]), Some(100_000));
        assert_eq!(varint(&[0x80]), None);
    }

    #[test]
    fn splits_start_where_the_rare_phrases_can_outscore_the_rest() {
        let p = |text: &str, docs: i64, bound: f64| Phrase { text: text.into(), occurrences: 1, docs, bound };
        let phrases =
            [p("\"a\"", 10, 6.0), p("\"b\"", 100, 4.0), p("\"c\"", 1_000, 3.0), p("\"d\"", 9_000, 0.5)];
        // "a" alone (6) cannot outscore b + c + d (7.5); a + b (10) can outscore c + d.
        assert_eq!(splits(&phrases, 10_000), vec![2, 3]);
        assert_eq!(splits(&phrases, 500), vec![2]);
        assert_eq!(splits(&phrases, 50), Vec::<usize>::new());
        assert_eq!(splits(&phrases, 20_000), vec![2, 4]);
        assert_eq!(
            any_of(&[Phrase { occurrences: 2, ..phrases[0].clone() }, phrases[1].clone()]),
            r#""a" OR "a" OR "b""#
        );
    }

    /// A skewed vocabulary of 400 made-up words: the first ones are in most rows.
    struct Words {
        rng: nexus_testkit::Rng,
        words: Vec<String>,
    }

    impl Words {
        fn new(seed: u64) -> Self {
            let mut rng = nexus_testkit::Rng::new(seed);
            let words = (0..400).map(|i| format!("{}{i}", rng.word(3))).collect();
            Self { rng, words }
        }

        fn word(&mut self) -> String {
            let u = self.rng.unit();
            self.words[((u * u * u) * self.words.len() as f64) as usize].clone()
        }

        fn pascal(&mut self) -> String {
            let (a, b) = (self.word(), self.word());
            let upper = |w: &str| w[..1].to_ascii_uppercase() + &w[1..];
            upper(&a) + &upper(&b)
        }

        fn chunk(&mut self, project: &str, n: usize) -> nexus_db::code_chunks::NewCodeChunk {
            let (function, ty) = (format!("{}_{}", self.word(), self.word()), self.pascal());
            let mut content = format!("pub fn {function}(x: {ty}) {{\n");
            for _ in 0..3 + self.rng.below(10) {
                content += &format!("    {}.{}({});\n", self.word(), self.word(), self.pascal());
            }
            nexus_db::code_chunks::NewCodeChunk {
                id: None,
                project_id: project.into(),
                file: format!("src/{}/{}.rs", self.word(), self.word()),
                start_line: 1,
                end_line: 20,
                content,
                symbols: vec![function, ty],
                chunk_type: "function".into(),
                language: "rust".into(),
                complexity: None,
                hash: format!("{n:x}"),
                context: None,
                signature: None,
            }
        }

        fn query(&mut self, i: usize) -> String {
            match i % 6 {
                0 => format!("{} {}", self.word(), self.word()),
                1 => format!("{}_{}", self.word(), self.word()),
                2 => format!("{} {} -{}", self.word(), self.word(), self.word()),
                3 => format!("{} {}", self.pascal(), self.word()),
                4 => format!("{}.rs {}", self.word(), self.word()),
                _ => format!("{} {} {}", self.word(), self.word(), self.word()),
            }
        }
    }

    /// Weights under which these synthetic chunks' common words make most queries prunable:
    /// the body counts fully (with the default code weights, where it counts a tenth, the
    /// rare words of names and paths dominate and fewer queries have a threshold to prune at).
    fn body_weights() -> crate::FieldWeights {
        crate::FieldWeights { code_content: 1.0, code_identifiers: 0.5, ..crate::FieldWeights::default() }
    }

    /// FTS5's own ranking: every match scored, `ORDER BY` bm25, then id.
    async fn exact(
        db: &nexus_db::Db,
        expr: &MatchExpression,
        project: &str,
        k: i64,
    ) -> Result<Vec<(String, f64)>> {
        let weights = body_weights().of(SourceKind::CodeChunk);
        let weights = weights.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(", ");
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, bm25(code_chunks_fts, {weights}) AS r FROM code_chunks_fts \
             CROSS JOIN code_chunks AS c ON c.rowid = code_chunks_fts.rowid \
             WHERE code_chunks_fts MATCH ?1 AND c.project_id = ?2 ORDER BY r, c.id LIMIT ?3"
        )))
        .bind(expr.as_str())
        .bind(project)
        .bind(k)
        .fetch_all(db.reader())
        .await
        .map_err(|e| FtsError::sqlx("test", e))
    }

    /// The same rows in the same order as `expected`, except that rows whose scores tie (to
    /// rounding) with another row's, or with the k-th, may trade places.
    fn assert_same_ranking(query: &str, got: &[(String, f64)], expected: &[(String, f64)]) {
        assert_eq!(got.len(), expected.len(), "{query}: {got:?} vs {expected:?}");
        let last = expected.last().map_or(0.0, |(_, r)| *r);
        for (i, ((id, rank), (want_id, want_rank))) in got.iter().zip(expected).enumerate() {
            assert!((rank - want_rank).abs() < 1e-9, "{query}: rank {i}: {got:?} vs {expected:?}");
            let tied = expected.iter().enumerate().any(|(j, (_, r))| j != i && (r - want_rank).abs() < 1e-9)
                || (want_rank - last).abs() < 1e-9;
            assert!(tied || id == want_id, "{query}: row {i}: {got:?} vs {expected:?}");
        }
    }

    #[tokio::test]
    async fn pruned_top_k_is_the_exact_bm25_top_k() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let temp = nexus_testkit::TempDb::new().await?;
        let db = temp.db();
        let (mine, other) =
            (nexus_testkit::project(db, "mine").await?, nexus_testkit::project(db, "other").await?);
        let mut words = Words::new(20);
        let mut tx = db.begin().await?;
        for n in 0..2_400 {
            let project = if n % 6 == 5 { &other } else { &mine };
            nexus_db::code_chunks::create(&mut *tx, words.chunk(project, n)).await?;
        }
        tx.commit().await?;
        let weights = body_weights().of(SourceKind::CodeChunk);
        let mut conn = db.reader().acquire().await?;
        let (mut pruned_queries, queries) = ([0, 0], 60);
        let mut texts = Vec::new();
        for i in 0..queries {
            let text = words.query(i);
            texts.push(text.clone());
            let expr = MatchExpression::parse(&text, crate::MatchMode::Any, SourceKind::CodeChunk)?;
            let as_pairs = |top: Vec<Ranked>| -> Vec<(String, f64)> {
                top.into_iter().map(|r| (r.id, r.rank)).collect()
            };
            // Top 10, and a deeper top 40 (as hybrid search's 100 candidates on a larger index).
            for (i, k) in [10, 40].into_iter().enumerate() {
                let expected = exact(db, &expr, &mine, k).await?;
                let target = Target {
                    kind: SourceKind::CodeChunk,
                    expr: &expr,
                    weights: &weights,
                    project: Some(&mine),
                    episode_types: None,
                    k: k as usize,
                    prune_above: 1_000,
                };
                if let Some(top) = pruned(&mut conn, &target).await? {
                    pruned_queries[i] += 1;
                    assert_same_ranking(&text, &as_pairs(top), &expected);
                }
                if let Some(top) = sorted_then_filtered(&mut conn, &target).await? {
                    assert_same_ranking(&text, &as_pairs(top), &expected);
                }
                let top = from_lists(&mut conn, &target).await?;
                assert_same_ranking(&text, &as_pairs(top.ok_or("no score lists")?), &expected);
            }
            // The public search, second page: the same rows as the exact ranking's 6th to 10th;
            // and for the small project, whose rows are rarely among the best of all.
            for (project, offset) in [(&mine, 5), (&other, 0)] {
                let mut query = crate::FtsQuery::new(&text)
                    .project(project)
                    .kinds([SourceKind::CodeChunk])
                    .limit(5)
                    .offset(offset);
                query.weights = body_weights();
                let hits = crate::search(&mut *conn, &query).await?;
                let got: Vec<(String, f64)> = hits.into_iter().map(|h| (h.id, -h.score)).collect();
                let expected = exact(db, &expr, project, 10).await?;
                let page = expected
                    .get(offset as usize..(offset as usize + 5).min(expected.len()))
                    .unwrap_or_default();
                assert_same_ranking(&text, &got, page);
            }
        }
        // Most of these queries have common words: pruning must be what ran (39 of 60 for both
        // depths when written).
        assert!(pruned_queries.iter().all(|&n| n >= queries / 2), "pruned {pruned_queries:?} of {queries}");

        // The score lists again, now from the cache (the loop above filled it): the same rows.
        let hits = crate::cache_stats().hits;
        lists_rank_exactly(db, &mut conn, &texts, &mine).await?;
        assert!(crate::cache_stats().hits > hits, "the second pass used no cached list");
        // Writes change every score (N, the average length, the idf): the next searches must
        // see them.
        sqlx::query("DELETE FROM code_chunks WHERE rowid % 7 = 0").execute(db.writer()).await?;
        let mut tx = db.begin().await?;
        for n in 0..30 {
            nexus_db::code_chunks::create(&mut *tx, words.chunk(&mine, 10_000 + n)).await?;
        }
        tx.commit().await?;
        lists_rank_exactly(db, &mut conn, &texts, &mine).await?;

        // Warming computes the lists of the most frequent terms at the index's version: warming
        // again finds every one of them, the most frequent word is among them whatever its case
        // (lists are keyed by tokens), and the rankings from them are still exact.
        let warmed = crate::warm(db, SourceKind::CodeChunk, &body_weights(), 64).await?;
        assert!(warmed.lists > 0 && warmed.rows >= warmed.lists * crate::warm::WARM_MIN_ROWS, "{warmed:?}");
        let again = crate::warm(db, SourceKind::CodeChunk, &body_weights(), 64).await?;
        assert_eq!(again, crate::Warmed::default(), "warmed twice");
        let snapshot = Snapshot::read(&mut conn, "code_chunks_fts").await?;
        let phrase = format!("\"{}\"", words.words[0].to_uppercase());
        let keys = phrase_key::keys(&[phrase.as_str()]).await?;
        let filled =
            cache::fill(&mut conn, &snapshot, "code_chunks_fts", &weights, (&phrase, &keys[0])).await?;
        assert_eq!(filled, None, "{phrase}: its list was not warmed");
        lists_rank_exactly(db, &mut conn, &texts, &mine).await?;
        Ok(())
    }

    /// [`from_lists`] on `conn` ranks each of `texts` (top 10 of `project`) as FTS5 does.
    async fn lists_rank_exactly(
        db: &nexus_db::Db,
        conn: &mut SqliteConnection,
        texts: &[String],
        project: &str,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let weights = body_weights().of(SourceKind::CodeChunk);
        for text in texts {
            let expr = MatchExpression::parse(text, crate::MatchMode::Any, SourceKind::CodeChunk)?;
            let target = Target {
                kind: SourceKind::CodeChunk,
                expr: &expr,
                weights: &weights,
                project: Some(project),
                episode_types: None,
                k: 10,
                prune_above: 1_000,
            };
            let top = from_lists(conn, &target).await?.ok_or("no score lists")?;
            let got: Vec<(String, f64)> = top.into_iter().map(|r| (r.id, r.rank)).collect();
            let expected = exact(db, &expr, project, 10).await?;
            assert_same_ranking(text, &got, &expected);
            // The terms add up as in `bm25()`: the very same `f64`, not just a close one.
            for ((id, rank), (want_id, want_rank)) in got.iter().zip(&expected) {
                assert!(
                    id != want_id || rank.to_bits() == want_rank.to_bits(),
                    "{text}: {rank} vs {want_rank}"
                );
            }
        }
        Ok(())
    }
}
