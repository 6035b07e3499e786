import { ON_HOST_STATES, RowError, type TaskEvent, type TaskSpec, TaskState, isRowError, placementConstraints } from '@tangerine/contracts';
import type { SecretsKey } from '@tangerine/runtime';
import type { Ledger } from '../db.js';
import { openSecrets } from '../secrets.js';
import { parseStoredSpec } from '../rows.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { sqlState, sqlStates } from './states-sql.js';

export interface RunOnHost {
  name: string;
  host: string;
  attempt: number;
  cpu: number | null;
  memory: number | null;
}

/** Every task that holds a slot (placed or running), with its host and reservations. */
export async function readRunsOnHosts(ledger: Ledger): Promise<RunOnHost[]> {
  return ledger.query<RunOnHost>(
    `SELECT name, host, attempt, (spec->>'cpu')::real AS cpu, (spec->>'memory')::int AS memory
       FROM tasks WHERE state IN ${sqlStates(ON_HOST_STATES)} AND host IS NOT NULL`,
    [],
  );
}

export interface ReadyTask {
  name: string;
  attempt: number;
  executor: string;
  constraints: Record<string, string>;
  cpu: number | null;
  memory: number | null;
}

/**
 * The ready tasks submitted earliest whose retry backoff (if any) is over, with only what placement needs. Submission order, not the moment a task became
 * ready: a dependent released late, a retry or a cron fire is older work than what was submitted after it (by
 * readiness, a chain's every step queued behind all the tasks submitted after the chain).
 */
export async function readReadyTasks(ledger: Ledger, limit: number): Promise<ReadyTask[]> {
  const rows = await ledger.query<ReadyTask & { own: boolean }>(
    `SELECT name, attempt, spec->>'executor' AS executor, spec->'constraints' AS constraints,
            (spec->>'cpu')::real AS cpu, (spec->>'memory')::int AS memory, spec ? 'instance' AS own
       FROM tasks WHERE state = ${sqlState(TaskState.ready)} AND (retry_at IS NULL OR retry_at <= now()) ORDER BY submit_seq, name LIMIT $1`,
    [limit],
  );
  // A task with its own instance is placed there only (task=<name>, see contracts' task-instance.ts).
  for (const r of rows) if (r.own) r.constraints = placementConstraints(r.name, r.constraints, true) as Record<string, string>;
  return rows;
}

/**
 * A placed task and its stored spec, parsed, with its secret values in `secret_env`: what its dispatch carries, and
 * nothing else may. A spec that does not parse (a hand edit, a bug), or whose secrets are not all in task_secrets,
 * comes as `spec: null` with its RowError, so one bad row does not hold back the dispatches of the others.
 */
export type Placed = { event: TaskEvent; spec: TaskSpec; error?: undefined } | { event: TaskEvent; spec: null; error: RowError };

/**
 * Puts ready tasks on hosts, one statement for the batch: a compare-and-set on (state ready, attempt), so a task
 * two placers both chose goes to one host only, and on the host's state in the ledger, not the placer's view of it:
 * a host must be `up`. The host rows are locked FOR KEY SHARE for the statement, and `hosts.drain` (FOR UPDATE) waits
 * for it, or it for the drain, which it then sees: once a drain has answered, nothing more is placed there.
 * Heartbeats (a non-key update) do not conflict with that lock. Starts the run record of the new attempt.
 */
export async function placeTasks(
  ledger: Ledger, assignments: readonly { name: string; attempt: number; host: string }[], options: SecretsOptions = {},
): Promise<Placed[]> {
  if (assignments.length === 0) return [];
  const rows = await ledger.query<EventRow & { spec: unknown; secrets: unknown }>(
    `WITH open AS (
       SELECT id FROM hosts WHERE id = ANY($3::text[]) AND state = 'up' FOR KEY SHARE
     ), placed AS (
       UPDATE tasks t SET state = ${sqlState(TaskState.placed)}, host = v.host, attempt = t.attempt + 1, reason = NULL, retry_at = NULL,
              version = t.version + 1, updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::text[]) AS v(name, attempt, host) JOIN open ON open.id = v.host
        WHERE t.name = v.name AND t.state = ${sqlState(TaskState.ready)} AND t.attempt = v.attempt
       RETURNING ${EVENT_COLUMNS}, t.spec
     ), runs AS (
       INSERT INTO runs (task, attempt, host) SELECT name, attempt, host FROM placed
     )
     SELECT p.*, s.env AS secrets FROM placed p LEFT JOIN task_secrets s ON s.task = p.name`,
    [assignments.map((a) => a.name), assignments.map((a) => a.attempt), assignments.map((a) => a.host)],
  );
  return rows.map((r) => withSpec(toEvent(r, 'ready'), r.spec, r.secrets, options.secretsKey ?? null));
}

