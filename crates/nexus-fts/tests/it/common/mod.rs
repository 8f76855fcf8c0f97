//! Helpers shared by the integration tests: a database file in a temp dir (`nexus-testkit`)
//! and row builders.

use nexus_db::{Db, DbError, ProjectId, code_chunks, episodes, requirements, tasks, transcripts};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub use nexus_testkit::{TempDb, project};

pub async fn episode(
    db: &Db,
    project: &ProjectId,
    content: &str,
    summary: Option<&str>,
) -> Result<episodes::Episode, DbError> {
    let mut new = episodes::NewEpisode::new(project, episodes::EpisodeType::Decision, content);
    new.summary = summary.map(str::to_owned);
    episodes::create(db.writer(), new).await
}

pub async fn task(
    db: &Db,
    project: &ProjectId,
    name: &str,
    description: Option<&str>,
) -> Result<tasks::Task, DbError> {
    let mut new = tasks::NewTask::new(project, name);
    new.description = description.map(str::to_owned);
    tasks::create(db.writer(), new).await
}

pub async fn requirement(
    db: &Db,
    project: &ProjectId,
    description: &str,
    stories: &[&str],
) -> Result<requirements::Requirement, DbError> {
    let mut new = requirements::NewRequirement::new(project, "functional", description);
    new.user_stories = stories.iter().map(|s| (*s).to_owned()).collect();
    requirements::create(db.writer(), new).await
}

pub fn new_chunk(
    project: &ProjectId,
    file: &str,
    content: &str,
    symbols: &[&str],
) -> code_chunks::NewCodeChunk {
    code_chunks::NewCodeChunk {
        id: None,
        project_id: project.clone(),
        file: file.to_owned(),
        start_line: 1,
        end_line: 1 + content.lines().count() as i64,
        content: content.to_owned(),
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        chunk_type: "function".into(),
        language: "rust".into(),
        complexity: None,
        hash: format!("{:x}", content.len()),
        context: None,
        signature: None,
    }
}

pub async fn chunk(
    db: &Db,
    project: &ProjectId,
    file: &str,
    content: &str,
    symbols: &[&str],
) -> Result<code_chunks::CodeChunk, DbError> {
    code_chunks::create(db.writer(), new_chunk(project, file, content, symbols)).await
}

/// A new transcript in `project` holding one entry per text.
pub async fn transcript(
    db: &Db,
    project: &ProjectId,
    texts: &[&str],
) -> Result<transcripts::Transcript, DbError> {
    let t = transcripts::create(db.writer(), transcripts::NewTranscript::new(project.clone())).await?;
    let entries: Vec<_> =
        texts.iter().map(|text| transcripts::NewEntry::new(transcripts::Role::Assistant, *text)).collect();
    transcripts::append(db.writer(), &t.id, &entries).await?;
    Ok(t)
}
