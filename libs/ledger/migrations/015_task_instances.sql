-- The EC2 instances launched for one task each (services/autoscaler/src/per-task, a task spec's `instance`). A row is
-- written before RunInstances is called (the compare-and-set: one open row per task, so a redelivered decision or a
-- second replica launches nothing more), and its id is the launch's ClientToken, so a launch redone after a crash
-- gets the same instance back from EC2. The row is ended (ended_at) once its instance is terminated, or was lost.

CREATE TABLE task_instances (
  id            bigserial   PRIMARY KEY,
  task          text        NOT NULL,
  -- The task's attempt when the instance was asked for (a retry runs on the same instance while it lives).
  attempt       integer     NOT NULL,
  -- The host id its agent announces (HOST_ID in the user data).
  host          text        GENERATED ALWAYS AS ('task-instance-' || id::text) STORED,
  instance_type text        NOT NULL,
  spot          boolean     NOT NULL,
  -- Null until RunInstances answered.
  instance_id   text,
  -- launching (not answered yet), then EC2's own: pending, running, shutting-down, terminated, stopping, stopped.
  state         text        NOT NULL DEFAULT 'launching',
  address       text,
  private_address text,
  dns_name      text,
  -- The AWS code of the last failed call for it (InsufficientInstanceCapacity, …), cleared by the next success.
  error_code    text,
  reason        text,
  asked_at      timestamptz NOT NULL,
  launched_at   timestamptz,
  ended_at      timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX task_instances_open ON task_instances (task) WHERE ended_at IS NULL;
CREATE INDEX task_instances_task ON task_instances (task, id DESC);
