//! History exports: entries rendered as JSON (an array of the rows), Markdown (one section per
//! entry: title, tags, date, report) or CSV (id, session, title, tags, created_at, report; via
//! the `csv` crate, so quoting is right).

use nexus_db::history::HistoryEntry;

use crate::error::{Result, ServerError};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array.
    Json,
    /// Markdown.
    Markdown,
    /// CSV with a header row.
    Csv,
}

impl Format {
    /// `json` (default), `md`/`markdown` or `csv`.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        match text {
            None | Some("json") => Ok(Self::Json),
            Some("md" | "markdown") => Ok(Self::Markdown),
            Some("csv") => Ok(Self::Csv),
            Some(other) => {
                Err(ServerError::BadRequest(format!("format must be json, md or csv, not {other:?}")))
            }
        }
    }

    /// The media type of the rendered export.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// `entries` rendered in `format`.
pub fn render(format: Format, entries: &[HistoryEntry]) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(entries).map_err(|e| ServerError::Export(e.to_string())),
        Format::Markdown => Ok(markdown(entries)),
        Format::Csv => csv(entries),
    }
}

fn markdown(entries: &[HistoryEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&format!("# {}\n\n", entry.title.trim()));
        if !entry.tags.is_empty() {
            out.push_str(&format!("Tags: {}\n\n", entry.tags.join(", ")));
        }
        out.push_str(&format!("Created: {} (id {})\n\n", entry.created_at.as_millis(), entry.id));
        out.push_str(entry.report.trim_end());
        out.push_str("\n\n");
    }
    out
}

fn csv(entries: &[HistoryEntry]) -> Result<String> {
    let fail = |e: csv::Error| ServerError::Export(e.to_string());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["id", "session_id", "title", "tags", "created_at", "report"]).map_err(fail)?;
    for e in entries {
        let created = e.created_at.as_millis().to_string();
        let tags = e.tags.join(";");
        writer
            .write_record([
                e.id.as_str(),
                e.session_id.as_deref().unwrap_or(""),
                &e.title,
                &tags,
                &created,
                &e.report,
            ])
            .map_err(fail)?;
    }
    let bytes = writer.into_inner().map_err(|e| ServerError::Export(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ServerError::Export(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_db::{HistoryId, Json, Timestamp, UserId};

    fn entry(title: &str, report: &str, tags: &[&str]) -> HistoryEntry {
        HistoryEntry {
            id: HistoryId::from("h1"),
            user_id: UserId::from("u1"),
            session_id: None,
            title: title.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            report: report.to_owned(),
            snapshot: Json(serde_json::json!({})),
            created_at: Timestamp::from_millis(5),
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() -> Result<()> {
        let text = render(Format::Csv, &[entry("a, \"b\"", "line1\nline2", &["x", "y"])])?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().map_err(|e| ServerError::Export(e.to_string()))?;
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][2], "a, \"b\"");
        assert_eq!(&rows[0][3], "x;y");
        assert_eq!(&rows[0][5], "line1\nline2");
        Ok(())
    }

    #[test]
    fn markdown_has_one_section_per_entry() -> Result<()> {
        let text = render(Format::Markdown, &[entry("One", "r1", &[]), entry("Two", "r2", &["t"])])?;
        assert_eq!(text.matches("\n# ").count() + usize::from(text.starts_with("# ")), 2);
        assert!(text.contains("Tags: t"));
        Ok(())
    }
}
