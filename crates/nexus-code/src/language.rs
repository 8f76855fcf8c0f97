//! Which language a file is written in, detected from its name (and, for files without an
//! extension, a `#!` line). The names are what `code_chunks.language` stores.

use std::fmt;
use std::str::FromStr;

macro_rules! languages {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// A source language. [`Language::as_str`] is the name stored in `code_chunks.language`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Language {
            $( $(#[$doc])* $variant, )*
        }

        impl Language {
            /// Every language, in declaration order.
            pub const ALL: &'static [Language] = &[$(Language::$variant),*];

            /// The stored name (`"rust"`, `"typescript"`, …).
            pub fn as_str(self) -> &'static str {
                match self { $(Language::$variant => $name,)* }
            }
        }

        impl FromStr for Language {
            type Err = UnknownLanguage;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Language::$variant),)*
                    _ => Err(UnknownLanguage(s.to_owned())),
                }
            }
        }
    };
}

languages! {
    /// Rust (`.rs`).
    Rust = "rust",
    /// Python (`.py`, `.pyi`).
    Python = "python",
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript = "typescript",
    /// TypeScript with JSX (`.tsx`).
    Tsx = "tsx",
    /// JavaScript, JSX included (`.js`, `.jsx`, `.mjs`, `.cjs`).
    JavaScript = "javascript",
    /// Go (`.go`).
    Go = "go",
    /// Markdown (`.md`, `.markdown`).
    Markdown = "markdown",
    /// TOML.
    Toml = "toml",
    /// JSON.
    Json = "json",
    /// YAML.
    Yaml = "yaml",
    /// Shell scripts (sh, bash, zsh).
    Shell = "shell",
    /// C (`.c`, `.h`).
    C = "c",
    /// C++.
    Cpp = "cpp",
    /// Java.
    Java = "java",
    /// Kotlin.
    Kotlin = "kotlin",
    /// C#.
    CSharp = "csharp",
    /// Ruby.
    Ruby = "ruby",
    /// PHP.
    Php = "php",
    /// Swift.
    Swift = "swift",
    /// SQL.
    Sql = "sql",
    /// HTML.
    Html = "html",
    /// CSS and its dialects.
    Css = "css",
    /// Dockerfiles.
    Dockerfile = "dockerfile",
    /// Makefiles.
    Makefile = "makefile",
    /// Anything else that is text.
    Text = "text",
}

