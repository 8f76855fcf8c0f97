//! Retention and usage by kind of history: which rows of a project a retention rule removes
//! ([`candidates`], oldest first), removing them by id ([`delete`]), and the rows and bytes
//! each kind holds per project ([`usage`]).
//!
//! Kinds are the tables that grow with work: transcripts (with their entries), checkpoints
//! (manual ones are never candidates), metrics, episodes and artifacts (whose files the
//! artifact store removes: nexus-store's cleanup deletes them through nexus-artifacts). The SQL of each kind is fixed at
//! compile time; a kind is chosen by a Rust enum, never by text.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use crate::error::{Result, ResultExt};
use crate::{ProjectId, Timestamp};

text_enum! {
    /// A kind of history that retention applies to.
    pub enum HistoryKind {
        /// `transcripts` and their entries (bytes: the entries' text).
        Transcripts = "transcripts",
        /// `checkpoints` (bytes: the stored state; manual ones are kept).
        Checkpoints = "checkpoints",
        /// `metrics` (bytes: the metadata).
        Metrics = "metrics",
        /// `episodes` (bytes: the content).
        Episodes = "episodes",
        /// `artifacts` (bytes: what their files take on disk). [`delete`] removes only the
        /// rows; `nexus_artifacts::ArtifactStore::delete_many` removes the files too.
        Artifacts = "artifacts",
    }
}

/// What a retention rule keeps of one kind in one project; rows beyond any limit go, oldest
/// first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Rows older than this go.
    pub max_age: Option<Duration>,
    /// At most this many rows are kept (the newest).
    pub max_count: Option<u64>,
    /// At most this many bytes are kept (the newest rows that fit).
    pub max_bytes: Option<u64>,
}

/// A row a rule removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The row's id (the kind's typed id, as text).
    pub id: String,
    /// Its bytes, as [`HistoryKind`] counts them.
    pub bytes: i64,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Rows and bytes of one kind in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindUsage {
    /// The project.
    pub project_id: ProjectId,
    /// The kind.
    pub kind: HistoryKind,
    /// Rows.
    pub rows: i64,
    /// Bytes, as [`HistoryKind`] counts them.
    pub bytes: i64,
}

/// Bound values of a candidates query: the cutoff and the limits as SQLite integers.
fn bounds(limits: &Limits) -> (Option<Timestamp>, Option<i64>, Option<i64>) {
    let cutoff = limits.max_age.map(|age| Timestamp::now().minus(age));
    let count = limits.max_count.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let bytes = limits.max_bytes.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    (cutoff, count, bytes)
}

/// Expands to the candidates query of one table: `$time` is its creation-time column, `$size`
/// the row's size expression, `$only` a condition on which rows may go.
macro_rules! candidates_query {
    ($table:literal, $time:literal, $size:literal, $only:literal, $project:expr, $cutoff:expr, $count:expr, $bytes:expr) => {
        sqlx::query_as!(
            Candidate,
            r#"SELECT id AS "id!: String", bytes AS "bytes!: i64", created_at AS "created_at!: Timestamp" FROM (
                 SELECT id, "# + $time + r#" AS created_at, "# + $size + r#" AS bytes,
                        ROW_NUMBER() OVER (ORDER BY "# + $time + r#" DESC, id DESC) AS newest,
                        SUM("# + $size + r#") OVER (ORDER BY "# + $time + r#" DESC, id DESC) AS kept_bytes
                 FROM "# + $table + r#" AS t WHERE project_id = ?1 AND "# + $only + r#")
               WHERE (?2 IS NOT NULL AND created_at < ?2) OR (?3 IS NOT NULL AND newest > ?3)
                  OR (?4 IS NOT NULL AND kept_bytes > ?4)
               ORDER BY created_at, id"#,
            $project,
            $cutoff,
            $count,
            $bytes
        )
    };
}

