import type { TaskEvent, TaskState } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, succeeded, toEvent, type EventRow } from './event-row.js';

/**
 * Some tasks succeeded: flip their dependents' edges to satisfied and count them down; a dependent whose count
 * reaches zero becomes ready (a `scheduled` one only counts down: it waits for its time). O(edges), one statement
 * for the whole batch: a fan-in of 10,000 releases its task in one step. An edge flips once, so a redelivered
 * success changes nothing.
 */
export async function releaseDependents(ledger: Ledger, names: readonly string[]): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow & { became_ready: boolean }>(
    `WITH flipped AS (
       UPDATE task_dependencies d SET satisfied = true
         FROM tasks dep
        WHERE d.dependency = ANY($1::text[]) AND NOT d.satisfied
          AND dep.name = d.dependency AND ${succeeded('dep')}
       RETURNING d.task
     ), counts AS (
       SELECT task, count(*)::int AS n FROM flipped GROUP BY task
     )
     UPDATE tasks t SET
       pending_dependencies = greatest(t.pending_dependencies - c.n, 0),
       state = CASE WHEN t.state = 'waiting' AND t.pending_dependencies - c.n <= 0 THEN 'ready' ELSE t.state END,
       ready_at = CASE WHEN t.state = 'waiting' AND t.pending_dependencies - c.n <= 0 THEN now() ELSE t.ready_at END,
       version = t.version + 1, updated_at = now()
       FROM counts c
      WHERE t.name = c.task
     RETURNING ${EVENT_COLUMNS}, (t.state = 'ready' AND t.ready_at = now()) AS became_ready`,
    [names],
  );
  // now() is this transaction's start: only a dependent this statement released has ready_at equal to it.
  return rows.filter((r) => r.became_ready).map((r) => toEvent(r, 'waiting'));
}

/** Some tasks ended without success: their waiting or scheduled dependents become blocked, naming the dependency. */
export async function blockDependents(ledger: Ledger, ended: readonly string[]): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow & { from_state: TaskState }>(
    `WITH old AS (
       SELECT DISTINCT ON (t.name) t.name, t.state, d.dependency, dep.state AS dep_state
         FROM tasks t JOIN task_dependencies d ON d.task = t.name JOIN tasks dep ON dep.name = d.dependency
        WHERE d.dependency = ANY($1::text[]) AND NOT d.satisfied
          AND t.state IN ('waiting', 'scheduled') AND dep.state IN ('failed', 'blocked', 'cancelled')
        ORDER BY t.name, d.dependency
     )
     UPDATE tasks t SET state = 'blocked', reason = 'dependency ' || old.dependency || ' is ' || old.dep_state,
            next_run_at = NULL, version = t.version + 1, updated_at = now()
       -- Re-checked on the row's latest version: a task that moved meanwhile is left alone.
       FROM old WHERE t.name = old.name AND t.state = old.state
     RETURNING ${EVENT_COLUMNS}, old.state AS from_state`,
    [ended],
  );
  return rows.map((r) => toEvent(r, r.from_state));
}

/**
 * The safety net behind the events: dependencies that succeeded or ended while no event reached the resolver
 * (a crash between commit and publish, a task submitted at the very moment its dependency finished).
 */
export async function sweepWaiting(ledger: Ledger): Promise<TaskEvent[]> {
  const ended = await ledger.query<{ dependency: string; released: boolean }>(
    `SELECT DISTINCT d.dependency, ${succeeded('dep')} AS released
       FROM tasks t JOIN task_dependencies d ON d.task = t.name AND NOT d.satisfied
       JOIN tasks dep ON dep.name = d.dependency
      WHERE t.state IN ('waiting', 'scheduled') AND (${succeeded('dep')} OR dep.state IN ('failed', 'blocked', 'cancelled'))
      LIMIT 10000`,
    [],
  );
  const released = ended.filter((r) => r.released).map((r) => r.dependency);
  const failed = ended.filter((r) => !r.released).map((r) => r.dependency);
  return [
    ...(released.length > 0 ? await releaseDependents(ledger, released) : []),
    ...(failed.length > 0 ? await blockDependents(ledger, failed) : []),
  ];
}
