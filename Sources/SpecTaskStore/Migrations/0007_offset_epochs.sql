-- How many times a position was reset (`spectask offsets reset`, after its topic was re-created).
--
-- The worker derives output event ids from where their input was read (topic, partition, offset). After a reset the
-- offsets start again at 0, so the ids would repeat ids published before it, and consumers that deduplicate by id
-- would drop the new events. Ids of inputs read after a reset carry this epoch (`…@<epoch>`), so they never repeat.
ALTER TABLE consumer_offsets ADD COLUMN epoch integer NOT NULL DEFAULT 0 CHECK (epoch >= 0);
