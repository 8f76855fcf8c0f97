-- The number of the last write of recall's access statistics (nexus-store, `access`; docs/schema.md).
-- Each write of the in-memory access counts increments it in its own transaction, so a reader
-- that reads it together with episode rows knows which of those writes the rows include: every
-- write numbered up to it. A recall whose search overlapped a write uses that to count each
-- access exactly once without waiting for the write to end. Numbers grow in commit order, across
-- restarts and across processes (SQLite has one writer at a time).

CREATE TABLE access_writes (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO access_writes (id, n) VALUES (1, 0);
