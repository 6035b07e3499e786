-- Ready tasks are placed in the order they were submitted, not the order they became ready: a dependent released
-- late, a retry or a cron fire is old work and goes before what was submitted after it (a chain no longer waits
-- behind every task submitted after it at each of its steps).
DROP INDEX IF EXISTS tasks_ready;
CREATE INDEX tasks_ready ON tasks (submit_seq, name) WHERE state = 'ready';
