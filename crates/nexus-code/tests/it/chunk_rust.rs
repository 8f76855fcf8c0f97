//! Rust chunking.

use nexus_code::ChunkKind::*;

use crate::{chunks, find, outline};

const SEARCH: &str = r#"//! Hybrid search.

use std::collections::HashMap;
use crate::{Error, Result};

/// How results are fused.
#[derive(Debug, Clone, Copy)]
pub enum Fusion {
    /// Reciprocal rank fusion.
    Rrf { k: u32 },
    Linear,
}

/// Builds a hybrid search.
pub struct HybridSearchBuilder {
    limit: usize,
}

impl HybridSearchBuilder {
    /// A builder with defaults.
    pub fn new() -> Self {
        Self { limit: 10 }
    }

    /// Runs the search.
    pub async fn execute(self) -> Result<Vec<u32>> {
        if self.limit == 0 && true {
            return Err(Error::Empty);
        }
        match self.limit {
            1 => Ok(vec![1]),
            _ => Ok(vec![]),
        }
    }
}

const DEFAULT_K: u32 = 60; // the usual constant

pub trait Ranker {
    fn rank(&self, scores: &[f32]) -> Vec<usize>;
}

macro_rules! ranked {
    ($x:expr) => { $x };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds() {
        assert_eq!(HybridSearchBuilder::new().limit, 10);
    }
}
"#;

#[test]
fn definitions_with_their_docs_and_attributes() {
    let chunks = chunks("src/search.rs", SEARCH);
    assert_eq!(
        outline(&chunks),
        [
            (1, 5, Block, vec![]),
            (6, 13, Enum, vec!["Fusion"]),
            (14, 18, Struct, vec!["HybridSearchBuilder"]),
            // One chunk per method; `impl HybridSearchBuilder {` joins the first.
            (19, 24, Method, vec!["HybridSearchBuilder::new"]),
            (25, 36, Method, vec!["HybridSearchBuilder::execute"]),
            (37, 38, Const, vec!["DEFAULT_K"]),
            (39, 42, Trait, vec!["Ranker", "Ranker::rank"]),
            (43, 46, Macro, vec!["ranked"]),
            // A test module is test code, ranked below the code it tests.
            (47, 55, Test, vec!["tests", "tests::builds"]),
        ]
    );
    assert_eq!(chunks[4].context.as_deref(), Some("impl HybridSearchBuilder"));
    assert_eq!(chunks[4].signature.as_deref(), Some("pub async fn execute(self) -> Result<Vec<u32>>"));
    assert!(
        chunks[1]
            .content
            .starts_with("/// How results are fused.\n#[derive(Debug, Clone, Copy)]\npub enum Fusion")
    );
    // The trailing comment on the const's line stays with it.
    assert!(chunks[5].content.contains("// the usual constant"));
    assert!(chunks.iter().all(|c| c.language.as_str() == "rust"));
}

#[test]
fn complexity_counts_branches() {
    let chunks = chunks("src/search.rs", SEARCH);
    // `if`, `&&`, two match arms.
    assert_eq!(find(&chunks, "HybridSearchBuilder::execute").complexity, Some(5));
    assert_eq!(find(&chunks, "Fusion").complexity, Some(1));
}

#[test]
fn large_impls_are_split_into_methods() {
    let mut src = String::from(
        "use std::fmt;\n\n/// A store.\npub struct Store;\n\n/// Its methods.\nimpl Store {\n    const LIMIT: usize = 3;\n\n",
    );
    for i in 0..12 {
        src.push_str(&format!("    /// Method {i}.\n    pub fn method_{i}(&self) -> usize {{\n"));
        for j in 0..10 {
            src.push_str(&format!("        let x{j} = {j};\n"));
        }
        src.push_str("        0\n    }\n\n");
    }
    src.push_str("}\n\nimpl fmt::Display for Store {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        f.write_str(\"store\")\n    }\n}\n");
    let chunks = chunks("src/store.rs", &src);
    let outline = outline(&chunks);
    assert_eq!(outline[0], (1, 2, Block, vec![]));
    assert_eq!(outline[1], (3, 5, Struct, vec!["Store"]));
    // Each member is a chunk; the impl's short header (its doc and `impl Store {`) joins the
    // first one, and every member carries it as context.
    assert_eq!(outline[2], (6, 9, Const, vec!["Store::LIMIT"]));
    assert_eq!(outline[3], (10, 24, Method, vec!["Store::method_0"]));
    assert!(chunks[3].content.starts_with("    /// Method 0.\n    pub fn method_0"));
    assert_eq!(chunks[3].context.as_deref(), Some("impl Store"));
    assert_eq!(chunks[3].signature.as_deref(), Some("pub fn method_0(&self) -> usize"));
    assert!(chunks[3].embedding_text().starts_with(
        "store method 0\nsrc/store.rs\nimpl Store\npub fn method_0(&self) -> usize\n    /// Method 0."
    ));
    let methods: Vec<_> = outline.iter().filter(|o| o.2 == Method).collect();
    assert_eq!(methods.len(), 12);
    // The closing brace joins the last method; the small Display impl stays whole.
    let last = &outline[outline.len() - 1];
    assert_eq!(last.2, Impl);
    assert_eq!(chunks[chunks.len() - 1].context, None);
    let display = &chunks[chunks.len() - 1];
    assert!(display.embedding_text().starts_with("store\nsrc/store.rs\nimpl fmt::Display for Store\n"));
    let camel =
        nexus_code::chunk_file(&nexus_code::SourceFile::new("a.ts", "function parseHTTPHeader() {}\n"));
    assert!(camel[0].embedding_text().starts_with("parse http header\na.ts\nfunction parseHTTPHeader()\n"));
    assert_eq!(last.3, ["Store", "Store::fmt"]);
    assert!(chunks[chunks.len() - 2].content.ends_with("        0\n    }\n\n}\n\n"));
}

