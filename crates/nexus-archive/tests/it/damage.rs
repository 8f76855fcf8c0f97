//! Damaged archives: each is a typed error naming the member, and the database and the
//! artifact directory are byte-for-byte unchanged.

use std::io::Read;
use std::path::Path;

use nexus_archive::{ArchiveError, OnConflict, Scope};
use nexus_testkit::Rng;

use crate::{Site, TestResult, fingerprint, seed};

/// An archive's members: (name, bytes), in order.
type Members = Vec<(String, Vec<u8>)>;

/// The members of an archive file.
fn unpack(path: &Path) -> Result<Members, Box<dyn std::error::Error>> {
    let mut tar = tar::Archive::new(zstd::stream::read::Decoder::new(std::fs::File::open(path)?)?);
    let mut members = Vec::new();
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        members.push((name, bytes));
    }
    Ok(members)
}

/// Writes `members` as an archive file (a well-formed tar stream, zstd-compressed).
fn pack(path: &Path, members: &[(String, Vec<u8>)]) -> Result<(), Box<dyn std::error::Error>> {
    let mut tar = tar::Builder::new(zstd::stream::write::Encoder::new(std::fs::File::create(path)?, 3)?);
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, &bytes[..])?;
    }
    tar.into_inner()?.finish()?;
    Ok(())
}

/// Edits the manifest JSON of `members`.
fn edit_manifest(members: &mut [(String, Vec<u8>)], edit: impl FnOnce(&mut serde_json::Value)) -> TestResult {
    let mut manifest: serde_json::Value = serde_json::from_slice(&members[0].1)?;
    edit(&mut manifest);
    members[0].1 = serde_json::to_vec(&manifest)?;
    Ok(())
}

#[tokio::test]
async fn damaged_archives_are_named_errors_and_change_nothing() -> TestResult {
    let a = Site::new().await?;
    let shop = seed(&a, "shop", &mut Rng::new(7), 3).await?;
    a.export(Scope::Project(shop), "shop.nexus").await?;
    let good = std::fs::read(a.path("shop.nexus"))?;
    let members = unpack(&a.path("shop.nexus"))?;
    let tasks =
        members.iter().position(|(n, _)| n.ends_with("tables/tasks.jsonl")).ok_or("no tasks member")?;

    // The target already holds a project of its own, so "unchanged" means something.
    let b = Site::new().await?;
    seed(&b, "mine", &mut Rng::new(8), 2).await?;
    let before = fingerprint(b.dir.path())?;
    let bad = b.path("bad.nexus");
    let try_import = |expect: &'static str| {
        let (db, store, bad, before) = (&b.db, &b.store, bad.clone(), before.clone());
        let dir = b.dir.path().to_path_buf();
        async move {
            let input = std::fs::File::open(&bad)?;
            let result =
                nexus_archive::import(db, store, input, OnConflict::Fail, std::sync::Arc::new(())).await;
            let err = match result {
                Ok(_) => return Err(format!("{expect}: the damaged archive was imported").into()),
                Err(e) => e,
            };
            let mut after = fingerprint(&dir)?;
            after.retain(|(name, _)| name != "bad.nexus");
            let mut expected = before;
            expected.retain(|(name, _)| name != "bad.nexus");
            assert_eq!(after, expected, "{expect}: files changed");
            Ok::<ArchiveError, Box<dyn std::error::Error>>(err)
        }
    };

    // Truncated: cut in the middle.
    std::fs::write(&bad, &good[..good.len() / 2])?;
    let err = try_import("truncated").await?;
    assert!(matches!(err, ArchiveError::Truncated { .. } | ArchiveError::Damaged { .. }), "{err:?}");

    // Flipped bytes anywhere: never imported, always one of the typed errors.
    for at in [good.len() / 5, good.len() / 3, good.len() / 2, good.len() - 5] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x40;
        std::fs::write(&bad, &flipped)?;
        let err = try_import("flipped").await?;
        assert!(
            matches!(
                err,
                ArchiveError::Damaged { .. }
                    | ArchiveError::HashMismatch { .. }
                    | ArchiveError::Truncated { .. }
                    | ArchiveError::BadMember { .. }
                    | ArchiveError::SizeMismatch { .. }
            ),
            "flip at {at}: {err:?}"
        );
    }

    // A member whose bytes changed (well-formed stream): the hash names it.
    let mut changed = members.clone();
    changed[tasks].1[10] ^= 0x01;
    pack(&bad, &changed)?;
    let err = try_import("hash").await?;
    assert!(
        matches!(&err, ArchiveError::HashMismatch { member, .. } if member.ends_with("tasks.jsonl")),
        "{err:?}"
    );

    // A member far larger than the manifest says: refused before its bytes are read.
    let mut large = members.clone();
    large[tasks].1.extend(std::iter::repeat_n(b'x', 1 << 20));
    pack(&bad, &large)?;
    let err = try_import("oversize").await?;
    assert!(
        matches!(&err, ArchiveError::SizeMismatch { member, .. } if member.ends_with("tasks.jsonl")),
        "{err:?}"
    );

    // A member missing at the end.
    pack(&bad, &members[..members.len() - 1])?;
    let err = try_import("missing").await?;
    assert!(
        matches!(&err, ArchiveError::Truncated { member, .. } if *member == members[members.len() - 1].0),
        "{err:?}"
    );

    // Unknown format version, newer schema.
    let mut future = members.clone();
    edit_manifest(&mut future, |m| m["format_version"] = 99.into())?;
    pack(&bad, &future)?;
    let err = try_import("format").await?;
    assert!(matches!(err, ArchiveError::UnknownFormat { found: 99, .. }), "{err:?}");
    let mut newer = members.clone();
    edit_manifest(&mut newer, |m| m["migration_version"] = 9999.into())?;
    pack(&bad, &newer)?;
    let err = try_import("schema").await?;
    assert!(matches!(err, ArchiveError::NewerSchema { archive: 9999, .. }), "{err:?}");

    // The good archive still imports.
    std::fs::write(&bad, &good)?;
    b.import(&bad, OnConflict::Fail).await?;
    Ok(())
}
