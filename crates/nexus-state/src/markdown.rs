//! STATE.md both ways: [`export`] writes the human-readable file (status, a progress bar,
//! current work, a features table, every task as a checkbox line, checkpoints) followed by a
//! data block holding every field of the state; [`parse`] reads it back, applying what a
//! person edited in the readable sections; [`import`] saves the result.
//!
//! Lossless: `parse(&export(&s)) == s` for every state. A readable line that is exactly what
//! `export` writes for its row changes nothing; an edited line wins over the data block:
//!
//! * `# Project State: NAME` renames the project; `- **Status:** S` sets its status;
//! * a features row `| NAME | STATUS | … | `ID` |` renames the feature or sets its status;
//! * a task line `- [x] NAME · STATUS · `ID`` ticks or unticks the task (completed, or back
//!   to pending), renames it or sets its status; a line without an id adds a task; a task
//!   whose line was deleted is deleted.
//!
//! In names, `\`, `|`, `` ` ``, `·` and line breaks are written escaped (`\|`, `\n`, …).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_db::{Db, projects::{self, NewProject}, tasks::{self, NewTask, TaskStatus}};
//! let db = Db::in_memory().await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! tasks::create(db.writer(), NewTask::new(&project.id, "cart | totals")).await?;
//! let state = nexus_state::load(&db, &project.id).await?;
//! let text = nexus_state::markdown::export(&state);
//! assert_eq!(nexus_state::markdown::parse(&text)?, state);
//!
//! let ticked = text.replace("- [ ] cart \\| totals", "- [x] cart \\| totals");
//! let saved = nexus_state::markdown::import(&db, &ticked, nexus_state::SaveMode::CheckRevision).await?;
//! assert_eq!(saved.tasks[0].status, TaskStatus::Completed);
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use nexus_db::features::WorkStatus;
use nexus_db::projects::ProjectStatus;
use nexus_db::tasks::{Task, TaskStatus};
use nexus_db::{Db, TaskId, Timestamp};

use crate::error::{Result, StateError};
use crate::save::{SaveMode, save};
use crate::snapshot::{FeatureState, ProjectState, STATE_VERSION, Summary};

const VERSION_MARKER: &str = "<!-- nexus-state version=";
const DATA_HEADING: &str = "## Data";
const TITLE: &str = "# Project State: ";
const STATUS: &str = "- **Status:** ";
const TABLE_HEAD: &str = "| Feature | Status | Progress | Id |";

/// The STATE.md text of `state`.
pub fn export(state: &ProjectState) -> String {
    let mut out = String::new();
    let s = &state.summary;
    let completed = s.tasks_by_status.get(&TaskStatus::Completed).copied().unwrap_or(0);
    let percent = (s.progress * 100.0).round().clamp(0.0, 100.0) as usize;
    let filled = percent / 10;
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{}", title_line(state));
    let _ = writeln!(out, "\n{VERSION_MARKER}{STATE_VERSION} -->\n");
    let _ = writeln!(out, "## Status");
    let _ = writeln!(out, "- **Project:** `{}`", escape(&state.project.id));
    let _ = writeln!(out, "{}", status_line(state));
    let _ = writeln!(
        out,
        "- **Progress:** {}{} {percent}% ({completed}/{} tasks)",
        "█".repeat(filled),
        "░".repeat(10 - filled),
        s.tasks_total
    );
    let _ = writeln!(out, "\n## Current Work");
    let active = state.tasks.iter().find(|t| t.status == TaskStatus::InProgress);
    match active {
        Some(task) => {
            let _ = writeln!(out, "- Active task: {} (`{}`)", escape(&task.name), escape(&task.id));
            let agent = task
                .assigned_agent
                .as_ref()
                .map_or_else(|| "None".to_owned(), |a| format!("`{}`", escape(a)));
            let _ = writeln!(out, "- Assigned agent: {agent}");
        }
        None => {
            let _ = writeln!(out, "- Active task: None");
        }
    }
    let _ = writeln!(out, "\n## Features\n{TABLE_HEAD}\n|---------|--------|----------|----|");
    for f in &state.features {
        let _ = writeln!(out, "{}", feature_row(f, s));
    }
    let _ = writeln!(out, "\n## Tasks");
    for task in &state.tasks {
        let _ = writeln!(out, "{}", task_line(task));
    }
    let _ = writeln!(out, "\n## Checkpoints");
    match &state.latest_checkpoint {
        Some(c) => {
            let _ = writeln!(
                out,
                "- Latest: `{}` ({}, {})",
                escape(&c.id),
                c.triggered_by,
                escape(c.reason.as_deref().unwrap_or("no reason given"))
            );
        }
        None => {
            let _ = writeln!(out, "- Latest: None");
        }
    }
    let _ = writeln!(out, "\n{DATA_HEADING}");
    let _ = writeln!(
        out,
        "<!-- Every field of the state, for a lossless import. Edit the sections above (task boxes, names and statuses, feature names and statuses, the project's name and status): they win over this block. -->"
    );
    // A state is plain rows: serialising it cannot fail.
    let json = serde_json::to_string_pretty(state).unwrap_or_default();
    let _ = writeln!(out, "```json\n{json}\n```");
    out
}