#[test]
fn long_functions_become_windows_that_keep_the_symbol() {
    let mut src = String::from("fn long() {\n");
    for i in 0..300 {
        src.push_str(&format!("    let v{i} = {i};\n"));
    }
    src.push_str("}\n");
    let chunks = chunks("src/long.rs", &src);
    assert!(chunks.len() >= 5, "{:?}", outline(&chunks));
    for chunk in &chunks {
        assert_eq!(chunk.symbols, ["long"]);
        assert_eq!(chunk.kind, Function);
        assert!(chunk.end_line - chunk.start_line < 120);
    }
}

#[test]
fn generic_impls_are_named_after_their_type() {
    let src = "impl<T: Clone> std::fmt::Debug for Wrapper<T> {\n    fn fmt(&self) {}\n}\n";
    assert_eq!(outline(&chunks("a.rs", src)), [(1, 3, Impl, vec!["Wrapper", "Wrapper::fmt"])]);
}

#[test]
fn broken_code_still_covers_every_line() {
    let src = "fn ok() {}\n\nfn broken( {\n    let x = ;\n}\n\nstruct After;\n";
    let chunks = chunks("a.rs", src);
    assert_eq!(find(&chunks, "ok").start_line, 1);
}

#[test]
fn runs_of_tiny_items_are_grouped() {
    let mut src = String::from("use a::b;\n\n");
    for i in 0..100 {
        src.push_str(&format!("pub const C{i}: u32 = {i};\n"));
    }
    src.push_str(
        "/// Doc.\npub type A = u8;\npub type B = u16;\n\npub fn f() {\n    g();\n}\npub fn h() {}\n",
    );
    let chunks = chunks("consts.rs", &src);
    let outline = outline(&chunks);
    assert_eq!(outline.len(), 6, "{outline:?}");
    // Groups of up to `window_lines` (60) lines.
    assert_eq!((outline[1].0, outline[1].1, outline[1].2), (3, 62, Const));
    assert_eq!(outline[1].3.len(), 60);
    assert_eq!(outline[1].3[..2], ["C0", "C1"]);
    assert_eq!((outline[2].0, outline[2].1, outline[2].3.len()), (63, 102, 40));
    assert_eq!(outline[3], (103, 106, Type, vec!["A", "B"]));
    // A three-line function is not tiny; the one-liner after it stays alone.
    assert_eq!(outline[4], (107, 109, Function, vec!["f"]));
    assert_eq!(outline[5], (110, 110, Function, vec!["h"]));
}

#[test]
fn test_and_generated_code_is_recognised() {
    let src = "pub fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n\n#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}\n\n#[tokio::test]\nasync fn adds_later() {\n    assert_eq!(add(1, 2), 3);\n}\n";
    let kinds =
        |path: &str, src: &str| outline(&chunks(path, src)).into_iter().map(|o| o.2).collect::<Vec<_>>();
    assert_eq!(kinds("src/lib.rs", src), [Function, Test, Test]);
    assert_eq!(kinds("tests/it/add.rs", src), [Test, Test, Test]);
    assert_eq!(kinds("src/tests.rs", src), [Test, Test, Test]);
    assert_eq!(kinds("pkg/add_test.go", "package add\n\nfunc TestAdd(t *testing.T) {}\n"), [Test, Test]);
    assert_eq!(
        kinds("add.go", "package add\n\nfunc TestAdd(t *testing.T) {}\n\nfunc Testify() {}\n"),
        [Block, Test, Function]
    );
    assert_eq!(kinds("test_add.py", "def add():\n    pass\n"), [Test]);
    assert_eq!(kinds("add.py", "def test_add():\n    pass\n\ndef add():\n    pass\n"), [Test, Function]);
    let generated = format!("// Code generated by protoc. DO NOT EDIT.\n\n{src}");
    assert_eq!(kinds("src/gen.rs", &generated), [Generated, Generated, Generated, Generated]);
}

#[test]
fn long_functions_are_cut_between_statements_with_the_signature_kept() {
    let mut src = String::from("pub fn long(x: u32) -> u32 {\n");
    for i in 0..40 {
        src.push_str(&format!(
            "    let v{i} = match x {{\n        0 => {i},\n        _ => x + {i},\n    }};\n"
        ));
    }
    src.push_str("    x\n}\n");
    let chunks = chunks("src/long.rs", &src);
    assert!(chunks.len() > 1);
    for chunk in &chunks[..chunks.len() - 1] {
        // Each window ends with a whole statement, never inside a `match`.
        assert!(chunk.content.ends_with("    };\n"), "{:?}", chunk.content);
        assert_eq!(chunk.signature.as_deref(), Some("pub fn long(x: u32) -> u32"));
        assert!(chunk.embedding_text().contains("pub fn long(x: u32) -> u32\n"));
    }
}
