//! What the chunker needs to know about each parsed language: its tree-sitter grammar, which
//! nodes are definitions (and their names and bodies), which nodes are comments or
//! attributes that belong to the definition after them, and which nodes are branches.

use tree_sitter::Node;

use crate::language::Language;
use crate::types::ChunkKind;

/// A definition found in the syntax tree.
pub(crate) struct Def<'t> {
    pub(crate) kind: ChunkKind,
    /// The names it defines, unqualified (a Go method is already `Type.Method`).
    pub(crate) names: Vec<String>,
    /// For containers (impl, trait, class, module): the node whose named children are the
    /// members.
    pub(crate) body: Option<Node<'t>>,
}

impl<'t> Def<'t> {
    fn new(kind: ChunkKind, name: String) -> Self {
        Self { kind, names: vec![name], body: None }
    }

    fn container(kind: ChunkKind, name: String, body: Option<Node<'t>>) -> Self {
        Self { kind, names: vec![name], body }
    }
}

/// One parsed language's rules.
pub(crate) struct Grammar {
    /// The tree-sitter grammar.
    pub(crate) language: fn() -> tree_sitter::Language,
    /// Joins a container's name and a member's name (`::` in Rust, `.` elsewhere).
    pub(crate) separator: &'static str,
    /// The definition a node is, if any.
    pub(crate) classify: for<'t> fn(Node<'t>, &str) -> Option<Def<'t>>,
    /// Whether a node (a doc comment, an attribute, a decorator) belongs to the definition
    /// right after it.
    pub(crate) attaches: fn(Node<'_>) -> bool,
    /// Whether a node is a branch, given its parent's kind.
    pub(crate) is_branch: fn(&str, &str) -> bool,
    /// Whether a definition of this kind and (unqualified) name is test code.
    pub(crate) test_name: fn(ChunkKind, &str) -> bool,
}

/// The rules for `language`, if it is parsed.
pub(crate) fn grammar(language: Language) -> Option<&'static Grammar> {
    match language {
        Language::Rust => Some(&RUST),
        Language::Python => Some(&PYTHON),
        Language::TypeScript => Some(&TYPESCRIPT),
        Language::Tsx => Some(&TSX),
        Language::JavaScript => Some(&JAVASCRIPT),
        Language::Go => Some(&GO),
        _ => None,
    }
}

const RUST: Grammar = Grammar {
    language: || tree_sitter_rust::LANGUAGE.into(),
    separator: "::",
    classify: rust_def,
    attaches: rust_attaches,
    is_branch: rust_branch,
    test_name: |kind, name| kind == ChunkKind::Module && matches!(name, "tests" | "test"),
};
const PYTHON: Grammar = Grammar {
    language: || tree_sitter_python::LANGUAGE.into(),
    separator: ".",
    classify: python_def,
    attaches: |node| node.kind() == "comment",
    is_branch: python_branch,
    test_name: |kind, name| match kind {
        ChunkKind::Class => name.starts_with("Test"),
        _ => name.starts_with("test_"),
    },
};
const TYPESCRIPT: Grammar =
    Grammar { language: || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(), ..JAVASCRIPT };
const TSX: Grammar = Grammar { language: || tree_sitter_typescript::LANGUAGE_TSX.into(), ..JAVASCRIPT };
const JAVASCRIPT: Grammar = Grammar {
    language: || tree_sitter_javascript::LANGUAGE.into(),
    separator: ".",
    classify: js_def,
    attaches: |node| matches!(node.kind(), "comment" | "decorator"),
    is_branch: js_branch,
    test_name: |_, _| false,
};
const GO: Grammar = Grammar {
    language: || tree_sitter_go::LANGUAGE.into(),
    separator: ".",
    classify: go_def,
    attaches: |node| node.kind() == "comment",
    is_branch: go_branch,
    test_name: |kind, name| {
        kind == ChunkKind::Function
            && ["Test", "Benchmark", "Fuzz"].iter().any(|p| {
                name.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| !c.is_lowercase()))
            })
    },
};

/// The source text of a node, whitespace runs collapsed to one space.
fn text(node: Node<'_>, src: &str) -> String {
    let raw = src.get(node.byte_range()).unwrap_or_default();
    if raw.contains(char::is_whitespace) {
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        raw.to_owned()
    }
}

