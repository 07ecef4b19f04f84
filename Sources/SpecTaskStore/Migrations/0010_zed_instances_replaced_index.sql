-- Finding the instance a new one replaced (to inherit its zed.events partition) looks up a spec task's replaced
-- rows. Migration 0009 turned the unique index on spec_task_id into a partial one (replaced_at IS NULL), which that
-- lookup can not use: it read the whole table once per new instance, and throughput fell with the number of spec
-- tasks (scripts/bench-growth: about 2,000 commands/s at a few spec tasks, 523/s at 65,000). Replaced rows are few,
-- so this index is small.
CREATE INDEX zed_instances_replaced ON zed_instances (spec_task_id, replaced_at DESC) WHERE replaced_at IS NOT NULL;
