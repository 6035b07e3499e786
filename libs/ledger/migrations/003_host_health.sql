-- Host health: hosts that go down and come back, runs lost with them, and events that must reach the stream.

-- The agent's incarnation: a new value means the agent restarted, and runs it did not take back are lost.
ALTER TABLE hosts ADD COLUMN boot text;
-- When the host went down (its tasks were requeued then); it is removed HOST_REMOVE_AFTER later.
ALTER TABLE hosts ADD COLUMN down_since timestamptz;

-- The newest version of the task whose event is known to be on the stream. A service that committed a change
-- and died before publishing leaves version > published_version; host-health publishes the current state then.
ALTER TABLE tasks ADD COLUMN published_version bigint NOT NULL DEFAULT 0;
UPDATE tasks SET published_version = version;
CREATE INDEX tasks_unpublished ON tasks (updated_at) WHERE published_version < version;
