//! The tools: memory (`remember`, `recall`), code (`index`, `search`) and project state
//! (`state`, `tasks_ready`, `task_start`, `task_complete`, `task_fail`, `checkpoint`,
//! `continue_point_save`, `resume`). Each returns JSON text (STATE.md for `state`), or a tool
//! error whose message says what to change.

use std::sync::Arc;

use nexus_store::IndexProgress;
use nexus_store::db::agents::{self, AgentType, NewAgent};
use nexus_store::db::continue_points::NewContinuePoint;
use nexus_store::db::episodes::{EpisodeType, NewEpisode};
use nexus_store::db::projects::{self, NewProject};
use nexus_store::db::{AgentId, DbError, ProjectId, SourceKind, TaskId, tasks};
use nexus_store::search::{Mode, Source};
use nexus_store::state::{self, CheckpointRequest, CheckpointSummary, SaveMode, markdown, workflow};
use nexus_store::{RecallOptions, Store};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{McpError, Result};
use crate::params::{
    CheckpointArgs, ContinuePointArgs, EpisodeKind, IndexArgs, ProjectArgs, RecallArgs, RememberArgs,
    SearchArgs, SearchKind, SearchMode, StateArgs, TaskCompleteArgs, TaskFailArgs, TaskStartArgs,
    TasksReadyArgs,
};
use crate::project;
use crate::roots::Roots;
use crate::server::NexusServer;

/// Longest query `search` and `recall` accept, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Most results `search`, `recall` and `tasks_ready` return.
pub const MAX_LIMIT: u32 = 100;
/// Characters of a hit's text shown when the keyword leg gave no snippet.
const EXCERPT_CHARS: usize = 300;

#[tool_router(vis = "pub(crate)")]
impl NexusServer {
    /// `remember`.
    #[tool(description = "Record an episode of memory in a project: a decision, an error and its fix, \
review feedback, research, generated code. Returns the episode's id. Recall it later with recall.")]
    pub async fn remember(&self, Parameters(args): Parameters<RememberArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || remember(store, args)).await
    }

    /// `recall`.
    #[tool(
        description = "Find a project's episodes of memory most relevant to a query (keyword and vector \
search fused), best first, each with its id, type, content, score and matched snippet.",
        annotations(read_only_hint = true)
    )]
    pub async fn recall(&self, Parameters(args): Parameters<RecallArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || recall(store, args)).await
    }

    /// `search`.
    #[tool(
        description = "Search indexed code and documents, memory, requirements and tasks. Code hits give \
file:start-end lines and symbols, episode hits their id and type; each hit has a score and a snippet \
(matched words marked). mode: hybrid (default), fts (keywords only) or vector.",
        annotations(read_only_hint = true)
    )]
    pub async fn search(&self, Parameters(args): Parameters<SearchArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || search(store, args)).await
    }

    /// `index`.
    #[tool(description = "Index a directory's code and documents into a project (created when the name \
is new) for search; re-runs are incremental. The path must be inside the roots the server was started \
with (a relative path is taken from the first root). Reports progress and stops when cancelled.")]
    pub async fn index(
        &self,
        Parameters(args): Parameters<IndexArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        let (store, roots) = (self.store.clone(), Arc::clone(&self.roots));
        isolated(move || index(store, roots, args, context)).await
    }

    /// `state`.
    #[tool(description = "A project's state as STATE.md (features, tasks with ids and statuses, \
requirements, progress). With markdown: apply that STATE.md (read with this tool and edited) and return \
the new one; refused when the project changed since it was read, unless force is true. Applying a \
STATE.md of a project that does not exist yet creates it.")]
    pub async fn state(&self, Parameters(args): Parameters<StateArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || state(store, args)).await
    }

    /// `tasks_ready`.
    #[tool(
        description = "The project's tasks that can be started now (pending or queued, every dependency \
completed), in priority order.",
        annotations(read_only_hint = true)
    )]
    pub async fn tasks_ready(&self, Parameters(args): Parameters<TasksReadyArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || tasks_ready(store, args)).await
    }

    /// `task_start`.
    #[tool(description = "Start a task as an agent (refused while a dependency is unfinished). An agent \
