//! put / get / verify / dedup / limits / deletion.

use nexus_artifacts::{ArtifactError, PutOptions, StoreOptions};
use nexus_db::artifacts::{ArtifactKind, Compression};
use nexus_db::{Page, sha256_hex};
use nexus_testkit::Rng;

use crate::{Fixture, TestResult, log_text, random_bytes};

#[tokio::test]
async fn text_round_trips_compressed_under_the_layout() -> TestResult {
    let f = Fixture::new().await?;
    let log = log_text(&mut Rng::new(1), 20_000); // ~1.3 MiB: many blocks
    let put = f.put(ArtifactKind::Log, "build.log", "text/plain", &log).await?;
    let a = &put.artifact;
    assert!(!put.deduplicated);
    assert_eq!(a.compression, Compression::Zstd);
    assert_eq!(a.size, log.len() as i64);
    assert!(a.stored_size * 4 < a.size, "log compresses at least 4x: {} of {}", a.stored_size, a.size);
    assert_eq!(a.sha256, sha256_hex(&log));
    let expected =
        f.db.path()
            .with_extension("db.artifacts")
            .join(f.project.as_str())
            .join("log")
            .join(&a.sha256[..2])
            .join(format!("{}.zst", a.sha256));
    assert_eq!(f.store.path_of(a)?, expected);
    assert_eq!(std::fs::metadata(&expected)?.len(), a.stored_size as u64);
    assert_eq!(f.read(&a.id).await?, log);
    let content = f.store.get(&a.id).await?;
    assert_eq!(
        (content.artifact.content_type.as_str(), content.artifact.size),
        ("text/plain", log.len() as i64)
    );
    assert!(f.store.verify(&a.id).await?);
    Ok(())
}

