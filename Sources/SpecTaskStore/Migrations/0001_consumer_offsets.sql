-- Kafka consumer positions stored next to the effects they stand for.
--
-- A worker writes the next offset of every partition it processed in the same transaction as the effects
-- of those messages. After a rebalance or a crash, the new owner resumes from here, not from Kafka's
-- committed offsets, so a message is applied once even when Kafka delivers it again.
-- `owner_generation` fences zombies: a worker that lost the partition cannot write with an older generation.
CREATE TABLE consumer_offsets (
    consumer_group text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    owner_generation bigint NOT NULL DEFAULT 0,
    owner_id text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
