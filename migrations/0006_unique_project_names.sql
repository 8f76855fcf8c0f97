-- Project names are unique, so creating a project by name is atomic: two `nexus index` runs on
-- a new directory at once used to create two projects with the same name (issue 19).
-- Databases made before this rule may hold duplicates: every duplicate but the oldest
-- (by created_at, then id) is renamed to "<name> (<id>)" so none is lost, then the index is built.
UPDATE projects
SET name = name || ' (' || id || ')'
WHERE id IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY name ORDER BY created_at, id) AS seq FROM projects
    )
    WHERE seq > 1
);

CREATE UNIQUE INDEX projects_name_unique ON projects (name);
