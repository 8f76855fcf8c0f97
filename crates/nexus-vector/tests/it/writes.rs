//! Writing vectors: in the caller's transaction (committed or rolled back with the row),
//! replaced in place, deleted, removed with their source row or project, bad vectors rejected
//! with nothing written, and counted by `stats`.

use crate::common;

use common::{TestResult, fixture, project, source_row};
use nexus_db::{Db, SourceKind, episodes, projects};
use nexus_vector::{Collection, CollectionSpec, Element, Item, KnnQuery, Metric, VectorError, VectorProblem};

async fn collection(db: &Db, name: &str, element: Element) -> TestResult<Collection> {
    Ok(Collection::open_or_create(
        db,
        &CollectionSpec::new(name, "test-model", 8, Metric::Cosine).element(element),
    )
    .await?)
}

fn axis(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; 8];
    v[i % 8] = 1.0;
    v
}

async fn ids(c: &Collection, db: &Db, query: &[f32]) -> TestResult<Vec<String>> {
    Ok(c.knn(db.reader(), &KnnQuery::new(query, 100)).await?.into_iter().map(|n| n.id).collect())
}

#[tokio::test]
async fn a_row_and_its_vector_commit_or_roll_back_together() -> TestResult {
    let f = fixture().await?;
    let c = collection(f.db(), "memory", Element::Float32).await?;
    let p = project(f.db(), "p").await?;

    let mut tx = f.db().begin().await?;
    let kept = source_row(&mut tx, SourceKind::Episode, &p).await?;
    c.upsert(&mut tx, Item::new(SourceKind::Episode, &kept, &axis(0))).await?;
    // The transaction sees its own vector.
    assert_eq!(c.knn(&mut *tx, &KnnQuery::new(&axis(0), 5)).await?.len(), 1);
    tx.commit().await?;

    let mut tx = f.db().begin().await?;
    let dropped = source_row(&mut tx, SourceKind::Episode, &p).await?;
    c.upsert(&mut tx, Item::new(SourceKind::Episode, &dropped, &axis(1))).await?;
    tx.rollback().await?;

    assert_eq!(ids(&c, f.db(), &axis(1)).await?, [kept]);
    assert!(episodes::get(f.db().reader(), &dropped.as_str().into()).await.is_err());
    assert_eq!(c.stats(f.db().reader()).await?.total, 1);

    // A failing upsert inside a transaction leaves the transaction usable and unchanged.
    let mut tx = f.db().begin().await?;
    let row = source_row(&mut tx, SourceKind::Episode, &p).await?;
    let err = c.upsert(&mut tx, Item::new(SourceKind::Episode, &row, &[1.0; 3])).await;
    assert!(matches!(err, Err(VectorError::InvalidVector { .. })));
    let err = c.upsert(&mut tx, Item::new(SourceKind::Task, &row, &axis(2))).await;
    assert!(matches!(err, Err(VectorError::SourceNotFound { .. })));
    let entry = source_row(&mut tx, SourceKind::TranscriptEntry, &p).await?;
    let err = c.upsert(&mut tx, Item::new(SourceKind::TranscriptEntry, &entry, &axis(3))).await;
    assert!(matches!(err, Err(VectorError::NotEmbeddable { kind: SourceKind::TranscriptEntry })));
    c.upsert(&mut tx, Item::new(SourceKind::Episode, &row, &axis(2))).await?;
    tx.commit().await?;
    assert_eq!(c.stats(f.db().reader()).await?.total, 2);
    Ok(())
}

