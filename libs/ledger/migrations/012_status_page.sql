-- The status page's reads (services/api GET /v1/overview and /v1/tasks/<name>/graph).
--
-- Runs that ended in the last hour, per minute: without this index each overview read was one pass over `runs`, all
-- history included. Partial: a run still going has no finished_at and costs the index nothing until it ends.
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
-- The dependents of a task whatever their state: task_dependencies_dependents holds only the unsatisfied edges (the
-- resolver's), and a workflow's graph walks the satisfied ones too.
CREATE INDEX task_dependencies_dependency ON task_dependencies (dependency);
