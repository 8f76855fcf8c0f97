//! Snippets for large rows, in time linear in the row.
//!
//! FTS5's `snippet()` scores a window at every phrase instance of the row against every other
//! instance (and against every sentence start), so its cost grows with the square of the
//! number of matches: seconds for a one-line 1 MiB file full of `return`. `highlight()` is no
//! way out: it rebuilds its output string on every append, which is quadratic too. So
//! [`crate::search`] leaves rows up to [`FULL_ROW_BYTES`] to `snippet()` (exact FTS5 snippets,
//! bounded cost), and cuts the snippet of a larger row here:
//!
//! 1. The row's snippet columns are cut, in column order, into pieces of at most
//!    [`PIECE_BYTES`] bytes (at whitespace where there is some, always on a char boundary).
//! 2. Pieces are indexed, a few at a time (4, then 8, 16, … up to 64), in a private in-memory
//!    FTS5 table with the same tokenizer as the real indexes, and matched against the query's
//!    positive phrases ([`crate::MatchExpression::highlight_terms`]). In the first batch with a
//!    match, FTS5's own `snippet()` runs on the first [`CANDIDATES`] matching pieces (at most
//!    [`PIECE_BYTES`] of text each), and the window with the best FTS5 score (1000 per distinct
//!    term, 1 per repeat) wins, the earlier one on ties.
//! 3. Ellipses are added where the piece was cut out of a longer text.
//!
//! Every byte is tokenised at most once, and only up to the first piece with a match, so the
//! work is linear in the row (and usually bounded by the first few pieces). The snippet shows
//! the best window among the first matching pieces of a large row rather than FTS5's
//! best-scoring window over the whole row (the same for rows up to 4 pieces with at most 4
//! matching), with the same markers and ellipsis.

use sqlx::SqliteConnection;
use sqlx::types::Json;
use tracing::debug;

use crate::error::{FtsError, Result};
use crate::search::SnippetStyle;

/// Rows whose snippet columns hold at most this many bytes get FTS5's `snippet()` directly.
pub(crate) const FULL_ROW_BYTES: i64 = 4096;

/// The most bytes of one piece of a large row (a piece is cut at whitespace when it can be).
pub(crate) const PIECE_BYTES: usize = 4096;

/// Pieces indexed in the first batch; each next batch is twice as large, up to [`MAX_BATCH`].
const FIRST_BATCH: usize = 4;
const MAX_BATCH: usize = 64;

/// Matching pieces of a batch whose snippets compete for the best window.
const CANDIDATES: i64 = 4;

/// How much work a large-row snippet took (for tests and tracing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Work {
    /// Pieces indexed in the scratch table.
    pub pieces: usize,
    /// Bytes indexed in the scratch table.
    pub bytes: usize,
}

/// One piece of a row: a byte range of one of its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    column: usize,
    start: usize,
    end: usize,
}

/// Cuts `text` into pieces of at most `max` bytes (at least one char each), ending after the
/// last whitespace of a piece when that keeps at least half of it, else on a char boundary.
fn pieces(column: usize, text: &str, max: usize) -> impl Iterator<Item = Piece> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let mut end = (start + max).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end == start {
            // `max` is smaller than this char: take the whole char.
            end = start + text.get(start..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8);
        } else if end < text.len() {
            let half = start + (end - start) / 2;
            if let Some(space) = text.as_bytes()[half..end].iter().rposition(u8::is_ascii_whitespace) {
                end = half + space + 1;
            }
        }
        let piece = Piece { column, start, end };
        start = end;
        Some(piece)
    })
}

/// The first `tokens` words of `text` (a snippet for a row none of whose pieces matches, as when
/// a code chunk matched through its path or symbols only), with `ellipsis` if cut.
fn leading_words(text: &str, tokens: usize, ellipsis: &str) -> String {
    let mut words = 0;
    let mut in_word = false;
    for (at, c) in text.char_indices() {
        let word_char = c.is_alphanumeric();
        if in_word && !word_char && words == tokens {
            return format!("{}{ellipsis}", &text[..at]);
        }
        if word_char && !in_word {
            words += 1;
        }
        in_word = word_char;
    }
    text.to_owned()
}