#[tokio::test]
async fn upsert_replaces_the_vector_label_and_project() -> TestResult {
    let f = fixture().await?;
    for element in [Element::Float32, Element::Int8, Element::Bit] {
        let c = collection(f.db(), &format!("c_{}", element.as_str()), element).await?;
        let p = project(f.db(), &format!("p_{}", element.as_str())).await?;
        let id = source_row(&mut *f.db().writer().acquire().await?, SourceKind::Task, &p).await?;
        let mut conn = f.db().writer().acquire().await?;
        c.upsert(&mut conn, Item::new(SourceKind::Task, &id, &axis(0)).label("old")).await?;
        c.upsert(&mut conn, Item::new(SourceKind::Task, &id, &axis(3)).label("new")).await?;
        drop(conn);

        let hits = c.knn(f.db().reader(), &KnnQuery::new(&axis(3), 5)).await?;
        assert_eq!(hits.len(), 1, "{element:?}: one vector per row");
        assert_eq!(hits[0].id, id);
        assert!(hits[0].distance.abs() < 1e-6, "{element:?}: the new vector is stored");
        assert_eq!(c.knn(f.db().reader(), &KnnQuery::new(&axis(3), 5).labels(&["new"])).await?.len(), 1);
        assert!(c.knn(f.db().reader(), &KnnQuery::new(&axis(3), 5).labels(&["old"])).await?.is_empty());
        assert_eq!(c.stats(f.db().reader()).await?.total, 1);

        // The row moved to another project: upserting again moves its vector too.
        let moved = project(f.db(), &format!("moved_{}", element.as_str())).await?;
        sqlx::query("UPDATE tasks SET project_id = ? WHERE id = ?")
            .bind(&moved)
            .bind(&id)
            .execute(f.db().writer())
            .await?;
        c.upsert(&mut *f.db().writer().acquire().await?, Item::new(SourceKind::Task, &id, &axis(3))).await?;
        assert!(c.knn(f.db().reader(), &KnnQuery::new(&axis(3), 5).project(&p)).await?.is_empty());
        assert_eq!(c.knn(f.db().reader(), &KnnQuery::new(&axis(3), 5).project(&moved)).await?.len(), 1);
        assert_eq!(c.stats(f.db().reader()).await?.total, 1);
    }
    Ok(())
}

#[tokio::test]
async fn bad_vectors_and_missing_rows_are_rejected_and_nothing_is_written() -> TestResult {
    let f = fixture().await?;
    let c = collection(f.db(), "memory", Element::Float32).await?;
    let p = project(f.db(), "p").await?;
    let id = source_row(&mut *f.db().writer().acquire().await?, SourceKind::Episode, &p).await?;
    let mut nan = axis(0);
    nan[5] = f32::NAN;
    let mut inf = axis(0);
    inf[2] = f32::INFINITY;
    type Expected = fn(&VectorProblem) -> bool;
    let cases: [(Vec<f32>, Expected); 5] = [
        (vec![1.0; 7], |p| matches!(p, VectorProblem::WrongLength { expected: 8, actual: 7 })),
        (vec![1.0; 9], |p| matches!(p, VectorProblem::WrongLength { expected: 8, actual: 9 })),
        (nan, |p| matches!(p, VectorProblem::NotFinite { index: 5, .. })),
        (inf, |p| matches!(p, VectorProblem::NotFinite { index: 2, .. })),
        (vec![0.0; 8], |p| matches!(p, VectorProblem::Zero)),
    ];
    let mut conn = f.db().writer().acquire().await?;
    for (vector, expected) in &cases {
        match c.upsert(&mut conn, Item::new(SourceKind::Episode, &id, vector)).await {
            Err(VectorError::InvalidVector { collection, subject, problem }) => {
                assert_eq!(collection, "memory");
                assert!(subject.contains(&id), "{subject}");
                assert!(expected(&problem), "{problem:?}");
            }
            other => panic!("expected InvalidVector, got {other:?}"),
        }
        match c.knn(f.db().reader(), &KnnQuery::new(vector, 3)).await {
            Err(VectorError::InvalidVector { problem, .. }) => assert!(expected(&problem), "{problem:?}"),
            other => panic!("expected InvalidVector for the query, got {other:?}"),
        }
    }
    match c.upsert(&mut conn, Item::new(SourceKind::CodeChunk, &id, &axis(0))).await {
        Err(VectorError::SourceNotFound { kind: SourceKind::CodeChunk, id: missing }) => {
            assert_eq!(missing, id)
        }
        other => panic!("expected SourceNotFound, got {other:?}"),
    }
    drop(conn);
    assert_eq!(c.stats(f.db().reader()).await?.total, 0);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM vector_keys").fetch_one(f.db().reader()).await?;
    assert_eq!(keys, 0, "no key is left behind by a rejected write");

    // An L2 collection accepts a zero vector: it is a point like any other.
    let l2 = Collection::open_or_create(f.db(), &CollectionSpec::new("l2", "m", 8, Metric::L2)).await?;
    l2.upsert(&mut *f.db().writer().acquire().await?, Item::new(SourceKind::Episode, &id, &[0.0; 8])).await?;
    let hit = l2.knn(f.db().reader(), &KnnQuery::new(&axis(0), 1)).await?;
    assert!((hit[0].distance - 1.0).abs() < 1e-6);
    Ok(())
}