/** The event of the placement, which the dead placer may not have published either, and the spec to send again. */
export type StalePlacement = Placed;

/**
 * Tasks placed more than `seconds` ago whose run has not started: a placer that died between its commit and its
 * dispatch leaves these behind, and the next one sends them again (the agent and the dispatch's dedupe id make a
 * second copy harmless).
 */
export async function readStalePlacements(ledger: Ledger, seconds: number, options: SecretsOptions = {}): Promise<StalePlacement[]> {
  const rows = await ledger.query<EventRow & { spec: unknown; secrets: unknown }>(
    `SELECT ${EVENT_COLUMNS}, t.spec, s.env AS secrets
       FROM tasks t JOIN runs r ON r.task = t.name AND r.attempt = t.attempt LEFT JOIN task_secrets s ON s.task = t.name
      WHERE t.state = ${sqlState(TaskState.placed)} AND t.updated_at < now() - make_interval(secs => $1) AND r.started_at IS NULL
      ORDER BY t.updated_at LIMIT 1000`,
    [seconds],
  );
  return rows.map((r) => withSpec(toEvent(r, 'ready'), r.spec, r.secrets, options.secretsKey ?? null));
}

function withSpec(event: TaskEvent, spec: unknown, secrets: unknown, key: SecretsKey | null): Placed {
  try {
    return { event, spec: withSecrets(parseStoredSpec(spec), secrets, key) };
  } catch (err) {
    if (isRowError(err)) return { event, spec: null, error: err };
    throw err;
  }
}

/** The key that opens the secret env values sealed in the ledger (SECRETS_KEY); none: they are plain JSON. */
export interface SecretsOptions {
  secretsKey?: SecretsKey | null;
}

/**
 * The stored spec with the values of its secrets (`task_secrets.env`, null when the task has no row there). Every
 * name the spec lists must have its value: a run without one would start with the variable missing, or set to
 * "(secret)", and fail in a way its owner cannot tell from a bug of theirs.
 */
export function withSecrets(spec: TaskSpec, secrets: unknown, key: SecretsKey | null): TaskSpec {
  const names = Object.keys(spec.secret_env);
  if (names.length === 0) return spec;
  const values = openSecrets(secrets, key) ?? {};
  const missing = names.find((k) => typeof values[k] !== 'string');
  if (missing !== undefined) {
    throw new RowError(`task_secrets.env: has no value for the secret ${missing} that the spec names (read back from the ledger)`, { field: 'task_secrets.env' });
  }
  return { ...spec, secret_env: Object.fromEntries(names.map((k) => [k, values[k] as string])) };
}

/**
 * Ends placed runs whose stored spec does not parse (a bug, or a row written by hand): the task is `failed` with the
 * reason, and its run is closed with it, so the slot comes free and the dependents are blocked rather than the task
 * waiting in `placed` forever. Compare-and-set on the attempt and `placed`: a second placer's try changes nothing.
 */
export async function failUnreadable(ledger: Ledger, tasks: readonly { name: string; attempt: number; reason: string }[]): Promise<TaskEvent[]> {
  if (tasks.length === 0) return [];
  const rows = await ledger.query<EventRow>(
    `WITH failed AS (
       UPDATE tasks t SET state = ${sqlState(TaskState.failed)}, reason = v.reason, version = t.version + 1, updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::text[]) AS v(name, attempt, reason)
        WHERE t.name = v.name AND t.attempt = v.attempt AND t.state = ${sqlState(TaskState.placed)}
       RETURNING ${EVENT_COLUMNS}
     ), runs AS (
       UPDATE runs r SET reason = f.reason, finished_at = now() FROM failed f WHERE r.task = f.name AND r.attempt = f.attempt
     )
     SELECT * FROM failed`,
    [tasks.map((t) => t.name), tasks.map((t) => t.attempt), tasks.map((t) => t.reason)],
  );
  return rows.map((r) => toEvent(r, 'placed'));
}
