//! Python chunking.

use nexus_code::ChunkKind::*;

use crate::{chunks, find, outline};

const CART: &str = r#""""Shopping cart."""
import math
from dataclasses import dataclass

TAX = 0.2


# Prices are in cents.
@dataclass
class Item:
    """One line of a cart."""
    name: str
    cents: int


class Cart:
    def __init__(self):
        self.items = []

    @property
    def total(self):
        return sum(i.cents for i in self.items if i.cents > 0) or 0


def tax(cents):
    """Tax on an amount."""
    if cents < 0:
        raise ValueError("negative")
    elif cents == 0:
        return 0
    return math.ceil(cents * TAX)


if __name__ == "__main__":
    print(tax(100))
"#;

#[test]
fn classes_functions_decorators_and_comments() {
    let chunks = chunks("shop/cart.py", CART);
    assert_eq!(
        outline(&chunks),
        [
            (1, 7, Block, vec![]),
            (8, 15, Class, vec!["Item"]),
            (16, 19, Method, vec!["Cart.__init__"]),
            (20, 24, Method, vec!["Cart.total"]),
            (25, 33, Function, vec!["tax"]),
            (34, 35, Block, vec![]),
        ]
    );
    // The comment and the decorator above the class belong to it.
    assert!(chunks[1].content.starts_with("# Prices are in cents.\n@dataclass\nclass Item:"));
    // `if`, `elif`: 1 + 2.
    assert_eq!(find(&chunks, "tax").complexity, Some(3));
    // The comprehension's `if` and the `or`.
    assert_eq!(find(&chunks, "Cart.total").complexity, Some(3));
    assert_eq!(chunks[3].context.as_deref(), Some("class Cart:"));
    assert_eq!(chunks[3].signature.as_deref(), Some("@property def total(self):"));
}

#[test]
fn large_classes_are_split_into_methods() {
    let mut src = String::from("class Big(Base):\n    \"\"\"Many methods.\"\"\"\n\n    LIMIT = 3\n\n");
    for i in 0..10 {
        src.push_str(&format!("    @staticmethod\n    def m{i}(x):\n"));
        for j in 0..12 {
            src.push_str(&format!("        x += {j}\n"));
        }
        src.push_str("        return x\n\n");
    }
    let chunks = chunks("big.py", &src);
    let outline = outline(&chunks);
    assert_eq!(outline[0], (1, 5, Class, vec!["Big"]));
    assert_eq!(outline[1], (6, 21, Method, vec!["Big.m0"]));
    assert!(chunks[1].content.starts_with("    @staticmethod\n    def m0(x):"));
    assert_eq!(outline.len(), 11);
    assert!(outline[1..].iter().all(|o| o.2 == Method));
}
