-- Files uploaded with a task (`spec.files`, libs/contracts files.ts) live in the JetStream object store, named by
-- their sha256. host-health's retention asks, for a page of stored objects, which ones a kept task still names:
-- one containment lookup per digest, `spec->'files' @> '[{"sha256": "…"}]'`, which this index answers. Partial: only
-- the specs that have files are in it, so the tasks without any (nearly all) cost it nothing on insert.
CREATE INDEX tasks_files ON tasks USING gin ((spec -> 'files') jsonb_path_ops) WHERE spec ? 'files';
