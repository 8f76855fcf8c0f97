//! Building a code-search set the CodeSearchNet way: copy crates' `src/` trees from the local
//! cargo registry, remove the `///` doc comments of every documented function, and keep, for
//! each, the first sentence of its doc as the query and the function's file and lines in the
//! blanked tree as the answer.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tree_sitter::{Node, Parser};

/// A query and the function that answers it.
#[derive(Debug, Clone)]
pub struct Query {
    /// The first sentence of the function's doc comment.
    pub text: String,
    /// The file, relative to the tree's root (as `code_chunks.file` stores it).
    pub file: String,
    /// First and last line (1-based, inclusive) of the function in the blanked file.
    pub lines: (usize, usize),
}

/// Every function of a blanked file: its lines (1-based, inclusive).
#[derive(Debug, Default)]
pub struct Functions {
    /// Per file, the line ranges of all `fn` items.
    pub by_file: std::collections::HashMap<String, Vec<(usize, usize)>>,
}

impl Functions {
    /// Whether lines `hit` overlap a function of `file` other than `answer` (functions nested
    /// in the answer, or holding it, do not count).
    pub fn overlaps_other(&self, file: &str, answer: (usize, usize), hit: (usize, usize)) -> bool {
        self.by_file.get(file).is_some_and(|all| {
            all.iter().any(|&f| {
                let nested = f.0 >= answer.0 && f.1 <= answer.1;
                let holds = f.0 <= answer.0 && f.1 >= answer.1;
                !nested && !holds && f.0 <= hit.1 && hit.0 <= f.1
            })
        })
    }
}

/// The newest `src/` of crate `name` under `registry` (`name-VERSION` directories).
pub fn find_crate(registry: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    for index in fs::read_dir(registry).with_context(|| format!("reading {}", registry.display()))? {
        let index = index?.path();
        let Ok(entries) = fs::read_dir(&index) else { continue };
        for entry in entries {
            let path = entry?.path();
            let Some(dir) = path.file_name().and_then(|n| n.to_str()) else { continue };
            let version = dir.strip_prefix(name).and_then(|rest| rest.strip_prefix('-'));
            if version.is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                && path.join("src").is_dir()
            {
                found.push(path);
            }
        }
    }
    found.sort();
    match found.pop() {
        Some(path) => Ok(path),
        None => bail!("crate {name} not found under {}", registry.display()),
    }
}

/// Copies the `.rs` files of `krate`'s `src/` to `out/<name>/src/`, blanking function docs;
/// returns the queries found and records every function in `functions`.
pub fn blank_crate(
    krate: &Path,
    name: &str,
    out: &Path,
    functions: &mut Functions,
) -> anyhow::Result<Vec<Query>> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_rust::LANGUAGE.into())?;
    let mut queries = Vec::new();
    let mut files = Vec::new();
    collect_rs(&krate.join("src"), &mut files)?;
    files.sort();
    for path in files {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        let relative = path.strip_prefix(krate)?.to_string_lossy().replace('\\', "/");
        let file = format!("{name}/{relative}");
        let (blanked, found, all) = blank_file(&mut parser, &text, &file);
        let target = out.join(&file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&target, blanked)?;
        queries.extend(found);
        functions.by_file.insert(file, all);
    }
    Ok(queries)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// A function found in the original file: its doc lines (0-based) and its own lines.
struct Found {
    doc_lines: Vec<usize>,
    doc: String,
    first: usize,
    last: usize,
}