/// The rows of `kind` in `project` that `limits` removes, oldest first.
pub async fn candidates<'e>(
    ex: impl SqliteExecutor<'e>,
    kind: HistoryKind,
    project: &ProjectId,
    limits: &Limits,
) -> Result<Vec<Candidate>> {
    let (cutoff, count, bytes) = bounds(limits);
    let rows = match kind {
        HistoryKind::Transcripts => {
            candidates_query!(
                "transcripts",
                "created_at",
                "(SELECT coalesce(sum(length(CAST(content AS BLOB))), 0) FROM transcript_entries AS e WHERE e.transcript_id = t.id)",
                "1",
                project,
                cutoff,
                count,
                bytes
            )
            .fetch_all(ex)
            .await
        }
        HistoryKind::Checkpoints => {
            candidates_query!(
                "checkpoints",
                "created_at",
                "coalesce(length(CAST(state AS BLOB)), 0)",
                "triggered_by NOT IN ('manual', 'human_request')",
                project,
                cutoff,
                count,
                bytes
            )
            .fetch_all(ex)
            .await
        }
        HistoryKind::Metrics => {
            candidates_query!(
                "metrics",
                "timestamp",
                "coalesce(length(CAST(metadata AS BLOB)), 0)",
                "1",
                project,
                cutoff,
                count,
                bytes
            )
            .fetch_all(ex)
            .await
        }
        HistoryKind::Episodes => {
            candidates_query!(
                "episodes",
                "created_at",
                "length(CAST(content AS BLOB))",
                "1",
                project,
                cutoff,
                count,
                bytes
            )
            .fetch_all(ex)
            .await
        }
        HistoryKind::Artifacts => {
            candidates_query!("artifacts", "created_at", "stored_size", "1", project, cutoff, count, bytes)
                .fetch_all(ex)
                .await
        }
    };
    rows.in_table(kind.as_str())
}

/// Deletes the rows of `kind` with these ids (what belongs to them goes too: a transcript's
/// entries, an episode's full-text entry and vectors); returns how many were deleted.
pub async fn delete<'e>(ex: impl SqliteExecutor<'e>, kind: HistoryKind, ids: &[String]) -> Result<u64> {
    let ids = sqlx::types::Json(ids);
    let done = match kind {
        HistoryKind::Transcripts => {
            sqlx::query!("DELETE FROM transcripts WHERE id IN (SELECT value FROM json_each(?))", ids)
                .execute(ex)
                .await
        }
        HistoryKind::Checkpoints => {
            sqlx::query!(
                "DELETE FROM checkpoints WHERE id IN (SELECT value FROM json_each(?))
                   AND triggered_by NOT IN ('manual', 'human_request')",
                ids
            )
            .execute(ex)
            .await
        }
        HistoryKind::Metrics => {
            sqlx::query!("DELETE FROM metrics WHERE id IN (SELECT value FROM json_each(?))", ids)
                .execute(ex)
                .await
        }
        HistoryKind::Episodes => {
            sqlx::query!("DELETE FROM episodes WHERE id IN (SELECT value FROM json_each(?))", ids)
                .execute(ex)
                .await
        }
        HistoryKind::Artifacts => {
            sqlx::query!("DELETE FROM artifacts WHERE id IN (SELECT value FROM json_each(?))", ids)
                .execute(ex)
                .await
        }
    };
    Ok(done.in_table(kind.as_str())?.rows_affected())
}

/// Rows and bytes of every kind in every project (or only `project`), by project then kind.
pub async fn usage<'e>(ex: impl SqliteExecutor<'e>, project: Option<&ProjectId>) -> Result<Vec<KindUsage>> {
    sqlx::query_as!(
        KindUsage,
        r#"SELECT project_id AS "project_id!: ProjectId", kind AS "kind!: HistoryKind",
                  count(*) AS "rows!: i64", coalesce(sum(bytes), 0) AS "bytes!: i64"
           FROM (
             SELECT t.project_id, 'transcripts' AS kind,
                    (SELECT coalesce(sum(length(CAST(content AS BLOB))), 0) FROM transcript_entries AS e
                     WHERE e.transcript_id = t.id) AS bytes
               FROM transcripts AS t
             UNION ALL SELECT project_id, 'checkpoints', coalesce(length(CAST(state AS BLOB)), 0) FROM checkpoints
             UNION ALL SELECT project_id, 'metrics', coalesce(length(CAST(metadata AS BLOB)), 0) FROM metrics
             UNION ALL SELECT project_id, 'episodes', length(CAST(content AS BLOB)) FROM episodes
             UNION ALL SELECT project_id, 'artifacts', stored_size FROM artifacts)
           WHERE ?1 IS NULL OR project_id = ?1
           GROUP BY project_id, kind ORDER BY project_id, kind"#,
        project
    )
    .fetch_all(ex)
    .await
    .in_table("usage")
}
