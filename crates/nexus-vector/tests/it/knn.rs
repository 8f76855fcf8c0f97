//! KNN: exact answers for float32 collections, filters applied inside sqlite-vec's scan (a
//! rare kind still fills k), labels and maximum distance, a stable order, the reader pool, and
//! quantised collections that rescore to high recall.

use crate::common;

use std::collections::HashMap;

use common::{
    Rng, TestResult, brute_force, clustered, cosine_distance, fixture, l2_distance, project, source_row,
};
use nexus_db::{Db, ProjectId, SourceKind};
use nexus_vector::{Collection, CollectionSpec, Element, Item, KnnQuery, Metric, Neighbor, VectorError};

/// Source rows of `kinds[i]` in `projects[i]`, each with `vectors[i]` (label `labels[i]`),
/// written in one transaction; returns the ids, in order.
async fn load(
    db: &Db,
    collection: &Collection,
    vectors: &[Vec<f32>],
    kind_of: impl Fn(usize) -> SourceKind,
    project_of: impl Fn(usize) -> ProjectId,
    label_of: impl Fn(usize) -> &'static str,
) -> TestResult<Vec<String>> {
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(vectors.len());
    for (i, vector) in vectors.iter().enumerate() {
        let id = source_row(&mut tx, kind_of(i), &project_of(i)).await?;
        collection.upsert(&mut tx, Item::new(kind_of(i), &id, vector).label(label_of(i))).await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}

fn indices(hits: &[Neighbor], ids: &[String]) -> Vec<usize> {
    let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    hits.iter().filter_map(|h| position.get(h.id.as_str()).copied()).collect()
}

#[tokio::test]
async fn float32_knn_is_exact_for_both_metrics() -> TestResult {
    let f = fixture().await?;
    let p = project(f.db(), "p").await?;
    let mut rng = Rng::new(1);
    let data: Vec<Vec<f32>> = (0..400).map(|_| rng.vector(32)).collect();
    for (metric, distance) in
        [(Metric::Cosine, cosine_distance as fn(&[f32], &[f32]) -> f32), (Metric::L2, l2_distance)]
    {
        let c = Collection::open_or_create(f.db(), &CollectionSpec::new(metric.as_str(), "m", 32, metric))
            .await?;
        let ids = load(f.db(), &c, &data, |_| SourceKind::Episode, |_| p.clone(), |_| "").await?;
        for _ in 0..10 {
            let query = rng.vector(32);
            let hits = c.knn(f.db().reader(), &KnnQuery::new(&query, 10).project(&p)).await?;
            let expected = brute_force(&data, &query, 10, distance);
            assert_eq!(indices(&hits, &ids), expected.iter().map(|e| e.0).collect::<Vec<_>>(), "{metric:?}");
            for (hit, (_, d)) in hits.iter().zip(&expected) {
                assert!((hit.distance - d).abs() < 1e-4, "{metric:?}: {} vs {d}", hit.distance);
                assert_eq!(hit.kind, SourceKind::Episode);
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn filters_are_applied_inside_the_knn_so_a_rare_kind_still_fills_k() -> TestResult {
    let f = fixture().await?;
    let (main, other) = (project(f.db(), "main").await?, project(f.db(), "other").await?);
    let c =
        Collection::open_or_create(f.db(), &CollectionSpec::new("mixed", "m", 16, Metric::Cosine)).await?;
    let mut rng = Rng::new(2);
    let data = clustered(&mut rng, 1200, 16, 12, 0.4);
    // In `main`: 1 % code chunks (rows 6, 106, …), 2 % tasks, the rest episodes; every 6th row
    // in `other`.
    let kind_of = |i: usize| match i {
        _ if i % 100 == 6 => SourceKind::CodeChunk,
        _ if i % 50 == 13 => SourceKind::Task,
        _ => SourceKind::Episode,
    };
    let project_of = |i: usize| if i % 6 == 5 { other.clone() } else { main.clone() };
    let ids = load(f.db(), &c, &data, kind_of, project_of, |_| "").await?;
    let chunks_in_main: Vec<usize> =
        (0..data.len()).filter(|&i| kind_of(i) == SourceKind::CodeChunk && project_of(i) == main).collect();
    assert!(chunks_in_main.len() >= 10, "{} code chunks", chunks_in_main.len());

    let mut post_filter_came_short = 0;
    for q in 0..10 {
        let query = &data[q * 37]; // an episode: its nearest neighbours are episodes
        let hits = c
            .knn(f.db().reader(), &KnnQuery::new(query, 10).project(&main).kinds(&[SourceKind::CodeChunk]))
            .await?;
        assert_eq!(hits.len(), 10, "query {q}: k=10 code chunks exist, so 10 come back");
        assert!(hits.iter().all(|h| h.kind == SourceKind::CodeChunk));
        let candidates: Vec<Vec<f32>> = chunks_in_main.iter().map(|&i| data[i].clone()).collect();
        let expected: Vec<usize> = brute_force(&candidates, query, 10, cosine_distance)
            .iter()
            .map(|(j, _)| chunks_in_main[*j])
            .collect();
        assert_eq!(indices(&hits, &ids), expected, "query {q}: the true 10 nearest code chunks");

        // What a post-filter (pattern_db) does: the 10 nearest of anything, then keep code chunks.
        let unfiltered = c.knn(f.db().reader(), &KnnQuery::new(query, 10).project(&main)).await?;
        let kept = unfiltered.iter().filter(|h| h.kind == SourceKind::CodeChunk).count();
        if kept < 10 {
            post_filter_came_short += 1;
        }
    }
    assert_eq!(post_filter_came_short, 10, "the test would catch a post-filter");

    // Several kinds, and the project partition: nothing from `other` ever comes back.
    let both = [SourceKind::CodeChunk, SourceKind::Episode];
    let hits = c.knn(f.db().reader(), &KnnQuery::new(&data[5], 50).project(&main).kinds(&both)).await?;
    assert_eq!(hits.len(), 50);
    assert!(indices(&hits, &ids).iter().all(|&i| project_of(i) == main));
    assert!(hits.iter().all(|h| both.contains(&h.kind)), "no task among code chunks and episodes");
    let tasks = c.knn(f.db().reader(), &KnnQuery::new(&data[5], 10).kinds(&[SourceKind::Task])).await?;
    assert_eq!(tasks.len(), 10);
    assert!(tasks.iter().all(|h| h.kind == SourceKind::Task));
    let hits = c.knn(f.db().reader(), &KnnQuery::new(&data[5], 50).project(&other)).await?;
    assert!(indices(&hits, &ids).iter().all(|&i| project_of(i) == other));
    assert_eq!(hits[0].distance.abs() < 1e-6, project_of(5) == other);
    let none = c.knn(f.db().reader(), &KnnQuery::new(&data[5], 10).kinds(&[SourceKind::Requirement])).await?;
    assert!(none.is_empty());
    Ok(())
}

#[tokio::test]
async fn labels_and_max_distance_filter_in_the_metric_of_the_collection() -> TestResult {
    let f = fixture().await?;
    let p = project(f.db(), "p").await?;
    let mut rng = Rng::new(3);
    let data: Vec<Vec<f32>> = (0..300).map(|_| rng.vector(8)).collect();
    let label_of = |i: usize| ["rust", "python", "go"][i % 3];
    for (metric, distance, max) in [
        (Metric::Cosine, cosine_distance as fn(&[f32], &[f32]) -> f32, 0.3_f32),
        (Metric::L2, l2_distance, 2.5),
    ] {
        for element in [Element::Float32, Element::Int8, Element::Bit] {
            let name = format!("{}_{}", metric.as_str(), element.as_str());
            let spec = CollectionSpec::new(name.as_str(), "m", 8, metric).element(element);
            let spec =
                if (metric, element) == (Metric::L2, Element::Int8) { spec.int8_range(3.0) } else { spec };
            let c = Collection::open_or_create(f.db(), &spec).await?;
            let ids = load(f.db(), &c, &data, |_| SourceKind::Task, |_| p.clone(), label_of).await?;
            let query = rng.vector(8);
            let labels = ["rust", "go"];
            // Enough candidates that even the bit collection finds every true neighbour.
            let hits = c
                .knn(
                    f.db().reader(),
                    &KnnQuery::new(&query, 300).labels(&labels).max_distance(max).oversample(20),
                )
                .await?;
            let expected: Vec<usize> = brute_force(&data, &query, 300, distance)
                .into_iter()
                .filter(|&(i, d)| label_of(i) != "python" && d <= max)
                .map(|(i, _)| i)
                .collect();
            assert!(!expected.is_empty() && expected.len() < 200, "{name}: a meaningful threshold");
            assert_eq!(indices(&hits, &ids), expected, "{name}");
            assert!(hits.iter().all(|h| h.distance <= max), "{name}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn equal_distances_are_ordered_by_kind_then_id() -> TestResult {
    let f = fixture().await?;
    let p = project(f.db(), "p").await?;
    let c = Collection::open_or_create(f.db(), &CollectionSpec::new("ties", "m", 4, Metric::L2)).await?;
    let mut rows = Vec::new();
    let mut tx = f.db().begin().await?;
    for kind in
        [SourceKind::Task, SourceKind::Episode, SourceKind::Task, SourceKind::CodeChunk, SourceKind::Episode]
    {
        let id = source_row(&mut tx, kind, &p).await?;
        c.upsert(&mut tx, Item::new(kind, &id, &[1.0, 2.0, 3.0, 4.0])).await?;
        rows.push((kind.as_str(), id));
    }
    tx.commit().await?;
    rows.sort();
    let hits = c.knn(f.db().reader(), &KnnQuery::new(&[0.0; 4], 10)).await?;
    let got: Vec<(&str, String)> = hits.iter().map(|h| (h.kind.as_str(), h.id.clone())).collect();
    assert_eq!(got, rows);
    Ok(())
}

#[tokio::test]
async fn queries_are_checked() -> TestResult {
    let f = fixture().await?;
    let c = Collection::open_or_create(f.db(), &CollectionSpec::new("c", "m", 4, Metric::Cosine)).await?;
    let v = [1.0, 0.0, 0.0, 0.0];
    for query in [
        KnnQuery::new(&v, 0),
        KnnQuery::new(&v, nexus_vector::MAX_K + 1),
        KnnQuery::new(&v, 5).max_distance(-0.1),
        KnnQuery::new(&v, 5).max_distance(f32::NAN),
        KnnQuery::new(&v, 5).oversample(0),
    ] {
        assert!(
            matches!(c.knn(f.db().reader(), &query).await, Err(VectorError::InvalidQuery { .. })),
            "{query:?}"
        );
    }
    assert!(c.knn(f.db().reader(), &KnnQuery::new(&v, nexus_vector::MAX_K)).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn knn_runs_on_the_reader_pool_while_a_write_transaction_is_open() -> TestResult {
    let f = fixture().await?;
    let p = project(f.db(), "p").await?;
    let c = Collection::open_or_create(f.db(), &CollectionSpec::new("c", "m", 16, Metric::Cosine)).await?;
    let mut rng = Rng::new(4);
    let data: Vec<Vec<f32>> = (0..200).map(|_| rng.vector(16)).collect();
    load(f.db(), &c, &data, |_| SourceKind::Episode, |_| p.clone(), |_| "").await?;

    // A write transaction holds the writer, with an uncommitted vector.
    let mut tx = f.db().begin().await?;
    let hidden = source_row(&mut tx, SourceKind::Episode, &p).await?;
    c.upsert(&mut tx, Item::new(SourceKind::Episode, &hidden, &data[0])).await?;

    let readers: Vec<_> = (0..8)
        .map(|i| {
            let (db, c, query) = (f.db().clone(), c.clone(), data[i * 10].clone());
            tokio::spawn(async move { c.knn(db.reader(), &KnnQuery::new(&query, 5)).await })
        })
        .collect();
    for reader in readers {
        let hits = reader.await??;
        assert_eq!(hits.len(), 5);
        assert!(hits.iter().all(|h| h.id != hidden), "readers do not see uncommitted vectors");
        assert!(hits[0].distance.abs() < 1e-6);
    }
    tx.commit().await?;
    let hits = c.knn(f.db().reader(), &KnnQuery::new(&data[0], 2)).await?;
    assert!(hits.iter().any(|h| h.id == hidden));
    Ok(())
}

/// Recall@k of `hits` against the exact neighbours.
fn recall(hits: &[usize], exact: &[(usize, f32)]) -> f64 {
    exact.iter().filter(|(i, _)| hits.contains(i)).count() as f64 / exact.len() as f64
}

#[tokio::test]
async fn quantised_collections_rescore_candidates_to_exact_distances_and_high_recall() -> TestResult {
    let f = fixture().await?;
    let p = project(f.db(), "p").await?;
    let mut rng = Rng::new(5);
    // 100 neighbourhoods of 20: the 10 nearest are in the query's neighbourhood, ranked by
    // differences the quantised vectors only approximate.
    let data = clustered(&mut rng, 2000, 64, 100, 0.35);
    let queries: Vec<Vec<f32>> =
        (0..30).map(|i| data[i * 67].iter().map(|x| x + 0.2 * rng.gaussian()).collect()).collect();
    for element in [Element::Int8, Element::Bit] {
        let spec = CollectionSpec::new(element.as_str(), "m", 64, Metric::Cosine).element(element);
        let c = Collection::open_or_create(f.db(), &spec).await?;
        let ids = load(f.db(), &c, &data, |_| SourceKind::CodeChunk, |_| p.clone(), |_| "").await?;
        let (mut default_recall, mut single_recall) = (0.0, 0.0);
        for query in &queries {
            let exact = brute_force(&data, query, 10, cosine_distance);
            let hits = c.knn(f.db().reader(), &KnnQuery::new(query, 10)).await?;
            assert_eq!(hits.len(), 10);
            for (hit, i) in hits.iter().zip(indices(&hits, &ids)) {
                // Rescored: the float32 distance, not a quantised one.
                assert!((hit.distance - cosine_distance(&data[i], query)).abs() < 1e-5, "{element:?}");
            }
            assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance));
            default_recall += recall(&indices(&hits, &ids), &exact);
            let coarse_only = c.knn(f.db().reader(), &KnnQuery::new(query, 10).oversample(1)).await?;
            single_recall += recall(&indices(&coarse_only, &ids), &exact);
        }
        let (default_recall, single_recall) = (default_recall / 30.0, single_recall / 30.0);
        assert!(default_recall >= 0.95, "{element:?}: recall@10 {default_recall}");
        assert!(
            single_recall < default_recall,
            "{element:?}: oversampling pays ({single_recall} vs {default_recall})"
        );
    }
    Ok(())
}
