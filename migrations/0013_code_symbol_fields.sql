-- Symbol-aware code search (issue 17): a chunk's context (the headers of the containers around
-- it: `impl<T> Buf for Bytes<T>`, `class Cart(Base):`) and signature (`pub fn len(&self) ->
-- usize`) are stored, and the code index gets columns of its own for the symbol's name, the
-- context and the signature, so BM25 can weigh them apart from the body (nexus-fts
-- `FieldWeights`; docs/code-index.md).
--
-- Columns of `code_chunks_fts`, in bm25() order (the first four as in 0003):
--   file         the path
--   symbols      the qualified names (`Bytes::copy_from_slice`), as the JSON list stores them
--   content      the chunk's lines
--   identifiers  path, symbols and content with camelCase words split (0003's rule)
--   name         the first symbol's last segment (`copy_from_slice`, `Cart.total` -> `total`)
--   context      the context lines
--   signature    the signature
-- name, context and signature hold the text as written and, when it has camelCase humps, the
-- split copy after it (`BytesMut` -> `BytesMut` and `Bytes Mut`), so a query word matches
-- either form (nexus-fts adds the humps of camelCase query words).
--
-- Existing rows get NULL context and signature (they were not stored before); the index is
-- rebuilt from them, so every chunk is searchable at once by name. Their files' hashes in
-- `indexed_files` are cleared so the next `index_dir` of the project re-chunks them once and
-- fills both (vectors come from the embedding cache: the embedded text has not changed).

ALTER TABLE code_chunks ADD COLUMN context TEXT;
ALTER TABLE code_chunks ADD COLUMN signature TEXT;
UPDATE indexed_files SET hash = '';

DROP TRIGGER code_chunks_fts_insert;
DROP TRIGGER code_chunks_fts_delete;
DROP TRIGGER code_chunks_fts_update_old;
DROP TRIGGER code_chunks_fts_update_new;
DROP TABLE code_chunks_fts;
DROP VIEW code_chunks_fts_source;

-- The index's content table, as in 0003: the camelCase split is done in SQL (a marker char(1)
-- before every uppercase ASCII letter that does not follow another uppercase letter), so any
-- writer keeps the index right; four layers of 13 replace() calls per column (SQLite before
-- 3.46 has a fixed parser stack that one 52-deep expression would overflow).
CREATE VIEW code_chunks_fts_source (chunk_rowid, file, symbols, content, identifiers, name, context, signature) AS
SELECT chunk_rowid, file, symbols, content, t AS identifiers,
       CASE WHEN n = name THEN name ELSE name || char(10) || n END AS name,
       CASE WHEN x = context THEN context ELSE context || char(10) || x END AS context,
       CASE WHEN g = signature THEN signature ELSE signature || char(10) || g END AS signature
