//! Property: export → import into an empty database → export gives the same members, for
//! generated projects (few cases: each builds two database files).

use nexus_archive::{OnConflict, Scope};
use nexus_testkit::Rng;
use proptest::prelude::*;

use crate::{Site, assert_same_members, seed};

async fn round_trip(seed_value: u64, size: usize, projects: usize) -> Result<(), Box<dyn std::error::Error>> {
    let a = Site::new().await?;
    let mut rng = Rng::new(seed_value);
    for i in 0..projects {
        seed(&a, &format!("p{i} {}", rng.word(4)), &mut rng, size).await?;
    }
    let first = a.export(Scope::Workspace, "all.nexus").await?;
    let b = Site::new().await?;
    b.import(&a.path("all.nexus"), OnConflict::Fail).await?;
    let second = b.export(Scope::Workspace, "again.nexus").await?;
    assert_same_members(&first, &second);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn generated_projects_round_trip(seed_value in any::<u64>(), size in 1usize..6, projects in 1usize..3) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(round_trip(seed_value, size, projects)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
