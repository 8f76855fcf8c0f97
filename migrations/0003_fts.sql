-- Full-text search (nexus-fts): one FTS5 index per searchable kind of row.
--
-- Every index is an *external-content* FTS5 table: it stores only the inverted index and reads
-- column text from its source (the base table, or for code chunks a view over it), so no text
-- is duplicated. Triggers keep each index in step with its table on INSERT, UPDATE of an
-- indexed column, and DELETE (including deletes cascaded from a project). The FTS rowid is the
-- source row's rowid; search joins back on it to return the TEXT id. See docs/fts.md.
--
-- Tokenizer, everywhere: Porter stemming over unicode61 (case folding, Unicode-aware word
-- boundaries) with diacritics removed (`remove_diacritics 2`), so `Résumé`, `resume` and
-- `resumes` are one term. `_`, `.`, `/`, `-` and `:` separate tokens, so snake_case names,
-- paths and qualified names split into words.

-- Episodes: content and summary.
CREATE VIRTUAL TABLE episodes_fts USING fts5 (
    content, summary,
    content = 'episodes',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER episodes_fts_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_fts (rowid, content, summary) VALUES (new.rowid, new.content, new.summary);
END;
CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, content, summary)
    VALUES ('delete', old.rowid, old.content, old.summary);
END;
CREATE TRIGGER episodes_fts_update AFTER UPDATE OF content, summary ON episodes BEGIN
    INSERT INTO episodes_fts (episodes_fts, rowid, content, summary)
    VALUES ('delete', old.rowid, old.content, old.summary);
    INSERT INTO episodes_fts (rowid, content, summary) VALUES (new.rowid, new.content, new.summary);
END;

-- Requirements: description and user stories (a JSON array of strings; brackets, quotes and
-- commas are separators to the tokenizer).
CREATE VIRTUAL TABLE requirements_fts USING fts5 (
    description, user_stories,
    content = 'requirements',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER requirements_fts_insert AFTER INSERT ON requirements BEGIN
    INSERT INTO requirements_fts (rowid, description, user_stories)
    VALUES (new.rowid, new.description, new.user_stories);
END;
CREATE TRIGGER requirements_fts_delete AFTER DELETE ON requirements BEGIN
    INSERT INTO requirements_fts (requirements_fts, rowid, description, user_stories)
    VALUES ('delete', old.rowid, old.description, old.user_stories);
END;
CREATE TRIGGER requirements_fts_update AFTER UPDATE OF description, user_stories ON requirements BEGIN
    INSERT INTO requirements_fts (requirements_fts, rowid, description, user_stories)
    VALUES ('delete', old.rowid, old.description, old.user_stories);
    INSERT INTO requirements_fts (rowid, description, user_stories)
    VALUES (new.rowid, new.description, new.user_stories);
END;

-- Tasks: name and description.
CREATE VIRTUAL TABLE tasks_fts USING fts5 (
    name, description,
    content = 'tasks',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, name, description)
    VALUES ('delete', old.rowid, old.name, old.description);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF name, description ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, name, description)
    VALUES ('delete', old.rowid, old.name, old.description);
    INSERT INTO tasks_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;

-- Code chunks: file path, symbols, content, and `identifiers`, the same text with camelCase
-- words split, so `search builder` finds `HybridSearchBuilder` and `parse query` finds
-- `parseQuery`. The split is done in SQL, so any writer (nexus, sqlx-cli, the sqlite3 shell)
-- keeps the index right: a marker char(1), which the tokenizer treats as a separator, goes
-- before every uppercase ASCII letter that does not follow another uppercase letter
-- (`parseJSON` -> `parse|JSON`, `HybridSearchBuilder` -> `|Hybrid|Search|Builder`, while
-- `MAX_SIZE` and `HTTPServer` stay whole). nexus-fts applies the same rule to query words.
--
-- The view is the index's content table: FTS5 reads `identifiers` from it (for `rebuild` and
-- `integrity-check`) exactly as the triggers computed it, from the one expression below.
CREATE VIEW code_chunks_fts_source (chunk_rowid, file, symbols, content, identifiers) AS
SELECT rowid, file, symbols, content,
       -- 52 steps over the text: steps 0-25 put the marker before each letter A..Z
       -- (char(65) = 'A'), steps 26-51 remove it again after each letter A..Z.
       (WITH RECURSIVE split (step, text) AS (
            SELECT 0, file || char(10) || coalesce(symbols, '') || char(10) || content
            UNION ALL
            SELECT step + 1,
                   CASE WHEN step < 26 THEN replace(text, char(65 + step), char(1) || char(65 + step))
                        ELSE replace(text, char(39 + step) || char(1), char(39 + step)) END
            FROM split WHERE step < 52)
        SELECT text FROM split WHERE step = 52)
FROM code_chunks;

CREATE VIRTUAL TABLE code_chunks_fts USING fts5 (
    file, symbols, content, identifiers,
    content = 'code_chunks_fts_source',
    content_rowid = 'chunk_rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- The old values must be removed with exactly the text that was indexed, so the delete side
-- reads the view while the row still exists (BEFORE triggers); the insert side reads it once
-- the row is written (AFTER triggers).
CREATE TRIGGER code_chunks_fts_insert AFTER INSERT ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (rowid, file, symbols, content, identifiers)
    SELECT chunk_rowid, file, symbols, content, identifiers
    FROM code_chunks_fts_source WHERE chunk_rowid = new.rowid;
END;
CREATE TRIGGER code_chunks_fts_delete BEFORE DELETE ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (code_chunks_fts, rowid, file, symbols, content, identifiers)
    SELECT 'delete', chunk_rowid, file, symbols, content, identifiers
    FROM code_chunks_fts_source WHERE chunk_rowid = old.rowid;
END;
CREATE TRIGGER code_chunks_fts_update_old BEFORE UPDATE OF file, symbols, content ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (code_chunks_fts, rowid, file, symbols, content, identifiers)
    SELECT 'delete', chunk_rowid, file, symbols, content, identifiers
    FROM code_chunks_fts_source WHERE chunk_rowid = old.rowid;
END;
CREATE TRIGGER code_chunks_fts_update_new AFTER UPDATE OF file, symbols, content ON code_chunks BEGIN
    INSERT INTO code_chunks_fts (rowid, file, symbols, content, identifiers)
    SELECT chunk_rowid, file, symbols, content, identifiers
    FROM code_chunks_fts_source WHERE chunk_rowid = new.rowid;
END;
