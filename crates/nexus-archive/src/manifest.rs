//! The archive's manifest (`manifest.json`, the first member): format and schema versions, the
//! Nexus version, the projects, the vector collections with their embedding model, and every
//! other member with its rows, size and SHA-256. Member names never contain user text:
//! projects are numbered, artifacts named by kind and digest.

use nexus_vector::CollectionSpec;
use serde::{Deserialize, Serialize};

/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the manifest member (always the first member).
pub const MANIFEST_MEMBER: &str = "manifest.json";

/// The `format` field of every manifest.
pub const FORMAT_NAME: &str = "nexus-archive";

/// Largest manifest accepted on import (64 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The highest migration applied to the exported database.
    pub migration_version: Option<i64>,
    /// The version of Nexus that wrote the archive.
    pub nexus_version: String,
    /// True for a whole-workspace archive (`--all`), false for one project.
    pub workspace: bool,
    /// The projects, numbered by their position (member names use the number).
    pub projects: Vec<ProjectEntry>,
    /// The vector collections the archive has vectors of (model and dimensions included).
    pub collections: Vec<CollectionSpec>,
    /// Every member after the manifest, in archive order.
    pub members: Vec<Member>,
}

/// An archived project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEntry {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One member: where it is, what it holds, its size and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its path in the archive.
    pub name: String,
    /// The project (index into [`Manifest::projects`]).
    pub project: usize,
    /// What it holds.
    pub content: MemberContent,
    /// Rows (table and vector members; 1 for an artifact file).
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// What a member holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MemberContent {
    /// Rows of a table, one JSON array per line in the order of `columns`.
    Table {
        /// The table.
        table: String,
        /// Its columns, as the exporting database had them.
        columns: Vec<String>,
    },
    /// Vectors of a collection: `[kind, source id, label, little-endian f32 hex]` per line.
    Vectors {
        /// The collection's name (in [`Manifest::collections`]).
        collection: String,
    },
    /// An artifact's stored file, byte for byte.
    Artifact {
        /// Its kind.
        kind: String,
        /// SHA-256 of its original content (the `artifacts.sha256` column).
        sha256: String,
    },
}

impl Manifest {
    /// Rows per table, vectors and artifact files, summed over the projects.
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for member in &self.members {
            let key = match &member.content {
                MemberContent::Table { table, .. } => table.clone(),
                MemberContent::Vectors { .. } => "vectors".to_owned(),
                MemberContent::Artifact { .. } => "artifact files".to_owned(),
            };
            *counts.entry(key).or_default() += member.rows;
        }
        counts
    }
}
