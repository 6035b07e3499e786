-- A run that failed and will be retried waits out a backoff before its next attempt (the spec's retry_delay,
-- doubled per failure, capped at retry_max_delay): the task is ready, but not placed before retry_at. The ready
-- index keeps its order; tasks still in their backoff are filtered out of it, a few rows at most among the ready.
ALTER TABLE tasks ADD COLUMN retry_at timestamptz;
