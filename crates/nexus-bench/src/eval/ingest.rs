//! Loads a dataset's corpus into a Nexus database through the public API: one project, one
//! episode per document (the BEIR doc id as the episode id, `title + " " + text` as its
//! content) and, for the vector modes, each document's vector in a collection — all written
//! in one transaction, row and vector together.

use nexus_db::{Db, SourceKind, episodes, projects};
use nexus_embed::Embedder;
use nexus_vector::{Collection, Item};

use super::dataset::Dataset;
use super::embeddings::Vectors;

/// Where document vectors come from.
pub enum DocVectors<'a> {
    /// No vectors (FTS-only evaluation).
    None,
    /// The dataset's precomputed vectors.
    Provided(&'a Vectors),
    /// Computed with this embedder.
    Embedded(&'a dyn Embedder),
}

/// What [`load_corpus`] made.
pub struct Loaded {
    /// The project's id.
    pub project: nexus_db::ProjectId,
    /// The vectors computed by the embedder, in document order (`DocVectors::Embedded`).
    pub vectors: Option<Vec<Vec<f32>>>,
}

/// Creates the project, its episodes and their vectors.
pub async fn load_corpus(
    db: &Db,
    dataset: &Dataset,
    collection: Option<&Collection>,
    vectors: DocVectors<'_>,
) -> anyhow::Result<Loaded> {
    let name = dataset.dir.file_name().map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
    let contents: Vec<String> = dataset.documents.iter().map(|d| d.content()).collect();
    let embedded = match (&vectors, collection) {
        (DocVectors::Embedded(embedder), Some(_)) => {
            let texts: Vec<&str> = contents.iter().map(String::as_str).collect();
            let started = std::time::Instant::now();
            let vectors = embedder.embed(&texts).await?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "embedded {} documents with {} in {seconds:.1} s ({:.1} docs/s)",
                texts.len(),
                embedder.model(),
                texts.len() as f64 / seconds
            );
            Some(vectors)
        }
        _ => None,
    };
    let mut tx = db.begin().await?;
    let project =
        projects::create(&mut *tx, projects::NewProject::new(name, dataset.dir.display().to_string()))
            .await?;
    for (i, (doc, content)) in dataset.documents.iter().zip(&contents).enumerate() {
        let mut episode =
            episodes::NewEpisode::new(&project.id, episodes::EpisodeType::Research, content.as_str());
        episode.id = Some(doc.id.as_str().into());
        episodes::create(&mut *tx, episode).await?;
        let vector = match (&vectors, &embedded) {
            (DocVectors::Provided(provided), _) => provided.by_id.get(&doc.id).map(Vec::as_slice),
            (_, Some(embedded)) => embedded.get(i).map(Vec::as_slice),
            _ => None,
        };
        if let (Some(collection), Some(vector)) = (collection, vector) {
            collection.upsert(&mut tx, Item::new(SourceKind::Episode, &doc.id, vector)).await?;
        }
    }
    tx.commit().await?;
    Ok(Loaded { project: project.id, vectors: embedded })
}