/// The text of a node's `name` field, quotes removed (module names may be strings).
fn name(node: Node<'_>, src: &str) -> Option<String> {
    let name = text(node.child_by_field_name("name")?, src);
    Some(name.trim_matches(['"', '\'', '`']).to_owned())
}

fn named(kind: ChunkKind, node: Node<'_>, src: &str) -> Option<Def<'static>> {
    name(node, src).map(|n| Def::new(kind, n))
}

// ---- Rust ----------------------------------------------------------------------------------

fn rust_def<'t>(node: Node<'t>, src: &str) -> Option<Def<'t>> {
    use ChunkKind::*;
    let body = || node.child_by_field_name("body");
    match node.kind() {
        "function_item" | "function_signature_item" => named(Function, node, src),
        "struct_item" | "union_item" => named(Struct, node, src),
        "enum_item" => named(Enum, node, src),
        "type_item" => named(Type, node, src),
        "const_item" | "static_item" => named(Const, node, src),
        "macro_definition" => named(Macro, node, src),
        "trait_item" => Some(Def::container(Trait, name(node, src)?, body())),
        "mod_item" => Some(Def::container(Module, name(node, src)?, Some(body()?))),
        "impl_item" => {
            let mut ty = node.child_by_field_name("type")?;
            if ty.kind() == "generic_type" {
                ty = ty.child_by_field_name("type").unwrap_or(ty);
            }
            Some(Def::container(Impl, text(ty, src), body()))
        }
        _ => None,
    }
}

/// Outer doc comments, plain comments and `#[attributes]`; not `//!` or `#![inner]` ones,
/// which document the enclosing module.
fn rust_attaches(node: Node<'_>) -> bool {
    match node.kind() {
        "attribute_item" => true,
        "line_comment" | "block_comment" => {
            let mut cursor = node.walk();
            let inner = node.named_children(&mut cursor).any(|c| c.kind() == "inner_doc_comment_marker");
            !inner
        }
        _ => false,
    }
}

fn rust_branch(kind: &str, parent: &str) -> bool {
    matches!(kind, "if_expression" | "match_arm" | "while_expression" | "loop_expression" | "for_expression")
        || (matches!(kind, "&&" | "||") && parent == "binary_expression")
}

// ---- Python --------------------------------------------------------------------------------

fn python_def<'t>(node: Node<'t>, src: &str) -> Option<Def<'t>> {
    match node.kind() {
        "function_definition" => named(ChunkKind::Function, node, src),
        "class_definition" => {
            Some(Def::container(ChunkKind::Class, name(node, src)?, node.child_by_field_name("body")))
        }
        "decorated_definition" => python_def(node.child_by_field_name("definition")?, src),
        _ => None,
    }
}

fn python_branch(kind: &str, _parent: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "elif_clause"
            | "for_statement"
            | "while_statement"
            | "except_clause"
            | "conditional_expression"
            | "boolean_operator"
            | "case_clause"
            | "if_clause"
    )
}

// ---- JavaScript, TypeScript, TSX -----------------------------------------------------------

