//! Exports for people: CSV that a spreadsheet reads back intact, JSON, Markdown.

use nexus_archive::{ArchiveError, Format, export_for_people};
use nexus_testkit::Rng;

use crate::{Site, TestResult, seed};

#[tokio::test]
async fn csv_json_and_markdown_keep_every_character() -> TestResult {
    let site = Site::new().await?;
    let shop = seed(&site, "shop", &mut Rng::new(9), 3).await?;
    let tricky = "a \"quoted\", comma\nnew line, ünïcødé 🚀";
    sqlx::query("UPDATE tasks SET description = ?1").bind(tricky).execute(site.db.writer()).await?;

    let mut csv_bytes = Vec::new();
    export_for_people(&site.db, &shop, Format::Csv, &[], &mut csv_bytes).await?;
    let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
    let headers = reader.headers()?.clone();
    let column = headers.iter().position(|h| h == "description").ok_or("no description column")?;
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| &r[column] == tricky));

    let mut json = Vec::new();
    export_for_people(&site.db, &shop, Format::Json, &[], &mut json).await?;
    let doc: serde_json::Value = serde_json::from_slice(&json)?;
    assert_eq!(doc["project"]["name"], "shop");
    assert_eq!(doc["tables"]["tasks"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["tables"]["tasks"][0]["description"], tricky);
    assert_eq!(doc["tables"]["transcript_entries"].as_array().map(Vec::len), Some(2));

    let mut md = Vec::new();
    export_for_people(&site.db, &shop, Format::Markdown, &["tasks".to_owned()], &mut md).await?;
    let md = String::from_utf8(md)?;
    assert!(md.starts_with("# shop\n"));
    assert_eq!(md.lines().filter(|l| l.starts_with("| ") && l.contains("ünïcødé")).count(), 3);

    let err = export_for_people(&site.db, &shop, Format::Csv, &["planets".to_owned()], &mut Vec::new()).await;
    assert!(matches!(err, Err(ArchiveError::UnknownExportTable(_))), "{err:?}");
    Ok(())
}
