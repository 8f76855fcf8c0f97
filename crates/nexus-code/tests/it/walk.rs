//! Walking trees: ignore rules, skipped files, symlinks, order, errors.

use std::fs;
use std::io;
use std::path::Path;

use nexus_code::{CodeError, Language, SourceFile, WalkOptions, WalkStats};
use nexus_testkit::write_file as write;

use crate::TestResult;

/// Every file a walk yields, and its stats.
fn files(root: &Path, options: &WalkOptions) -> Result<(Vec<SourceFile>, WalkStats), CodeError> {
    let mut walk = nexus_code::walk(root, options)?;
    let files = walk.by_ref().collect::<Result<_, _>>()?;
    Ok((files, walk.stats()))
}

/// The relative paths a walk yields, and its stats.
fn paths(root: &Path, options: &WalkOptions) -> Result<(Vec<String>, WalkStats), CodeError> {
    let (files, stats) = files(root, options)?;
    Ok((files.into_iter().map(|f| f.path).collect(), stats))
}

fn tree() -> io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    write(root, ".gitignore", "*.log\n!keep.log\nbuild/\n")?;
    write(root, ".ignore", "generated.rs\n")?;
    write(root, "src/main.rs", "fn main() {}\n")?;
    write(root, "src/generated.rs", "// generated\n")?;
    write(root, "src/lib/util.py", "def f():\n    pass\n")?;
    write(root, "debug.log", "noise\n")?;
    write(root, "keep.log", "kept\n")?;
    write(root, "build/out.js", "x()\n")?;
    write(root, "web/.gitignore", "secret.ts\n")?;
    write(root, "web/secret.ts", "export const key = 1;\n")?;
    write(root, "web/app.ts", "export const app = 1;\n")?;
    write(root, ".hidden/h.rs", "fn h() {}\n")?;
    write(root, ".env", "KEY=1\n")?;
    write(root, ".git/config", "[core]\n")?;
    write(root, "target/debug/t.rs", "fn t() {}\n")?;
    write(root, "web/node_modules/m/index.js", "module.exports = 1;\n")?;
    write(root, "nested/target/deep.rs", "fn deep() {}\n")?;
    write(root, "a-b.md", "# A\n")?;
    Ok(dir)
}

#[test]
fn honours_ignore_files_hidden_rules_and_skipped_dirs() -> TestResult {
    let dir = tree()?;
    let (paths, stats) = paths(dir.path(), &WalkOptions::default())?;
    // Depth first, each directory's entries by name.
    assert_eq!(paths, ["a-b.md", "keep.log", "src/lib/util.py", "src/main.rs", "web/app.ts"]);
    assert_eq!(stats, WalkStats { files: 5, ..WalkStats::default() });

    let with_hidden = WalkOptions { include_hidden: true, ..WalkOptions::default() };
    let (paths, _) = self::paths(dir.path(), &with_hidden)?;
    assert_eq!(
        paths,
        [
            ".env",
            ".gitignore",
            ".hidden/h.rs",
            ".ignore",
            "a-b.md",
            "keep.log",
            "src/lib/util.py",
            "src/main.rs",
            "web/.gitignore",
            "web/app.ts"
        ]
    );

    let no_ignore_files = WalkOptions { honor_ignore_files: false, ..WalkOptions::default() };
    let (paths, _) = self::paths(dir.path(), &no_ignore_files)?;
    assert_eq!(
        paths,
        [
            "a-b.md",
            "build/out.js",
            "debug.log",
            "keep.log",
            "src/generated.rs",
            "src/lib/util.py",
            "src/main.rs",
            "web/app.ts",
            "web/secret.ts"
        ]
    );

    let nothing_skipped = WalkOptions { skip_dirs: Vec::new(), ..WalkOptions::default() };
    let (paths, _) = self::paths(dir.path(), &nothing_skipped)?;
    for path in ["target/debug/t.rs", "nested/target/deep.rs", "web/node_modules/m/index.js"] {
        assert!(paths.iter().any(|p| p == path), "{path} missing from {paths:?}");
    }
    Ok(())
}

