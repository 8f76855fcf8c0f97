//! Create, get, update, list, delete and the status changes for every table, on a real
//! database file; unknown ids give NotFound and constraint violations a typed error.

use nexus_db::{
    ConstraintKind, DbError, Json, Page, agents, checkpoints, code_chunks, continue_points, episodes,
    features, metrics, projects, requirements, sessions, sub_features, tasks,
};
use nexus_testkit::{TempDb, project};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn projects_round_trip_settings_losslessly_and_filter_by_status() -> TestResult {
    let db = TempDb::new().await?;
    let mut new = projects::NewProject::new("shop", "/src/shop");
    let mut settings = projects::ProjectSettings { max_parallel_agents: Some(4), ..Default::default() };
    settings.extra.insert("future_key".into(), json!({"nested": [1, 2]}));
    new.settings = Some(settings.clone());
    let created = projects::create(db.writer(), new).await?;
    let other = project(&db, "blog").await?;

    let fetched = projects::get(db.reader(), &created.id).await?;
    assert_eq!(fetched, created);
    assert_eq!(fetched.settings.as_ref().map(|s| &s.0), Some(&settings));

    let done = projects::set_status(db.writer(), &other, projects::ProjectStatus::Completed).await?;
    assert!(done.completed_at.is_some());
    let filter =
        projects::ProjectFilter { status: Some(projects::ProjectStatus::Created), ..Default::default() };
    let created_only = projects::list(db.reader(), &filter).await?;
    assert_eq!(created_only.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);

    let mut changed = fetched.clone();
    changed.description = Some("an online shop".into());
    changed.mode = projects::ProjectMode::Evolution;
    let updated = projects::update(db.writer(), &changed).await?;
    assert_eq!(updated.description.as_deref(), Some("an online shop"));
    assert!(updated.updated_at >= fetched.updated_at);

    projects::delete(db.writer(), &created.id).await?;
    assert!(matches!(
        projects::get(db.reader(), &created.id).await,
        Err(DbError::NotFound { table: "projects", .. })
    ));
    assert!(matches!(projects::delete(db.writer(), &created.id).await, Err(DbError::NotFound { .. })));
    Ok(())
}

#[tokio::test]
async fn task_lifecycle_follows_the_orchestrator() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let agent = agents::create(db.writer(), agents::NewAgent::new(agents::AgentType::Coder)).await?;
    let mut new = tasks::NewTask::new(&p, "write tests");
    new.max_iterations = 2;
    new.tags = vec!["qa".into()];
    let task = tasks::create(db.writer(), new).await?;
    assert_eq!(task.status, tasks::TaskStatus::Pending);
    assert_eq!(task.tags, ["qa"]);
    assert!(task.depends_on.is_empty(), "an empty list reads back as empty");

    // Completing a task that never started is refused, with the reason.
    let err = tasks::complete(db.writer(), &task.id, None).await.err();
    assert!(
        matches!(err, Some(DbError::InvalidTransition { ref from, to: "completed", .. }) if from == "pending")
    );

    let queued = tasks::assign(db.writer(), &task.id, &agent.id).await?;
    assert_eq!(
        (queued.status, queued.assigned_agent.as_deref()),
        (tasks::TaskStatus::Queued, Some(agent.id.as_str()))
    );
    let agent_now = agents::assign_task(db.writer(), &agent.id, &task.id).await?;
    assert_eq!(agent_now.current_task_id.as_deref(), Some(task.id.as_str()));

    let started = tasks::start(db.writer(), &task.id, &agent.id).await?;
    assert_eq!(started.status, tasks::TaskStatus::InProgress);
    assert!(started.started_at.is_some());
    let review = tasks::submit_for_review(db.writer(), &task.id).await?;
    assert_eq!(review.status, tasks::TaskStatus::InReview);
    let once = tasks::record_qa_iteration(db.writer(), &task.id).await?;
    assert!(!once.needs_escalation());
    let twice = tasks::record_qa_iteration(db.writer(), &task.id).await?;
    assert!(twice.needs_escalation());
    let restarted = tasks::start(db.writer(), &task.id, &agent.id).await?;
    assert_eq!(restarted.started_at, started.started_at, "a restart keeps the first start time");

    let done = tasks::complete(db.writer(), &task.id, None).await?;
    assert_eq!(done.status, tasks::TaskStatus::Completed);
    assert!(done.completed_at.is_some());
    assert_eq!(done.actual_minutes, Some(1), "sub-minute work rounds up to one minute");
    assert!(tasks::fail(db.writer(), &task.id, "late").await.is_err(), "a completed task cannot fail");
    let idle = agents::finish_task(db.writer(), &agent.id, true).await?;
    assert_eq!((idle.status, idle.tasks_completed, idle.tasks_failed), (agents::AgentStatus::Idle, 1, 0));
    assert_eq!(idle.current_task_id, None);

    let other = tasks::create(db.writer(), tasks::NewTask::new(&p, "flaky")).await?;
    let failed = tasks::fail(db.writer(), &other.id, "tests time out").await?;
    assert_eq!(failed.notes, ["tests time out"]);
    let blocked = tasks::block(db.writer(), &other.id, &task.id).await?;
    assert_eq!(blocked.blocked_by.as_deref(), Some(task.id.as_str()));

    assert!(matches!(
        tasks::start(db.writer(), &"nope".into(), &agent.id).await,
        Err(DbError::NotFound { table: "tasks", .. })
    ));
    Ok(())
}

