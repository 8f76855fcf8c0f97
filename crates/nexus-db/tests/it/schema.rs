//! The migrated schema matches the reference spec (`nexus-database-schema.md`): every table,
//! column, foreign key and index it lists exists, and the `embedding` columns are gone.

use nexus_db::Db;

/// (table, columns) as listed in the spec, minus the `embedding` columns that nexus-vector
/// replaces.
const TABLES: &[(&str, &[&str])] = &[
    (
        "projects",
        &[
            "id",
            "name",
            "description",
            "mode",
            "status",
            "root_path",
            "repository_url",
            "settings",
            "created_at",
            "updated_at",
            "completed_at",
        ],
    ),
    (
        "features",
        &[
            "id",
            "project_id",
            "name",
            "description",
            "priority",
            "status",
            "complexity",
            "estimated_tasks",
            "completed_tasks",
            "created_at",
            "updated_at",
        ],
    ),
    ("sub_features", &["id", "feature_id", "name", "description", "status", "created_at"]),
    (
        "tasks",
        &[
            "id",
            "project_id",
            "feature_id",
            "sub_feature_id",
            "name",
            "description",
            "type",
            "status",
            "size",
            "priority",
            "tags",
            "notes",
            "assigned_agent",
            "worktree_path",
            "branch_name",
            "depends_on",
            "blocked_by",
            "qa_iterations",
            "max_iterations",
            "estimated_minutes",
            "actual_minutes",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "agents",
        &[
            "id",
            "type",
            "status",
            "model_provider",
            "model_name",
            "temperature",
            "max_tokens",
            "system_prompt",
            "tools",
            "current_task_id",
            "worktree_path",
            "branch_name",
            "tokens_used",
            "tasks_completed",
            "tasks_failed",
            "spawned_at",
            "last_activity_at",
            "terminated_at",
            "termination_reason",
        ],
    ),
    ("checkpoints", &["id", "project_id", "name", "reason", "state", "git_commit", "created_at"]),
    (
        "requirements",
        &[
            "id",
            "project_id",
            "category",
            "description",
            "priority",
            "source",
            "user_stories",
            "acceptance_criteria",
            "linked_features",
            "validated",
            "confidence",
            "tags",
            "created_at",
        ],
    ),
    ("metrics", &["id", "project_id", "agent_id", "task_id", "type", "value", "metadata", "timestamp"]),
    ("sessions", &["id", "project_id", "type", "status", "data", "started_at", "ended_at"]),
    (
        "episodes",
        &[
            "id",
            "project_id",
            "type",
            "content",
            "summary",
            "context",
            "task_id",
            "agent_id",
            "importance",
            "access_count",
            "last_accessed_at",
            "created_at",
        ],
    ),
    (
        "continue_points",
        &[
            "id",
            "project_id",
            "task_id",
            "last_action",
            "file",
            "line",
            "function_name",
            "next_steps",
            "agent_id",
            "iteration_count",
            "saved_at",
        ],
    ),
    (
        "code_chunks",
        &[
            "id",
            "project_id",
            "file",
            "start_line",
            "end_line",
            "content",
            "symbols",
            "chunk_type",
            "language",
            "complexity",
            "hash",
            "indexed_at",
        ],
    ),
];

/// (table, column, referenced table, on delete) for the spec's "belongs to" relations.
const FOREIGN_KEYS: &[(&str, &str, &str, &str)] = &[
    ("features", "project_id", "projects", "CASCADE"),
    ("sub_features", "feature_id", "features", "CASCADE"),
    ("tasks", "project_id", "projects", "CASCADE"),
    ("tasks", "feature_id", "features", "SET NULL"),
    ("tasks", "sub_feature_id", "sub_features", "SET NULL"),
    ("checkpoints", "project_id", "projects", "CASCADE"),
    ("requirements", "project_id", "projects", "CASCADE"),
    ("metrics", "project_id", "projects", "CASCADE"),
    ("sessions", "project_id", "projects", "CASCADE"),
    ("episodes", "project_id", "projects", "CASCADE"),
    ("continue_points", "project_id", "projects", "CASCADE"),
    ("code_chunks", "project_id", "projects", "CASCADE"),
];

/// (index, table, first column) for every index the spec lists.
const INDEXES: &[(&str, &str, &str)] = &[
    ("features_project_idx", "features", "project_id"),
    ("sub_features_feature_idx", "sub_features", "feature_id"),
    ("tasks_project_idx", "tasks", "project_id"),
    ("tasks_feature_idx", "tasks", "feature_id"),
    ("tasks_status_idx", "tasks", "status"),
    ("checkpoints_project_idx", "checkpoints", "project_id"),
    ("requirements_project_idx", "requirements", "project_id"),
    ("metrics_project_idx", "metrics", "project_id"),
    ("sessions_project_idx", "sessions", "project_id"),
    ("episodes_project_idx", "episodes", "project_id"),
    ("episodes_type_idx", "episodes", "type"),
    ("continue_points_project_idx", "continue_points", "project_id"),
    ("continue_points_task_idx", "continue_points", "task_id"),
    ("code_chunks_file_idx", "code_chunks", "file"),
    ("code_chunks_project_idx", "code_chunks", "project_id"),
    ("code_chunks_hash_idx", "code_chunks", "hash"),
];

#[tokio::test]
async fn every_table_and_column_of_the_spec_exists() -> nexus_db::Result<()> {
    let db = Db::in_memory().await?;
    for (table, columns) in TABLES {
        let actual: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
            .bind(table)
            .fetch_all(db.reader())
            .await
            .map_err(|e| nexus_db::DbError::from_sqlx("schema", e))?;
        assert!(!actual.is_empty(), "table {table} is missing");
        for column in *columns {
            assert!(actual.iter().any(|c| c == column), "{table}.{column} is missing (have {actual:?})");
        }
        assert!(!actual.iter().any(|c| c == "embedding"), "{table} still has an embedding column");
    }
    Ok(())
}

#[tokio::test]
async fn every_foreign_key_of_the_spec_exists_with_its_delete_rule() -> nexus_db::Result<()> {
    let db = Db::in_memory().await?;
    for (table, column, parent, on_delete) in FOREIGN_KEYS {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as(r#"SELECT "from", "table", on_delete FROM pragma_foreign_key_list(?)"#)
                .bind(table)
                .fetch_all(db.reader())
                .await
                .map_err(|e| nexus_db::DbError::from_sqlx("schema", e))?;
        assert!(
            rows.iter().any(|(from, to, rule)| from == column && to == parent && rule == on_delete),
            "{table}.{column} -> {parent} ON DELETE {on_delete} is missing (have {rows:?})"
        );
    }
    Ok(())
}

#[tokio::test]
async fn every_index_of_the_spec_exists() -> nexus_db::Result<()> {
    let db = Db::in_memory().await?;
    for (index, table, first_column) in INDEXES {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT tbl_name FROM sqlite_schema WHERE type = 'index' AND name = ?")
                .bind(index)
                .fetch_optional(db.reader())
                .await
                .map_err(|e| nexus_db::DbError::from_sqlx("schema", e))?;
        assert_eq!(owner.as_deref(), Some(*table), "index {index} is missing");
        let first: Option<String> =
            sqlx::query_scalar("SELECT name FROM pragma_index_info(?) WHERE seqno = 0")
                .bind(index)
                .fetch_optional(db.reader())
                .await
                .map_err(|e| nexus_db::DbError::from_sqlx("schema", e))?;
        assert_eq!(first.as_deref(), Some(*first_column), "index {index} does not start with {first_column}");
    }
    Ok(())
}

#[tokio::test]
async fn every_rust_enum_value_passes_its_check_constraint_and_others_fail() -> nexus_db::Result<()> {
    use nexus_db::{
        agents::*, episodes::*, features::*, metrics::*, projects::*, requirements::*, sessions::*, tasks::*,
    };
    let checks: &[(&str, &str, Vec<&str>)] = &[
        ("projects", "mode", ProjectMode::ALL.iter().map(|v| v.as_str()).collect()),
        ("projects", "status", ProjectStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("features", "priority", FeaturePriority::ALL.iter().map(|v| v.as_str()).collect()),
        ("features", "status", WorkStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("features", "complexity", Complexity::ALL.iter().map(|v| v.as_str()).collect()),
        ("sub_features", "status", WorkStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("tasks", "type", TaskType::ALL.iter().map(|v| v.as_str()).collect()),
        ("tasks", "status", TaskStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("tasks", "size", TaskSize::ALL.iter().map(|v| v.as_str()).collect()),
        ("agents", "type", AgentType::ALL.iter().map(|v| v.as_str()).collect()),
        ("agents", "status", AgentStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("agents", "model_provider", ModelProvider::ALL.iter().map(|v| v.as_str()).collect()),
        ("requirements", "priority", RequirementPriority::ALL.iter().map(|v| v.as_str()).collect()),
        ("metrics", "type", MetricType::ALL.iter().map(|v| v.as_str()).collect()),
        ("sessions", "type", SessionType::ALL.iter().map(|v| v.as_str()).collect()),
        ("sessions", "status", SessionStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ("episodes", "type", EpisodeType::ALL.iter().map(|v| v.as_str()).collect()),
    ];
    let db = Db::in_memory().await?;
    for (table, column, values) in checks {
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = ?")
            .bind(table)
            .fetch_one(db.reader())
            .await
            .map_err(|e| nexus_db::DbError::from_sqlx("schema", e))?;
        let line = sql
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("{column} ")))
            .take(2)
            .collect::<String>();
        let allowed: Vec<&str> = line
            .split("IN (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .map(|values| values.split(',').map(|v| v.trim().trim_matches('\'')).collect())
            .unwrap_or_default();
        let mut expected = values.clone();
        expected.sort_unstable();
        let mut allowed = allowed;
        allowed.sort_unstable();
        assert_eq!(allowed, expected, "{table}.{column}: CHECK and Rust enum disagree");
    }
    Ok(())
}
