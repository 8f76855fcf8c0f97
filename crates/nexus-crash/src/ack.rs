//! The acknowledgement log: one JSON line per write the API reported committed.
//!
//! The child appends a line only after the call returned `Ok`, and syncs the file before
//! starting its next write, so every line is a write that Nexus acknowledged. A kill can tear
//! the last line; [`read`] ignores a last line that does not parse (that acknowledgement was
//! never complete).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// One acknowledged write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ack {
    /// The project the workload writes into was created.
    Project {
        /// Its id.
        id: String,
    },
    /// `Store::remember` returned this episode.
    Episode {
        /// The episode id.
        id: String,
        /// SHA-256 (hex) of the content written.
        hash: String,
    },
    /// A task transaction committed with the task in this status.
    Task {
        /// The task id.
        id: String,
        /// The status it was left in (`pending`, `in_progress`, `completed`).
        status: String,
    },
    /// `Store::index_dir` returned `Ok` for the tree as listed.
    Index {
        /// Path → content hash of every file the walk yielded.
        files: BTreeMap<String, String>,
    },
}

impl Ack {
    /// The kind of write, as in the log's `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Ack::Project { .. } => "project",
            Ack::Episode { .. } => "episode",
            Ack::Task { .. } => "task",
            Ack::Index { .. } => "index",
        }
    }
}

/// Appends acknowledgements to a log file, syncing each.
#[derive(Debug)]
pub struct AckLog {
    file: File,
}

impl AckLog {
    /// Opens (creating) the log at `path` for appending.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening ack log {}", path.display()))?;
        Ok(Self { file })
    }

    /// Appends `ack` as one line and syncs the file.
    pub fn append(&mut self, ack: &Ack) -> Result<()> {
        let mut line = serde_json::to_string(ack)?;
        line.push('\n');
        self.file.write_all(line.as_bytes()).context("writing ack log")?;
        self.file.sync_data().context("syncing ack log")?;
        Ok(())
    }
}

/// Reads every complete acknowledgement of the log at `path` (none when it does not exist).
///
/// # Errors
/// When a line other than the last does not parse: the log itself is damaged.
pub fn read(path: &Path) -> Result<Vec<Ack>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("opening ack log {}", path.display())),
    };
    let lines: Vec<String> = BufReader::new(file).lines().collect::<std::io::Result<_>>()?;
    let mut acks = Vec::with_capacity(lines.len());
    for (n, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(ack) => acks.push(ack),
            // A torn last line: the child was killed while acknowledging.
            Err(_) if n + 1 == lines.len() => {}
            Err(e) => bail!("ack log line {} does not parse: {e}", n + 1),
        }
    }
    Ok(acks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_ignored() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("acks.jsonl");
        let mut log = AckLog::open(&path)?;
        log.append(&Ack::Project { id: "p".into() })?;
        log.append(&Ack::Task { id: "t".into(), status: "pending".into() })?;
        drop(log);
        std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"{\"kind\":\"epi")?;
        assert_eq!(read(&path)?.len(), 2);
        Ok(())
    }
}
