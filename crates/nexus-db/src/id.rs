//! Row ids: one newtype per table, so an id of one table cannot be passed where another's is
//! expected. Stored as TEXT primary keys; generated as UUIDv7 when the caller does not bring
//! its own.
//!
//! UUIDv7 strings sort by creation time, so ordering by id is a stable tiebreak that also
//! follows insertion order. Any text is a valid id (callers may bring their own, such as
//! `coder-1`), so converting from a string never fails.
//!
//! Swapping the arguments of a function that takes two kinds of id does not compile:
//!
//! ```compile_fail,E0308
//! # async fn swapped(db: &nexus_db::Db, task: &nexus_db::TaskId, agent: &nexus_db::AgentId) {
//! // agents::assign_task(ex, agent_id, task_id), called with the ids the wrong way round:
//! nexus_db::agents::assign_task(db.writer(), task, agent).await;
//! # }
//! ```
//!
//! ```
//! # async fn right(db: &nexus_db::Db, task: &nexus_db::TaskId, agent: &nexus_db::AgentId) {
//! nexus_db::agents::assign_task(db.writer(), agent, task).await;
//! # }
//! ```

/// Declares a TEXT id newtype: `sqlx`- and serde-transparent, `Display`/`FromStr`/`AsRef<str>`,
/// dereferencing to `str` so it can be read wherever text is expected.
macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident => $table:literal;)+) => {$(
        $(#[$meta])*
        #[doc = concat!("\n\nThe primary key of a `", $table, "` row (TEXT).")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("A fresh, time-ordered id (UUIDv7, hyphenated lowercase) for a new `", $table, "` row.")]
            pub fn generate() -> Self {
                Self(new_id())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.to_owned()))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> Self {
                id.0.clone()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    )+};
}

typed_id! {
    /// Id of a project.
    ProjectId => "projects";
    /// Id of a feature.
    FeatureId => "features";
    /// Id of a sub-feature.
    SubFeatureId => "sub_features";
    /// Id of a task.
    TaskId => "tasks";
    /// Id of an agent.
    AgentId => "agents";
    /// Id of a checkpoint.
    CheckpointId => "checkpoints";
    /// Id of a requirement.
    RequirementId => "requirements";
    /// Id of a metric.
    MetricId => "metrics";
    /// Id of a session.
    SessionId => "sessions";
    /// Id of an episode (episodic memory).
    EpisodeId => "episodes";
    /// Id of a continue point.
    ContinuePointId => "continue_points";
    /// Id of a code chunk.
    CodeChunkId => "code_chunks";
    /// Id of a transcript.
    TranscriptId => "transcripts";
    /// Id of an artifact (a file in the artifact store).
    ArtifactId => "artifacts";
    /// Id of a user of the HTTP API.
    UserId => "users";
    /// Id of an API key (not the key: the key itself is never stored).
    ApiKeyId => "api_keys";
    /// Id of a knowledge item.
    KnowledgeId => "knowledge_items";
    /// Id of a research session.
    ResearchSessionId => "research_sessions";
    /// Id of a history entry.
    HistoryId => "history";
}

/// A fresh, time-ordered id as text (UUIDv7, hyphenated lowercase); the typed ids'
/// `generate()` use it.
///
/// ```
/// let a = nexus_db::new_id();
/// let b = nexus_db::new_id();
/// assert_eq!(a.len(), 36);
/// assert!(a < b);
/// ```
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