FROM (SELECT chunk_rowid, file, symbols, content, name, context, signature,
       -- Step 2, N..Z.
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'N' || char(1), 'N'), 'O' || char(1), 'O'), 'P' || char(1), 'P'), 'Q' || char(1), 'Q'), 'R' || char(1), 'R'), 'S' || char(1), 'S'), 'T' || char(1), 'T'), 'U' || char(1), 'U'), 'V' || char(1), 'V'), 'W' || char(1), 'W'), 'X' || char(1), 'X'), 'Y' || char(1), 'Y'), 'Z' || char(1), 'Z') AS t,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(n, 'N' || char(1), 'N'), 'O' || char(1), 'O'), 'P' || char(1), 'P'), 'Q' || char(1), 'Q'), 'R' || char(1), 'R'), 'S' || char(1), 'S'), 'T' || char(1), 'T'), 'U' || char(1), 'U'), 'V' || char(1), 'V'), 'W' || char(1), 'W'), 'X' || char(1), 'X'), 'Y' || char(1), 'Y'), 'Z' || char(1), 'Z') AS n,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(x, 'N' || char(1), 'N'), 'O' || char(1), 'O'), 'P' || char(1), 'P'), 'Q' || char(1), 'Q'), 'R' || char(1), 'R'), 'S' || char(1), 'S'), 'T' || char(1), 'T'), 'U' || char(1), 'U'), 'V' || char(1), 'V'), 'W' || char(1), 'W'), 'X' || char(1), 'X'), 'Y' || char(1), 'Y'), 'Z' || char(1), 'Z') AS x,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(g, 'N' || char(1), 'N'), 'O' || char(1), 'O'), 'P' || char(1), 'P'), 'Q' || char(1), 'Q'), 'R' || char(1), 'R'), 'S' || char(1), 'S'), 'T' || char(1), 'T'), 'U' || char(1), 'U'), 'V' || char(1), 'V'), 'W' || char(1), 'W'), 'X' || char(1), 'X'), 'Y' || char(1), 'Y'), 'Z' || char(1), 'Z') AS g
FROM (SELECT chunk_rowid, file, symbols, content, name, context, signature,
       -- Step 2, A..M: drop the marker again where it follows an uppercase letter.
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'A' || char(1), 'A'), 'B' || char(1), 'B'), 'C' || char(1), 'C'), 'D' || char(1), 'D'), 'E' || char(1), 'E'), 'F' || char(1), 'F'), 'G' || char(1), 'G'), 'H' || char(1), 'H'), 'I' || char(1), 'I'), 'J' || char(1), 'J'), 'K' || char(1), 'K'), 'L' || char(1), 'L'), 'M' || char(1), 'M') AS t,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(n, 'A' || char(1), 'A'), 'B' || char(1), 'B'), 'C' || char(1), 'C'), 'D' || char(1), 'D'), 'E' || char(1), 'E'), 'F' || char(1), 'F'), 'G' || char(1), 'G'), 'H' || char(1), 'H'), 'I' || char(1), 'I'), 'J' || char(1), 'J'), 'K' || char(1), 'K'), 'L' || char(1), 'L'), 'M' || char(1), 'M') AS n,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(x, 'A' || char(1), 'A'), 'B' || char(1), 'B'), 'C' || char(1), 'C'), 'D' || char(1), 'D'), 'E' || char(1), 'E'), 'F' || char(1), 'F'), 'G' || char(1), 'G'), 'H' || char(1), 'H'), 'I' || char(1), 'I'), 'J' || char(1), 'J'), 'K' || char(1), 'K'), 'L' || char(1), 'L'), 'M' || char(1), 'M') AS x,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(g, 'A' || char(1), 'A'), 'B' || char(1), 'B'), 'C' || char(1), 'C'), 'D' || char(1), 'D'), 'E' || char(1), 'E'), 'F' || char(1), 'F'), 'G' || char(1), 'G'), 'H' || char(1), 'H'), 'I' || char(1), 'I'), 'J' || char(1), 'J'), 'K' || char(1), 'K'), 'L' || char(1), 'L'), 'M' || char(1), 'M') AS g
FROM (SELECT chunk_rowid, file, symbols, content, name, context, signature,
       -- Step 1, N..Z.
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'N', char(1) || 'N'), 'O', char(1) || 'O'), 'P', char(1) || 'P'), 'Q', char(1) || 'Q'), 'R', char(1) || 'R'), 'S', char(1) || 'S'), 'T', char(1) || 'T'), 'U', char(1) || 'U'), 'V', char(1) || 'V'), 'W', char(1) || 'W'), 'X', char(1) || 'X'), 'Y', char(1) || 'Y'), 'Z', char(1) || 'Z') AS t,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(n, 'N', char(1) || 'N'), 'O', char(1) || 'O'), 'P', char(1) || 'P'), 'Q', char(1) || 'Q'), 'R', char(1) || 'R'), 'S', char(1) || 'S'), 'T', char(1) || 'T'), 'U', char(1) || 'U'), 'V', char(1) || 'V'), 'W', char(1) || 'W'), 'X', char(1) || 'X'), 'Y', char(1) || 'Y'), 'Z', char(1) || 'Z') AS n,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(x, 'N', char(1) || 'N'), 'O', char(1) || 'O'), 'P', char(1) || 'P'), 'Q', char(1) || 'Q'), 'R', char(1) || 'R'), 'S', char(1) || 'S'), 'T', char(1) || 'T'), 'U', char(1) || 'U'), 'V', char(1) || 'V'), 'W', char(1) || 'W'), 'X', char(1) || 'X'), 'Y', char(1) || 'Y'), 'Z', char(1) || 'Z') AS x,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(g, 'N', char(1) || 'N'), 'O', char(1) || 'O'), 'P', char(1) || 'P'), 'Q', char(1) || 'Q'), 'R', char(1) || 'R'), 'S', char(1) || 'S'), 'T', char(1) || 'T'), 'U', char(1) || 'U'), 'V', char(1) || 'V'), 'W', char(1) || 'W'), 'X', char(1) || 'X'), 'Y', char(1) || 'Y'), 'Z', char(1) || 'Z') AS g
FROM (SELECT chunk_rowid, file, symbols, content, name, context, signature,
       -- Step 1, A..M: a marker before every uppercase letter.
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'A', char(1) || 'A'), 'B', char(1) || 'B'), 'C', char(1) || 'C'), 'D', char(1) || 'D'), 'E', char(1) || 'E'), 'F', char(1) || 'F'), 'G', char(1) || 'G'), 'H', char(1) || 'H'), 'I', char(1) || 'I'), 'J', char(1) || 'J'), 'K', char(1) || 'K'), 'L', char(1) || 'L'), 'M', char(1) || 'M') AS t,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(n, 'A', char(1) || 'A'), 'B', char(1) || 'B'), 'C', char(1) || 'C'), 'D', char(1) || 'D'), 'E', char(1) || 'E'), 'F', char(1) || 'F'), 'G', char(1) || 'G'), 'H', char(1) || 'H'), 'I', char(1) || 'I'), 'J', char(1) || 'J'), 'K', char(1) || 'K'), 'L', char(1) || 'L'), 'M', char(1) || 'M') AS n,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(x, 'A', char(1) || 'A'), 'B', char(1) || 'B'), 'C', char(1) || 'C'), 'D', char(1) || 'D'), 'E', char(1) || 'E'), 'F', char(1) || 'F'), 'G', char(1) || 'G'), 'H', char(1) || 'H'), 'I', char(1) || 'I'), 'J', char(1) || 'J'), 'K', char(1) || 'K'), 'L', char(1) || 'L'), 'M', char(1) || 'M') AS x,
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(g, 'A', char(1) || 'A'), 'B', char(1) || 'B'), 'C', char(1) || 'C'), 'D', char(1) || 'D'), 'E', char(1) || 'E'), 'F', char(1) || 'F'), 'G', char(1) || 'G'), 'H', char(1) || 'H'), 'I', char(1) || 'I'), 'J', char(1) || 'J'), 'K', char(1) || 'K'), 'L', char(1) || 'L'), 'M', char(1) || 'M') AS g
FROM (SELECT rowid AS chunk_rowid, file, symbols, content, name, coalesce(context, '') AS context,
       coalesce(signature, '') AS signature,
       file || char(10) || coalesce(symbols, '') || char(10) || content AS t,
       name AS n, coalesce(context, '') AS x, coalesce(signature, '') AS g
FROM (SELECT rowid, *,
             -- The last segment of the first symbol: `Bytes::copy_from_slice` -> `copy_from_slice`.
             substr(q, length(rtrim(q, replace(q, '.', ''))) + 1) AS name
      FROM (SELECT rowid, *, replace(coalesce(symbols ->> '$[0]', ''), '::', '.') AS q FROM code_chunks)))))));

