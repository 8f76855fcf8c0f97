//! How results and errors are printed.

use nexus_search::{Hit, SearchResults, Source};
use serde_json::json;

/// An error as one line: its message, then its causes where they add something.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace('\n', " ")
}

/// Where a hit is: `file:start-end` for code, `kind id` otherwise.
pub fn location(hit: &Hit) -> String {
    match &hit.source {
        Source::CodeChunk(c) => format!("{}:{}-{}", c.file, c.start_line, c.end_line),
        Source::Episode(e) => format!("episode {} ({})", e.id, e.episode_type),
        Source::Requirement(r) => format!("requirement {}", r.id),
        Source::Task(t) => format!("task {} ({})", t.id, t.name),
    }
}

/// The hit's text for display when there is no snippet: the first lines of its content.
fn preview(hit: &Hit) -> String {
    let text = match &hit.source {
        Source::CodeChunk(c) => &c.content,
        Source::Episode(e) => e.summary.as_ref().unwrap_or(&e.content),
        Source::Requirement(r) => &r.description,
        Source::Task(t) => t.description.as_ref().unwrap_or(&t.name),
    };
    text.lines().filter(|l| !l.trim().is_empty()).take(2).collect::<Vec<_>>().join(" ⏎ ")
}

/// Prints hits for a person.
pub fn print_hits(results: &SearchResults, explain: bool) -> std::io::Result<()> {
    if results.hits.is_empty() {
        return out!("no hits");
    }
    for (i, hit) in results.hits.iter().enumerate() {
        out!("{:>2}. {}  score {:.4}", i + 1, location(hit), hit.score)?;
        let text = hit.snippet.clone().unwrap_or_else(|| preview(hit));
        let text: String = text.replace("<mark>", "[").replace("</mark>", "]").replace('\n', " ");
        out!("    {}", truncate(&text, 160))?;
        if explain && let Some(b) = &hit.explain {
            let leg = |l: Option<nexus_search::LegScore>, what: &str| match l {
                Some(l) => format!("{what} rank {} score {:.4} → {:.5}", l.rank, l.score, l.contribution),
                None => format!("{what} —"),
            };
            out!("    {} | {}", leg(b.fts, "fts"), leg(b.vector, "vector (−distance)"))?;
        }
    }
    Ok(())
}

/// The `--json` form: one object with a `hits` array.
pub fn hits_json(query: &str, mode: &str, results: &SearchResults) -> serde_json::Value {
    let hits: Vec<serde_json::Value> = results
        .hits
        .iter()
        .map(|hit| {
            let mut value = json!({
                "kind": hit.source.kind(),
                "id": hit.source.id(),
                "location": location(hit),
                "score": hit.score,
                "snippet": hit.snippet,
                "explain": hit.explain,
            });
            if let Source::CodeChunk(c) = &hit.source {
                value["file"] = json!(c.file);
                value["start_line"] = json!(c.start_line);
                value["end_line"] = json!(c.end_line);
            }
            value
        })
        .collect();
    json!({ "query": query, "mode": mode, "hits": hits, "next": results.next })
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