/// The error of [`Language::from_str`]: a name that is not one of [`Language::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}")]
pub struct UnknownLanguage(pub String);

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Language {
    /// Detects the language of a file from its path (`/` or `\` separated; only the file name
    /// matters): well-known file names first (`Makefile`, `Dockerfile`, …), then the extension
    /// (case-insensitive). Unknown names are [`Language::Text`].
    ///
    /// ```
    /// use nexus_code::Language;
    /// assert_eq!(Language::from_path("src/main.rs"), Language::Rust);
    /// assert_eq!(Language::from_path("web/App.tsx"), Language::Tsx);
    /// assert_eq!(Language::from_path("Dockerfile"), Language::Dockerfile);
    /// assert_eq!(Language::from_path("LICENSE"), Language::Text);
    /// ```
    pub fn from_path(path: &str) -> Language {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if let Some(language) = Self::from_file_name(name) {
            return language;
        }
        let Some((_, ext)) = name.rsplit_once('.') else { return Language::Text };
        Self::from_extension(&ext.to_ascii_lowercase()).unwrap_or(Language::Text)
    }

    /// Like [`Language::from_path`], but a file whose name says nothing (no known extension)
    /// is recognised by its `#!` line too (`#!/bin/sh`, `#!/usr/bin/env python3`, `node`).
    pub fn detect(path: &str, content: &str) -> Language {
        match Self::from_path(path) {
            Language::Text => Self::from_shebang(content).unwrap_or(Language::Text),
            language => language,
        }
    }

    /// Whether chunks of this language are cut along its syntax tree (tree-sitter).
    pub fn has_grammar(self) -> bool {
        matches!(
            self,
            Language::Rust
                | Language::Python
                | Language::TypeScript
                | Language::Tsx
                | Language::JavaScript
                | Language::Go
        )
    }

    fn from_file_name(name: &str) -> Option<Language> {
        Some(match name {
            "Makefile" | "makefile" | "GNUmakefile" => Language::Makefile,
            "Dockerfile" | "Containerfile" => Language::Dockerfile,
            "Rakefile" | "Gemfile" => Language::Ruby,
            "Cargo.lock" | "Pipfile" => Language::Toml,
            ".bashrc" | ".bash_profile" | ".profile" | ".zshrc" => Language::Shell,
            _ if name.starts_with("Dockerfile.") => Language::Dockerfile,
            _ => return None,
        })
    }

    fn from_extension(ext: &str) -> Option<Language> {
        Some(match ext {
            "rs" => Language::Rust,
            "py" | "pyi" | "pyw" => Language::Python,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "js" | "jsx" | "mjs" | "cjs" => Language::JavaScript,
            "go" => Language::Go,
            "md" | "markdown" | "mdx" => Language::Markdown,
            "toml" => Language::Toml,
            "json" | "jsonc" | "json5" => Language::Json,
            "yaml" | "yml" => Language::Yaml,
            "sh" | "bash" | "zsh" | "ksh" => Language::Shell,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" => Language::Cpp,
            "java" => Language::Java,
            "kt" | "kts" => Language::Kotlin,
            "cs" => Language::CSharp,
            "rb" => Language::Ruby,
            "php" => Language::Php,
            "swift" => Language::Swift,
            "sql" => Language::Sql,
            "html" | "htm" => Language::Html,
            "css" | "scss" | "sass" | "less" => Language::Css,
            "dockerfile" => Language::Dockerfile,
            "mk" | "mak" => Language::Makefile,
            _ => return None,
        })
    }

    fn from_shebang(content: &str) -> Option<Language> {
        let line = content.strip_prefix("#!")?.lines().next()?;
        // `#!/usr/bin/env -S python3 -u` → the interpreter is the first word after `env` options.
        let mut words = line.split_whitespace().filter(|w| !w.starts_with('-'));
        let mut program = words.next()?.rsplit('/').next()?;
        if program == "env" {
            program = words.next()?;
        }
        let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        Some(match program {
            "sh" | "bash" | "zsh" | "dash" | "ksh" => Language::Shell,
            "python" => Language::Python,
            "node" | "nodejs" => Language::JavaScript,
            "ruby" => Language::Ruby,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>(), Ok(language));
        }
        assert!("cobol".parse::<Language>().is_err());
    }

    #[test]
    fn detects_by_name_extension_and_shebang() {
        let cases = [
            ("a/b/lib.RS", Language::Rust),
            ("x.pyi", Language::Python),
            ("x.d.ts", Language::TypeScript),
            ("x.jsx", Language::JavaScript),
            ("cmd/main.go", Language::Go),
            ("README.md", Language::Markdown),
            ("GNUmakefile", Language::Makefile),
            ("Dockerfile.dev", Language::Dockerfile),
            ("include\\foo.hpp", Language::Cpp),
            ("noext", Language::Text),
            (".gitignore", Language::Text),
        ];
        for (path, want) in cases {
            assert_eq!(Language::from_path(path), want, "{path}");
        }
        assert_eq!(Language::detect("bin/run", "#!/usr/bin/env python3\nprint(1)\n"), Language::Python);
        assert_eq!(Language::detect("bin/run", "#!/bin/bash -eu\n"), Language::Shell);
        assert_eq!(Language::detect("bin/run", "#!/usr/bin/env -S node --flag\n"), Language::JavaScript);
        assert_eq!(Language::detect("bin/run", "plain text\n"), Language::Text);
        assert_eq!(Language::detect("x.rs", "#!/bin/sh\n"), Language::Rust);
    }
}
