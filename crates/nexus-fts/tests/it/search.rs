//! Search behaviour on real FTS5 indexes: tokenising of prose and code, the query language,
//! BM25 field weights, project and kind filters, paging, snippets, errors, and searches on the
//! reader pool running while the writer writes.

use crate::common;

use common::{TempDb, TestResult, chunk, episode, project, requirement, task};
use nexus_db::{Db, ProjectId, SourceKind};
use nexus_fts::{FieldWeights, FtsError, FtsHit, FtsQuery, MatchMode, SnippetStyle, search};

async fn ids(db: &Db, query: FtsQuery) -> TestResult<Vec<String>> {
    Ok(search(db.reader(), &query).await?.into_iter().map(|h| h.id).collect())
}

/// A small code base: each test asks for one of these chunks by how a programmer would type it.
struct Code {
    builder: String,
    snake: String,
    camel: String,
    query_file: String,
    json: String,
}

async fn code_base(db: &Db, project: &ProjectId) -> TestResult<Code> {
    let builder = chunk(
        db,
        project,
        "src/hybrid.rs",
        "pub struct HybridSearchBuilder { k: usize }\nimpl HybridSearchBuilder { pub fn new() -> Self { Self { k: 10 } } }",
        &["HybridSearchBuilder"],
    )
    .await?;
    let snake = chunk(
        db,
        project,
        "src/parse.rs",
        "pub fn parse_query(text: &str) -> Query { Query::from(text) }",
        &["parse_query"],
    )
    .await?;
    let camel = chunk(
        db,
        project,
        "web/parser.ts",
        "export function parseQuery(text: string): Query {}",
        &["parseQuery"],
    )
    .await?;
    let query_file =
        chunk(db, project, "crates/nexus-fts/src/query.rs", "pub struct MatchExpression(String);", &[])
            .await?;
    let json = chunk(
        db,
        project,
        "src/json.rs",
        "fn parseJSON(raw: &str) -> Value { serde_json::from_str(raw) }",
        &[],
    )
    .await?;
    // Noise: single words of the queries.
    chunk(db, project, "src/search.rs", "// search the index", &[]).await?;
    chunk(db, project, "src/pattern.rs", "// the builder pattern", &[]).await?;
    chunk(db, project, "src/rs.rs", "// query text goes to the parser", &[]).await?;
    Ok(Code {
        builder: builder.id.into(),
        snake: snake.id.into(),
        camel: camel.id.into(),
        query_file: query_file.id.into(),
        json: json.id.into(),
    })
}

#[tokio::test]
async fn code_is_found_the_way_programmers_type_it() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let code = code_base(&db, &p).await?;
    let code_query = |text: &str| FtsQuery::new(text).project(&p).kinds([SourceKind::CodeChunk]);

    // camelCase parts find the whole name, and rank it first.
    assert_eq!(ids(&db, code_query("search builder")).await?[0], code.builder);
    assert_eq!(ids(&db, code_query("search builder").mode(MatchMode::All)).await?, [code.builder.as_str()]);
    assert_eq!(ids(&db, code_query("HybridSearchBuilder")).await?[0], code.builder);
    // snake_case and camelCase spellings find each other.
    for text in ["parse_query", "parseQuery", "parse query"] {
        let found = ids(&db, code_query(text).mode(MatchMode::All)).await?;
        assert_eq!(found.len(), 2, "{text}: {found:?}");
        assert!(found.contains(&code.snake) && found.contains(&code.camel), "{text}");
    }
    // A file name finds its file first; a path too.
    assert_eq!(ids(&db, code_query("query.rs")).await?[0], code.query_file);
    assert_eq!(ids(&db, code_query("nexus-fts/src/query.rs")).await?[0], code.query_file);
    // An acronym after a lowercase hump is its own word.
    assert_eq!(ids(&db, code_query("json").mode(MatchMode::All)).await?, [code.json.as_str()]);
    // Prefixes.
    assert_eq!(ids(&db, code_query("MatchExpr*")).await?, [code.query_file.as_str()]);
    Ok(())
}

