//! Exports for people: one project's tables as one JSON document, a Markdown report, or CSV
//! (RFC 4180 through the `csv` crate: commas, quotes, newlines and Unicode survive a
//! spreadsheet). Rows stream from SQLite to the writer.

use std::io::Write;

use futures::TryStreamExt as _;
use nexus_db::{Db, ProjectId};
use serde_json::{Map, Value};

use crate::catalog::{self, ArchivedTable, Column};
use crate::error::{ArchiveError, Result, sql};
use crate::value::{display, row_values};

/// The tables people can ask for; `transcripts` means the transcripts and their entries.
pub const PEOPLE_TABLES: &[&str] =
    &["tasks", "features", "requirements", "episodes", "metrics", "transcripts"];

/// Longest cell of a Markdown table, in characters (longer text is cut with `…`).
const MARKDOWN_CELL: usize = 200;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document: `{"project": {…}, "tables": {"tasks": [{…}, …], …}}`.
    Json,
    /// A Markdown report: a section per table, rows as a Markdown table.
    Markdown,
    /// CSV of one table, header row first.
    Csv,
}

/// Writes the `tables` of `project` (all of [`PEOPLE_TABLES`] when empty; CSV takes one, `tasks`
/// by default) to `out` in `format`.
///
/// # Errors
/// [`ArchiveError::UnknownExportTable`] for a name outside [`PEOPLE_TABLES`] (or more than
/// one table for CSV); `NotFound` for an unknown project; write errors.
pub async fn export_for_people<W: Write>(
    db: &Db,
    project: &ProjectId,
    format: Format,
    tables: &[String],
    out: &mut W,
) -> Result<()> {
    let asked: Vec<&str> = if tables.is_empty() {
        match format {
            Format::Csv => vec!["tasks"],
            Format::Json | Format::Markdown => PEOPLE_TABLES.to_vec(),
        }
    } else {
        tables.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = asked.iter().find(|t| !PEOPLE_TABLES.contains(t)) {
        return Err(ArchiveError::UnknownExportTable((*unknown).to_owned()));
    }
    if format == Format::Csv && asked.len() != 1 {
        return Err(ArchiveError::UnknownExportTable(format!("{} (CSV takes one table)", asked.join(","))));
    }
    let mut sources: Vec<&'static ArchivedTable> = Vec::new();
    for name in &asked {
        match (*name, format) {
            ("transcripts", Format::Csv) => sources.extend(catalog::archived("transcript_entries")),
            ("transcripts", _) => {
                sources.extend(catalog::archived("transcripts"));
                sources.extend(catalog::archived("transcript_entries"));
            }
            (other, _) => sources.extend(catalog::archived(other)),
        }
    }
    let project_row = nexus_db::projects::get(db.reader(), project).await?;
    let mut conn = db.reader().acquire().await.map_err(sql("export"))?;
    let werr = |e: std::io::Error| ArchiveError::Write { what: "the export".to_owned(), source: e };
    match format {
        Format::Json => {
            let project_json = serde_json::to_value(&project_row).map_err(|e| werr(e.into()))?;
            write!(out, "{{\"project\":{project_json},\"tables\":{{").map_err(werr)?;
            for (i, table) in sources.iter().enumerate() {
                write!(out, "{}\"{}\":[", if i == 0 { "" } else { "," }, table.name).map_err(werr)?;
                let columns = catalog::columns(&mut conn, table.name).await?;
                let mut rows =
                    sqlx::query(catalog::select(table, &columns)).bind(project.as_str()).fetch(&mut *conn);
                let mut first = true;
                while let Some(row) = rows.try_next().await.map_err(sql(table.name))? {
                    let object = as_object(&columns, row_values(&row).map_err(sql(table.name))?);
                    write!(out, "{}{}", if first { "" } else { "," }, Value::Object(object)).map_err(werr)?;
                    first = false;
                }
                write!(out, "]").map_err(werr)?;
            }
            writeln!(out, "}}}}").map_err(werr)?;
        }
        Format::Markdown => {
            writeln!(out, "# {}\n", cell(&project_row.name)).map_err(werr)?;
            writeln!(
                out,
                "- id: `{}`\n- status: {}\n- root: `{}`",
                project_row.id, project_row.status, project_row.root_path
            )
            .map_err(werr)?;
            if let Some(description) = &project_row.description {
                writeln!(out, "\n{description}").map_err(werr)?;
            }
            for table in &sources {
                let columns = catalog::columns(&mut conn, table.name).await?;
                writeln!(out, "\n## {}\n", table.name).map_err(werr)?;
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                writeln!(out, "| {} |\n|{}", names.join(" | "), "---|".repeat(names.len())).map_err(werr)?;
                let mut rows =
                    sqlx::query(catalog::select(table, &columns)).bind(project.as_str()).fetch(&mut *conn);
                while let Some(row) = rows.try_next().await.map_err(sql(table.name))? {
                    let cells: Vec<String> = row_values(&row)
                        .map_err(sql(table.name))?
                        .iter()
                        .map(|v| cell(&display(v)))
                        .collect();
                    writeln!(out, "| {} |", cells.join(" | ")).map_err(werr)?;
                }
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut *out);
            for table in &sources {
                let columns = catalog::columns(&mut conn, table.name).await?;
                writer.write_record(columns.iter().map(|c| c.name.as_str())).map_err(|e| werr(e.into()))?;
                let mut rows =
                    sqlx::query(catalog::select(table, &columns)).bind(project.as_str()).fetch(&mut *conn);
                while let Some(row) = rows.try_next().await.map_err(sql(table.name))? {
                    let values = row_values(&row).map_err(sql(table.name))?;
                    writer.write_record(values.iter().map(display)).map_err(|e| werr(e.into()))?;
                }
            }
            writer.flush().map_err(werr)?;
        }
    }
    out.flush().map_err(werr)
}

/// A row as a JSON object keyed by column name.
fn as_object(columns: &[Column], values: Vec<Value>) -> Map<String, Value> {
    columns.iter().map(|c| c.name.clone()).zip(values).collect()
}

/// Text as one Markdown table cell: pipes escaped, line breaks as `<br>`, cut at
/// [`MARKDOWN_CELL`] characters.
fn cell(text: &str) -> String {
    let mut cut: String = text.chars().take(MARKDOWN_CELL).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut.replace('|', "\\|").replace("\r\n", "<br>").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
        assert!(cell(&"x".repeat(300)).ends_with('…'));
    }
}
