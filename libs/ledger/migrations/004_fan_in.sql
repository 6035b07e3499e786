-- A dependent is ready when none of its edges is unsatisfied: its row changes once, when it is released, however
-- many parents it has (a count kept on the row changed with every batch of successes).
ALTER TABLE tasks DROP COLUMN pending_dependencies;
-- The release check looks for one edge still unsatisfied among a dependent's edges.
CREATE INDEX task_dependencies_unsatisfied ON task_dependencies (task) WHERE NOT satisfied;