/// The blanked text, the queries of its documented functions and all its functions' lines.
fn blank_file(parser: &mut Parser, text: &str, file: &str) -> (String, Vec<Query>, Vec<(usize, usize)>) {
    let Some(tree) = parser.parse(text, None) else {
        return (text.to_owned(), Vec::new(), Vec::new());
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut found = Vec::new();
    let mut plain = Vec::new();
    visit(tree.root_node(), &lines, &mut found, &mut plain);
    let mut removed = vec![false; lines.len()];
    for f in &found {
        for &l in &f.doc_lines {
            if let Some(r) = removed.get_mut(l) {
                *r = true;
            }
        }
    }
    // New line number (0-based) of each old line: minus the removed lines before it.
    let mut shift = Vec::with_capacity(lines.len() + 1);
    let mut count = 0;
    for &r in &removed {
        shift.push(count);
        count += usize::from(r);
    }
    let map = |l: usize| l - shift.get(l).copied().unwrap_or(count) + 1;
    let blanked: String = lines.iter().zip(&removed).filter(|(_, r)| !**r).map(|(l, _)| *l).collect();
    let all = found.iter().map(|f| (f.first, f.last)).chain(plain).map(|(a, b)| (map(a), map(b))).collect();
    let queries = found
        .into_iter()
        .filter_map(|f| {
            let text = first_sentence(&f.doc)?;
            Some(Query { text, file: file.to_owned(), lines: (map(f.first), map(f.last)) })
        })
        .collect();
    (blanked, queries, all)
}

/// Collects `fn` items with an outer doc comment (`found`) and without one (`plain`).
fn visit(node: Node<'_>, lines: &[&str], found: &mut Vec<Found>, plain: &mut Vec<(usize, usize)>) {
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    for (index, child) in children.iter().enumerate() {
        if child.kind() == "function_item" {
            let (first, last) = rows(*child);
            // Walk back over attributes and comments right above the function.
            let mut doc_lines = Vec::new();
            let mut attr_first = first;
            for previous in children[..index].iter().rev() {
                let (p_first, p_last) = rows(*previous);
                if p_last + 1 < attr_first {
                    break;
                }
                match previous.kind() {
                    "attribute_item" => attr_first = p_first,
                    "line_comment" | "block_comment" => {
                        let all_doc = (p_first..=p_last).all(|l| is_outer_doc(lines.get(l).copied()));
                        if !all_doc {
                            break;
                        }
                        doc_lines.extend(p_first..=p_last);
                        attr_first = p_first;
                    }
                    _ => break,
                }
            }
            if doc_lines.is_empty() {
                plain.push((first, last));
            } else {
                doc_lines.sort_unstable();
                doc_lines.dedup();
                let doc = doc_lines
                    .iter()
                    .filter_map(|&l| lines.get(l))
                    .map(|l| l.trim_start().trim_start_matches("///").trim())
                    .collect::<Vec<_>>()
                    .join("\n");
                // The answer starts at the first attribute that is not a doc line.
                let attr_start = (attr_first..first).find(|l| !doc_lines.contains(l)).unwrap_or(first);
                found.push(Found { doc_lines, doc, first: attr_start.min(first), last });
            }
        }
        visit(*child, lines, found, plain);
    }
}

fn is_outer_doc(line: Option<&str>) -> bool {
    line.is_some_and(|l| {
        let l = l.trim_start();
        l.starts_with("///") && !l.starts_with("////")
    })
}

fn rows(node: Node<'_>) -> (usize, usize) {
    let first = node.start_position().row;
    let end = node.end_position();
    let last = if end.column == 0 && end.row > first { end.row - 1 } else { end.row };
    (first, last)
}

/// The first sentence of a doc comment's first paragraph, cleaned of Markdown marks; `None`
/// when it has fewer than three words (CodeSearchNet's filter).
fn first_sentence(doc: &str) -> Option<String> {
    let paragraph: Vec<&str> = doc.lines().take_while(|l| !l.trim().is_empty()).collect();
    let paragraph = paragraph.join(" ");
    let end = paragraph.find(". ").map_or(paragraph.len(), |i| i + 1);
    let sentence: String = paragraph[..end].chars().filter(|c| !matches!(c, '`' | '[' | ']' | '*')).collect();
    let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
    let words = sentence.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).count();
    (words >= 3 && !sentence.starts_with('#')).then_some(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_are_removed_and_answers_point_at_the_blanked_lines() -> anyhow::Result<()> {
        let text = "//! Module.\n\n/// Adds two numbers together.\n///\n/// More.\n#[inline]\npub fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n\n/// Short.\nfn b() {}\nfn c() {}\n";
        let mut parser = Parser::new();
        parser.set_language(&tree_sitter_rust::LANGUAGE.into())?;
        let (blanked, queries, all) = blank_file(&mut parser, text, "x/src/lib.rs");
        assert_eq!(
            blanked,
            "//! Module.\n\n#[inline]\npub fn add(a: u8, b: u8) -> u8 {\n    a + b\n}\n\nfn b() {}\nfn c() {}\n"
        );
        assert_eq!(queries.len(), 1, "a one-word doc is no query");
        assert_eq!(queries[0].text, "Adds two numbers together.");
        assert_eq!(queries[0].lines, (3, 6));
        assert_eq!(all, vec![(3, 6), (8, 8), (9, 9)]);
        Ok(())
    }

    #[test]
    fn strictness_ignores_nested_and_enclosing_functions() {
        let mut functions = Functions::default();
        functions.by_file.insert("f".into(), vec![(1, 10), (3, 4), (12, 20)]);
        assert!(!functions.overlaps_other("f", (1, 10), (1, 10)));
        assert!(functions.overlaps_other("f", (1, 10), (1, 12)));
        assert!(!functions.overlaps_other("f", (3, 4), (1, 10)), "the function holding it is no other");
    }
}
