//! Resident partitions: answers from memory are sqlite-vec's answers, and every kind of write
//! — an upsert, a replacement in place, a delete, a deleted source row, a write by another
//! connection pool on the same file — is seen by the very next query.

use crate::common;

use common::{Rng, TestResult, fixture, project, source_row};
use nexus_db::{Db, ProjectId, SourceKind};
use nexus_vector::{Collection, CollectionSpec, Item, KnnQuery, Metric, Neighbor};

const DIMS: usize = 24;

/// The resident bound is process-wide: the tests that depend on it take turns.
static BOUND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The answer of sqlite-vec itself: a freshly opened collection (no copies) on the writer (a
/// connection that may write never reads copies).
async fn sqlite_vec(db: &Db, name: &str, query: &KnnQuery<'_>) -> TestResult<Vec<Neighbor>> {
    let fresh = Collection::open(db.reader(), name).await?;
    let hits = fresh.knn(db.writer(), query).await?;
    assert_eq!(fresh.resident_stats().answered, 0, "the writer must not answer from copies");
    Ok(hits)
}

fn assert_same(resident: &[Neighbor], vec0: &[Neighbor], what: &str) {
    let ids = |hits: &[Neighbor]| hits.iter().map(|h| (h.kind, h.id.clone())).collect::<Vec<_>>();
    assert_eq!(ids(resident), ids(vec0), "{what}");
    for (a, b) in resident.iter().zip(vec0) {
        assert!((a.distance - b.distance).abs() <= 1e-5 * b.distance.max(1.0), "{what}: {a:?} vs {b:?}");
    }
}

async fn add(
    db: &Db,
    c: &Collection,
    kind: SourceKind,
    project: &ProjectId,
    vector: &[f32],
) -> TestResult<String> {
    let mut tx = db.begin().await?;
    let id = source_row(&mut tx, kind, project).await?;
    c.upsert(&mut tx, Item::new(kind, &id, vector)).await?;
    tx.commit().await?;
    Ok(id)
}

#[tokio::test]
async fn resident_answers_are_sqlite_vecs_and_follow_every_write() -> TestResult {
    let _bound = BOUND.lock().await;
    let f = fixture().await?;
    let db = f.db();
    let (p, q) = (project(db, "p").await?, project(db, "q").await?);
    for metric in [Metric::Cosine, Metric::L2] {
        let name = format!("resident_{}", metric.as_str());
        let c = Collection::open_or_create(db, &CollectionSpec::new(&name, "m", DIMS, metric)).await?;
        let mut rng = Rng::new(7);
        let kinds = [SourceKind::Episode, SourceKind::Task, SourceKind::CodeChunk];
        let mut ids = Vec::new();
        for i in 0..600 {
            let project = if i % 2 == 0 { &q } else { &p };
            ids.push(add(db, &c, kinds[i % kinds.len()], project, &rng.vector(DIMS)).await?);
        }
        // Every shape of kind filter, several k, and a maximum distance.
        let kind_sets: [&[SourceKind]; 4] = [
            &[],
            &[SourceKind::Episode],
            &[SourceKind::Episode, SourceKind::Task],
            &[SourceKind::Requirement],
        ];
        for (i, kinds) in kind_sets.iter().enumerate() {
            for k in [1, 10, 100] {
                let v = rng.vector(DIMS);
                let query = KnnQuery::new(&v, k).project(&p).kinds(kinds);
                let resident = c.knn(db.reader(), &query).await?;
                assert_same(
                    &resident,
                    &sqlite_vec(db, &name, &query).await?,
                    &format!("{metric:?} kinds {i} k {k}"),
                );
                // Between two neighbours' distances: at one of them, the last bit would decide.
                let within = match resident.get(resident.len() / 2..resident.len() / 2 + 2) {
                    Some([a, b]) => (a.distance + b.distance) / 2.0,
                    _ => 1.0,
                };
                let query = query.max_distance(within);
                let resident = c.knn(db.reader(), &query).await?;
                assert_same(
                    &resident,
                    &sqlite_vec(db, &name, &query).await?,
                    &format!("{metric:?} max distance"),
                );
            }
        }
        let stats = c.resident_stats();
        // Every query from memory; the first read the project's four partitions (one with each
        // kind that has vectors, the requirements' empty), the others found them.
        assert_eq!(
            (stats.answered, stats.loaded, stats.partitions, stats.vectors),
            (24, 4, 4, 300),
            "{stats:?}"
        );
        let loaded = stats.loaded;

        // A new vector equal to the query is its nearest neighbour at once.
        let v = rng.vector(DIMS);
        let query = KnnQuery::new(&v, 5).project(&p).kinds(&[SourceKind::Episode]);
        let new = add(db, &c, SourceKind::Episode, &p, &v).await?;
        let hits = c.knn(db.reader(), &query).await?;
        assert_eq!(hits[0].id, new, "{metric:?}: an upsert");
        assert!(hits[0].distance < 1e-5);
        assert!(c.resident_stats().loaded > loaded, "the copy was read again");

        // Replaced in place by another vector: no longer near.
        let mut tx = db.begin().await?;
        c.upsert(&mut tx, Item::new(SourceKind::Episode, &new, &rng.vector(DIMS))).await?;
        tx.commit().await?;
        let hits = c.knn(db.reader(), &query).await?;
        assert!(hits.iter().all(|h| h.id != new || h.distance > 1e-3), "{metric:?}: a replacement");
        assert_same(&hits, &sqlite_vec(db, &name, &query).await?, "after a replacement");

        // The nearest one's vector deleted, then another one's source row deleted.
        let first = hits[0].id.clone();
        assert!(c.delete(db.writer(), SourceKind::Episode, &first).await?);
        let hits = c.knn(db.reader(), &query).await?;
        assert!(hits.iter().all(|h| h.id != first), "{metric:?}: a deleted vector");
        let second = hits[0].id.clone();
        sqlx::query("DELETE FROM episodes WHERE id = ?").bind(&second).execute(db.writer()).await?;
        let hits = c.knn(db.reader(), &query).await?;
        assert!(hits.iter().all(|h| h.id != second), "{metric:?}: a deleted source row");
        assert_same(&hits, &sqlite_vec(db, &name, &query).await?, "after the deletes");

        // A write through another pool on the same file (as another process would).
        let other = Db::open(f.path()).await?;
        let theirs = Collection::open(other.reader(), &name).await?;
        let from_elsewhere = add(&other, &theirs, SourceKind::Episode, &p, &v).await?;
        other.close().await?;
        let hits = c.knn(db.reader(), &query).await?;
        assert_eq!(hits[0].id, from_elsewhere, "{metric:?}: a write by another pool");
    }
    Ok(())
}

#[tokio::test]
async fn queries_without_a_project_or_with_labels_are_answered_by_sqlite_vec() -> TestResult {
    let _bound = BOUND.lock().await;
    let f = fixture().await?;
    let db = f.db();
    let p = project(db, "p").await?;
    let c = Collection::open_or_create(db, &CollectionSpec::new("plain", "m", DIMS, Metric::L2)).await?;
    let mut rng = Rng::new(9);
    for _ in 0..50 {
        add(db, &c, SourceKind::Episode, &p, &rng.vector(DIMS)).await?;
    }
    let v = rng.vector(DIMS);
    let everywhere = c.knn(db.reader(), &KnnQuery::new(&v, 5)).await?;
    let labelled = c.knn(db.reader(), &KnnQuery::new(&v, 5).project(&p).labels(&["none"])).await?;
    assert_eq!((everywhere.len(), labelled.len()), (5, 0));
    assert_eq!(c.resident_stats(), Default::default(), "no copy read, none used");
    let scoped = c.knn(db.reader(), &KnnQuery::new(&v, 5).project(&p)).await?;
    assert_same(&scoped, &everywhere, "one project holds them all");
    assert_eq!(
        (c.resident_stats().answered, c.resident_stats().loaded),
        (1, 4),
        "one partition per kind with vectors"
    );
    Ok(())
}

#[tokio::test]
async fn partitions_larger_than_the_bound_are_never_copied() -> TestResult {
    let _bound = BOUND.lock().await;
    let f = fixture().await?;
    let db = f.db();
    let p = project(db, "p").await?;
    let c = Collection::open_or_create(db, &CollectionSpec::new("bounded", "m", DIMS, Metric::L2)).await?;
    let mut rng = Rng::new(11);
    for _ in 0..40 {
        add(db, &c, SourceKind::Episode, &p, &rng.vector(DIMS)).await?;
    }
    let v = rng.vector(DIMS);
    let query = KnnQuery::new(&v, 5).project(&p).kinds(&[SourceKind::Episode]);
    // One chunk of vectors is far more than 1 KiB.
    nexus_vector::set_resident_limit(1024);
    let bounded = c.knn(db.reader(), &query).await;
    nexus_vector::set_resident_limit(nexus_vector::DEFAULT_RESIDENT_BYTES);
    assert_same(&bounded?, &sqlite_vec(db, "bounded", &query).await?, "over the bound");
    assert_eq!(c.resident_stats(), Default::default(), "nothing copied, nothing answered from memory");
    let copied = c.knn(db.reader(), &query).await?;
    assert_same(&copied, &sqlite_vec(db, "bounded", &query).await?, "within the bound");
    assert_eq!((c.resident_stats().answered, c.resident_stats().vectors), (1, 40));
    Ok(())
}

#[tokio::test]
async fn interruptible_knn_answers_from_copies_and_reads_them_again_after_a_write() -> TestResult {
    let _bound = BOUND.lock().await;
    let f = fixture().await?;
    let db = f.db();
    let p = project(db, "p").await?;
    let c = Collection::open_or_create(db, &CollectionSpec::new("guarded", "m", DIMS, Metric::L2)).await?;
    let mut rng = Rng::new(5);
    for _ in 0..200 {
        add(db, &c, SourceKind::Episode, &p, &rng.vector(DIMS)).await?;
    }
    let v = rng.vector(DIMS);
    let query = KnnQuery::new(&v, 7).project(&p).kinds(&[SourceKind::Episode]);
    // No copy yet: the guarded path reads it and answers.
    let first = c.knn_interruptible(db.reader(), &query).await?;
    assert_same(&first, &sqlite_vec(db, "guarded", &query).await?, "first query");
    assert_eq!((c.resident_stats().answered, c.resident_stats().loaded), (1, 1));
    // Held now: answered from memory, nothing read again.
    let second = c.knn_interruptible(db.reader(), &query).await?;
    assert_eq!(second, first);
    assert_eq!((c.resident_stats().answered, c.resident_stats().loaded), (2, 1));
    // A write makes the copy stale: the next answer has the new vector (the query itself).
    let id = add(db, &c, SourceKind::Episode, &p, &v).await?;
    let third = c.knn_interruptible(db.reader(), &query).await?;
    assert_eq!(third.first().map(|n| n.id.as_str()), Some(id.as_str()), "the new vector is nearest");
    assert_same(&third, &sqlite_vec(db, "guarded", &query).await?, "after a write");
    assert_eq!((c.resident_stats().answered, c.resident_stats().loaded), (3, 2));
    // Bad queries are refused as by `knn`.
    assert!(c.knn_interruptible(db.reader(), &KnnQuery::new(&v, 0).project(&p)).await.is_err());
    Ok(())
}
