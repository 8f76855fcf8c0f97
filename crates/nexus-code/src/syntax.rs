//! Chunking along a tree-sitter syntax tree (Rust, Python, TypeScript/TSX, JavaScript, Go).
//!
//! The top-level nodes of the tree become segments: each definition (see
//! [`grammar`](super::grammar)) with the comments, doc comments, attributes and decorators
//! right above it (no blank line between), and the lines between definitions as blocks.
//! Nodes sharing a line are kept together. A container (impl, trait, class, module) with two
//! or more members, or over the size limits, is segmented the same way one level down: its
//! members become segments of their own (`Type::method`, kind method), a short header
//! (`impl Foo {`) joins the first member, its other lines (a longer header, fields, the
//! closing brace) are segments of the container's kind and name; every member carries the
//! containers' headers as context. A container with one member is one segment whose symbols
//! are its name and its member's. Definitions record their signature (header up to the body)
//! and the lines where their body's statements end (where a long one may be cut); test code
//! (`#[test]`, `mod tests`, `def test_…`, `func TestX`) gets kind test.
//!
//! Parsers are created once per thread and language.

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use tree_sitter::{Node, Parser, Tree};

use crate::grammar::{Def, Grammar, grammar};
use crate::language::Language;
use crate::lines::Lines;
use crate::types::{ChunkKind, ChunkOptions, Segment};

/// Containers nested deeper than this are not split into members (their segments are cut
/// into line windows instead), which bounds the recursion on adversarial input.
const MAX_NESTING: usize = 8;

thread_local! {
    static PARSERS: RefCell<HashMap<Language, Parser>> = RefCell::new(HashMap::new());
}

/// The segments of a parsed file and, per line, how many branches start on it.
pub(crate) struct Parsed {
    pub(crate) segments: Vec<Segment>,
    pub(crate) branches_per_line: Vec<u32>,
}

/// Segments `text` (with at least one line) along its syntax tree; `None` when `language`
/// has no grammar or the parser fails.
pub(crate) fn segments(
    language: Language,
    text: &str,
    lines: &Lines<'_>,
    options: &ChunkOptions,
) -> Option<Parsed> {
    let grammar = grammar(language)?;
    let tree = parse(language, grammar, text)?;
    let mut segmenter = Segmenter { grammar, src: text, lines, options, out: Vec::new() };
    segmenter.children(tree.root_node(), 0, lines.len() - 1, &Scope::top(), 0);
    Some(Parsed { segments: segmenter.out, branches_per_line: branches(&tree, grammar, lines.len()) })
}

fn parse(language: Language, grammar: &Grammar, text: &str) -> Option<Tree> {
    PARSERS.with_borrow_mut(|parsers| {
        let parser = match parsers.entry(language) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let mut parser = Parser::new();
                if let Err(error) = parser.set_language(&(grammar.language)()) {
                    tracing::warn!(%language, %error, "cannot load the tree-sitter grammar; using line windows");
                    return None;
                }
                entry.insert(parser)
            }
        };
        parser.parse(text, None)
    })
}

/// Where the segmenter is: at the top of the file or inside a container.
struct Scope {
    /// The container's qualified name.
    prefix: Option<String>,
    /// Whether functions here are methods.
    in_type: bool,
    /// Kind of the lines that are not members.
    gap_kind: ChunkKind,
    /// The header lines of the containers around, outermost first.
    context: Vec<String>,
    /// Whether this is test code (a test module, a test class).
    in_test: bool,
}

impl Scope {
    fn top() -> Self {
        Self { prefix: None, in_type: false, gap_kind: ChunkKind::Block, context: Vec::new(), in_test: false }
    }

    fn context(&self) -> Option<String> {
        (!self.context.is_empty()).then(|| self.context.join("\n"))
    }
}

/// Longest header kept as a signature or context line, in bytes.
const MAX_HEADER: usize = 240;

/// A child node (or several sharing lines) and the lines it covers.
struct Item<'t> {
    first: usize,
    last: usize,
    def: Option<Def<'t>>,
    /// The definition's own node (its first line is where its header starts).
    node: Node<'t>,
    /// A comment or attribute that joins the definition after it.
    attaches: bool,
}

struct Segmenter<'a> {
    grammar: &'static Grammar,
    src: &'a str,
    lines: &'a Lines<'a>,
    options: &'a ChunkOptions,
    out: Vec<Segment>,
}