#[tokio::test]
async fn prose_is_folded_stemmed_and_stripped_of_diacritics() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let e = episode(&db, &p, "Le Résumé of the CAFÉ deployments: the caching layer failed.", None).await?;
    episode(&db, &p, "Unrelated text about gardens.", None).await?;
    for text in
        ["resume", "RÉSUMÉ", "café", "cafe", "deployment", "cache", "cached", "caching", "fail", "failing"]
    {
        assert_eq!(ids(&db, FtsQuery::new(text)).await?, [e.id.as_str()], "{text}");
    }
    Ok(())
}

#[tokio::test]
async fn the_query_language_reaches_the_index() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let a = episode(&db, &p, "redis cache for sessions", None).await?;
    let b = episode(&db, &p, "memcached cache for pages", None).await?;
    let c = episode(&db, &p, "sessions stored in redis; later a cache", None).await?;
    let query = |text: &str| FtsQuery::new(text).mode(MatchMode::All);
    let mut both = ids(&db, query("redis cache")).await?;
    both.sort();
    let mut expected = vec![a.id.clone(), c.id.clone()];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(ids(&db, query("\"redis cache\"")).await?, [a.id.as_str()]);
    assert_eq!(ids(&db, query("cache -redis")).await?, [b.id.as_str()]);
    assert_eq!(ids(&db, query("cache -\"redis cache\"")).await?.len(), 2);
    assert_eq!(ids(&db, query("memcach* pages")).await?, [b.id.as_str()]);
    assert_eq!(ids(&db, query("memcached OR redis pages")).await?, [b.id.as_str()]);
    // FTS5 syntax in user text is text: NOT is a word here, not an operator.
    assert!(ids(&db, query("cache NOT redis")).await?.is_empty());
    assert_eq!(ids(&db, FtsQuery::new("cache NOT redis")).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn field_weights_rank_names_above_descriptions_and_can_be_changed() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let in_name = task(&db, &p, "migrate billing", Some("move the invoices table")).await?;
    let in_description = task(&db, &p, "database work", Some("migrate billing tables")).await?;
    let hits = search(db.reader(), &FtsQuery::new("billing").kinds([SourceKind::Task])).await?;
    assert_eq!(hits.iter().map(|h| &h.id).collect::<Vec<_>>(), [&in_name.id, &in_description.id]);
    assert!(hits[0].score > hits[1].score && hits[1].score > 0.0, "higher is better: {hits:?}");

    let mut query = FtsQuery::new("billing").kinds([SourceKind::Task]);
    query.weights = FieldWeights { task_name: 0.1, task_description: 5.0, ..FieldWeights::default() };
    let hits = search(db.reader(), &query).await?;
    assert_eq!(hits.iter().map(|h| &h.id).collect::<Vec<_>>(), [&in_description.id, &in_name.id]);

    query.weights.task_name = -1.0;
    assert!(matches!(
        search(db.reader(), &query).await,
        Err(FtsError::InvalidWeight { field: "task.name", .. })
    ));
    Ok(())
}

