//! TypeScript, TSX and JavaScript chunking.

use nexus_code::ChunkKind::*;
use nexus_code::Language;

use crate::{chunks, find, outline};

const API: &str = r#"import { Db } from "./db";
import type { Row } from "./row";

/** A search hit. */
export interface Hit {
  id: string;
  score: number;
}

export type Mode = "fts" | "vector";

export enum Fusion {
  Rrf,
  Linear,
}

/**
 * Runs searches.
 */
@Injectable()
export class SearchService {
  private readonly limit = 10;

  constructor(private db: Db) {}

  /** Searches. */
  async search(query: string, mode: Mode): Promise<Hit[]> {
    if (!query || mode === "fts") {
      return [];
    }
    return this.db.rows().map((r: Row) => ({ id: r.id, score: r.score ?? 0 }));
  }
}

export const normalize = (q: string): string => q.trim().toLowerCase();

export function rank(hits: Hit[]): Hit[] {
  return hits.sort((a, b) => (a.score > b.score ? -1 : 1));
}

export namespace Internal {
  export const version = 1;
}

console.log("loaded");
"#;

#[test]
fn typescript_declarations() {
    let chunks = chunks("src/api.ts", API);
    assert_eq!(chunks[0].language, Language::TypeScript);
    assert_eq!(
        outline(&chunks),
        [
            (1, 3, Block, vec![]),
            (4, 9, Interface, vec!["Hit"]),
            (10, 11, Type, vec!["Mode"]),
            (12, 16, Enum, vec!["Fusion"]),
            // A class's header with its fields, then one chunk per method.
            (17, 23, Class, vec!["SearchService"]),
            (24, 25, Method, vec!["SearchService.constructor"]),
            (26, 34, Method, vec!["SearchService.search"]),
            (35, 36, Function, vec!["normalize"]),
            (37, 40, Function, vec!["rank"]),
            (41, 44, Module, vec!["Internal"]),
            (45, 45, Block, vec![]),
        ]
    );
    // The JSDoc comment and the decorator belong to the class.
    assert!(chunks[4].content.starts_with("/**\n * Runs searches.\n */\n@Injectable()\nexport class"));
    // `if`, `||`, `??`.
    assert_eq!(find(&chunks, "SearchService.search").complexity, Some(4));
    assert_eq!(find(&chunks, "rank").complexity, Some(2));
}

#[test]
fn tsx_components() {
    let src = "import React from \"react\";\n\nexport function Hello({ name }: { name: string }) {\n  return <div>Hello {name}</div>;\n}\n\nexport default function App() {\n  return <Hello name=\"x\" />;\n}\n";
    let chunks = chunks("web/App.tsx", src);
    assert_eq!(chunks[0].language, Language::Tsx);
    assert_eq!(
        outline(&chunks),
        [(1, 2, Block, vec![]), (3, 6, Function, vec!["Hello"]), (7, 9, Function, vec!["App"])]
    );
}

#[test]
fn javascript_functions_classes_and_assignments() {
    let src = r#"'use strict';
const path = require('path');

// Adds two numbers.
function add(a, b) {
  return a + b;
}

const mul = function (a, b) { return a * b; }, div = (a, b) => a / b;

class Cart extends Base {
  #items = [];
  onClick = (event) => this.clear(event);

  get size() {
    return this.#items.length;
  }

  static empty() {
    return new Cart();
  }
}

module.exports = function main() {
  for (const x of [1, 2]) {
    if (x > 1) console.log(add(x, 1));
  }
};

export default class {
  run() {}
}
"#;
    let chunks = chunks("lib/cart.js", src);
    assert_eq!(chunks[0].language, Language::JavaScript);
    assert_eq!(
        outline(&chunks),
        [
            (1, 3, Block, vec![]),
            (4, 8, Function, vec!["add"]),
            (9, 10, Function, vec!["mul", "div"]),
            // `class Cart {` joins its first method.
            (11, 14, Method, vec!["Cart.onClick"]),
            (15, 18, Method, vec!["Cart.size"]),
            (19, 23, Method, vec!["Cart.empty"]),
            (24, 29, Function, vec!["module.exports"]),
            (30, 32, Class, vec!["default", "default.run"]),
        ]
    );
    assert_eq!(find(&chunks, "module.exports").complexity, Some(3));
}