impl Segmenter<'_> {
    /// Segments lines `first..=last`, which hold the named children of `parent`.
    fn children(&mut self, parent: Node<'_>, first: usize, last: usize, scope: &Scope, depth: usize) {
        let mut next = first;
        for item in self.items(parent, first, last).into_iter() {
            let Some(def) = item.def else { continue };
            let start = item.first.max(next);
            if start > item.last {
                continue;
            }
            let node = item.node;
            // A container's own header (`impl … {`, `class Cart:`) joins its first member.
            let header = start > next
                && scope.prefix.is_some()
                && next == first
                && (next..start).filter(|&l| !self.lines.is_blank(l)).count() <= 2;
            if header {
                self.definition(def, node, next, item.last, scope, depth);
                next = item.last + 1;
                continue;
            }
            if start > next {
                self.gap(next, start - 1, scope);
            }
            self.definition(def, node, start, item.last, scope, depth);
            next = item.last + 1;
        }
        if next <= last {
            self.gap(next, last, scope);
        }
    }

    /// The named children of `parent` as items: lines clamped to `first..=last`, items that
    /// share a line merged, and comments and attributes attached to the definition below.
    fn items<'t>(&self, parent: Node<'t>, first: usize, last: usize) -> Vec<Item<'t>> {
        let mut items: Vec<Item<'t>> = Vec::new();
        let mut cursor = parent.walk();
        for node in parent.named_children(&mut cursor) {
            let (node_first, node_last) = self.rows(node);
            let (node_first, node_last) = (node_first.max(first), node_last.min(last));
            if node_first > node_last {
                continue;
            }
            let def = (self.grammar.classify)(node, self.src);
            let attaches = def.is_none() && (self.grammar.attaches)(node);
            match items.last_mut() {
                Some(previous) if node_first <= previous.last => {
                    previous.last = previous.last.max(node_last);
                    previous.attaches &= attaches;
                    match (&mut previous.def, def) {
                        (Some(merged), Some(def)) => {
                            merged.names.extend(def.names);
                            merged.body = None;
                        }
                        (slot @ None, def) => {
                            if def.is_some() {
                                previous.node = node;
                            }
                            *slot = def;
                        }
                        (Some(_), None) => {}
                    }
                }
                _ => items.push(Item { first: node_first, last: node_last, def, node, attaches }),
            }
        }
        for index in 0..items.len() {
            if items[index].def.is_none() {
                continue;
            }
            let mut start = items[index].first;
            for previous in items[..index].iter().rev() {
                if previous.def.is_some() || !previous.attaches || previous.last + 1 < start {
                    break;
                }
                start = previous.first;
            }
            items[index].first = start;
        }
        items
    }

    /// The lines a node covers; a node ending at the start of a line (after a newline it
    /// includes) does not cover that line.
    fn rows(&self, node: Node<'_>) -> (usize, usize) {
        let first = node.start_position().row;
        let end = node.end_position();
        let last = if end.column == 0 && end.row > first { end.row - 1 } else { end.row };
        (first, last.min(self.lines.len() - 1))
    }

    fn gap(&mut self, first: usize, last: usize, scope: &Scope) {
        let filler = !self.lines.span(first, last).chars().any(char::is_alphanumeric);
        let symbols = scope.prefix.iter().cloned().collect();
        let kind = if scope.in_test { ChunkKind::Test } else { scope.gap_kind };
        let mut segment = Segment::new(first, last, kind, symbols);
        segment.filler = filler;
        segment.context = scope.context();
        self.out.push(segment);
    }

    fn qualify(&self, scope: &Scope, name: String) -> String {
        match &scope.prefix {
            Some(prefix) => format!("{prefix}{}{name}", self.grammar.separator),
            None => name,
        }
    }

    fn definition(
        &mut self,
        def: Def<'_>,
        node: Node<'_>,
        first: usize,
        last: usize,
        scope: &Scope,
        depth: usize,
    ) {
        let (header, body) = self.header(node);
        let own_first = self.rows(node).0;
        let attributes = if own_first > first { self.lines.span(first, own_first - 1) } else { "" };
        let test = scope.in_test
            || is_test_attribute(attributes)
            || def.names.first().is_some_and(|n| (self.grammar.test_name)(def.kind, n));
        let kind = match def.kind {
            _ if test && def.body.is_none() => ChunkKind::Test,
            ChunkKind::Function if scope.in_type => ChunkKind::Method,
            kind => kind,
        };
        let mut symbols: Vec<String> = def.names.into_iter().map(|n| self.qualify(scope, n)).collect();
        if let Some(body) = def.body {
            let mut context = scope.context.clone();
            context.push(header.clone());
            let members = Scope {
                prefix: symbols.first().cloned(),
                in_type: matches!(
                    kind,
                    ChunkKind::Impl | ChunkKind::Trait | ChunkKind::Class | ChunkKind::Interface
                ),
                gap_kind: kind,
                context,
                in_test: test,
            };
            let oversize = last - first + 1 > self.options.max_lines
                || self.lines.bytes(first, last) > self.options.max_bytes;
            let mut cursor = body.walk();
            let defs: Vec<Def<'_>> = body
                .named_children(&mut cursor)
                .filter_map(|m| (self.grammar.classify)(m, self.src))
                .collect();
            // One chunk per member as soon as there are two: a hit should be one function.
            if (oversize || defs.len() >= 2) && depth < MAX_NESTING {
                self.children(body, first, last, &members, depth + 1);
                return;
            }
            symbols.extend(defs.into_iter().flat_map(|d| d.names).map(|n| self.qualify(&members, n)));
        }
        let kind = if test { ChunkKind::Test } else { kind };
        let mut segment = Segment::new(first, last, kind, symbols);
        segment.context = scope.context();
        segment.signature = Some(header);
        if let Some(body) = body {
            let mut cursor = body.walk();
            segment.cuts = body.named_children(&mut cursor).map(|s| self.rows(s).1).collect();
        }
        self.out.push(segment);
    }

    /// A definition's header — its text up to its body (`pub fn add(a: i32) -> i32`,
    /// `impl<T> Display for Wrapper<T>`, `class Cart(Base):`), whitespace collapsed, at most
    /// [`MAX_HEADER`] bytes — and its function body, if it has one.
    fn header<'t>(&self, node: Node<'t>) -> (String, Option<Node<'t>>) {
        let mut body = node.child_by_field_name("body");
        for field in ["declaration", "definition", "value"] {
            if body.is_some() {
                break;
            }
            body = node.child_by_field_name(field).and_then(|inner| inner.child_by_field_name("body"));
        }
        if body.is_none() && matches!(node.kind(), "lexical_declaration" | "variable_declaration") {
            body = node
                .named_child(0)
                .and_then(|d| d.child_by_field_name("value"))
                .and_then(|v| v.child_by_field_name("body"));
        }
        let end = body.map_or(node.end_byte(), |b| b.start_byte());
        let raw = self.src.get(node.start_byte()..end).unwrap_or_default();
        let mut header = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if header.len() > MAX_HEADER {
            let cut = (0..=MAX_HEADER).rev().find(|&i| header.is_char_boundary(i)).unwrap_or(0);
            header.truncate(cut);
        }
        let header = header.trim_end_matches(['{', ' ']).to_owned();
        // Only blocks of statements are places to cut a long function at.
        let body = body.filter(|b| matches!(b.kind(), "block" | "statement_block"));
        (header, body)
    }
}

