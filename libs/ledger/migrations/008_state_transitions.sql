-- The ledger refuses a change of a task's state that the state machine does not allow (TRANSITIONS in
-- libs/contracts/src/states.ts; test/src/integration/transitions.test.ts holds this list equal to it, pair by pair).
-- A statement that tries one fails whole, with the task and both states named: a bug shows at once, not as a task
-- stuck in a state nothing moves it from.
--
-- Cheap by construction: the test is an immutable SQL function that PostgreSQL inlines into the trigger's WHEN, so an
-- allowed change (every one the services make) costs a CASE on two strings and no function call; the PL/pgSQL
-- function runs only to raise. Measured on the 2-core development machine (PostgreSQL 15, shared and loaded), an
-- UPDATE of the state of 20,000 rows, six runs each, alternating: median 640 ms without the trigger, 597 ms with it,
-- and 565 ms with a trigger whose WHEN is always false: the difference is below the machine's noise.
CREATE FUNCTION tangerine_transition_allowed(from_state text, to_state text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE from_state
    WHEN 'waiting'   THEN to_state IN ('ready', 'blocked', 'cancelled')
    WHEN 'scheduled' THEN to_state IN ('ready', 'waiting', 'blocked', 'cancelled')
    WHEN 'ready'     THEN to_state IN ('placed', 'cancelled')
    WHEN 'placed'    THEN to_state IN ('running', 'success', 'ready', 'failed', 'scheduled', 'cancelled')
    WHEN 'running'   THEN to_state IN ('success', 'ready', 'failed', 'scheduled', 'cancelled')
    WHEN 'success'   THEN to_state IN ('waiting', 'scheduled', 'ready', 'blocked')
    WHEN 'failed'    THEN to_state IN ('waiting', 'scheduled', 'ready', 'blocked')
    WHEN 'blocked'   THEN to_state IN ('waiting', 'scheduled', 'ready', 'blocked')
    WHEN 'cancelled' THEN to_state IN ('waiting', 'scheduled', 'ready', 'blocked')
    ELSE false
  END
$$;

CREATE FUNCTION tangerine_refuse_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'task %: the state cannot change from % to %', OLD.name, OLD.state, NEW.state
    USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_transition',
          HINT = 'TRANSITIONS in libs/contracts/src/states.ts lists the changes of state the ledger allows';
END
$$;

CREATE TRIGGER tasks_transition BEFORE UPDATE OF state ON tasks
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT tangerine_transition_allowed(OLD.state, NEW.state))
  EXECUTE FUNCTION tangerine_refuse_transition();
