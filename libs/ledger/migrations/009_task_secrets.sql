-- Secret env values (a spec's `secret_env`) are kept apart from the spec. `tasks.spec` holds each secret's name with
-- "(secret)" for its value, so nothing that reads the spec (tasks.get, tasks.list, the HTTP API, a hand query of
-- tasks) sees a value; only the placer reads this table, when it builds the dispatch to the host that runs the task.
-- One row per task, written in the transaction that writes the task: the values as a JSON object, or, with
-- SECRETS_KEY, sealed into one JSON string (libs/ledger/src/secrets.ts).
CREATE TABLE task_secrets (
  task  text  PRIMARY KEY REFERENCES tasks (name) ON DELETE CASCADE,
  -- {"NAME": "value", ...} (the names are those of tasks.spec->'secret_env'), or "aes-256-gcm:…" sealing it.
  env   jsonb NOT NULL
);

-- A secret is kept as long as the task may run again, and no longer: it goes when the task is finished for good.
-- Cancelled and blocked are that for every task; success and failed for a task without cron (a cron task goes on
-- from them at its next fire time). A finished task submitted again brings its secrets again. One place for the rule,
-- whichever service finishes the task (monitor, host health, intake's cancel, the resolver, the placer's unreadable
-- spec). The WHEN is evaluated in the statement, so a task without secrets, or a change to a state that is not
-- final, costs no function call.
CREATE FUNCTION tangerine_forget_secrets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM task_secrets WHERE task = NEW.name;
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_forget_secrets AFTER UPDATE OF state ON tasks
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
    AND (NEW.state IN ('blocked', 'cancelled') OR (NEW.state IN ('success', 'failed') AND NEW.spec->>'cron' IS NULL))
    AND NEW.spec->'secret_env' IS DISTINCT FROM '{}'::jsonb)
  EXECUTE FUNCTION tangerine_forget_secrets();

-- Specs written before secret_env existed get the field, empty, so every stored spec is a TaskSpec of this version.
UPDATE tasks SET spec = spec || '{"secret_env": {}}'::jsonb WHERE NOT spec ? 'secret_env';
