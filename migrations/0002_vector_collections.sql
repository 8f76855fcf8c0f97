-- Vector search (nexus-vector, docs/vector.md): the registry of embedding collections and the
-- map from source rows, keyed by (kind, TEXT id), to the INTEGER rowids vec0 tables need.
--
-- A collection's vec0 table, `vectors_<id>`, is created at run time by nexus-vector because its
-- dimensions depend on the embedding model. Its name comes from the integer `id` below, never
-- from user text.

CREATE TABLE vector_collections (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    -- Lower-case ASCII letters, digits and '_', starting with a letter, at most 64 characters.
    name       TEXT    NOT NULL UNIQUE
               CHECK (length(name) BETWEEN 1 AND 64 AND name GLOB '[a-z]*' AND name NOT GLOB '*[^a-z0-9_]*'),
    model      TEXT    NOT NULL CHECK (length(model) BETWEEN 1 AND 256),
    dimensions INTEGER NOT NULL CHECK (dimensions BETWEEN 1 AND 8192),
    metric     TEXT    NOT NULL CHECK (metric IN ('cosine', 'l2')),
    element    TEXT    NOT NULL CHECK (element IN ('float32', 'int8', 'bit')),
    -- int8 collections: the value range [-int8_range, int8_range] mapped onto -127..127.
    int8_range REAL    CHECK (int8_range IS NULL OR int8_range > 0.0),
    created_at INTEGER NOT NULL,
    CHECK (element <> 'bit' OR dimensions % 8 = 0),
    CHECK ((element = 'int8') = (int8_range IS NOT NULL))
) STRICT;

-- One integer key per source row that has a vector in any collection; the key is the rowid of
-- that row's vector in every collection. AUTOINCREMENT: a key is never reused.
CREATE TABLE vector_keys (
    key       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind      TEXT    NOT NULL CHECK (kind IN ('episode', 'code_chunk', 'requirement', 'task')),
    source_id TEXT    NOT NULL,
    UNIQUE (kind, source_id)
) STRICT;

-- Deleting a source row (directly or by ON DELETE CASCADE from its project) deletes its key;
-- each collection adds an AFTER DELETE trigger on vector_keys that deletes its vector.
CREATE TRIGGER episodes_vector_keys_ad AFTER DELETE ON episodes BEGIN
    DELETE FROM vector_keys WHERE kind = 'episode' AND source_id = old.id;
END;

CREATE TRIGGER code_chunks_vector_keys_ad AFTER DELETE ON code_chunks BEGIN
    DELETE FROM vector_keys WHERE kind = 'code_chunk' AND source_id = old.id;
END;

CREATE TRIGGER requirements_vector_keys_ad AFTER DELETE ON requirements BEGIN
    DELETE FROM vector_keys WHERE kind = 'requirement' AND source_id = old.id;
END;

CREATE TRIGGER tasks_vector_keys_ad AFTER DELETE ON tasks BEGIN
    DELETE FROM vector_keys WHERE kind = 'task' AND source_id = old.id;
END;
