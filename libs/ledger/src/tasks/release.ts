import { BLOCKABLE_STATES, TaskState, UNSUCCESSFUL_STATES, type TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, succeeded, toEvent, type EventRow } from './event-row.js';
import { sqlState, sqlStates } from './states-sql.js';

/**
 * SQL: the CTEs `flipped` and `released` that release the dependents of the tasks named in the relation
 * `successes` (a column `name`). Their edges flip to satisfied; a waiting dependent none of whose edges is still
 * unsatisfied becomes ready. O(edges flipped); a dependent's row changes only when it is released, so a fan-in of
 * 10,000 is released in one step, by the statement that flips its last edge. An edge flips once, so a success
 * handled again changes nothing. (Two statements flipping the last two edges of one task at the same moment each
 * see the other's edge unsatisfied: the sweep releases such a task.)
 */
export function releaseCtes(successes: string): string {
  return `flipped AS (
       UPDATE task_dependencies d SET satisfied = true
         FROM ${successes} s WHERE d.dependency = s.name AND NOT d.satisfied
       RETURNING d.task, d.dependency
     ), released AS (
       UPDATE tasks t SET state = ${sqlState(TaskState.ready)}, ready_at = now(), version = t.version + 1, updated_at = now()
         FROM (SELECT DISTINCT task FROM flipped) c
        WHERE t.name = c.task AND t.state = ${sqlState(TaskState.waiting)}
          -- The statement's snapshot still shows the edges it flipped as unsatisfied: those do not count.
          AND NOT EXISTS (
            SELECT 1 FROM task_dependencies d
             WHERE d.task = t.name AND NOT d.satisfied
               AND NOT EXISTS (SELECT 1 FROM flipped f WHERE f.task = d.task AND f.dependency = d.dependency))
       RETURNING ${EVENT_COLUMNS}
     )`;
}

/**
 * Releases the dependents of tasks that succeeded (names of others are ignored). The monitor releases in the
 * statement that records a success (recordExits); this is for the sweep.
 */
export async function releaseDependents(ledger: Ledger, names: readonly string[]): Promise<TaskEvent[]> {
  if (names.length === 0) return [];
  const rows = await ledger.query<EventRow>(
    `WITH successes AS (SELECT dep.name FROM tasks dep WHERE dep.name = ANY($1::text[]) AND ${succeeded('dep')}),
     ${releaseCtes('successes')}
     SELECT * FROM released`,
    [names],
  );
  return rows.map((r) => toEvent(r, 'waiting'));
}

/** Some tasks ended without success: their waiting or scheduled dependents become blocked, naming the dependency. */
export async function blockDependents(ledger: Ledger, ended: readonly string[]): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow & { from_state: TaskState }>(
    `WITH old AS (
       SELECT DISTINCT ON (t.name) t.name, t.state, d.dependency, dep.state AS dep_state
         FROM tasks t JOIN task_dependencies d ON d.task = t.name JOIN tasks dep ON dep.name = d.dependency
        WHERE d.dependency = ANY($1::text[]) AND NOT d.satisfied
          AND t.state IN ${sqlStates(BLOCKABLE_STATES)} AND dep.state IN ${sqlStates(UNSUCCESSFUL_STATES)}
        ORDER BY t.name, d.dependency
     )
     UPDATE tasks t SET state = ${sqlState(TaskState.blocked)}, reason = 'dependency ' || old.dependency || ' is ' || old.dep_state,
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
  const released = await ledger.query<EventRow>(
    `UPDATE tasks t SET state = ${sqlState(TaskState.ready)}, ready_at = now(), version = t.version + 1, updated_at = now()
      WHERE t.state = ${sqlState(TaskState.waiting)}
        AND NOT EXISTS (SELECT 1 FROM task_dependencies d WHERE d.task = t.name AND NOT d.satisfied)
     RETURNING ${EVENT_COLUMNS}`,
    [],
  );
  const ended = await ledger.query<{ dependency: string; released: boolean }>(
    `SELECT DISTINCT d.dependency, ${succeeded('dep')} AS released
       FROM tasks t JOIN task_dependencies d ON d.task = t.name AND NOT d.satisfied
       JOIN tasks dep ON dep.name = d.dependency
      WHERE t.state IN ${sqlStates(BLOCKABLE_STATES)} AND (${succeeded('dep')} OR dep.state IN ${sqlStates(UNSUCCESSFUL_STATES)})
      LIMIT 10000`,
    [],
  );
  const succeededDeps = ended.filter((r) => r.released).map((r) => r.dependency);
  const failed = ended.filter((r) => !r.released).map((r) => r.dependency);
  return [
    ...released.map((r) => toEvent(r, 'waiting')),
    ...(succeededDeps.length > 0 ? await releaseDependents(ledger, succeededDeps) : []),
    ...(failed.length > 0 ? await blockDependents(ledger, failed) : []),
  ];
}
