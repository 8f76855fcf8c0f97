-- Persistent embedding cache (nexus-embed's CachedEmbedder): one vector per
-- (model, dimensions, SHA-256 of the text), so the same text is never sent to a
-- provider twice. The text itself is not stored.
--
--   * text_hash: the 32-byte SHA-256 digest of the text's UTF-8 bytes;
--   * vector:    `dimensions` little-endian float32 values (4 bytes each);
--   * created_at: Unix epoch milliseconds, for pruning old entries.
CREATE TABLE embedding_cache (
    model      TEXT    NOT NULL CHECK (length(model) > 0),
    dimensions INTEGER NOT NULL CHECK (dimensions > 0),
    text_hash  BLOB    NOT NULL CHECK (length(text_hash) = 32),
    vector     BLOB    NOT NULL CHECK (length(vector) = 4 * dimensions),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model, dimensions, text_hash)
) STRICT;
