//! `nexus user create|key add|key revoke|key list|own`: users of the HTTP API, their keys and
//! the projects they own. A key is printed once, when created; only its hash is stored.

use std::path::Path;

use nexus_db::{ApiKeyId, api_keys, users};

use crate::args::{KeyCommand, UserCommand};
use crate::commands::open::{Access, open_db};

/// Runs a `nexus user` subcommand on the database at `db_path`.
pub async fn run(db_path: &Path, command: &UserCommand) -> anyhow::Result<()> {
    let read_only = matches!(command, UserCommand::Key(KeyCommand::List { .. }));
    let db = open_db(db_path, if read_only { Access::ReadOnly } else { Access::ReadWrite { migrate: true } })
        .await?;
    let result = match command {
        UserCommand::Create { email, json } => {
            let user = users::create(db.writer(), email).await?;
            let key = api_keys::create(db.writer(), &user.id, Some("default")).await?;
            if *json {
                out!("{}", serde_json::json!({ "user_id": user.id, "key": key.key }))
            } else {
                out!("user {} ({})\nkey (shown once): {}", user.id, user.email, key.key)
            }
        }
        UserCommand::Key(KeyCommand::Add { email, name, json }) => {
            let user = users::find_by_email(db.reader(), email).await?;
            let key = api_keys::create(db.writer(), &user.id, name.as_deref()).await?;
            if *json {
                out!("{}", serde_json::json!({ "user_id": user.id, "key_id": key.row.id, "key": key.key }))
            } else {
                out!("key {} (shown once): {}", key.row.id, key.key)
            }
        }
        UserCommand::Key(KeyCommand::Revoke { email, key_id }) => {
            let user = users::find_by_email(db.reader(), email).await?;
            let key = api_keys::revoke(db.writer(), &user.id, &ApiKeyId::from(key_id.as_str())).await?;
            out!("revoked {} ({}…)", key.id, key.prefix)
        }
        UserCommand::Own { email, project } => {
            let user = users::find_by_email(db.reader(), email).await?;
            let project = nexus_state::find_project(&db, project).await?;
            if users::owns_project(db.reader(), &user.id, &project.id).await? {
                out!("{} already owns project {} ({})", user.email, project.name, project.id)
            } else {
                users::own_project(db.writer(), &user.id, &project.id).await.map_err(|e| match e {
                    nexus_db::DbError::Constraint { .. } => {
                        anyhow::anyhow!("project {} already has an owner", project.name)
                    }
                    other => other.into(),
                })?;
                out!("{} now owns project {} ({})", user.email, project.name, project.id)
            }
        }
        UserCommand::Key(KeyCommand::List { email, json }) => {
            let user = users::find_by_email(db.reader(), email).await?;
            let keys = api_keys::list(db.reader(), &user.id).await?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&keys)?)
            } else {
                let mut written = Ok(());
                for k in &keys {
                    let state = if k.revoked_at.is_some() { "revoked" } else { "live" };
                    let used =
                        k.last_used_at.map_or_else(|| "never".to_owned(), |t| t.as_millis().to_string());
                    written = written.and(out!(
                        "{}  {}…  {:<8} {}  last used {}",
                        k.id,
                        k.prefix,
                        state,
                        k.name.as_deref().unwrap_or("-"),
                        used
                    ));
                }
                written
            }
        }
    };
    db.close().await?;
    Ok(result?)
}
