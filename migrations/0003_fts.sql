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
-- Four layers of 13 replace() calls: SQLite before 3.46 has a fixed parser stack that one
-- 52-deep expression would overflow. The layers flatten into one expression per row.
SELECT chunk_rowid, file, symbols, content,
       -- Step 2, N..Z: drop the marker again where it follows an uppercase letter.
       replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t,
           'N' || char(1), 'N'), 'O' || char(1), 'O'), 'P' || char(1), 'P'), 'Q' || char(1), 'Q'), 'R' || char(1), 'R'),
           'S' || char(1), 'S'), 'T' || char(1), 'T'), 'U' || char(1), 'U'), 'V' || char(1), 'V'), 'W' || char(1), 'W'),
           'X' || char(1), 'X'), 'Y' || char(1), 'Y'), 'Z' || char(1), 'Z') AS identifiers
FROM (SELECT chunk_rowid, file, symbols, content,
             -- Step 2, A..M.
             replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t,
                 'A' || char(1), 'A'), 'B' || char(1), 'B'), 'C' || char(1), 'C'), 'D' || char(1), 'D'), 'E' || char(1), 'E'),
                 'F' || char(1), 'F'), 'G' || char(1), 'G'), 'H' || char(1), 'H'), 'I' || char(1), 'I'), 'J' || char(1), 'J'),
                 'K' || char(1), 'K'), 'L' || char(1), 'L'), 'M' || char(1), 'M') AS t
      FROM (SELECT chunk_rowid, file, symbols, content,
                   -- Step 1, N..Z: a marker before every uppercase letter.
                   replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t,
                       'N', char(1) || 'N'), 'O', char(1) || 'O'), 'P', char(1) || 'P'), 'Q', char(1) || 'Q'), 'R', char(1) || 'R'),
                       'S', char(1) || 'S'), 'T', char(1) || 'T'), 'U', char(1) || 'U'), 'V', char(1) || 'V'), 'W', char(1) || 'W'),
                       'X', char(1) || 'X'), 'Y', char(1) || 'Y'), 'Z', char(1) || 'Z') AS t
            FROM (SELECT chunk_rowid, file, symbols, content,
                         -- Step 1, A..M.
                         replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t,
                             'A', char(1) || 'A'), 'B', char(1) || 'B'), 'C', char(1) || 'C'), 'D', char(1) || 'D'), 'E', char(1) || 'E'),
                             'F', char(1) || 'F'), 'G', char(1) || 'G'), 'H', char(1) || 'H'), 'I', char(1) || 'I'), 'J', char(1) || 'J'),
                             'K', char(1) || 'K'), 'L', char(1) || 'L'), 'M', char(1) || 'M') AS t
                  FROM (SELECT rowid AS chunk_rowid, file, symbols, content,
                               file || char(10) || coalesce(symbols, '') || char(10) || content AS t
                        FROM code_chunks))));

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