#[test]
fn files_carry_content_hash_and_language() -> TestResult {
    let dir = tree()?;
    let (files, _) = files(dir.path(), &WalkOptions::default())?;
    let by_path = |path: &str| files.iter().find(|f| f.path == path).ok_or(format!("{path} not walked"));
    let main = by_path("src/main.rs")?;
    assert_eq!(main.content, "fn main() {}\n");
    assert_eq!(main.language, Language::Rust);
    assert_eq!(main.hash, nexus_code::content_hash(b"fn main() {}\n"));
    assert_eq!(by_path("src/lib/util.py")?.language, Language::Python);
    assert_eq!(by_path("keep.log")?.language, Language::Text);
    Ok(())
}

#[test]
fn skips_binary_huge_and_non_utf8_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    write(root, "ok.txt", "fine\n")?;
    write(root, "image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")?;
    let mut late_nul = "text\n".repeat(2000).into_bytes();
    late_nul.push(0);
    write(root, "late_nul.txt", &late_nul)?; // the NUL is past the first 8 KiB: still text
    write(root, "latin1.txt", b"caf\xe9\n")?;
    write(root, "exact.txt", "x".repeat(100))?;
    write(root, "huge.txt", "x".repeat(101))?;

    let options = WalkOptions { max_file_size: 100, ..WalkOptions::default() };
    let (paths, stats) = paths(root, &options)?;
    assert_eq!(paths, ["exact.txt", "ok.txt"]);
    assert_eq!(
        stats,
        WalkStats { files: 2, skipped_binary: 1, skipped_too_large: 2, skipped_not_utf8: 1, errors: 0 }
    );

    let (paths, stats) = self::paths(root, &WalkOptions::default())?;
    assert_eq!(paths, ["exact.txt", "huge.txt", "late_nul.txt", "ok.txt"]);
    assert_eq!((stats.skipped_binary, stats.skipped_not_utf8, stats.skipped_too_large), (1, 1, 0));
    Ok(())
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed() -> TestResult {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir()?;
    write(outside.path(), "secret.rs", "fn secret() {}\n")?;
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    write(root, "src/a.rs", "fn a() {}\n")?;
    symlink(outside.path(), root.join("outside_dir"))?;
    symlink(outside.path().join("secret.rs"), root.join("outside_file.rs"))?;
    symlink(root.join("src/a.rs"), root.join("inside_link.rs"))?;
    symlink(root, root.join("src/loop"))?;
    let (paths, stats) = paths(root, &WalkOptions::default())?;
    assert_eq!(paths, ["src/a.rs"]);
    assert_eq!(stats.errors, 0);
    Ok(())
}

#[cfg(target_os = "linux")]
#[test]
fn errors_are_reported_per_file_and_the_walk_goes_on() -> TestResult {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    write(root, "a.rs", "fn a() {}\n")?;
    fs::write(root.join(OsStr::from_bytes(b"b\xff.rs")), "fn b() {}\n")?;
    write(root, "c.rs", "fn c() {}\n")?;
    let mut walk = nexus_code::walk(root, &WalkOptions::default())?;
    let items: Vec<_> = walk.by_ref().collect();
    assert_eq!(items.len(), 3);
    assert!(matches!(&items[0], Ok(file) if file.path == "a.rs"));
    assert!(
        matches!(&items[1], Err(CodeError::NonUtf8Path { path }) if path.ends_with(OsStr::from_bytes(b"b\xff.rs")))
    );
    assert!(matches!(&items[2], Ok(file) if file.path == "c.rs"));
    assert_eq!(walk.stats(), WalkStats { files: 2, errors: 1, ..WalkStats::default() });
    Ok(())
}

#[test]
fn rejects_a_root_that_is_not_a_directory() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(dir.path(), "file.rs", "fn f() {}\n")?;
    for root in [dir.path().join("missing"), dir.path().join("file.rs")] {
        let result = nexus_code::walk(&root, &WalkOptions::default());
        assert!(matches!(&result, Err(CodeError::InvalidRoot { path, .. }) if *path == root), "{result:?}");
    }
    Ok(())
}

#[test]
fn walks_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<nexus_code::Walk>();
    assert_send::<SourceFile>();
    assert_send::<nexus_code::Chunk>();
}

#[test]
fn walking_is_deterministic() -> TestResult {
    let dir = tree()?;
    assert_eq!(files(dir.path(), &WalkOptions::default())?, files(dir.path(), &WalkOptions::default())?);
    Ok(())
}
