//! The tools: memory (`remember`, `recall`), code (`index`, `search`) and project state
//! (`state`, `tasks_ready`, `task_start`, `task_complete`, `task_fail`, `checkpoint`,
//! `continue_point_save`, `resume`). Each returns JSON text (STATE.md for `state`), or a tool
//! error whose message says what to change. Each reaches only the projects of its caller's
//! scope (over HTTP with a key, the key's user's: a new project is theirs, `search` needs a
//! project).

use std::sync::Arc;

use nexus_store::db::agents::{self, AgentType, NewAgent};
use nexus_store::db::continue_points::NewContinuePoint;
use nexus_store::db::episodes::{EpisodeType, NewEpisode};
use nexus_store::db::projects::{self, NewProject};
use nexus_store::db::{AgentId, DbError, ProjectId, SourceKind, TaskId};
use nexus_store::search::{Mode, Source};
use nexus_store::state::{self, CheckpointRequest, CheckpointSummary, SaveMode, markdown, workflow};
use nexus_store::{IndexProgress, RecallOptions};
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
use crate::roots::Roots;
use crate::scope::{Caller, Scope};
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
    pub async fn remember(
        &self,
        Parameters(args): Parameters<RememberArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| remember(scope, args)).await
    }

    /// `recall`.
    #[tool(
        description = "Find a project's episodes of memory most relevant to a query (keyword and vector \
search fused), best first, each with its id, type, content, score and matched snippet.",
        annotations(read_only_hint = true)
    )]
    pub async fn recall(
        &self,
        Parameters(args): Parameters<RecallArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| recall(scope, args)).await
    }

    /// `search`.
    #[tool(
        description = "Search indexed code and documents, memory, requirements and tasks. Code hits give \
file:start-end lines and symbols, episode hits their id and type; each hit has a score and a snippet \
(matched words marked). mode: hybrid (default), fts (keywords only) or vector.",
        annotations(read_only_hint = true)
    )]
    pub async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| search(scope, args)).await
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
        let (roots, request) = (Arc::clone(&self.roots), context.clone());
        self.run(&context, move |scope| index(scope, roots, args, request)).await
    }

    /// `state`.
    #[tool(description = "A project's state as STATE.md (features, tasks with ids and statuses, \
requirements, progress). With markdown: apply that STATE.md (read with this tool and edited) and return \
the new one; refused when the project changed since it was read, unless force is true. Applying a \
STATE.md of a project that does not exist yet creates it.")]
    pub async fn state(
        &self,
        Parameters(args): Parameters<StateArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        let roots = Arc::clone(&self.roots);
        self.run(&context, move |scope| state(scope, roots, args)).await
    }

    /// `tasks_ready`.
    #[tool(
        description = "The project's tasks that can be started now (pending or queued, every dependency \
completed), in priority order.",
        annotations(read_only_hint = true)
    )]
    pub async fn tasks_ready(
        &self,
        Parameters(args): Parameters<TasksReadyArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| tasks_ready(scope, args)).await
    }

    /// `task_start`.
    #[tool(description = "Start a task as an agent (refused while a dependency is unfinished). An agent \
id not seen before is registered as a coder agent.")]
    pub async fn task_start(
        &self,
        Parameters(args): Parameters<TaskStartArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| task_start(scope, args)).await
    }

    /// `task_complete`.
    #[tool(description = "Mark a started task completed (the agent becomes idle; the feature's progress \
and the metrics follow).")]
    pub async fn task_complete(
        &self,
        Parameters(args): Parameters<TaskCompleteArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| task_complete(scope, args)).await
    }

    /// `task_fail`.
    #[tool(description = "Mark a task failed with a reason (appended to its notes; one more QA \
iteration counted). qa_exhausted is true when the task has used all its QA iterations.")]
    pub async fn task_fail(
        &self,
        Parameters(args): Parameters<TaskFailArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| task_fail(scope, args)).await
    }

    /// `checkpoint`.
    #[tool(description = "Take a checkpoint of the project's state (with the git commit of its root), \
to diff against or restore later. Returns the checkpoint's id.")]
    pub async fn checkpoint(
        &self,
        Parameters(args): Parameters<CheckpointArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| checkpoint(scope, args)).await
    }

    /// `continue_point_save`.
    #[tool(description = "Save where work on a task stopped (last action, file, line, function, next \
steps) so that it can be resumed later with resume.")]
    pub async fn continue_point_save(
        &self,
        Parameters(args): Parameters<ContinuePointArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| continue_point_save(scope, args)).await
    }

    /// `resume`.
    #[tool(
        description = "Where to pick the project's work up: the latest continue point of each unfinished \
task, newest first.",
        annotations(read_only_hint = true)
    )]
    pub async fn resume(
        &self,
        Parameters(args): Parameters<ProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult> {
        self.run(&context, move |scope| resume(scope, args)).await
    }
}

