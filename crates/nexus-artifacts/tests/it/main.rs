//! Integration tests of nexus-artifacts on real files: a database and an artifact root in a
//! temporary directory each.

mod crash;
mod integrity;
mod store;

use nexus_artifacts::{ArtifactStore, PutOptions, PutOutcome, StoreOptions};
use nexus_db::artifacts::ArtifactKind;
use nexus_db::{ArtifactId, ProjectId};
use nexus_testkit::{Rng, TempDb, project};
use tokio::io::AsyncReadExt as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A database file, one project and a store with default options (root beside the file).
struct Fixture {
    db: TempDb,
    project: ProjectId,
    store: ArtifactStore,
}

impl Fixture {
    async fn new() -> Result<Self, Box<dyn std::error::Error>> {
        Self::with_options(StoreOptions::default()).await
    }

    async fn with_options(options: StoreOptions) -> Result<Self, Box<dyn std::error::Error>> {
        let db = TempDb::new().await?;
        let project = project(&db, "p").await?;
        let store = ArtifactStore::open_with(&db, options).await?;
        Ok(Self { db, project, store })
    }

    /// Puts `bytes` as an artifact of the fixture's project.
    async fn put(
        &self,
        kind: ArtifactKind,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> nexus_artifacts::Result<PutOutcome> {
        self.store.put(&self.project, kind, name, content_type, bytes, PutOptions::default()).await
    }

    /// The original bytes of an artifact, read back through `get`.
    async fn read(&self, id: &ArtifactId) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut content = self.store.get(id).await?;
        let mut bytes = Vec::new();
        content.reader.read_to_end(&mut bytes).await?;
        Ok(bytes)
    }
}

/// `lines` lines of a plausible build log (compresses well).
fn log_text(rng: &mut Rng, lines: usize) -> Vec<u8> {
    let mut text = String::new();
    for i in 0..lines {
        let word = rng.word(6);
        text.push_str(&format!("[{i:06}] INFO compiling crate {word} (target/debug/deps/{word}.rlib) ok\n"));
    }
    text.into_bytes()
}

/// `len` random bytes (incompressible).
fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