/// Reads a STATE.md file: the data block's state with the readable sections' edits applied
/// (see the module docs). A malformed file is a [`StateError::Markdown`] naming the line.
pub fn parse(text: &str) -> Result<ProjectState> {
    let lines: Vec<&str> = text.lines().collect();
    let version_line = lines.iter().position(|l| l.starts_with(VERSION_MARKER)).ok_or_else(|| {
        StateError::markdown(1, "not a Nexus STATE.md: no `<!-- nexus-state version=N -->` line")
    })?;
    let version = lines[version_line]
        .trim_start_matches(VERSION_MARKER)
        .trim_end_matches("-->")
        .trim()
        .parse::<u32>()
        .map_err(|_| StateError::markdown(version_line + 1, "the version is not a number"))?;
    if version != STATE_VERSION {
        return Err(StateError::UnsupportedVersion { found: version, supported: STATE_VERSION });
    }
    let original = data_block(&lines)?;
    let mut state = original.clone();
    let mut edited = false;
    let mut section = "";
    let mut seen_tasks: HashSet<TaskId> = HashSet::new();
    let mut new_tasks: Vec<Task> = Vec::new();
    let tasks_by_id: HashMap<TaskId, usize> =
        original.tasks.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
    for (index, line) in lines.iter().enumerate() {
        let n = index + 1;
        if line.starts_with("## ") {
            section = line;
            if *line == DATA_HEADING {
                break;
            }
            continue;
        }
        if line.starts_with(TITLE) && *line != title_line(&original) {
            state.project.name = unescape(line.trim_start_matches(TITLE).trim(), n)?;
            edited = true;
        } else if section == "## Status" && line.starts_with(STATUS) && *line != status_line(&original) {
            state.project.status = parse_enum::<ProjectStatus>(line.trim_start_matches(STATUS), n)?;
            edited = true;
        } else if section == "## Features"
            && line.starts_with('|')
            && *line != TABLE_HEAD
            && !line.starts_with("|--")
        {
            edited |= apply_feature_row(&mut state, &original, line, n)?;
        } else if section == "## Tasks" && (line.starts_with("- [") || line.starts_with("* [")) {
            let parsed = parse_task_line(line, n)?;
            match parsed.id.clone() {
                Some(id) => {
                    let Some(&index) = tasks_by_id.get(&id) else {
                        return Err(StateError::markdown(n, format!("unknown task id `{id}`")));
                    };
                    if !seen_tasks.insert(id.clone()) {
                        return Err(StateError::markdown(n, format!("task `{id}` appears twice")));
                    }
                    let before = &original.tasks[index];
                    if *line != task_line(before) {
                        apply_task_edit(&mut state.tasks[index], before, &parsed, n)?;
                        edited = true;
                    }
                }
                None => {
                    let stub = new_task(&state, &parsed.name);
                    let mut task = stub.clone();
                    apply_task_edit(&mut task, &stub, &parsed, n)?;
                    new_tasks.push(task);
                    edited = true;
                }
            }
        }
    }
    let before = state.tasks.len();
    state.tasks.retain(|t| seen_tasks.contains(&t.id));
    edited |= state.tasks.len() != before;
    if !new_tasks.is_empty() {
        state.tasks.extend(new_tasks);
    }
    if edited {
        state.summary = Summary::of(&state.features, &state.tasks);
    }
    Ok(state)
}

