-- Retention: every worker prunes rows past their retention from inbox, coordination_log and dead_letters, in
-- bounded chunks, one worker per table at a time (see RetentionStore). Each table needs a time to age its rows by,
-- and an index on it, so a pass finds the old rows without reading the whole table.
--
-- coordination_log had none: an entry now records when it was written. Entries written before this migration get
-- the time of the migration, so they are kept for a whole retention period from now on.
ALTER TABLE coordination_log ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX coordination_log_created_at ON coordination_log (created_at);
CREATE INDEX inbox_processed_at ON inbox (processed_at);
CREATE INDEX dead_letters_dead_at ON dead_letters (dead_at);
