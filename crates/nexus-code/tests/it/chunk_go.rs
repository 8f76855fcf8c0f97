//! Go chunking.

use nexus_code::ChunkKind::*;

use crate::{chunks, find, outline};

const STORE: &str = r#"// Package store keeps rows.
package store

import (
	"errors"
	"sync"
)

// ErrMissing is returned for unknown ids.
var ErrMissing = errors.New("missing")

// Store holds rows.
type Store[K comparable] struct {
	mu   sync.Mutex
	rows map[K]string
}

type (
	ID    string
	Alias = ID
)

// Getter reads rows.
type Getter interface {
	Get(id string) (string, error)
}

// New makes a store.
func New[K comparable]() *Store[K] {
	return &Store[K]{rows: map[K]string{}}
}

// Get reads a row.
func (s *Store[K]) Get(id K) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if row, ok := s.rows[id]; ok && row != "" {
		return row, nil
	}
	return "", ErrMissing
}

func (s Store[K]) Len() int { return len(s.rows) }
"#;

#[test]
fn functions_methods_and_types() {
    let chunks = chunks("store/store.go", STORE);
    assert_eq!(
        outline(&chunks),
        [
            (1, 11, Block, vec![]),
            (12, 17, Struct, vec!["Store"]),
            (18, 22, Type, vec!["ID", "Alias"]),
            (23, 27, Interface, vec!["Getter"]),
            (28, 32, Function, vec!["New"]),
            (33, 42, Method, vec!["Store.Get"]),
            (43, 43, Method, vec!["Store.Len"]),
        ]
    );
    assert!(chunks[5].content.starts_with("// Get reads a row.\nfunc (s *Store[K]) Get"));
    // `if` and `&&`.
    assert_eq!(find(&chunks, "Store.Get").complexity, Some(3));
}
