//! Search hits for a person (numbered lines) and as JSON, each with the score of the mode
//! that ranked it.

use nexus_search::{Hit, LegScore, SearchResults, Source};
use serde_json::json;

/// Which score a hit is shown with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The fused (RRF) score of a hybrid search.
    Fused,
    /// The keyword leg's BM25 score (higher is better).
    Bm25,
    /// The vector leg's cosine distance (lower is better).
    Distance,
}

/// The hit's score on `scale`, with its label. Leg scores come from the hit's breakdown
/// (the search must run with explain on); without one the fused score is shown.
pub fn score(hit: &Hit, scale: Scale) -> (&'static str, f64) {
    let breakdown = hit.explain.unwrap_or_default();
    match (scale, breakdown.fts, breakdown.vector) {
        (Scale::Bm25, Some(fts), _) => ("bm25", fts.score),
        // The vector leg ranks by negated distance (higher is better).
        (Scale::Distance, _, Some(vector)) => ("distance", -vector.score),
        _ => ("rrf", hit.score),
    }
}

/// Where a hit is: `file:start-end` for code, `kind id` otherwise.
pub fn location(hit: &Hit) -> String {
    match &hit.source {
        Source::CodeChunk(c) => format!("{}:{}-{}", c.file, c.start_line, c.end_line),
        Source::Episode(e) => format!("episode {} ({})", e.id, e.episode_type),
        Source::Requirement(r) => format!("requirement {}", r.id),
        Source::Task(t) => format!("task {} ({})", t.id, t.name),
        Source::TranscriptEntry(e) => format!("transcript {} #{} ({})", e.transcript_id, e.seq, e.role),
    }
}

/// The hit's text for display when there is no snippet: the first lines of its content.
fn preview(hit: &Hit) -> String {
    let text = match &hit.source {
        Source::CodeChunk(c) => &c.content,
        Source::Episode(e) => e.summary.as_ref().unwrap_or(&e.content),
        Source::Requirement(r) => &r.description,
        Source::Task(t) => t.description.as_ref().unwrap_or(&t.name),
        Source::TranscriptEntry(e) => &e.content,
    };
    text.lines().filter(|l| !l.trim().is_empty()).take(2).collect::<Vec<_>>().join(" ⏎ ")
}

/// Prints hits for a person; with `explain`, each leg's rank, score and contribution.
pub fn print(results: &SearchResults, scale: Scale, explain: bool) -> std::io::Result<()> {
    if results.hits.is_empty() {
        return out!("no hits");
    }
    for (i, hit) in results.hits.iter().enumerate() {
        let (label, value) = score(hit, scale);
        out!("{:>2}. {}  {label} {value:.4}", i + 1, location(hit))?;
        let text = hit.snippet.clone().unwrap_or_else(|| preview(hit));
        let text: String = text.replace("<mark>", "[").replace("</mark>", "]").replace('\n', " ");
        out!("    {}", truncate(&text, 160))?;
        if explain && let Some(b) = &hit.explain {
            let leg = |l: Option<LegScore>, what: &str| match l {
                Some(l) => format!("{what} rank {} score {:.4} → {:.5}", l.rank, l.score, l.contribution),
                None => format!("{what} —"),
            };
            out!("    {} | {}", leg(b.fts, "fts"), leg(b.vector, "vector (−distance)"))?;
        }
    }
    Ok(())
}

/// The `--json` form: one object with a `hits` array. Each hit's `score` is on `scale`
/// (named by `score_kind`); `explain` is filled only when asked for.
pub fn to_json(
    query: &str,
    mode: &str,
    scale: Scale,
    results: &SearchResults,
    explain: bool,
) -> serde_json::Value {
    let hits: Vec<serde_json::Value> = results
        .hits
        .iter()
        .map(|hit| {
            let (label, value) = score(hit, scale);
            let mut object = json!({
                "kind": hit.source.kind(),
                "id": hit.source.id(),
                "location": location(hit),
                "score": value,
                "score_kind": label,
                "snippet": hit.snippet,
                "explain": if explain { hit.explain } else { None },
            });
            if let Source::CodeChunk(c) = &hit.source {
                object["file"] = json!(c.file);
                object["start_line"] = json!(c.start_line);
                object["end_line"] = json!(c.end_line);
            }
            object
        })
        .collect();
    json!({ "query": query, "mode": mode, "hits": hits, "next": results.next })
}

/// `text` cut to `max` characters, with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
