//! check / repair.

use nexus_db::artifacts::{self, ArtifactKind, ArtifactState};
use nexus_db::projects;
use nexus_testkit::Rng;

use crate::{Fixture, TestResult, log_text, random_bytes};

#[tokio::test]
async fn check_finds_missing_corrupt_and_unreferenced_files_and_repair_fixes_them() -> TestResult {
    let f = Fixture::new().await?;
    let mut rng = Rng::new(7);
    let kept = f.put(ArtifactKind::Log, "kept", "text/plain", &log_text(&mut rng, 100)).await?.artifact;
    let lost = f.put(ArtifactKind::Log, "lost", "text/plain", &log_text(&mut rng, 100)).await?.artifact;
    let damaged_bytes = random_bytes(&mut rng, 5000);
    let damaged =
        f.put(ArtifactKind::File, "damaged", "application/octet-stream", &damaged_bytes).await?.artifact;
    assert!(f.store.check().await?.is_clean());

    std::fs::remove_file(f.store.path_of(&lost)?)?;
    let damaged_path = f.store.path_of(&damaged)?;
    std::fs::write(&damaged_path, &damaged_bytes[..4000])?;
    let stray = f.store.root().join(f.project.as_str()).join("log").join("ab").join("stray");
    std::fs::create_dir_all(stray.parent().ok_or("parent")?)?;
    std::fs::write(&stray, b"no row")?;
    let temp = f.store.root().join(".tmp").join("left.part");
    std::fs::write(&temp, b"interrupted put")?;

    let report = f.store.check().await?;
    assert_eq!(report.rows, 3);
    assert_eq!(report.missing, vec![lost.id.clone()]);
    assert_eq!(report.corrupt, vec![damaged.id.clone()]);
    let mut unreferenced = vec![stray.clone(), temp.clone()];
    unreferenced.sort();
    assert_eq!(report.unreferenced, unreferenced);

    let repaired = f.store.repair().await?;
    assert_eq!(repaired.removed, unreferenced);
    assert_eq!(repaired.marked_missing, vec![lost.id.clone()]);
    assert_eq!(repaired.marked_corrupt, vec![damaged.id.clone()]);
    assert!(!stray.exists() && !temp.exists());
    assert_eq!(artifacts::get(f.db.reader(), &lost.id).await?.state, ArtifactState::Missing);
    assert_eq!(artifacts::get(f.db.reader(), &kept.id).await?.state, ArtifactState::Present);
    let after = f.store.check().await?;
    assert!(after.unreferenced.is_empty(), "{after:?}");
    Ok(())
}

#[tokio::test]
async fn a_put_of_lost_content_restores_the_row() -> TestResult {
    let f = Fixture::new().await?;
    let bytes = log_text(&mut Rng::new(8), 200);
    let first = f.put(ArtifactKind::Log, "x", "text/plain", &bytes).await?.artifact;
    std::fs::remove_file(f.store.path_of(&first)?)?;
    f.store.repair().await?;
    assert_eq!(artifacts::get(f.db.reader(), &first.id).await?.state, ArtifactState::Missing);
    let again = f.put(ArtifactKind::Log, "x", "text/plain", &bytes).await?;
    assert!(again.deduplicated);
    assert_eq!((again.artifact.id.clone(), again.artifact.state), (first.id.clone(), ArtifactState::Present));
    assert_eq!(f.read(&first.id).await?, bytes);
    assert!(f.store.check().await?.is_clean());
    Ok(())
}

#[tokio::test]
async fn a_deleted_project_leaves_files_that_repair_removes() -> TestResult {
    let f = Fixture::new().await?;
    let put = f.put(ArtifactKind::Log, "x", "text/plain", &log_text(&mut Rng::new(9), 50)).await?.artifact;
    projects::delete(f.db.writer(), &f.project).await?;
    let report = f.store.check().await?;
    assert_eq!((report.rows, report.unreferenced.clone()), (0, vec![f.store.path_of(&put)?]));
    f.store.repair().await?;
    assert!(f.store.check().await?.is_clean());
    Ok(())
}
