-- The task ledger: one row per task name, the runs of each task, the edges between tasks, and the hosts.

CREATE TABLE tasks (
  name                  text        PRIMARY KEY,
  -- The normalized task spec (libs/contracts TaskSpec).
  spec                  jsonb       NOT NULL,
  state                 text        NOT NULL CHECK (state IN
                          ('waiting', 'ready', 'placed', 'running', 'success', 'failed', 'blocked', 'cancelled')),
  -- Why the task is in its state, for people: the exit code and rule, the dependency that blocked it.
  reason                text,
  failures              integer     NOT NULL DEFAULT 0,
  -- Runs started so far, across submissions; runs(task, attempt) holds each one.
  attempt               integer     NOT NULL DEFAULT 0,
  -- The host of the current run (placed, running) or of the last one.
  host                  text,
  -- Dependencies that have not succeeded yet; the task is ready when this reaches 0.
  pending_dependencies  integer     NOT NULL DEFAULT 0,
  -- Grows by one on every change; with the name it identifies an event.
  version               bigint      NOT NULL DEFAULT 1,
  -- Stream sequence of the submission that set this spec: a redelivered submission is recognized by it.
  submit_seq            bigint      NOT NULL DEFAULT 0,
  ready_at              timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The placer's queue, oldest first.
CREATE INDEX tasks_ready ON tasks (ready_at, name) WHERE state = 'ready';
-- Slots in use per host.
CREATE INDEX tasks_on_host ON tasks (host) WHERE state IN ('placed', 'running');
-- tasks.list by state, and the resolver's sweep of waiting tasks.
CREATE INDEX tasks_state ON tasks (state, name);

CREATE TABLE task_dependencies (
  task        text    NOT NULL REFERENCES tasks (name) ON DELETE CASCADE,
  -- By name: it may name a task that is not submitted yet.
  dependency  text    NOT NULL,
  -- Set once, when the dependency succeeds: decrementing the count only when this flips keeps release idempotent.
  satisfied   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (task, dependency)
);
-- Release and blocking look up the dependents of a task that just ended: O(edges).
CREATE INDEX task_dependencies_dependents ON task_dependencies (dependency) WHERE NOT satisfied;

CREATE TABLE runs (
  task         text        NOT NULL REFERENCES tasks (name) ON DELETE CASCADE,
  attempt      integer     NOT NULL,
  host         text        NOT NULL,
  -- Container id, or pid:<n> for the process executor.
  run_id       text,
  exit_code    integer,
  reason       text,
  -- The last 64 KiB of stdout and stderr.
  output       text        NOT NULL DEFAULT '',
  placed_at    timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (task, attempt)
);

CREATE TABLE hosts (
  id          text        PRIMARY KEY,
  labels      jsonb       NOT NULL DEFAULT '{}',
  slots       integer     NOT NULL,
  executors   text[]      NOT NULL DEFAULT '{}',
  cpu         real        NOT NULL DEFAULT 0,
  memory      integer     NOT NULL DEFAULT 0,
  state       text        NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'draining', 'down')),
  first_seen  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now()
);