#[tokio::test]
async fn project_and_kind_filters_apply_inside_the_query_and_pages_are_stable() -> TestResult {
    let db = TempDb::new().await?;
    let (p, other) = (project(&db, "p").await?, project(&db, "other").await?);
    for owner in [&p, &other] {
        for i in 0..5 {
            let words = "ledger ".repeat(i + 1);
            episode(&db, owner, &format!("{words} episode"), None).await?;
            task(&db, owner, &format!("{words} task"), None).await?;
            requirement(&db, owner, &format!("{words} requirement"), &[]).await?;
            chunk(&db, owner, &format!("src/l{i}.rs"), &format!("// {words}"), &[]).await?;
        }
    }
    let all: Vec<FtsHit> = search(db.reader(), &FtsQuery::new("ledger").project(&p).limit(100)).await?;
    assert_eq!(all.len(), 20);
    for hit in &all {
        let owner: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT project_id FROM {} WHERE id = ? AND rowid = ?",
            hit.kind.table()
        )))
        .bind(&hit.id)
        .bind(hit.rowid)
        .fetch_one(db.reader())
        .await?;
        assert_eq!(owner, p, "the rowid and id name the same row of the project");
    }
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score), "best first");

    let kinds = [SourceKind::Task, SourceKind::Requirement];
    let some = search(db.reader(), &FtsQuery::new("ledger").project(&p).kinds(kinds).limit(100)).await?;
    assert_eq!(some.len(), 10);
    assert!(some.iter().all(|h| kinds.contains(&h.kind)));

    // Pages of 3 put together are the full list, in order.
    let mut paged = Vec::new();
    for page in 0..7 {
        let query = FtsQuery::new("ledger").project(&p).limit(3).offset(page * 3);
        paged.extend(search(db.reader(), &query).await?.into_iter().map(|h| (h.kind, h.id)));
    }
    assert_eq!(paged, all.iter().map(|h| (h.kind, h.id.clone())).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn snippets_mark_the_matches_in_the_requested_style() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    episode(&db, &p, "We chose Postgres. Later the team moved the queue to Redis streams.", None).await?;
    chunk(&db, &p, "src/builder.rs", "let b = HybridSearchBuilder::new();", &["HybridSearchBuilder"]).await?;

    let hits = search(db.reader(), &FtsQuery::new("redis")).await?;
    assert_eq!(
        hits[0].snippet.as_deref(),
        Some("We chose Postgres. Later the team moved the queue to <mark>Redis</mark> streams.")
    );
    let style = SnippetStyle { open: "[".into(), close: "]".into(), ellipsis: "...".into(), tokens: 3 };
    let hits = search(db.reader(), &FtsQuery::new("queue").snippet(Some(style))).await?;
    assert_eq!(hits[0].snippet.as_deref(), Some("...the [queue] to..."));
    let hits = search(db.reader(), &FtsQuery::new("queue").snippet(None)).await?;
    assert_eq!(hits[0].snippet, None);
    // Code snippets come from the content column.
    let hits =
        search(db.reader(), &FtsQuery::new("HybridSearchBuilder").kinds([SourceKind::CodeChunk])).await?;
    assert_eq!(hits[0].snippet.as_deref(), Some("let b = <mark>HybridSearchBuilder</mark>::new();"));
    Ok(())
}