/// Cuts snippets of large rows; opens its scratch connection on first use.
#[derive(Debug, Default)]
pub(crate) struct LargeRows {
    scratch: Option<SqliteConnection>,
}

impl LargeRows {
    /// The snippet of a row whose snippet columns are `columns` (in index order), for the
    /// positive phrases `terms` (an FTS5 expression), in `style`.
    pub(crate) async fn snippet(
        &mut self,
        columns: &[&str],
        terms: &str,
        style: &SnippetStyle,
    ) -> Result<(String, Work)> {
        let mut conn = match self.scratch.take() {
            Some(conn) => conn,
            None => crate::scratch::connection().await?,
        };
        let cut = cut(&mut conn, columns, terms, style).await;
        // After an error the connection may still be inside a batch's transaction: dropped.
        if cut.is_ok() {
            self.scratch = Some(conn);
        }
        cut
    }
}

/// [`LargeRows::snippet`] on the scratch connection `conn`.
async fn cut(
    conn: &mut SqliteConnection,
    columns: &[&str],
    terms: &str,
    style: &SnippetStyle,
) -> Result<(String, Work)> {
    let tokens = i64::from(style.tokens.clamp(1, 64));
    let mut all = columns.iter().enumerate().flat_map(|(i, text)| pieces(i, text, PIECE_BYTES));
    let mut work = Work::default();
    let mut batch_len = FIRST_BATCH;
    loop {
        let batch: Vec<Piece> = all.by_ref().take(batch_len).collect();
        if batch.is_empty() {
            break;
        }
        let rows: Vec<(usize, &str)> = batch
            .iter()
            .enumerate()
            .map(|(i, piece)| {
                (i, columns.get(piece.column).and_then(|c| c.get(piece.start..piece.end)).unwrap_or(""))
            })
            .collect();
        work.pieces += rows.len();
        work.bytes += rows.iter().map(|(_, text)| text.len()).sum::<usize>();
        // The batch is indexed and matched inside a transaction that is rolled back, which
        // empties the table without FTS5 writing the terms out or tokenizing the pieces again
        // to delete them (as `scratch::snippets` does), all in one hand-off to the connection's
        // thread. The first few matching pieces of the batch compete with FTS5's own window
        // score: 1000 per distinct matched term, 1 per repeat; the earlier piece wins ties.
        let found: Vec<Json<Vec<(usize, String)>>> = sqlx::query_scalar(
            "BEGIN; \
             INSERT INTO piece (rowid, t) SELECT value ->> 0, value ->> 1 FROM json_each(?1); \
             WITH cut AS MATERIALIZED (SELECT rowid AS r, snippet(piece, 0, ?3, ?4, ?5, ?6) AS s \
             FROM piece WHERE piece MATCH ?2 ORDER BY rowid LIMIT ?7) \
             SELECT json_group_array(json_array(r, s)) FROM cut; \
             ROLLBACK",
        )
        .bind(Json(&rows))
        .bind(terms)
        .bind(&style.open)
        .bind(&style.close)
        .bind(&style.ellipsis)
        .bind(tokens)
        .bind(CANDIDATES)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| FtsError::sqlx("snippet scratch", e))?;
        let mut found = found.into_iter().next().map(|Json(found)| found).unwrap_or_default();
        found.sort_by_key(|(i, _)| *i);
        let mut best: Option<(u64, &Piece, String)> = None;
        for (i, snippet) in found {
            let Some(piece) = batch.get(i) else { continue };
            let score = window_score(&snippet, style);
            if best.as_ref().is_none_or(|(top, ..)| score > *top) {
                best = Some((score, piece, snippet));
            }
        }
        if let Some((_, piece, snippet)) = best {
            let len = columns.get(piece.column).map_or(0, |c| c.len());
            debug!(?work, column = piece.column, at = piece.start, "large-row snippet");
            return Ok((with_ellipses(snippet, piece, len, &style.ellipsis), work));
        }
        batch_len = (batch_len * 2).min(MAX_BATCH);
    }
    debug!(?work, "large-row snippet: no piece matches, leading words");
    let first = columns.first().copied().unwrap_or_default();
    Ok((leading_words(first, usize::from(style.tokens.clamp(1, 64)), &style.ellipsis), work))
}

