-- The zed.events partition the instance's events were last applied from: a worker's heartbeat sweeper only
-- times out instances on partitions it owns and has read to the end, so a heartbeat waiting in Kafka (during a
-- rebalance, or while the database was away) is never mistaken for silence, and systems sharing a database
-- with other topic prefixes never touch each other's instances.
ALTER TABLE zed_instances ADD COLUMN events_topic text, ADD COLUMN events_partition integer;