#[tokio::test]
async fn tasks_list_filters_orders_pages_and_knows_what_is_ready() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let feature = features::create(db.writer(), features::NewFeature::new(&p, "cart")).await?;
    let mut first = tasks::NewTask::new(&p, "urgent");
    first.priority = 1;
    first.feature_id = Some(feature.id.clone());
    let urgent = tasks::create(db.writer(), first).await?;
    let mut ids = vec![urgent.id.clone()];
    for i in 0..5 {
        let mut t = tasks::NewTask::new(&p, format!("t{i}"));
        t.depends_on = vec![urgent.id.clone()];
        ids.push(tasks::create(db.writer(), t).await?.id);
    }
    let all = tasks::list(db.reader(), &p, &tasks::TaskFilter::default()).await?;
    assert_eq!(all.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), ids, "priority first, then creation");

    let mut paged = Vec::new();
    for offset in (0..6).step_by(4) {
        let filter = tasks::TaskFilter { page: Page { limit: Some(4), offset }, ..Default::default() };
        paged.extend(tasks::list(db.reader(), &p, &filter).await?.into_iter().map(|t| t.id));
    }
    assert_eq!(paged, ids, "pages neither repeat nor skip");

    let by_feature = tasks::TaskFilter { feature_id: Some(feature.id.clone()), ..Default::default() };
    assert_eq!(tasks::list(db.reader(), &p, &by_feature).await?.len(), 1);

    let ready = tasks::list_ready(db.reader(), &p, 10).await?;
    assert_eq!(ready.iter().map(|t| &t.id).collect::<Vec<_>>(), [&urgent.id], "the others wait on it");
    tasks::start(db.writer(), &urgent.id, &"a".into()).await?;
    tasks::complete(db.writer(), &urgent.id, Some(3)).await?;
    assert_eq!(tasks::list_ready(db.reader(), &p, 10).await?.len(), 5);

    // Deleting the feature detaches its task rather than deleting it.
    features::delete(db.writer(), &feature.id).await?;
    assert_eq!(tasks::get(db.reader(), &urgent.id).await?.feature_id, None);

    // list_all sorts in Rust what list sorts in SQL: a task stored last sorts second.
    let mut late = tasks::NewTask::new(&p, "late but urgent");
    late.priority = 1;
    let late = tasks::create(db.writer(), late).await?;
    let sorted: Vec<_> = tasks::list(db.reader(), &p, &tasks::TaskFilter::default()).await?;
    let all = tasks::list_all(db.reader(), &p).await?;
    assert_eq!(all, sorted);
    assert_eq!((all.len(), &all[1].id), (7, &late.id));
    Ok(())
}

