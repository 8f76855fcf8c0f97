//! The dashboard's figures from real rows.

use nexus_db::metrics::{self, MetricType, NewMetric};
use nexus_db::tasks::TaskStatus;
use nexus_state::{dashboard, workflow};

use crate::support::{TestResult, fixture};

#[tokio::test]
async fn tasks_metrics_and_agent_usage() -> TestResult {
    let f = fixture().await?;
    workflow::start(&f.db, &f.first.id, &f.agent.id).await?;
    workflow::complete(&f.db, &f.first.id, Some(30)).await?;
    for (tokens, cost) in [(1_000.0, 0.01), (3_000.0, 0.03)] {
        let mut m = NewMetric::new(&f.project, MetricType::TokenUsage, tokens);
        m.agent_id = Some(f.agent.id.clone());
        m.metadata = Some(serde_json::json!({ "cost_usd": cost }));
        metrics::create(f.db.writer(), m).await?;
    }
    metrics::create(f.db.writer(), NewMetric::new(&f.project, MetricType::TokenUsage, 500.0)).await?;

    let d = dashboard(&f.db, &f.project, None).await?;
    assert_eq!((d.tasks_by_status[&TaskStatus::Completed], d.tasks_by_status[&TaskStatus::Pending]), (1, 1));
    assert!((d.progress - 0.5).abs() < 1e-9);
    let tokens =
        d.metrics_by_type.iter().find(|g| g.metric_type == MetricType::TokenUsage).ok_or("token group")?;
    assert_eq!((tokens.count, tokens.total), (3, 4_500.0));
    let durations =
        d.metrics_by_type.iter().find(|g| g.metric_type == MetricType::TaskDuration).ok_or("durations")?;
    assert_eq!(durations.total, 30.0);
    let agent = d.agents.iter().find(|a| a.agent_id == f.agent.id).ok_or("the agent")?;
    assert_eq!((agent.tokens, agent.tasks_completed), (4_000.0, 1));
    assert!((agent.cost_usd - 0.04).abs() < 1e-9, "{agent:?}");
    assert_eq!(d.metrics_by_day.iter().map(|g| g.count).sum::<i64>(), 4);
    assert!(d.metrics_by_agent.iter().any(|g| g.group.is_empty() && g.total == 500.0), "no-agent group");
    Ok(())
}
