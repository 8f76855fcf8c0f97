//! Collections: created once and reopened, a different model or dimensions is a typed error,
//! names are checked, tables are named from ids, and removal drops everything.

use crate::common;

use common::{TestResult, fixture};
use nexus_vector::{Collection, CollectionSpec, Element, Metric, VectorError, list_collections};

fn minilm() -> CollectionSpec {
    CollectionSpec::new("minilm", "sentence-transformers/all-MiniLM-L6-v2", 384, Metric::Cosine)
}

async fn table_exists(db: &nexus_db::Db, name: &str) -> TestResult<bool> {
    Ok(sqlx::query_scalar("SELECT count(*) > 0 FROM sqlite_schema WHERE name = ?")
        .bind(name)
        .fetch_one(db.reader())
        .await?)
}

#[tokio::test]
async fn a_collection_is_created_once_and_reopened() -> TestResult {
    let f = fixture().await?;
    let created = Collection::open_or_create(f.db(), &minilm()).await?;
    assert_eq!(created.table(), format!("vectors_{}", created.info().id));
    assert!(table_exists(f.db(), created.table()).await?);

    let reopened = Collection::open_or_create(f.db(), &minilm()).await?;
    assert_eq!(reopened.info(), created.info());
    let opened = Collection::open(f.db().reader(), "minilm").await?;
    assert_eq!(opened.info(), created.info());
    assert_eq!(
        (opened.dimensions(), opened.metric(), opened.element()),
        (384, Metric::Cosine, Element::Float32)
    );

    let other = Collection::open_or_create(
        f.db(),
        &CollectionSpec::new("openai_small", "text-embedding-3-small", 1536, Metric::Cosine)
            .element(Element::Int8),
    )
    .await?;
    assert_ne!(other.table(), created.table());
    let names: Vec<String> =
        list_collections(f.db().reader()).await?.into_iter().map(|c| c.spec.name).collect();
    assert_eq!(names, ["minilm", "openai_small"]);
    Ok(())
}

#[tokio::test]
async fn another_model_or_shape_is_a_typed_error() -> TestResult {
    let f = fixture().await?;
    Collection::open_or_create(f.db(), &minilm()).await?;
    let cases = [
        ("dimensions", CollectionSpec { dimensions: 768, ..minilm() }),
        ("model", CollectionSpec { model: "text-embedding-3-small".into(), ..minilm() }),
        ("metric", CollectionSpec { metric: Metric::L2, ..minilm() }),
        ("element", minilm().element(Element::Bit)),
    ];
    for (expected_field, spec) in cases {
        match Collection::open_or_create(f.db(), &spec).await {
            Err(VectorError::SpecMismatch { collection, field, existing, requested }) => {
                assert_eq!((collection.as_str(), field), ("minilm", expected_field));
                assert_ne!(existing, requested);
            }
            other => panic!("{expected_field}: expected SpecMismatch, got {other:?}"),
        }
    }

    // int8: an explicit different range is a mismatch; no range means "as registered".
    let int8 = CollectionSpec::new("q", "m", 8, Metric::L2).element(Element::Int8).int8_range(2.0);
    Collection::open_or_create(f.db(), &int8).await?;
    assert!(matches!(
        Collection::open_or_create(f.db(), &int8.clone().int8_range(3.0)).await,
        Err(VectorError::SpecMismatch { field: "int8_range", .. })
    ));
    let reopened = Collection::open_or_create(f.db(), &CollectionSpec { int8_range: None, ..int8 }).await?;
    assert_eq!(reopened.info().spec.int8_range, Some(2.0));
    Ok(())
}

#[tokio::test]
async fn names_and_specs_are_checked_before_any_sql() -> TestResult {
    let f = fixture().await?;
    for name in ["x; DROP TABLE projects; --", "Vectors", "a-b", ""] {
        let spec = CollectionSpec { name: name.into(), ..minilm() };
        assert!(matches!(
            Collection::open_or_create(f.db(), &spec).await,
            Err(VectorError::InvalidName { .. })
        ));
        assert!(matches!(
            Collection::open(f.db().reader(), name).await,
            Err(VectorError::InvalidName { .. })
        ));
    }
    let bits = CollectionSpec::new("bits", "m", 12, Metric::Cosine).element(Element::Bit);
    assert!(matches!(Collection::open_or_create(f.db(), &bits).await, Err(VectorError::InvalidSpec { .. })));
    assert!(matches!(
        Collection::open(f.db().reader(), "missing").await,
        Err(VectorError::UnknownCollection { name }) if name == "missing"
    ));
    assert!(list_collections(f.db().reader()).await?.is_empty());
    assert!(table_exists(f.db(), "projects").await?);
    Ok(())
}

#[tokio::test]
async fn removing_a_collection_drops_its_tables_and_trigger() -> TestResult {
    let f = fixture().await?;
    let collection = Collection::open_or_create(f.db(), &minilm().element(Element::Bit)).await?;
    let table = collection.table().to_owned();
    collection.remove(f.db()).await?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'vectors%'")
        .fetch_one(f.db().reader())
        .await?;
    assert_eq!(left, 0, "{table} and its shadow tables and trigger are gone");
    assert!(matches!(
        Collection::open(f.db().reader(), "minilm").await,
        Err(VectorError::UnknownCollection { .. })
    ));

    // The name can be used again, for another embedding space, with a new table.
    let again = Collection::open_or_create(f.db(), &CollectionSpec { dimensions: 768, ..minilm() }).await?;
    assert_ne!(again.table(), table);
    Ok(())
}

#[tokio::test]
async fn collections_work_on_an_in_memory_database() -> TestResult {
    let db = nexus_db::Db::in_memory().await?;
    let c = Collection::open_or_create(&db, &CollectionSpec::new("mem", "m", 4, Metric::Cosine)).await?;
    let p = common::project(&db, "p").await?;
    let mut tx = db.begin().await?;
    let id = common::source_row(&mut tx, nexus_db::SourceKind::Episode, &p).await?;
    c.upsert(&mut tx, nexus_vector::Item::new(nexus_db::SourceKind::Episode, &id, &[1.0, 0.0, 0.0, 0.0]))
        .await?;
    tx.commit().await?;
    let hits = c.knn(db.reader(), &nexus_vector::KnnQuery::new(&[1.0, 0.1, 0.0, 0.0], 3)).await?;
    assert_eq!(hits.len(), 1);
    assert_eq!(c.stats(db.reader()).await?.total, 1);
    db.close().await?;
    Ok(())
}