#[tokio::test]
async fn delete_removes_one_vector_and_keeps_the_row() -> TestResult {
    let f = fixture().await?;
    let c = collection(f.db(), "memory", Element::Int8).await?;
    let p = project(f.db(), "p").await?;
    let mut conn = f.db().writer().acquire().await?;
    let a = source_row(&mut conn, SourceKind::Episode, &p).await?;
    let b = source_row(&mut conn, SourceKind::Episode, &p).await?;
    c.upsert(&mut conn, Item::new(SourceKind::Episode, &a, &axis(0))).await?;
    c.upsert(&mut conn, Item::new(SourceKind::Episode, &b, &axis(1))).await?;
    drop(conn);

    assert!(c.delete(f.db().writer(), SourceKind::Episode, &a).await?);
    assert!(!c.delete(f.db().writer(), SourceKind::Episode, &a).await?, "already gone");
    assert!(!c.delete(f.db().writer(), SourceKind::Task, &b).await?, "wrong kind");
    assert_eq!(ids(&c, f.db(), &axis(0)).await?, [b]);
    assert!(episodes::get(f.db().reader(), &a.as_str().into()).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn deleting_a_row_or_a_project_deletes_its_vectors_in_every_collection() -> TestResult {
    let f = fixture().await?;
    let first = collection(f.db(), "first", Element::Float32).await?;
    let second = collection(f.db(), "second", Element::Bit).await?;
    let doomed = project(f.db(), "doomed").await?;
    let kept = project(f.db(), "kept").await?;

    let mut rows = Vec::new();
    let mut tx = f.db().begin().await?;
    for (i, kind) in SourceKind::ALL.iter().filter(|k| k.has_vectors()).enumerate() {
        for p in [&doomed, &kept] {
            let id = source_row(&mut tx, *kind, p).await?;
            for c in [&first, &second] {
                c.upsert(&mut tx, Item::new(*kind, &id, &axis(i))).await?;
            }
            rows.push((*kind, id, p.clone()));
        }
    }
    tx.commit().await?;
    assert_eq!(first.stats(f.db().reader()).await?.total, 8);

    // One row: its vector goes from both collections.
    let episode = rows
        .iter()
        .find(|(k, _, p)| *k == SourceKind::Episode && *p == kept)
        .map(|(_, id, _)| id.clone())
        .ok_or("no episode in the kept project")?;
    episodes::delete(f.db().writer(), &episode.as_str().into()).await?;
    for c in [&first, &second] {
        assert!(!ids(c, f.db(), &axis(0)).await?.contains(&episode), "{}", c.name());
        assert_eq!(c.stats(f.db().reader()).await?.total, 7);
    }

    // A project: ON DELETE CASCADE removes its rows of every kind, and with them their vectors.
    projects::delete(f.db().writer(), &doomed).await?;
    for c in [&first, &second] {
        let stats = c.stats(f.db().reader()).await?;
        assert_eq!((stats.total, stats.count_project(&doomed), stats.count_project(&kept)), (3, 0, 3));
    }
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM vector_keys").fetch_one(f.db().reader()).await?;
    assert_eq!(keys, 3);
    Ok(())
}

#[tokio::test]
async fn stats_count_per_project_and_kind_and_measure_bytes() -> TestResult {
    let f = fixture().await?;
    let c = collection(f.db(), "memory", Element::Float32).await?;
    let (a, b) = (project(f.db(), "a").await?, project(f.db(), "b").await?);
    let mut tx = f.db().begin().await?;
    for (p, kind, n) in
        [(&a, SourceKind::Episode, 3), (&a, SourceKind::CodeChunk, 2), (&b, SourceKind::Episode, 1)]
    {
        for i in 0..n {
            let id = source_row(&mut tx, kind, p).await?;
            c.upsert(&mut tx, Item::new(kind, &id, &axis(i))).await?;
        }
    }
    tx.commit().await?;

    let stats = c.stats(f.db().reader()).await?;
    assert_eq!(
        (stats.collection.as_str(), stats.model.as_str(), stats.dimensions),
        ("memory", "test-model", 8)
    );
    assert_eq!(stats.total, 6);
    assert_eq!(stats.count_kind(SourceKind::Episode), 4);
    assert_eq!(stats.count_kind(SourceKind::CodeChunk), 2);
    assert_eq!(stats.count_kind(SourceKind::Task), 0);
    assert_eq!((stats.count_project(&a), stats.count_project(&b)), (5, 1));
    assert_eq!(stats.groups.len(), 3);
    // Two partitions, each at least one chunk of 1024 × 8 float32.
    assert!(stats.bytes >= 2 * 1024 * 8 * 4, "{} bytes", stats.bytes);
    Ok(())
}
