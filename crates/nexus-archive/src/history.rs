//! Exports of a user's research history for people (the server's `/v1/history/…/export` and
//! `nexus export --history`): JSON (an array of the entries), Markdown (a section per entry:
//! title, tags, date, report) or CSV (id, session_id, title, tags, created_at, report; RFC
//! 4180 through the `csv` crate, tags joined with `;`).

use std::io::Write;

use nexus_db::history::{self, HistoryEntry, HistoryFilter};
use nexus_db::{Cursor, Db, UserId};

use crate::error::{ArchiveError, Result};
use crate::people::Format;

/// Writes every entry of `user`'s history matching `filter` (newest first) to `out` in
/// `format`; returns how many there were.
///
/// # Errors
/// Database and write errors.
pub async fn export_history<W: Write>(
    db: &Db,
    user: &UserId,
    filter: &HistoryFilter,
    format: Format,
    out: &mut W,
) -> Result<usize> {
    let mut cursor = Cursor::first(nexus_db::MAX_PAGE);
    let mut entries = Vec::new();
    loop {
        let page = history::list(db.reader(), user, filter, &cursor).await?;
        entries.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor.after = Some(next),
            None => break,
        }
    }
    write_history(&entries, format, out)?;
    Ok(entries.len())
}

/// Writes `entries` to `out` in `format`.
///
/// # Errors
/// Write errors.
pub fn write_history<W: Write>(entries: &[HistoryEntry], format: Format, out: &mut W) -> Result<()> {
    let werr = |e: std::io::Error| ArchiveError::Write { what: "the history export".to_owned(), source: e };
    match format {
        Format::Json => serde_json::to_writer_pretty(&mut *out, entries).map_err(|e| werr(e.into()))?,
        Format::Markdown => {
            for entry in entries {
                write!(out, "# {}\n\n", entry.title.trim()).map_err(werr)?;
                if !entry.tags.is_empty() {
                    write!(out, "Tags: {}\n\n", entry.tags.join(", ")).map_err(werr)?;
                }
                write!(out, "Created: {} (id {})\n\n", entry.created_at.as_millis(), entry.id)
                    .map_err(werr)?;
                write!(out, "{}\n\n", entry.report.trim_end()).map_err(werr)?;
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut *out);
            writer
                .write_record(["id", "session_id", "title", "tags", "created_at", "report"])
                .map_err(|e| werr(e.into()))?;
            for e in entries {
                let created = e.created_at.as_millis().to_string();
                let tags = e.tags.join(";");
                let session = e.session_id.as_deref().unwrap_or("");
                writer
                    .write_record([e.id.as_str(), session, &e.title, &tags, &created, &e.report])
                    .map_err(|e| werr(e.into()))?;
            }
            writer.flush().map_err(werr)?;
        }
    }
    out.flush().map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_db::{HistoryId, Json, Timestamp};

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

    fn render(format: Format, entries: &[HistoryEntry]) -> Result<String> {
        let mut out = Vec::new();
        write_history(entries, format, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() -> Result<(), Box<dyn std::error::Error>> {
        let text = render(Format::Csv, &[entry("a, \"b\"", "line1\nline2", &["x", "y"])])?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
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

    #[test]
    fn json_is_an_array_of_the_entries() -> Result<(), Box<dyn std::error::Error>> {
        let text = render(Format::Json, &[entry("One", "r1", &["t"])])?;
        let back: Vec<HistoryEntry> = serde_json::from_str(&text)?;
        assert_eq!(back, vec![entry("One", "r1", &["t"])]);
        Ok(())
    }
}
