//! Loads a dataset's corpus into a Nexus database through the public API: one project, one
//! episode per document, the BEIR doc id as the episode id and `title + " " + text` as its
//! content. Search hits then carry the doc id directly.

use nexus_db::{Db, episodes, projects};

use super::dataset::Dataset;

/// Creates the project and its episodes in one transaction; returns the project id.
pub async fn load_corpus(db: &Db, dataset: &Dataset) -> anyhow::Result<String> {
    let name = dataset.dir.file_name().map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
    let mut tx = db.begin().await?;
    let project =
        projects::create(&mut *tx, projects::NewProject::new(name, dataset.dir.display().to_string()))
            .await?;
    for doc in &dataset.documents {
        let mut episode =
            episodes::NewEpisode::new(&project.id, episodes::EpisodeType::Research, doc.content());
        episode.id = Some(doc.id.clone());
        episodes::create(&mut *tx, episode).await?;
    }
    tx.commit().await?;
    Ok(project.id)
}