/// FTS5's window score for a marked snippet: 1000 per distinct marked term (case-folded), 1
/// per repeat. Zero when the style's markers are empty (then the first piece wins).
fn window_score(snippet: &str, style: &SnippetStyle) -> u64 {
    if style.open.is_empty() || style.close.is_empty() {
        return 0;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut score = 0;
    for marked in snippet.split(style.open.as_str()).skip(1) {
        let term = marked.split(style.close.as_str()).next().unwrap_or_default().to_lowercase();
        if seen.contains(&term) {
            score += 1;
        } else {
            score += 1000;
            seen.push(term);
        }
    }
    score
}

/// Adds the ellipses FTS5 could not know about: before a snippet that starts at its piece's
/// start when the piece is not the column's start, after one that reaches its piece's end when
/// the piece is not the column's end.
fn with_ellipses(snippet: String, piece: &Piece, column_len: usize, ellipsis: &str) -> String {
    if ellipsis.is_empty() {
        return snippet;
    }
    let mut out = snippet;
    if piece.start > 0 && !out.starts_with(ellipsis) {
        out = format!("{ellipsis}{}", out.trim_start());
    }
    if piece.end < column_len && !out.ends_with(ellipsis) {
        out = format!("{}{ellipsis}", out.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_text_on_char_boundaries() {
        let text = "é".repeat(3000) + " " + &"日本語 ".repeat(2000) + &"x".repeat(9000);
        let all: Vec<Piece> = pieces(0, &text, PIECE_BYTES).collect();
        let mut at = 0;
        for piece in &all {
            assert_eq!(piece.start, at);
            assert!(piece.end > piece.start && piece.end - piece.start <= PIECE_BYTES);
            assert!(text.is_char_boundary(piece.start) && text.is_char_boundary(piece.end));
            at = piece.end;
        }
        assert_eq!(at, text.len());
        // Where there is whitespace, pieces end right after it.
        assert!(all.iter().filter(|p| p.end < text.len()).any(|p| text.as_bytes()[p.end - 1] == b' '));
        // A limit smaller than a char still makes progress.
        assert_eq!(pieces(0, "日本", 1).count(), 2);
    }

    #[test]
    fn leading_words_cut_after_n_words() {
        assert_eq!(leading_words("one, two; three four", 2, "…"), "one, two…");
        assert_eq!(leading_words("naïve café", 5, "…"), "naïve café");
        assert_eq!(leading_words("日本 語", 1, "…"), "日本…");
    }

    #[test]
    fn ellipses_mark_cut_ends_only() {
        let piece = Piece { column: 0, start: 10, end: 20 };
        assert_eq!(with_ellipses(" a <b>x</b> ".into(), &piece, 30, "…"), "…a <b>x</b>…");
        assert_eq!(with_ellipses("…a x…".into(), &piece, 30, "…"), "…a x…");
        let whole = Piece { column: 0, start: 0, end: 30 };
        assert_eq!(with_ellipses("a x".into(), &whole, 30, "…"), "a x");
    }

    #[test]
    fn window_score_counts_distinct_terms_first() {
        let style = SnippetStyle::default();
        assert_eq!(window_score("<mark>a</mark> x <mark>A</mark> <mark>b</mark>", &style), 2001);
        assert_eq!(window_score("no marks", &style), 0);
        let bare = SnippetStyle { open: String::new(), ..SnippetStyle::default() };
        assert_eq!(window_score("<mark>a</mark>", &bare), 0);
    }

    #[tokio::test]
    async fn the_best_of_the_first_matching_pieces_wins() -> Result<()> {
        let style = SnippetStyle::default();
        let filler = |word: &str| format!("{word} ") + &"filler text here ".repeat(240);
        // Piece 1 has one of the words, piece 2 both, piece 3 one again.
        let text = filler("checkpoint") + &filler("checkpoint retry") + &filler("retry");
        let (snippet, _) =
            LargeRows::default().snippet(&[&text], "\"checkpoint\" OR \"retry\"", &style).await?;
        assert!(snippet.starts_with("…<mark>checkpoint</mark> <mark>retry</mark>"), "{snippet}");
        Ok(())
    }

    /// Each batch is rolled back: the same snippet twice on one scratch connection (a piece
    /// left behind would collide with the next batch's rowids), the `piece` table empty and no
    /// transaction open after it; a failed batch drops the connection, the next call works.
    #[tokio::test]
    async fn batches_leave_the_piece_table_empty() -> Result<()> {
        let style = SnippetStyle::default();
        let mut large = LargeRows::default();
        let text = "plain words without it ".repeat(2_000) + "and the needle at last";
        for _ in 0..2 {
            let (snippet, work) = large.snippet(&[&text], "\"needle\"", &style).await?;
            assert!(snippet.contains("<mark>needle</mark>") && work.pieces > FIRST_BATCH, "{snippet}");
            let Some(conn) = large.scratch.as_mut() else { panic!("the scratch connection is kept") };
            let err = |e| FtsError::sqlx("test", e);
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM piece").fetch_one(&mut *conn).await.map_err(err)?;
            assert_eq!(left, 0);
            sqlx::query("BEGIN").execute(&mut *conn).await.map_err(err)?;
            sqlx::query("ROLLBACK").execute(&mut *conn).await.map_err(err)?;
        }
        assert!(large.snippet(&[&text], "\"unclosed", &style).await.is_err());
        assert!(large.scratch.is_none(), "the failed batch's connection is not kept");
        let (snippet, _) = large.snippet(&[&text], "\"needle\"", &style).await?;
        assert!(snippet.contains("<mark>needle</mark>"), "{snippet}");
        Ok(())
    }

    #[tokio::test]
    async fn a_large_row_costs_the_pieces_up_to_its_first_match() -> Result<()> {
        let style = SnippetStyle::default();
        let mut large = LargeRows::default();
        // A match in the first piece: one batch, whatever the row's size.
        let text = "let v = f(x); if v > 0 { return v; } ".repeat(30_000);
        let (snippet, work) = large.snippet(&[&text], "\"return\"", &style).await?;
        assert!(snippet.contains("<mark>return</mark>"), "{snippet}");
        assert!(snippet.ends_with('…') && snippet.len() < 400, "{snippet}");
        assert_eq!(work.pieces, FIRST_BATCH);
        // A match only at the very end: every byte indexed once, no more.
        let text = "plain words without it ".repeat(50_000) + "and the needle at last";
        let (snippet, work) = large.snippet(&[&text], "\"needl\"*", &style).await?;
        assert!(snippet.starts_with('…') && snippet.contains("<mark>needle</mark>"), "{snippet}");
        assert_eq!(work.bytes, text.len());
        // Nothing matches: the leading words, every piece indexed once.
        let (snippet, work) = large.snippet(&[&text, "summary"], "\"absent\"", &style).await?;
        assert!(snippet.starts_with("plain words") && snippet.ends_with('…'), "{snippet}");
        assert_eq!(work.bytes, text.len() + "summary".len());
        // The second column is searched after the first.
        let (snippet, _) =
            large.snippet(&[&text, "a summary, absent elsewhere"], "\"absent\"", &style).await?;
        assert_eq!(snippet, "a summary, <mark>absent</mark> elsewhere");
        Ok(())
    }
}
