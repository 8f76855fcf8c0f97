//! Round trips, conflict modes, workspaces and schema changes.

use nexus_archive::{ArchiveError, OnConflict, Outcome, Scope};
use nexus_db::SourceKind;
use nexus_testkit::Rng;
use nexus_vector::KnnQuery;

use crate::{DIMS, Site, TestResult, assert_same_members, collection, count, fts_hits, seed};

#[tokio::test]
async fn round_trip_gives_the_same_archive_and_the_same_search_hits() -> TestResult {
    let a = Site::new().await?;
    let mut rng = Rng::new(1);
    let shop = seed(&a, "shop", &mut rng, 6).await?;
    seed(&a, "other", &mut rng, 2).await?;
    let first = a.export(Scope::Project(shop.clone()), "shop.nexus").await?;
    assert_eq!(first.manifest.projects.len(), 1);
    assert_eq!(first.manifest.collections[0].model, "test-model");
    assert_eq!(first.manifest.collections[0].dimensions, DIMS);
    assert_eq!(first.manifest.counts().get("tasks"), Some(&6));
    assert_eq!(first.manifest.counts().get("artifact files"), Some(&3));

    let b = Site::new().await?;
    let report = b.import(&a.path("shop.nexus"), OnConflict::Fail).await?;
    assert_eq!(report.projects[0].outcome, Outcome::Imported);
    assert_eq!(report.projects[0].id, shop.to_string());
    let second = b.export(Scope::Project(shop.clone()), "again.nexus").await?;
    assert_same_members(&first, &second);

    for word in ["payment", "refund", "quoted", "foo"] {
        assert_eq!(fts_hits(&a.db, &shop, word).await?, fts_hits(&b.db, &shop, word).await?, "{word}");
    }
    assert!(!fts_hits(&b.db, &shop, "payment").await?[0].is_empty());
    let (va, vb) = (collection(&a.db).await?, collection(&b.db).await?);
    for _ in 0..5 {
        let query = rng.unit_vector(DIMS);
        let q = KnnQuery::new(&query, 5).project(shop.as_str()).kinds(&[SourceKind::Episode]);
        let (ha, hb) = (va.knn(a.db.reader(), &q).await?, vb.knn(b.db.reader(), &q).await?);
        assert_eq!(ha.len(), 5);
        assert_eq!(
            ha.iter().map(|n| &n.id).collect::<Vec<_>>(),
            hb.iter().map(|n| &n.id).collect::<Vec<_>>()
        );
    }
    let health = nexus_archive::check(&b.db, Some(&b.store)).await?;
    assert!(health.is_healthy(), "{:?}", health.problems());
    Ok(())
}

#[tokio::test]
async fn conflict_modes_fail_skip_replace_and_copy() -> TestResult {
    let a = Site::new().await?;
    let mut rng = Rng::new(2);
    let shop = seed(&a, "shop", &mut rng, 3).await?;
    a.export(Scope::Project(shop.clone()), "shop.nexus").await?;
    let archive = a.path("shop.nexus");

    // fail: the project is there; nothing changes.
    let err = a.import(&archive, OnConflict::Fail).await;
    assert!(
        matches!(err, Err(ArchiveError::Conflict { ref id, .. }) if id.as_str() == shop.as_str()),
        "{err:?}"
    );

    let skip = a.import(&archive, OnConflict::Skip).await?;
    assert_eq!(skip.projects[0].outcome, Outcome::Skipped);
    assert_eq!(count(&a.db, "tasks").await?, 3);

    // replace: changes since the export are undone, nothing is left behind.
    sqlx::query("UPDATE tasks SET name = 'changed'").execute(a.db.writer()).await?;
    let replaced = a.import(&archive, OnConflict::Replace).await?;
    assert_eq!(replaced.projects[0].outcome, Outcome::Replaced);
    assert_eq!(count(&a.db, "tasks").await?, 3);
    let changed: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE name = 'changed'")
        .fetch_one(a.db.reader())
        .await?;
    assert_eq!(changed, 0);
    let health = nexus_archive::check(&a.db, Some(&a.store)).await?;
    assert!(health.is_healthy(), "{:?}", health.problems());

    // copy, twice: side by side, every reference inside its own copy.
    for n in 1..=2 {
        let copy = a.import(&archive, OnConflict::Copy).await?;
        let project = &copy.projects[0];
        assert_eq!(project.outcome, Outcome::Copied);
        assert_ne!(project.id, shop.to_string());
        assert_eq!(project.name, if n == 1 { "shop (copy)" } else { "shop (copy 2)" });
        let foreign: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tasks t, json_each(t.depends_on) d WHERE t.project_id = ?1 \
             AND d.value NOT IN (SELECT id FROM tasks WHERE project_id = ?1)",
        )
        .bind(&project.id)
        .fetch_one(a.db.reader())
        .await?;
        assert_eq!(foreign, 0);
        let state_refs: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM checkpoints c, json_each(c.state, '$.tasks') d WHERE c.project_id = ?1 \
             AND d.value IN (SELECT id FROM tasks WHERE project_id = ?1)",
        )
        .bind(&project.id)
        .fetch_one(a.db.reader())
        .await?;
        assert_eq!(state_refs, 3);
        let episodes_with_vectors: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM episodes e JOIN vector_keys k ON k.kind = 'episode' AND k.source_id = e.id WHERE e.project_id = ?1",
        )
        .bind(&project.id)
        .fetch_one(a.db.reader())
        .await?;
        assert_eq!(episodes_with_vectors, 3);
    }
    assert_eq!(count(&a.db, "tasks").await?, 9);
    assert_eq!(count(&a.db, "transcript_entries").await?, 6);
    assert_eq!(count(&a.db, "artifacts").await?, 9);
    let health = nexus_archive::check(&a.db, Some(&a.store)).await?;
    assert!(health.is_healthy(), "{:?}", health.problems());
    Ok(())
}

