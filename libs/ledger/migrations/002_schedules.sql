-- Time: cron-recurring tasks and tasks scheduled for a moment.

-- `scheduled`: the task waits for its next fire time (cron) or its start time (schedule_at).
ALTER TABLE tasks DROP CONSTRAINT tasks_state_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check CHECK (state IN
  ('waiting', 'scheduled', 'ready', 'placed', 'running', 'success', 'failed', 'blocked', 'cancelled'));

-- The next fire time the cron service acts on; null for a task that does not recur and has no start time left.
ALTER TABLE tasks ADD COLUMN next_run_at timestamptz;
-- When the task last succeeded since it was submitted. A dependency is satisfied by a success, and a cron task
-- moves on to `scheduled` right after one, so its state alone no longer tells.
ALTER TABLE tasks ADD COLUMN succeeded_at timestamptz;
UPDATE tasks SET succeeded_at = updated_at WHERE state = 'success';

-- The cron service's queue, soonest first.
CREATE INDEX tasks_due ON tasks (next_run_at) WHERE next_run_at IS NOT NULL;

-- One row per fire time the cron service acted on. The primary key is what makes a fire time fire once, whatever
-- the number of cron replicas and however often one restarts.
CREATE TABLE fires (
  task         text        NOT NULL REFERENCES tasks (name) ON DELETE CASCADE,
  fire_time    timestamptz NOT NULL,
  -- fired: a run started; skipped_busy: a run was still going (concurrency forbid);
  -- skipped_deadline: found more than starting_deadline late (the cron service was down).
  outcome      text        NOT NULL CHECK (outcome IN ('fired', 'skipped_busy', 'skipped_deadline')),
  -- Set when earlier fire times were missed: the first of them. They are covered by this one row, never run.
  missed_from  timestamptz,
  -- With concurrency allow, a fire time that came during a run starts this separate task.
  child        text,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task, fire_time)
);
