//! Properties every chunking keeps (see `assert_exact`), checked over this repository's own
//! files and over generated files in every language, plus determinism.

use std::path::Path;

use nexus_code::{ChunkOptions, SourceFile, WalkOptions};
use nexus_testkit::Rng;

use crate::{TestResult, assert_exact};

#[test]
fn every_file_of_this_repository() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut walk = nexus_code::walk(&root, &WalkOptions::default())?;
    let mut files = 0;
    for file in &mut walk {
        let file = file?;
        let chunks = nexus_code::chunk_file(&file);
        assert_exact(&file, &chunks);
        assert_eq!(chunks, nexus_code::chunk_file(&file), "{}: chunking is deterministic", file.path);
        files += 1;
    }
    assert!(files > 40, "only {files} files found under {}", root.display());
    assert_eq!(walk.stats().errors, 0);
    Ok(())
}

/// Fragments of each language (whole definitions, pieces of them, broken code), mixed with
/// lines that are hard for any language.
const FRAGMENTS: &[(&str, &[&str])] = &[
    (
        "rs",
        &[
            "/// Doc.\n#[inline]\npub fn f(x: u32) -> u32 {\n    if x > 1 && x < 9 { x } else { 0 }\n}\n",
            "impl<T> Store<T> {\n    fn get(&self) -> Option<&T> { None }\n",
            "}\n",
            "mod inner {\n    struct S;\n",
            "pub trait T { fn m(&self); }\n",
            "use a::{b, c}; fn same_line() {} struct AlsoSameLine;\n",
            "enum E { A, B }\n",
            "//! inner doc\n",
            "fn broken( {\n",
            "macro_rules! m { () => {} }\n",
        ],
    ),
    (
        "py",
        &[
            "def f(x):\n    return x if x and True else None\n",
            "class C(Base):\n    \"\"\"Doc.\"\"\"\n",
            "    def method(self):\n        pass\n",
            "@decorator\n",
            "# comment\n",
            "import os, sys\n",
            "if __name__ == '__main__':\n    main()\n",
            "def broken(:\n",
        ],
    ),
    (
        "ts",
        &[
            "export function f(a: number): number {\n  return a ?? 0;\n}\n",
            "/** Doc. */\nexport class C {\n  m(): void {}\n",
            "}\n",
            "interface I { a: string }\n",
            "export const g = (x: string) => x;\n",
            "namespace N {\n  export const v = 1;\n}\n",
            "@Dec()\n",
            "type T = A | B;\n",
            "function broken( {\n",
        ],
    ),
    (
        "tsx",
        &[
            "export function App() {\n  return <div className=\"x\">{items.map(i => <Item key={i} />)}</div>;\n}\n",
            "const C = () => <span/>;\n",
            "class K extends React.Component {\n  render() { return null; }\n}\n",
            "<div>\n",
        ],
    ),
    (
        "js",
        &[
            "function f(a, b) {\n  return a || b;\n}\n",
            "module.exports = function () {};\n",
            "class C {\n  #p = 1;\n  get x() { return this.#p; }\n}\n",
            "const a = 1, b = () => 2;\n",
            "export default class {\n",
            "switch (x) {\n  case 1: break;\n}\n",
        ],
    ),
    (
        "go",
        &[
            "package main\n",
            "import \"fmt\"\n",
            "// Doc.\nfunc F(x int) int {\n\tif x > 0 && x < 9 {\n\t\treturn x\n\t}\n\treturn 0\n}\n",
            "func (s *S[K]) M() {}\n",
            "type S[K comparable] struct {\n\tk K\n}\n",
            "type (\n\tA int\n\tB = A\n)\n",
            "var x = 1\n",
            "func broken( {\n",
        ],
    ),
    ("md", &["# Title\n", "## Sub ##\n", "text\n", "```\n# code\n", "```\n", "~~~~\n"]),
    ("toml", &["[section]\n", "key = \"value\"\n", "# comment\n"]),
];

const HARD_LINES: &[&str] = &[
    "\n",
    "   \n",
    "\t\n",
    "}\n",
    "});\n",
    "// ----\n",
    "é 😀 ünïcode\n",
    "\r\n",
    "x\r\n",
    "/*\n",
    "*/\n",
    "\"\n",
];

fn generate(rng: &mut Rng, fragments: &[&str]) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(40) {
        match rng.below(10) {
            0..=5 => text.push_str(rng.pick(fragments).copied().unwrap_or_default()),
            6..=8 => text.push_str(rng.pick(HARD_LINES).copied().unwrap_or_default()),
            _ => text.push_str(&"x".repeat(rng.below(8000))),
        }
    }
    if rng.below(3) == 0 {
        text.truncate(text.trim_end_matches('\n').len()); // no final newline
    }
    if rng.below(4) == 0 {
        text = text.replace('\n', "\r\n");
    }
    text
}

#[test]
fn generated_files_in_every_language() {
    let mut rng = Rng::new(0x5EED);
    for (ext, fragments) in FRAGMENTS {
        for case in 0..100 {
            let content = generate(&mut rng, fragments);
            let file = SourceFile::new(format!("gen/case{case}.{ext}"), content);
            let options = match rng.below(3) {
                0 => ChunkOptions::default(),
                _ => ChunkOptions {
                    max_lines: 1 + rng.below(30),
                    max_bytes: 1 + rng.below(2000),
                    window_lines: rng.below(20),
                    small_lines: rng.below(5),
                },
            };
            let chunks = nexus_code::chunk_file_with(&file, &options);
            assert_exact(&file, &chunks);
            assert_eq!(chunks, nexus_code::chunk_file_with(&file, &options), "{}: deterministic", file.path);
            for chunk in &chunks {
                assert!(chunk.symbols.iter().all(|s| !s.trim().is_empty()), "{}: empty symbol", file.path);
                // Windows respect the limits, except that a line is never cut.
                if chunk.end_line > chunk.start_line && options == ChunkOptions::default() {
                    assert!(chunk.end_line - chunk.start_line < 2 * options.max_lines);
                }
            }
        }
    }
}
