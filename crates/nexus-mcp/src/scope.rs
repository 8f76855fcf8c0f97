//! [`Scope`]: what a call may reach — the store, and the projects of its [`Caller`]. Over
//! stdio that is every project; over HTTP only the projects the key's user owns
//! (`project_owners`, as for `nexus serve`), and a project out of reach answers exactly like
//! one that does not exist. A project is named by id first, then by name.

use nexus_store::Store;
use nexus_store::db::projects::{self, NewProject, Project, ProjectFilter};
use nexus_store::db::{ConstraintKind, Cursor, DbError, MAX_PAGE, ProjectId, TaskId, UserId, tasks, users};
use nexus_store::state::StateError;

use crate::error::{McpError, Result};

/// How many projects an unknown-project error lists at most.
const LISTED: usize = 20;

/// Who makes a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// Over stdio: whoever started the server, who may reach every project.
    Local,
    /// Over HTTP: the user whose key authenticated the request, who reaches only the
    /// projects they own.
    User(UserId),
}

/// The store as one call may use it.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The store.
    pub(crate) store: Store,
    /// Who calls.
    pub(crate) caller: Caller,
}

impl Scope {
    /// True when the caller may reach `project`.
    pub(crate) async fn reaches(&self, project: &ProjectId) -> Result<bool> {
        match &self.caller {
            Caller::Local => Ok(true),
            Caller::User(user) => Ok(users::owns_project(self.store.db().reader(), user, project).await?),
        }
    }

    /// The project named `name_or_id`, when the caller may reach it; otherwise an error
    /// listing the projects they may reach.
    pub(crate) async fn find(&self, name_or_id: &str) -> Result<Project> {
        match nexus_store::state::find_project(self.store.db(), name_or_id).await {
            Ok(project) if self.reaches(&project.id).await? => Ok(project),
            Ok(_) | Err(StateError::UnknownProject(_)) => Err(self.unknown_project(name_or_id).await?),
            Err(e) => Err(e.into()),
        }
    }

    /// The projects the caller may reach (over HTTP: newest first).
    pub(crate) async fn projects(&self) -> Result<Vec<Project>> {
        let reader = self.store.db().reader();
        let Caller::User(user) = &self.caller else {
            return Ok(projects::list(reader, &ProjectFilter::default()).await?);
        };
        let mut cursor = Cursor { after: None, limit: MAX_PAGE };
        let mut all = Vec::new();
        loop {
            let page = users::owned_projects(reader, user, &cursor).await?;
            for id in &page.items {
                all.push(projects::get(reader, id).await?);
            }
            match page.next_cursor {
                Some(next) => cursor.after = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// The task `task`, when it is a task of a project the caller may reach.
    pub(crate) async fn task(&self, task: &TaskId) -> Result<tasks::Task> {
        match tasks::get(self.store.db().reader(), task).await {
            Ok(row) if self.reaches(&row.project_id).await? => Ok(row),
            Ok(_) => Err(unknown_task(task)),
            Err(DbError::NotFound { .. }) => Err(unknown_task(task)),
            Err(e) => Err(e.into()),
        }
    }

    /// The project `new` names, created (and owned by the caller over HTTP) when no project
    /// has its name.
    pub(crate) async fn find_or_create(&self, new: NewProject) -> Result<Project> {
        let name = new.name.clone();
        match self.find(&name).await {
            Err(McpError::UnknownProject { .. }) => {}
            found => return found,
        }
        let Caller::User(user) = &self.caller else {
            return Ok(projects::get_or_create(self.store.db().writer(), new).await?.0);
        };
        let mut tx = self.store.db().begin().await?;
        let project = match projects::create(&mut *tx, new).await {
            Ok(project) => project,
            Err(e) if e.is_constraint(ConstraintKind::Unique) => {
                return Err(McpError::Invalid {
                    argument: "project",
                    reason: format!(
                        "a project named {name:?} exists that this key cannot reach; choose another name"
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        };
        users::own_project(&mut *tx, user, &project.id).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(project)
    }

    /// Makes the caller the owner of `project`, which they just created (over stdio: nothing
    /// to do).
    pub(crate) async fn own(&self, project: &ProjectId) -> Result<()> {
        if let Caller::User(user) = &self.caller {
            users::own_project(self.store.db().writer(), user, project).await?;
        }
        Ok(())
    }

    /// The names and ids of the projects the caller may reach, for an error message.
    pub(crate) async fn known_projects(&self) -> Result<String> {
        let all = self.projects().await?;
        let mut known: Vec<String> =
            all.iter().take(LISTED).map(|p| format!("{} ({})", p.name, p.id)).collect();
        if all.len() > LISTED {
            known.push(format!("and {} more", all.len() - LISTED));
        }
        Ok(if known.is_empty() { "none yet".to_owned() } else { known.join(", ") })
    }

    async fn unknown_project(&self, name: &str) -> Result<McpError> {
        Ok(McpError::UnknownProject { name: name.to_owned(), known: self.known_projects().await? })
    }
}

/// The error for a task that does not exist or is out of reach.
pub(crate) fn unknown_task(task: &TaskId) -> McpError {
    McpError::Invalid {
        argument: "task_id",
        reason: format!("unknown task {task}; tasks_ready or state lists the project's tasks"),
    }
}