#[tokio::test]
async fn constraint_violations_are_typed_and_name_the_table() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;

    let orphan = tasks::create(db.writer(), tasks::NewTask::new("no-such-project", "x")).await;
    assert!(
        matches!(orphan, Err(DbError::Constraint { table: "tasks", kind: ConstraintKind::ForeignKey, .. })),
        "{orphan:?}"
    );

    let mut duplicate = projects::NewProject::new("again", "/x");
    duplicate.id = Some(p.clone());
    let dup = projects::create(db.writer(), duplicate).await;
    assert!(
        matches!(dup, Err(DbError::Constraint { table: "projects", kind: ConstraintKind::Unique, .. })),
        "{dup:?}"
    );

    let mut bad_priority = tasks::NewTask::new(&p, "x");
    bad_priority.priority = 0;
    let check = tasks::create(db.writer(), bad_priority).await;
    assert!(
        matches!(check, Err(DbError::Constraint { table: "tasks", kind: ConstraintKind::Check, .. })),
        "{check:?}"
    );

    let mut bad_confidence = requirements::NewRequirement::new(&p, "functional", "x");
    bad_confidence.confidence = 1.5;
    let err = requirements::create(db.writer(), bad_confidence).await;
    assert!(err.as_ref().is_err_and(|e| e.is_constraint(ConstraintKind::Check)), "{err:?}");

    let nan =
        metrics::create(db.writer(), metrics::NewMetric::new(&p, metrics::MetricType::TokenUsage, f64::NAN))
            .await;
    assert!(matches!(nan, Err(DbError::InvalidValue { table: "metrics", column: "value", .. })), "{nan:?}");

    let chunk = code_chunks::NewCodeChunk {
        id: None,
        project_id: p.clone(),
        file: "a.rs".into(),
        start_line: 10,
        end_line: 5,
        content: "x".into(),
        symbols: vec![],
        chunk_type: "block".into(),
        language: "rust".into(),
        complexity: None,
        hash: "h".into(),
        context: None,
        signature: None,
    };
    assert!(
        code_chunks::create(db.writer(), chunk).await.is_err_and(|e| e.is_constraint(ConstraintKind::Check))
    );

    // A bad status string written behind the library's back fails the CHECK too.
    let raw = sqlx::query("UPDATE projects SET status = 'exploded' WHERE id = ?")
        .bind(&p)
        .execute(db.writer())
        .await;
    assert!(raw.is_err());
    Ok(())
}

#[tokio::test]
async fn deleting_a_project_cascades_to_everything_it_owns() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "doomed").await?;
    let keep = project(&db, "kept").await?;
    for owner in [&p, &keep] {
        let f = features::create(db.writer(), features::NewFeature::new(owner, "f")).await?;
        sub_features::create(db.writer(), sub_features::NewSubFeature::new(&f.id, "sf")).await?;
        let t = tasks::create(db.writer(), tasks::NewTask::new(owner, "t")).await?;
        checkpoints::create(db.writer(), checkpoints::NewCheckpoint::new(owner, json!({"tasks": 1}))).await?;
        requirements::create(db.writer(), requirements::NewRequirement::new(owner, "c", "d")).await?;
        metrics::create(db.writer(), metrics::NewMetric::new(owner, metrics::MetricType::TaskDuration, 3.0))
            .await?;
        sessions::create(db.writer(), owner, sessions::SessionType::Planning, None).await?;
        episodes::create(db.writer(), episodes::NewEpisode::new(owner, episodes::EpisodeType::Decision, "x"))
            .await?;
        continue_points::create(db.writer(), continue_points::NewContinuePoint::new(owner, &t.id, "edit"))
            .await?;
        code_chunks::create(
            db.writer(),
            code_chunks::NewCodeChunk {
                id: None,
                project_id: owner.clone(),
                file: "src/lib.rs".into(),
                start_line: 1,
                end_line: 3,
                content: "fn a() {}".into(),
                symbols: vec!["a".into()],
                chunk_type: "function".into(),
                language: "rust".into(),
                complexity: Some(1),
                hash: "abc".into(),
                context: None,
                signature: None,
            },
        )
        .await?;
    }
    projects::delete(db.writer(), &p).await?;
    for table in [
        "features",
        "tasks",
        "checkpoints",
        "requirements",
        "metrics",
        "sessions",
        "episodes",
        "continue_points",
        "code_chunks",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(db.reader()).await?;
        assert_eq!(n, 1, "{table}: only the kept project's row remains");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sub_features").fetch_one(db.reader()).await?;
    assert_eq!(n, 1);
    Ok(())
}

