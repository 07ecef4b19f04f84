-- The outbox is split into shards by spec task, so every worker can relay at the same time: a relay takes a
-- shard's lock (a transaction-level advisory lock) for as long as it publishes that shard's rows, so the
-- messages of one task still leave in the order they were written, and different shards leave in parallel.
ALTER TABLE outbox ADD COLUMN shard integer NOT NULL DEFAULT 0;
CREATE INDEX outbox_shard_id ON outbox (shard, id);

-- Outbox messages the broker refused for good (too large, illegal topic, not authorised): set aside with the
-- reason instead of being retried forever in front of every other message.
CREATE TABLE dead_letters (
    id bigint PRIMARY KEY,
    topic text NOT NULL,
    message_key text,
    payload bytea NOT NULL,
    error_code text NOT NULL,
    reason text NOT NULL,
    written_at timestamptz NOT NULL,
    dead_at timestamptz NOT NULL DEFAULT now()
);
