-- The generation of the vectors (nexus-vector, docs/vector.md, "Resident partitions"): one
-- counter for every collection, moved by every write that changes a vector — nexus-vector's
-- upserts, deletes and collection removals, and the trigger below for vectors deleted with
-- their source rows. A process that keeps a partition's vectors in memory tags the copy with
-- the generation it was read at, and uses it only while the file still has that generation.

CREATE TABLE vector_generation (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO vector_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER vector_keys_generation_ad AFTER DELETE ON vector_keys BEGIN
    UPDATE vector_generation SET generation = generation + 1 WHERE id = 1;
END;