#[tokio::test]
async fn features_and_sub_features() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let mut could = features::NewFeature::new(&p, "nice to have");
    could.priority = features::FeaturePriority::Could;
    features::create(db.writer(), could).await?;
    let mut must = features::NewFeature::new(&p, "core");
    must.priority = features::FeaturePriority::Must;
    let must = features::create(db.writer(), must).await?;
    let listed = features::list(db.reader(), &p, &features::FeatureFilter::default()).await?;
    assert_eq!(listed[0].id, must.id, "MoSCoW order: must first");
    let counted = features::record_task_completed(db.writer(), &must.id).await?;
    assert_eq!(counted.completed_tasks, 1);
    let started = features::set_status(db.writer(), &must.id, features::WorkStatus::InProgress).await?;
    let mut renamed = started.clone();
    renamed.name = "core flows".into();
    assert_eq!(features::update(db.writer(), &renamed).await?.name, "core flows");

    let sf = sub_features::create(db.writer(), sub_features::NewSubFeature::new(&must.id, "login")).await?;
    let mut done = sf.clone();
    done.status = features::WorkStatus::Completed;
    sub_features::update(db.writer(), &done).await?;
    let filter = sub_features::SubFeatureFilter {
        status: Some(features::WorkStatus::Completed),
        ..Default::default()
    };
    assert_eq!(sub_features::list(db.reader(), &must.id, &filter).await?.len(), 1);
    assert_eq!(sub_features::list_for_project(db.reader(), &p, &filter).await?[0].id, sf.id);
    features::delete(db.writer(), &must.id).await?;
    assert!(matches!(sub_features::get(db.reader(), &sf.id).await, Err(DbError::NotFound { .. })));
    Ok(())
}

#[tokio::test]
async fn agents_track_tokens_status_and_termination() -> TestResult {
    let db = TempDb::new().await?;
    let mut new = agents::NewAgent::new(agents::AgentType::Tester);
    new.tools = vec!["bash".into(), "edit".into()];
    let a = agents::create(db.writer(), new).await?;
    assert_eq!((a.status, a.max_tokens, a.temperature), (agents::AgentStatus::Idle, 8000, 0.3));
    assert_eq!(agents::record_tokens(db.writer(), &a.id, 1200).await?.tokens_used, 1200);
    agents::set_status(db.writer(), &a.id, agents::AgentStatus::Working).await?;
    let working = agents::AgentFilter { status: Some(agents::AgentStatus::Working), ..Default::default() };
    assert_eq!(agents::list(db.reader(), &working).await?.len(), 1);
    assert_eq!(agents::finish_task(db.writer(), &a.id, false).await?.tasks_failed, 1);
    let mut changed = agents::get(db.reader(), &a.id).await?;
    changed.model_name = "gpt-5".into();
    changed.model_provider = agents::ModelProvider::Openai;
    assert_eq!(agents::update(db.writer(), &changed).await?.model_name, "gpt-5");
    let gone = agents::terminate(db.writer(), &a.id, "budget").await?;
    assert_eq!(
        (gone.status, gone.termination_reason.as_deref()),
        (agents::AgentStatus::Terminated, Some("budget"))
    );
    assert!(gone.terminated_at.is_some());
    agents::delete(db.writer(), &a.id).await?;
    assert!(matches!(agents::get(db.reader(), &a.id).await, Err(DbError::NotFound { table: "agents", .. })));
    Ok(())
}

