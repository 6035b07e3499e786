import { TaskState, type TaskEvent, type TaskSpec } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { parseStoredSpec } from '../rows.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { sqlState } from './states-sql.js';

/** A task whose `next_run_at` has come. */
export interface DueTask {
  name: string;
  state: TaskState;
  version: number;
  next_run_at: Date;
  spec: TaskSpec;
  attempt: number;
  host: string | null;
}

export type FireOutcome = 'fired' | 'skipped_busy' | 'skipped_deadline';

/** What the cron service decided for one due task; applied only if the task is still as it was read. */
export interface Fire {
  name: string;
  /** The task as read: the compare-and-set is on (version, next_run_at). */
  version: number;
  from: TaskState;
  due: Date;
  fire_time: Date;
  outcome: FireOutcome;
  missed_from: Date | null;
  next_run_at: Date | null;
  /** The task's current (or last) run, for the logs. */
  attempt: number;
  host: string | null;
  /** concurrency allow during a run: this fire time runs as a separate task. */
  child: { name: string; spec: TaskSpec } | null;
}

/** Due tasks, soonest first: the cron service's queue. */
export async function readDueTasks(ledger: Ledger, now: Date, limit: number): Promise<DueTask[]> {
  const rows = await ledger.query<Omit<DueTask, 'version' | 'spec'> & { version: string; spec: unknown }>(
    `SELECT name, state, version, next_run_at, spec, attempt, host FROM tasks
      WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT $2`,
    [now, limit],
  );
  return rows.map(({ spec, ...r }) => {
    const due = { ...r, version: Number(r.version) };
    try {
      return { ...due, spec: parseStoredSpec(spec) };
    } catch (err) {
      // Thrown when the spec is read, so the cron service's plan sets this one task apart (parks it, with the
      // RowError's column in its reason) and the others fire.
      return Object.defineProperty(due, 'spec', { enumerable: true, get: (): never => { throw err; } }) as DueTask;
    }
  });
}

/**
 * Applies fire decisions in one statement. Each one is a compare-and-set on (version, next_run_at), and its
 * record in `fires` is keyed by (task, fire_time): of two cron replicas that read the same due task, one moves it
 * and the other changes nothing, so each fire time fires once. A fire moves the task to ready (waiting while a
 * dependency has not succeeded) with its failures reset; a skip only moves `next_run_at` on.
 */