/// [`parse`]s `text` and [`save`]s the result: into an empty database this creates the
/// project with the file's ids; over a project that changed since the file was exported it is
/// refused (unless `mode` forces it). Nothing is written when the file is malformed.
pub async fn import(db: &Db, text: &str, mode: SaveMode) -> Result<ProjectState> {
    let state = parse(text)?;
    save(db, &state, mode).await
}

fn title_line(state: &ProjectState) -> String {
    format!("{TITLE}{}", escape(&state.project.name))
}

fn status_line(state: &ProjectState) -> String {
    format!("{STATUS}{}", state.project.status)
}

fn feature_row(f: &FeatureState, summary: &Summary) -> String {
    let progress = summary.features.iter().find(|p| p.feature_id == f.feature.id).map_or_else(
        || "0% (0/0)".to_owned(),
        |p| format!("{}% ({}/{})", (p.progress * 100.0).round(), p.completed, p.total),
    );
    format!(
        "| {} | {} | {progress} | `{}` |",
        escape(&f.feature.name),
        f.feature.status,
        escape(&f.feature.id)
    )
}

fn task_line(task: &Task) -> String {
    let mark = if task.status == TaskStatus::Completed { 'x' } else { ' ' };
    format!("- [{mark}] {} · {} · `{}`", escape(&task.name), task.status, escape(&task.id))
}

/// The state in the data block, with the line a JSON error points at.
fn data_block(lines: &[&str]) -> Result<ProjectState> {
    let heading = lines
        .iter()
        .position(|l| *l == DATA_HEADING)
        .ok_or_else(|| StateError::markdown(lines.len().max(1), "no `## Data` section"))?;
    let open = lines[heading..]
        .iter()
        .position(|l| l.trim() == "```json")
        .map(|i| heading + i)
        .ok_or_else(|| StateError::markdown(heading + 1, "no ```json block after `## Data`"))?;
    let close = lines[open + 1..]
        .iter()
        .position(|l| l.trim() == "```")
        .map(|i| open + 1 + i)
        .ok_or_else(|| StateError::markdown(open + 1, "the ```json block is not closed"))?;
    let json = lines[open + 1..close].join("\n");
    serde_json::from_str(&json)
        .map_err(|e| StateError::markdown(open + 1 + e.line(), format!("data block: {e}")))
}

fn apply_feature_row(
    state: &mut ProjectState,
    original: &ProjectState,
    line: &str,
    n: usize,
) -> Result<bool> {
    let cells = split_unescaped(line.trim().trim_start_matches('|').trim_end_matches('|'), '|');
    let [name, status, _progress, id] = cells.as_slice() else {
        return Err(StateError::markdown(n, "a features row has four cells: name, status, progress, id"));
    };
    let id = unescape(id.trim().trim_matches('`'), n)?;
    let index = original
        .features
        .iter()
        .position(|f| f.feature.id == id.as_str())
        .ok_or_else(|| StateError::markdown(n, format!("unknown feature id `{id}`")))?;
    if line == feature_row(&original.features[index], &original.summary) {
        return Ok(false);
    }
    let feature = &mut state.features[index].feature;
    feature.name = unescape(name.trim(), n)?;
    feature.status = parse_enum::<WorkStatus>(status, n)?;
    feature.updated_at = Timestamp::now();
    Ok(true)
}