#[tokio::test]
async fn checkpoints_requirements_metrics_sessions() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;

    let first =
        checkpoints::create(db.writer(), checkpoints::NewCheckpoint::new(&p, json!({"n": 1}))).await?;
    let second =
        checkpoints::create(db.writer(), checkpoints::NewCheckpoint::new(&p, json!({"n": 2}))).await?;
    assert_eq!(checkpoints::latest(db.reader(), &p).await?.map(|c| c.id), Some(second.id.clone()));
    assert_eq!(checkpoints::list(db.reader(), &p, Page::default()).await?.len(), 2);
    assert_eq!(checkpoints::get(db.reader(), &first.id).await?.state, Some(Json(json!({"n": 1}))));

    let mut r = requirements::NewRequirement::new(&p, "security", "passwords are hashed");
    r.user_stories = vec!["as a user I want my password safe".into()];
    let r = requirements::create(db.writer(), r).await?;
    assert!(!r.validated);
    assert!(requirements::validate(db.writer(), &r.id).await?.validated);
    let validated = requirements::RequirementFilter { validated: Some(true), ..Default::default() };
    assert_eq!(requirements::list(db.reader(), &p, &validated).await?.len(), 1);
    let mut changed = r.clone();
    changed.priority = requirements::RequirementPriority::Critical;
    assert_eq!(
        requirements::update(db.writer(), &changed).await?.priority,
        requirements::RequirementPriority::Critical
    );

    for v in [100.0, 300.0] {
        metrics::create(db.writer(), metrics::NewMetric::new(&p, metrics::MetricType::TokenUsage, v)).await?;
    }
    metrics::create(db.writer(), metrics::NewMetric::new(&p, metrics::MetricType::QaIterations, 2.0)).await?;
    let summary = metrics::summarize(db.reader(), &p, &metrics::MetricFilter::default()).await?;
    let tokens =
        summary.iter().find(|s| s.metric_type == metrics::MetricType::TokenUsage).ok_or("no tokens")?;
    assert_eq!((tokens.count, tokens.total, tokens.mean, tokens.max), (2, 400.0, 200.0, 300.0));
    let only_qa =
        metrics::MetricFilter { metric_type: Some(metrics::MetricType::QaIterations), ..Default::default() };
    assert_eq!(metrics::list(db.reader(), &p, &only_qa).await?.len(), 1);

    let s =
        sessions::create(db.writer(), &p, sessions::SessionType::Interview, Some(json!({"q": 1}))).await?;
    assert_eq!(s.status, sessions::SessionStatus::Active);
    sessions::set_data(db.writer(), &s.id, json!({"q": 2})).await?;
    let ended = sessions::set_status(db.writer(), &s.id, sessions::SessionStatus::Completed).await?;
    assert!(ended.ended_at.is_some());
    assert_eq!(ended.data, Some(Json(json!({"q": 2}))));
    let resumed = sessions::set_status(db.writer(), &s.id, sessions::SessionStatus::Active).await?;
    assert_eq!(resumed.ended_at, None);
    let interviews = sessions::SessionFilter {
        session_type: Some(sessions::SessionType::Interview),
        ..Default::default()
    };
    assert_eq!(sessions::list(db.reader(), &p, &interviews).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn episodes_continue_points_and_code_chunks() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;

    let mut e = episodes::NewEpisode::new(&p, episodes::EpisodeType::ErrorFix, "fixed the flaky test");
    e.context = Some(json!({"file": "a.rs"}));
    let e = episodes::create(db.writer(), e).await?;
    episodes::create(
        db.writer(),
        episodes::NewEpisode::new(&p, episodes::EpisodeType::Decision, "use sqlite"),
    )
    .await?;
    assert_eq!(episodes::count(db.reader(), &p).await?, 2);
    let many = episodes::get_many(db.reader(), &[e.id.clone(), "unknown".into()]).await?;
    assert_eq!(many.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), [e.id.as_str()]);
    let accessed = episodes::record_access(db.writer(), &e.id).await?;
    assert_eq!(accessed.access_count, 1);
    assert!(accessed.last_accessed_at.is_some());
    let later =
        nexus_db::Timestamp::from_millis(accessed.last_accessed_at.map_or(0, |t| t.as_millis()) + 1000);
    let delta = |id: &nexus_db::EpisodeId, count, last| episodes::AccessDelta { id: id.clone(), count, last };
    let deltas = [
        delta(&e.id, 2, later),
        delta(&"unknown".into(), 5, later),
        delta(&e.id, 1, nexus_db::Timestamp::from_millis(0)),
    ];
    assert_eq!(episodes::add_accesses(db.writer(), &deltas).await?, 1, "one known episode");
    let added = episodes::get(db.reader(), &e.id).await?;
    assert_eq!((added.access_count, added.last_accessed_at), (4, Some(later)), "1 + 2 + 1, the latest time");
    let earlier = [delta(&e.id, 1, nexus_db::Timestamp::from_millis(0))];
    assert_eq!(episodes::add_accesses(db.writer(), &earlier).await?, 1);
    let added = episodes::get(db.reader(), &e.id).await?;
    assert_eq!((added.access_count, added.last_accessed_at), (5, Some(later)), "the time never goes back");
    assert_eq!(episodes::add_accesses(db.writer(), &[]).await?, 0);
    let accessed = added;
    let fixes =
        episodes::EpisodeFilter { episode_type: Some(episodes::EpisodeType::ErrorFix), ..Default::default() };
    assert_eq!(episodes::list(db.reader(), &p, &fixes).await?[0].id, e.id);
    let mut changed = accessed.clone();
    changed.importance = 3.0;
    assert_eq!(episodes::update(db.writer(), &changed).await?.importance, 3.0);

    let mut cp = continue_points::NewContinuePoint::new(&p, "task-1", "ran tests");
    cp.next_steps = vec!["fix assertion".into()];
    continue_points::create(db.writer(), cp).await?;
    let later =
        continue_points::create(db.writer(), continue_points::NewContinuePoint::new(&p, "task-1", "fixed"))
            .await?;
    assert_eq!(
        continue_points::latest_for_task(db.reader(), &"task-1".into()).await?.map(|c| c.id),
        Some(later.id)
    );
    assert_eq!(continue_points::latest_for_task(db.reader(), &"task-2".into()).await?, None);

    for (file, start) in [("b.rs", 1), ("a.rs", 10), ("a.rs", 1)] {
        code_chunks::create(
            db.writer(),
            code_chunks::NewCodeChunk {
                id: None,
                project_id: p.clone(),
                file: file.into(),
                start_line: start,
                end_line: start + 5,
                content: format!("// {file}:{start}"),
                symbols: vec![],
                chunk_type: "block".into(),
                language: "rust".into(),
                complexity: None,
                hash: format!("{file}{start}"),
                context: None,
                signature: None,
            },
        )
        .await?;
    }
    let chunks = code_chunks::list(db.reader(), &p, &code_chunks::CodeChunkFilter::default()).await?;
    let order: Vec<_> = chunks.iter().map(|c| (c.file.as_str(), c.start_line)).collect();
    assert_eq!(order, [("a.rs", 1), ("a.rs", 10), ("b.rs", 1)]);
    assert_eq!(code_chunks::find_by_hash(db.reader(), &p, "a.rs10").await?.len(), 1);
    assert_eq!(code_chunks::delete_for_file(db.writer(), &p, "a.rs").await?, 2);
    Ok(())
}
