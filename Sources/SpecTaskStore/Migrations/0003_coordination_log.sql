-- Messages between the threads of a spec task (handoff, blocking, notification, request, response, broadcast),
-- in the order the worker applied them. Written in the same transaction as the Zed event that carried them.
CREATE TABLE coordination_log (
    id text PRIMARY KEY,
    spec_task_id text NOT NULL REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position bigserial NOT NULL,
    from_work_session_id text NOT NULL,
    -- NULL: to every work session of the task.
    to_work_session_id text,
    kind text NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX coordination_log_by_task ON coordination_log (spec_task_id, position);
