//! The tools' arguments: one struct per tool, deserialized from the call's `arguments` and
//! described to the client by its JSON schema (the doc comments become the descriptions).

use schemars::JsonSchema;
use serde::Deserialize;

/// The kinds of episode `remember` records and `recall` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeKind {
    /// Code that was written.
    CodeGeneration,
    /// An error and how it was fixed.
    ErrorFix,
    /// What a review said.
    ReviewFeedback,
    /// A decision and its reason.
    Decision,
    /// Something found out.
    Research,
}

/// Which legs `search` runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Keyword and vector search fused with reciprocal rank fusion (the default).
    #[default]
    Hybrid,
    /// Keyword search only (BM25).
    Fts,
    /// Vector search only.
    Vector,
}

/// The kinds of rows `search` can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Chunks of indexed code and documents.
    Code,
    /// Episodes of memory.
    Episode,
    /// Requirements.
    Requirement,
    /// Tasks.
    Task,
    /// Entries of agents' transcripts (keyword matches only).
    Transcript,
}

/// `remember`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RememberArgs {
    /// The project (name or id).
    pub project: String,
    /// What kind of memory this is.
    #[serde(rename = "type")]
    pub episode_type: EpisodeKind,
    /// The memory itself (at most 1 MiB).
    pub content: String,
    /// A one-line summary, searched with the content.
    #[serde(default)]
    pub summary: Option<String>,
    /// How important it is (default 1.0; higher is kept longer when memory is pruned).
    #[serde(default)]
    pub importance: Option<f64>,
    /// The task it came from (a task id of the project).
    #[serde(default)]
    pub task_id: Option<String>,
    /// The agent that produced it (an agent id).
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `recall`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecallArgs {
    /// The project (name or id).
    pub project: String,
    /// What to look for, in words.
    pub query: String,
    /// Only episodes of these types (default: all).
    #[serde(default)]
    pub types: Option<Vec<EpisodeKind>>,
    /// At most this many episodes (default 10, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// The query: words, "phrases", prefix*, -excluded, OR.
    pub query: String,
    /// Only this project (name or id; default: every project; required on a server that
    /// authenticates with keys).
    #[serde(default)]
    pub project: Option<String>,
    /// hybrid (default), fts or vector.
    #[serde(default)]
    pub mode: Option<SearchMode>,
    /// Only these kinds of rows (default: all).
    #[serde(default)]
    pub kinds: Option<Vec<SearchKind>>,
    /// At most this many hits (default 10, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `index`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexArgs {
    /// The project to index into (name or id); a new name creates the project with this
    /// directory as its root.
    pub project: String,
    /// The directory to index: inside one of the server's roots; a relative path is taken
    /// from the first root.
    pub path: String,
}

/// `state`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateArgs {
    /// The project (name or id).
    pub project: String,
    /// A STATE.md to apply (as returned by this tool, edited). Omit it to read the state.
    /// Refused when the project changed since that STATE.md was read, unless `force`.
    #[serde(default)]
    pub markdown: Option<String>,
    /// Apply `markdown` even when the project changed since it was read.
    #[serde(default)]
    pub force: Option<bool>,
}

/// A project, for the tools that need only that.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectArgs {
    /// The project (name or id).
    pub project: String,
}

/// `tasks_ready`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TasksReadyArgs {
    /// The project (name or id).
    pub project: String,
    /// At most this many tasks (default 20, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `task_start`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStartArgs {
    /// The task's id.
    pub task_id: String,
    /// The agent starting it; an id not seen before registers a coder agent with that id.
    pub agent_id: String,
}

/// `task_complete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCompleteArgs {
    /// The task's id.
    pub task_id: String,
    /// Minutes actually spent (default: the time since it started).
    #[serde(default)]
    pub actual_minutes: Option<i64>,
}

/// `task_fail`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFailArgs {
    /// The task's id.
    pub task_id: String,
    /// Why it failed (appended to the task's notes).
    pub reason: String,
}

/// `checkpoint`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointArgs {
    /// The project (name or id).
    pub project: String,
    /// Why the checkpoint is taken.
    pub reason: String,
}

/// `continue_point_save`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinuePointArgs {
    /// The project (name or id).
    pub project: String,
    /// The task being worked on (a task id of the project).
    pub task_id: String,
    /// The last thing done.
    pub last_action: String,
    /// The file being edited.
    #[serde(default)]
    pub file: Option<String>,
    /// The line in that file.
    #[serde(default)]
    pub line: Option<i64>,
    /// The function being edited.
    #[serde(default)]
    pub function_name: Option<String>,
    /// What to do next, in order.
    #[serde(default)]
    pub next_steps: Option<Vec<String>>,
    /// The agent that was working.
    #[serde(default)]
    pub agent_id: Option<String>,
}