#[tokio::test]
async fn every_hit_of_a_page_gets_its_own_snippet_with_or_without_a_prefix() -> TestResult {
    // Snippets are built per kind after the search, in a scratch table holding the page's
    // rows. Rows between the hits that match but are not on the page must not lend them their
    // snippets.
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    for i in 0..12 {
        episode(&db, &p, &format!("Note {i}: the cache{i} layer keeps rows warm."), None).await?;
        chunk(&db, &p, &format!("src/m{i}.rs"), &format!("fn caching{i}() {{ warm(cache{i}); }}"), &[])
            .await?;
    }
    for text in ["cach*", "cache0 cache3 cache7 cache11", "warm*"] {
        let hits = search(db.reader(), &FtsQuery::new(text).project(&p).limit(5).offset(2)).await?;
        assert_eq!(hits.len(), 5, "{text}");
        let kinds: Vec<SourceKind> = hits.iter().map(|h| h.kind).collect();
        for hit in &hits {
            let snippet = hit.snippet.as_deref().unwrap_or_default();
            let own = match hit.kind {
                SourceKind::Episode => {
                    sqlx::query_scalar::<_, String>("SELECT content FROM episodes WHERE id = ?")
                }
                _ => sqlx::query_scalar::<_, String>("SELECT content FROM code_chunks WHERE id = ?"),
            };
            let content = own.bind(&hit.id).fetch_one(db.reader()).await?;
            assert_eq!(snippet.replace("<mark>", "").replace("</mark>", ""), content, "{text} {kinds:?}");
            assert!(snippet.contains("<mark>"), "{text}: {snippet}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn snippets_are_what_fts5_cuts_on_the_real_index() -> TestResult {
    // Snippets are cut in a scratch table that holds just the page's rows: they must be FTS5's
    // `snippet()` on the row's own index, for words, prefixes, phrases, exclusions and
    // camelCase, in code (the content column, also for rows that match through their path or
    // symbols only) and in prose (the best of two columns).
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    let mut rng = nexus_testkit::Rng::new(11);
    let vocabulary: Vec<String> = (0..30)
        .map(|_| {
            let len = 2 + rng.below(4);
            rng.word(len)
        })
        .collect();
    let mut words =
        |n: usize| -> Vec<String> { (0..n).filter_map(|_| rng.pick(&vocabulary).cloned()).collect() };
    for i in 0..120 {
        let (content, summary) = (words(20 + i % 50).join(" "), words(6).join(" "));
        episode(&db, &p, &content, (i % 3 != 0).then_some(summary.as_str())).await?;
        let [a, b, c] = <[String; 3]>::try_from(words(3)).map_err(|_| "three words")?;
        let body = format!(
            "fn {a}_{b}(x: {}{}) {{\n    // {}\n}}",
            c.to_uppercase(),
            b,
            words(10 + i % 40).join(" ")
        );
        chunk(&db, &p, &format!("src/{c}/{a}.rs"), &body, &[&format!("{a}_{b}")]).await?;
    }
    let mut checked = 0;
    for i in 0..42 {
        let [a, b, c] = <[String; 3]>::try_from(words(3)).map_err(|_| "three words")?;
        let text = match i % 7 {
            // Only in paths: code rows match through their path alone.
            6 => "rs".to_owned(),
            0 => format!("{a} {b}"),
            1 => format!("{}*", &a[..a.len().min(2)]),
            2 => format!("\"{a} {b}\""),
            3 => format!("{a} {b} -{c}"),
            4 => format!("{a}{}", b.to_uppercase()),
            _ => format!("{c}/{a}.rs"),
        };
        for hit in search(db.reader(), &FtsQuery::new(&text).project(&p).limit(10)).await? {
            let (sql, kind) = match hit.kind {
                SourceKind::CodeChunk => (
                    "SELECT snippet(code_chunks_fts, 2, '<mark>', '</mark>', '…', 24) FROM code_chunks_fts \
                     WHERE code_chunks_fts MATCH ?1 AND rowid = ?2",
                    SourceKind::CodeChunk,
                ),
                _ => (
                    "SELECT snippet(episodes_fts, -1, '<mark>', '</mark>', '…', 24) FROM episodes_fts \
                     WHERE episodes_fts MATCH ?1 AND rowid = ?2",
                    SourceKind::Episode,
                ),
            };
            let expr = nexus_fts::MatchExpression::parse(&text, MatchMode::Any, kind)?;
            let want: String =
                sqlx::query_scalar(sql).bind(expr.as_str()).bind(hit.rowid).fetch_one(db.reader()).await?;
            assert_eq!(hit.snippet.as_deref(), Some(want.as_str()), "{text}: {:?} {}", hit.kind, hit.id);
            checked += 1;
        }
    }
    assert!(checked >= 200, "only {checked} snippets compared");
    Ok(())
}

/// Checks a snippet: the match marked, and short — at most one 4 KiB piece of the row plus
/// markers and ellipses (24 tokens, but a token can be a long run without separators).
fn assert_bounded(snippet: Option<&str>, marked: &str) {
    let snippet = snippet.unwrap_or_default();
    assert!(snippet.contains(marked), "{marked} not in {snippet:?}");
    assert!(snippet.len() <= 4096 + 1024, "snippet of {} bytes: {snippet:?}", snippet.len());
}

#[tokio::test]
async fn large_rows_get_short_snippets_around_a_match() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    // A one-line 1 MiB file (the walker's limit) where `return` is everywhere.
    let mut code = String::new();
    let mut i = 0;
    loop {
        let statement = format!("let v{i} = compute(v{i}, limit); if v{i} > 0 {{ return v{i}; }} ");
        if code.len() + statement.len() > nexus_db::MAX_CONTENT_BYTES {
            break;
        }
        code.push_str(&statement);
        i += 1;
    }
    let big = chunk(&db, &p, "src/generated.rs", &code, &["compute"]).await?;
    // A 1 MiB episode whose only match for `needle` is near the end, and whose summary matches
    // `summary`.
    let content = "words, more words and other words. ".repeat(29_900) + "The needle is here. And then some.";
    let mut new = nexus_db::episodes::NewEpisode::new(&p, nexus_db::episodes::EpisodeType::Decision, content);
    new.summary = Some("A short summary of a long note.".into());
    let long = nexus_db::episodes::create(db.writer(), new).await?;

    let code_query = |text: &str| FtsQuery::new(text).kinds([SourceKind::CodeChunk]);
    let hits = search(db.reader(), &code_query("return")).await?;
    assert_eq!(hits[0].id, big.id);
    let snippet = hits[0].snippet.as_deref();
    assert_bounded(snippet, "<mark>return</mark>");
    assert!(
        snippet.is_some_and(|s| s.starts_with("let v0 = compute") && s.ends_with('…') && s.len() < 400),
        "{snippet:?}"
    );
    assert_bounded(
        search(db.reader(), &code_query("return compute")).await?[0].snippet.as_deref(),
        "<mark>compute</mark>",
    );
    // The same style options as small rows.
    let style = SnippetStyle { open: "[".into(), close: "]".into(), ellipsis: "...".into(), tokens: 3 };
    let hits = search(db.reader(), &code_query("limit").snippet(Some(style))).await?;
    assert_eq!(hits[0].snippet.as_deref(), Some("...v0, [limit]); if..."));

    let hits = search(db.reader(), &FtsQuery::new("needle").kinds([SourceKind::Episode])).await?;
    assert_eq!(hits[0].id, long.id);
    let snippet = hits[0].snippet.as_deref();
    assert_bounded(snippet, "The <mark>needle</mark> is here. And then some.");
    assert!(snippet.is_some_and(|s| s.starts_with('…')), "{snippet:?}");
    // A match only in the summary: the snippet comes from the summary.
    let hits = search(db.reader(), &FtsQuery::new("summary").kinds([SourceKind::Episode])).await?;
    assert_eq!(hits[0].snippet.as_deref(), Some("A short <mark>summary</mark> of a long note."));
    // All-words mode and exclusions do not hide the matches of a large row's pieces.
    let query = FtsQuery::new("needle words -absent").mode(MatchMode::All).kinds([SourceKind::Episode]);
    assert_bounded(search(db.reader(), &query).await?[0].snippet.as_deref(), "<mark>words</mark>");
    Ok(())
}

#[tokio::test]
async fn snippets_cut_multibyte_text_on_char_boundaries() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    // Long runs without whitespace (pieces are cut inside them) of 2-, 3- and 4-byte chars.
    let content =
        format!("{} Résumé naïve {} café {}", "é".repeat(3001), "日本語".repeat(2001), "🦀".repeat(1501));
    let big = episode(&db, &p, &content, None).await?;
    let small = episode(&db, &p, "Ünïcödé: le Résumé du café, 日本語 テキスト.", None).await?;
    for (text, marked) in
        [("resume", "<mark>Résumé</mark>"), ("cafe", "<mark>café</mark>"), ("naive", "<mark>naïve</mark>")]
    {
        let hits = search(db.reader(), &FtsQuery::new(text).kinds([SourceKind::Episode])).await?;
        let large = hits.iter().find(|h| h.id == big.id).and_then(|h| h.snippet.as_deref());
        assert_bounded(large, marked);
        let small = hits.iter().find(|h| h.id == small.id).and_then(|h| h.snippet.as_deref());
        if text != "naive" {
            assert_bounded(small, marked);
        }
    }
    // The 4-byte run is cut into pieces too; a row matching nowhere near it is fine.
    let hits = search(db.reader(), &FtsQuery::new("日本語").kinds([SourceKind::Episode])).await?;
    for hit in &hits {
        assert!(hit.snippet.as_deref().is_some_and(|s| s.contains("<mark>")), "{:?}", hit.snippet);
    }
    Ok(())
}

#[tokio::test]
async fn text_with_nothing_to_search_is_an_empty_query_error() -> TestResult {
    let db = TempDb::new().await?;
    for text in ["", "  \t", "***", "-excluded -only", "🎉"] {
        assert!(
            matches!(search(db.reader(), &FtsQuery::new(text)).await, Err(FtsError::EmptyQuery)),
            "{text:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn searches_on_the_reader_pool_run_while_the_writer_writes() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    for i in 0..50 {
        episode(&db, &p, &format!("seed note {i} about lanterns"), None).await?;
    }
    let writer = {
        let (db, project) = (db.clone(), p.clone());
        tokio::spawn(async move {
            for i in 0..100 {
                episode(&db, &project, &format!("new note {i} about lanterns"), None).await?;
            }
            Ok::<_, nexus_db::DbError>(())
        })
    };
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (db, project) = (db.clone(), p.clone());
            tokio::spawn(async move {
                let mut last = 0;
                for _ in 0..25 {
                    let query = FtsQuery::new("lanterns").project(&project).limit(1000).snippet(None);
                    let n = search(db.reader(), &query).await?.len();
                    assert!(n >= last && n >= 50, "a reader never sees fewer rows than before");
                    last = n;
                }
                Ok::<_, FtsError>(())
            })
        })
        .collect();
    writer.await??;
    for reader in readers {
        reader.await??;
    }
    assert_eq!(search(db.reader(), &FtsQuery::new("lanterns").limit(1000)).await?.len(), 150);
    Ok(())
}

