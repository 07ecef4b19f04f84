-- The Kafka headers of each outbox message (the CloudEvents Kafka binding's content-type and ce_ routing headers),
-- derived when the row is written, so the relay need not parse the payload to publish them. A JSON array of
-- [key, value] pairs, in order. NULL on rows written without them (before this migration, or moved back from
-- dead_letters): the relay derives those from the payload.
ALTER TABLE outbox ADD COLUMN headers jsonb;
