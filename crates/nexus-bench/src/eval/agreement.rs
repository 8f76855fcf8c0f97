//! How closely computed vectors agree with a dataset's provided ones (cosine per document and
//! per query of the split): the exactness check of the neural embedder on the whole dataset.

use std::path::Path;

use nexus_embed::Embedder;

use super::dataset::Dataset;
use super::embeddings::Vectors;

/// Lowest and mean cosine between computed and provided vectors.
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    pub docs: usize,
    pub min_doc: f32,
    pub mean_doc: f32,
    pub queries: usize,
    pub min_query: f32,
    pub mean_query: f32,
}

impl std::fmt::Display for Agreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} documents cosine min {:.5} mean {:.6}; {} queries cosine min {:.5} mean {:.6}",
            self.docs, self.min_doc, self.mean_doc, self.queries, self.min_query, self.mean_query
        )
    }
}

/// Compares `doc_vectors` (in corpus order) and the embedder's vectors of the split's queries
/// with the provided files; `None` when the dataset has none.
pub async fn with_provided(
    dir: &Path,
    dataset: &Dataset,
    doc_vectors: &[Vec<f32>],
    embedder: &dyn Embedder,
) -> anyhow::Result<Option<Agreement>> {
    if !dir.join("doc-embeddings.f32").is_file() || !dir.join("query-embeddings.f32").is_file() {
        return Ok(None);
    }
    let (provided_docs, provided_queries) = (Vectors::load(dir, "doc")?, Vectors::load(dir, "query")?);
    let docs = dataset.documents.iter().map(|d| d.id.as_str()).zip(doc_vectors.iter().map(Vec::as_slice));
    let (docs, min_doc, mean_doc) = compare(docs, &provided_docs);
    let texts: Vec<&str> = dataset.queries.values().map(String::as_str).collect();
    let query_vectors = embedder.embed(&texts).await?;
    let queries = dataset.queries.keys().map(String::as_str).zip(query_vectors.iter().map(Vec::as_slice));
    let (queries, min_query, mean_query) = compare(queries, &provided_queries);
    Ok(Some(Agreement { docs, min_doc, mean_doc, queries, min_query, mean_query }))
}

/// Count, lowest and mean cosine of the pairs that have a provided vector.
fn compare<'a>(
    computed: impl Iterator<Item = (&'a str, &'a [f32])>,
    provided: &Vectors,
) -> (usize, f32, f32) {
    let cosines: Vec<f32> =
        computed.filter_map(|(id, v)| provided.by_id.get(id).map(|p| cosine(v, p))).collect();
    let min = cosines.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len().max(1) as f32;
    (cosines.len(), min, mean)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::MIN_POSITIVE)
}
