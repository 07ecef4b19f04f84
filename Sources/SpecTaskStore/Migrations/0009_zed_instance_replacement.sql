-- Zed instances that never answer, and the instances that replace them.
--
-- created_at: when the instance was created (also in its doc). A pending instance whose runner has not reported it
-- ready within SPECTASK_INSTANCE_READY_TIMEOUT of it fails; rows written before have none and never time out.
--
-- replaced_at: when a new instance of the same spec task replaced this one (a retry after the instance failed). The
-- replaced row stays, so its id is never given to another instance (its runner's token would open that one); only
-- the row without it is the spec task's instance. At most one such row per spec task, checked at commit like the
-- foreign keys, so one statement may mark the old row and insert the new one in either order.
ALTER TABLE zed_instances ADD COLUMN created_at timestamptz, ADD COLUMN replaced_at timestamptz;
ALTER TABLE zed_instances DROP CONSTRAINT zed_instances_spec_task_id_key;
ALTER TABLE zed_instances ADD CONSTRAINT zed_instances_one_per_spec_task
    EXCLUDE USING btree (spec_task_id WITH =) WHERE (replaced_at IS NULL) DEFERRABLE INITIALLY DEFERRED;
-- The sweepers look for pending instances created before the ready timeout.
CREATE INDEX zed_instances_pending ON zed_instances (created_at) WHERE status = 'pending' AND replaced_at IS NULL;
