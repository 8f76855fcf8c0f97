//! Shared test fixtures: a database file in a temp dir and seeded random vectors (from
//! `nexus-testkit`), source rows, clustered vectors and a brute-force KNN to compare sqlite-vec's answers with.

use nexus_db::{
    ProjectId, SourceKind, code_chunks, episodes,
    episodes::{EpisodeType, NewEpisode},
    requirements, tasks, transcripts,
};
use sqlx::SqliteConnection;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub use nexus_testkit::{Rng, TempDb, project};

/// A migrated database file in a temp dir.
pub async fn fixture() -> TestResult<TempDb> {
    Ok(TempDb::new().await?)
}

/// Creates a source row of `kind` in `project` and returns its id.
pub async fn source_row(
    conn: &mut SqliteConnection,
    kind: SourceKind,
    project: &ProjectId,
) -> TestResult<String> {
    Ok(match kind {
        SourceKind::Episode => {
            episodes::create(conn, NewEpisode::new(project, EpisodeType::Decision, "an episode"))
                .await?
                .id
                .into()
        }
        SourceKind::CodeChunk => {
            let chunk = code_chunks::NewCodeChunk {
                id: None,
                project_id: project.clone(),
                file: "src/lib.rs".into(),
                start_line: 1,
                end_line: 2,
                content: "fn f() {}".into(),
                symbols: vec![],
                chunk_type: "function".into(),
                language: "rust".into(),
                complexity: None,
                hash: "h".into(),
                context: None,
                signature: None,
            };
            code_chunks::create(conn, chunk).await?.id.into()
        }
        SourceKind::Requirement => requirements::create(
            conn,
            requirements::NewRequirement::new(project, "functional", "a requirement"),
        )
        .await?
        .id
        .into(),
        SourceKind::Task => tasks::create(conn, tasks::NewTask::new(project, "a task")).await?.id.into(),
        SourceKind::TranscriptEntry => {
            let t = transcripts::create(&mut *conn, transcripts::NewTranscript::new(project.clone())).await?;
            let entry = transcripts::NewEntry::new(transcripts::Role::User, "an entry");
            transcripts::append(&mut *conn, &t.id, &[entry]).await?;
            transcripts::entry_key(&t.id, 1)
        }
    })
}

/// `n` vectors around `clusters` random centres: structured like real embeddings, unlike
/// uniform noise.
pub fn clustered(rng: &mut Rng, n: usize, dims: usize, clusters: usize, spread: f32) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| rng.vector(dims)).collect();
    (0..n).map(|i| centres[i % clusters].iter().map(|c| c + spread * rng.gaussian()).collect()).collect()
}

pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    (1.0 - dot / (na * nb)) as f32
}

pub fn l2_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>().sqrt() as f32
}

/// Indices of the `k` nearest of `data` to `query` (ties by index), with their distances.
pub fn brute_force(
    data: &[Vec<f32>],
    query: &[f32],
    k: usize,
    distance: fn(&[f32], &[f32]) -> f32,
) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = data.iter().enumerate().map(|(i, v)| (i, distance(v, query))).collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}
