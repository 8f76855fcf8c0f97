-- Full-text index of transcript entries (same tokenizer as the other prose indexes, see
-- 0003_fts.sql): an external-content FTS5 table over `transcript_entries.content`, kept in
-- step by triggers; the FTS rowid is the entry's integer id.
CREATE VIRTUAL TABLE transcript_entries_fts USING fts5 (
    content,
    content = 'transcript_entries',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER transcript_entries_fts_insert AFTER INSERT ON transcript_entries BEGIN
    INSERT INTO transcript_entries_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER transcript_entries_fts_delete AFTER DELETE ON transcript_entries BEGIN
    INSERT INTO transcript_entries_fts (transcript_entries_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER transcript_entries_fts_update AFTER UPDATE OF content ON transcript_entries BEGIN
    INSERT INTO transcript_entries_fts (transcript_entries_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO transcript_entries_fts (rowid, content) VALUES (new.id, new.content);
END;