/// Whether attribute lines mark a test (`#[test]`, `#[tokio::test]`, `#[cfg(test)]`, …).
fn is_test_attribute(attributes: &str) -> bool {
    attributes.lines().any(|l| {
        let l = l.trim();
        l.starts_with("#[")
            && (l.contains("test]") || l.contains("test(") || l.contains("(test)") || l == "#[bench]")
    })
}

/// How many branch nodes start on each line.
fn branches(tree: &Tree, grammar: &Grammar, line_count: usize) -> Vec<u32> {
    let mut per_line = vec![0u32; line_count];
    let mut cursor = tree.walk();
    let mut parents: Vec<&'static str> = Vec::new();
    loop {
        let node = cursor.node();
        if (grammar.is_branch)(node.kind(), parents.last().copied().unwrap_or_default())
            && let Some(count) = per_line.get_mut(node.start_position().row)
        {
            *count += 1;
        }
        if cursor.goto_first_child() {
            parents.push(node.kind());
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return per_line;
            }
            parents.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_loads_into_this_tree_sitter() {
        for &language in Language::ALL {
            let Some(grammar) = grammar(language) else {
                assert!(!language.has_grammar(), "{language} has no grammar");
                continue;
            };
            assert!(language.has_grammar());
            let loaded = (grammar.language)();
            assert!(Parser::new().set_language(&loaded).is_ok(), "{language}: ABI {}", loaded.abi_version());
        }
    }
}