id not seen before is registered as a coder agent.")]
    pub async fn task_start(&self, Parameters(args): Parameters<TaskStartArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || task_start(store, args)).await
    }

    /// `task_complete`.
    #[tool(description = "Mark a started task completed (the agent becomes idle; the feature's progress \
and the metrics follow).")]
    pub async fn task_complete(
        &self,
        Parameters(args): Parameters<TaskCompleteArgs>,
    ) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || task_complete(store, args)).await
    }

    /// `task_fail`.
    #[tool(description = "Mark a task failed with a reason (appended to its notes; one more QA \
iteration counted). qa_exhausted is true when the task has used all its QA iterations.")]
    pub async fn task_fail(&self, Parameters(args): Parameters<TaskFailArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || task_fail(store, args)).await
    }

    /// `checkpoint`.
    #[tool(description = "Take a checkpoint of the project's state (with the git commit of its root), \
to diff against or restore later. Returns the checkpoint's id.")]
    pub async fn checkpoint(&self, Parameters(args): Parameters<CheckpointArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || checkpoint(store, args)).await
    }

    /// `continue_point_save`.
    #[tool(description = "Save where work on a task stopped (last action, file, line, function, next \
steps) so that it can be resumed later with resume.")]
    pub async fn continue_point_save(
        &self,
        Parameters(args): Parameters<ContinuePointArgs>,
    ) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || continue_point_save(store, args)).await
    }

    /// `resume`.
    #[tool(
        description = "Where to pick the project's work up: the latest continue point of each unfinished \
task, newest first.",
        annotations(read_only_hint = true)
    )]
    pub async fn resume(&self, Parameters(args): Parameters<ProjectArgs>) -> Result<CallToolResult> {
        let store = self.store.clone();
        isolated(move || resume(store, args)).await
    }
}

