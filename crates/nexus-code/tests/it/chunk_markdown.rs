//! Markdown and line-window chunking.

use nexus_code::{ChunkKind::*, ChunkOptions, SourceFile};

use crate::{assert_exact, chunks, outline};

#[test]
fn markdown_splits_by_heading_outside_code_fences() {
    let src = "Intro text.\n\n# Guide\n\nRead this.\n\n## Install\n\n```sh\n# not a heading\ncargo install\n```\n\n## Use ##\nRun it.\n";
    let chunks = chunks("docs/guide.md", src);
    assert_eq!(
        outline(&chunks),
        [
            (1, 2, Block, vec![]),
            (3, 6, Section, vec!["Guide"]),
            (7, 13, Section, vec!["Install"]),
            (14, 15, Section, vec!["Use"]),
        ]
    );
    assert!(chunks.iter().all(|c| c.complexity.is_none()));
}

#[test]
fn other_languages_get_line_windows() {
    let src: String = (1..=150).map(|i| format!("key{i} = {i}\n")).collect();
    let chunks = chunks("config.toml", &src);
    // 150 lines → three windows of 50 lines, without overlap.
    assert_eq!(
        outline(&chunks),
        [(1, 50, Block, vec![]), (51, 100, Block, vec![]), (101, 150, Block, vec![])]
    );
    assert_eq!(chunks[0].language.as_str(), "toml");
}

#[test]
fn windows_prefer_to_end_after_a_blank_line() {
    let mut src = String::new();
    // Paragraphs of 8 lines: the 41-line windows would end mid-paragraph.
    for paragraph in 0..9 {
        for line in 0..8 {
            src.push_str(&format!("paragraph {paragraph} line {line}\n"));
        }
        src.push('\n');
    }
    let chunks = chunks("notes.txt", &src);
    assert_eq!(chunks.len(), 3, "{:?}", outline(&chunks));
    for chunk in &chunks[..chunks.len() - 1] {
        assert!(
            chunk.content.ends_with("\n\n"),
            "window {}-{} ends mid-paragraph",
            chunk.start_line,
            chunk.end_line
        );
    }
}

#[test]
fn byte_limit_and_long_lines() {
    let long_line = "x".repeat(10_000);
    let src = format!("short\n{long_line}\n{long_line}\nshort\n");
    let file = SourceFile::new("data.txt", src);
    let chunks = nexus_code::chunk_file(&file);
    assert_exact(&file, &chunks);
    // A line over the byte limit is a window of its own, never cut.
    assert!(chunks.iter().all(|c| c.end_line - c.start_line <= 1), "{:?}", outline(&chunks));

    let options = ChunkOptions { max_lines: 5, max_bytes: 1 << 20, window_lines: 2, small_lines: 0 };
    let src: String = (0..9).map(|i| format!("{i}\n")).collect();
    let file = SourceFile::new("n.txt", src);
    let chunks = nexus_code::chunk_file_with(&file, &options);
    assert_exact(&file, &chunks);
    assert_eq!(chunks.len(), 5);
}

#[test]
fn blank_and_empty_files_have_no_chunks() {
    for src in ["", "\n", "  \n\t\n", "\r\n"] {
        for path in ["a.rs", "a.md", "a.txt"] {
            assert!(chunks(path, src).is_empty());
        }
    }
    // A file of nothing but a brace still has its one chunk.
    assert_eq!(outline(&chunks("a.rs", "\n}\n")), [(1, 2, Block, vec![])]);
}
