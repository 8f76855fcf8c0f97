//! A project with features, sub-features, tasks (one depending on another), a requirement
//! and an agent, in a migrated database file.

use nexus_db::ProjectId;
use nexus_db::agents::{self, Agent, AgentType, NewAgent};
use nexus_db::features::{self, NewFeature};
use nexus_db::requirements::{self, NewRequirement};
use nexus_db::sub_features::{self, NewSubFeature};
use nexus_db::tasks::{NewTask, Task};
pub use nexus_testkit::TempDb;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub struct Fixture {
    pub db: TempDb,
    pub project: ProjectId,
    pub agent: Agent,
    /// `first`, then `second` depending on it.
    pub first: Task,
    pub second: Task,
}

pub async fn fixture() -> TestResult<Fixture> {
    let db = TempDb::new().await?;
    let project = nexus_testkit::project(&db, "shop").await?;
    let agent = agents::create(db.writer(), NewAgent::new(AgentType::Coder)).await?;
    let feature = features::create(db.writer(), NewFeature::new(&project, "Cart | totals")).await?;
    sub_features::create(db.writer(), NewSubFeature::new(&feature.id, "rounding")).await?;
    requirements::create(db.writer(), NewRequirement::new(&project, "functional", "totals in cents")).await?;
    let mut new = NewTask::new(&project, "write the cart");
    new.feature_id = Some(feature.id.clone());
    let first = nexus_state::workflow::create_task(&db, new).await?;
    let mut new = NewTask::new(&project, "checkout `flow`\nsecond line");
    new.depends_on = vec![first.id.clone()];
    new.priority = 6;
    let second = nexus_state::workflow::create_task(&db, new).await?;
    Ok(Fixture { db, project, agent, first, second })
}
