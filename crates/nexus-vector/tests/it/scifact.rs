//! Quantised recall on real embeddings: SciFact documents and queries embedded with
//! all-MiniLM-L6-v2 (384 dimensions), from `$NEXUS_EVAL_DIR/scifact` (default
//! `/work/shared/eval`). Skipped, with a message, when the data is absent.
#![allow(clippy::print_stderr)]

use crate::common;

use std::path::PathBuf;

use common::{TestResult, brute_force, cosine_distance, fixture, project};
use nexus_db::{SourceKind, episodes};
use nexus_vector::{Collection, CollectionSpec, Element, Item, KnnQuery, Metric};

const DIMS: usize = 384;
const QUERIES: usize = 60;

fn read_vectors(path: &PathBuf) -> TestResult<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path)?;
    let floats =
        nexus_db::f32s_from_bytes(&bytes).ok_or("the vector file's length is not a multiple of 4")?;
    Ok(floats.chunks_exact(DIMS).map(<[f32]>::to_vec).collect())
}

#[tokio::test]
async fn int8_and_bit_reach_recall_095_on_scifact() -> TestResult {
    let root =
        std::env::var_os("NEXUS_EVAL_DIR").map_or_else(|| PathBuf::from("/work/shared/eval"), PathBuf::from);
    let dir = root.join("scifact");
    if !dir.join("doc-embeddings.f32").exists() {
        eprintln!("skipped: no SciFact embeddings in {} (set NEXUS_EVAL_DIR)", dir.display());
        return Ok(());
    }
    let docs = read_vectors(&dir.join("doc-embeddings.f32"))?;
    let queries = read_vectors(&dir.join("query-embeddings.f32"))?;
    let f = fixture().await?;
    let p = project(f.db(), "scifact").await?;
    let int8 =
        CollectionSpec::new("minilm_int8", "all-MiniLM-L6-v2", 384, Metric::Cosine).element(Element::Int8);
    let bit = CollectionSpec { name: "minilm_bit".into(), element: Element::Bit, ..int8.clone() };
    let collections =
        [Collection::open_or_create(f.db(), &int8).await?, Collection::open_or_create(f.db(), &bit).await?];

    let mut tx = f.db().begin().await?;
    let mut ids = Vec::with_capacity(docs.len());
    for doc in &docs {
        let episode = episodes::NewEpisode::new(&p, episodes::EpisodeType::Research, "a SciFact abstract");
        let id = episodes::create(&mut *tx, episode).await?.id;
        for c in &collections {
            c.upsert(&mut tx, Item::new(SourceKind::Episode, &id, doc)).await?;
        }
        ids.push(id);
    }
    tx.commit().await?;

    for c in &collections {
        let mut found = 0;
        for query in queries.iter().take(QUERIES) {
            let exact = brute_force(&docs, query, 10, cosine_distance);
            let hits = c.knn(f.db().reader(), &KnnQuery::new(query, 10).project(&p)).await?;
            found += exact.iter().filter(|(i, _)| hits.iter().any(|h| h.id == ids[*i])).count();
        }
        let recall = found as f64 / (10 * QUERIES) as f64;
        eprintln!("{}: recall@10 {recall:.3} over {QUERIES} SciFact queries", c.name());
        assert!(recall >= 0.95, "{}: recall@10 {recall}", c.name());
    }
    Ok(())
}