fn js_def<'t>(node: Node<'t>, src: &str) -> Option<Def<'t>> {
    use ChunkKind::*;
    match node.kind() {
        "function_declaration" | "generator_function_declaration" | "function_signature" => {
            named(Function, node, src)
        }
        "class_declaration" | "abstract_class_declaration" | "class" => {
            let name = name(node, src).unwrap_or_else(|| "default".to_owned());
            Some(Def::container(Class, name, node.child_by_field_name("body")))
        }
        "method_definition" | "method_signature" | "abstract_method_signature" => named(Method, node, src),
        // `handle = () => …` in a class body (`property` in JavaScript, `name` in TypeScript).
        "field_definition" | "public_field_definition" => {
            let name = node.child_by_field_name("property").or_else(|| node.child_by_field_name("name"))?;
            let value = js_value_def(node.child_by_field_name("value")?, text(name, src))?;
            (value.kind == Function).then_some(Def { kind: Method, ..value })
        }
        "interface_declaration" => named(Interface, node, src),
        "type_alias_declaration" => named(Type, node, src),
        "enum_declaration" => named(Enum, node, src),
        "internal_module" | "module" => {
            Some(Def::container(Module, name(node, src)?, Some(node.child_by_field_name("body")?)))
        }
        "export_statement" => match node.child_by_field_name("declaration") {
            Some(declaration) => js_def(declaration, src),
            None => js_value_def(node.child_by_field_name("value")?, "default".to_owned()),
        },
        // `declare function f(): void;`, `declare module "m" { … }`, `namespace N { … }`
        "ambient_declaration" | "expression_statement" => js_def(node.named_child(0)?, src),
        // `module.exports = function () {}`, `Cart.prototype.total = () => …`
        "assignment_expression" => {
            js_value_def(node.child_by_field_name("right")?, text(node.child_by_field_name("left")?, src))
        }
        // `const total = (items) => …`
        "lexical_declaration" | "variable_declaration" => {
            let mut cursor = node.walk();
            let defs: Vec<Def<'t>> = node
                .named_children(&mut cursor)
                .filter(|d| d.kind() == "variable_declarator")
                .filter_map(|d| js_value_def(d.child_by_field_name("value")?, name(d, src)?))
                .collect();
            let kind = defs.first()?.kind;
            Some(Def { kind, names: defs.into_iter().flat_map(|d| d.names).collect(), body: None })
        }
        _ => None,
    }
}

/// A definition made by a value: a function or class expression bound to `name`.
fn js_value_def<'t>(value: Node<'t>, name: String) -> Option<Def<'t>> {
    match value.kind() {
        "arrow_function" | "function_expression" | "function" | "generator_function" => {
            Some(Def::new(ChunkKind::Function, name))
        }
        "class" => Some(Def::container(ChunkKind::Class, name, value.child_by_field_name("body"))),
        _ => None,
    }
}

fn js_branch(kind: &str, parent: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "for_statement"
            | "for_in_statement"
            | "while_statement"
            | "do_statement"
            | "switch_case"
            | "catch_clause"
            | "ternary_expression"
    ) || (matches!(kind, "&&" | "||" | "??") && parent == "binary_expression")
}

// ---- Go ------------------------------------------------------------------------------------

fn go_def<'t>(node: Node<'t>, src: &str) -> Option<Def<'t>> {
    use ChunkKind::*;
    match node.kind() {
        "function_declaration" => named(Function, node, src),
        "method_declaration" => {
            let method = name(node, src)?;
            let receiver = node.child_by_field_name("receiver").and_then(|list| {
                let mut cursor = list.walk();
                let parameter =
                    list.named_children(&mut cursor).find(|p| p.kind() == "parameter_declaration")?;
                Some(go_base_type(parameter.child_by_field_name("type")?, src))
            });
            Some(Def::new(Method, receiver.map_or(method.clone(), |r| format!("{r}.{method}"))))
        }
        "type_declaration" => {
            let mut cursor = node.walk();
            let specs: Vec<Node<'t>> = node
                .named_children(&mut cursor)
                .filter(|s| matches!(s.kind(), "type_spec" | "type_alias"))
                .collect();
            let kind = match specs.as_slice() {
                [spec] => match spec.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") => Struct,
                    Some("interface_type") => Interface,
                    _ => Type,
                },
                _ => Type,
            };
            let names: Vec<String> = specs.iter().filter_map(|s| name(*s, src)).collect();
            (!names.is_empty()).then_some(Def { kind, names, body: None })
        }
        _ => None,
    }
}

/// `T` for a receiver of type `T`, `*T`, `T[K]` or `*T[K]`.
fn go_base_type(mut ty: Node<'_>, src: &str) -> String {
    loop {
        let inner = match ty.kind() {
            "pointer_type" => ty.named_child(0),
            "generic_type" => ty.child_by_field_name("type"),
            _ => None,
        };
        match inner {
            Some(inner) => ty = inner,
            None => return text(ty, src),
        }
    }
}

fn go_branch(kind: &str, parent: &str) -> bool {
    matches!(kind, "if_statement" | "for_statement" | "expression_case" | "type_case" | "communication_case")
        || (matches!(kind, "&&" | "||") && parent == "binary_expression")
}