CREATE VIRTUAL TABLE code_chunks_fts USING fts5 (
    file, symbols, content, identifiers, name, context, signature,
    content = 'code_chunks_fts_source',
    content_rowid = 'chunk_rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- As in 0003: the delete side reads the view while the row still exists (BEFORE triggers), the
-- insert side once the row is written (AFTER triggers).
CREATE TRIGGER code_chunks_fts_insert AFTER INSERT ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (rowid, file, symbols, content, identifiers, name, context, signature)
    SELECT chunk_rowid, file, symbols, content, identifiers, name, context, signature
    FROM code_chunks_fts_source WHERE chunk_rowid = new.rowid;
END;
CREATE TRIGGER code_chunks_fts_delete BEFORE DELETE ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (code_chunks_fts, rowid, file, symbols, content, identifiers, name, context, signature)
    SELECT 'delete', chunk_rowid, file, symbols, content, identifiers, name, context, signature
    FROM code_chunks_fts_source WHERE chunk_rowid = old.rowid;
END;
CREATE TRIGGER code_chunks_fts_update_old BEFORE UPDATE OF file, symbols, content, context, signature ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (code_chunks_fts, rowid, file, symbols, content, identifiers, name, context, signature)
    SELECT 'delete', chunk_rowid, file, symbols, content, identifiers, name, context, signature
    FROM code_chunks_fts_source WHERE chunk_rowid = old.rowid;
END;
CREATE TRIGGER code_chunks_fts_update_new AFTER UPDATE OF file, symbols, content, context, signature ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (rowid, file, symbols, content, identifiers, name, context, signature)
    SELECT chunk_rowid, file, symbols, content, identifiers, name, context, signature
    FROM code_chunks_fts_source WHERE chunk_rowid = new.rowid;
END;

INSERT INTO code_chunks_fts (code_chunks_fts) VALUES ('rebuild');