async fn remember(scope: Scope, args: RememberArgs) -> Result<CallToolResult> {
    let store = &scope.store;
    let project = scope.find(&args.project).await?;
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
        task_of_project(&scope, &project.id, &task).await?;
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

async fn recall(scope: Scope, args: RecallArgs) -> Result<CallToolResult> {
    check_query(&args.query)?;
    let project = scope.find(&args.project).await?;
    let options = RecallOptions {
        types: args.types.unwrap_or_default().into_iter().map(episode_type).collect(),
        limit: limit(args.limit, 10)?,
        ..RecallOptions::default()
    };
    let recalled = scope.store.recall(&project.id, &args.query, &options).await?;
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

async fn search(scope: Scope, args: SearchArgs) -> Result<CallToolResult> {
    check_query(&args.query)?;
    let mode = match args.mode.unwrap_or_default() {
        SearchMode::Hybrid => Mode::Hybrid,
        SearchMode::Fts => Mode::FtsOnly,
        SearchMode::Vector => Mode::VectorOnly,
    };
    let kinds: Vec<SourceKind> = args.kinds.unwrap_or_default().into_iter().map(source_kind).collect();
    let project = match (&args.project, &scope.caller) {
        (Some(name), _) => Some(scope.find(name).await?.id),
        (None, Caller::Local) => None,
        (None, Caller::User(_)) => {
            let known = scope.known_projects().await?;
            return Err(invalid("project", format!("is required with an API key; your projects: {known}")));
        }
    };
    let store = &scope.store;
    let mut search =
        store.search().text(args.query.as_str()).mode(mode).kinds(kinds).limit(limit(args.limit, 10)?);
    if let Some(project) = project {
        search = search.project(project);
    }
    let results = search.execute().await?;
    let hits: Vec<Value> =
        results.hits.iter().map(|hit| hit_json(&hit.source, hit.score, hit.snippet.as_deref())).collect();
    json_result(&json!({ "query": args.query, "hits": hits }))
}

async fn index(
    scope: Scope,
    roots: Arc<Roots>,
    args: IndexArgs,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResult> {
    let path = roots.resolve(&args.path)?;
    if !path.is_dir() {
        return Err(invalid("path", format!("{} is not a directory", path.display())));
    }
    let new = NewProject::new(args.project.as_str(), path.display().to_string());
    let project_id = scope.find_or_create(new).await?.id;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(usize, usize, usize)>();
    let work = scope.store.index_dir(&project_id, &path, move |p: &IndexProgress| {
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

async fn state(scope: Scope, roots: Arc<Roots>, args: StateArgs) -> Result<CallToolResult> {
    let db = scope.store.db();
    let Some(text) = args.markdown else {
        let project = scope.find(&args.project).await?;
        let state = state::load(db, &project.id).await?;
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
    // An existing project must be in reach; a new one becomes the caller's.
    let existing = match projects::get(db.reader(), &parsed.project.id).await {
        Ok(project) => Some(project),
        Err(DbError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let exists = existing.is_some();
    if exists {
        scope.find(&parsed.project.id).await?;
    }
    if existing.is_none_or(|p| p.root_path != parsed.project.root_path) {
        check_root(&scope, &roots, &parsed.project.root_path)?;
    }
    let mode = if args.force.unwrap_or(false) { SaveMode::Force } else { SaveMode::CheckRevision };
    let saved = markdown::import(db, &text, mode).await?;
    if !exists {
        scope.own(&saved.project.id).await?;
    }
    Ok(text_result(markdown::export(&saved)))
}

async fn tasks_ready(scope: Scope, args: TasksReadyArgs) -> Result<CallToolResult> {
    let project = scope.find(&args.project).await?;
    let ready = workflow::ready(scope.store.db(), &project.id, limit(args.limit, 20)?).await?;
    json_result(&json!({ "project": project.name, "tasks": ready }))
}

async fn task_start(scope: Scope, args: TaskStartArgs) -> Result<CallToolResult> {
    let db = scope.store.db();
    let task = scope.task(&TaskId::from(args.task_id)).await?.id;
    let agent = AgentId::from(args.agent_id);
    match agents::get(db.reader(), &agent).await {
        Ok(_) => {}
        Err(DbError::NotFound { .. }) => {
            let new = NewAgent { id: Some(agent.clone()), ..NewAgent::new(AgentType::Coder) };
            agents::create(db.writer(), new).await?;
        }
        Err(e) => return Err(e.into()),
    }
    json_result(&workflow::start(db, &task, &agent).await?)
}

async fn task_complete(scope: Scope, args: TaskCompleteArgs) -> Result<CallToolResult> {
    if args.actual_minutes.is_some_and(|m| m < 0) {
        return Err(invalid("actual_minutes", "must be >= 0".to_owned()));
    }
    let task = scope.task(&TaskId::from(args.task_id)).await?.id;
    json_result(&workflow::complete(scope.store.db(), &task, args.actual_minutes).await?)
}

async fn task_fail(scope: Scope, args: TaskFailArgs) -> Result<CallToolResult> {
    let task = scope.task(&TaskId::from(args.task_id)).await?.id;
    let failed = workflow::fail(scope.store.db(), &task, &args.reason).await?;
    json_result(&json!({ "task": failed.task, "qa_exhausted": failed.qa_exhausted }))
}

async fn checkpoint(scope: Scope, args: CheckpointArgs) -> Result<CallToolResult> {
    let project = scope.find(&args.project).await?;
    let request = CheckpointRequest::manual(args.reason);
    json_result(&CheckpointSummary::from(&state::checkpoint(scope.store.db(), &project.id, request).await?))
}

async fn continue_point_save(scope: Scope, args: ContinuePointArgs) -> Result<CallToolResult> {
    let project = scope.find(&args.project).await?;
    let mut new = NewContinuePoint::new(&project.id, args.task_id, args.last_action);
    new.file = args.file;
    new.line = args.line;
    new.function_name = args.function_name;
    new.next_steps = args.next_steps.unwrap_or_default();
    new.agent_id = args.agent_id.map(AgentId::from);
    json_result(&state::save_continue_point(scope.store.db(), new).await?)
}

async fn resume(scope: Scope, args: ProjectArgs) -> Result<CallToolResult> {
    let project = scope.find(&args.project).await?;
    let points = state::resume(scope.store.db(), &project.id).await?;
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

/// One search hit as JSON: its kind, where it is (the kind's own fields), its score and its
/// snippet (the keyword leg's, else the start of the hit's text).
fn hit_json(source: &Source, score: f64, snippet: Option<&str>) -> Value {
    let (kind, full, mut hit) = match source {
        Source::CodeChunk(c) => (
            "code",
            &c.content,
            json!({
                "location": format!("{}:{}-{}", c.file, c.start_line, c.end_line),
                "file": c.file,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "symbols": c.symbols,
                "language": c.language,
            }),
        ),
        Source::Episode(e) => ("episode", &e.content, json!({ "type": e.episode_type })),
        Source::Requirement(r) => ("requirement", &r.description, json!({ "category": r.category })),
        Source::Task(t) => ("task", &t.name, json!({ "name": t.name, "status": t.status })),
        Source::TranscriptEntry(e) => (
            "transcript",
            &e.content,
            json!({ "transcript_id": e.transcript_id, "seq": e.seq, "role": e.role }),
        ),
    };
    hit["kind"] = json!(kind);
    hit["id"] = json!(source.id());
    hit["score"] = json!(score);
    hit["snippet"] = json!(snippet.map_or_else(|| excerpt(full), str::to_owned));
    hit
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
async fn task_of_project(scope: &Scope, project: &ProjectId, task: &TaskId) -> Result<()> {
    if &scope.task(task).await?.project_id != project {
        return Err(invalid("task_id", format!("task {task} belongs to another project")));
    }
    Ok(())
}

/// Over HTTP, a project's root set by a caller must be an `api://` name (no `..`) or an
/// absolute directory inside the server's roots: checkpoints run git in a project's root, and
/// a user must not make the server probe any directory (docs/server.md, "Project roots").
/// Over stdio the caller started the server and may name any root.
fn check_root(scope: &Scope, roots: &Roots, root: &str) -> Result<()> {
    if scope.caller == Caller::Local {
        return Ok(());
    }
    let api_name = root.strip_prefix("api://").is_some_and(|name| !name.split('/').any(|part| part == ".."));
    let inside = std::path::Path::new(root).is_absolute() && roots.resolve(root).is_ok();
    if api_name || inside {
        return Ok(());
    }
    Err(invalid(
        "markdown",
        format!(
            "root_path {root:?} is not allowed over HTTP: use an api:// name or a directory inside the server's roots"
        ),
    ))
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

impl NexusServer {
    /// Runs a tool's work on the scope of the call's caller, on a thread of its own (tokio's
    /// blocking pool, driving the future with the runtime's handle): a panic becomes a tool
    /// error instead of taking the server down, and the work's future need not be `Send` (the
    /// store's search future is not provably `Send` for every lifetime, which rmcp's boxed
    /// handlers require).
    async fn run<F, Fut>(&self, context: &RequestContext<RoleServer>, work: F) -> Result<CallToolResult>
    where
        F: FnOnce(Scope) -> Fut + Send + 'static,
        Fut: Future<Output = Result<CallToolResult>>,
    {
        let scope = self.scope(context)?;
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || handle.block_on(work(scope)))
            .await
            .unwrap_or_else(|e| Err(McpError::Internal(e.to_string())))
    }
}