#[tokio::test]
async fn binary_round_trips_uncompressed() -> TestResult {
    let f = Fixture::new().await?;
    let bytes = random_bytes(&mut Rng::new(2), 300_000);
    let put = f.put(ArtifactKind::File, "blob.bin", "application/octet-stream", &bytes).await?;
    assert_eq!(put.artifact.compression, Compression::None);
    assert_eq!(put.artifact.stored_size, bytes.len() as i64);
    assert_eq!(f.read(&put.artifact.id).await?, bytes);
    assert!(f.store.path_of(&put.artifact)?.to_string_lossy().ends_with(&put.artifact.sha256));
    // The empty artifact too.
    let empty = f.put(ArtifactKind::File, "empty", "text/plain", b"").await?;
    assert_eq!((empty.artifact.size, empty.artifact.compression), (0, Compression::None));
    assert!(f.read(&empty.artifact.id).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn compression_is_skipped_when_it_does_not_pay() -> TestResult {
    let f = Fixture::new().await?;
    let mut rng = Rng::new(3);
    let text = log_text(&mut rng, 3_000);
    // Compressible bytes declared as an already compressed type: stored as they are.
    let gz = f.put(ArtifactKind::Bundle, "x.tar.gz", "application/gzip", &text).await?;
    assert_eq!(gz.artifact.compression, Compression::None);
    // A compressible first block followed by megabytes of noise: the whole does not pay.
    let mut mixed = log_text(&mut rng, 2_000);
    mixed.extend(random_bytes(&mut rng, 4 << 20));
    let put = f.put(ArtifactKind::Other, "mixed", "application/octet-stream", &mixed).await?;
    assert_eq!(put.artifact.compression, Compression::None);
    assert_eq!(put.artifact.stored_size, mixed.len() as i64);
    assert_eq!(f.read(&put.artifact.id).await?, mixed);
    assert_eq!(std::fs::read_dir(f.store.root().join(".tmp"))?.count(), 0, "no temporary file is left");
    Ok(())
}

#[tokio::test]
async fn identical_content_is_stored_once_per_project_and_kind() -> TestResult {
    let f = Fixture::new().await?;
    let log = log_text(&mut Rng::new(4), 500);
    let first = f.put(ArtifactKind::Log, "a.log", "text/plain", &log).await?;
    let second = f.put(ArtifactKind::Log, "b.log", "text/plain", &log).await?;
    assert!(second.deduplicated);
    assert_eq!(second.artifact, first.artifact, "the first row is returned");
    let other_kind = f.put(ArtifactKind::File, "a.log", "text/plain", &log).await?;
    assert!(!other_kind.deduplicated);
    assert_eq!(f.store.list(&f.project, Some(ArtifactKind::Log), Page::default()).await?.len(), 1);
    assert_eq!(f.store.list(&f.project, None, Page::default()).await?.len(), 2);
    // One file for the log kind.
    let log_dir = f.store.root().join(f.project.as_str()).join("log");
    let files: usize = std::fs::read_dir(&log_dir)?
        .map(|d| d.map(|d| std::fs::read_dir(d.path()).map(|r| r.count())))
        .sum::<Result<Result<usize, _>, _>>()??;
    assert_eq!(files, 1);
    // Another project stores its own copy.
    let q = nexus_testkit::project(&f.db, "q").await?;
    let theirs =
        f.store.put(&q, ArtifactKind::Log, "a.log", "text/plain", &log[..], PutOptions::default()).await?;
    assert!(!theirs.deduplicated);
    assert_ne!(theirs.artifact.id, first.artifact.id);
    Ok(())
}

#[tokio::test]
async fn names_and_project_ids_that_leave_the_root_are_refused() -> TestResult {
    let f = Fixture::new().await?;
    for name in
        ["../escape", "a/../../b", "/etc/passwd", "\\\\server\\share", "C:\\x", "nul\0byte", "", "..\\up"]
    {
        let err = f.put(ArtifactKind::File, name, "text/plain", b"x").await.err();
        assert!(matches!(err, Some(ArtifactError::BadName { .. })), "{name:?}: {err:?}");
    }
    f.put(ArtifactKind::File, "dir/file..txt", "text/plain", b"x").await?;
    let evil = nexus_db::ProjectId::from("../../etc".to_owned());
    let err = f
        .store
        .put(&evil, ArtifactKind::File, "x", "text/plain", &b"x"[..], PutOptions::default())
        .await
        .err();
    assert!(matches!(err, Some(ArtifactError::BadProjectId(_))), "{err:?}");
    let unknown = nexus_db::ProjectId::from("nope".to_owned());
    let err = f
        .store
        .put(&unknown, ArtifactKind::File, "x", "text/plain", &b"x"[..], PutOptions::default())
        .await
        .err();
    assert!(matches!(err, Some(ArtifactError::Db(nexus_db::DbError::NotFound { .. }))), "{err:?}");
    assert!(!f.store.root().join("etc").exists() && !f.store.root().join("nope").exists());
    Ok(())
}

#[tokio::test]
async fn content_over_the_limit_is_refused_and_nothing_stays() -> TestResult {
    let f = Fixture::with_options(StoreOptions { max_size: 1000, ..StoreOptions::default() }).await?;
    let big = vec![b'a'; 1001];
    // Declared too large: refused before reading.
    let hinted = PutOptions { size_hint: Some(5000), ..PutOptions::default() };
    let err = f.store.put(&f.project, ArtifactKind::Log, "x", "text/plain", &b""[..], hinted).await.err();
    assert!(matches!(err, Some(ArtifactError::TooLarge { size: 5000, limit: 1000 })), "{err:?}");
    // Found too large while reading.
    let err = f.put(ArtifactKind::Log, "x", "text/plain", &big).await.err();
    assert!(matches!(err, Some(ArtifactError::TooLarge { limit: 1000, .. })), "{err:?}");
    let err = f.put(ArtifactKind::Log, "x", "text/plain", &vec![b'a'; 200_000]).await.err();
    assert!(matches!(err, Some(ArtifactError::TooLarge { limit: 1000, .. })), "{err:?}");
    f.put(ArtifactKind::Log, "x", "text/plain", &big[..1000]).await?;
    let report = f.store.check().await?;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.rows, 1);
    Ok(())
}

#[tokio::test]
async fn verify_detects_a_flipped_byte() -> TestResult {
    let f = Fixture::new().await?;
    let mut rng = Rng::new(5);
    for (bytes, content_type) in [
        (random_bytes(&mut rng, 10_000), "application/octet-stream"),
        (log_text(&mut rng, 1000), "text/plain"),
    ] {
        let put = f.put(ArtifactKind::File, "f", content_type, &bytes).await?;
        assert!(f.store.verify(&put.artifact.id).await?);
        let path = f.store.path_of(&put.artifact)?;
        let mut stored = std::fs::read(&path)?;
        let middle = stored.len() / 2;
        stored[middle] ^= 0x01;
        std::fs::write(&path, stored)?;
        assert!(!f.store.verify(&put.artifact.id).await?, "{content_type}: a flipped byte is found");
    }
    Ok(())
}

#[tokio::test]
async fn deleting_removes_files() -> TestResult {
    let f = Fixture::new().await?;
    let mut rng = Rng::new(6);
    let one = f.put(ArtifactKind::Log, "1", "text/plain", &log_text(&mut rng, 10)).await?;
    let two = f.put(ArtifactKind::Diff, "2", "text/x-diff", &log_text(&mut rng, 10)).await?;
    f.store.delete(&one.artifact.id).await?;
    assert!(!f.store.path_of(&one.artifact)?.exists());
    assert!(f.store.path_of(&two.artifact)?.exists());
    assert_eq!(f.store.delete_project(&f.project).await?, 1);
    assert!(!f.store.root().join(f.project.as_str()).exists());
    assert!(matches!(
        f.store.get(&two.artifact.id).await.err(),
        Some(ArtifactError::Db(nexus_db::DbError::NotFound { .. }))
    ));
    Ok(())
}