/// A task line as written: `- [x] NAME · STATUS · `ID``, or `- [ ] NAME` for a new task.
struct TaskLine {
    checked: bool,
    name: String,
    status: Option<TaskStatus>,
    id: Option<TaskId>,
}

fn parse_task_line(line: &str, n: usize) -> Result<TaskLine> {
    let rest = &line[2..];
    let (checked, rest) = if let Some(rest) = rest.strip_prefix("[ ]") {
        (false, rest)
    } else if let Some(rest) = rest.strip_prefix("[x]").or_else(|| rest.strip_prefix("[X]")) {
        (true, rest)
    } else {
        return Err(StateError::markdown(n, "a task line starts with `- [ ]` or `- [x]`"));
    };
    let parts = split_unescaped(rest.trim(), '·');
    match parts.as_slice() {
        [name] => Ok(TaskLine { checked, name: unescape(name.trim(), n)?, status: None, id: None }),
        [name, status, id] => Ok(TaskLine {
            checked,
            name: unescape(name.trim(), n)?,
            status: Some(parse_enum::<TaskStatus>(status, n)?),
            id: Some(TaskId::from(unescape(id.trim().trim_matches('`'), n)?)),
        }),
        _ => Err(StateError::markdown(
            n,
            "a task line is `- [ ] NAME · STATUS · `ID`` (or `- [ ] NAME` for a new task)",
        )),
    }
}

/// Applies an edited task line to `task` (`before` is the task as the data block has it).
fn apply_task_edit(task: &mut Task, before: &Task, line: &TaskLine, n: usize) -> Result<()> {
    let mut status = line.status.unwrap_or(before.status);
    if line.checked != (status == TaskStatus::Completed) {
        if status != before.status {
            return Err(StateError::markdown(
                n,
                format!(
                    "the box says {} but the status says {status}",
                    if line.checked { "done" } else { "not done" }
                ),
            ));
        }
        status = if line.checked { TaskStatus::Completed } else { TaskStatus::Pending };
    }
    let now = Timestamp::now();
    task.name.clone_from(&line.name);
    if status != before.status {
        task.status = status;
        task.completed_at = (status == TaskStatus::Completed).then_some(before.completed_at.unwrap_or(now));
    }
    task.updated_at = now;
    Ok(())
}

/// A new pending task named `name` in `state`'s project (the defaults of `NewTask::new`).
fn new_task(state: &ProjectState, name: &str) -> Task {
    let now = Timestamp::now();
    Task {
        id: TaskId::generate(),
        project_id: state.project.id.clone(),
        feature_id: None,
        sub_feature_id: None,
        name: name.to_owned(),
        description: None,
        task_type: nexus_db::tasks::TaskType::Auto,
        status: TaskStatus::Pending,
        size: nexus_db::tasks::TaskSize::Small,
        priority: 5,
        tags: Vec::new(),
        notes: Vec::new(),
        assigned_agent: None,
        worktree_path: None,
        branch_name: None,
        depends_on: Vec::new(),
        blocked_by: None,
        qa_iterations: 0,
        max_iterations: 50,
        estimated_minutes: Some(15),
        actual_minutes: None,
        started_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
    }
}

fn parse_enum<T: std::str::FromStr<Err = String>>(text: &str, n: usize) -> Result<T> {
    text.trim().parse::<T>().map_err(|e| StateError::markdown(n, e))
}

/// Escapes text for a STATE.md line: `\`, `|`, `` ` ``, `·`, and line breaks.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '`' | '·' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape`].
fn unescape(text: &str, n: usize) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => return Err(StateError::markdown(n, "a line ends with a lone `\\`")),
        }
    }
    Ok(out)
}

/// Splits `text` at every `sep` not escaped with a backslash.
fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips_hostile_text() {
        for text in ["a | b", "`code`", "line\nbreak\r\n", "back\\slash\\", "mid·dot", "# heading 🦀", ""]
        {
            assert_eq!(unescape(&escape(text), 1).ok().as_deref(), Some(text));
            assert_eq!(split_unescaped(&escape(text), '|').len(), 1, "{text:?}");
        }
    }
}