async fn remember(store: Store, args: RememberArgs) -> Result<CallToolResult> {
    let project = project::find(&store, &args.project).await?;
    let mut new = NewEpisode::new(&project.id, episode_type(args.episode_type), args.content);
    new.summary = args.summary;
    if let Some(importance) = args.importance {
        if !importance.is_finite() || importance < 0.0 {
            return Err(invalid("importance", format!("{importance} is not a finite number >= 0")));
        }
        new.importance = importance;
    }
    if let Some(task) = args.task_id {
        let task = TaskId::from(task);
        task_of_project(&store, &project.id, &task).await?;
        new.task_id = Some(task);
    }
    if let Some(agent) = args.agent_id {
        let agent = AgentId::from(agent);
        match agents::get(store.db().reader(), &agent).await {
            Ok(_) => new.agent_id = Some(agent),
            Err(DbError::NotFound { .. }) => {
                return Err(invalid(
                    "agent_id",
                    format!(
                        "unknown agent {agent}; omit agent_id or name an agent that exists (task_start registers one)"
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let episode = store.remember(new).await?;
    json_result(&json!({
        "id": episode.id,
        "project": project.name,
        "type": episode.episode_type,
        "created_at": episode.created_at,
    }))
}

async fn recall(store: Store, args: RecallArgs) -> Result<CallToolResult> {
    check_query(&args.query)?;
    let project = project::find(&store, &args.project).await?;
    let options = RecallOptions {
        types: args.types.unwrap_or_default().into_iter().map(episode_type).collect(),
        limit: limit(args.limit, 10)?,
        ..RecallOptions::default()
    };
    let recalled = store.recall(&project.id, &args.query, &options).await?;
    let episodes: Vec<Value> = recalled
        .iter()
        .map(|r| {
            json!({
                "id": r.episode.id,
                "type": r.episode.episode_type,
                "content": r.episode.content,
                "summary": r.episode.summary,
                "importance": r.episode.importance,
                "task_id": r.episode.task_id,
                "agent_id": r.episode.agent_id,
                "created_at": r.episode.created_at,
                "score": r.score,
                "snippet": r.snippet,
            })
        })
        .collect();
    json_result(&json!({ "project": project.name, "episodes": episodes }))
}

async fn search(store: Store, args: SearchArgs) -> Result<CallToolResult> {
    check_query(&args.query)?;
    let mode = match args.mode.unwrap_or_default() {
        SearchMode::Hybrid => Mode::Hybrid,
        SearchMode::Fts => Mode::FtsOnly,
        SearchMode::Vector => Mode::VectorOnly,
    };
    let kinds: Vec<SourceKind> = args.kinds.unwrap_or_default().into_iter().map(source_kind).collect();
    let mut search =
        store.search().text(args.query.as_str()).mode(mode).kinds(kinds).limit(limit(args.limit, 10)?);
    if let Some(name) = &args.project {
        search = search.project(project::find(&store, name).await?.id);
    }
    let results = search.execute().await?;
    let hits: Vec<Value> =
        results.hits.iter().map(|hit| hit_json(&hit.source, hit.score, hit.snippet.as_deref())).collect();
    json_result(&json!({ "query": args.query, "hits": hits }))
}

async fn index(
    store: Store,
    roots: Arc<Roots>,
    args: IndexArgs,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult> {
    let path = roots.resolve(&args.path)?;
    if !path.is_dir() {
        return Err(invalid("path", format!("{} is not a directory", path.display())));
    }
    let project_id = match project::find(&store, &args.project).await {
        Ok(found) => found.id,
        Err(McpError::UnknownProject { .. }) => {
            let new = NewProject::new(args.project.as_str(), path.display().to_string());
            projects::get_or_create(store.db().writer(), new).await?.0.id
        }
        Err(e) => return Err(e),
    };
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(usize, usize, usize)>();
    let work = store.index_dir(&project_id, &path, move |p: &IndexProgress| {
        // The receiver lives as long as the call: a failed send only means it was cancelled.
        let _ = sender.send((p.files_done, p.files_total, p.chunks_written));
    });
    let token = context.meta.get_progress_token();
    let peer = context.peer.clone();
    let forward = async move {
        let mut sent: Option<usize> = None;
        while let Some((done, total, chunks)) = receiver.recv().await {
            let Some(token) = &token else { continue };
            // Progress must increase from one notification to the next.
            if sent.is_some_and(|last| done <= last) {
                continue;
            }
            sent = Some(done);
            let note = ProgressNotificationParam::new(token.clone(), done as f64)
                .with_total(total.max(done) as f64)
                .with_message(format!("{done}/{total} files, {chunks} chunks written"));
            if let Err(e) = peer.notify_progress(note).await {
                tracing::debug!(error = %e, "progress notification not delivered");
            }
        }
    };
    let report = tokio::select! {
        () = context.ct.cancelled() => {
            return Err(McpError::Cancelled {
                what: format!("indexing {} stopped; what was written stays, run index again to finish", path.display()),
            });
        }
        (report, ()) = async { tokio::join!(work, forward) } => report?,
    };
    json_result(&json!({
        "project_id": project_id,
        "path": path.display().to_string(),
        "files_seen": report.files_seen,
        "files_indexed": report.files_indexed,
        "files_unchanged": report.files_unchanged,
        "files_removed": report.files_removed,
        "files_skipped": report.files_skipped,
        "chunks_written": report.chunks_written,
        "chunks_removed": report.chunks_removed,
        "unreadable": report.unreadable,
        "elapsed_ms": report.elapsed.as_millis(),
    }))
}

async fn state(store: Store, args: StateArgs) -> Result<CallToolResult> {
    let Some(text) = args.markdown else {
        let project = project::find(&store, &args.project).await?;
        let state = state::load(store.db(), &project.id).await?;
        return Ok(text_result(markdown::export(&state)));
    };
    let parsed = markdown::parse(&text)?;
    if parsed.project.id != args.project && parsed.project.name != args.project {
        return Err(invalid(
            "markdown",
            format!(
                "it is the STATE.md of project {} ({}), not of {:?}",
                parsed.project.name, parsed.project.id, args.project
            ),
        ));
    }
    let mode = if args.force.unwrap_or(false) { SaveMode::Force } else { SaveMode::CheckRevision };
    let saved = markdown::import(store.db(), &text, mode).await?;
    Ok(text_result(markdown::export(&saved)))
}

async fn tasks_ready(store: Store, args: TasksReadyArgs) -> Result<CallToolResult> {
    let project = project::find(&store, &args.project).await?;
    let ready = workflow::ready(store.db(), &project.id, limit(args.limit, 20)?).await?;
    json_result(&json!({ "project": project.name, "tasks": ready }))
}

async fn task_start(store: Store, args: TaskStartArgs) -> Result<CallToolResult> {
    let task = TaskId::from(args.task_id);
    let agent = AgentId::from(args.agent_id);
    tasks::get(store.db().reader(), &task).await.map_err(|e| unknown_task(e, &task))?;
    match agents::get(store.db().reader(), &agent).await {
        Ok(_) => {}
        Err(DbError::NotFound { .. }) => {
            let new = NewAgent { id: Some(agent.clone()), ..NewAgent::new(AgentType::Coder) };
            agents::create(store.db().writer(), new).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let started = workflow::start(store.db(), &task, &agent).await?;
    json_result(&started)
}

async fn task_complete(store: Store, args: TaskCompleteArgs) -> Result<CallToolResult> {
    if args.actual_minutes.is_some_and(|m| m < 0) {
        return Err(invalid("actual_minutes", "must be >= 0".to_owned()));
    }
    let task = TaskId::from(args.task_id);
    tasks::get(store.db().reader(), &task).await.map_err(|e| unknown_task(e, &task))?;
    json_result(&workflow::complete(store.db(), &task, args.actual_minutes).await?)
}

async fn task_fail(store: Store, args: TaskFailArgs) -> Result<CallToolResult> {
    let task = TaskId::from(args.task_id);
    tasks::get(store.db().reader(), &task).await.map_err(|e| unknown_task(e, &task))?;
    let failed = workflow::fail(store.db(), &task, &args.reason).await?;
    json_result(&json!({ "task": failed.task, "qa_exhausted": failed.qa_exhausted }))
}

async fn checkpoint(store: Store, args: CheckpointArgs) -> Result<CallToolResult> {
    let project = project::find(&store, &args.project).await?;
    let taken = state::checkpoint(store.db(), &project.id, CheckpointRequest::manual(args.reason)).await?;
    json_result(&CheckpointSummary::from(&taken))
}

async fn continue_point_save(store: Store, args: ContinuePointArgs) -> Result<CallToolResult> {
    let project = project::find(&store, &args.project).await?;
    let mut new = NewContinuePoint::new(&project.id, args.task_id, args.last_action);
    new.file = args.file;
    new.line = args.line;
    new.function_name = args.function_name;
    new.next_steps = args.next_steps.unwrap_or_default();
    new.agent_id = args.agent_id.map(AgentId::from);
    json_result(&state::save_continue_point(store.db(), new).await?)
}

async fn resume(store: Store, args: ProjectArgs) -> Result<CallToolResult> {
    let project = project::find(&store, &args.project).await?;
    let points = state::resume(store.db(), &project.id).await?;
    json_result(&json!({ "project": project.name, "continue_points": points }))
}

fn episode_type(kind: EpisodeKind) -> EpisodeType {
    match kind {
        EpisodeKind::CodeGeneration => EpisodeType::CodeGeneration,
        EpisodeKind::ErrorFix => EpisodeType::ErrorFix,
        EpisodeKind::ReviewFeedback => EpisodeType::ReviewFeedback,
        EpisodeKind::Decision => EpisodeType::Decision,
        EpisodeKind::Research => EpisodeType::Research,
    }
}

fn source_kind(kind: SearchKind) -> SourceKind {
    match kind {
        SearchKind::Code => SourceKind::CodeChunk,
        SearchKind::Episode => SourceKind::Episode,
        SearchKind::Requirement => SourceKind::Requirement,
        SearchKind::Task => SourceKind::Task,
        SearchKind::Transcript => SourceKind::TranscriptEntry,
    }
}

/// One search hit as JSON: where it is and what it says.
fn hit_json(source: &Source, score: f64, snippet: Option<&str>) -> Value {
    let text = |full: &str| snippet.map_or_else(|| excerpt(full), str::to_owned);
    match source {
        Source::CodeChunk(c) => json!({
            "kind": "code",
            "id": c.id,
            "location": format!("{}:{}-{}", c.file, c.start_line, c.end_line),
            "file": c.file,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "symbols": c.symbols,
            "language": c.language,
            "score": score,
            "snippet": text(&c.content),
        }),
        Source::Episode(e) => json!({
            "kind": "episode",
            "id": e.id,
            "type": e.episode_type,
            "score": score,
            "snippet": text(&e.content),
        }),
        Source::Requirement(r) => json!({
            "kind": "requirement",
            "id": r.id,
            "category": r.category,
            "score": score,
            "snippet": text(&r.description),
        }),
        Source::Task(t) => json!({
            "kind": "task",
            "id": t.id,
            "name": t.name,
            "status": t.status,
            "score": score,
            "snippet": text(&t.name),
        }),
        Source::TranscriptEntry(e) => json!({
            "kind": "transcript",
            "id": source.id(),
            "transcript_id": e.transcript_id,
            "seq": e.seq,
            "role": e.role,
            "score": score,
            "snippet": text(&e.content),
        }),
    }
}

/// The first [`EXCERPT_CHARS`] characters of `text`.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn check_query(query: &str) -> Result<()> {
    if query.trim().is_empty() {
        return Err(invalid("query", "is empty; give words to look for".to_owned()));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(invalid(
            "query",
            format!("is {} bytes, more than {MAX_QUERY_BYTES}; use a few distinctive words", query.len()),
        ));
    }
    Ok(())
}

fn limit(given: Option<u32>, default: u32) -> Result<u32> {
    match given {
        None => Ok(default),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(invalid("limit", format!("{n} is not between 1 and {MAX_LIMIT}"))),
    }
}

/// Checks that `task` is a task of `project`.
async fn task_of_project(store: &Store, project: &ProjectId, task: &TaskId) -> Result<()> {
    match tasks::get(store.db().reader(), task).await {
        Ok(row) if &row.project_id == project => Ok(()),
        Ok(_) => Err(invalid("task_id", format!("task {task} belongs to another project"))),
        Err(e) => Err(unknown_task(e, task)),
    }
}

fn unknown_task(error: DbError, task: &TaskId) -> McpError {
    match error {
        DbError::NotFound { .. } => {
            invalid("task_id", format!("unknown task {task}; tasks_ready or state lists the project's tasks"))
        }
        other => other.into(),
    }
}

fn invalid(argument: &'static str, reason: String) -> McpError {
    McpError::Invalid { argument, reason }
}

fn text_result(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn json_result(value: &impl Serialize) -> Result<CallToolResult> {
    Ok(text_result(serde_json::to_string(value)?))
}

/// Runs a tool's work on a thread of its own (tokio's blocking pool, driving the future with
/// the runtime's handle): a panic becomes a tool error instead of taking the server down, and
/// the work's future need not be `Send` (the store's search future is not provably `Send` for
/// every lifetime, which rmcp's boxed handlers require).
async fn isolated<F, Fut>(work: F) -> Result<CallToolResult>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<CallToolResult>>,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work()))
        .await
        .unwrap_or_else(|e| Err(McpError::Internal(e.to_string())))
}