#[tokio::test]
async fn a_workspace_archive_holds_every_project() -> TestResult {
    let a = Site::new().await?;
    let mut rng = Rng::new(3);
    seed(&a, "one", &mut rng, 2).await?;
    seed(&a, "two", &mut rng, 3).await?;
    let report = a.export(Scope::Workspace, "all.nexus").await?;
    assert!(report.manifest.workspace);
    let b = Site::new().await?;
    let imported = b.import(&a.path("all.nexus"), OnConflict::Fail).await?;
    assert_eq!(imported.projects.len(), 2);
    assert_eq!(count(&b.db, "tasks").await?, 5);
    assert_same_members(&report, &b.export(Scope::Workspace, "again.nexus").await?);
    Ok(())
}

/// The archive's columns are the live schema's, for every archived table, and every table of
/// the schema is classified: a column or table added by a later migration cannot be dropped
/// silently.
#[tokio::test]
async fn archived_columns_are_the_schema_columns_and_every_table_is_classified() -> TestResult {
    let a = Site::new().await?;
    let shop = seed(&a, "shop", &mut Rng::new(4), 1).await?;
    let report = a.export(Scope::Project(shop.clone()), "shop.nexus").await?;
    let mut conn = a.db.reader().acquire().await?;
    for table in nexus_archive::ARCHIVED {
        let schema: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
            .bind(table.name)
            .fetch_all(&mut *conn)
            .await?;
        let archived = report.manifest.members.iter().find_map(|m| match &m.content {
            nexus_archive::MemberContent::Table { table: t, columns } if t == table.name => {
                Some(columns.clone())
            }
            _ => None,
        });
        assert_eq!(archived, Some(schema), "{}", table.name);
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
         AND name NOT LIKE '%\\_fts%' ESCAPE '\\' AND name NOT GLOB 'vectors_[0-9]*' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    for table in tables {
        let archived = nexus_archive::ARCHIVED.iter().any(|t| t.name == table);
        let left_out = nexus_archive::NOT_ARCHIVED.iter().any(|(t, _)| *t == table);
        assert!(archived ^ left_out, "table {table} must be archived or deliberately left out");
        // A table with a project_id column belongs to projects: it must be archived (but for
        // the link from projects to the installation's user accounts).
        let project_column: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pragma_table_info(?1) WHERE name = 'project_id'")
                .bind(&table)
                .fetch_one(&mut *conn)
                .await?;
        assert!(
            project_column == 0 || archived || table == "project_owners",
            "table {table} has project_id but is not archived"
        );
    }
    Ok(())
}

#[tokio::test]
async fn added_columns_travel_and_unknown_tables_stop_an_export() -> TestResult {
    let a = Site::new().await?;
    let shop = seed(&a, "shop", &mut Rng::new(5), 2).await?;
    sqlx::query("ALTER TABLE tasks ADD COLUMN estimate_note TEXT").execute(a.db.writer()).await?;
    sqlx::query("UPDATE tasks SET estimate_note = 'two days'").execute(a.db.writer()).await?;
    a.export(Scope::Project(shop.clone()), "shop.nexus").await?;

    // A database with the column receives it.
    let b = Site::new().await?;
    sqlx::query("ALTER TABLE tasks ADD COLUMN estimate_note TEXT").execute(b.db.writer()).await?;
    b.import(&a.path("shop.nexus"), OnConflict::Fail).await?;
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks WHERE estimate_note = 'two days'")
        .fetch_one(b.db.reader())
        .await?;
    assert_eq!(notes, 2);

    // One without it refuses the archive, naming the column.
    let c = Site::new().await?;
    let err = c.import(&a.path("shop.nexus"), OnConflict::Fail).await;
    assert!(
        matches!(&err, Err(ArchiveError::BadMember { detail, .. }) if detail.contains("tasks.estimate_note")),
        "{err:?}"
    );
    assert_eq!(count(&c.db, "projects").await?, 0);

    sqlx::query("CREATE TABLE knowledge (id TEXT PRIMARY KEY, project_id TEXT)")
        .execute(a.db.writer())
        .await?;
    let err = a.export(Scope::Project(shop), "no.nexus").await;
    assert!(matches!(&err, Err(ArchiveError::UnknownTable(t)) if t == "knowledge"), "{err:?}");
    Ok(())
}