export async function applyFires(ledger: Ledger, fires: readonly Fire[]): Promise<{ events: TaskEvent[]; applied: Fire[] }> {
  if (fires.length === 0) return { events: [], applied: [] };
  const rows = await ledger.query<EventRow & { from_state: TaskState | null; kind: 'task' | 'child' }>(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[],
                            $7::timestamptz[], $8::timestamptz[], $9::text[], $10::jsonb[])
         AS v(name, version, from_state, due, fire_time, outcome, missed_from, next_run_at, child, child_spec)
     ), moved AS (
       UPDATE tasks t SET
         state = CASE WHEN v.outcome = 'fired' AND v.child IS NULL
                      THEN CASE WHEN EXISTS (SELECT 1 FROM task_dependencies d WHERE d.task = t.name AND NOT d.satisfied)
                                THEN ${sqlState(TaskState.waiting)} ELSE ${sqlState(TaskState.ready)} END ELSE t.state END,
         ready_at = CASE WHEN v.outcome = 'fired' AND v.child IS NULL THEN now() ELSE t.ready_at END,
         failures = CASE WHEN v.outcome = 'fired' AND v.child IS NULL THEN 0 ELSE t.failures END,
         reason = CASE WHEN v.outcome = 'fired' AND v.child IS NULL THEN NULL ELSE t.reason END,
         next_run_at = v.next_run_at,
         version = t.version + CASE WHEN v.outcome = 'fired' AND v.child IS NULL THEN 1 ELSE 0 END,
         updated_at = CASE WHEN v.outcome = 'fired' AND v.child IS NULL THEN now() ELSE t.updated_at END
         FROM v
        WHERE t.name = v.name AND t.version = v.version AND t.next_run_at = v.due
       RETURNING ${EVENT_COLUMNS}, v.from_state, v.outcome, v.child, v.child_spec, v.fire_time, v.missed_from,
                 t.template AS parent_template, t.template_version AS parent_template_version
     ), recorded AS (
       INSERT INTO fires (task, fire_time, outcome, missed_from, child)
       SELECT name, fire_time, outcome, missed_from, child FROM moved
       ON CONFLICT DO NOTHING
     ), children AS (
       -- A child's spec is its parent's, so it was merged with the parent's template.
       INSERT INTO tasks AS t (name, spec, state, ready_at, submit_seq, template, template_version)
       SELECT child, child_spec, ${sqlState(TaskState.ready)}, now(), 0, parent_template, parent_template_version FROM moved WHERE child IS NOT NULL
       ON CONFLICT (name) DO NOTHING
       RETURNING ${EVENT_COLUMNS}
     ), child_secrets AS (
       -- A child runs with its parent's secrets (its spec is the parent's, names and "(secret)" included).
       INSERT INTO task_secrets (task, env)
       SELECT c.name, s.env FROM children c JOIN moved m ON m.child = c.name JOIN task_secrets s ON s.task = m.name
       ON CONFLICT (task) DO NOTHING
     )
     SELECT m.name, m.state, m.attempt, m.failures, m.version, m.host, m.reason, m.updated_at,
            m.from_state::text AS from_state, 'task' AS kind
       FROM moved m
     UNION ALL
     SELECT t.name, t.state, t.attempt, t.failures, t.version, t.host, t.reason, t.updated_at, NULL, 'child' FROM children t`,
    [
      fires.map((f) => f.name), fires.map((f) => f.version), fires.map((f) => f.from), fires.map((f) => f.due),
      fires.map((f) => f.fire_time), fires.map((f) => f.outcome), fires.map((f) => f.missed_from),
      fires.map((f) => f.next_run_at), fires.map((f) => f.child?.name ?? null),
      fires.map((f) => (f.child ? JSON.stringify(f.child.spec) : null)),
    ],
  );
  const moved = new Set(rows.filter((r) => r.kind === 'task').map((r) => r.name));
  const applied = fires.filter((f) => moved.has(f.name));
  const events = rows
    .filter((r) => r.kind === 'child' || r.state !== r.from_state)
    .map((r) => toEvent(r, r.kind === 'child' ? null : r.from_state));
  return { events, applied };
}

/** The fire times a task's cron acted on, newest first, for `tasks.get`. */
export async function readFires(ledger: Ledger, name: string, limit = 20): Promise<{
  fire_time: Date; outcome: FireOutcome; missed_from: Date | null; child: string | null; recorded_at: Date;
}[]> {
  return ledger.query(
    `SELECT fire_time, outcome, missed_from, child, recorded_at FROM fires WHERE task = $1 ORDER BY fire_time DESC LIMIT $2`,
    [name, limit],
  );
}

/**
 * Parks due tasks whose schedule cannot be read: no next fire time, and the reason on the task (`tasks.get` shows
 * it). A compare-and-set on the version read; the task stays `scheduled`, so a cancel ends it.
 */
export async function parkUnreadable(ledger: Ledger, tasks: readonly { name: string; version: number; reason: string }[]): Promise<TaskEvent[]> {
  if (tasks.length === 0) return [];
  const rows = await ledger.query<EventRow>(
    `UPDATE tasks t SET next_run_at = NULL, reason = v.reason, version = t.version + 1, updated_at = now()
       FROM unnest($1::text[], $2::bigint[], $3::text[]) AS v(name, version, reason)
      WHERE t.name = v.name AND t.version = v.version AND t.next_run_at IS NOT NULL
     RETURNING ${EVENT_COLUMNS}`,
    [tasks.map((t) => t.name), tasks.map((t) => t.version), tasks.map((t) => t.reason)],
  );
  return rows.map((r) => toEvent(r, r.state));
}