#[tokio::test]
async fn snippets_of_rows_cut_the_given_texts_and_read_the_others() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    for i in 0..4 {
        episode(&db, &p, &format!("Release {i}: the queue was drained before the deploy."), None).await?;
    }
    let query = FtsQuery::new("queue deploy").project(&p);
    let hits = search(db.reader(), &query.clone().snippet(None)).await?;
    assert_eq!(hits.len(), 4);
    // Read from the table: the same snippets as the search's own.
    let read = nexus_fts::snippets(db.reader(), &query, &hits).await?;
    let searched = search(db.reader(), &query).await?;
    assert_eq!(read, searched);
    // Given, for the first hit only: its snippet is cut from the given text (which differs from
    // the stored one, to tell them apart); the others are read as before.
    let given = [nexus_fts::SnippetText {
        kind: SourceKind::Episode,
        rowid: hits[0].rowid,
        columns: [Some("Given text: the deploy queue."), None],
    }];
    let mixed = nexus_fts::snippets_of_rows(db.reader(), &query, &hits, &given).await?;
    assert_eq!(mixed[0].id, read[0].id);
    assert_eq!(mixed[0].snippet.as_deref(), Some("Given text: the <mark>deploy</mark> <mark>queue</mark>."));
    assert_eq!(mixed[1..], read[1..]);
    Ok(())
}

#[tokio::test]
async fn interruptible_searches_answer_as_searches_do() -> TestResult {
    let db = TempDb::new().await?;
    let p = project(&db, "p").await?;
    for i in 0..30 {
        episode(&db, &p, &format!("Lantern {i} lights the harbour; lanterns{} glow.", i % 3), None).await?;
    }
    let pool = db.reader().clone();
    for query in [
        FtsQuery::new("lanterns harbour").project(&p).snippet(None),
        FtsQuery::new("lantern*").project(&p).limit(5),
        FtsQuery::new("lanterns1 -harbour"),
    ] {
        let want = search(db.reader(), &query).await?;
        // Twice: cold, then with the score lists cached (one statement); on another task, as
        // hybrid search runs it.
        for _ in 0..2 {
            let (pool, q) = (pool.clone(), query.clone());
            let got = tokio::spawn(async move { nexus_fts::search_interruptible(&pool, &q).await }).await??;
            assert_eq!(got, want, "{}", query.text);
        }
    }
    Ok(())
}
