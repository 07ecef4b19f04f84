-- The state of spec tasks, the inbox of applied messages and the outbox of messages to publish.
--
-- Each entity table has the columns the worker locks, joins and queries on (ids, foreign keys, status,
-- ordering) and a `doc` column holding the whole entity as JSON, so adding a field to an entity needs no
-- migration. Foreign keys are deferred to commit: one transaction writes a task and all its children.

CREATE TABLE spec_tasks (
    id text PRIMARY KEY,
    status text NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    -- The sequence number the next spectask.status event of this task gets (gap-free per task).
    next_sequence bigint NOT NULL DEFAULT 1 CHECK (next_sequence >= 1),
    doc jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX spec_tasks_active ON spec_tasks (status) WHERE NOT archived;

CREATE TABLE implementation_tasks (
    spec_task_id text NOT NULL REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    task_index integer NOT NULL CHECK (task_index > 0),
    status text NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (spec_task_id, task_index)
);

CREATE TABLE zed_instances (
    id text PRIMARY KEY,
    -- One instance per spec task.
    spec_task_id text NOT NULL UNIQUE REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status text NOT NULL,
    last_heartbeat_at timestamptz,
    doc jsonb NOT NULL
);
-- The heartbeat sweeper looks for live instances that went quiet.
CREATE INDEX zed_instances_heartbeat ON zed_instances (last_heartbeat_at) WHERE status IN ('ready', 'disconnected');

CREATE TABLE work_sessions (
    id text PRIMARY KEY,
    spec_task_id text NOT NULL REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    -- Creation order within the spec task.
    position integer NOT NULL,
    status text NOT NULL,
    implementation_task_index integer,
    parent_work_session_id text REFERENCES work_sessions (id) DEFERRABLE INITIALLY DEFERRED,
    doc jsonb NOT NULL,
    UNIQUE (spec_task_id, position),
    FOREIGN KEY (spec_task_id, implementation_task_index)
        REFERENCES implementation_tasks (spec_task_id, task_index) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX work_sessions_parent ON work_sessions (parent_work_session_id) WHERE parent_work_session_id IS NOT NULL;

CREATE TABLE zed_threads (
    id text PRIMARY KEY,
    -- Exactly one thread per work session.
    work_session_id text NOT NULL UNIQUE REFERENCES work_sessions (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    spec_task_id text NOT NULL REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status text NOT NULL,
    -- Latest progress (0-100) the thread reported.
    progress integer CHECK (progress BETWEEN 0 AND 100),
    doc jsonb NOT NULL
);
CREATE INDEX zed_threads_spec_task ON zed_threads (spec_task_id);

CREATE TABLE shared_context (
    spec_task_id text NOT NULL REFERENCES spec_tasks (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    key text NOT NULL,
    value text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (spec_task_id, key)
);

-- Ids (CloudEvent ids) of every input message applied or rejected: a message sent twice is applied once.
CREATE TABLE inbox (
    message_id text PRIMARY KEY,
    topic text NOT NULL,
    partition integer NOT NULL,
    kafka_offset bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- Messages written in the same transaction as the effects they announce; the relay publishes them in id
-- order and deletes them once the broker acknowledged them.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    message_key text,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
