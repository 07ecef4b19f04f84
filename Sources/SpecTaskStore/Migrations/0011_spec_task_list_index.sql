-- The dashboard's board pages through spec tasks newest first (GET /api/v1/spec-tasks: keyset on created_at, id).
-- Without this index every page sorts the whole table: 14 ms at about 25,000 tasks, and growing with it.
CREATE INDEX spec_tasks_created ON spec_tasks (created_at DESC, id DESC);
